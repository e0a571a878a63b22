//! Accounts: the `User` type and the queries that load and change it.

pub mod email;
pub mod password;

use serde::Serialize;
use sqlx::FromRow;

use crate::db::Db;

pub use email::{normalize_email, parse_email, InvalidEmail};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Employee,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Employee => "employee",
        }
    }

    /// Parses the stored or posted form; anything else is `None`.
    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "employee" => Some(Role::Employee),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Employee => "Employee",
        }
    }
}

/// An account. `Debug` never prints the password hash.
#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    password_hash: String,
    role: String,
    disabled: i64,
    created_at: i64,
    password_changed_at: i64,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            email: row.email,
            name: row.name,
            password_hash: row.password_hash,
            // The CHECK constraint allows only the two roles; anything else gets least privilege.
            role: Role::parse(&row.role).unwrap_or(Role::Employee),
            disabled: row.disabled != 0,
            created_at: row.created_at,
            password_changed_at: row.password_changed_at,
        }
    }
}

/// Everything needed to create an account; the e-mail must already be normalized.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with that e-mail address already exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Checks a display name: 1..=100 characters after trimming, no control characters.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Please enter a name.");
    }
    if name.chars().count() > 100 {
        return Err("The name must be at most 100 characters long.");
    }
    if name.chars().any(char::is_control) {
        return Err("The name contains characters that are not allowed.");
    }
    Ok(name.to_string())
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

