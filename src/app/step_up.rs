//! The one rule for every change that adds or changes a way into an account (an authenticator
//! app, recovery codes, a passkey, later a linked SSO identity): a sign-in within the last
//! [`FRESH_SIGN_IN_SECONDS`], or else the password — and a current code when the account has an
//! authenticator app. A stolen session cookie alone therefore cannot add the thief's own way in.

use serde::Serialize;

use super::sessions::own_event;
use super::sign_in::code::{check_code, AcceptedCode};
use super::sign_in::count_guess;
use super::sign_in::{check_current_password, PasswordCheck};
use super::App;
use crate::app::error::AppResult;
use crate::audit::{EventKind, Origin};
use crate::auth::CurrentSession;
use crate::db::WriteTx;
use crate::secret::Secret;
use crate::users::password::Password;
use crate::users::two_factor::TwoFactorRow;
use crate::users::User;

/// Within this long of signing in, adding a way in needs no password (GitHub's "sudo mode");
/// after it, the password is asked again (and a code, see [`StepUp`]).
pub const FRESH_SIGN_IN_SECONDS: i64 = 10 * 60;

/// What a change to one's ways in asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepUp {
    /// Signed in within [`FRESH_SIGN_IN_SECONDS`]: that sign-in was proof enough.
    Nothing,
    /// The password.
    Password,
    /// The password and a current code (the account has an authenticator app).
    PasswordAndCode,
}

/// What this session must give to add or change a way in now.
pub fn step_up(app: &App, current: &CurrentSession) -> StepUp {
    let session = &current.session;
    if app.clock.now() - session.created_at < FRESH_SIGN_IN_SECONDS {
        StepUp::Nothing
    } else if session.two_factor_enabled {
        StepUp::PasswordAndCode
    } else {
        StepUp::Password
    }
}

/// What the person typed to confirm a change.
#[derive(Debug)]
pub struct Confirmation<'a> {
    pub password: &'a Password,
    pub code: Secret<&'a str>,
}

/// Why the person was not taken to be present (worded by `web::refusals`); nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceRefusal {
    /// The sign-in is older than [`FRESH_SIGN_IN_SECONDS`] and no password came with the change.
    PasswordNeeded,
    WrongPassword,
    /// The account has an authenticator app and no code came with the password.
    CodeNeeded,
    /// A code was asked for, but the account has no authenticator app (any more).
    TwoFactorOff,
    WrongCode,
    /// The code was right but a parallel request used it first.
    CodeAlreadyUsed,
}

/// A fresh sign-in, or else the right password — and a current code when the account has an
/// authenticator app (each a throttled guess like any other). `Err` says what is missing.
pub async fn confirm_presence(
    app: &App,
    current: &CurrentSession,
    confirmation: &Confirmation<'_>,
    origin: &Origin,
) -> AppResult<Result<(), PresenceRefusal>> {
    let password = confirmation.password;
    match step_up(app, current) {
        StepUp::Nothing => Ok(Ok(())),
        _ if password.is_empty() => Ok(Err(PresenceRefusal::PasswordNeeded)),
        StepUp::Password => {
            let check = PasswordCheck::Complete;
            Ok(
                match check_current_password(app, current, password, origin, check).await? {
                    Some(_) => Ok(()),
                    None => Err(PresenceRefusal::WrongPassword),
                },
            )
        }
        StepUp::PasswordAndCode if confirmation.code.expose().trim().is_empty() => {
            Ok(Err(PresenceRefusal::CodeNeeded))
        }
        StepUp::PasswordAndCode => {
            let code = confirmation.code.expose();
            confirm_password_and_code(app, current, password, code, origin).await
        }
    }
}

