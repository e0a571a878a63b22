//! The sign-in engine every way in shares: counting a guess before it is checked (and refusing
//! past a limit), checking the current password before a sensitive change, and starting the
//! session once the last factor is proven. One file per way in uses it: [`password`], [`code`]
//! (the second step of a two-factor sign-in), [`passkey`], [`single_sign_on`].

pub mod code;
pub mod passkey;
pub mod password;
pub mod single_sign_on;

use crate::app::error::{AppError, AppResult};
use crate::app::App;
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::session::{self, IssuedSession, SessionOrigin, SingleSignOnMark};
use crate::auth::throttle::Attempt;
use crate::auth::CurrentSession;
use crate::mail::messages;
use crate::metrics::SignInOutcome;
use crate::secret::Secret;
use crate::users::device::describe;
use crate::users::devices::{KnownDevice, NewDevice};
use crate::users::password::Password;
use crate::users::User;

/// A session that has just begun, and the device token to add to the browser's device cookie
/// when the sign-in came from a browser the account had not seen.
#[derive(Debug)]
pub struct SignedIn {
    pub issued: IssuedSession,
    pub new_device: Option<NewDevice>,
}

/// Counts how a sign-in step ended for the metrics listener; a throttled step is an error.
fn counted<T>(
    app: &App,
    result: AppResult<T>,
    outcome: impl FnOnce(&T) -> SignInOutcome,
) -> AppResult<T> {
    match &result {
        Ok(step) => app.metrics.sign_in(outcome(step)),
        Err(AppError::Throttled { .. }) => app.metrics.sign_in(SignInOutcome::throttled),
        Err(_) => {}
    }
    result
}

/// The token of a pending sign-in (for its cookie only).
#[derive(Debug)]
pub struct PendingToken(pub Secret<String>);

/// Counts one password or code guess before it is checked: against the known device the browser
/// proved, or else against the account and the address. `Err(Throttled)` (after writing its
/// event) when a limit refuses it.
pub(super) async fn count_guess(
    app: &App,
    email: &str,
    device: Option<&KnownDevice>,
    origin: &Origin,
    now: i64,
) -> AppResult<()> {
    count_guess_with(app, email, device, Address::CountNow, origin, now).await
}

/// Whether a guess's address is still to be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Address {
    CountNow,
    /// Counted already: a passkey's, when its challenge was issued.
    Counted,
}

/// [`count_guess`], for a guess whose address may have been counted already.
pub(super) async fn count_guess_with(
    app: &App,
    email: &str,
    device: Option<&KnownDevice>,
    address: Address,
    origin: &Origin,
    now: i64,
) -> AppResult<()> {
    let mut tx = app.db.begin_write().await?;
    let throttle = &app.throttle;
    let attempt = match (device, address) {
        (Some(device), _) => {
            throttle
                .register_device_attempt(&mut tx, device.id, now)
                .await?
        }
        (None, Address::CountNow) => {
            let ip = origin.ip.as_deref();
            throttle.register_attempt(&mut tx, email, ip, now).await?
        }
        (None, Address::Counted) => {
            throttle
                .register_account_attempt(&mut tx, email, now)
                .await?
        }
    };
    refuse_over_limit(app, tx, attempt, Some(email), origin, now).await
}

/// Commits a counted attempt, or — when a limit refuses it — its `login_throttled` event too, and
/// answers `Err(Throttled)`.
pub(super) async fn refuse_over_limit(
    app: &App,
    mut tx: crate::db::WriteTx,
    attempt: Attempt,
    email: Option<&str>,
    origin: &Origin,
    now: i64,
) -> AppResult<()> {
    // Throttle counters and audit events: nothing a cache holds.
    if let Some(retry_after) = attempt.refused() {
        let scope = app.throttle.scope;
        if attempt.repeat {
            // Already refused before: nothing was written; the purge writes the count.
            tx.commit_leaving_caches_valid().await?;
            app.refusals
                .note(EventKind::LoginThrottled, email, origin, now);
            return Err(AppError::Throttled { retry_after, scope });
        }
        let mut event = Event::new(EventKind::LoginThrottled, origin).detail(format!(
            "retry after {retry_after} s; further refusals in this window are counted, not \
             recorded one by one"
        ));
        if let Some(email) = email {
            event = event.email(email);
        }
        audit::record(&mut tx, now, event).await?;
        tx.commit_leaving_caches_valid().await?;
        return Err(AppError::Throttled { retry_after, scope });
    }
    tx.commit_leaving_caches_valid().await?;
    Ok(())
}

/// How the last factor of a sign-in went, for [`start_session`].
pub(super) struct Completion<'a> {
    pub remember: bool,
    pub replacing: Option<&'a str>,
    /// The known device the browser proved for this account, if any.
    pub device: Option<&'a KnownDevice>,
    pub factors: Factors,
    /// What the session keeps of the provider's, for a single sign-on.
    pub single_sign_on: Option<SingleSignOnMark>,
}

