-- Roles an HR team really has: employee, hr, security, auditor, admin. SQLite cannot change a
-- CHECK constraint in place: the users table must be rebuilt with foreign keys off (otherwise
-- dropping the old table would cascade to every session, link and passkey), and sqlx runs
-- every SQLite migration inside a transaction, where `PRAGMA foreign_keys = OFF` does nothing.
-- So the rebuild is done in code, right after the migrations, on a connection of its own:
-- `db::roles::widen_role_check`. This file only records the step's place in the sequence.
SELECT 1;
