//! Second factors added in the last 24 hours, which a password reset link offers to remove.
//!
//! Someone who held a stolen session could add their own authenticator app or passkey (with the
//! step-up, only within ten minutes of the owner's sign-in or with the password). The owner's way
//! back is the reset link in their mailbox: its page lists what was added lately and, unless the
//! person unticks it, removes it in the same transaction as the new password, with its own audit
//! row. Older factors stay: the person added them long before and would lose them for nothing.

use serde::Serialize;

use crate::audit::{self, Event, EventKind, Origin};
use crate::ids::UserId;
use crate::users::passkeys::Passkeys;
use crate::users::two_factor::TwoFactorRow;
use crate::users::User;

/// How far back a reset link offers to remove second factors.
pub const RECENT_FACTOR_SECONDS: i64 = 24 * 60 * 60;

/// One second factor added within [`RECENT_FACTOR_SECONDS`], as the reset page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RecentFactor {
    /// "An authenticator app" or "The passkey “name”".
    pub what: String,
    pub added_at: i64,
}

/// The account's second factors added in the last 24 hours, oldest first.
pub async fn list(
    conn: &mut sqlx::AnyConnection,
    user_id: UserId,
    now: i64,
) -> Result<Vec<RecentFactor>, sqlx::Error> {
    let since = now - RECENT_FACTOR_SECONDS;
    let mut recent = Vec::new();
    if let Some(enabled_at) = TwoFactorRow::find(conn, user_id)
        .await?
        .and_then(|row| row.enabled_at)
        .filter(|at| *at >= since)
    {
        recent.push(RecentFactor {
            what: "An authenticator app (with its recovery codes)".to_string(),
            added_at: enabled_at,
        });
    }
    for (name, added_at) in Passkeys::added_since(conn, user_id, since).await? {
        recent.push(RecentFactor {
            what: format!("The passkey “{name}”"),
            added_at,
        });
    }
    recent.sort_by_key(|factor| factor.added_at);
    Ok(recent)
}

/// Removes the account's second factors added in the last 24 hours, inside the reset's
/// transaction, with an audit row when anything went. What was removed, for the event.
pub async fn remove(
    tx: &mut sqlx::AnyConnection,
    user: &User,
    origin: &Origin,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let since = now - RECENT_FACTOR_SECONDS;
    let mut removed = Vec::new();
    let recent_totp = TwoFactorRow::find(tx, user.id)
        .await?
        .and_then(|row| row.enabled_at)
        .is_some_and(|at| at >= since);
    if recent_totp && TwoFactorRow::remove(tx, user.id).await? {
        removed.push("authenticator app and recovery codes".to_string());
    }
    for name in Passkeys::delete_added_since(tx, user.id, since).await? {
        removed.push(format!("passkey \"{name}\""));
    }
    if !removed.is_empty() {
        let event = Event::new(EventKind::RecentFactorsRemoved, origin)
            .actor(user.id)
            .subject(user.id)
            .detail(format!("with the reset link: {}", removed.join(", ")));
        audit::record(tx, now, event).await?;
    }
    Ok(removed)
}
