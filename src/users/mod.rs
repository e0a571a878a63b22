//! Accounts: the `User` type and the queries that load and change it. Every query takes a
//! `&mut AnyConnection`, so one function serves a pooled connection and a transaction alike.

pub mod device;
pub mod devices;
pub mod email;
pub mod links;
pub mod lookalike;
pub mod order;
pub mod passkeys;
pub mod password;
pub mod review;
pub mod single_sign_on;
pub mod totp;
pub mod two_factor;

pub use order::{AccountColumn, AccountOrder};

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use crate::db::is_unique_violation;
pub use crate::ids::UserId;
use crate::text::like_pattern;

pub use email::{normalize_email, Email, InvalidEmail, MAX_EMAIL_LEN};

/// Longest display name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// What an account may do: one role each. Being someone's line manager is not a role — it comes
/// from the HR record (see `hr::employee::visibility`). What each role may open is decided in
/// one place, [`Role::may`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Employee,
    /// HR: edits people's records (private details included), imports staff lists.
    Hr,
    /// IT security: ends sessions, disables and unlocks accounts, resets second factors.
    Security,
    /// Reads the audit trail and the access review; changes nothing.
    Auditor,
    /// Everything, and the only role that creates accounts and changes roles.
    Admin,
}

/// What a role may do beyond what everyone signed in may (the directory, profiles' work details,
/// the org chart, their own dashboard and account pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Add and edit employees, their leaving dates and private details; import staff lists.
    EditPeople,
    /// See every person's private details (others see their own and their reports').
    SeePrivateDetails,
    /// End sessions, disable and enable accounts, unlock, send reset links, reset second
    /// factors, see undelivered mail.
    ManageAccess,
    /// Read the audit trail and the access review.
    ReadAudit,
    /// Create and invite accounts, change roles.
    ManageAccounts,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Employee,
        Role::Hr,
        Role::Security,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Hr => "hr",
            Role::Security => "security",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses the stored or posted form; anything else is `None`.
    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value)
    }

    /// A stored role; anything else is corruption, reported rather than guessed at.
    pub fn from_stored(value: &str) -> Result<Role, sqlx::Error> {
        Role::parse(value)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown stored role {value:?}").into()))
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Employee => "Employee",
            Role::Hr => "HR",
            Role::Security => "Security",
            Role::Auditor => "Auditor",
            Role::Admin => "Administrator",
        }
    }

    /// The one table of who may do what (docs/permissions.md is generated from it and checked
    /// against the mounted routes).
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Hr => matches!(permission, EditPeople | SeePrivateDetails),
            Role::Security => matches!(permission, ManageAccess | ReadAudit),
            Role::Auditor => matches!(permission, ReadAudit),
            Role::Employee => false,
        }
    }

    /// Whether the role opens any administration page at all (the menu shows only then).
    pub fn administers(self) -> bool {
        self != Role::Employee
    }
}

/// An account.
#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub password_hash: crate::secret::Secret<String>,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
    /// Set on a password an administrator chose: the person must pick their own next.
    pub must_change_password: bool,
}

/// The columns a [`User`] is loaded from, in every statement that loads one.
macro_rules! user_columns {
    () => {
        "id, email, name, password_hash, role, disabled, created_at, password_changed_at, \
         must_change_password"
    };
}

#[derive(FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    name: String,
    password_hash: String,
    role: String,
    disabled: i64,
    created_at: i64,
    password_changed_at: i64,
    must_change_password: i64,
}

impl TryFrom<UserRow> for User {
    type Error = sqlx::Error;

    fn try_from(row: UserRow) -> Result<Self, sqlx::Error> {
        Ok(User {
            id: row.id,
            email: Email::from_stored(row.email)?,
            name: row.name,
            password_hash: row.password_hash.into(),
            role: Role::from_stored(&row.role)?,
            disabled: row.disabled != 0,
            created_at: row.created_at,
            password_changed_at: row.password_changed_at,
            must_change_password: row.must_change_password != 0,
        })
    }
}

fn decode_all(rows: Vec<UserRow>) -> Result<Vec<User>, sqlx::Error> {
    rows.into_iter().map(User::try_from).collect()
}

/// The stored hash of an account that has no password yet (invited): no password matches it.
pub const NO_PASSWORD: &str = "";

/// Everything needed to create an account.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    /// [`NO_PASSWORD`] for an invitation.
    pub password_hash: crate::secret::Secret<&'a str>,
    /// The password was chosen by someone else: it must be changed at first sign-in.
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with that e-mail address already exists")]
    EmailTaken,
    /// Another account's address reads the same (see [`lookalike::skeleton`]).
    #[error("the address looks like the existing account {0}")]
    LooksLike(Email),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Checks a display name: 1..=100 characters after trimming, no control characters.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Please enter a name.");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("The name must be at most 100 characters long.");
    }
    if name.chars().any(char::is_control) || lookalike::has_invisible_in_name(name) {
        return Err("The name contains invisible or control characters, which are not allowed.");
    }
    Ok(name.to_string())
}

