//! The admin area, one file per page: every session, every account (and what can be done to
//! one), the undelivered mail, the audit trail, the staff-list import. `Require<…>` guards each page and `StaffForm`/`SudoForm` each
//! change (the administrator, the CSRF check and the actor in one guard).

mod access_review;
mod account_actions;
mod audit;
mod confirm;
mod import;
mod mail;
mod sessions;
mod users;

use crate::auth::CurrentUser;
use rocket::{uri, Route};

use crate::users::User;
use crate::web::cookies::SessionCookie;
use crate::web::page::{self, NoticeRedirect};

/// Whether the admin's own session ended with a change (then their cookie goes too, and they
/// land on the login page).
pub(super) fn after_ending(own_session_ended: bool, cookie: &SessionCookie<'_>) -> bool {
    if own_session_ended {
        cookie.clear();
    }
    own_session_ended
}

/// Where an administrator lands after a change that ended every session of `user`: the login
/// page when `user` was themselves (their cookie goes too, with `own` as the message), else `back`
/// with `message`.
pub(super) fn after_ending_all(
    admin: &CurrentUser,
    user: &User,
    cookie: &SessionCookie<'_>,
    own: &str,
    back: rocket::http::uri::Origin<'static>,
    message: String,
) -> NoticeRedirect {
    if after_ending(user.id == admin.id, cookie) {
        return page::done(uri!("/login"), own);
    }
    page::done(back, message)
}

pub fn routes() -> Vec<Route> {
    let mut all = Vec::new();
    all.extend(sessions::routes());
    all.extend(users::routes());
    all.extend(account_actions::routes());
    all.extend(confirm::routes());
    all.extend(audit::routes());
    all.extend(access_review::routes());
    all.extend(mail::routes());
    all.extend(import::routes());
    all
}
