//! Single-use password links: a reset link, or the invitation that sets a new account's first
//! password. The token (32 random bytes) exists only in the message or on the operator's screen;
//! the table keeps its SHA-256. At most one link per account is alive: a newer one, a password
//! change or a disable deletes the rest, and using one deletes it.

use sqlx::{AnyConnection, FromRow};

use super::{User, UserId};
use crate::secret::Secret;
use crate::token::{hash_token, random_token};

/// What a link is for; the page wording and the audit event follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Reset,
    Invitation,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Reset => "reset",
            LinkPurpose::Invitation => "invitation",
        }
    }

    fn from_stored(value: &str) -> Result<LinkPurpose, sqlx::Error> {
        match value {
            "reset" => Ok(LinkPurpose::Reset),
            "invitation" => Ok(LinkPurpose::Invitation),
            other => Err(sqlx::Error::Decode(
                format!("unknown stored link purpose {other:?}").into(),
            )),
        }
    }
}

/// A freshly made token and its stored form. Minted before any account is looked up, so a
/// request for an unknown address costs the same as one for a real account.
#[derive(Debug)]
pub struct MintedLink {
    token: Secret<String>,
    token_hash: String,
}

impl MintedLink {
    pub fn mint() -> MintedLink {
        let token = random_token();
        let token_hash = hash_token(&token);
        MintedLink {
            token: token.into(),
            token_hash,
        }
    }

    /// The token for the one message or screen that shows it.
    pub fn token(&self) -> &str {
        self.token.expose()
    }

    /// Stores the link for `user`, replacing every older link of the account; `false` (nothing
    /// stored) when the account is disabled. The account's row is locked first, so on PostgreSQL
    /// a concurrent disable or a second link waits for this one and then sees it.
    pub async fn store(
        &self,
        conn: &mut AnyConnection,
        user: UserId,
        purpose: LinkPurpose,
        now: i64,
        ttl: i64,
    ) -> Result<bool, sqlx::Error> {
        let locked =
            sqlx::query("UPDATE users SET disabled = disabled WHERE id = $1 AND disabled = 0")
                .bind(user)
                .execute(&mut *conn)
                .await?;
        if locked.rows_affected() == 0 {
            return Ok(false);
        }
        delete_for_user(conn, user).await?;
        sqlx::query(
            "INSERT INTO password_links (token_hash, user_id, purpose, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&self.token_hash)
        .bind(user)
        .bind(purpose.as_str())
        .bind(now)
        .bind(now + ttl)
        .execute(&mut *conn)
        .await?;
        Ok(true)
    }
}

/// A link that still works, with the enabled account it opens.
#[derive(Debug)]
pub struct OpenLink {
    pub user: User,
    pub purpose: LinkPurpose,
    pub expires_at: i64,
}

#[derive(FromRow)]
struct LinkRow {
    user_id: UserId,
    purpose: String,
    expires_at: i64,
}

/// The link behind `token` if it is alive and its account enabled; anything else is `None`.
pub async fn find_open(
    conn: &mut AnyConnection,
    token: &str,
    now: i64,
) -> Result<Option<OpenLink>, sqlx::Error> {
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT user_id, purpose, expires_at FROM password_links \
         WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let purpose = LinkPurpose::from_stored(&row.purpose)?;
    Ok(User::find_by_id(conn, row.user_id)
        .await?
        .filter(|user| !user.disabled)
        .map(|user| OpenLink {
            user,
            purpose,
            expires_at: row.expires_at,
        }))
}

/// Uses up the link behind `token`: deleted in the same statement that reads it, so two
/// submissions racing with one link cannot both succeed.
pub async fn consume(
    conn: &mut AnyConnection,
    token: &str,
    now: i64,
) -> Result<Option<(UserId, LinkPurpose)>, sqlx::Error> {
    let row: Option<(UserId, String)> = sqlx::query_as(
        "DELETE FROM password_links WHERE token_hash = $1 AND expires_at > $2 \
         RETURNING user_id, purpose",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(user, purpose)| Ok((user, LinkPurpose::from_stored(&purpose)?)))
        .transpose()
}

/// Deletes every link of an account (a password change, a disable, a newer link).
pub async fn delete_for_user(conn: &mut AnyConnection, user: UserId) -> Result<u64, sqlx::Error> {
    crate::db::delete_rows_of_user(conn, "password_links", user).await
}

/// Deletes links that expired (housekeeping with the session purge).
pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM password_links WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    )
}
