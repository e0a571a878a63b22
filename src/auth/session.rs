//! `SessionStore`: the few verbs that create, find, refresh, list and end sessions.
//!
//! A session is a row; ending it is a `DELETE`. Nothing caches rows between requests, so the
//! request after a revocation — on this instance or any other sharing the database — is anonymous.

use serde::Serialize;
use sqlx::FromRow;

use super::{hash_token, random_token};
use crate::clock::Clock;
use crate::db::Db;
use crate::users::{Role, User};

/// The two lifetimes of a session, in seconds, for normal and "keep me signed in" sessions.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle: i64,
    pub absolute: i64,
    pub remember_idle: i64,
    pub remember_absolute: i64,
}

impl SessionLimits {
    /// The four limits as the settings give them.
    pub fn from_config(config: &crate::config::AppConfig) -> Self {
        SessionLimits {
            idle: config.session_idle_timeout,
            absolute: config.session_absolute_timeout,
            remember_idle: config.remember_idle_timeout,
            remember_absolute: config.remember_absolute_timeout,
        }
    }

    fn idle_for(&self, remember: bool) -> i64 {
        if remember {
            self.remember_idle
        } else {
            self.idle
        }
    }

    fn absolute_for(&self, remember: bool) -> i64 {
        if remember {
            self.remember_absolute
        } else {
            self.absolute
        }
    }

    /// How stale `last_seen_at` may get before it is rewritten: often enough that activity always
    /// keeps a session alive, rarely enough that most requests write nothing.
    fn touch_interval(&self, remember: bool) -> i64 {
        (self.idle_for(remember) / 10).clamp(1, 60)
    }
}

/// Length of a session's public handle (base64url of 16 random bytes' worth of a token).
pub const HANDLE_LEN: usize = 22;

/// Whether a posted handle has the exact shape of the ones we issue; anything else names no
/// session and never reaches the database.
pub fn is_handle(value: &str) -> bool {
    crate::token::is_base64url_of_len(value, HANDLE_LEN)
}

/// Where a sign-in came from, kept on the row for the account and admin pages.
#[derive(Debug, Clone, Default)]
pub struct SessionOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub remember: bool,
}

/// A live session joined with its (enabled) user, as loaded once per request.
#[derive(Clone)]
pub struct ActiveSession {
    pub id: i64,
    pub handle: String,
    pub user_id: i64,
    pub user_email: String,
    pub user_name: String,
    pub user_role: Role,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub remember: bool,
    /// The account's sign-in before the latest one (shown so people notice one that was not theirs).
    pub previous_sign_in_at: Option<i64>,
    /// Per-session CSRF secret; never rendered unmasked.
    pub csrf_secret: String,
}

/// A freshly created or rotated session plus the token that goes into the cookie (and nowhere else).
pub struct IssuedSession {
    pub token: String,
    pub session: ActiveSession,
}

impl std::fmt::Debug for ActiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveSession")
            .field("id", &self.id)
            .field("handle", &self.handle)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("remember", &self.remember)
            .field("csrf_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("token", &"<redacted>")
            .field("session", &self.session)
            .finish()
    }
}

/// One row of a sessions table on the account or admin pages.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct SessionSummary {
    pub id: i64,
    pub handle: String,
    pub user_id: i64,
    pub user_email: String,
    pub user_name: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub remember: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(FromRow)]
struct SessionUserRow {
    id: i64,
    handle: String,
    user_id: i64,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    remember: i64,
    csrf_secret: String,
    email: String,
    name: String,
    role: String,
    disabled: i64,
    previous_sign_in_at: Option<i64>,
}

/// Whether a found row is usable; expired rows and rows of disabled users are deleted when met
/// (disabling deletes them too, but a login racing the disable must not leave one dormant).
enum Liveness {
    Live,
    Expired,
    Refused,
}

/// Counts for the admin overview.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SessionCounts {
    pub live_sessions: i64,
    pub signed_in_users: i64,
}

/// The session store. Cheap to clone; holds the pool, the clock and the limits.
#[derive(Debug, Clone)]
pub struct SessionStore {
    db: Db,
    clock: Clock,
    limits: SessionLimits,
}

