//! Signing in with a passkey (two requests: a challenge any of this site's discoverable
//! credentials may answer, then the browser's answer), and the ceremony plumbing that adding a
//! passkey shares: a challenge stored server-side and taken back exactly once.

use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential, WebauthnError};

use super::{
    count_guess_with, refuse_over_limit, start_session, Address, Completion, Factors, SignedIn,
};
use crate::app::error::AppResult;
use crate::app::App;
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::passkey_ceremony::{self, NewCeremony, Purpose, Taken};
use crate::mail::messages;
use crate::metrics::SignInOutcome;
use crate::secret::Secret;
use crate::users::devices::{DeviceOwner, KnownDevice};
use crate::users::passkeys::{Passkeys, StoredPasskey};
use crate::users::two_factor::TwoFactorRow;
use crate::users::User;

/// A challenge for the browser: the token naming the ceremony and the options (JSON) for
/// `navigator.credentials`.
#[derive(Debug)]
pub struct Challenge {
    pub ceremony: Secret<String>,
    pub options: String,
}

/// How asking for a challenge went; `R` says why none was started.
#[derive(Debug)]
pub enum Begun<R> {
    Challenge(Challenge),
    /// Nothing was started.
    Refused(R),
}

/// Stores a ceremony and hands the browser its token and options.
pub(in crate::app) async fn issue_challenge<R>(
    app: &App,
    new: &NewCeremony<'_>,
    options: String,
) -> AppResult<Begun<R>> {
    let mut tx = app.db.begin_write().await?;
    let ceremony = passkey_ceremony::create(&mut tx, new, app.clock.now()).await?;
    tx.commit().await?;
    Ok(Begun::Challenge(Challenge {
        ceremony: ceremony.into(),
        options,
    }))
}

/// Counts one request against the client's address (a challenge asked for, or an answer to none),
/// so one client can neither pile up ceremonies nor flood the audit log with refusals; 429 past
/// the limit.
pub(in crate::app) async fn count_address(app: &App, origin: &Origin, now: i64) -> AppResult<()> {
    let mut tx = app.db.begin_write().await?;
    let attempt = app
        .throttle
        .register_address_attempt(&mut tx, origin.ip.as_deref(), now)
        .await?;
    refuse_over_limit(app, tx, attempt, None, origin, now).await
}

/// Takes a ceremony back (deleting it, committed at once: a refused answer used it up too).
pub(in crate::app) async fn take_ceremony(
    app: &App,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> AppResult<Taken> {
    let mut tx = app.db.begin_write().await?;
    let taken = passkey_ceremony::take(&mut tx, token, purpose, now).await?;
    tx.commit().await?;
    Ok(taken)
}

/// The first half of signing in with a passkey: a challenge any of this site's discoverable
/// credentials may answer (no e-mail asked). Counted against the address like a password guess,
/// which also bounds the ceremonies one client can leave behind.
pub async fn begin_sign_in(app: &App, origin: &Origin) -> AppResult<Begun<PasskeyRefusal>> {
    let webauthn = match app.passkeys.webauthn() {
        Ok(webauthn) => webauthn,
        Err(why) => return Ok(Begun::Refused(PasskeyRefusal::Unavailable(why.to_string()))),
    };
    let now = app.clock.now();
    count_address(app, origin, now).await?;
    let (mut options, state) = webauthn.start_discoverable_authentication()?;
    // The library marks this challenge for the browser's autofill ("conditional mediation"); it
    // is answered from a button here, so the browser shows its ordinary passkey prompt.
    options.mediation = None;
    let state = serde_json::to_string(&state)?;
    let new = NewCeremony {
        purpose: Purpose::SignIn,
        session_id: None,
        passkey_name: None,
        state: &state,
    };
    issue_challenge(app, &new, serde_json::to_string(&options)?).await
}

/// A passkey sign-in as posted.
#[derive(Debug)]
pub struct PasskeyAttempt<'a> {
    pub ceremony: Secret<&'a str>,
    /// The browser's answer, as JSON.
    pub credential: &'a str,
    pub remember: bool,
    /// The session token this browser already holds, if any: it is replaced, never upgraded.
    pub replacing: Option<Secret<&'a str>>,
    pub device_tokens: Secret<&'a [String]>,
}

