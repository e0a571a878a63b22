//! The one schema change sqlx cannot make on SQLite: widening `users.role`'s CHECK to the five
//! roles (migration 0014). SQLite changes a CHECK only by rebuilding the table, which must run
//! with foreign keys off — and sqlx runs SQLite migrations inside a transaction, where that
//! pragma does nothing. So it runs here, after the migrations, on a connection of its own,
//! following SQLite's documented procedure (new table, copy, drop, rename, check references).
//! It is idempotent: a table that already allows the new roles is left alone.

use sqlx::{Any, Executor, Pool};

/// The rebuild, in one transaction on a connection whose foreign keys are off.
const REBUILD: &str = "
BEGIN IMMEDIATE;
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
UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'users'), 0))
WHERE name = 'users_with_roles';
DROP TABLE users;
ALTER TABLE users_with_roles RENAME TO users;
CREATE UNIQUE INDEX users_by_employee ON users (employee_id);
COMMIT;
";

/// Widens the role CHECK when the users table still has the two-role one.
pub(super) async fn widen_role_check(pool: &Pool<Any>) -> Result<(), sqlx::Error> {
    let table: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
            .fetch_one(pool)
            .await?;
    if table.contains("'auditor'") {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    conn.execute("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = conn.execute(REBUILD).await;
    if rebuilt.is_err() {
        // Whatever failed, the transaction must not stay open on a pooled connection.
        let _ = conn.execute("ROLLBACK").await;
    }
    // Every reference still points at a row (the ids were copied as they were).
    let broken: i64 = match rebuilt {
        Ok(_) => sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_check")
            .fetch_one(&mut *conn)
            .await
            .unwrap_or(1),
        Err(_) => 0,
    };
    conn.execute("PRAGMA foreign_keys = ON").await?;
    rebuilt?;
    if broken > 0 {
        return Err(sqlx::Error::Protocol(
            "rebuilding users left references to no row".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::any::AnyPoolOptions;

    #[rocket::async_test]
    async fn widening_keeps_every_account_its_id_and_everything_that_points_at_it() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap();
        // The shape before migration 0014: two roles, and a session that cascades on delete.
        pool.execute(
            "CREATE TABLE employees (id INTEGER PRIMARY KEY);
             CREATE TABLE users (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE,
                 name TEXT NOT NULL, password_hash TEXT NOT NULL,
                 role TEXT NOT NULL CHECK (role IN ('admin', 'employee')),
                 disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
                 password_changed_at INTEGER NOT NULL,
                 employee_id INTEGER REFERENCES employees (id) ON DELETE SET NULL,
                 last_sign_in_at INTEGER, previous_sign_in_at INTEGER,
                 must_change_password INTEGER NOT NULL DEFAULT 0);
             CREATE UNIQUE INDEX users_by_employee ON users (employee_id);
             CREATE TABLE sessions (id INTEGER PRIMARY KEY,
                 user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE);
             INSERT INTO users (id, email, name, password_hash, role, created_at,
                                password_changed_at)
                 VALUES (7, 'ada@example.com', 'Ada', 'x', 'admin', 1, 1),
                        (9, 'gone@example.com', 'Gone', 'x', 'employee', 1, 1);
             DELETE FROM users WHERE id = 9;
             INSERT INTO sessions (id, user_id) VALUES (1, 7);",
        )
        .await
        .unwrap();
        assert!(pool
            .execute("INSERT INTO users (email, name, password_hash, role, created_at, password_changed_at) VALUES ('h@example.com', 'H', 'x', 'hr', 1, 1)")
            .await
            .is_err());

        widen_role_check(&pool).await.unwrap();
        widen_role_check(&pool).await.unwrap(); // a second start changes nothing

        let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = 7")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(sessions, 1, "no cascade reached the sessions");
        let new_id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, role, created_at, password_changed_at) \
             VALUES ('h@example.com', 'H', 'x', 'hr', 1, 1) RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            new_id, 10,
            "the id of a deleted account is not handed out again"
        );
        pool.execute("DELETE FROM users WHERE id = 7")
            .await
            .unwrap();
        let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(
            sessions, 0,
            "sessions still belong to the (new) users table"
        );
    }
}
