//! /admin/sessions: every live session, and ending one or all of someone's.

use crate::auth::grants::ManageAccess;
use crate::auth::Require;
use crate::web::guards::{StaffForm, SudoForm};
use rocket::{get, post, routes, uri, Route, State};
use rocket_dyn_templates::{context, Template};

use super::{after_ending, after_ending_all};
use crate::app::error::{AppError, AppResult};
use crate::app::sessions::{self, Revoke};
use crate::app::{AccountRef, App};
use crate::ids::UserId;
use crate::routes::CsrfOnly;
use crate::text::search_term;
use crate::web::cookies::SessionCookie;
use crate::web::handle::{Handle, NotAHandle};
use crate::web::page::{self, page_window, Layout, Notice, NoticeRedirect, Pagination};
use crate::web::params::NotAnId;
use crate::web::views::{PersonSessions, SessionRow};

const SESSIONS_PER_PAGE: i64 = 50;

#[get("/admin/sessions?<email>&<page>")]
pub(super) async fn sessions_page(
    admin: Require<ManageAccess>,
    email: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let filter = search_term(email);
    let (page, offset) = page_window(page, SESSIONS_PER_PAGE);
    let (counts, rows) = sessions::all_sessions(app, &filter, SESSIONS_PER_PAGE, offset).await?;
    Ok(Template::render(
        "admin_sessions.html",
        context! {
            layout: Layout::signed_in(current, flash),
            csrf_token: current.csrf_token(),
            filter: &filter,
            counts,
            pagination: Pagination::new(page, SESSIONS_PER_PAGE, counts.live_sessions)
                .with_query("email", &filter),
            people: PersonSessions::group(SessionRow::rows(rows, current, app.clock.now())),
        },
    ))
}

#[post("/admin/sessions/<handle>/revoke", data = "<form>")]
async fn revoke_session(
    handle: Result<Handle<'_>, NotAHandle>,
    form: StaffForm<ManageAccess, CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let handle = handle?.as_str();
    let here = uri!(sessions_page(_, _));
    match sessions::revoke(app, &form.actor, handle).await? {
        Revoke::AlreadyEnded => Ok(page::done(here, "That session had already ended.")),
        Revoke::Revoked { own_session } if after_ending(own_session, &cookie) => Ok(page::done(
            uri!("/login"),
            "You signed out your own session.",
        )),
        Revoke::Revoked { .. } => Ok(page::done(here, "That session was signed out.")),
    }
}

#[post("/admin/users/<user_id>/sessions/revoke", data = "<form>")]
async fn force_logout(
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
    let Some(out) = sessions::force_logout(app, &actor, AccountRef::Id(user_id)).await? else {
        return Err(AppError::NotFound);
    };
    let done = format!(
        "{} was signed out everywhere ({} session(s)).",
        out.user.name, out.ended
    );
    let own = "All your sessions were signed out.";
    let back = uri!(sessions_page(_, _));
    Ok(after_ending_all(
        &admin.0, &out.user, &cookie, own, back, done,
    ))
}

pub(super) fn routes() -> Vec<Route> {
    routes![sessions_page, revoke_session, force_logout]
}