/// Why a passkey sign-in was refused, as far as the person is told (worded by `web::refusals`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyRefusal {
    /// Passkeys cannot work on this deployment; the sentence says why (see `RelyingParty`).
    Unavailable(String),
    /// The challenge expired or was answered already: try again.
    Expired,
    /// No account has this passkey (removed, or made for another deployment).
    NotRegistered,
    /// The answer did not check out, or the account cannot sign in.
    NotAccepted,
}

/// How a passkey sign-in went. A throttled attempt is an `AppError::Throttled` (429).
#[derive(Debug)]
pub enum PasskeyStep {
    SignedIn(Box<SignedIn>),
    Refused(PasskeyRefusal),
}

/// The second half of signing in with a passkey. The ceremony is used up first; the credential
/// names its account; the account is counted like a password guess (against the browser's known
/// device when it has one); then the signature, the user verification, the counter and the
/// backup flags are checked. The session starts exactly as after a password (and code): new
/// token, the browser's old session replaced, device cookie, new-device mail, event.
pub async fn finish_sign_in(
    app: &App,
    attempt: PasskeyAttempt<'_>,
    origin: &Origin,
) -> AppResult<PasskeyStep> {
    let result = check_passkey(app, attempt, origin).await;
    super::counted(app, result, |step| match step {
        PasskeyStep::SignedIn(_) => SignInOutcome::passkey,
        PasskeyStep::Refused(_) => SignInOutcome::passkey_refused,
    })
}