impl SessionStore {
    pub fn new(db: Db, clock: Clock, limits: SessionLimits) -> Self {
        SessionStore { db, clock, limits }
    }

    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// Starts a session for `user`, whose password was just verified against `user.password_hash`.
    /// `replacing` is the token this browser presented, if any: its row is deleted in the same
    /// transaction, so a login never inherits an earlier session (fixation) and a browser holds at
    /// most one. The insert happens only while the account is still enabled and its password hash
    /// is still the one verified, so a disable or password change racing this login wins; then
    /// `None` is returned and the login must be treated as failed.
    pub async fn create(
        &self,
        user: &User,
        origin: &SessionOrigin,
        replacing: Option<&str>,
    ) -> Result<Option<IssuedSession>, sqlx::Error> {
        let now = self.clock.now();
        let token = random_token();
        let handle = random_token()[..HANDLE_LEN].to_string();
        let csrf_secret = random_token();
        let expires_at = now + self.limits.absolute_for(origin.remember);
        // The first statement writes, so SQLite takes the write lock up front (no lock upgrade).
        let mut tx = self.db.pool.begin().await?;
        if let Some(old) = replacing {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(hash_token(old))
                .execute(&mut *tx)
                .await?;
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sessions (token_hash, handle, user_id, created_at, last_seen_at, expires_at, \
             remember, ip, user_agent, csrf_secret) \
             SELECT $1, $2, id, $4, $4, $5, $6, $7, $8, $9 FROM users \
             WHERE id = $3 AND disabled = 0 AND password_hash = $10 \
             RETURNING id",
        )
        .bind(hash_token(&token))
        .bind(&handle)
        .bind(user.id)
        .bind(now)
        .bind(expires_at)
        .bind(i64::from(origin.remember))
        .bind(origin.ip.as_deref())
        .bind(origin.user_agent.as_deref())
        .bind(&csrf_secret)
        .bind(&user.password_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(None);
        };
        let previous_sign_in_at = User::record_sign_in_in(&mut tx, user.id, now).await?;
        tx.commit().await?;
        Ok(Some(IssuedSession {
            token,
            session: ActiveSession {
                id,
                handle,
                user_id: user.id,
                user_email: user.email.clone(),
                user_name: user.name.clone(),
                user_role: user.role,
                created_at: now,
                last_seen_at: now,
                expires_at,
                remember: origin.remember,
                previous_sign_in_at,
                csrf_secret,
            },
        }))
    }

    /// The live session for a cookie token, or `None`. One indexed read (session ⋈ user); a write
    /// only when `last_seen_at` is stale enough to need refreshing or the row turned out expired.
    pub async fn find_active(&self, token: &str) -> Result<Option<ActiveSession>, sqlx::Error> {
        let row: Option<SessionUserRow> = sqlx::query_as(
            "SELECT s.id, s.handle, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.remember, \
             s.csrf_secret, u.email, u.name, u.role, u.disabled, u.previous_sign_in_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = self.clock.now();
        let remember = row.remember != 0;
        match self.liveness(&row, now) {
            Liveness::Live => {}
            Liveness::Expired | Liveness::Refused => {
                self.delete_by_id(row.id).await?;
                return Ok(None);
            }
        }
        let mut last_seen_at = row.last_seen_at;
        if now - last_seen_at >= self.limits.touch_interval(remember) {
            // Conditional so that concurrent requests of one browser write once, not once each.
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1",
            )
            .bind(now)
            .bind(row.id)
            .execute(&self.db.pool)
            .await?;
            last_seen_at = now;
        }
        Ok(Some(ActiveSession {
            id: row.id,
            handle: row.handle,
            user_id: row.user_id,
            user_email: row.email,
            user_name: row.name,
            user_role: Role::parse(&row.role).unwrap_or(Role::Employee),
            created_at: row.created_at,
            last_seen_at,
            expires_at: row.expires_at,
            remember,
            previous_sign_in_at: row.previous_sign_in_at,
            csrf_secret: row.csrf_secret,
        }))
    }

    fn liveness(&self, row: &SessionUserRow, now: i64) -> Liveness {
        let remember = row.remember != 0;
        if now >= row.expires_at || now - row.last_seen_at >= self.limits.idle_for(remember) {
            Liveness::Expired
        } else if row.disabled != 0 {
            Liveness::Refused
        } else {
            Liveness::Live
        }
    }

