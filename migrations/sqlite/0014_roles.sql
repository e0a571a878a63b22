-- no-transaction
-- Roles an HR team really has: employee, hr, security, auditor, admin. SQLite cannot change a
-- CHECK constraint in place, so the users table is rebuilt the way SQLite documents (new table,
-- copy, drop, rename) with foreign keys off — otherwise dropping the old table would cascade to
-- every session, link and passkey. The check at the end proves no reference was broken.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_with_roles (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    email                TEXT    NOT NULL UNIQUE,
    name                 TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    role                 TEXT    NOT NULL
                         CHECK (role IN ('employee', 'hr', 'security', 'auditor', 'admin')),
    disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at           INTEGER NOT NULL,
    password_changed_at  INTEGER NOT NULL,
    employee_id          INTEGER REFERENCES employees (id) ON DELETE SET NULL,
    last_sign_in_at      INTEGER,
    previous_sign_in_at  INTEGER,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1))
);
INSERT INTO users_with_roles (id, email, name, password_hash, role, disabled, created_at,
                              password_changed_at, employee_id, last_sign_in_at,
                              previous_sign_in_at, must_change_password)
SELECT id, email, name, password_hash, role, disabled, created_at, password_changed_at,
       employee_id, last_sign_in_at, previous_sign_in_at, must_change_password
FROM users;
-- AUTOINCREMENT's promise survives the copy: no id of a past account is ever handed out again
-- (audit rows name accounts by id).
UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'users'), 0))
WHERE name = 'users_with_roles';
DROP TABLE users;
ALTER TABLE users_with_roles RENAME TO users;
CREATE UNIQUE INDEX users_by_employee ON users (employee_id);
COMMIT;
PRAGMA foreign_keys = ON;