async fn check_passkey(
    app: &App,
    attempt: PasskeyAttempt<'_>,
    origin: &Origin,
) -> AppResult<PasskeyStep> {
    let Ok(webauthn) = app.passkeys.webauthn() else {
        return Ok(PasskeyStep::Refused(PasskeyRefusal::NotAccepted));
    };
    let now = app.clock.now();
    let failed = |why: &str| Event::new(EventKind::LoginFailed, origin).detail(why);
    let state = match take_ceremony(app, attempt.ceremony.expose(), Purpose::SignIn, now).await? {
        Taken::Open(ceremony) => ceremony.state,
        gone => {
            count_address(app, origin, now).await?;
            let why = match gone {
                Taken::Expired => "passkey: challenge expired",
                _ => "passkey: no such challenge (already answered, or never issued)",
            };
            return refuse(app, failed(why), PasskeyRefusal::Expired).await;
        }
    };
    let state: DiscoverableAuthentication = serde_json::from_str(&state)?;
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(attempt.credential) else {
        let why = "passkey: the browser's answer does not read";
        return refuse(app, failed(why), PasskeyRefusal::NotAccepted).await;
    };
    let Some(stored) = find_credential(app, webauthn, &answer).await? else {
        let why = "passkey: not registered here";
        return refuse(app, failed(why), PasskeyRefusal::NotRegistered).await;
    };
    let mut conn = app.db.read().await?;
    let user = User::find_by_id(&mut conn, stored.user_id).await?;
    let owner = DeviceOwner::Id(stored.user_id);
    let device =
        KnownDevice::recognise(&mut conn, attempt.device_tokens.expose(), owner, now).await?;
    drop(conn);
    let Some(user) = user else {
        return Ok(PasskeyStep::Refused(PasskeyRefusal::NotRegistered));
    };
    let refused = |kind: EventKind, why: String| {
        Event::new(kind, origin)
            .subject(user.id)
            .email(user.email.as_str())
            .detail(why)
    };
    let not_accepted = PasskeyRefusal::NotAccepted;
    if user.disabled {
        let why = "passkey: account disabled".to_string();
        return refuse(app, refused(EventKind::LoginFailed, why), not_accepted).await;
    }
    // The account is counted like a password guess (or the browser's known device for it); the
    // address was counted when the challenge was issued.
    let email = user.email.as_str();
    count_guess_with(app, email, device.as_ref(), Address::Counted, origin, now).await?;
    let name = &stored.name;
    let Some(mut passkey) = stored.passkey() else {
        let why = format!("passkey \"{name}\": stored record unreadable");
        return refuse(app, refused(EventKind::LoginFailed, why), not_accepted).await;
    };
    let result = match webauthn.finish_discoverable_authentication_v2(&answer, state, &passkey) {
        Ok(result) if result.user_verified() => result,
        Ok(_) => {
            let why = format!("passkey \"{name}\": user not verified");
            return refuse(app, refused(EventKind::LoginFailed, why), not_accepted).await;
        }
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let why = format!(
                "passkey \"{name}\": its signature counter did not go up, so a copy of it may \
                 be in use"
            );
            let event = refused(EventKind::PasskeyCloneSuspected, why);
            let mut tx = app.db.begin_write().await?;
            audit::record(&mut tx, now, event).await?;
            let letter = messages::passkey_clone_suspected(&app.mail.settings, &user, name, now);
            app.queue_mail(&mut tx, &user, letter, now).await?;
            tx.commit().await?;
            app.mail_queued();
            return Ok(PasskeyStep::Refused(not_accepted));
        }
        Err(error) => {
            let why = format!("passkey \"{name}\": {error}");
            return refuse(app, refused(EventKind::LoginFailed, why), not_accepted).await;
        }
    };
    // The counter and backup state as of this use (the library refused one that went back).
    passkey.update_credential(&result);
    let mut tx = app.db.begin_write().await?;
    let still_there = Passkeys::record_use(&mut tx, &stored, &passkey, now).await?;
    let totp_on = TwoFactorRow::find(&mut tx, user.id)
        .await?
        .is_some_and(|row| row.is_enabled());
    let completion = Completion {
        remember: attempt.remember,
        replacing: attempt.replacing.as_ref().map(|token| *token.expose()),
        device: device.as_ref(),
        factors: Factors::Passkey { totp_on },
        single_sign_on: None,
    };
    let signed_in = match still_there {
        true => start_session(app, &mut tx, &user, completion, origin, now).await?,
        false => None,
    };
    let Some(signed_in) = signed_in else {
        // Removed, used by a parallel sign-in, disabled or reset while this sign-in was being
        // checked: it fails.
        tx.rollback().await?;
        let why = "passkey: account or passkey changed during sign-in".to_string();
        return refuse(app, refused(EventKind::LoginFailed, why), not_accepted).await;
    };
    if device.is_some() {
        // The challenge's count on the address goes back (a known device's sign-in does not
        // release it through the account).
        app.throttle
            .release_address(&mut tx, origin.ip.as_deref())
            .await?;
    }
    tx.commit().await?;
    if signed_in.new_device.is_some() {
        app.mail_queued();
    }
    Ok(PasskeyStep::SignedIn(Box::new(signed_in)))
}

/// Records why a passkey sign-in was refused, and says so.
async fn refuse(app: &App, event: Event, refusal: PasskeyRefusal) -> AppResult<PasskeyStep> {
    app.record_alone(event).await?;
    Ok(PasskeyStep::Refused(refusal))
}

/// The registered passkey the answer names: its credential id, and the WebAuthn user id the
/// authenticator returned, which must be the one it was registered with.
async fn find_credential(
    app: &App,
    webauthn: &webauthn_rs::Webauthn,
    answer: &PublicKeyCredential,
) -> AppResult<Option<StoredPasskey>> {
    let Ok((user_handle, credential_id)) = webauthn.identify_discoverable_authentication(answer)
    else {
        return Ok(None);
    };
    let stored = Passkeys::find_by_credential(&mut *app.db.read().await?, credential_id).await?;
    Ok(stored.filter(|stored| stored.user_handle == user_handle.to_string()))
}
