//! Use cases around sessions: sign in, sign out, ending sessions, changing a password, the
//! first-run set-up, the purge, and the session listings.

use super::{AccountRef, Actor, App};
use crate::app::accounts::NewAccountForm;
use crate::app::error::{AppError, AppResult};
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::session::{self, IssuedSession, SessionCounts, SessionOrigin, SessionSummary};
use crate::auth::throttle::Attempt;
use crate::auth::CurrentSession;
use crate::auth::{hash_token, passkey_ceremony, pending_login};
use crate::mail::messages;
use crate::users::device::describe;
use crate::users::devices::{DeviceOwner, KnownDevice, NewDevice};
use crate::users::links;
use crate::users::password::{check_new_password, Password};
use crate::users::two_factor::TwoFactorRow;
use crate::users::{normalize_email, NewUser, Role, User};

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

/// A sign-in as typed into the login form. (`Debug` by hand: the tokens are live secrets.)
pub struct SignInAttempt<'a> {
    pub email: &'a str,
    pub password: &'a Password,
    pub remember: bool,
    /// The session token this browser already holds, if any: it is replaced, never upgraded.
    pub replacing: Option<&'a str>,
    /// The device tokens this browser carries (one per account it signed in to).
    pub device_tokens: &'a [String],
}

impl std::fmt::Debug for SignInAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInAttempt")
            .field("email", &self.email)
            .field("password", self.password)
            .field("remember", &self.remember)
            .field("replacing", &self.replacing.map(|_| "<redacted>"))
            .field("device_tokens", &self.device_tokens.len())
            .finish()
    }
}

/// A session that has just begun, and the device token to add to the browser's device cookie
/// when the sign-in came from a browser the account had not seen.
#[derive(Debug)]
pub struct SignedIn {
    pub issued: IssuedSession,
    pub new_device: Option<NewDevice>,
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
}

/// The token of a pending sign-in (for its cookie only; `Debug` redacts it).
pub struct PendingToken(pub String);

impl std::fmt::Debug for PendingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingToken(<redacted>)")
    }
}

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

/// Checks a sign-in and, when it is right, starts the session — or, for an account with
/// two-factor, the pending sign-in that waits for its code.
///
/// The attempt is counted before the password is checked, so parallel guesses cannot outrun the
/// limit. Unknown account, wrong password and disabled account each cost exactly one argon2
/// verification and the same answer; a throttled attempt costs none. No connection is held while
/// hashing. The session, the counter reset, a hash upgrade and the event commit together.
pub async fn sign_in(app: &App, attempt: SignInAttempt<'_>, origin: &Origin) -> AppResult<SignIn> {
    let email = normalize_email(attempt.email);
    let now = app.clock.now();
    let owner = DeviceOwner::Email(&email);
    let device = KnownDevice::recognise(
        &mut *app.db.read().await?,
        attempt.device_tokens,
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
            user.as_ref().map(|u| u.password_hash.as_str()),
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
    // Parameters moved on since this hash was made: upgrade it while we know the password.
    let upgraded_hash = match verification.needs_rehash {
        true => Some(app.passwords.hash(attempt.password.expose()).await?),
        false => None,
    };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if let Some(fresh) = upgraded_hash {
        if User::upgrade_password_hash(&mut tx, user.id, &user.password_hash, &fresh).await? {
            user.password_hash = fresh;
        }
    }
    if TwoFactorRow::find(&mut tx, user.id)
        .await?
        .is_some_and(|row| row.is_enabled())
    {
        let pending =
            pending_login::create(&mut tx, user.id, &user.password_hash, attempt.remember, now)
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
        return Ok(SignIn::CodeNeeded(PendingToken(token)));
    }
    let completion = Completion {
        remember: attempt.remember,
        replacing: attempt.replacing,
        device: device.as_ref(),
        factors: Factors::Password,
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

/// How the last factor of a sign-in went, for [`start_session`].
pub(super) struct Completion<'a> {
    pub remember: bool,
    pub replacing: Option<&'a str>,
    /// The known device the browser proved for this account, if any.
    pub device: Option<&'a KnownDevice>,
    pub factors: Factors,
}

/// What the person proved to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Factors {
    /// The password of an account without two-factor (checked in the same transaction).
    Password,
    /// The password and a second factor: "authenticator code" or "recovery code".
    PasswordAndCode(&'static str),
    /// A passkey with user verification: two factors in one. `totp_on`: the account also has an
    /// authenticator app (which its password sign-ins need).
    Passkey { totp_on: bool },
}

impl Factors {
    /// Whether the account signs in with two factors when it uses its password.
    fn totp_on(self) -> bool {
        match self {
            Factors::Password => false,
            Factors::PasswordAndCode(_) => true,
            Factors::Passkey { totp_on } => totp_on,
        }
    }

    /// How the sign-in went, for its event (nothing for a password alone).
    fn method(self) -> Option<&'static str> {
        match self {
            Factors::Password => None,
            Factors::PasswordAndCode(method) => Some(method),
            Factors::Passkey { .. } => Some("passkey"),
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
                return Ok(Some(touch_cached(app, &token_hash, cached, now).await?));
            }
        }
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
    /// Nothing changed; the message says why.
    Refused(String),
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
        let message = "Your current password is incorrect.";
        return Ok(PasswordChange::Refused(message.into()));
    };
    if let Err(error) = check_new_password(form.new, form.confirmation, email) {
        return Ok(PasswordChange::Refused(error.to_string()));
    }
    if form.new == form.current {
        let message = "The new password must differ from the current one.";
        return Ok(PasswordChange::Refused(message.into()));
    }
    let hash = app.passwords.hash(form.new.expose()).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    User::set_password_hash(&mut tx, user.id, &hash, false, now).await?;
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
            .verify(Some(&user.password_hash), password.expose())
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

/// The first-run form as posted: the printed token and the first administrator's account.
/// (`Debug` by hand: the token is a secret.)
pub struct SetupForm<'a> {
    pub token: &'a str,
    pub account: NewAccountForm<'a>,
}

