//! The one rule for every change that adds or changes a way into an account (an authenticator
//! app, recovery codes, a passkey, later a linked SSO identity): a sign-in within the last
//! [`FRESH_SIGN_IN_SECONDS`], or else the password — and a current code when the account has an
//! authenticator app. A stolen session cookie alone therefore cannot add the thief's own way in.

use serde::Serialize;

use super::sessions::{check_current_password, PasswordCheck};
use super::two_factor::confirm_password_and_code;
use super::App;
use crate::audit::Origin;
use crate::auth::CurrentSession;
use crate::error::AppResult;
use crate::users::password::Password;

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

/// What the person typed to confirm a change (`Debug` redacts both).
pub struct Confirmation<'a> {
    pub password: &'a Password,
    pub code: &'a str,
}

impl std::fmt::Debug for Confirmation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Confirmation(<redacted>)")
    }
}

/// A fresh sign-in, or else the right password — and a current code when the account has an
/// authenticator app (each a throttled guess like any other). `Err` says what the person must do.
pub async fn confirm_presence(
    app: &App,
    current: &CurrentSession,
    confirmation: &Confirmation<'_>,
    origin: &Origin,
) -> AppResult<Result<(), &'static str>> {
    let password = confirmation.password;
    match step_up(app, current) {
        StepUp::Nothing => Ok(Ok(())),
        _ if password.is_empty() => Ok(Err(
            "You signed in more than ten minutes ago: reload this page and confirm with your \
             password.",
        )),
        StepUp::Password => {
            let check = PasswordCheck::Complete;
            Ok(
                match check_current_password(app, current, password, origin, check).await? {
                    Some(_) => Ok(()),
                    None => Err("Your password is incorrect."),
                },
            )
        }
        StepUp::PasswordAndCode if confirmation.code.trim().is_empty() => Ok(Err(
            "Enter a current code from your authenticator app (or a recovery code) with your \
             password.",
        )),
        StepUp::PasswordAndCode => {
            let code = confirmation.code;
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
        .sealer
        .seal(&expires.to_string(), &proof_context(current))
}

/// Whether `proof` is one [`presence_proof`] made for this session and still within its time.
pub fn holds_presence_proof(app: &App, current: &CurrentSession, proof: &str) -> bool {
    if proof.is_empty() {
        return false;
    }
    app.two_factor
        .sealer
        .open(proof, &proof_context(current))
        .ok()
        .and_then(|expires| expires.parse::<i64>().ok())
        .is_some_and(|expires| app.clock.now() < expires)
}

fn proof_context(current: &CurrentSession) -> String {
    format!("step-up proof of session {}", current.session.id)
}
