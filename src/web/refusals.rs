//! How the use cases' refusals read on a page: the one place their English lives, so the use
//! cases return what happened and the pages say it.

use crate::app::accounts::AccountRefusal;
use crate::app::import::ApplyOutcome;
use crate::app::passkeys::PasskeyChangeRefusal;
use crate::app::password::PasswordRefusal;
use crate::app::sign_in::passkey::PasskeyRefusal;
use crate::app::sign_in::single_sign_on::SsoRefusal;
use crate::app::step_up::PresenceRefusal;
use crate::sso::flow::FlowRefusal;
use crate::users::passkeys::MAX_PASSKEYS_PER_ACCOUNT;

/// A refusal as people read it.
pub trait Wording {
    fn wording(&self) -> String;
}

/// What a passkey ceremony that can no longer be answered says (its challenge expired or was
/// answered already).
const CEREMONY_GONE: &str =
    "That passkey request expired or was already answered. Please try again.";

impl Wording for AccountRefusal {
    fn wording(&self) -> String {
        match self {
            AccountRefusal::Name(rule) => (*rule).to_string(),
            AccountRefusal::Email(problem) => problem.to_string(),
            AccountRefusal::NoRole => "Please choose a role.".into(),
            AccountRefusal::Password(rule) => rule.to_string(),
            AccountRefusal::LooksLike(existing) => format!(
                "That address looks the same as the existing account {existing} (it uses \
                 characters that read alike), so people could mistake one for the other. Use a \
                 different address."
            ),
            AccountRefusal::FirstAccountIsAdmin => "The first account is an administrator.".into(),
            AccountRefusal::LeftTheCompany(left_on) => left_the_company(*left_on),
        }
    }
}

/// Why a leaver gets no account and no access back.
pub fn left_the_company(left_on: Option<chrono::NaiveDate>) -> String {
    let when = match left_on {
        Some(day) => format!("their last day was {}", crate::hr::display_date(day)),
        None => "they left the company".to_string(),
    };
    format!(
        "That person has left the company ({when}), so they cannot have access. For a rehire, \
         set their status back to active on their record first."
    )
}

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

impl Wording for PresenceRefusal {
    fn wording(&self) -> String {
        match self {
            PresenceRefusal::PasswordNeeded => {
                "You signed in more than ten minutes ago: reload this page and confirm with your \
                 password."
            }
            PresenceRefusal::WrongPassword => "Your password is incorrect.",
            PresenceRefusal::CodeNeeded => {
                "Enter a current code from your authenticator app (or a recovery code) with your \
                 password."
            }
            PresenceRefusal::TwoFactorOff => "Two-factor sign-in is not on.",
            PresenceRefusal::WrongCode => {
                "That code is not right. Enter the current code from your authenticator app, or \
                 an unused recovery code."
            }
            PresenceRefusal::CodeAlreadyUsed => "That code was already used.",
        }
        .to_string()
    }
}

impl Wording for PasskeyChangeRefusal {
    fn wording(&self) -> String {
        match self {
            PasskeyChangeRefusal::Unavailable(why) => why.clone(),
            PasskeyChangeRefusal::BadName(rule) => (*rule).to_string(),
            PasskeyChangeRefusal::NotPresent(why) => why.wording(),
            PasskeyChangeRefusal::TooMany => format!(
                "An account can have at most {MAX_PASSKEYS_PER_ACCOUNT} passkeys: remove one first."
            ),
            PasskeyChangeRefusal::LimitReachedMeanwhile => {
                "Your account has the most passkeys allowed: remove one first.".to_string()
            }
            PasskeyChangeRefusal::CeremonyGone => CEREMONY_GONE.to_string(),
            PasskeyChangeRefusal::AnswerRejected => {
                "The passkey could not be registered: your browser's answer did not check out. \
                 Please try again."
                    .to_string()
            }
            PasskeyChangeRefusal::AlreadyRegistered => {
                "That passkey is already registered here.".to_string()
            }
        }
    }
}

impl Wording for PasskeyRefusal {
    fn wording(&self) -> String {
        match self {
            PasskeyRefusal::Unavailable(why) => return why.clone(),
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

impl Wording for ApplyOutcome {
    fn wording(&self) -> String {
        match self {
            ApplyOutcome::Applied(report) => {
                return format!("Staff list imported: {}.", report.describe())
            }
            ApplyOutcome::NoSuchPreview => {
                "That preview does not exist (it may have expired). Upload the file again."
            }
            ApplyOutcome::NotYours => {
                "That preview was made by another administrator. Upload the file yourself to \
                 import it."
            }
            ApplyOutcome::Expired => {
                "That preview is more than an hour old. Upload the file again to see what it \
                 would change now."
            }
            ApplyOutcome::AlreadyApplied => "That preview was already imported.",
            ApplyOutcome::Altered => {
                "The kept file no longer matches what was previewed, so nothing was imported. \
                 Upload the file again."
            }
            ApplyOutcome::NoLongerValid(_) => {
                "Records changed since the preview and the file no longer fits them, so nothing \
                 was imported. Fix the lines below and upload the file again."
            }
        }
        .to_string()
    }
}

impl Wording for SsoRefusal {
    fn wording(&self) -> String {
        match self {
            SsoRefusal::Flow(FlowRefusal::Unreachable(_)) => SSO_UNREACHABLE.into(),
            SsoRefusal::Flow(FlowRefusal::EmailNotVerified) => {
                "Your identity provider did not confirm an e-mail address for you, so the portal \
                 cannot tell who you are. Ask your IT team to verify your address there."
                    .into()
            }
            SsoRefusal::Flow(FlowRefusal::ProviderSaidNo(_)) => {
                "The sign-in was cancelled or refused at your identity provider.".into()
            }
            SsoRefusal::Flow(_) => {
                "That single sign-on could not be completed (it expired, was already used, or \
                 was started in another browser). Please try again."
                    .into()
            }
            SsoRefusal::Unknown => {
                "Your identity provider signed you in, but this portal has no account or \
                 employee record with your address. Ask HR to add you."
                    .into()
            }
            SsoRefusal::Disabled => {
                "This account is disabled. Ask an administrator if you think this is wrong.".into()
            }
            SsoRefusal::LeftTheCompany => "Access ended with your last day at the company.".into(),
            SsoRefusal::OtherIdentity | SsoRefusal::LooksLike => {
                "This identity at your provider does not belong to the portal account with your \
                 address. Ask an administrator to check the link."
                    .into()
            }
        }
    }
}

/// What the login page says while the identity provider cannot be reached.
pub const SSO_UNREACHABLE: &str = "Single sign-on is unavailable right now: the company's \
     identity provider cannot be reached. Administrators can still sign in with their password.";