impl User {
    pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>, sqlx::Error> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, name, password_hash, role, disabled, created_at, password_changed_at \
             FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(User::from))
    }

    pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, name, password_hash, role, disabled, created_at, password_changed_at \
             FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(User::from))
    }

    pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&db.pool)
            .await
    }

    pub async fn create(db: &Db, new: &NewUser<'_>, now: i64) -> Result<User, CreateUserError> {
        let mut conn = db.pool.acquire().await?;
        Self::create_in(&mut conn, new, now).await
    }

    /// As [`Self::create`], inside the caller's transaction.
    pub async fn create_in(
        conn: &mut sqlx::AnyConnection,
        new: &NewUser<'_>,
        now: i64,
    ) -> Result<User, CreateUserError> {
        let row: UserRow = sqlx::query_as(
            "INSERT INTO users (email, name, password_hash, role, disabled, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $5) \
             RETURNING id, email, name, password_hash, role, disabled, created_at, password_changed_at",
        )
        .bind(new.email)
        .bind(new.name)
        .bind(new.password_hash)
        .bind(new.role.as_str())
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                CreateUserError::EmailTaken
            } else {
                CreateUserError::Database(e)
            }
        })?;
        Ok(row.into())
    }

    /// Creates the first account, an admin — only while the table is empty, checked in the same
    /// statement so two racing set-up forms cannot both succeed.
    pub async fn create_first_admin(
        db: &Db,
        new: &NewUser<'_>,
        now: i64,
    ) -> Result<Option<User>, sqlx::Error> {
        let row: Option<UserRow> = sqlx::query_as(
            "INSERT INTO users (email, name, password_hash, role, disabled, created_at, password_changed_at) \
             SELECT $1, $2, $3, 'admin', 0, $4, $4 WHERE NOT EXISTS (SELECT 1 FROM users) \
             RETURNING id, email, name, password_hash, role, disabled, created_at, password_changed_at",
        )
        .bind(new.email)
        .bind(new.name)
        .bind(new.password_hash)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(User::from))
    }

    /// One page of accounts ordered by name, optionally filtered by a name/e-mail substring.
    pub async fn list(
        db: &Db,
        search: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), sqlx::Error> {
        let pattern = like_pattern(search);
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, email, name, password_hash, role, disabled, created_at, password_changed_at \
             FROM users WHERE email LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\' \
             ORDER BY name, id LIMIT $2 OFFSET $3",
        )
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE email LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\'",
        )
        .bind(&pattern)
        .fetch_one(&db.pool)
        .await?;
        Ok((rows.into_iter().map(User::from).collect(), total))
    }

    /// Every account, for the CLI.
    pub async fn all(db: &Db) -> Result<Vec<User>, sqlx::Error> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, email, name, password_hash, role, disabled, created_at, password_changed_at \
             FROM users ORDER BY id",
        )
        .fetch_all(&db.pool)
        .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Stores a new password hash, inside the caller's transaction (so the sessions can be
    /// revoked and rotated atomically with it).
    pub async fn set_password_hash_in(
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Replaces a hash only if it is still the one that was verified (an upgrade after login must
    /// never overwrite a password changed meanwhile).
    pub async fn upgrade_password_hash(
        db: &Db,
        user_id: i64,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, sqlx::Error> {
        let result =
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(new_hash)
                .bind(user_id)
                .bind(old_hash)
                .execute(&db.pool)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Disables or enables an account, refusing to disable the last enabled admin.
    /// Runs inside the caller's transaction so the sessions can be revoked atomically with it.
    pub async fn set_disabled(
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        disabled: bool,
    ) -> Result<AccountChange, sqlx::Error> {
        lock_admin_set(conn).await?;
        let result = sqlx::query(
            "UPDATE users SET disabled = $1 WHERE id = $2 AND ($1 = 0 OR role <> 'admin' OR              (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> $2) > 0)",
        )
        .bind(i64::from(disabled))
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        classify_change(conn, user_id, result.rows_affected()).await
    }

    /// Changes an account's role, refusing to demote the last enabled admin.
    pub async fn set_role(
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        role: Role,
    ) -> Result<AccountChange, sqlx::Error> {
        lock_admin_set(conn).await?;
        let result = sqlx::query(
            "UPDATE users SET role = $1 WHERE id = $2 AND role <> $1 AND ($1 = 'admin' OR disabled = 1 OR              (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> $2) > 0)",
        )
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() == 0 {
            let current: Option<String> =
                sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            return Ok(match current {
                None => AccountChange::NoSuchUser,
                Some(current) if current == role.as_str() => AccountChange::Unchanged,
                Some(_) => AccountChange::WouldLeaveNoAdmin,
            });
        }
        Ok(AccountChange::Changed)
    }

    /// Notes a successful sign-in (inside the session-creating transaction) and returns the one
    /// before it, if any, for the "previous sign-in" line on the dashboard.
    pub async fn record_sign_in_in(
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let previous: Option<Option<i64>> = sqlx::query_scalar(
            "UPDATE users SET previous_sign_in_at = last_sign_in_at, last_sign_in_at = $1 \
             WHERE id = $2 RETURNING previous_sign_in_at",
        )
        .bind(now)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(previous.flatten())
    }

    /// Number of admins who can sign in.
    pub async fn enabled_admin_count(db: &Db) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&db.pool)
            .await
    }
}

/// `%term%` for LIKE over stored (normalized) e-mails, wildcards in the term escaped.
pub fn like_pattern(term: &str) -> String {
    crate::db::like_contains(&normalize_email(term))
}

/// Outcome of a change that must keep at least one enabled admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Changed,
    Unchanged,
    NoSuchUser,
    WouldLeaveNoAdmin,
}

/// Takes the write locks on every enabled admin row before the "is another admin left?" check.
/// On SQLite the first write takes the database write lock; on PostgreSQL the row locks make a
/// concurrent demotion wait and then re-check, so two admins cannot demote each other at once.
async fn lock_admin_set(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = role WHERE role = 'admin' AND disabled = 0")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn classify_change(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    rows_affected: u64,
) -> Result<AccountChange, sqlx::Error> {
    if rows_affected > 0 {
        return Ok(AccountChange::Changed);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(if exists.is_none() {
        AccountChange::NoSuchUser
    } else {
        AccountChange::WouldLeaveNoAdmin
    })
}
