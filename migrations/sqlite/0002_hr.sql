-- The HR domain: departments, employees, and the link from an account to its employee record.
-- Same conventions as 0001: integer ids and flags; start dates are ISO 'YYYY-MM-DD' text, which
-- both engines compare and sort as dates and sqlx Any decodes as plain strings.

CREATE TABLE departments (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name     TEXT    NOT NULL,
    name_key TEXT    NOT NULL UNIQUE        -- lowercased name: search, sorting, no near-duplicates
);

CREATE TABLE employees (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL,         -- lowercased name, sorted bytewise on both engines
    search_key    TEXT    NOT NULL,         -- lowercased "name<US>title", matched by the directory search
    email         TEXT    NOT NULL UNIQUE,  -- work e-mail, normalized like account e-mails
    title         TEXT    NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments (id),
    manager_id    INTEGER REFERENCES employees (id) ON DELETE SET NULL,
    location      TEXT    NOT NULL,
    start_date    TEXT    NOT NULL
                  CHECK (start_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    status        TEXT    NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'on_leave', 'terminated')),
    CHECK (manager_id IS NULL OR manager_id <> id)
);
-- Directory: sorted by name (optionally within a department), by start date; profile: reports.
CREATE INDEX employees_by_name ON employees (name_key, id);
CREATE INDEX employees_by_department ON employees (department_id, name_key, id);
CREATE INDEX employees_by_start ON employees (start_date, id);
CREATE INDEX employees_by_manager ON employees (manager_id);
-- Dashboard: anniversaries are found by month and day.
CREATE INDEX employees_by_anniversary ON employees (substr(start_date, 6, 5));

-- At most one account per employee record; accounts without one keep NULL.
ALTER TABLE users ADD COLUMN employee_id INTEGER REFERENCES employees (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX users_by_employee ON users (employee_id);
