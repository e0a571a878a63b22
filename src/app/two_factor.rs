//! Use cases around the second factor and known devices: enrolling an authenticator, the code
//! step of a sign-in, turning it off, new recovery codes, the administrator's reset, and the
//! person's trusted devices and new-sign-in notices.

use super::sessions::{
    check_current_password, count_guess, own_event, start_session, Completion, Factors,
    PasswordCheck, SignedIn,
};
use super::step_up::{self, StepUp};
use super::{AccountRef, Actor, App};
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::session;
use crate::auth::{pending_login, CurrentSession};
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::mail::messages;
use crate::users::devices::{DeviceOwner, KnownDevice};
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

/// A secret waiting for its first code. (`Debug` redacts the secret.)
pub struct Enrolment {
    pub base32: String,
    pub qr_svg: String,
    pub account: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

fn enrolment(secret: &TotpSecret, current: &CurrentSession) -> Enrolment {
    let account = current.session.user_email.as_str().to_string();
    Enrolment {
        base32: secret.base32(),
        qr_svg: secret.qr_svg(ISSUER, &account),
        account,
    }
}

/// The row's secret, if it opens under this app's secret key.
fn open_secret(app: &App, row: &TwoFactorRow) -> Option<TotpSecret> {
    row.secret(&app.two_factor.sealer)
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
    Secret { proof: String },
    /// Nothing shown; the message says why.
    Refused(&'static str),
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
        proof: step_up::presence_proof(app, current),
    })
}

/// How confirming an enrolment went. (`Debug` by hand: the codes are secrets.)
pub enum Confirmation {
    /// On; the recovery codes to show this once (only their hashes are kept).
    On { recovery_codes: Vec<String> },
    /// The code is not the authenticator's current one; nothing changed.
    WrongCode,
    /// It was already on (another tab): nothing changed.
    AlreadyOn,
    /// The sign-in is not fresh and no proof of presence came with the code: nothing changed;
    /// the message says what to do.
    StepUpNeeded(&'static str),
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
    if !step_up::holds_presence_proof(app, current, presence.proof) {
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
    Ok(Confirmation::On { recovery_codes })
}

impl std::fmt::Debug for Confirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confirmation::On { .. } => "On { recovery_codes: <redacted> }",
            Confirmation::WrongCode => "WrongCode",
            Confirmation::AlreadyOn => "AlreadyOn",
            Confirmation::StepUpNeeded(_) => "StepUpNeeded",
        })
    }
}

/// What an enrolment's confirming post brings to show the person is present: the proof from
/// [`reveal`], or the password (and code) typed again.
#[derive(Debug)]
pub struct Presence<'a> {
    pub proof: &'a str,
    pub confirmation: step_up::Confirmation<'a>,
}

/// Why a code was not accepted (the audit detail; the person sees one message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeRefusal {
    NotACode,
    Wrong,
    Reused,
    UnknownRecoveryCode,
    SecretUnreadable,
}

impl CodeRefusal {
    fn as_str(self) -> &'static str {
        match self {
            CodeRefusal::NotACode => "not a code",
            CodeRefusal::Wrong => "wrong code",
            CodeRefusal::Reused => "code already used",
            CodeRefusal::UnknownRecoveryCode => "recovery code unknown or already used",
            CodeRefusal::SecretUnreadable => "stored secret does not open under this secret key",
        }
    }
}

/// A code that checked out, not yet used up: the use happens in the transaction that acts on it.
/// (No `Debug`: a recovery code is a secret.)
#[derive(Clone)]
enum AcceptedCode {
    Totp { step: i64 },
    Recovery { compact: String },
}

impl AcceptedCode {
    fn method(&self) -> &'static str {
        match self {
            AcceptedCode::Totp { .. } => "authenticator code",
            AcceptedCode::Recovery { .. } => "recovery code",
        }
    }

    /// Uses the code up in `tx`: a TOTP step is recorded (no replay), a recovery code is spent.
    /// False when a parallel request used it first.
    async fn spend(
        &self,
        tx: &mut sqlx::AnyConnection,
        user_id: UserId,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        match self {
            AcceptedCode::Totp { step } => TwoFactorRow::use_step(tx, user_id, *step).await,
            AcceptedCode::Recovery { compact } => {
                RecoveryCodes::consume(tx, user_id, compact, now).await
            }
        }
    }
}

