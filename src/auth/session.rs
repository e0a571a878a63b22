//! Sessions: the rows behind the cookie, and the few statements that create, find, refresh, list
//! and end them. Every function takes the caller's connection (a pooled one or the transaction
//! of a use case in `app::sessions`), so a change and its audit event can commit together.
//!
//! A session is a row; ending it is a `DELETE`. The rows a request loads may be kept in memory
//! (`app::caches::SessionCache`), but only under the write generation that every such `DELETE`
//! bumps, so the request after a revocation — on this instance or any other sharing the
//! database — is anonymous.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::{hash_token, random_token};
use crate::ids::{SessionId, UserId};
use crate::secret::Secret;
use crate::text::like_pattern;
use crate::users::{Email, Role, User};

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

    /// Whether a request at `now` should rewrite the session's `last_seen_at`.
    pub fn touch_due(&self, session: &ActiveSession, now: i64) -> bool {
        now - session.last_seen_at >= self.touch_interval(session.remember)
    }

    /// The cut-offs that decide, at `now`, which rows are live.
    pub fn live_at(&self, now: i64) -> LiveBounds {
        LiveBounds {
            now,
            idle_cutoff: now - self.idle,
            remember_idle_cutoff: now - self.remember_idle,
        }
    }
}

/// The liveness rule, defined once: a row is live while `now < expires_at` and it was last seen
/// after its idle cut-off (the remembered one for "keep me signed in" rows). [`Self::admits`]
/// applies it in Rust to a loaded row; [`live_session!`] is the same rule as SQL, bound with
/// [`Self::bind`]'s three values.
#[derive(Debug, Clone, Copy)]
pub struct LiveBounds {
    pub now: i64,
    pub idle_cutoff: i64,
    pub remember_idle_cutoff: i64,
}

impl LiveBounds {
    pub fn admits(&self, expires_at: i64, last_seen_at: i64, remember: bool) -> bool {
        let cutoff = if remember {
            self.remember_idle_cutoff
        } else {
            self.idle_cutoff
        };
        self.now < expires_at && last_seen_at > cutoff
    }

    /// (now, idle cut-off, remembered idle cut-off) in the order [`live_session!`] names them.
    fn bind(&self) -> (i64, i64, i64) {
        (self.now, self.idle_cutoff, self.remember_idle_cutoff)
    }
}

/// [`LiveBounds::admits`] as SQL over `sessions s`, with the placeholders of now, the idle
/// cut-off and the remembered idle cut-off.
macro_rules! live_session {
    ($now:literal, $idle:literal, $remember_idle:literal) => {
        concat!(
            "(s.expires_at > ",
            $now,
            " AND s.last_seen_at > (CASE WHEN s.remember = 1 THEN ",
            $remember_idle,
            " ELSE ",
            $idle,
            " END))"
        )
    };
}

/// The negation of [`live_session!`] (De Morgan), written as an OR so the purge can use the
/// expiry and activity indexes; kept beside it so the two cannot drift.
macro_rules! not_live_session {
    ($now:literal, $idle:literal, $remember_idle:literal) => {
        concat!(
            "(s.expires_at <= ",
            $now,
            " OR s.last_seen_at <= (CASE WHEN s.remember = 1 THEN ",
            $remember_idle,
            " ELSE ",
            $idle,
            " END))"
        )
    };
}

/// What a sessions table row is loaded from (`sessions s JOIN users u`).
macro_rules! summary_columns {
    () => {
        "s.id, s.handle, s.user_id, u.email AS user_email, u.name AS user_name, s.created_at, \
         s.last_seen_at, s.expires_at, s.remember, s.ip, s.user_agent, s.single_sign_on \
         FROM sessions s JOIN users u ON u.id = s.user_id"
    };
}

/// Most sessions one person's page lists.
const MAX_OWN_SESSIONS_LISTED: i64 = 500;

/// Where a sign-in came from, kept on the row for the account and admin pages.
#[derive(Debug, Clone, Default)]
pub struct SessionOrigin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub remember: bool,
    /// Set when the company's identity provider signed the person in.
    pub single_sign_on: Option<SingleSignOnMark>,
}

/// What a single sign-on session keeps of the provider's: its session id (`sid`, which a
/// logout token names) and the ID token, sealed, for `id_token_hint` at sign-out.
#[derive(Debug, Clone)]
pub struct SingleSignOnMark {
    pub sid: Option<String>,
    pub sealed_id_token: Secret<String>,
}

