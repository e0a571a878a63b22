//! The second step of a two-factor sign-in: a code from the authenticator app, or a recovery
//! code, against the pending sign-in the password step left. Checking a code is shared with the
//! changes that ask for one (`app::two_factor`).

use super::{count_guess, start_session, Completion, Factors, SignedIn};
use crate::app::error::{AppError, AppResult};
use crate::app::App;
use crate::audit::{Event, EventKind, Origin};
use crate::auth::pending_login;
use crate::ids::UserId;
use crate::metrics::SignInOutcome;
use crate::secret::Secret;
use crate::users::devices::{DeviceOwner, KnownDevice};
use crate::users::totp::{TotpSecret, TypedCode};
use crate::users::two_factor::{RecoveryCodes, TwoFactorRow};
use crate::users::User;

/// Why a code was not accepted (the audit detail; the person sees one message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::app) enum CodeRefusal {
    NotACode,
    Wrong,
    Reused,
    UnknownRecoveryCode,
    SecretUnreadable,
}

impl CodeRefusal {
    pub(in crate::app) fn as_str(self) -> &'static str {
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
pub(in crate::app) enum AcceptedCode {
    Totp { step: i64 },
    Recovery { compact: String },
}

impl AcceptedCode {
    pub(in crate::app) fn method(&self) -> &'static str {
        match self {
            AcceptedCode::Totp { .. } => "authenticator code",
            AcceptedCode::Recovery { .. } => "recovery code",
        }
    }

    /// Uses the code up in `tx`: a TOTP step is recorded (no replay), a recovery code is spent.
    /// False when a parallel request used it first.
    pub(in crate::app) async fn spend(
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
pub(in crate::app) fn check_code(
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

/// The code step of a sign-in, as posted.
#[derive(Debug)]
pub struct CodeAttempt<'a> {
    /// The token in the pending-login cookie (`None`: the browser has none).
    pub pending: Option<Secret<&'a str>>,
    pub code: Secret<&'a str>,
    pub replacing: Option<Secret<&'a str>>,
    pub device_tokens: Secret<&'a [String]>,
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
    let result = code_step(app, attempt, origin).await;
    super::counted(app, result, |step| match step {
        CodeStep::SignedIn(_) => SignInOutcome::second_factor,
        CodeStep::WrongCode | CodeStep::Expired => SignInOutcome::second_factor_refused,
    })
}

async fn code_step(app: &App, attempt: CodeAttempt<'_>, origin: &Origin) -> AppResult<CodeStep> {
    let now = app.clock.now();
    let expired = |user: Option<&User>, why: &str| {
        let mut event = Event::new(EventKind::TwoFactorFailed, origin).detail(why);
        if let Some(user) = user {
            event = event.subject(user.id).email(user.email.as_str());
        }
        event
    };
    let pending = match attempt.pending {
        Some(token) => pending_login::find(&mut *app.db.read().await?, token.expose(), now).await?,
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
    let device =
        KnownDevice::recognise(&mut conn, attempt.device_tokens.expose(), owner, now).await?;
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
    let accepted = match check_code(app, &row, attempt.code.expose(), now) {
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
        replacing: attempt.replacing.as_ref().map(|token| *token.expose()),
        device: device.as_ref(),
        factors: Factors::PasswordAndCode(accepted.method()),
        single_sign_on: pending.single_sign_on(),
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

/// The row's secret, if it opens under this app's secret key.
pub(in crate::app) fn open_secret(app: &App, row: &TwoFactorRow) -> Option<TotpSecret> {
    row.secret(&app.two_factor.sealer)
}