/// Checks `code` against a switched-on factor. A recovery code is only recognised here, and is
/// proven when [`AcceptedCode::spend`] finds it unused.
fn check_code(
    app: &App,
    row: &TwoFactorRow,
    code: &str,
    now: i64,
) -> Result<AcceptedCode, CodeRefusal> {
    match TypedCode::parse(code) {
        TypedCode::Malformed => Err(CodeRefusal::NotACode),
        TypedCode::Recovery(compact) => Ok(AcceptedCode::Recovery { compact }),
        TypedCode::Totp(code) => {
            let secret = open_secret(app, row).ok_or(CodeRefusal::SecretUnreadable)?;
            match secret.matching_step(&code, now, row.last_used_step) {
                Some(step) => Ok(AcceptedCode::Totp { step }),
                None if secret.matching_step(&code, now, -1).is_some() => Err(CodeRefusal::Reused),
                None => Err(CodeRefusal::Wrong),
            }
        }
    }
}

/// The code step of a sign-in, as posted. (`Debug` by hand: the tokens are secrets.)
pub struct CodeAttempt<'a> {
    /// The token in the pending-login cookie (`None`: the browser has none).
    pub pending: Option<&'a str>,
    pub code: &'a str,
    pub replacing: Option<&'a str>,
    pub device_tokens: &'a [String],
}