/// What the person proved to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Factors {
    /// The password of an account without two-factor (checked in the same transaction).
    Password,
    /// The password (or a single sign-on, when the completion carries its mark) and a second
    /// factor: "authenticator code" or "recovery code".
    PasswordAndCode(&'static str),
    /// A passkey with user verification: two factors in one. `totp_on`: the account also has an
    /// authenticator app (which its password sign-ins need).
    Passkey { totp_on: bool },
    /// The company's identity provider vouched for the person (its factors are its business).
    /// `totp_on`: the account also has an authenticator app.
    SingleSignOn { totp_on: bool },
}

impl Factors {
    /// Whether the account signs in with two factors when it uses its password.
    fn totp_on(self) -> bool {
        match self {
            Factors::Password => false,
            Factors::PasswordAndCode(_) => true,
            Factors::Passkey { totp_on } | Factors::SingleSignOn { totp_on } => totp_on,
        }
    }

    /// How the sign-in went, for its event (nothing for a password alone).
    fn method(self) -> Option<&'static str> {
        match self {
            Factors::Password => None,
            Factors::PasswordAndCode(method) => Some(method),
            Factors::Passkey { .. } => Some("passkey"),
            Factors::SingleSignOn { .. } => Some("single sign-on"),
        }
    }
}

/// Everything after the last factor, in the caller's transaction: the session (replacing the
/// browser's old one), the throttle reset, the known device (touched, or made and announced by
/// mail), and the event. `None` when the account was disabled or re-passworded meanwhile — the
/// caller rolls back. The caller commits, then wakes the mailer if a device was made.
pub(super) async fn start_session(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    user: &User,
    completion: Completion<'_>,
    origin: &Origin,
    now: i64,
) -> AppResult<Option<SignedIn>> {
    let session_origin = SessionOrigin {
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        remember: completion.remember,
        single_sign_on: completion.single_sign_on.clone(),
    };
    let issued = session::create(
        tx,
        user,
        &session_origin,
        completion.replacing,
        &app.limits,
        now,
    )
    .await?;
    let Some(mut issued) = issued else {
        return Ok(None);
    };
    issued.session.two_factor_enabled = completion.factors.totp_on();
    let ip = origin.ip.as_deref();
    let new_device = match completion.device {
        Some(device) => {
            app.throttle.record_device_success(tx, device.id).await?;
            KnownDevice::touch(tx, device.id, ip, now).await?;
            None
        }
        None => {
            app.throttle
                .record_success(tx, user.email.as_str(), ip)
                .await?;
            let user_agent = origin.user_agent.as_deref();
            let made = KnownDevice::create(tx, user.id, ip, user_agent, now).await?;
            let described = describe(user_agent);
            let letter = messages::new_sign_in(&app.mail.settings, user, &described, ip, now);
            app.queue_mail(tx, user, letter, now).await?;
            Some(made)
        }
    };
    let mut details = Vec::new();
    let sso_then_code = completion.single_sign_on.is_some()
        && !matches!(completion.factors, Factors::SingleSignOn { .. });
    if sso_then_code {
        // The first step was the provider's, not a password (`sso_second_factor`).
        details.push("single sign-on");
    }
    if let Some(method) = completion.factors.method() {
        details.push(method);
    }
    if completion.remember {
        details.push("keep me signed in");
    }
    if new_device.is_some() {
        details.push("new device");
    }
    let mut event = Event::new(EventKind::LoginSucceeded, origin)
        .actor(user.id)
        .subject(user.id)
        .session(&issued.session.handle);
    if !details.is_empty() {
        event = event.detail(details.join(", "));
    }
    audit::record(tx, now, event).await?;
    Ok(Some(SignedIn { issued, new_device }))
}

/// What a right current password settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PasswordCheck {
    /// It is the whole check: the account's failures are cleared.
    Complete,
    /// A code is checked next: the account's count stays until that is right too.
    BeforeCode,
}

/// Checks the signed-in person's password before a sensitive change (a password guess like any
/// other: counted and throttled first). The account when it is right, `None` when it is wrong.
pub(super) async fn check_current_password(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    origin: &Origin,
    check: PasswordCheck,
) -> AppResult<Option<User>> {
    let session = &current.session;
    let email = session.user_email.as_str();
    count_guess(app, email, None, origin, app.clock.now()).await?;
    let user = User::find_by_id(&mut *app.db.read().await?, session.user_id).await?;
    let Some(user) = user else {
        return Err(AppError::NotFound);
    };
    let matches = !password.is_over_limit()
        && app
            .passwords
            .verify(Some(user.password_hash.expose()), password.expose())
            .await?
            .matches;
    if !matches {
        return Ok(None);
    }
    let ip = origin.ip.as_deref();
    let mut tx = app.db.begin_write().await?;
    match check {
        PasswordCheck::Complete => app.throttle.record_success(&mut tx, email, ip).await?,
        PasswordCheck::BeforeCode => app.throttle.release_address(&mut tx, ip).await?,
    }
    tx.commit().await?;
    Ok(Some(user))
}
