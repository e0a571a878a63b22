//! Known devices: browsers that signed in to an account. The browser keeps a random token in its
//! long-lived device cookie; the row keeps SHA-256 of it, where it came from, and whether its
//! owner has seen the "new sign-in" notice. Attempts that carry a device's token are throttled per
//! device (see `auth::throttle`), and a sign-in without one is announced to the account's owner.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use crate::ids::{DeviceId, UserId};
use crate::token::{hash_token, random_token};

/// How long a browser stays known without signing in again.
pub const DEVICE_LIFETIME: i64 = 180 * 24 * 3600;

/// Most device tokens one browser carries (one per account signed in from it).
pub const MAX_TOKENS_PER_BROWSER: usize = 5;

/// One known device, as listed on /account/sessions and the dashboard notice.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct KnownDevice {
    pub id: DeviceId,
    pub handle: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A device just made, with the token for the cookie (and nowhere else).
#[derive(Debug)]
pub struct NewDevice {
    pub token: crate::secret::Secret<String>,
    pub device: KnownDevice,
}

const COLUMNS: &str = "id, handle, created_at, last_seen_at, ip, user_agent";

impl KnownDevice {
    /// The live device among `tokens` (what this browser carries) that belongs to the account
    /// with e-mail `email`, if any.
    pub async fn recognise(
        conn: &mut AnyConnection,
        tokens: &[String],
        user: DeviceOwner<'_>,
        now: i64,
    ) -> Result<Option<KnownDevice>, sqlx::Error> {
        for token in tokens.iter().take(MAX_TOKENS_PER_BROWSER) {
            let found: Option<KnownDevice> =
                match user {
                    DeviceOwner::Email(email) => sqlx::query_as(
                        "SELECT d.id, d.handle, d.created_at, d.last_seen_at, d.ip, d.user_agent \
                         FROM known_devices d JOIN users u ON u.id = d.user_id \
                         WHERE d.token_hash = $1 AND u.email = $2 AND d.expires_at > $3",
                    )
                    .bind(hash_token(token))
                    .bind(email)
                    .bind(now)
                    .fetch_optional(&mut *conn)
                    .await?,
                    DeviceOwner::Id(user_id) => {
                        sqlx::query_as(&format!(
                            "SELECT {COLUMNS} FROM known_devices \
                         WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3"
                        ))
                        .bind(hash_token(token))
                        .bind(user_id)
                        .bind(now)
                        .fetch_optional(&mut *conn)
                        .await?
                    }
                };
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Remembers this browser for `user_id` after a sign-in from it.
    pub async fn create(
        conn: &mut AnyConnection,
        user_id: UserId,
        ip: Option<&str>,
        user_agent: Option<&str>,
        now: i64,
    ) -> Result<NewDevice, sqlx::Error> {
        let token = random_token();
        let handle = crate::token::random_handle();
        let id: DeviceId = sqlx::query_scalar(
            "INSERT INTO known_devices (token_hash, handle, user_id, created_at, last_seen_at, \
             expires_at, ip, user_agent, acknowledged) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, 0) \
             RETURNING id",
        )
        .bind(hash_token(&token))
        .bind(&handle)
        .bind(user_id)
        .bind(now)
        .bind(now + DEVICE_LIFETIME)
        .bind(ip)
        .bind(user_agent)
        .fetch_one(&mut *conn)
        .await?;
        let device = KnownDevice {
            id,
            handle,
            created_at: now,
            last_seen_at: now,
            ip: ip.map(str::to_string),
            user_agent: user_agent.map(str::to_string),
        };
        Ok(NewDevice {
            token: token.into(),
            device,
        })
    }

    /// A sign-in from a known device: it stays known for another lifetime from now.
    pub async fn touch(
        conn: &mut AnyConnection,
        id: DeviceId,
        ip: Option<&str>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE known_devices SET last_seen_at = $1, expires_at = $2, ip = $3 WHERE id = $4",
        )
        .bind(now)
        .bind(now + DEVICE_LIFETIME)
        .bind(ip)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The account's live devices, most recently used first.
    pub async fn list_for_user(
        conn: &mut AnyConnection,
        user_id: UserId,
        now: i64,
    ) -> Result<Vec<KnownDevice>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM known_devices WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY last_seen_at DESC, id DESC LIMIT 100"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
    }

    /// Sign-ins from new devices the owner has not yet acknowledged (the dashboard notice).
    pub async fn unacknowledged(
        conn: &mut AnyConnection,
        user_id: UserId,
        now: i64,
    ) -> Result<Vec<KnownDevice>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM known_devices \
             WHERE user_id = $1 AND acknowledged = 0 AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC LIMIT 5"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
    }

    /// Marks every new-device notice of the account as seen; how many there were.
    pub async fn acknowledge_all(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE known_devices SET acknowledged = 1 WHERE user_id = $1 AND acknowledged = 0",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected())
    }

    /// Forgets one of the account's devices by its handle; the device, if it was the account's.
    pub async fn delete_own(
        conn: &mut AnyConnection,
        user_id: UserId,
        handle: &str,
    ) -> Result<Option<KnownDevice>, sqlx::Error> {
        sqlx::query_as(&format!(
            "DELETE FROM known_devices WHERE user_id = $1 AND handle = $2 RETURNING {COLUMNS}"
        ))
        .bind(user_id)
        .bind(handle)
        .fetch_optional(&mut *conn)
        .await
    }

    /// Forgets every device of the account: after a password change or reset, a forced sign-out,
    /// a disable or a two-factor reset, no browser keeps the trust it earned before (its guesses
    /// are counted with everyone else's again and its next sign-in is announced).
    pub async fn delete_for_user(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<u64, sqlx::Error> {
        crate::db::delete_rows_of_user(conn, "known_devices", user_id).await
    }

    /// Housekeeping: devices not seen for a whole lifetime.
    pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM known_devices WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Whose device is being looked for: the login form names the account by e-mail (normalized),
/// the second step by id.
#[derive(Debug, Clone, Copy)]
pub enum DeviceOwner<'a> {
    Email(&'a str),
    Id(UserId),
}
