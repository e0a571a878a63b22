//! Signing in through the company's identity provider (OpenID Connect), and the provider
//! signing people out: the fourth way in. Only people the portal knows get in — an account with
//! the verified address, or an employee record with it (whose account is then created and
//! linked); an account remembers the provider's subject from its first single sign-on, and every
//! later one must carry the same.

use super::{start_session, Completion, Factors, PendingToken, SignedIn};
use crate::app::error::{AppError, AppResult};
use crate::app::App;
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::pending_login;
use crate::auth::session::SingleSignOnMark;
use crate::auth::sso_sessions;
use crate::hr::Employee;
use crate::metrics::SignInOutcome;
use crate::secret::Secret;
use crate::sso::flow::{Flow, FlowRefusal, Returned, Started};
use crate::sso::logout_token::BadLogoutToken;
use crate::sso::{Provider, Unreachable};
use crate::users::devices::{DeviceOwner, KnownDevice};
use crate::users::single_sign_on::SubjectMatch;
use crate::users::two_factor::TwoFactorRow;
use crate::users::{CreateUserError, Email, NewUser, Role, User, NO_PASSWORD};

/// The context the sealed ID token is bound to.
const ID_TOKEN_CONTEXT: &str = "sso id_token_hint";

/// Why a single sign-on let nobody in (worded in `web::refusals`); each is audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoRefusal {
    /// The flow itself failed: state, code, ID token, unverified address, provider down.
    Flow(FlowRefusal),
    /// Neither an account nor an employee record has this address.
    Unknown,
    /// The account is disabled.
    Disabled,
    /// The person has left the company.
    LeftTheCompany,
    /// The account is bound to another subject at the provider, or this subject to another
    /// account.
    OtherIdentity,
    /// The address reads like another account's or employee's.
    LooksLike,
}

impl SsoRefusal {
    fn detail(&self) -> String {
        match self {
            SsoRefusal::Flow(refusal) => refusal.to_string(),
            SsoRefusal::Unknown => "nobody with this address in the portal".into(),
            SsoRefusal::Disabled => "account disabled".into(),
            SsoRefusal::LeftTheCompany => "left the company".into(),
            SsoRefusal::OtherIdentity => {
                "the provider's subject does not match the one stored on the account".into()
            }
            SsoRefusal::LooksLike => "address looks like another person's".into(),
        }
    }
}

/// How a callback ended.
#[derive(Debug)]
pub enum SsoStep {
    SignedIn(Box<SignedIn>),
    /// `sso_second_factor` and an authenticator app: the code step is next (its token goes into
    /// the pending-login cookie, as after a right password).
    CodeNeeded(PendingToken),
    Refused(SsoRefusal),
}

/// The provider, or 404: with no issuer configured there is no single sign-on anywhere.
fn provider(app: &App) -> AppResult<&Provider> {
    app.sso.as_ref().ok_or(AppError::NotFound)
}

/// Starts a sign-in at the provider (the metadata fetched again when stale, so a provider
/// that is down is said so here).
pub async fn begin(
    app: &App,
    next: String,
    remember: bool,
) -> AppResult<Result<Started, Unreachable>> {
    let provider = provider(app)?;
    Ok(provider.start(next, remember, app.clock.now()).await)
}

/// A callback as it arrived, with the browser's flow cookie and sign-in cookies.
pub struct SsoCallback<'a> {
    pub flow: Option<Flow>,
    pub returned: Returned<'a>,
    /// The session token this browser already holds, if any: it is replaced, never upgraded.
    pub replacing: Option<Secret<&'a str>>,
    pub device_tokens: Secret<&'a [String]>,
}

