//! Use cases around the second factor: enrolling an authenticator, turning it off, new recovery
//! codes, the step-up a sensitive change asks of an account with one, and the administrator's
//! reset. (The code step of a sign-in is `sign_in::code`.)

use super::sessions::own_event;
use super::sign_in::code::open_secret;
use super::step_up::{self, spend_password_and_code, PresenceRefusal, SpentCode, StepUp};
use super::{AccountRef, Actor, App};
use crate::app::error::AppResult;
use crate::audit::{self, EventKind, Origin};
use crate::auth::session;
use crate::auth::{pending_login, CurrentSession};
use crate::ids::UserId;
use crate::mail::messages;
use crate::secret::Secret;
use crate::users::devices::KnownDevice;
use crate::users::passkeys::Passkeys;
use crate::users::password::Password;
use crate::users::totp::{new_recovery_codes, TotpSecret, TypedCode};
use crate::users::two_factor::{RecoveryCodes, TwoFactorRow};
use crate::users::User;

/// The name authenticator apps list the account under.
const ISSUER: &str = "HR Portal";

/// What /account/two-factor shows.
#[derive(Debug)]
pub enum TwoFactorStatus {
    /// Switched on since `since`; `recovery_codes_left` unused codes remain.
    On {
        since: i64,
        recovery_codes_left: i64,
    },
    /// Not on yet: the secret to add to an authenticator app, as text and as a QR code.
    Enrolling(Enrolment),
    /// Not on, and the sign-in is too old to show a secret: the person confirms who they are
    /// first (the one rule for adding a way in, see `step_up`). No secret was made or shown.
    StepUpFirst(StepUp),
}

/// A secret waiting for its first code, as text and as a QR code (both show the secret).
#[derive(Debug)]
pub struct Enrolment {
    pub base32: Secret<String>,
    pub qr_svg: Secret<String>,
    pub account: String,
}

fn enrolment(secret: &TotpSecret, current: &CurrentSession) -> Enrolment {
    let account = current.session.user_email.as_str().to_string();
    Enrolment {
        base32: secret.base32().into(),
        qr_svg: secret.qr_svg(ISSUER, &account).into(),
        account,
    }
}

/// The two-factor page: the state of the person's factor. When it is not on, a secret waits for
/// confirmation (made on the first visit and kept until confirmed, so reloading the page shows the
/// same one; a secret that no longer opens — the secret key changed — is replaced). The secret is
/// shown only to a fresh sign-in or to one that `proved` its presence (see [`reveal`]).
pub async fn status(
    app: &App,
    current: &CurrentSession,
    proved: bool,
) -> AppResult<TwoFactorStatus> {
    let user_id = current.session.user_id;
    let mut conn = app.db.read().await?;
    let row = TwoFactorRow::find(&mut conn, user_id).await?;
    if let Some(row) = &row {
        if let Some(since) = row.enabled_at {
            let left = RecoveryCodes::unused(&mut conn, user_id).await?;
            return Ok(TwoFactorStatus::On {
                since,
                recovery_codes_left: left,
            });
        }
    }
    let needed = step_up::step_up(app, current);
    if needed != StepUp::Nothing && !proved {
        return Ok(TwoFactorStatus::StepUpFirst(needed));
    }
    if let Some(row) = &row {
        if let Some(secret) = open_secret(app, row) {
            return Ok(TwoFactorStatus::Enrolling(enrolment(&secret, current)));
        }
    }
    drop(conn);
    let secret = TotpSecret::generate();
    let mut tx = app.db.begin_write().await?;
    let stored = TwoFactorRow::start(
        &mut tx,
        &app.two_factor.sealer,
        user_id,
        &secret,
        app.clock.now(),
    )
    .await?;
    tx.commit().await?;
    if !stored {
        // Switched on by another tab in the meantime: show that.
        return Box::pin(status(app, current, proved)).await;
    }
    Ok(TwoFactorStatus::Enrolling(enrolment(&secret, current)))
}

