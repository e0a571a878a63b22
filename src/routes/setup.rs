//! First run: while no account exists, a one-time link printed on the console creates the first
//! administrator and signs them in.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::audit::{AuditLog, Event, EventKind};
use crate::auth::guard::{CookiePolicy, CsrfProtected, FormSecret, PublicForm};
use crate::auth::{ClientInfo, SessionStore};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::setup_token::SetupToken;
use crate::users::password::{check_new_password, PasswordService};
use crate::users::{parse_email, parse_name, NewUser, User};
use crate::web::page::{self, Layout};

/// The set-up form (no `Debug`: it holds a password and the set-up token).
#[derive(FromForm)]
pub struct SetupFields {
    #[field(default = "")]
    token: String,
    #[field(default = "")]
    name: String,
    #[field(default = "")]
    email: String,
    #[field(default = "")]
    password: String,
    #[field(default = "")]
    password_confirm: String,
    #[field(default = "")]
    csrf_token: String,
}

impl CsrfProtected for SetupFields {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Set-up exists only while there is no account and only for the holder of the printed token.
async fn ensure_open(db: &Db, setup: &SetupToken, token: &str) -> AppResult<()> {
    if User::count(db).await? > 0 || !setup.matches(token) {
        return Err(AppError::NotFound);
    }
    Ok(())
}

fn setup_form(
    status: Status,
    secret: &FormSecret,
    token: &str,
    name: &str,
    email: &str,
    error: Option<String>,
) -> (Status, Template) {
    (
        status,
        Template::render(
            "setup.html",
            context! {
                layout: Layout::anonymous(None),
                csrf_token: secret.csrf_token(),
                token,
                name,
                email,
                error,
            },
        ),
    )
}

#[get("/setup?<token>")]
async fn setup_page(
    token: Option<&str>,
    secret: FormSecret,
    db: &State<Db>,
    setup: &State<SetupToken>,
) -> AppResult<(Status, Template)> {
    let token = token.unwrap_or("");
    ensure_open(db, setup, token).await?;
    Ok(setup_form(Status::Ok, &secret, token, "", "", None))
}

#[post("/setup", data = "<form>")]
async fn setup(
    form: PublicForm<SetupFields>,
    secret: FormSecret,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    setup: &State<SetupToken>,
    passwords: &State<PasswordService>,
    sessions: &State<SessionStore>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
    clock: &State<Clock>,
) -> AppResult<Either<Flash<Redirect>, (Status, Template)>> {
    let fields = form.0;
    ensure_open(db, setup, &fields.token).await?;
    let invalid = |message: String| {
        Ok(Either::Right(setup_form(
            Status::UnprocessableEntity,
            &secret,
            &fields.token,
            &fields.name,
            &fields.email,
            Some(message),
        )))
    };
    let name = match parse_name(&fields.name) {
        Ok(name) => name,
        Err(message) => return invalid(message.to_string()),
    };
    let email = match parse_email(&fields.email) {
        Ok(email) => email,
        Err(error) => return invalid(error.to_string()),
    };
    if let Err(error) = check_new_password(&fields.password, &fields.password_confirm, &email) {
        return invalid(error.to_string());
    }
    let hash = passwords.hash(&fields.password).await?;
    let new = NewUser {
        email: &email,
        name: &name,
        role: crate::users::Role::Admin,
        password_hash: &hash,
    };
    // Checked again atomically: a concurrent set-up or CLI user makes this a 404.
    let Some(user) = User::create_first_admin(db, &new, clock.now()).await? else {
        return Err(AppError::NotFound);
    };
    setup.consume();
    let Some(issued) = sessions.create(&user, &client.origin(false), None).await? else {
        // Only a concurrent disable could get here; the account exists, so send them to sign in.
        return Ok(Either::Left(page::done(
            "/login",
            "Your account is ready; please sign in.",
        )));
    };
    policy.set_session(cookies, issued.token, false);
    audit
        .record(
            Event::new(EventKind::SetupCompleted, &client)
                .actor(user.id)
                .subject(user.id)
                .session(&issued.session.handle),
        )
        .await?;
    Ok(Either::Left(page::done(
        "/dashboard",
        "Welcome! Your administrator account is ready.",
    )))
}

pub fn routes() -> Vec<Route> {
    routes![setup_page, setup]
}
