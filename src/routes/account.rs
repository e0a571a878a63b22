//! Self-service: a person's own sessions and password.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::audit::{AuditLog, Event, EventKind};
use crate::auth::guard::{CookiePolicy, CsrfProtected, SessionForm};
use crate::auth::session::{is_handle, SessionSummary};
use crate::auth::throttle::LoginThrottle;
use crate::auth::{ClientInfo, CurrentSession, CurrentUser, SessionStore};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::users::password::{check_new_password, PasswordService, MAX_PASSWORD_CHARS};
use crate::users::User;
use crate::web::device;
use crate::web::page::{self, when, Layout};

use super::CsrfOnly;

/// A session as a table row: what people need to recognise a device.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    pub handle: String,
    pub user_id: i64,
    pub user_name: String,
    pub user_email: String,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
    pub remembered: bool,
    pub is_current: bool,
}

impl SessionRow {
    pub fn from_summary(summary: SessionSummary, current: &CurrentSession) -> SessionRow {
        SessionRow {
            is_current: summary.id == current.session.id,
            device: device::describe(summary.user_agent.as_deref()),
            ip: summary.ip.unwrap_or_else(|| "—".into()),
            created: when(summary.created_at),
            last_seen: when(summary.last_seen_at),
            expires: when(summary.expires_at),
            remembered: summary.remember != 0,
            handle: summary.handle,
            user_id: summary.user_id,
            user_name: summary.user_name,
            user_email: summary.user_email,
        }
    }
}

#[get("/account/sessions")]
async fn sessions_page(
    user: CurrentUser,
    sessions: &State<SessionStore>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<Template> {
    let rows: Vec<SessionRow> = sessions
        .list_for_user(user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow::from_summary(s, &user.session))
        .collect();
    Ok(Template::render(
        "account_sessions.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            csrf_token: user.session.csrf_token(),
            others: rows.iter().filter(|r| !r.is_current).count(),
            sessions: rows,
        },
    ))
}

#[post("/account/sessions/<handle>/revoke", data = "<form>")]
async fn revoke_own(
    handle: &str,
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    sessions: &State<SessionStore>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    if !is_handle(handle) {
        return Err(AppError::NotFound);
    }
    let current = &form.session.session;
    if sessions.revoke_own(current.user_id, handle).await? {
        audit
            .record(
                Event::new(EventKind::SessionRevoked, &client)
                    .actor(current.user_id)
                    .subject(current.user_id)
                    .session(handle)
                    .detail("by its owner"),
            )
            .await?;
        if handle == current.handle {
            policy.clear_session(cookies);
            return Ok(page::done("/login", "You have been signed out."));
        }
        return Ok(page::done(
            "/account/sessions",
            "That session has been signed out.",
        ));
    }
    // Someone else's session is not this person's business: answer as if it did not exist.
    if sessions.handle_exists(handle).await? {
        return Err(AppError::NotFound);
    }
    Ok(page::done(
        "/account/sessions",
        "That session had already ended.",
    ))
}

#[post("/account/sessions/revoke-others", data = "<form>")]
async fn revoke_others(
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    sessions: &State<SessionStore>,
    audit: &State<AuditLog>,
) -> AppResult<Flash<Redirect>> {
    let current = &form.session.session;
    let ended = sessions.revoke_others(current.user_id, current.id).await?;
    audit
        .record(
            Event::new(EventKind::OtherSessionsRevoked, &client)
                .actor(current.user_id)
                .subject(current.user_id)
                .session(&current.handle)
                .detail(format!("{ended} session(s) ended")),
        )
        .await?;
    let message = match ended {
        0 => "There were no other sessions to sign out.".to_string(),
        1 => "Signed out 1 other session.".to_string(),
        n => format!("Signed out {n} other sessions."),
    };
    Ok(page::done("/account/sessions", message))
}

/// No `Debug`: it holds passwords.
#[derive(FromForm)]
pub struct PasswordFields {
    #[field(default = "")]
    current_password: String,
    #[field(default = "")]
    new_password: String,
    #[field(default = "")]
    new_password_confirm: String,
    #[field(default = "")]
    csrf_token: String,
}

impl CsrfProtected for PasswordFields {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn password_form(
    status: Status,
    current: &CurrentSession,
    flash: Option<FlashMessage<'_>>,
    error: Option<String>,
) -> (Status, Template) {
    (
        status,
        Template::render(
            "account_password.html",
            context! {
                layout: Layout::signed_in(current, flash),
                csrf_token: current.csrf_token(),
                error,
            },
        ),
    )
}

#[get("/account/password")]
fn password_page(user: CurrentUser, flash: Option<FlashMessage<'_>>) -> (Status, Template) {
    password_form(Status::Ok, &user.session, flash, None)
}

#[post("/account/password", data = "<form>")]
async fn change_password(
    form: SessionForm<PasswordFields>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    passwords: &State<PasswordService>,
    throttle: &State<LoginThrottle>,
    sessions: &State<SessionStore>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Either<Flash<Redirect>, (Status, Template)>> {
    let SessionForm {
        session: current,
        form: fields,
    } = form;
    let refuse = |message: &str| {
        Ok(Either::Right(password_form(
            Status::UnprocessableEntity,
            &current,
            None,
            Some(message.to_string()),
        )))
    };
    let email = current.session.user_email.clone();
    let ip = client.ip.as_deref();
    // The current-password check is a password guess like any other: same throttle.
    if let Some(retry_after) = throttle.register_attempt(&email, ip).await? {
        return Err(AppError::Throttled { retry_after });
    }
    let Some(user) = User::find_by_id(db, current.session.user_id).await? else {
        return Err(AppError::NotFound);
    };
    let matches = fields.current_password.chars().count() <= MAX_PASSWORD_CHARS
        && passwords
            .verify(Some(&user.password_hash), &fields.current_password)
            .await?
            .matches;
    if !matches {
        return refuse("Your current password is incorrect.");
    }
    throttle.record_success(&email, ip).await?;
    if let Err(error) =
        check_new_password(&fields.new_password, &fields.new_password_confirm, &email)
    {
        return refuse(&error.to_string());
    }
    if fields.new_password == fields.current_password {
        return refuse("The new password must differ from the current one.");
    }
    let hash = passwords.hash(&fields.new_password).await?;
    let (ended, rotated) = sessions
        .change_password(&current.session, current.token(), &hash)
        .await?;
    match rotated {
        Some(issued) => policy.set_session(cookies, issued.token, current.session.remember),
        None => policy.clear_session(cookies),
    }
    audit
        .record(
            Event::new(EventKind::PasswordChanged, &client)
                .actor(user.id)
                .subject(user.id)
                .session(&current.session.handle)
                .detail(format!("{ended} other session(s) ended")),
        )
        .await?;
    Ok(Either::Left(page::done(
        "/account/sessions",
        "Your password has been changed and your other sessions were signed out.",
    )))
}

pub fn routes() -> Vec<Route> {
    routes![
        sessions_page,
        revoke_own,
        revoke_others,
        password_page,
        change_password
    ]
}
