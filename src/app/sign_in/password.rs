//! Signing in with an e-mail address and a password: the first way in, and the first step of a
//! two-factor sign-in.

use super::{count_guess, start_session, Completion, Factors, PendingToken, SignedIn};
use crate::app::error::AppResult;
use crate::app::App;
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::pending_login;
use crate::metrics::SignInOutcome;
use crate::secret::Secret;
use crate::users::devices::{DeviceOwner, KnownDevice};
use crate::users::password::Password;
use crate::users::two_factor::TwoFactorRow;
use crate::users::{normalize_email, Role, User};

/// Why a sign-in failed — for the audit log only; the person always sees one generic answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureReason {
    UnknownAccount,
    WrongPassword,
    Disabled,
    PasswordTooLong,
    ChangedDuringSignIn,
}

impl FailureReason {
    fn as_str(self) -> &'static str {
        match self {
            FailureReason::UnknownAccount => "unknown account",
            FailureReason::WrongPassword => "wrong password",
            FailureReason::Disabled => "account disabled",
            FailureReason::PasswordTooLong => "password over the length limit",
            FailureReason::ChangedDuringSignIn => "account changed during sign-in",
        }
    }
}

/// A sign-in as typed into the login form.
#[derive(Debug)]
pub struct SignInAttempt<'a> {
    pub email: &'a str,
    pub password: &'a Password,
    pub remember: bool,
    /// The session token this browser already holds, if any: it is replaced, never upgraded.
    pub replacing: Option<Secret<&'a str>>,
    /// The device tokens this browser carries (one per account it signed in to).
    pub device_tokens: Secret<&'a [String]>,
}

/// How a sign-in ended. A throttled attempt is an `AppError::Throttled` (429).
#[derive(Debug)]
pub enum SignIn {
    SignedIn(Box<SignedIn>),
    /// The password was right and the account has two-factor: no session yet. The token goes
    /// into the pending-login cookie that leads to the code step.
    CodeNeeded(PendingToken),
    /// Unknown account, wrong password or disabled account: one answer for all.
    Refused,
    /// The password was right, but with `sso_only` only administrators use passwords.
    UseSingleSignOn,
}

/// Checks a sign-in and, when it is right, starts the session — or, for an account with
/// two-factor, the pending sign-in that waits for its code.
///
/// The attempt is counted before the password is checked, so parallel guesses cannot outrun the
/// limit. Unknown account, wrong password and disabled account each cost exactly one argon2
/// verification and the same answer; a throttled attempt costs none. No connection is held while
/// hashing. The session, the counter reset, a hash upgrade and the event commit together.
pub async fn sign_in(app: &App, attempt: SignInAttempt<'_>, origin: &Origin) -> AppResult<SignIn> {
    let result = check_password(app, attempt, origin).await;
    super::counted(app, result, |step| match step {
        SignIn::SignedIn(_) => SignInOutcome::ok,
        SignIn::CodeNeeded(_) => SignInOutcome::second_factor_needed,
        SignIn::Refused | SignIn::UseSingleSignOn => SignInOutcome::wrong_password,
    })
}

async fn check_password(
    app: &App,
    attempt: SignInAttempt<'_>,
    origin: &Origin,
) -> AppResult<SignIn> {
    let email = normalize_email(attempt.email);
    let now = app.clock.now();
    let owner = DeviceOwner::Email(&email);
    let device = KnownDevice::recognise(
        &mut *app.db.read().await?,
        attempt.device_tokens.expose(),
        owner,
        now,
    )
    .await?;
    count_guess(app, &email, device.as_ref(), origin, now).await?;
    if attempt.password.is_over_limit() {
        return refuse(app, &attempt, origin, None, FailureReason::PasswordTooLong).await;
    }
    let user = User::find_by_email(&mut *app.db.read().await?, &email).await?;
    let verification = app
        .passwords
        .verify(
            user.as_ref().map(|u| u.password_hash.expose().as_str()),
            attempt.password.expose(),
        )
        .await?;
    let mut user = match user {
        None => return refuse(app, &attempt, origin, None, FailureReason::UnknownAccount).await,
        Some(u) if !verification.matches => {
            return refuse(
                app,
                &attempt,
                origin,
                Some(&u),
                FailureReason::WrongPassword,
            )
            .await
        }
        Some(u) if u.disabled => {
            return refuse(app, &attempt, origin, Some(&u), FailureReason::Disabled).await
        }
        Some(u) => u,
    };
    // Told only after a right password: an address alone reveals nothing about its account.
    if app.sso.as_ref().is_some_and(|sso| sso.only()) && user.role != Role::Admin {
        let event = Event::new(EventKind::LoginFailed, origin)
            .email(attempt.email)
            .subject(user.id)
            .detail("password sign-in refused: single sign-on only");
        app.record_alone(event).await?;
        return Ok(SignIn::UseSingleSignOn);
    }
    // Parameters moved on since this hash was made: upgrade it while we know the password.
    let upgraded_hash = match verification.needs_rehash {
        true => Some(app.passwords.hash(attempt.password.expose()).await?),
        false => None,
    };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if let Some(fresh) = upgraded_hash {
        if User::upgrade_password_hash(&mut tx, user.id, user.password_hash.expose(), &fresh)
            .await?
        {
            user.password_hash = fresh.into();
        }
    }
    if TwoFactorRow::find(&mut tx, user.id)
        .await?
        .is_some_and(|row| row.is_enabled())
    {
        let pending = pending_login::create(
            &mut tx,
            user.id,
            user.password_hash.expose(),
            attempt.remember,
            None,
            now,
        )
        .await?;
        let Some(token) = pending else {
            tx.rollback().await?;
            let reason = FailureReason::ChangedDuringSignIn;
            return refuse(app, &attempt, origin, Some(&user), reason).await;
        };
        // The account's count stays until the code is right (a right password alone must not
        // reset the guesses at the code); the address gets its slot back, as after any right
        // password, so a busy office's two-step sign-ins never add up to a lockout.
        if device.is_none() {
            app.throttle
                .release_address(&mut tx, origin.ip.as_deref())
                .await?;
        }
        let event = Event::new(EventKind::TwoFactorChallenged, origin)
            .actor(user.id)
            .subject(user.id);
        audit::record(&mut tx, now, event).await?;
        tx.commit().await?;
        return Ok(SignIn::CodeNeeded(PendingToken(token.into())));
    }
    let completion = Completion {
        remember: attempt.remember,
        replacing: attempt.replacing.as_ref().map(|token| *token.expose()),
        device: device.as_ref(),
        factors: Factors::Password,
        single_sign_on: None,
    };
    let Some(signed_in) = start_session(app, &mut tx, &user, completion, origin, now).await? else {
        // Disabled or re-passworded while this sign-in was being checked: it fails.
        tx.rollback().await?;
        let reason = FailureReason::ChangedDuringSignIn;
        return refuse(app, &attempt, origin, Some(&user), reason).await;
    };
    tx.commit().await?;
    if signed_in.new_device.is_some() {
        app.mail_queued();
    }
    Ok(SignIn::SignedIn(Box::new(signed_in)))
}

async fn refuse(
    app: &App,
    attempt: &SignInAttempt<'_>,
    origin: &Origin,
    user: Option<&User>,
    reason: FailureReason,
) -> AppResult<SignIn> {
    let mut event = Event::new(EventKind::LoginFailed, origin)
        .email(attempt.email)
        .detail(reason.as_str());
    if let Some(user) = user {
        event = event.subject(user.id);
    }
    app.record_alone(event).await?;
    Ok(SignIn::Refused)
}
