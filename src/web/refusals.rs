//! How the use cases' refusals read on a page: the one place their English lives, so the use
//! cases return what happened and the pages say it.

use crate::app::password::PasswordRefusal;
use crate::app::sign_in::passkey::PasskeyRefusal;

/// A refusal as people read it.
pub trait Wording {
    fn wording(&self) -> String;
}

/// What a passkey ceremony that can no longer be answered says (its challenge expired or was
/// answered already).
pub const CEREMONY_GONE: &str =
    "That passkey request expired or was already answered. Please try again.";

impl Wording for PasswordRefusal {
    fn wording(&self) -> String {
        match self {
            PasswordRefusal::WrongCurrentPassword => "Your current password is incorrect.".into(),
            PasswordRefusal::Policy(rule) => rule.to_string(),
            PasswordRefusal::SameAsCurrent => {
                "The new password must differ from the current one.".into()
            }
        }
    }
}

impl Wording for PasskeyRefusal {
    fn wording(&self) -> String {
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
        .to_string()
    }
}
