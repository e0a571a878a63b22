-- The record at the centre: a job history with effective dates, a managed list of locations and
-- a work phone.
--
-- Locations: the list the employee form offers (HR may add one from the form). Employees keep
-- the location's name (the directory, CSV and import read it as text); the list says which
-- names exist, and `name_key` refuses two that differ only in case.
CREATE TABLE locations (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name     TEXT    NOT NULL,
    name_key TEXT    NOT NULL UNIQUE
);
-- The free-text locations typed so far become the list: one per spelling that differs in more
-- than case (the first spelling by id wins; SQLite's lower() folds ASCII only, and the code
-- compares names with text::fold, which folds everything).
INSERT INTO locations (name, name_key)
SELECT (SELECT e2.location FROM employees e2
        WHERE lower(trim(e2.location)) = lower(trim(e.location)) ORDER BY e2.id LIMIT 1),
       lower(trim(e.location))
FROM employees e GROUP BY lower(trim(e.location));
-- Each record takes its place's listed spelling, so the list and the records agree.
UPDATE employees SET location = (SELECT l.name FROM locations l
                                 WHERE l.name_key = lower(trim(employees.location)));

-- job_history keeps one row per period of someone's job: the title, department, manager and
-- location that held from `effective_from` (ISO 'YYYY-MM-DD' text, like start_date) until the
-- next row's date. A change to any of the four adds a row, so the old values stay with their
-- dates instead of surviving only in the audit trail. The current values stay on `employees`
-- (every page reads them there); this table is what the profile's history reads.
CREATE TABLE job_history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    employee_id    INTEGER NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
    effective_from TEXT    NOT NULL
                   CHECK (effective_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    title          TEXT    NOT NULL,
    department_id  INTEGER NOT NULL REFERENCES departments (id),
    manager_id     INTEGER REFERENCES employees (id) ON DELETE SET NULL,
    location       TEXT    NOT NULL
);
-- The profile: one person's rows, newest first.
CREATE INDEX job_history_by_employee ON job_history (employee_id, effective_from, id);
-- Everyone's current job is their first period, from their start date.
INSERT INTO job_history (employee_id, effective_from, title, department_id, manager_id, location)
SELECT id, start_date, title, department_id, manager_id, location FROM employees ORDER BY id;

-- A work phone: work information like the title, visible to colleagues (the private `phone`
-- is the person's own number). Optional.
ALTER TABLE employees ADD COLUMN work_phone TEXT;
