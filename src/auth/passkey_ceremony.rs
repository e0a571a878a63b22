//! WebAuthn ceremonies between their two requests. The library's state (the challenge and the
//! policy it was issued under) is kept here, in the database every instance shares, and never
//! goes to the browser: the browser holds only a random token, the row its SHA-256. Taking a
//! ceremony deletes it in the same statement, so an answer to a challenge is accepted once; a
//! ceremony is worthless after [`CEREMONY_SECONDS`]. A registration belongs to the session that
//! started it and is deleted with it.

use sqlx::{AnyConnection, FromRow};

use crate::ids::SessionId;
use crate::token::{hash_token, random_token};

/// How long a challenge may be answered: what WebAuthn suggests for the browser's own prompt.
pub const CEREMONY_SECONDS: i64 = 5 * 60;

/// What a ceremony is for (its state types differ, so a token of one never opens the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
        }
    }
}

/// A ceremony as taken back at its second request.
#[derive(Debug, FromRow)]
pub struct Ceremony {
    pub session_id: Option<SessionId>,
    pub passkey_name: Option<String>,
    pub state: String,
    expires_at: i64,
}

/// What taking a ceremony found.
#[derive(Debug)]
pub enum Taken {
    Open(Ceremony),
    /// It was there but past its time (and is gone now).
    Expired,
    /// No such ceremony: never started, already answered, or for the other purpose.
    Unknown,
}

/// A ceremony about to be stored.
#[derive(Debug)]
pub struct NewCeremony<'a> {
    pub purpose: Purpose,
    pub session_id: Option<SessionId>,
    pub passkey_name: Option<&'a str>,
    pub state: &'a str,
}

/// Stores a ceremony (replacing the session's unfinished one: at most one per session); the token
/// for the browser.
pub async fn create(
    conn: &mut AnyConnection,
    new: &NewCeremony<'_>,
    now: i64,
) -> Result<String, sqlx::Error> {
    if let Some(session_id) = new.session_id {
        delete_for_session(conn, session_id).await?;
    }
    let token = random_token();
    sqlx::query(
        "INSERT INTO passkey_ceremonies (token_hash, purpose, session_id, passkey_name, state, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hash_token(&token))
    .bind(new.purpose.as_str())
    .bind(new.session_id)
    .bind(new.passkey_name)
    .bind(new.state)
    .bind(now)
    .bind(now + CEREMONY_SECONDS)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// Takes the ceremony behind `token` (deleting it: it answers once).
pub async fn take(
    conn: &mut AnyConnection,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Taken, sqlx::Error> {
    let found: Option<Ceremony> = sqlx::query_as(
        "DELETE FROM passkey_ceremonies WHERE token_hash = $1 AND purpose = $2 \
         RETURNING session_id, passkey_name, state, expires_at",
    )
    .bind(hash_token(token))
    .bind(purpose.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match found {
        Some(ceremony) if ceremony.expires_at > now => Taken::Open(ceremony),
        Some(_) => Taken::Expired,
        None => Taken::Unknown,
    })
}

/// Drops a session's unfinished registration.
async fn delete_for_session(
    conn: &mut AnyConnection,
    session_id: SessionId,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM passkey_ceremonies WHERE session_id = $1")
        .bind(session_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes ceremonies past their time (housekeeping with the session purge).
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
