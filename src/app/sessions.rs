//! Use cases around live sessions: finding the one behind a cookie, signing out, ending one's own
//! or anyone's sessions, and the listings.

use super::{AccountRef, Actor, App};
use crate::app::error::AppResult;
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::hash_token;
use crate::auth::session::{self, SessionCounts, SessionSummary};
use crate::auth::CurrentSession;
use crate::mail::messages;
use crate::users::devices::KnownDevice;
use crate::users::User;

/// The live session behind a cookie token (the request guard's one call): from memory while the
/// write generation says nothing changed since it was loaded (see [`crate::cache::generation`]),
/// otherwise from the database.
pub async fn current(app: &App, token: &str) -> AppResult<Option<session::ActiveSession>> {
    let now = app.clock.now();
    let token_hash = hash_token(token);
    // Read before the database: whatever is loaded below is tagged with it, so a commit that
    // lands in between leaves the entry unusable.
    let generation = app.db.generation.read();
    if let Some(generation) = generation {
        if let Some(cached) = app.session_cache.get(&token_hash, generation) {
            // The entry's activity time is never later than the row's, so an entry live by its
            // own timestamps is live in the database too; one that looks idle is read again (the
            // row may have been used on another instance).
            let live = app.limits.live_at(now);
            if live.admits(cached.expires_at, cached.last_seen_at, cached.remember) {
                app.metrics.session_cache(true);
                return Ok(Some(touch_cached(app, &token_hash, cached, now).await?));
            }
        }
    }
    if generation.is_some() {
        app.metrics.session_cache(false);
    }
    let mut conn = app.db.read().await?;
    let found = session::find_active(&mut conn, &token_hash, &app.limits, now).await?;
    if let (Some(generation), Some(session)) = (generation, &found) {
        app.session_cache
            .put(token_hash, generation, session.clone());
    }
    Ok(found)
}

/// Writes a cached session's activity time when it is due (the only database work a cached
/// request may do), and remembers it in the entry.
async fn touch_cached(
    app: &App,
    token_hash: &str,
    mut cached: session::ActiveSession,
    now: i64,
) -> AppResult<session::ActiveSession> {
    if app.limits.touch_due(&cached, now) {
        session::touch(&mut *app.db.read().await?, cached.id, now).await?;
        app.session_cache.seen(token_hash, now);
        cached.last_seen_at = now;
    }
    Ok(cached)
}

/// An event of `kind` by the signed-in person about their own session.
pub(super) fn own_event(current: &CurrentSession, kind: EventKind, origin: &Origin) -> Event {
    let session = &current.session;
    Event::new(kind, origin)
        .actor(session.user_id)
        .subject(session.user_id)
        .session(&session.handle)
}

/// Signs out: the session row is deleted and the event written together.
pub async fn sign_out(app: &App, current: &CurrentSession, origin: &Origin) -> AppResult<()> {
    let mut tx = app.db.begin_write().await?;
    session::delete_by_token(&mut tx, current.token()).await?;
    let event = own_event(current, EventKind::Logout, origin);
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// How ending one of one's own sessions went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOwn {
    Ended {
        was_current: bool,
    },
    /// Not among the person's live sessions: ended already, or someone else's. The two get one
    /// answer, so the form cannot be used to learn whether another person's session exists.
    NotLive,
}

/// Ends one of the signed-in person's sessions by its handle.
pub async fn revoke_own(
    app: &App,
    current: &CurrentSession,
    handle: &str,
    origin: &Origin,
) -> AppResult<RevokeOwn> {
    let owner = current.session.user_id;
    let mut tx = app.db.begin_write().await?;
    if !session::delete_own(&mut tx, owner, handle).await? {
        tx.rollback().await?;
        return Ok(RevokeOwn::NotLive);
    }
    let event = Event::new(EventKind::SessionRevoked, origin)
        .actor(owner)
        .subject(owner)
        .session(handle)
        .detail("by its owner");
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(RevokeOwn::Ended {
        was_current: handle == current.session.handle,
    })
}

