//! A sign-in between its two steps: the password was right, the code has not been given yet.
//!
//! The browser holds a random token in a private (encrypted and authenticated) cookie; the row
//! holds SHA-256 of it, the account, "keep me signed in", and an expiry five minutes out. The row
//! is deleted by the step that creates the session (so it works once), by a password change and
//! by a two-factor reset; a disabled account's pending row opens nothing (the session insert
//! checks the account). Without the password step there is no row, so the cookie alone is useless.

use sqlx::{AnyConnection, FromRow};

use super::session::SingleSignOnMark;
use crate::ids::UserId;
use crate::secret::Secret;
use crate::token::{hash_token, random_token};

/// How long the code step waits after the password step.
pub const PENDING_LOGIN_SECONDS: i64 = 5 * 60;

/// A pending sign-in as loaded at the second step.
#[derive(Debug, Clone, FromRow)]
pub struct PendingLogin {
    pub id: i64,
    pub user_id: UserId,
    remember: i64,
    pub expires_at: i64,
    single_sign_on: i64,
    sso_sid: Option<String>,
    /// Sealed (see `app.sso_sealer`): never the ID token itself.
    sso_id_token: Option<String>,
}

impl PendingLogin {
    pub fn remember(&self) -> bool {
        self.remember != 0
    }

    /// What the session keeps of the provider's, when the first step was a single sign-on.
    pub fn single_sign_on(&self) -> Option<SingleSignOnMark> {
        (self.single_sign_on != 0).then(|| SingleSignOnMark {
            sid: self.sso_sid.clone(),
            sealed_id_token: Secret::new(self.sso_id_token.clone().unwrap_or_default()),
        })
    }
}

/// Stores a pending sign-in for `user_id` if the account is still enabled and its password is
/// still `verified_hash`; the token for the cookie, or `None` when the account changed meanwhile.
pub async fn create(
    conn: &mut AnyConnection,
    user_id: UserId,
    verified_hash: &str,
    remember: bool,
    single_sign_on: Option<&SingleSignOnMark>,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let token = random_token();
    let stored: Option<i64> = sqlx::query_scalar(
        "INSERT INTO pending_logins (token_hash, user_id, remember, created_at, expires_at, \
         single_sign_on, sso_sid, sso_id_token) \
         SELECT $1, id, $2, $3, $4, $7, $8, $9 FROM users \
         WHERE id = $5 AND disabled = 0 AND password_hash = $6 RETURNING id",
    )
    .bind(hash_token(&token))
    .bind(i64::from(remember))
    .bind(now)
    .bind(now + PENDING_LOGIN_SECONDS)
    .bind(user_id)
    .bind(verified_hash)
    .bind(i64::from(single_sign_on.is_some()))
    .bind(single_sign_on.and_then(|sso| sso.sid.as_deref()))
    .bind(single_sign_on.map(|sso| sso.sealed_id_token.expose().as_str()))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(stored.map(|_| token))
}

/// The live pending sign-in behind `token`.
pub async fn find(
    conn: &mut AnyConnection,
    token: &str,
    now: i64,
) -> Result<Option<PendingLogin>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, remember, expires_at, single_sign_on, sso_sid, sso_id_token \
         FROM pending_logins WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
}

/// Uses up a pending sign-in; false if another request already did (it works once).
pub async fn consume(conn: &mut AnyConnection, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM pending_logins WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_for_user(conn: &mut AnyConnection, user_id: UserId) -> Result<(), sqlx::Error> {
    crate::db::delete_rows_of_user(conn, "pending_logins", user_id).await?;
    Ok(())
}

/// Housekeeping: pending sign-ins whose five minutes are over.
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