impl std::fmt::Debug for CodeAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeAttempt")
            .field("pending", &self.pending.map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// How the code step went. A throttled attempt is an `AppError::Throttled` (429).
#[derive(Debug)]
pub enum CodeStep {
    SignedIn(Box<SignedIn>),
    /// Wrong, reused or malformed code: the person may try again (within the limits).
    WrongCode,
    /// No pending sign-in behind the cookie (none, forged, used, past its five minutes, or the
    /// account was disabled or its password changed): start again from the password.
    Expired,
}

/// Whether the browser's pending sign-in is still open (the code form is shown only then).
pub async fn pending_is_open(app: &App, pending: Option<&str>) -> AppResult<bool> {
    let Some(token) = pending else {
        return Ok(false);
    };
    let mut conn = app.db.read().await?;
    Ok(pending_login::find(&mut conn, token, app.clock.now())
        .await?
        .is_some())
}

/// The second step: with a right code, the pending sign-in is used up and the session starts
/// (exactly as after a password alone: new token, the browser's old session replaced, device
/// cookie, new-device mail, event). Every refusal is audited.
pub async fn complete_sign_in(
    app: &App,
    attempt: CodeAttempt<'_>,
    origin: &Origin,
) -> AppResult<CodeStep> {
    let now = app.clock.now();
    let expired = |user: Option<&User>, why: &str| {
        let mut event = Event::new(EventKind::TwoFactorFailed, origin).detail(why);
        if let Some(user) = user {
            event = event.subject(user.id).email(user.email.as_str());
        }
        event
    };
    let pending = match attempt.pending {
        Some(token) => pending_login::find(&mut *app.db.read().await?, token, now).await?,
        None => None,
    };
    let Some(pending) = pending else {
        // Counted against the address before it is audited, so a flood of code posts without a
        // pending sign-in writes at most the address limit's worth of rows.
        let mut tx = app.db.begin_write().await?;
        let ip = origin.ip.as_deref();
        let attempt = app
            .throttle
            .register_address_attempt(&mut tx, ip, now)
            .await?;
        tx.commit().await?;
        if let Some(retry_after) = attempt.refused() {
            let scope = app.throttle.scope;
            return Err(AppError::Throttled { retry_after, scope });
        }
        let why = "no pending sign-in (expired, used, or never started)";
        app.record_alone(expired(None, why)).await?;
        return Ok(CodeStep::Expired);
    };
    let mut conn = app.db.read().await?;
    let user = User::find_by_id(&mut conn, pending.user_id).await?;
    let row = TwoFactorRow::find(&mut conn, pending.user_id).await?;
    let owner = DeviceOwner::Id(pending.user_id);
    let device = KnownDevice::recognise(&mut conn, attempt.device_tokens, owner, now).await?;
    drop(conn);
    let (user, row) = match (user, row) {
        (Some(user), Some(row)) if !user.disabled && row.is_enabled() => (user, row),
        (user, _) => {
            let why = "account disabled or two-factor reset since the password step";
            app.record_alone(expired(user.as_ref(), why)).await?;
            return Ok(CodeStep::Expired);
        }
    };
    count_guess(app, user.email.as_str(), device.as_ref(), origin, now).await?;
    let refused = |reason: CodeRefusal| {
        Event::new(EventKind::TwoFactorFailed, origin)
            .subject(user.id)
            .email(user.email.as_str())
            .detail(reason.as_str())
    };
    let accepted = match check_code(app, &row, attempt.code, now) {
        Ok(accepted) => accepted,
        Err(reason) => {
            app.record_alone(refused(reason)).await?;
            return Ok(CodeStep::WrongCode);
        }
    };
    let mut tx = app.db.begin_write().await?;
    if !pending_login::consume(&mut tx, pending.id).await? {
        tx.rollback().await?;
        app.record_alone(expired(Some(&user), "pending sign-in already used"))
            .await?;
        return Ok(CodeStep::Expired);
    }
    if !accepted.spend(&mut tx, user.id, now).await? {
        tx.rollback().await?;
        let reason = match accepted {
            AcceptedCode::Totp { .. } => CodeRefusal::Reused,
            AcceptedCode::Recovery { .. } => CodeRefusal::UnknownRecoveryCode,
        };
        app.record_alone(refused(reason)).await?;
        return Ok(CodeStep::WrongCode);
    }
    let completion = Completion {
        remember: pending.remember(),
        replacing: attempt.replacing,
        device: device.as_ref(),
        factors: Factors::PasswordAndCode(accepted.method()),
    };
    let Some(signed_in) = start_session(app, &mut tx, &user, completion, origin, now).await? else {
        tx.rollback().await?;
        let why = "account changed during sign-in";
        app.record_alone(expired(Some(&user), why)).await?;
        return Ok(CodeStep::Expired);
    };
    tx.commit().await?;
    if signed_in.new_device.is_some() {
        app.mail_queued();
    }
    Ok(CodeStep::SignedIn(Box::new(signed_in)))
}

/// How a change that needs the password and a current code went. (`Debug` by hand: what is done
/// may be new recovery codes.)
pub enum Confirmed<T> {
    Done(T),
    /// Nothing changed; the message says why.
    Refused(&'static str),
}

impl<T> std::fmt::Debug for Confirmed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Confirmed::Done(_) => f.write_str("Done(<redacted>)"),
            Confirmed::Refused(why) => f.debug_tuple("Refused").field(why).finish(),
        }
    }
}

/// Checks the password and a current code (authenticator or recovery) of the signed-in person,
/// then runs `change` in the transaction that spends the code. Both checks are throttled guesses.
async fn with_password_and_code(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Result<(User, AcceptedCode), &'static str>> {
    let check = PasswordCheck::BeforeCode;
    let Some(user) = check_current_password(app, current, password, origin, check).await? else {
        return Ok(Err("Your password is incorrect."));
    };
    let now = app.clock.now();
    let row = TwoFactorRow::find(&mut *app.db.read().await?, user.id).await?;
    let Some(row) = row.filter(TwoFactorRow::is_enabled) else {
        return Ok(Err("Two-factor sign-in is not on."));
    };
    count_guess(app, user.email.as_str(), None, origin, now).await?;
    match check_code(app, &row, code, now) {
        Ok(accepted) => Ok(Ok((user, accepted))),
        Err(reason) => {
            let event =
                own_event(current, EventKind::TwoFactorFailed, origin).detail(reason.as_str());
            app.record_alone(event).await?;
            Ok(Err("That code is not right. Enter the current code from your authenticator app, or an unused recovery code."))
        }
    }
}