/// Ends every other session of the signed-in person; returns how many ended.
pub async fn revoke_others(app: &App, current: &CurrentSession, origin: &Origin) -> AppResult<u64> {
    let session = &current.session;
    let mut tx = app.db.begin_write().await?;
    let ended = session::delete_for_user(&mut tx, session.user_id, Some(session.id)).await?;
    let event = own_event(current, EventKind::OtherSessionsRevoked, origin)
        .detail(format!("{ended} session(s) ended"));
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(ended)
}

/// How an administrator's revocation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoke {
    Revoked { own_session: bool },
    AlreadyEnded,
}

/// Ends any session by its handle (administrators).
pub async fn revoke(app: &App, actor: &Actor, handle: &str) -> AppResult<Revoke> {
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(owner) = session::delete_by_handle(&mut tx, handle).await? else {
        tx.rollback().await?;
        return Ok(Revoke::AlreadyEnded);
    };
    let event = actor
        .event(EventKind::SessionRevoked)
        .subject(owner)
        .session(handle)
        .detail("by an administrator");
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(Revoke::Revoked {
        own_session: actor.acts_through(handle),
    })
}

/// Someone signed out everywhere.
#[derive(Debug)]
pub struct ForcedOut {
    pub user: User,
    pub ended: u64,
}

/// Ends every session of an account (force logout); `None` when there is no such account.
pub async fn force_logout(
    app: &App,
    actor: &Actor,
    target: AccountRef<'_>,
) -> AppResult<Option<ForcedOut>> {
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(user) = target.load(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let ended = session::delete_for_user(&mut tx, user.id, None).await?;
    KnownDevice::delete_for_user(&mut tx, user.id).await?;
    let event = actor
        .event(EventKind::UserForceLoggedOut)
        .subject(user.id)
        .detail(format!("{ended} session(s) ended"));
    let now = app.clock.now();
    audit::record(&mut tx, now, event).await?;
    let letter = messages::signed_out_everywhere(&app.mail.settings, &user, now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(Some(ForcedOut { user, ended }))
}

/// What /account/sessions lists: the person's live sessions and their trusted devices.
#[derive(Debug)]
pub struct OwnSessions {
    pub sessions: Vec<SessionSummary>,
    pub devices: Vec<KnownDevice>,
}

/// A person's own live sessions and known devices.
pub async fn own_sessions(app: &App, current: &CurrentSession) -> AppResult<OwnSessions> {
    let now = app.clock.now();
    let live = app.limits.live_at(now);
    let user_id = current.session.user_id;
    let mut conn = app.db.read().await?;
    Ok(OwnSessions {
        sessions: session::list_for_user(&mut conn, user_id, live).await?,
        devices: KnownDevice::list_for_user(&mut conn, user_id, now).await?,
    })
}

/// One page of everyone's live sessions and the counts over the filter.
pub async fn all_sessions(
    app: &App,
    email_filter: &str,
    limit: i64,
    offset: i64,
) -> AppResult<(SessionCounts, Vec<SessionSummary>)> {
    let live = app.limits.live_at(app.clock.now());
    let mut conn = app.db.read().await?;
    let counts = session::counts(&mut conn, email_filter, live).await?;
    let rows = session::list_all(&mut conn, email_filter, live, limit, offset).await?;
    Ok((counts, rows))
}

/// Every live session of one account (`None`: no such account), for the command line.
pub async fn sessions_of(
    app: &App,
    target: AccountRef<'_>,
) -> AppResult<Option<(User, Vec<SessionSummary>)>> {
    let live = app.limits.live_at(app.clock.now());
    let mut conn = app.db.read().await?;
    let Some(user) = target.load(&mut conn).await? else {
        return Ok(None);
    };
    let rows = session::list_for_user(&mut conn, user.id, live).await?;
    Ok(Some((user, rows)))
}
