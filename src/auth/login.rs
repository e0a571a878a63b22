//! Checking a sign-in attempt: throttle, one password verification, uniform failure.

use crate::db::Db;
use crate::users::password::{PasswordService, MAX_PASSWORD_CHARS};
use crate::users::{normalize_email, User};

use super::throttle::LoginThrottle;

/// Why an attempt failed — for the audit log only; the person always sees one generic answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    UnknownAccount,
    WrongPassword,
    Disabled,
    PasswordTooLong,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::UnknownAccount => "unknown account",
            FailureReason::WrongPassword => "wrong password",
            FailureReason::Disabled => "account disabled",
            FailureReason::PasswordTooLong => "password over the length limit",
        }
    }
}

/// The result of one attempt.
#[derive(Debug)]
pub enum LoginOutcome {
    Success(User),
    Failed {
        reason: FailureReason,
        user_id: Option<i64>,
    },
    Throttled {
        retry_after: i64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hashing(#[from] crate::users::password::HashError),
}

/// Checks `password` for the account `email_typed` names.
///
/// Unknown account, wrong password and disabled account each cost exactly one argon2
/// verification and produce the same `Failed` answer for the person; a throttled key costs none.
pub async fn authenticate(
    db: &Db,
    passwords: &PasswordService,
    throttle: &LoginThrottle,
    email_typed: &str,
    password: &str,
    ip: Option<&str>,
) -> Result<LoginOutcome, LoginError> {
    let email = normalize_email(email_typed);
    // Counted before the password is checked, so parallel guesses cannot outrun the limit.
    if let Some(retry_after) = throttle.register_attempt(&email, ip).await? {
        return Ok(LoginOutcome::Throttled { retry_after });
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        // No stored password can be this long: refuse before spending a hash on it.
        return Ok(LoginOutcome::Failed {
            reason: FailureReason::PasswordTooLong,
            user_id: None,
        });
    }
    let user = User::find_by_email(db, &email).await?;
    let verification = passwords
        .verify(user.as_ref().map(|u| u.password_hash.as_str()), password)
        .await?;
    let failure = match &user {
        None => Some(FailureReason::UnknownAccount),
        Some(_) if !verification.matches => Some(FailureReason::WrongPassword),
        Some(u) if u.disabled => Some(FailureReason::Disabled),
        Some(_) => None,
    };
    if let Some(reason) = failure {
        return Ok(LoginOutcome::Failed {
            reason,
            user_id: user.map(|u| u.id),
        });
    }
    let mut user = user.expect("a successful verification has an account");
    throttle.record_success(&email, ip).await?;
    if verification.needs_rehash {
        // Parameters moved on since this hash was made; upgrade it while we know the password.
        let fresh = passwords.hash(password).await?;
        if User::upgrade_password_hash(db, user.id, &user.password_hash, &fresh).await? {
            user.password_hash = fresh;
        }
    }
    Ok(LoginOutcome::Success(user))
}