impl std::fmt::Debug for SetupForm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupForm")
            .field("token", &"<redacted>")
            .field("account", &self.account)
            .finish()
    }
}

/// How the first-run set-up went.
#[derive(Debug)]
pub enum Setup {
    /// The first administrator exists; `session` signs them in (absent only if they were
    /// disabled in the instant between).
    Done {
        session: Option<IssuedSession>,
    },
    Invalid(String),
}

/// Whether first-run set-up is open for the holder of `token` (only while no account exists).
pub async fn setup_is_open(app: &App, token: &str) -> AppResult<bool> {
    let users = User::count(&mut *app.db.read().await?).await?;
    Ok(users == 0 && app.setup.matches(token))
}

/// Creates the first administrator and signs them in. A closed set-up is a 404.
pub async fn complete_setup(app: &App, form: SetupForm<'_>, origin: &Origin) -> AppResult<Setup> {
    if !setup_is_open(app, form.token).await? {
        return Err(AppError::NotFound);
    }
    let (name, email) = match form.account.check() {
        Ok((name, email, Role::Admin)) => (name, email),
        Ok(_) => {
            return Ok(Setup::Invalid(
                "The first account is an administrator.".into(),
            ))
        }
        Err(message) => return Ok(Setup::Invalid(message)),
    };
    let hash = app.passwords.hash(form.account.password.expose()).await?;
    let new = NewUser {
        email: &email,
        name: &name,
        role: Role::Admin,
        password_hash: &hash,
        must_change_password: false,
    };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    // Checked again atomically: a concurrent set-up or CLI user makes this a 404.
    let Some(user) = User::create_first_admin(&mut tx, &new, now).await? else {
        tx.rollback().await?;
        return Err(AppError::NotFound);
    };
    let session_origin = SessionOrigin {
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        remember: false,
    };
    let issued = session::create(&mut tx, &user, &session_origin, None, &app.limits, now).await?;
    let mut event = Event::new(EventKind::SetupCompleted, origin)
        .actor(user.id)
        .subject(user.id);
    if let Some(issued) = &issued {
        event = event.session(&issued.session.handle);
    }
    audit::record(&mut tx, now, event).await?;
    tx.commit().await?;
    app.setup.consume();
    Ok(Setup::Done { session: issued })
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

/// Deletes every session that is no longer live, in small batches that keep each write short
/// (requests never queue behind a purge), the throttle counters whose window ended, the
/// password links, pending sign-ins and known devices that expired, and audit events past their
/// retention; then writes the tallied refusals as one summary row per source.
/// Housekeeping of rows that no longer mean anything: not audited. Returns the sessions purged.
pub async fn purge_expired(app: &App) -> AppResult<u64> {
    // Each runs even when another fails; the first failure is reported.
    let sessions = purge_sessions(app).await;
    let now = app.clock.now();
    let others = match app.db.read().await {
        Ok(mut conn) => purge_small_tables(&mut conn, app, now).await,
        Err(error) => Err(error.into()),
    };
    let audit = purge_old_events(app, now).await;
    let refusals = write_tallied_refusals(app, now).await;
    let purged = sessions?;
    others?;
    audit?;
    refusals?;
    Ok(purged)
}

/// Events older than the retention, in batches like the sessions.
async fn purge_old_events(app: &App, now: i64) -> AppResult<u64> {
    const BATCH: i64 = 1_000;
    let before = now.saturating_sub(app.audit_retention_days.saturating_mul(86_400));
    let mut total = 0;
    loop {
        let deleted = audit::purge_older_than(&mut *app.db.read().await?, before, BATCH).await?;
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// One summary row per source of refusals counted since the last purge, a few hundred per
/// transaction (so the write lock is never held long); counts that could not be written wait for
/// the next purge.
pub async fn write_tallied_refusals(app: &App, now: i64) -> AppResult<()> {
    const CHUNK: usize = 200;
    let mut tallied = app.refusals.take();
    while !tallied.is_empty() {
        let rest = tallied.split_off(tallied.len().min(CHUNK));
        let written = async {
            let mut tx = app.db.begin_write().await?;
            for refusals in &tallied {
                audit::record(&mut tx, now, refusals.event(now)).await?;
            }
            tx.commit_leaving_caches_valid().await
        }
        .await;
        if let Err(error) = written {
            tallied.extend(rest);
            app.refusals.put_back(tallied);
            return Err(error.into());
        }
        tallied = rest;
    }
    Ok(())
}

/// Throttle counters, password links, pending sign-ins, known devices and passkey ceremonies past
/// their time.
async fn purge_small_tables(conn: &mut sqlx::AnyConnection, app: &App, now: i64) -> AppResult<()> {
    app.throttle.purge_stale(conn, now).await?;
    links::purge_expired(conn, now).await?;
    pending_login::purge_expired(conn, now).await?;
    KnownDevice::purge_expired(conn, now).await?;
    passkey_ceremony::purge_expired(conn, now).await?;
    Ok(())
}

async fn purge_sessions(app: &App) -> AppResult<u64> {
    const BATCH: i64 = 500;
    let mut total = 0;
    loop {
        let live = app.limits.live_at(app.clock.now());
        let deleted = session::purge_expired_batch(&mut *app.db.read().await?, live, BATCH).await?;
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
