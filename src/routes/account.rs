//! Self-service: a person's own sessions, password and security log.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::app::error::{AppError, AppResult};
use crate::app::password::{self, PasswordChange, PasswordChangeForm};
use crate::app::sessions::{self, RevokeOwn};
use crate::app::App;
use crate::app::{devices, recovery};
use crate::auth::{CurrentSession, CurrentUser};
use crate::secret::Secret;
use crate::users::password::Password;
use crate::web::cookies::SessionCookie;
use crate::web::guards::{CsrfProtected, SessionEvenIfHeld, SessionForm};
use crate::web::handle::{Handle, NotAHandle};
use crate::web::page::{self, page_window, Layout, Pagination};
use crate::web::page::{Notice, NoticeRedirect};
use crate::web::refusals::Wording;
use crate::web::views::{DeviceRow, EventRow, SessionRow};

use super::CsrfOnly;

#[get("/account/sessions")]
pub(crate) async fn sessions_page(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let own = sessions::own_sessions(app, &user.session).await?;
    let now = app.clock.now();
    let rows = SessionRow::rows(own.sessions, &user.session, now);
    Ok(Template::render(
        "account_sessions.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            csrf_token: user.session.csrf_token(),
            others: rows.iter().filter(|r| !r.is_current).count(),
            sessions: rows,
            devices: DeviceRow::rows(own.devices, now),
        },
    ))
}

#[post("/account/sessions/<handle>/revoke", data = "<form>")]
async fn revoke_own(
    handle: Result<Handle<'_>, NotAHandle>,
    form: SessionForm<CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let handle = handle?.as_str();
    let here = uri!(sessions_page);
    match sessions::revoke_own(app, &form.session, handle, &form.origin).await? {
        RevokeOwn::Ended { was_current: true } => {
            cookie.clear();
            Ok(page::done(uri!("/login"), "You have been signed out."))
        }
        RevokeOwn::Ended { was_current: false } => {
            Ok(page::done(here, "That session has been signed out."))
        }
        RevokeOwn::NotLive => Ok(page::done(here, "That session is no longer signed in.")),
    }
}

#[post("/account/sessions/revoke-others", data = "<form>")]
async fn revoke_others(form: SessionForm<CsrfOnly>, app: &State<App>) -> AppResult<NoticeRedirect> {
    let message = match sessions::revoke_others(app, &form.session, &form.origin).await? {
        0 => "There were no other sessions to sign out.".to_string(),
        1 => "Signed out 1 other session.".to_string(),
        n => format!("Signed out {n} other sessions."),
    };
    Ok(page::done(uri!(sessions_page), message))
}

/// Forgets a trusted device: its next sign-in counts as new (throttled with everyone else's and
/// announced by mail).
#[post("/account/devices/<handle>/forget", data = "<form>")]
async fn forget_device(
    handle: Result<Handle<'_>, NotAHandle>,
    form: SessionForm<CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let handle = handle?.as_str();
    if !devices::forget_device(app, &form.session, handle, &form.origin).await? {
        return Err(AppError::NotFound);
    }
    let message = "That device is no longer trusted. Its next sign-in will be announced by e-mail.";
    Ok(page::done(uri!(sessions_page), message))
}

/// Dismisses the dashboard's new-sign-in notice ("that was me").
#[post("/account/devices/dismiss-notices", data = "<form>")]
async fn dismiss_notices(
    form: SessionForm<CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    devices::dismiss_notices(app, &form.session).await?;
    Ok(page::done(uri!("/dashboard"), "Notice dismissed."))
}

/// The password form (its `Debug` redacts the passwords).
#[derive(Debug, FromForm)]
pub struct PasswordFields {
    current_password: Password,
    new_password: Password,
    new_password_confirm: Password,
    csrf_token: Secret<String>,
}

impl CsrfProtected for PasswordFields {
    const OPEN_DURING_PASSWORD_HOLD: bool = true;

    fn csrf_token(&self) -> &str {
        self.csrf_token.expose()
    }
}

fn password_form(
    status: Status,
    current: &CurrentSession,
    flash: Option<Notice>,
    error: Option<String>,
) -> (Status, Template) {
    (
        status,
        Template::render(
            "account_password.html",
            context! {
                layout: Layout::signed_in(current, flash),
                csrf_token: current.csrf_token(),
                must_change: current.session.must_change_password,
                error,
            },
        ),
    )
}

/// The password page: also the one page open while an administrator's password must be replaced.
#[get("/account/password")]
fn password_page(session: SessionEvenIfHeld, flash: Option<Notice>) -> (Status, Template) {
    password_form(Status::Ok, &session.0, flash, None)
}

const ACTIVITY_PER_PAGE: i64 = 50;

/// The person's own security log: everything that happened to their account, and who did it.
#[get("/account/activity?<page>")]
async fn activity_page(
    user: CurrentUser,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let (page, offset) = page_window(page, ACTIVITY_PER_PAGE);
    let (events, total) =
        recovery::own_activity(app, &user.session, ACTIVITY_PER_PAGE, offset).await?;
    let now = app.clock.now();
    let events: Vec<EventRow> = events
        .into_iter()
        .map(|e| EventRow::for_subject(e, now))
        .collect();
    Ok(Template::render(
        "account_activity.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            events,
            pagination: Pagination::new(page, ACTIVITY_PER_PAGE, total),
        },
    ))
}

#[post("/account/password", data = "<form>")]
async fn change_password(
    form: SessionForm<PasswordFields>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let (current, fields, origin) = form.into_parts();
    let change = PasswordChangeForm {
        current: &fields.current_password,
        new: &fields.new_password,
        confirmation: &fields.new_password_confirm,
    };
    match password::change_password(app, &current, change, &origin).await? {
        PasswordChange::Changed { rotated, .. } => {
            match rotated {
                Some(issued) => {
                    cookie.set_session(issued.token.into_exposed(), current.session.remember);
                }
                None => cookie.clear(),
            }
            Ok(Either::Left(page::done(
                uri!(sessions_page),
                "Your password has been changed and your other sessions were signed out.",
            )))
        }
        PasswordChange::Refused(refusal) => Ok(Either::Right(password_form(
            Status::UnprocessableEntity,
            &current,
            None,
            Some(refusal.wording()),
        ))),
    }
}

pub fn routes() -> Vec<Route> {
    routes![
        sessions_page,
        revoke_own,
        revoke_others,
        password_page,
        change_password,
        activity_page,
        forget_device,
        dismiss_notices
    ]
}