/// A page that needs two posts to make one change (two-factor enrolment: see the secret, then
/// confirm it with a code) hands the person who passed [`confirm_presence`] on the first post a
/// short-lived proof for the second, so the password is typed once. The proof is sealed under
/// the application's secret key and bound to this session: a cookie thief cannot make one.
pub fn presence_proof(app: &App, current: &CurrentSession) -> String {
    let expires = app.clock.now() + FRESH_SIGN_IN_SECONDS;
    app.two_factor
        .proofs
        .seal(&expires.to_string(), &proof_context(current))
}

/// Whether `proof` is one [`presence_proof`] made for this session and still within its time.
pub fn holds_presence_proof(app: &App, current: &CurrentSession, proof: &str) -> bool {
    if proof.is_empty() {
        return false;
    }
    app.two_factor
        .proofs
        .open(proof, &proof_context(current))
        .ok()
        .and_then(|expires| expires.parse::<i64>().ok())
        .is_some_and(|expires| app.clock.now() < expires)
}

/// What a proof is bound to: this session (its random handle, which a rotation keeps) of this
/// account.
fn proof_context(current: &CurrentSession) -> String {
    let session = &current.session;
    format!(
        "step-up proof of session {} of account {}",
        session.handle, session.user_id
    )
}

/// Checks the password and a current code (authenticator or recovery) of the signed-in person;
/// the caller spends the code in the transaction that acts on it. Both checks are throttled
/// guesses.
async fn with_password_and_code(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Result<(User, AcceptedCode), PresenceRefusal>> {
    let check = PasswordCheck::BeforeCode;
    let Some(user) = check_current_password(app, current, password, origin, check).await? else {
        return Ok(Err(PresenceRefusal::WrongPassword));
    };
    let now = app.clock.now();
    let row = TwoFactorRow::find(&mut *app.db.read().await?, user.id).await?;
    let Some(row) = row.filter(TwoFactorRow::is_enabled) else {
        return Ok(Err(PresenceRefusal::TwoFactorOff));
    };
    count_guess(app, user.email.as_str(), None, origin, now).await?;
    match check_code(app, &row, code, now) {
        Ok(accepted) => Ok(Ok((user, accepted))),
        Err(reason) => {
            let event =
                own_event(current, EventKind::TwoFactorFailed, origin).detail(reason.as_str());
            app.record_alone(event).await?;
            Ok(Err(PresenceRefusal::WrongCode))
        }
    }
}

/// A code proven and spent, in the transaction that acts on it.
pub(super) struct SpentCode {
    pub tx: WriteTx,
    pub user: User,
    /// "authenticator code" or "recovery code", for the event.
    pub method: &'static str,
}

/// Checks the password and a current code, then opens the write transaction that spends the code
/// and settles the guesses; the caller makes its change in it and commits. `Err` says what was
/// wrong (nothing written but the counted guesses).
pub(super) async fn spend_password_and_code(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Result<SpentCode, PresenceRefusal>> {
    let (user, accepted) =
        match with_password_and_code(app, current, password, code, origin).await? {
            Ok(checked) => checked,
            Err(refusal) => return Ok(Err(refusal)),
        };
    let mut tx = app.db.begin_write().await?;
    if !accepted.spend(&mut tx, user.id, app.clock.now()).await? {
        tx.rollback().await?;
        return Ok(Err(PresenceRefusal::CodeAlreadyUsed));
    }
    settle_guesses(app, &mut tx, &user, origin).await?;
    Ok(Ok(SpentCode {
        tx,
        user,
        method: accepted.method(),
    }))
}

/// Checks the password and a current code, and spends the code (with the guesses settled): the
/// step-up a sensitive change asks of an account with two-factor. `Err` says what was wrong.
async fn confirm_password_and_code(
    app: &App,
    current: &CurrentSession,
    password: &Password,
    code: &str,
    origin: &Origin,
) -> AppResult<Result<(), PresenceRefusal>> {
    match spend_password_and_code(app, current, password, code, origin).await? {
        Ok(spent) => {
            spent.tx.commit().await?;
            Ok(Ok(()))
        }
        Err(refusal) => Ok(Err(refusal)),
    }
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
