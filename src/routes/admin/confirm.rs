//! The confirmation page in front of every destructive change to an account: the users page
//! links here instead of posting at once, and the form here posts to the change itself.

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::app::accounts;
use crate::app::error::{AppError, AppResult};
use crate::app::App;
use crate::auth::grants::ManageAccess;
use crate::auth::Require;
use crate::ids::UserId;
use crate::web::page::Layout;
use crate::web::params::NotAnId;

/// A change that cannot be taken back from the page that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, rocket::FromFormField)]
pub enum Destructive {
    #[field(value = "disable")]
    Disable,
    #[field(value = "sign-out-everywhere")]
    SignOutEverywhere,
    #[field(value = "reset-two-factor")]
    ResetTwoFactor,
}

impl Destructive {
    /// Where the confirmed form posts.
    fn action(self, user_id: UserId) -> String {
        match self {
            Destructive::Disable => format!("/admin/users/{user_id}/disable"),
            Destructive::SignOutEverywhere => format!("/admin/users/{user_id}/sessions/revoke"),
            Destructive::ResetTwoFactor => format!("/admin/users/{user_id}/reset-two-factor"),
        }
    }

    /// The question, the consequences and the button, in the page's words.
    fn wording(self, name: &str) -> (String, &'static str, &'static str) {
        match self {
            Destructive::Disable => (
                format!("Disable {name}'s account?"),
                "They are signed out everywhere at once and cannot sign in until an administrator \
                 enables the account again. Their employee record is not changed.",
                "Disable the account",
            ),
            Destructive::SignOutEverywhere => (
                format!("Sign {name} out everywhere?"),
                "Every browser signed in to this account is signed out at once, on every instance. \
                 They can sign in again with their password.",
                "Sign out everywhere",
            ),
            Destructive::ResetTwoFactor => (
                format!("Reset {name}'s two-factor sign-in?"),
                "Their authenticator app, recovery codes and passkeys are removed and they are \
                 signed out everywhere; they are told by e-mail. Until they set up a new second \
                 factor, their password alone signs them in.",
                "Reset two-factor",
            ),
        }
    }
}

#[get("/admin/users/<user_id>/confirm?<action>")]
async fn confirm_page(
    admin: Require<ManageAccess>,
    user_id: Result<UserId, NotAnId>,
    action: Option<Destructive>,
    app: &State<App>,
) -> AppResult<Template> {
    let user_id = user_id?;
    let action = action.ok_or(AppError::NotFound)?;
    let admin = &admin.0;
    let Some(user) = accounts::account(app, user_id).await? else {
        return Err(AppError::NotFound);
    };
    // Nobody disables their own account from here: the users page offers no such button.
    if action == Destructive::Disable && user.id == admin.id {
        return Err(AppError::NotFound);
    }
    let (question, consequences, button) = action.wording(&user.name);
    Ok(Template::render(
        "admin_confirm.html",
        context! {
            layout: Layout::signed_in(&admin.session, None),
            csrf_token: admin.session.csrf_token(),
            question,
            consequences,
            button,
            email: user.email.as_str(),
            action: action.action(user.id),
        },
    ))
}

pub(super) fn routes() -> Vec<Route> {
    routes![confirm_page]
}