/// How confirming one's presence before enrolling went.
#[derive(Debug)]
pub enum Revealed {
    /// A new secret waits (any secret shown before is replaced; [`status`] with the proof shows
    /// it), and the proof of presence the confirming post carries, so the password is typed once.
    Secret { proof: Secret<String> },
    /// Nothing shown.
    Refused(PresenceRefusal),
}

/// A sign-in older than ten minutes asks for the password (and a code) before a secret is
/// shown: the first of the two posts of a late enrolment.
pub async fn reveal(
    app: &App,
    current: &CurrentSession,
    confirmation: &step_up::Confirmation<'_>,
    origin: &Origin,
) -> AppResult<Revealed> {
    if let Err(why) = step_up::confirm_presence(app, current, confirmation, origin).await? {
        return Ok(Revealed::Refused(why));
    }
    let secret = TotpSecret::generate();
    let mut tx = app.db.begin_write().await?;
    let user_id = current.session.user_id;
    let now = app.clock.now();
    TwoFactorRow::start(&mut tx, &app.two_factor.sealer, user_id, &secret, now).await?;
    tx.commit().await?;
    Ok(Revealed::Secret {
        proof: step_up::presence_proof(app, current).into(),
    })
}

/// How confirming an enrolment went.
#[derive(Debug)]
pub enum Confirmation {
    /// On; the recovery codes to show this once (only their hashes are kept).
    On { recovery_codes: Secret<Vec<String>> },
    /// The code is not the authenticator's current one; nothing changed.
    WrongCode,
    /// It was already on (another tab): nothing changed.
    AlreadyOn,
    /// The sign-in is not fresh and no proof of presence came with the code: nothing changed;
    /// what was missing.
    StepUpNeeded(PresenceRefusal),
}

/// Switches two-factor on once the person typed the current code of the secret they were shown.
/// A sign-in older than ten minutes must bring the proof [`reveal`] gave it, or the password (the
/// one rule for adding a way in).
pub async fn confirm(
    app: &App,
    current: &CurrentSession,
    code: &str,
    presence: Presence<'_>,
    origin: &Origin,
) -> AppResult<Confirmation> {
    if !step_up::holds_presence_proof(app, current, presence.proof.expose()) {
        let confirmation = &presence.confirmation;
        if let Err(why) = step_up::confirm_presence(app, current, confirmation, origin).await? {
            return Ok(Confirmation::StepUpNeeded(why));
        }
    }
    let user_id = current.session.user_id;
    let now = app.clock.now();
    let row = TwoFactorRow::find(&mut *app.db.read().await?, user_id).await?;
    let Some(row) = row else {
        return Ok(Confirmation::WrongCode);
    };
    if row.is_enabled() {
        return Ok(Confirmation::AlreadyOn);
    }
    let step = match (open_secret(app, &row), TypedCode::parse(code)) {
        (Some(secret), TypedCode::Totp(code)) => secret.matching_step(&code, now, 0),
        _ => None,
    };
    let Some(step) = step else {
        return Ok(Confirmation::WrongCode);
    };
    let recovery_codes = new_recovery_codes();
    let mut tx = app.db.begin_write().await?;
    let Some(user) = User::find_by_id(&mut tx, user_id).await? else {
        tx.rollback().await?;
        return Ok(Confirmation::WrongCode);
    };
    if !TwoFactorRow::enable(&mut tx, user_id, step, now).await? {
        tx.rollback().await?;
        return Ok(Confirmation::AlreadyOn);
    }
    RecoveryCodes::replace(&mut tx, user_id, &recovery_codes, now).await?;
    let event = own_event(current, EventKind::TwoFactorEnabled, origin);
    audit::record(&mut tx, now, event).await?;
    let letter = messages::two_factor_changed(&app.mail.settings, &user, "turned on", now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(Confirmation::On {
        recovery_codes: recovery_codes.into(),
    })
}

/// What an enrolment's confirming post brings to show the person is present: the proof from
/// [`reveal`], or the password (and code) typed again.
#[derive(Debug)]
pub struct Presence<'a> {
    pub proof: Secret<&'a str>,
    pub confirmation: step_up::Confirmation<'a>,
}

/// How a change that needs the password and a current code went.
#[derive(Debug)]
pub enum Confirmed<T> {
    Done(T),
    /// Nothing changed.
    Refused(PresenceRefusal),
}

