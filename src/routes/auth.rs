//! Sign in and sign out.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::audit::{AuditLog, Event, EventKind};
use crate::auth::guard::{CookiePolicy, CsrfProtected, FormSecret, PublicForm, SessionForm};
use crate::auth::login::{authenticate, LoginError, LoginOutcome};
use crate::auth::throttle::LoginThrottle;
use crate::auth::{looks_like_token, safe_next, ClientInfo, CurrentSession, SessionStore};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::users::password::PasswordService;
use crate::web::page::{self, Layout};

use super::CsrfOnly;

/// The login form (no `Debug`: it holds a password).
#[derive(FromForm)]
pub struct LoginFields {
    #[field(default = "")]
    email: String,
    #[field(default = "")]
    password: String,
    #[field(default = false)]
    remember: bool,
    #[field(default = "")]
    next: String,
    #[field(default = "")]
    csrf_token: String,
}

impl CsrfProtected for LoginFields {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

const GENERIC_FAILURE: &str = "The e-mail address or password is incorrect.";

fn destination(next: &str) -> String {
    safe_next(next).unwrap_or("/dashboard").to_string()
}

fn login_form(
    status: Status,
    secret: &FormSecret,
    email: &str,
    next: &str,
    remember: bool,
    error: Option<String>,
) -> (Status, Template) {
    let next = safe_next(next).unwrap_or("");
    (
        status,
        Template::render(
            "login.html",
            context! {
                layout: Layout::anonymous(None),
                csrf_token: secret.csrf_token(),
                email,
                next,
                remember,
                error,
            },
        ),
    )
}

/// The login form. Shown even to a signed-in browser (to switch accounts): signing in again
/// replaces that browser's session rather than reusing it.
#[get("/login?<next>")]
fn login_page(
    next: Option<&str>,
    signed_in: Option<&CurrentSession>,
    secret: FormSecret,
    flash: Option<FlashMessage<'_>>,
) -> Template {
    let layout = match signed_in {
        Some(current) => Layout::signed_in(current, flash),
        None => Layout::anonymous(flash),
    };
    Template::render(
        "login.html",
        context! {
            layout,
            csrf_token: secret.csrf_token(),
            email: "",
            next: safe_next(next.unwrap_or("")).unwrap_or(""),
            remember: false,
            error: Option::<String>::None,
        },
    )
}

impl From<LoginError> for AppError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::Database(e) => AppError::Database(e),
            LoginError::Hashing(e) => e.into(),
        }
    }
}

#[post("/login", data = "<form>")]
async fn login(
    form: PublicForm<LoginFields>,
    secret: FormSecret,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    passwords: &State<PasswordService>,
    throttle: &State<LoginThrottle>,
    sessions: &State<SessionStore>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    let fields = form.0;
    // The form again, filled in as posted (never the password), with a message.
    let form_again = |status: Status, message: &str| {
        let page = login_form(
            status,
            &secret,
            &fields.email,
            &fields.next,
            fields.remember,
            Some(message.to_string()),
        );
        Ok(Either::Right(page))
    };
    if fields.email.trim().is_empty() || fields.password.is_empty() {
        let message = "Please enter your e-mail address and your password.";
        return form_again(Status::UnprocessableEntity, message);
    }
    let outcome = authenticate(
        db,
        passwords,
        throttle,
        &fields.email,
        &fields.password,
        client.ip.as_deref(),
    )
    .await?;
    match outcome {
        LoginOutcome::Success(user) => {
            // Whatever session this browser had is replaced, never upgraded (fixation).
            let previous = cookies
                .get_private(policy.session_cookie_name())
                .map(|c| c.value().to_string())
                .filter(|t| looks_like_token(t));
            let Some(issued) = sessions
                .create(&user, &client.origin(fields.remember), previous.as_deref())
                .await?
            else {
                // Disabled or re-passworded while this login was being checked: it fails.
                let event = Event::new(EventKind::LoginFailed, &client)
                    .email(&fields.email)
                    .subject(user.id)
                    .detail("account changed during sign-in");
                audit.record(event).await?;
                return form_again(Status::Unauthorized, GENERIC_FAILURE);
            };
            policy.set_session(cookies, issued.token, fields.remember);
            let mut event = Event::new(EventKind::LoginSucceeded, &client)
                .actor(user.id)
                .subject(user.id)
                .session(&issued.session.handle);
            if fields.remember {
                event = event.detail("keep me signed in");
            }
            audit.record(event).await?;
            Ok(Either::Left(Redirect::to(destination(&fields.next))))
        }
        LoginOutcome::Failed { reason, user_id } => {
            let mut event = Event::new(EventKind::LoginFailed, &client)
                .email(&fields.email)
                .detail(reason.as_str());
            if let Some(id) = user_id {
                event = event.subject(id);
            }
            audit.record(event).await?;
            form_again(Status::Unauthorized, GENERIC_FAILURE)
        }
        LoginOutcome::Throttled { retry_after } => {
            audit
                .record(
                    Event::new(EventKind::LoginThrottled, &client)
                        .email(&fields.email)
                        .detail(format!("retry after {retry_after} s")),
                )
                .await?;
            Err(AppError::Throttled {
                retry_after: retry_after.max(1),
            })
        }
    }
}

#[post("/logout", data = "<form>")]
async fn logout(
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    sessions: &State<SessionStore>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    let current = &form.session;
    sessions.revoke_by_token(current.token()).await?;
    policy.clear_session(cookies);
    audit
        .record(
            Event::new(EventKind::Logout, &client)
                .actor(current.session.user_id)
                .subject(current.session.user_id)
                .session(&current.session.handle),
        )
        .await?;
    Ok(page::done("/login", "You have been signed out."))
}

pub fn routes() -> Vec<Route> {
    routes![login_page, login, logout]
}