/// A live session joined with its (enabled) user, as loaded once per request.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub id: SessionId,
    pub handle: String,
    pub user_id: UserId,
    pub user_email: Email,
    pub user_name: String,
    pub user_role: Role,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub remember: bool,
    /// The account's sign-in before the latest one (shown so people notice one that was not theirs).
    pub previous_sign_in_at: Option<i64>,
    /// An administrator set the password: only the password page is open until it is changed.
    pub must_change_password: bool,
    /// The account signs in with a second factor (`require_two_factor_for_admins` holds an
    /// administrator without one on /account/two-factor).
    pub two_factor_enabled: bool,
    /// Per-session CSRF secret; never rendered unmasked.
    pub csrf_secret: Secret<String>,
}

/// A freshly created or rotated session plus the token that goes into the cookie (and nowhere else).
#[derive(Debug)]
pub struct IssuedSession {
    pub token: Secret<String>,
    pub session: ActiveSession,
}

/// One row of a sessions table on the account or admin pages.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct SessionSummary {
    pub id: SessionId,
    pub handle: String,
    pub user_id: UserId,
    pub user_email: String,
    pub user_name: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub remember: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub single_sign_on: i64,
}

#[derive(FromRow)]
struct SessionUserRow {
    id: SessionId,
    handle: String,
    user_id: UserId,
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
    must_change_password: i64,
    two_factor_enabled: i64,
}

/// Counts for the admin overview.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SessionCounts {
    pub live_sessions: i64,
    pub signed_in_users: i64,
}

