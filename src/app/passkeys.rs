//! Use cases around passkeys: registering one (two requests: the challenge, then the browser's
//! answer), renaming and removing them, and signing in with one.
//!
//! A passkey is a WebAuthn credential that verifies its user (fingerprint, face, PIN), so a sign-in
//! with it counts as two factors: no code step follows. Each ceremony's state stays in the database
//! (see `auth::passkey_ceremony`): the browser gets the options and a token naming the ceremony,
//! never the state, and a challenge is answered once.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::sessions::{
    count_guess_with, own_event, refuse_over_limit, start_session, Address, Completion, Factors,
    SignedIn,
};
// Adding or removing a passkey follows the one rule for every way in (see `step_up`).
use super::step_up::{confirm_presence, step_up};
pub use super::step_up::{Confirmation, StepUp, FRESH_SIGN_IN_SECONDS};
use super::App;
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::passkey_ceremony::{self, NewCeremony, Purpose, Taken};
use crate::auth::CurrentSession;
use crate::error::{AppError, AppResult};
use crate::mail::messages;
use crate::users::devices::{DeviceOwner, KnownDevice};
use crate::users::passkeys::{
    clean_name, NewPasskey, PasskeySummary, Passkeys, StoredPasskey, MAX_PASSKEYS_PER_ACCOUNT,
};
use crate::users::two_factor::TwoFactorRow;
use crate::users::User;

/// What /account/passkeys shows.
#[derive(Debug)]
pub struct PasskeyPage {
    pub passkeys: Vec<PasskeySummary>,
    /// Why passkeys cannot be used on this deployment, if they cannot.
    pub unavailable: Option<String>,
    /// What adding or removing one asks for now.
    pub step_up: StepUp,
}

/// The person's passkeys and what changing them asks for.
pub async fn page(app: &App, current: &CurrentSession) -> AppResult<PasskeyPage> {
    let mut conn = app.db.read().await?;
    let passkeys = Passkeys::list_for_user(&mut conn, current.session.user_id).await?;
    drop(conn);
    Ok(PasskeyPage {
        passkeys,
        unavailable: app.passkeys.webauthn().err().map(str::to_string),
        step_up: step_up(app, current),
    })
}

