//! Changing one's own password, and what every password change takes with it.

use super::sessions::own_event;
use super::sign_in::{check_current_password, PasswordCheck};
use super::App;
use crate::app::error::AppResult;
use crate::audit::EventKind;
use crate::audit::{self, Origin};
use crate::auth::CurrentSession;
use crate::auth::{pending_login, session, IssuedSession};
use crate::ids::UserId;
use crate::mail::messages;
use crate::users::devices::KnownDevice;
use crate::users::links;
use crate::users::password::{check_new_password, Password, PasswordPolicyError};
use crate::users::User;

/// The password form as posted.
#[derive(Debug)]
pub struct PasswordChangeForm<'a> {
    pub current: &'a Password,
    pub new: &'a Password,
    pub confirmation: &'a Password,
}

/// How a password change went.
#[derive(Debug)]
pub enum PasswordChange {
    /// Stored; every other session ended. `rotated` is the current session with a new token
    /// (`None` if it was revoked meanwhile: then the person signs in again).
    Changed {
        rotated: Option<IssuedSession>,
        ended: u64,
    },
    /// Nothing changed.
    Refused(PasswordRefusal),
}

/// Why a password change was refused (worded by `web::refusals`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    WrongCurrentPassword,
    /// The new password breaks a rule.
    Policy(PasswordPolicyError),
    SameAsCurrent,
}

/// Changes the signed-in person's password: the new hash, the end of every other session, the
/// current session's new token and the event are one transaction, so a crash cannot leave the
/// change half done. The current-password check is a password guess like any other: throttled.
pub async fn change_password(
    app: &App,
    current: &CurrentSession,
    form: PasswordChangeForm<'_>,
    origin: &Origin,
) -> AppResult<PasswordChange> {
    let session = &current.session;
    let email = session.user_email.as_str();
    let Some(user) =
        check_current_password(app, current, form.current, origin, PasswordCheck::Complete).await?
    else {
        return Ok(PasswordChange::Refused(
            PasswordRefusal::WrongCurrentPassword,
        ));
    };
    if let Err(error) = check_new_password(form.new, form.confirmation, email) {
        return Ok(PasswordChange::Refused(PasswordRefusal::Policy(error)));
    }
    if form.new == form.current {
        return Ok(PasswordChange::Refused(PasswordRefusal::SameAsCurrent));
    }
    let hash = app.passwords.hash(form.new.expose()).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    replace(&mut tx, user.id, &hash, false, now).await?;
    let ended = session::delete_for_user(&mut tx, user.id, Some(session.id)).await?;
    let rotated = session::rotate(&mut tx, session, current.token(), now).await?;
    let event = own_event(current, EventKind::PasswordChanged, origin)
        .detail(format!("{ended} other session(s) ended"));
    audit::record(&mut tx, now, event).await?;
    let letter = messages::password_changed(&app.mail.settings, &user, "by you", now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(PasswordChange::Changed { rotated, ended })
}

/// Stores a new password hash (`must_change`: one an administrator chose) in the caller's
/// transaction, with what dies with the old password: every reset or invitation link of the
/// account, every sign-in waiting for its second step, and the trust of every known device.
pub(super) async fn replace(
    tx: &mut sqlx::AnyConnection,
    user_id: UserId,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    User::set_password_hash(tx, user_id, hash, must_change, now).await?;
    links::delete_for_user(tx, user_id).await?;
    pending_login::delete_for_user(tx, user_id).await?;
    KnownDevice::delete_for_user(tx, user_id).await?;
    Ok(())
}