/// Outcome of a change that must keep at least one enabled admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Changed,
    Unchanged,
    NoSuchUser,
    WouldLeaveNoAdmin,
}

impl User {
    /// Whether the account has a password yet (an invited account has none until its link is used).
    pub fn has_password(&self) -> bool {
        self.password_hash.expose() != NO_PASSWORD
    }

    /// The account for an address already in stored form (typed input goes through
    /// [`normalize_email`] first; a malformed address simply finds nothing).
    pub async fn find_by_email(
        conn: &mut AnyConnection,
        email: &str,
    ) -> Result<Option<User>, sqlx::Error> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(User::try_from).transpose()
    }

    pub async fn find_by_id(
        conn: &mut AnyConnection,
        id: UserId,
    ) -> Result<Option<User>, sqlx::Error> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(User::try_from).transpose()
    }

    pub async fn count(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *conn)
            .await
    }

    /// Creates an account linked to `employee_id`, or else to the employee record with the same
    /// work e-mail when that record has no account yet (an account belongs to its person's
    /// record; service and admin accounts without one simply stay unlinked).
    pub async fn create(
        conn: &mut AnyConnection,
        new: &NewUser<'_>,
        employee_id: Option<crate::ids::EmployeeId>,
        now: i64,
    ) -> Result<User, CreateUserError> {
        // Every account creation queues behind a first-run set-up or demo fill in progress, so
        // "only while no account exists" holds for those on PostgreSQL too.
        crate::db::lock_for_transaction(conn, crate::db::WriteLock::FirstRun).await?;
        if let Some(existing) = Self::looking_like(conn, new.email).await? {
            return Err(CreateUserError::LooksLike(existing));
        }
        let row: UserRow = sqlx::query_as(concat!(
            "INSERT INTO users (email, name, password_hash, role, disabled, created_at, \
             password_changed_at, employee_id, must_change_password) \
             VALUES ($1, $2, $3, $4, 0, $5, $5, COALESCE($6, ( \
                 SELECT e.id FROM employees e WHERE e.email = $1 \
                   AND NOT EXISTS (SELECT 1 FROM users u WHERE u.employee_id = e.id))), $7) \
             RETURNING ",
            user_columns!()
        ))
        .bind(new.email.as_str())
        .bind(new.name)
        .bind(*new.password_hash.expose())
        .bind(new.role.as_str())
        .bind(now)
        .bind(employee_id)
        .bind(i64::from(new.must_change_password))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                CreateUserError::EmailTaken
            } else {
                CreateUserError::Database(e)
            }
        })?;
        Ok(User::try_from(row)?)
    }

    /// Another account or employee whose address reads like `email` without being it (a Cyrillic
    /// `а` for an `a`, `rn` for `m`, `ŏ` for `o`…). Every address is compared: accounts are created rarely, and an HR
    /// company's accounts fit in one scan.
    async fn looking_like(
        conn: &mut AnyConnection,
        email: &Email,
    ) -> Result<Option<Email>, sqlx::Error> {
        let wanted = lookalike::skeleton(email.as_str());
        // Accounts and employee records alike: an invitation or import may name either.
        let emails: Vec<String> =
            sqlx::query_scalar("SELECT email FROM users UNION SELECT email FROM employees")
                .fetch_all(&mut *conn)
                .await?;
        emails
            .into_iter()
            .find(|other| other != email.as_str() && lookalike::skeleton(other) == wanted)
            .map(Email::from_stored)
            .transpose()
    }

    /// Creates the first account, an admin — only while the table is empty, checked in the same
    /// statement, after the first-run lock, so two racing set-up forms cannot both succeed (on
    /// PostgreSQL the statement alone would not do: under READ COMMITTED both see no user).
    pub async fn create_first_admin(
        conn: &mut AnyConnection,
        new: &NewUser<'_>,
        now: i64,
    ) -> Result<Option<User>, sqlx::Error> {
        crate::db::lock_for_transaction(conn, crate::db::WriteLock::FirstRun).await?;
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "INSERT INTO users (email, name, password_hash, role, disabled, created_at, password_changed_at) \
             SELECT $1, $2, $3, 'admin', 0, $4, $4 WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING ",
            user_columns!()
        ))
        .bind(new.email.as_str())
        .bind(new.name)
        .bind(*new.password_hash.expose())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// One page of accounts in `order`, optionally filtered by a name/e-mail substring.
    pub async fn list(
        conn: &mut AnyConnection,
        search: &str,
        order: AccountOrder,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), sqlx::Error> {
        let pattern = like_pattern(search);
        let sql = format!(
            concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE email LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\' \
                 ORDER BY {} LIMIT $2 OFFSET $3"
            ),
            order.sql()
        );
        let rows: Vec<UserRow> = sqlx::query_as(&sql)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&mut *conn)
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE email LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\'",
        )
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await?;
        Ok((decode_all(rows)?, total))
    }

    /// Every account, for the CLI.
    pub async fn all(conn: &mut AnyConnection) -> Result<Vec<User>, sqlx::Error> {
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY id"
        ))
        .fetch_all(&mut *conn)
        .await?;
        decode_all(rows)
    }

    /// Stores a new password hash; `must_change` marks one chosen by an administrator. (What
    /// else dies with the old password is the use case's to say: `app::password::replace`.)
    pub async fn set_password_hash(
        conn: &mut AnyConnection,
        user_id: UserId,
        hash: &str,
        must_change: bool,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, \
             must_change_password = $3 WHERE id = $4",
        )
        .bind(hash)
        .bind(now)
        .bind(i64::from(must_change))
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Replaces a hash only if it is still the one that was verified (an upgrade after login must
    /// never overwrite a password changed meanwhile).
    pub async fn upgrade_password_hash(
        conn: &mut AnyConnection,
        user_id: UserId,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<bool, sqlx::Error> {
        let result =
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(new_hash)
                .bind(user_id)
                .bind(old_hash)
                .execute(&mut *conn)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Disables or enables an account, refusing to disable the last enabled admin. A no-op
    /// (enabling an enabled account) is `Unchanged`, so no event is written for it.
    pub async fn set_disabled(
        conn: &mut AnyConnection,
        user_id: UserId,
        disabled: bool,
    ) -> Result<AccountChange, sqlx::Error> {
        lock_admin_set(conn).await?;
        let result = sqlx::query(
            "UPDATE users SET disabled = $1 WHERE id = $2 AND disabled <> $1 AND ($1 = 0 OR role <> 'admin' OR \
             (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> $2) > 0)",
        )
        .bind(i64::from(disabled))
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        classify(conn, user_id, result.rows_affected(), |u| {
            u.disabled == disabled
        })
        .await
    }

    /// Disables an account whose person's access ended (their last day passed, or HR ended it):
    /// unlike [`Self::set_disabled`], even the last enabled administrator, because a leaver's
    /// access must end whatever else depends on it (the operator can make a new administrator at
    /// the command line). `false` when it was already disabled, e.g. by another instance's sweep
    /// a moment ago: that instance ended it, this one must not record it twice.
    pub async fn disable_for_leaving(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<bool, sqlx::Error> {
        lock_admin_set(conn).await?;
        let result = sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1 AND disabled = 0")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Changes an account's role, refusing to demote the last enabled admin.
    pub async fn set_role(
        conn: &mut AnyConnection,
        user_id: UserId,
        role: Role,
    ) -> Result<AccountChange, sqlx::Error> {
        lock_admin_set(conn).await?;
        let result = sqlx::query(
            "UPDATE users SET role = $1 WHERE id = $2 AND role <> $1 \
             AND ($1 = 'admin' OR role <> 'admin' OR disabled = 1 OR \
             (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> $2) > 0)",
        )
        .bind(role.as_str())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        classify(conn, user_id, result.rows_affected(), |u| u.role == role).await
    }

    /// Notes a successful sign-in (inside the session-creating transaction) and returns the one
    /// before it, if any, for the "previous sign-in" line on the dashboard.
    pub async fn record_sign_in(
        conn: &mut AnyConnection,
        user_id: UserId,
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

    /// Whether this account is still enabled with a role that grants `permission`, locking its
    /// row for the rest of the transaction (a write that changes nothing: SQLite's write lock,
    /// PostgreSQL's row lock), so a concurrent demotion waits for the caller instead of slipping
    /// past it.
    pub async fn lock_if_enabled_with(
        conn: &mut AnyConnection,
        user_id: UserId,
        permission: Permission,
    ) -> Result<bool, sqlx::Error> {
        let role: Option<String> = sqlx::query_scalar(
            "UPDATE users SET role = role WHERE id = $1 AND disabled = 0 RETURNING role",
        )
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match role {
            Some(role) => Role::from_stored(&role)?.may(permission),
            None => false,
        })
    }
}

/// What a guarded account update amounted to: changed when it touched a row; otherwise the
/// account is missing, already as wanted (`already`), or kept as the last enabled admin.
async fn classify(
    conn: &mut AnyConnection,
    user_id: UserId,
    rows_affected: u64,
    already: impl FnOnce(&User) -> bool,
) -> Result<AccountChange, sqlx::Error> {
    if rows_affected > 0 {
        return Ok(AccountChange::Changed);
    }
    Ok(match User::find_by_id(conn, user_id).await? {
        None => AccountChange::NoSuchUser,
        Some(user) if already(&user) => AccountChange::Unchanged,
        Some(_) => AccountChange::WouldLeaveNoAdmin,
    })
}

/// Takes the write locks on every enabled admin row before the "is another admin left?" check.
/// On SQLite the first write takes the database write lock; on PostgreSQL the row locks make a
/// concurrent demotion wait and then re-check, so two admins cannot demote each other at once.
async fn lock_admin_set(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = role WHERE role = 'admin' AND disabled = 0")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_stored_roles_are_errors() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(Role::from_stored("superuser").is_err());
    }
}