/// Finishes a sign-in: the provider's answer checked, then the person found (or their account
/// created from their employee record) and the session started, in one transaction.
pub async fn complete(app: &App, callback: SsoCallback<'_>, origin: &Origin) -> AppResult<SsoStep> {
    let provider = provider(app)?;
    let now = app.clock.now();
    let identity = match provider
        .finish(callback.flow.as_ref(), &callback.returned, now)
        .await
    {
        Ok(identity) => identity,
        Err(refusal) => return refuse(app, None, SsoRefusal::Flow(refusal), origin).await,
    };
    let Ok(email) = Email::parse(&identity.email) else {
        return refuse(app, Some(&identity.email), SsoRefusal::Unknown, origin).await;
    };
    let remember = callback.flow.as_ref().is_some_and(|flow| flow.remember);
    let device = KnownDevice::recognise(
        &mut *app.db.read().await?,
        callback.device_tokens.expose(),
        DeviceOwner::Email(email.as_str()),
        now,
    )
    .await?;
    let mut tx = app.db.begin_write().await?;
    let user = match known_person(app, &mut tx, &email, &identity.subject, origin, now).await? {
        Ok(user) => user,
        Err(refusal) => {
            tx.rollback().await?;
            return refuse(app, Some(email.as_str()), refusal, origin).await;
        }
    };
    let totp_on = TwoFactorRow::find(&mut tx, user.id)
        .await?
        .is_some_and(|row| row.is_enabled());
    let sealed = app
        .sso_sealer
        .seal(identity.id_token.expose(), ID_TOKEN_CONTEXT);
    let mark = SingleSignOnMark {
        sid: identity.sid.clone(),
        sealed_id_token: Secret::new(sealed),
    };
    if totp_on && provider.settings.second_factor {
        let hash = user.password_hash.expose();
        let pending = pending_login::create(&mut tx, user.id, hash, remember, Some(&mark), now);
        let Some(token) = pending.await? else {
            tx.rollback().await?;
            return refuse(app, Some(email.as_str()), SsoRefusal::Disabled, origin).await;
        };
        let event = Event::new(EventKind::TwoFactorChallenged, origin)
            .actor(user.id)
            .subject(user.id)
            .detail("after single sign-on");
        audit::record(&mut tx, now, event).await?;
        tx.commit().await?;
        app.metrics.sign_in(SignInOutcome::second_factor_needed);
        return Ok(SsoStep::CodeNeeded(PendingToken(token.into())));
    }
    let completion = Completion {
        remember,
        replacing: callback.replacing.as_ref().map(|token| *token.expose()),
        device: device.as_ref(),
        factors: Factors::SingleSignOn { totp_on },
        single_sign_on: Some(mark),
    };
    let Some(signed_in) = start_session(app, &mut tx, &user, completion, origin, now).await? else {
        tx.rollback().await?;
        return refuse(app, Some(email.as_str()), SsoRefusal::Disabled, origin).await;
    };
    tx.commit().await?;
    if signed_in.new_device.is_some() {
        app.mail_queued();
    }
    app.metrics.sign_in(SignInOutcome::sso);
    Ok(SsoStep::SignedIn(Box::new(signed_in)))
}

/// The account for a verified address and subject, created from the employee record when
/// there is none yet; or why nobody gets in.
async fn known_person(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    email: &Email,
    subject: &str,
    origin: &Origin,
    now: i64,
) -> AppResult<Result<User, SsoRefusal>> {
    if app.last_day_over(tx, email).await?.is_some() {
        return Ok(Err(SsoRefusal::LeftTheCompany));
    }
    let bound_to = User::id_by_sso_subject(tx, subject).await?;
    let user = match User::find_by_email(tx, email.as_str()).await? {
        Some(user) => user,
        None if bound_to.is_some() => return Ok(Err(SsoRefusal::OtherIdentity)),
        None => match create_from_record(tx, email, origin, now).await? {
            Ok(user) => user,
            Err(refusal) => return Ok(Err(refusal)),
        },
    };
    if user.disabled {
        return Ok(Err(SsoRefusal::Disabled));
    }
    if bound_to.is_some_and(|id| id != user.id) {
        return Ok(Err(SsoRefusal::OtherIdentity));
    }
    match User::match_sso_subject(tx, user.id, subject).await? {
        SubjectMatch::Same => {}
        SubjectMatch::Other => return Ok(Err(SsoRefusal::OtherIdentity)),
        SubjectMatch::Unbound => {
            // Not bound: another first sign-in won the race — with this subject, or another.
            let bound = User::bind_sso_subject(tx, user.id, subject, now).await?;
            if !bound && User::match_sso_subject(tx, user.id, subject).await? != SubjectMatch::Same
            {
                return Ok(Err(SsoRefusal::OtherIdentity));
            }
        }
    }
    Ok(Ok(user))
}

/// An account for the employee record with this work address (no password: single sign-on is
/// its way in until someone sets one), audited "created by single sign-on".
async fn create_from_record(
    tx: &mut sqlx::AnyConnection,
    email: &Email,
    origin: &Origin,
    now: i64,
) -> AppResult<Result<User, SsoRefusal>> {
    let Some((employee, name)) = Employee::unlinked_by_email(tx, email.as_str()).await? else {
        return Ok(Err(SsoRefusal::Unknown));
    };
    let new = NewUser {
        email,
        name: &name,
        role: Role::Employee,
        password_hash: Secret::new(NO_PASSWORD),
        must_change_password: false,
    };
    let user = match User::create(tx, &new, Some(employee), now).await {
        Ok(user) => user,
        Err(CreateUserError::LooksLike(_)) => return Ok(Err(SsoRefusal::LooksLike)),
        Err(CreateUserError::EmailTaken) => return Ok(Err(SsoRefusal::OtherIdentity)),
        Err(CreateUserError::Database(error)) => return Err(error.into()),
    };
    let event = Event::new(EventKind::SsoAccountCreated, origin)
        .subject(user.id)
        .email(email.as_str())
        .detail("created by single sign-on from the employee record");
    audit::record(tx, now, event).await?;
    Ok(Ok(user))
}