/// Turns two-factor off (the password and a current code are needed), audited and mailed.
pub async fn turn_off(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Confirmed<()>> {
    let SpentCode {
        mut tx,
        user,
        method,
    } = match spend_password_and_code(app, current, password, code, origin).await? {
        Ok(spent) => spent,
        Err(refusal) => return Ok(Confirmed::Refused(refusal)),
    };
    let now = app.clock.now();
    TwoFactorRow::remove(&mut tx, user.id).await?;
    let event = own_event(current, EventKind::TwoFactorDisabled, origin)
        .detail(format!("confirmed with {method}"));
    audit::record(&mut tx, now, event).await?;
    let letter = messages::two_factor_changed(&app.mail.settings, &user, "turned off", now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(Confirmed::Done(()))
}

/// Replaces the recovery codes (the password and a current code are needed); the new codes, to
/// show once.
pub async fn renew_recovery_codes(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Confirmed<Secret<Vec<String>>>> {
    let codes = new_recovery_codes();
    let SpentCode { mut tx, user, .. } =
        match spend_password_and_code(app, current, password, code, origin).await? {
            Ok(spent) => spent,
            Err(refusal) => return Ok(Confirmed::Refused(refusal)),
        };
    let now = app.clock.now();
    RecoveryCodes::replace(&mut tx, user.id, &codes, now).await?;
    let event = own_event(current, EventKind::RecoveryCodesRenewed, origin);
    audit::record(&mut tx, now, event).await?;
    let letter = messages::recovery_codes_renewed(&app.mail.settings, &user, now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(Confirmed::Done(codes.into()))
}

/// An administrator's (or the operator's) reset of someone's second factor.
#[derive(Debug)]
pub struct TwoFactorReset {
    pub user: User,
    /// Whether the account had two-factor on (a reset of an account without it changes nothing
    /// but still ends its sessions, as asked).
    pub had_two_factor: bool,
    /// How many passkeys were removed with it.
    pub passkeys_removed: u64,
    pub ended: u64,
}

impl TwoFactorReset {
    /// What was removed, for the event, the page and the command line.
    pub fn summary(&self) -> String {
        match (self.had_two_factor, self.passkeys_removed) {
            (false, 0) => "no second factor was on".to_string(),
            (true, 0) => "authenticator and recovery codes removed".to_string(),
            (false, n) => format!("{n} passkey(s) removed"),
            (true, n) => format!("authenticator, recovery codes and {n} passkey(s) removed"),
        }
    }
}

/// Removes an account's second factor, recovery codes and passkeys, cancels its pending sign-ins,
/// ends every session, and mails the person: the next sign-in needs the password alone. `None`:
/// no account.
pub async fn reset(
    app: &App,
    actor: &Actor,
    target: AccountRef<'_>,
) -> AppResult<Option<TwoFactorReset>> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(user) = target.load(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let had_two_factor = TwoFactorRow::remove(&mut tx, user.id).await?;
    let passkeys_removed = Passkeys::delete_for_user(&mut tx, user.id).await?;
    pending_login::delete_for_user(&mut tx, user.id).await?;
    KnownDevice::delete_for_user(&mut tx, user.id).await?;
    let ended = session::delete_for_user(&mut tx, user.id, None).await?;
    let reset = TwoFactorReset {
        user,
        had_two_factor,
        passkeys_removed,
        ended,
    };
    let event = actor
        .event(EventKind::TwoFactorReset)
        .subject(reset.user.id)
        .detail(format!("{}; {ended} session(s) ended", reset.summary()));
    audit::record(&mut tx, now, event).await?;
    let letter = messages::two_factor_reset(&app.mail.settings, &reset.user, now);
    app.queue_mail(&mut tx, &reset.user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(Some(reset))
}

/// Which of these accounts have two-factor on (the users list).
pub async fn enabled_among(app: &App, users: &[UserId]) -> AppResult<Vec<UserId>> {
    let mut conn = app.db.read().await?;
    Ok(TwoFactorRow::enabled_among(&mut conn, users).await?)
}