/// A challenge for the browser: the token naming the ceremony and the options (JSON) for
/// `navigator.credentials`. (`Debug` redacts the token.)
pub struct Challenge {
    pub ceremony: String,
    pub options: String,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("ceremony", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// How asking for a challenge went.
#[derive(Debug)]
pub enum Begun {
    Challenge(Challenge),
    /// Nothing was started; the message says why.
    Refused(String),
}

/// A registration's state as kept in its ceremony row: the library's state and the WebAuthn user
/// id the new credential will carry.
#[derive(Serialize, Deserialize)]
struct RegistrationState {
    user_handle: Uuid,
    state: PasskeyRegistration,
}

/// The first half of adding a passkey: checks the name, the person's presence and the limit, and
/// issues a challenge that asks for a discoverable credential with user verification.
pub async fn begin_registration(
    app: &App,
    current: &CurrentSession,
    name: &str,
    confirmation: &Confirmation<'_>,
    origin: &Origin,
) -> AppResult<Begun> {
    let webauthn = match app.passkeys.webauthn() {
        Ok(webauthn) => webauthn,
        Err(why) => return Ok(Begun::Refused(why.to_string())),
    };
    let name = match clean_name(name) {
        Ok(name) => name,
        Err(why) => return Ok(Begun::Refused(why.to_string())),
    };
    if let Err(why) = confirm_presence(app, current, confirmation, origin).await? {
        return Ok(Begun::Refused(why.to_string()));
    }
    let session = &current.session;
    let registered = Passkeys::registered_for(&mut *app.db.read().await?, session.user_id).await?;
    if registered.count >= MAX_PASSKEYS_PER_ACCOUNT {
        return Ok(Begun::Refused(format!(
            "An account can have at most {MAX_PASSKEYS_PER_ACCOUNT} passkeys: remove one first."
        )));
    }
    // Every passkey of an account carries the same WebAuthn user id: random, never the row id or
    // the e-mail (authenticators may show or sync it).
    let user_handle = registered
        .user_handle
        .as_deref()
        .and_then(|handle| Uuid::parse_str(handle).ok())
        .unwrap_or_else(|| Uuid::from_bytes(rand::random()));
    let exclude = (!registered.credentials.is_empty()).then_some(registered.credentials);
    let (mut options, state) = webauthn.start_passkey_registration(
        user_handle,
        session.user_email.as_str(),
        &session.user_name,
        exclude,
    )?;
    // Discoverable: the authenticator keeps the credential with the user id, so signing in needs
    // no e-mail address. (The library's resident-key registration requires attestation from a
    // list of trusted manufacturers; a passkey needs none.)
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let state = serde_json::to_string(&RegistrationState { user_handle, state })?;
    let new = NewCeremony {
        purpose: Purpose::Register,
        session_id: Some(session.id),
        passkey_name: Some(&name),
        state: &state,
    };
    issue_challenge(app, &new, serde_json::to_string(&options)?).await
}

/// Stores a ceremony and hands the browser its token and options.
async fn issue_challenge(app: &App, new: &NewCeremony<'_>, options: String) -> AppResult<Begun> {
    let mut tx = app.db.begin_write().await?;
    let ceremony = passkey_ceremony::create(&mut tx, new, app.clock.now()).await?;
    tx.commit().await?;
    Ok(Begun::Challenge(Challenge { ceremony, options }))
}

/// How a registration's second half went.
#[derive(Debug)]
pub enum Registration {
    Added {
        name: String,
    },
    /// Nothing was stored; the message says why.
    Refused(&'static str),
}

const CEREMONY_GONE: &str =
    "That passkey request expired or was already answered. Please try again.";

/// The second half of adding a passkey: the browser's answer to the challenge this session was
/// given. Stored, audited and mailed together; every refusal is audited.
pub async fn finish_registration(
    app: &App,
    current: &CurrentSession,
    ceremony: &str,
    credential: &str,
    origin: &Origin,
) -> AppResult<Registration> {
    let webauthn = match app.passkeys.webauthn() {
        Ok(webauthn) => webauthn,
        Err(_) => return Ok(Registration::Refused("Passkeys are not available here.")),
    };
    let session = &current.session;
    let now = app.clock.now();
    let taken = take_ceremony(app, ceremony, Purpose::Register, now).await?;
    let refused = |why: &str| own_event(current, EventKind::PasskeyRefused, origin).detail(why);
    let ceremony = match taken {
        Taken::Open(ceremony) if ceremony.session_id == Some(session.id) => ceremony,
        gone => {
            count_address(app, origin, now).await?;
            let why = match gone {
                Taken::Expired => "challenge expired",
                _ => "no such challenge for this session (already answered, or never issued)",
            };
            app.record_alone(refused(why)).await?;
            return Ok(Registration::Refused(CEREMONY_GONE));
        }
    };
    let RegistrationState { user_handle, state } = serde_json::from_str(&ceremony.state)?;
    let name = ceremony.passkey_name.unwrap_or_default();
    let checked = serde_json::from_str::<RegisterPublicKeyCredential>(credential)
        .map_err(|_| "the browser's answer does not read".to_string())
        .and_then(|answer| {
            webauthn
                .finish_passkey_registration(&answer, &state)
                .map_err(|error| format!("the answer did not check out: {error}"))
        });
    let passkey = match checked {
        Ok(passkey) => passkey,
        Err(why) => {
            app.record_alone(refused(&why)).await?;
            return Ok(Registration::Refused(
                "The passkey could not be registered: your browser's answer did not check out. \
                 Please try again.",
            ));
        }
    };
    let user_handle = user_handle.to_string();
    let new = NewPasskey {
        user_id: session.user_id,
        user_handle: &user_handle,
        name: &name,
        passkey: &passkey,
    };
    let mut tx = app.db.begin_write().await?;
    let Some(user) = User::find_by_id(&mut tx, session.user_id).await? else {
        return Err(AppError::NoLongerAllowed);
    };
    // Counted again in the transaction that stores it: parallel registrations cannot pass the
    // limit together.
    if Passkeys::count_for_user(&mut tx, user.id).await? >= MAX_PASSKEYS_PER_ACCOUNT {
        tx.rollback().await?;
        app.record_alone(refused("the account has the most passkeys allowed"))
            .await?;
        return Ok(Registration::Refused(
            "Your account has the most passkeys allowed: remove one first.",
        ));
    }
    if Passkeys::insert(&mut tx, &new, now).await?.is_none() {
        tx.rollback().await?;
        app.record_alone(refused("credential already registered"))
            .await?;
        return Ok(Registration::Refused(
            "That passkey is already registered here.",
        ));
    }
    let change = Change {
        kind: EventKind::PasskeyAdded,
        name: &name,
        what: "added to",
    };
    record_change(app, tx, current, &user, change, origin, now).await?;
    Ok(Registration::Added { name })
}

/// A passkey added or removed, for its event and its mail.
struct Change<'a> {
    kind: EventKind,
    name: &'a str,
    /// "added to" or "removed from" (the account).
    what: &'static str,
}

/// Finishes a change to the person's passkeys in its transaction: the event, the mail to the
/// person, the commit, and the wake-up of the mailer.
async fn record_change(
    app: &App,
    mut tx: crate::db::WriteTx,
    current: &CurrentSession,
    user: &User,
    change: Change<'_>,
    origin: &Origin,
    now: i64,
) -> AppResult<()> {
    let event = own_event(current, change.kind, origin).detail(change.name);
    audit::record(&mut tx, now, event).await?;
    let what = format!(
        "The passkey \"{}\" was {} your HR Portal account",
        change.name, change.what
    );
    let letter = messages::passkeys_changed(&app.mail.settings, user, &what, now);
    app.queue_mail(&mut tx, user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(())
}

/// Counts one request against the client's address (a challenge asked for, or an answer to none),
/// so one client can neither pile up ceremonies nor flood the audit log with refusals; 429 past
/// the limit.
async fn count_address(app: &App, origin: &Origin, now: i64) -> AppResult<()> {
    let mut tx = app.db.begin_write().await?;
    let attempt = app
        .throttle
        .register_address_attempt(&mut tx, origin.ip.as_deref(), now)
        .await?;
    refuse_over_limit(app, tx, attempt, None, origin, now).await
}

/// Takes a ceremony back (deleting it, committed at once: a refused answer used it up too).
async fn take_ceremony(app: &App, token: &str, purpose: Purpose, now: i64) -> AppResult<Taken> {
    let mut tx = app.db.begin_write().await?;
    let taken = passkey_ceremony::take(&mut tx, token, purpose, now).await?;
    tx.commit().await?;
    Ok(taken)
}

/// How renaming or removing one of one's passkeys went.
#[derive(Debug, PartialEq, Eq)]
pub enum PasskeyChange {
    Done {
        name: String,
    },
    /// Not one of the person's passkeys (or gone already).
    NotFound,
    /// Nothing changed; the message says why.
    Refused(&'static str),
}

/// Renames one of the person's passkeys.
pub async fn rename(
    app: &App,
    current: &CurrentSession,
    handle: &str,
    name: &str,
    origin: &Origin,
) -> AppResult<PasskeyChange> {
    let name = match clean_name(name) {
        Ok(name) => name,
        Err(why) => return Ok(PasskeyChange::Refused(why)),
    };
    let mut tx = app.db.begin_write().await?;
    let user_id = current.session.user_id;
    let Some(before) = Passkeys::rename_own(&mut tx, user_id, handle, &name).await? else {
        tx.rollback().await?;
        return Ok(PasskeyChange::NotFound);
    };
    if before == name {
        // Nothing changed: nothing to record.
        tx.rollback().await?;
        return Ok(PasskeyChange::Done { name });
    }
    let event = own_event(current, EventKind::PasskeyRenamed, origin)
        .detail(format!("\"{before}\" is now \"{name}\""));
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(PasskeyChange::Done { name })
}

/// Removes one of the person's passkeys (a fresh sign-in or the password is needed): it signs in
/// no more. Audited and mailed.
pub async fn remove(
    app: &App,
    current: &CurrentSession,
    handle: &str,
    confirmation: &Confirmation<'_>,
    origin: &Origin,
) -> AppResult<PasskeyChange> {
    if let Err(why) = confirm_presence(app, current, confirmation, origin).await? {
        return Ok(PasskeyChange::Refused(why));
    }
    let now = app.clock.now();
    let user_id = current.session.user_id;
    let mut tx = app.db.begin_write().await?;
    let Some(user) = User::find_by_id(&mut tx, user_id).await? else {
        return Err(AppError::NoLongerAllowed);
    };
    let Some(name) = Passkeys::delete_own(&mut tx, user_id, handle).await? else {
        tx.rollback().await?;
        return Ok(PasskeyChange::NotFound);
    };
    let change = Change {
        kind: EventKind::PasskeyRemoved,
        name: &name,
        what: "removed from",
    };
    record_change(app, tx, current, &user, change, origin, now).await?;
    Ok(PasskeyChange::Done { name })
}

/// The first half of signing in with a passkey: a challenge any of this site's discoverable
/// credentials may answer (no e-mail asked). Counted against the address like a password guess,
/// which also bounds the ceremonies one client can leave behind.
pub async fn begin_sign_in(app: &App, origin: &Origin) -> AppResult<Begun> {
    let webauthn = match app.passkeys.webauthn() {
        Ok(webauthn) => webauthn,
        Err(why) => return Ok(Begun::Refused(why.to_string())),
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

/// A passkey sign-in as posted. (`Debug` by hand: the tokens are secrets.)
pub struct PasskeyAttempt<'a> {
    pub ceremony: &'a str,
    /// The browser's answer, as JSON.
    pub credential: &'a str,
    pub remember: bool,
    /// The session token this browser already holds, if any: it is replaced, never upgraded.
    pub replacing: Option<&'a str>,
    pub device_tokens: &'a [String],
}

impl std::fmt::Debug for PasskeyAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyAttempt")
            .field("remember", &self.remember)
            .finish_non_exhaustive()
    }
}

/// Why a passkey sign-in was refused, as far as the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyRefusal {
    /// The challenge expired or was answered already: try again.
    Expired,
    /// No account has this passkey (removed, or made for another deployment).
    NotRegistered,
    /// The answer did not check out, or the account cannot sign in.
    NotAccepted,
}

impl PasskeyRefusal {
    pub fn message(self) -> &'static str {
        match self {
            PasskeyRefusal::Expired => CEREMONY_GONE,
            PasskeyRefusal::NotRegistered => {
                "That passkey is not registered here (it may have been removed). Sign in with \
                 your password."
            }
            PasskeyRefusal::NotAccepted => {
                "Signing in with that passkey did not work. Try again, or sign in with your \
                 password."
            }
        }
    }
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
    let webauthn = match app.passkeys.webauthn() {
        Ok(webauthn) => webauthn,
        Err(_) => return Ok(PasskeyStep::Refused(PasskeyRefusal::NotAccepted)),
    };
    let now = app.clock.now();
    let failed = |why: &str| Event::new(EventKind::LoginFailed, origin).detail(why);
    let state = match take_ceremony(app, attempt.ceremony, Purpose::SignIn, now).await? {
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
    let device = KnownDevice::recognise(&mut conn, attempt.device_tokens, owner, now).await?;
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
        replacing: attempt.replacing,
        device: device.as_ref(),
        factors: Factors::Passkey { totp_on },
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

/// How many passkeys each of these accounts has (the users list).
pub async fn counts_among(
    app: &App,
    users: &[crate::ids::UserId],
) -> AppResult<Vec<(crate::ids::UserId, i64)>> {
    let mut conn = app.db.read().await?;
    Ok(Passkeys::counts_among(&mut conn, users).await?)
}