/// Starts a session for `user`, whose password was just verified against `user.password_hash`.
/// `replacing` is the token this browser presented, if any: its row is deleted first, so a login
/// never inherits an earlier session (fixation) and a browser holds at most one. The insert
/// happens only while the account is still enabled and its password hash is still the one
/// verified, so a disable or password change racing this login wins; then `None` is returned
/// and the login must be treated as failed.
pub async fn create(
    conn: &mut AnyConnection,
    user: &User,
    origin: &SessionOrigin,
    replacing: Option<&str>,
    limits: &SessionLimits,
    now: i64,
) -> Result<Option<IssuedSession>, sqlx::Error> {
    let token = random_token();
    let handle = crate::token::random_handle();
    let csrf_secret = random_token();
    let expires_at = now + limits.absolute_for(origin.remember);
    if let Some(old) = replacing {
        delete_by_token(conn, old).await?;
    }
    let id: Option<SessionId> = sqlx::query_scalar(
        "INSERT INTO sessions (token_hash, handle, user_id, created_at, last_seen_at, expires_at, \
         remember, ip, user_agent, csrf_secret, single_sign_on, sso_sid, sso_id_token) \
         SELECT $1, $2, id, $4, $4, $5, $6, $7, $8, $9, $11, $12, $13 FROM users \
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
    .bind(user.password_hash.expose())
    .bind(i64::from(origin.single_sign_on.is_some()))
    .bind(
        origin
            .single_sign_on
            .as_ref()
            .and_then(|sso| sso.sid.as_deref()),
    )
    .bind(
        origin
            .single_sign_on
            .as_ref()
            .map(|sso| sso.sealed_id_token.expose().as_str()),
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    let previous_sign_in_at = User::record_sign_in(conn, user.id, now).await?;
    Ok(Some(IssuedSession {
        token: token.into(),
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
            must_change_password: user.must_change_password,
            // Known to the caller, which has just looked (the code step sets it).
            two_factor_enabled: false,
            csrf_secret: csrf_secret.into(),
        },
    }))
}

/// The live session for a cookie token, or `None`. One indexed read (session ⋈ user); a write
/// only when `last_seen_at` is stale enough to need refreshing, or the row turned out expired or
/// its account disabled (deleted when met: disabling deletes them too, but a login racing the
/// disable must not leave one dormant).
/// The live session whose token hashes to `token_hash` ([`hash_token`]), with its activity time
/// refreshed when due; a row found dead is deleted.
pub async fn find_active(
    conn: &mut AnyConnection,
    token_hash: &str,
    limits: &SessionLimits,
    now: i64,
) -> Result<Option<ActiveSession>, sqlx::Error> {
    let row: Option<SessionUserRow> = sqlx::query_as(
        "SELECT s.id, s.handle, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.remember, \
         s.csrf_secret, u.email, u.name, u.role, u.disabled, u.previous_sign_in_at, \
         u.must_change_password, \
         (SELECT COUNT(*) FROM two_factor t WHERE t.user_id = s.user_id AND t.enabled_at IS NOT NULL) \
         AS two_factor_enabled FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let remember = row.remember != 0;
    let live = limits
        .live_at(now)
        .admits(row.expires_at, row.last_seen_at, remember);
    if !live || row.disabled != 0 {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(row.id)
            .execute(&mut *conn)
            .await?;
        return Ok(None);
    }
    let mut session = ActiveSession {
        id: row.id,
        handle: row.handle,
        user_id: row.user_id,
        user_email: Email::from_stored(row.email)?,
        user_name: row.name,
        user_role: Role::from_stored(&row.role)?,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        expires_at: row.expires_at,
        remember,
        previous_sign_in_at: row.previous_sign_in_at,
        must_change_password: row.must_change_password != 0,
        two_factor_enabled: row.two_factor_enabled != 0,
        csrf_secret: row.csrf_secret.into(),
    };
    if limits.touch_due(&session, now) {
        touch(conn, session.id, now).await?;
        session.last_seen_at = now;
    }
    Ok(Some(session))
}

/// Records activity at `now`. Conditional, so that concurrent requests of one browser write once,
/// not once each, and an activity time never moves back.
pub async fn touch(conn: &mut AnyConnection, id: SessionId, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the session still exists, locking its row for the rest of the transaction (a write
/// that changes nothing), so a concurrent revocation waits for the caller instead of slipping past.
pub async fn lock_if_present(conn: &mut AnyConnection, id: SessionId) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// Gives the session behind `old_token` a new token and CSRF secret (its row, handle and start
/// time stay): whoever holds a copy of the old cookie is out. `None` if it was revoked meanwhile.
pub async fn rotate(
    conn: &mut AnyConnection,
    session: &ActiveSession,
    old_token: &str,
    now: i64,
) -> Result<Option<IssuedSession>, sqlx::Error> {
    let token = random_token();
    let csrf_secret = random_token();
    let rotated = sqlx::query(
        "UPDATE sessions SET token_hash = $1, csrf_secret = $2, last_seen_at = $3 \
         WHERE id = $4 AND token_hash = $5",
    )
    .bind(hash_token(&token))
    .bind(&csrf_secret)
    .bind(now)
    .bind(session.id)
    .bind(hash_token(old_token))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((rotated == 1).then(|| IssuedSession {
        token: token.into(),
        session: ActiveSession {
            csrf_secret: csrf_secret.into(),
            last_seen_at: now,
            ..session.clone()
        },
    }))
}

/// Ends the session carrying `token` (logout). Returns whether a row was deleted.
pub async fn delete_by_token(conn: &mut AnyConnection, token: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Ends any session by its public handle (admins). Returns the owner's id if one was deleted.
pub async fn delete_by_handle(
    conn: &mut AnyConnection,
    handle: &str,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM sessions WHERE handle = $1 RETURNING user_id")
        .bind(handle)
        .fetch_optional(&mut *conn)
        .await
}

/// Ends one of `user_id`'s own sessions by handle; a foreign handle deletes nothing.
pub async fn delete_own(
    conn: &mut AnyConnection,
    user_id: UserId,
    handle: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM sessions WHERE handle = $1 AND user_id = $2")
        .bind(handle)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Ends every session of a user except `keep` (none kept when `keep` is `None`). Returns how
/// many ended.
pub async fn delete_for_user(
    conn: &mut AnyConnection,
    user_id: UserId,
    keep: Option<SessionId>,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(SessionId(0)))
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected())
}

/// How many live sessions a user has (one indexed count; the dashboard card).
pub async fn count_for_user(
    conn: &mut AnyConnection,
    user_id: UserId,
    live: LiveBounds,
) -> Result<i64, sqlx::Error> {
    let (now, idle, remember_idle) = live.bind();
    sqlx::query_scalar(concat!(
        "SELECT COUNT(*) FROM sessions s WHERE s.user_id = $1 AND ",
        live_session!("$2", "$3", "$4")
    ))
    .bind(user_id)
    .bind(now)
    .bind(idle)
    .bind(remember_idle)
    .fetch_one(&mut *conn)
    .await
}

/// A user's live sessions, most recently active first.
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user_id: UserId,
    live: LiveBounds,
) -> Result<Vec<SessionSummary>, sqlx::Error> {
    let (now, idle, remember_idle) = live.bind();
    sqlx::query_as(concat!(
        "SELECT ",
        summary_columns!(),
        " WHERE s.user_id = $1 AND ",
        live_session!("$2", "$3", "$4"),
        " ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $5"
    ))
    .bind(user_id)
    .bind(now)
    .bind(idle)
    .bind(remember_idle)
    .bind(MAX_OWN_SESSIONS_LISTED)
    .fetch_all(&mut *conn)
    .await
}

/// One page of every live session, most recently active first, optionally only for users whose
/// e-mail contains `email_filter`. Walks the `(last_seen_at, id)` index, so the first page stays
/// cheap however many rows exist.
pub async fn list_all(
    conn: &mut AnyConnection,
    email_filter: &str,
    live: LiveBounds,
    limit: i64,
    offset: i64,
) -> Result<Vec<SessionSummary>, sqlx::Error> {
    let (now, idle, remember_idle) = live.bind();
    // Two fixed statements rather than `($6 = '' OR …)`: without a filter the planner walks the
    // activity index and stops after one page.
    let query = if email_filter.is_empty() {
        sqlx::query_as(concat!(
            "SELECT ",
            summary_columns!(),
            " WHERE ",
            live_session!("$1", "$2", "$3"),
            " ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $4 OFFSET $5"
        ))
    } else {
        sqlx::query_as(concat!(
            "SELECT ",
            summary_columns!(),
            " WHERE ",
            live_session!("$1", "$2", "$3"),
            " AND u.email LIKE $6 ESCAPE '\\' \
             ORDER BY s.last_seen_at DESC, s.id DESC LIMIT $4 OFFSET $5"
        ))
    };
    let query = query
        .bind(now)
        .bind(idle)
        .bind(remember_idle)
        .bind(limit)
        .bind(offset);
    let query = if email_filter.is_empty() {
        query
    } else {
        query.bind(like_pattern(email_filter))
    };
    query.fetch_all(&mut *conn).await
}

/// Live sessions and distinct signed-in users, optionally for matching e-mails only.
pub async fn counts(
    conn: &mut AnyConnection,
    email_filter: &str,
    live: LiveBounds,
) -> Result<SessionCounts, sqlx::Error> {
    let (now, idle, remember_idle) = live.bind();
    let (live_sessions, signed_in_users): (i64, i64) = sqlx::query_as(concat!(
        "SELECT COUNT(*), COUNT(DISTINCT s.user_id) FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE ",
        live_session!("$1", "$2", "$3"),
        " AND ($4 = '' OR u.email LIKE $5 ESCAPE '\\')"
    ))
    .bind(now)
    .bind(idle)
    .bind(remember_idle)
    .bind(email_filter)
    .bind(like_pattern(email_filter))
    .fetch_one(&mut *conn)
    .await?;
    Ok(SessionCounts {
        live_sessions,
        signed_in_users,
    })
}

/// Deletes up to `batch` rows that are no longer live; returns how many. Small batches keep each
/// write short so requests never queue behind a purge.
pub async fn purge_expired_batch(
    conn: &mut AnyConnection,
    live: LiveBounds,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let (now, idle, remember_idle) = live.bind();
    let result = sqlx::query(concat!(
        "DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s WHERE ",
        not_live_session!("$1", "$2", "$3"),
        " LIMIT $4)"
    ))
    .bind(now)
    .bind(idle)
    .bind(remember_idle)
    .bind(batch)
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_liveness_rule_honours_both_limits_and_the_remembered_idle_limit() {
        let limits = SessionLimits {
            idle: 100,
            absolute: 1_000,
            remember_idle: 500,
            remember_absolute: 5_000,
        };
        let live = limits.live_at(10_000);
        assert!(live.admits(10_001, 9_950, false));
        assert!(!live.admits(10_000, 9_950, false), "absolute limit reached");
        assert!(
            !live.admits(10_001, 9_900, false),
            "idle for the whole limit"
        );
        assert!(
            live.admits(10_001, 9_900, true),
            "remembered rows idle longer"
        );
        assert!(!live.admits(10_001, 9_500, true));
    }
}
