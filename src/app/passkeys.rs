//! Use cases around passkeys: registering one (two requests: the challenge, then the browser's
//! answer), renaming and removing them. (Signing in with one is `sign_in::passkey`.)
//!
//! A passkey is a WebAuthn credential that verifies its user (fingerprint, face, PIN), so a sign-in
//! with it counts as two factors: no code step follows. Each ceremony's state stays in the database
//! (see `auth::passkey_ceremony`): the browser gets the options and a token naming the ceremony,
//! never the state, and a challenge is answered once.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::sessions::own_event;
use super::sign_in::passkey::{count_address, issue_challenge, take_ceremony, Begun};
// Adding or removing a passkey follows the one rule for every way in (see `step_up`).
use super::step_up::{confirm_presence, step_up, PresenceRefusal};
pub use super::step_up::{Confirmation, StepUp};
use super::App;
use crate::app::error::{AppError, AppResult};
use crate::audit::{self, EventKind, Origin};
use crate::auth::passkey_ceremony::{NewCeremony, Purpose, Taken};
use crate::auth::CurrentSession;
use crate::mail::messages;
use crate::users::passkeys::{
    clean_name, NewPasskey, PasskeySummary, Passkeys, MAX_PASSKEYS_PER_ACCOUNT,
};
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
) -> AppResult<Begun<PasskeyChangeRefusal>> {
    let webauthn = match app.passkeys.webauthn() {
        Ok(webauthn) => webauthn,
        Err(why) => {
            return Ok(Begun::Refused(PasskeyChangeRefusal::Unavailable(
                why.into(),
            )))
        }
    };
    let name = match clean_name(name) {
        Ok(name) => name,
        Err(why) => return Ok(Begun::Refused(PasskeyChangeRefusal::BadName(why))),
    };
    if let Err(why) = confirm_presence(app, current, confirmation, origin).await? {
        return Ok(Begun::Refused(PasskeyChangeRefusal::NotPresent(why)));
    }
    let session = &current.session;
    let registered = Passkeys::registered_for(&mut *app.db.read().await?, session.user_id).await?;
    if registered.count >= MAX_PASSKEYS_PER_ACCOUNT {
        return Ok(Begun::Refused(PasskeyChangeRefusal::TooMany));
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

/// How a registration's second half went.
#[derive(Debug)]
pub enum Registration {
    Added {
        name: String,
    },
    /// Nothing was stored.
    Refused(PasskeyChangeRefusal),
}

/// Why adding, renaming or removing a passkey was refused (worded by `web::refusals`); nothing
/// changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeyChangeRefusal {
    /// Passkeys cannot work on this deployment; the sentence says why (see `RelyingParty`).
    Unavailable(String),
    /// The name breaks a rule; the rule's own sentence.
    BadName(&'static str),
    /// The sign-in is not fresh and the person did not confirm who they are.
    NotPresent(PresenceRefusal),
    /// The account has [`MAX_PASSKEYS_PER_ACCOUNT`] already.
    TooMany,
    /// The limit was reached while this passkey was being made (another one was added meanwhile).
    LimitReachedMeanwhile,
    /// The challenge expired or was answered already.
    CeremonyGone,
    /// The browser's answer did not check out.
    AnswerRejected,
    /// This very credential is registered already.
    AlreadyRegistered,
}

/// The second half of adding a passkey: the browser's answer to the challenge this session was
/// given. Stored, audited and mailed together; every refusal is audited.
pub async fn finish_registration(
    app: &App,
    current: &CurrentSession,
    ceremony: &str,
    credential: &str,
    origin: &Origin,
) -> AppResult<Registration> {
    let Ok(webauthn) = app.passkeys.webauthn() else {
        let why = "Passkeys are not available here.";
        return Ok(Registration::Refused(PasskeyChangeRefusal::Unavailable(
            why.into(),
        )));
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
            return Ok(Registration::Refused(PasskeyChangeRefusal::CeremonyGone));
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
            return Ok(Registration::Refused(PasskeyChangeRefusal::AnswerRejected));
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
            PasskeyChangeRefusal::LimitReachedMeanwhile,
        ));
    }
    if Passkeys::insert(&mut tx, &new, now).await?.is_none() {
        tx.rollback().await?;
        app.record_alone(refused("credential already registered"))
            .await?;
        return Ok(Registration::Refused(
            PasskeyChangeRefusal::AlreadyRegistered,
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

/// How renaming or removing one of one's passkeys went.
#[derive(Debug, PartialEq, Eq)]
pub enum PasskeyChange {
    Done {
        name: String,
    },
    /// Not one of the person's passkeys (or gone already).
    NotFound,
    /// Nothing changed.
    Refused(PasskeyChangeRefusal),
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
        Err(why) => return Ok(PasskeyChange::Refused(PasskeyChangeRefusal::BadName(why))),
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
        return Ok(PasskeyChange::Refused(PasskeyChangeRefusal::NotPresent(
            why,
        )));
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

/// How many passkeys each of these accounts has (the users list).
pub async fn counts_among(
    app: &App,
    users: &[crate::ids::UserId],
) -> AppResult<Vec<(crate::ids::UserId, i64)>> {
    let mut conn = app.db.read().await?;
    Ok(Passkeys::counts_among(&mut conn, users).await?)
}
