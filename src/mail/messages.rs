//! What each message says. Plain text; every link is absolute, built from `public_url`.
//! Messages name what happened and where to look, and tell the person what to do if it was not
//! them — the page that shows and ends their sessions.

use super::{Letter, MailSettings};
use crate::clock::format_timestamp;
use crate::users::User;

const SIGN_OFF: &str =
    "-- \nHR Portal. This message was sent automatically; replies are not read.\n";

fn letter(user: &User, subject: &str, body: String) -> Letter {
    Letter {
        to_email: user.email.as_str().to_string(),
        to_name: user.name.clone(),
        subject: subject.to_string(),
        body: format!("Hello {},\n\n{body}\n{SIGN_OFF}", user.name).into(),
    }
}

fn minutes(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 && s >= 86_400 => format!("{} day(s)", s / 86_400),
        s if s % 3_600 == 0 && s >= 3_600 => format!("{} hour(s)", s / 3_600),
        s => format!("{} minute(s)", (s + 59) / 60),
    }
}

/// The self-service or admin-sent reset link.
pub fn reset_link(settings: &MailSettings, user: &User, link: &str, ttl: i64) -> Letter {
    let sessions = settings.link("/account/sessions");
    letter(
        user,
        "Reset your HR Portal password",
        format!(
            "Someone (hopefully you) asked to reset the password of your HR Portal account.\n\
             To choose a new password, open this link within {}:\n\n  {link}\n\n\
             The link works once. Setting a new password signs you out everywhere.\n\
             If you did not ask for this, ignore this message: your password stays as it is.\n\
             Your sessions and recent activity: {sessions}\n",
            minutes(ttl)
        ),
    )
}

/// The invitation to a new account without a password yet.
pub fn invitation(settings: &MailSettings, user: &User, link: &str, ttl: i64) -> Letter {
    let login = settings.link("/login");
    letter(
        user,
        "Your HR Portal account",
        format!(
            "An account on HR Portal was created for you ({}).\n\
             To choose your password, open this link within {}:\n\n  {link}\n\n\
             The link works once. Afterwards, sign in at {login}\n",
            user.email.as_str(),
            minutes(ttl)
        ),
    )
}

/// After any password change: by the person, through a reset link, or set by an administrator.
pub fn password_changed(settings: &MailSettings, user: &User, how: &str, at: i64) -> Letter {
    let sessions = settings.link("/account/sessions");
    let forgot = settings.link("/password/forgot");
    letter(
        user,
        "Your HR Portal password was changed",
        format!(
            "The password of your HR Portal account was changed on {} ({how}).\n\
             Your other sessions were ended.\n\n\
             If this was not you, reset your password now at {forgot}\n\
             and tell your administrator. Your sessions: {sessions}\n",
            format_timestamp(at)
        ),
    )
}

/// An administrator ended every session of the account.
pub fn signed_out_everywhere(settings: &MailSettings, user: &User, at: i64) -> Letter {
    let sessions = settings.link("/account/sessions");
    letter(
        user,
        "You were signed out of HR Portal everywhere",
        format!(
            "An administrator ended every session of your HR Portal account on {}.\n\
             Sign in again to continue. Your sessions and recent activity: {sessions}\n",
            format_timestamp(at)
        ),
    )
}

/// A sign-in from a browser that had never signed in to the account (no device cookie for it).
pub fn new_sign_in(
    settings: &MailSettings,
    user: &User,
    device: &str,
    ip: Option<&str>,
    at: i64,
) -> Letter {
    let sessions = settings.link("/account/sessions");
    let forgot = settings.link("/password/forgot");
    let passkeys = settings.link("/account/passkeys");
    letter(
        user,
        "New sign-in to your HR Portal account",
        format!(
            "Your HR Portal account was signed in to from a device it had not seen before:\n\n  \
             {device}, from {}, on {}\n\n\
             If this was you, there is nothing to do.\n\
             Not you? End all sessions: {sessions}\n\
             choose a new password: {forgot}\n\
             and remove any passkey you do not recognise: {passkeys}\n",
            ip.unwrap_or("an unknown address"),
            format_timestamp(at)
        ),
    )
}

/// Two-factor sign-in was switched on or off by the person (`what`: "turned on" / "turned off").
pub fn two_factor_changed(settings: &MailSettings, user: &User, what: &str, at: i64) -> Letter {
    let security = settings.link("/account/two-factor");
    let forgot = settings.link("/password/forgot");
    letter(
        user,
        &format!("Two-factor sign-in was {what}"),
        format!(
            "Two-factor sign-in for your HR Portal account was {what} on {}.\n\
             If this was not you, someone may hold a signed-in session of your account:\n\
             ask for a password reset link at {forgot} and use it within 24 hours. The\n\
             reset signs out every session, and its page offers to remove any authenticator\n\
             app or passkey added in the last 24 hours. Then tell your administrator.\n\
             Your two-factor settings: {security}\n",
            format_timestamp(at)
        ),
    )
}

/// A passkey was added to or removed from the account (`what`: `The passkey "work laptop" was
/// added`).
pub fn passkeys_changed(settings: &MailSettings, user: &User, what: &str, at: i64) -> Letter {
    let passkeys = settings.link("/account/passkeys");
    let forgot = settings.link("/password/forgot");
    letter(
        user,
        "Your HR Portal passkeys changed",
        format!(
            "{what} on {}.\n\
             If this was not you, remove any passkey you do not recognise at {passkeys} (a\n\
             passkey signs in without your password), change your password, and tell your\n\
             administrator: their \"Reset two-factor\" removes every passkey at once. A\n\
             password reset link (at {forgot}) also offers to remove second factors added in\n\
             the last 24 hours.\n",
            format_timestamp(at)
        ),
    )
}

/// A sign-in with a passkey was refused because its signature counter went backwards: a copy of
/// the key may be in use.
pub fn passkey_clone_suspected(
    settings: &MailSettings,
    user: &User,
    passkey: &str,
    at: i64,
) -> Letter {
    let passkeys = settings.link("/account/passkeys");
    letter(
        user,
        "A sign-in with one of your HR Portal passkeys was refused",
        format!(
            "On {} a sign-in with your passkey \"{passkey}\" was refused: its signature counter\n\
             was behind the one we saw last, which happens when a copy of the key is used.\n\
             If you did not restore or copy that authenticator, remove the passkey at\n\
             {passkeys} and tell your administrator.\n",
            format_timestamp(at)
        ),
    )
}

/// New recovery codes replaced the old ones.
pub fn recovery_codes_renewed(settings: &MailSettings, user: &User, at: i64) -> Letter {
    let security = settings.link("/account/two-factor");
    letter(
        user,
        "New HR Portal recovery codes",
        format!(
            "New recovery codes were made for your HR Portal account on {}; the old ones no
             longer work. If this was not you, reset your password, tell your administrator, and
             check your two-factor settings: {security}
",
            format_timestamp(at)
        ),
    )
}

/// An administrator removed the account's second factor and ended its sessions.
pub fn two_factor_reset(settings: &MailSettings, user: &User, at: i64) -> Letter {
    let security = settings.link("/account/two-factor");
    letter(
        user,
        "Your HR Portal two-factor sign-in was reset",
        format!(
            "An administrator reset two-factor sign-in for your HR Portal account on {}: your\n\
             authenticator app, recovery codes and passkeys were removed and every session\n\
             ended. You can now sign in with your password alone; set up a new authenticator\n\
             at {security}\n",
            format_timestamp(at)
        ),
    )
}