async fn refuse(
    app: &App,
    email: Option<&str>,
    refusal: SsoRefusal,
    origin: &Origin,
) -> AppResult<SsoStep> {
    let mut event = Event::new(EventKind::SsoRefused, origin).detail(refusal.detail());
    if let Some(email) = email {
        event = event.email(email);
    }
    app.record_alone(event).await?;
    app.metrics.sign_in(SignInOutcome::sso_refused);
    Ok(SsoStep::Refused(refusal))
}

/// Where to send the browser after signing out of a single sign-on session: the provider's
/// end-session endpoint with `id_token_hint` and `post_logout_redirect_uri`, so the person is
/// signed out there too. `None` for other sessions, or when the provider offers no such
/// endpoint. Read before the session row is deleted.
pub async fn end_session_url(
    app: &App,
    session: crate::ids::SessionId,
) -> AppResult<Option<String>> {
    let Some(provider) = app.sso.as_ref() else {
        return Ok(None);
    };
    let sealed = sso_sessions::sealed_id_token(&mut *app.db.read().await?, session).await?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let Ok(id_token) = app.sso_sealer.open(&sealed, ID_TOKEN_CONTEXT) else {
        // Sealed under another secret key: sign out here only.
        return Ok(None);
    };
    let after = format!(
        "{}/login",
        app.mail.settings.public_url.trim_end_matches('/')
    );
    Ok(provider.end_session_url(&id_token, &after))
}

/// Ends the sessions a back-channel logout token names, in one transaction with their events
/// and the token's `jti` (a replay is refused). `Err` when the token is refused (400).
pub async fn back_channel_logout(
    app: &App,
    token: &str,
    origin: &Origin,
) -> AppResult<Result<usize, BadLogoutToken>> {
    let provider = provider(app)?;
    let now = app.clock.now();
    let order = match provider.verify_logout_token(token, now).await {
        Ok(order) => order,
        Err(bad) => return Ok(Err(bad)),
    };
    let mut tx = app.db.begin_write().await?;
    if !sso_sessions::first_use_of_logout_token(&mut tx, &order.jti, order.remember_until).await? {
        tx.rollback().await?;
        return Ok(Err(BadLogoutToken::Replayed));
    }
    let account = match order.subject.as_deref() {
        Some(subject) => match User::id_by_sso_subject(&mut tx, subject).await? {
            Some(id) => Some(id),
            // A subject nobody here signed in with: nothing of ours to end.
            None => {
                tx.commit_leaving_caches_valid().await?;
                return Ok(Ok(0));
            }
        },
        None => None,
    };
    let ended = sso_sessions::end_named(&mut tx, order.sid.as_deref(), account).await?;
    for session in &ended {
        let event = Event::new(EventKind::SsoLogout, origin)
            .subject(session.user_id)
            .session(&session.handle)
            .detail("back-channel logout from the identity provider");
        audit::record(&mut tx, now, event).await?;
    }
    tx.commit().await?;
    Ok(Ok(ended.len()))
}

/// How unlinking an account from the provider went.
#[derive(Debug)]
pub enum Unlink {
    NoSuchUser,
    NotLinked(User),
    Unlinked(User),
}

/// Forgets the provider subject stored on an account (the person got a new identity at the
/// provider): the next single sign-on with the account's address binds afresh. Audited.
pub async fn unlink(
    app: &App,
    actor: &crate::app::Actor,
    target: crate::app::AccountRef<'_>,
) -> AppResult<Unlink> {
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(user) = target.load(&mut tx).await? else {
        return Ok(Unlink::NoSuchUser);
    };
    if !User::unlink_sso(&mut tx, user.id).await? {
        return Ok(Unlink::NotLinked(user));
    }
    let event = actor.event(EventKind::SsoUnlinked).subject(user.id);
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(Unlink::Unlinked(user))
}

/// Which of `users` have signed in through single sign-on, for the users list.
pub async fn linked_among(
    app: &App,
    users: &[crate::ids::UserId],
) -> AppResult<Vec<crate::ids::UserId>> {
    Ok(User::sso_linked_among(&mut *app.db.read().await?, users).await?)
}
