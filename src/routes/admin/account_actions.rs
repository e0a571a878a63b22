//! What an administrator can do to one account from the users page: mail a reset link, reset
//! its second factor, unlock it, disable or enable it, change its role.

use crate::auth::grants::{ManageAccess, ManageAccounts};
use crate::auth::CurrentUser;
use crate::web::guards::{StaffForm, SudoForm};
use rocket::form::FromForm;
use rocket::{post, routes, uri, Route, State};

use super::users::rocket_uri_macro_users_page;
use super::{after_ending, after_ending_all};
use crate::app::accounts::{self, AccountAction, AccountOutcome};
use crate::app::error::{AppError, AppResult};
use crate::app::recovery::{self, Delivery, ResetLink, Unlock};
use crate::app::two_factor;
use crate::app::{AccountRef, Actor, App};
use crate::ids::UserId;
use crate::routes::CsrfOnly;
use crate::secret::Secret;
use crate::users::links::LinkPurpose;
use crate::users::Role;
use crate::web::cookies::SessionCookie;
use crate::web::guards::forms::csrf_protected;
use crate::web::page::{self, NoticeRedirect};
use crate::web::params::NotAnId;
use crate::web::refusals::left_the_company;

/// Mails a reset link (an invitation again, if the account has no password yet).
#[post("/admin/users/<user_id>/reset-link", data = "<form>")]
async fn send_reset_link(
    user_id: Result<UserId, NotAnId>,
    form: StaffForm<ManageAccess, CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let user_id = user_id?;
    let here = uri!(users_page(_, _, _, _, _));
    let target = AccountRef::Id(user_id);
    match recovery::reset_link(app, &form.actor, target, Delivery::Mail).await? {
        ResetLink::NoSuchUser => Err(AppError::NotFound),
        ResetLink::Disabled => Ok(page::failed(
            here,
            "That account is disabled; enable it before sending a link.",
        )),
        ResetLink::Issued(issued) => {
            let what = match issued.purpose {
                LinkPurpose::Reset => "A password reset link",
                LinkPurpose::Invitation => "A new invitation link",
            };
            let message = format!("{what} is on its way to {}.", issued.user.email);
            Ok(page::done(here, message))
        }
    }
}

/// Removes someone's second factor (a lost phone): their sessions end, they are mailed, and the
/// password alone signs them in until they set up a new authenticator.
#[post("/admin/users/<user_id>/reset-two-factor", data = "<form>")]
async fn reset_two_factor(
    user_id: Result<UserId, NotAnId>,
    form: SudoForm<ManageAccess, CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let SudoForm(StaffForm {
        staff: admin,
        actor,
        ..
    }) = form;
    let user_id = user_id?;
    let Some(reset) = two_factor::reset(app, &actor, AccountRef::Id(user_id)).await? else {
        return Err(AppError::NotFound);
    };
    let done = format!(
        "{}: {}; {} session(s) signed out.",
        reset.user.name,
        reset.summary(),
        reset.ended
    );
    let own = "Your two-factor sign-in was reset and your sessions were signed out.";
    let back = uri!(users_page(_, _, _, _, _));
    Ok(after_ending_all(
        &admin.0,
        &reset.user,
        &cookie,
        own,
        back,
        done,
    ))
}

/// Clears an account's failed sign-in count, so its owner can try again now.
#[post("/admin/users/<user_id>/unlock", data = "<form>")]
async fn unlock_user(
    user_id: Result<UserId, NotAnId>,
    form: StaffForm<ManageAccess, CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let user_id = user_id?;
    let here = uri!(users_page(_, _, _, _, _));
    match recovery::unlock(app, &form.actor, AccountRef::Id(user_id)).await? {
        Unlock::NoSuchUser => Err(AppError::NotFound),
        Unlock::NotLocked(user) => Ok(page::done(
            here,
            format!("{} had no failed sign-ins to clear.", user.name),
        )),
        Unlock::Unlocked(user) => Ok(page::done(
            here,
            format!("{} can sign in again.", user.name),
        )),
    }
}

/// Applies an account action and says how it went.
async fn change_account(
    admin: &CurrentUser,
    user_id: UserId,
    action: AccountAction,
    actor: Actor,
    cookie: &SessionCookie<'_>,
    app: &App,
) -> AppResult<NoticeRedirect> {
    let here = uri!(users_page(_, _, _, _, _));
    let (user, ended) =
        match accounts::change_account(app, &actor, AccountRef::Id(user_id), action).await? {
            AccountOutcome::NoSuchUser => return Err(AppError::NotFound),
            AccountOutcome::WouldLeaveNoAdmin => {
                return Ok(page::failed(
                    here,
                    "That would leave no enabled administrator; promote someone else first.",
                ))
            }
            AccountOutcome::LeftTheCompany(left_on) => {
                return Ok(page::failed(here, left_the_company(left_on)))
            }
            AccountOutcome::Unchanged(_) => return Ok(page::done(here, "Nothing to change.")),
            AccountOutcome::Changed { user, ended } => (user, ended),
        };
    let message = match action {
        AccountAction::Disable => {
            format!("{} is disabled and was signed out everywhere.", user.name)
        }
        AccountAction::Enable => format!("{} is enabled.", user.name),
        AccountAction::Role(role) => format!(
            "{} is now {}; they must sign in again.",
            user.name,
            role.label().to_lowercase()
        ),
    };
    if after_ending(user.id == admin.id && ended > 0, cookie) {
        return Ok(page::done(uri!("/login"), message));
    }
    Ok(page::done(here, message))
}

/// `/admin/users/<id>/disable` and `/admin/users/<id>/enable`. The last segment is read here,
/// not by a `FromParam` type: a failed parameter would forward with 422 before `StaffForm` runs,
/// and that would replace the 401 (→ sign-in redirect) an anonymous POST to `/role` forwards with.
#[post("/admin/users/<user_id>/<access>", data = "<form>", rank = 2)]
async fn switch_access(
    user_id: Result<UserId, NotAnId>,
    access: &str,
    form: StaffForm<ManageAccess, CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let user_id = user_id?;
    let action = match access {
        "disable" => AccountAction::Disable,
        "enable" => AccountAction::Enable,
        _ => return Err(AppError::NotFound),
    };
    let StaffForm {
        staff: admin,
        actor,
        ..
    } = form;
    change_account(&admin.0, user_id, action, actor, &cookie, app).await
}

#[derive(Debug, FromForm)]
pub struct RoleFields {
    #[field(default = "")]
    role: String,
    csrf_token: Secret<String>,
}

csrf_protected!(RoleFields);

#[post("/admin/users/<user_id>/role", data = "<form>")]
async fn change_role(
    user_id: Result<UserId, NotAnId>,
    form: SudoForm<ManageAccounts, RoleFields>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let SudoForm(StaffForm {
        staff: admin,
        actor,
        form: fields,
    }) = form;
    let user_id = user_id?;
    let Some(role) = Role::parse(&fields.role) else {
        return Err(AppError::BadRequest("Unknown role.".into()));
    };
    change_account(
        &admin.0,
        user_id,
        AccountAction::Role(role),
        actor,
        &cookie,
        app,
    )
    .await
}

pub(super) fn routes() -> Vec<Route> {
    routes![
        send_reset_link,
        unlock_user,
        reset_two_factor,
        switch_access,
        change_role
    ]
}