/// Checks the password and a current code, and spends the code (with the guesses settled): the
/// step-up a sensitive change asks of an account with two-factor. `Err` says what was wrong.
pub(super) async fn confirm_password_and_code(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Result<(), &'static str>> {
    let (user, accepted) =
        match with_password_and_code(app, current, password, code, origin).await? {
            Ok(checked) => checked,
            Err(message) => return Ok(Err(message)),
        };
    let mut tx = app.db.begin_write().await?;
    if !accepted.spend(&mut tx, user.id, app.clock.now()).await? {
        tx.rollback().await?;
        return Ok(Err("That code was already used."));
    }
    settle_guesses(app, &mut tx, &user, origin).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Both the password and the code were right: the account's failures are cleared and the code
/// guess's slot goes back to the address (the password's went back already).
async fn settle_guesses(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    user: &User,
    origin: &Origin,
) -> Result<(), sqlx::Error> {
    let ip = origin.ip.as_deref();
    app.throttle
        .record_success(tx, user.email.as_str(), ip)
        .await
}

/// Turns two-factor off (the password and a current code are needed), audited and mailed.
pub async fn turn_off(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Confirmed<()>> {
    let (user, accepted) =
        match with_password_and_code(app, current, password, code, origin).await? {
            Ok(checked) => checked,
            Err(message) => return Ok(Confirmed::Refused(message)),
        };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if !accepted.spend(&mut tx, user.id, now).await? {
        tx.rollback().await?;
        return Ok(Confirmed::Refused("That code was already used."));
    }
    settle_guesses(app, &mut tx, &user, origin).await?;
    TwoFactorRow::remove(&mut tx, user.id).await?;
    let event = own_event(current, EventKind::TwoFactorDisabled, origin)
        .detail(format!("confirmed with {}", accepted.method()));
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
) -> AppResult<Confirmed<Vec<String>>> {
    let (user, accepted) =
        match with_password_and_code(app, current, password, code, origin).await? {
            Ok(checked) => checked,
            Err(message) => return Ok(Confirmed::Refused(message)),
        };
    let now = app.clock.now();
    let codes = new_recovery_codes();
    let mut tx = app.db.begin_write().await?;
    if !accepted.spend(&mut tx, user.id, now).await? {
        tx.rollback().await?;
        return Ok(Confirmed::Refused("That code was already used."));
    }
    settle_guesses(app, &mut tx, &user, origin).await?;
    RecoveryCodes::replace(&mut tx, user.id, &codes, now).await?;
    let event = own_event(current, EventKind::RecoveryCodesRenewed, origin);
    audit::record(&mut tx, now, event).await?;
    let letter = messages::recovery_codes_renewed(&app.mail.settings, &user, now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(Confirmed::Done(codes))
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

/// Dismisses the new-sign-in notices (the person has seen them). Not audited: it changes only
/// what the dashboard shows.
pub async fn dismiss_notices(app: &App, current: &CurrentSession) -> AppResult<u64> {
    let mut tx = app.db.begin_write().await?;
    let dismissed = KnownDevice::acknowledge_all(&mut tx, current.session.user_id).await?;
    tx.commit().await?;
    Ok(dismissed)
}

/// Forgets one of the person's trusted devices: its next sign-in counts as new (throttled with
/// everyone else's and announced by mail). Whether it was theirs.
pub async fn forget_device(
    app: &App,
    current: &CurrentSession,
    handle: &str,
    origin: &Origin,
) -> AppResult<bool> {
    let mut tx = app.db.begin_write().await?;
    let user_id = current.session.user_id;
    let Some(device) = KnownDevice::delete_own(&mut tx, user_id, handle).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let described = crate::web::device::describe(device.user_agent.as_deref());
    let event = own_event(current, EventKind::DeviceForgotten, origin).detail(described);
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(true)
}