    /// Changes a user's password from their current session, all in one transaction: the new
    /// hash is stored, every other session of the user is deleted, and the current session gets
    /// a new token and CSRF secret (its row, handle and start time stay). Whoever held another
    /// session or a copy of this cookie is out; a crash cannot leave the change half done.
    /// Returns how many other sessions ended and the rotated session (`None` if the current one
    /// was revoked meanwhile — then the password is still changed and the person signs in again).
    pub async fn change_password(
        &self,
        session: &ActiveSession,
        old_token: &str,
        new_hash: &str,
    ) -> Result<(u64, Option<IssuedSession>), sqlx::Error> {
        let token = random_token();
        let csrf_secret = random_token();
        let now = self.clock.now();
        // The first statement writes, so SQLite takes the write lock up front.
        let mut tx = self.db.pool.begin().await?;
        User::set_password_hash_in(&mut tx, session.user_id, new_hash, now).await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(session.user_id)
            .bind(session.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let rotated = sqlx::query(
            "UPDATE sessions SET token_hash = $1, csrf_secret = $2, last_seen_at = $3 \
             WHERE id = $4 AND token_hash = $5",
        )
        .bind(hash_token(&token))
        .bind(&csrf_secret)
        .bind(now)
        .bind(session.id)
        .bind(hash_token(old_token))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        let issued = (rotated == 1).then(|| IssuedSession {
            token,
            session: ActiveSession {
                csrf_secret,
                last_seen_at: now,
                ..session.clone()
            },
        });
        Ok((ended, issued))
    }

    /// Ends the session carrying `token` (logout). Returns whether a row was deleted.
    pub async fn revoke_by_token(&self, token: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(&self.db.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_by_id(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Ends any session by its public handle (admins), inside the caller's transaction. Returns
    /// the owner's id if one was deleted.
    pub async fn revoke_by_handle_in(
        conn: &mut sqlx::AnyConnection,
        handle: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("DELETE FROM sessions WHERE handle = $1 RETURNING user_id")
            .bind(handle)
            .fetch_optional(&mut *conn)
            .await
    }

    /// Ends one of `user_id`'s own sessions by handle; a foreign handle deletes nothing.
    pub async fn revoke_own(&self, user_id: i64, handle: &str) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM sessions WHERE handle = $1 AND user_id = $2")
            .bind(handle)
            .bind(user_id)
            .execute(&self.db.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Whether any session (of anyone) has this handle.
    pub async fn handle_exists(&self, handle: &str) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM sessions WHERE handle = $1")
            .bind(handle)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Ends every session of a user (force logout). Returns how many ended.
    pub async fn revoke_all_for_user(&self, user_id: i64) -> Result<u64, sqlx::Error> {
        let mut conn = self.db.pool.acquire().await?;
        Self::revoke_all_for_user_in(&mut conn, user_id).await
    }

    /// As [`Self::revoke_all_for_user`], inside the caller's transaction.
    pub async fn revoke_all_for_user_in(
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
    ) -> Result<u64, sqlx::Error> {
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(result.rows_affected())
    }

    /// Ends every session of a user except `keep_id`. Returns how many ended.
    pub async fn revoke_others(&self, user_id: i64, keep_id: i64) -> Result<u64, sqlx::Error> {
        let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep_id)
            .execute(&self.db.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Cut-offs that make a row live: (now, normal idle cut-off, remember idle cut-off).
    fn live_bounds(&self) -> (i64, i64, i64) {
        let now = self.clock.now();
        (now, now - self.limits.idle, now - self.limits.remember_idle)
    }

    /// How many live sessions a user has (one indexed count; the dashboard card).
    pub async fn count_for_user(&self, user_id: i64) -> Result<i64, sqlx::Error> {
        let (now, idle_cutoff, remember_cutoff) = self.live_bounds();
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 \
             AND s.last_seen_at > (CASE WHEN s.remember = 1 THEN $4 ELSE $3 END)",
        )
        .bind(user_id)
        .bind(now)
        .bind(idle_cutoff)
        .bind(remember_cutoff)
        .fetch_one(&self.db.pool)
        .await
    }

    /// A user's live sessions, most recently active first.
    pub async fn list_for_user(&self, user_id: i64) -> Result<Vec<SessionSummary>, sqlx::Error> {
        let (now, idle_cutoff, remember_cutoff) = self.live_bounds();
        sqlx::query_as(
            "SELECT s.id, s.handle, s.user_id, u.email AS user_email, u.name AS user_name, s.created_at, \
             s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.user_id = $1 AND s.expires_at > $2 \
             AND s.last_seen_at > (CASE WHEN s.remember = 1 THEN $4 ELSE $3 END) \
             ORDER BY s.last_seen_at DESC, s.id DESC LIMIT 500",
        )
        .bind(user_id)
        .bind(now)
        .bind(idle_cutoff)
        .bind(remember_cutoff)
        .fetch_all(&self.db.pool)
        .await
    }

    /// One page of every live session, most recently active first, optionally only for users whose
    /// e-mail contains `email_filter`. Walks the `(last_seen_at, id)` index, so the first page stays
    /// cheap however many rows exist.
    pub async fn list_all(
        &self,
        email_filter: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SessionSummary>, sqlx::Error> {
        let (now, idle_cutoff, remember_cutoff) = self.live_bounds();
        let query = if email_filter.is_empty() {
            sqlx::query_as(
                "SELECT s.id, s.handle, s.user_id, u.email AS user_email, u.name AS user_name, s.created_at, \
                 s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.expires_at > $1 AND s.last_seen_at > (CASE WHEN s.remember = 1 THEN $3 ELSE $2 END) \
                 ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $4 OFFSET $5",
            )
        } else {
            sqlx::query_as(
                "SELECT s.id, s.handle, s.user_id, u.email AS user_email, u.name AS user_name, s.created_at, \
                 s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.expires_at > $1 AND s.last_seen_at > (CASE WHEN s.remember = 1 THEN $3 ELSE $2 END) \
                 AND u.email LIKE $6 ESCAPE '\\' \
                 ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $4 OFFSET $5",
            )
        };
        let query = query
            .bind(now)
            .bind(idle_cutoff)
            .bind(remember_cutoff)
            .bind(limit)
            .bind(offset);
        let query = if email_filter.is_empty() {
            query
        } else {
            query.bind(crate::users::like_pattern(email_filter))
        };
        query.fetch_all(&self.db.pool).await
    }

    /// Live sessions and distinct signed-in users, optionally for matching e-mails only.
    pub async fn counts(&self, email_filter: &str) -> Result<SessionCounts, sqlx::Error> {
        let (now, idle_cutoff, remember_cutoff) = self.live_bounds();
        let (live_sessions, signed_in_users): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT s.user_id) FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.expires_at > $1 AND s.last_seen_at > (CASE WHEN s.remember = 1 THEN $3 ELSE $2 END) \
             AND ($4 = '' OR u.email LIKE $5 ESCAPE '\\')",
        )
        .bind(now)
        .bind(idle_cutoff)
        .bind(remember_cutoff)
        .bind(email_filter)
        .bind(crate::users::like_pattern(email_filter))
        .fetch_one(&self.db.pool)
        .await?;
        Ok(SessionCounts {
            live_sessions,
            signed_in_users,
        })
    }

    /// Deletes up to `batch` expired rows; returns how many. Small batches keep each write short
    /// so requests never queue behind a purge.
    pub async fn purge_expired_batch(&self, batch: i64) -> Result<u64, sqlx::Error> {
        let (now, idle_cutoff, remember_cutoff) = self.live_bounds();
        let result = sqlx::query(
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= $1 \
             OR (remember = 0 AND last_seen_at <= $2) OR (remember = 1 AND last_seen_at <= $3) LIMIT $4)",
        )
        .bind(now)
        .bind(idle_cutoff)
        .bind(remember_cutoff)
        .bind(batch)
        .execute(&self.db.pool)
        .await?;
        Ok(result.rows_affected())
    }

    /// Purges every expired row in batches, yielding between them. Returns the total.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        const BATCH: i64 = 500;
        let mut total = 0;
        loop {
            let deleted = self.purge_expired_batch(BATCH).await?;
            total += deleted;
            if deleted < BATCH as u64 {
                return Ok(total);
            }
            rocket::tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}
