//! First run: while no account exists, a one-time link printed on the console creates the first
//! administrator and signs them in.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::app::accounts::NewAccountForm;
use crate::app::error::{AppError, AppResult};
use crate::app::setup::{self as first_run, Setup, SetupForm};
use crate::app::App;
use crate::audit::Origin;
use crate::secret::Secret;
use crate::users::password::Password;
use crate::users::Role;
use crate::web::cookies::SessionCookie;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::{FormSecret, PublicForm};
use crate::web::page::NoticeRedirect;
use crate::web::page::{self, Layout};
use crate::web::refusals::Wording;

/// The set-up form.
#[derive(FromForm)]
pub struct SetupFields {
    #[field(default = "")]
    token: String,
    #[field(default = "")]
    name: String,
    #[field(default = "")]
    email: String,
    password: Password,
    password_confirm: Password,
    csrf_token: Secret<String>,
}

csrf_protected!(SetupFields);

fn setup_form(
    status: Status,
    secret: &FormSecret,
    fields: (&str, &str, &str),
    error: Option<String>,
) -> (Status, Template) {
    let (token, name, email) = fields;
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

/// Set-up exists only while there is no account and only for the holder of the printed token.
#[get("/setup?<token>")]
async fn setup_page(
    token: Option<&str>,
    secret: FormSecret,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let token = token.unwrap_or("");
    if !first_run::setup_is_open(app, token).await? {
        return Err(AppError::NotFound);
    }
    Ok(setup_form(Status::Ok, &secret, (token, "", ""), None))
}

#[post("/setup", data = "<form>")]
async fn setup(
    form: PublicForm<SetupFields>,
    secret: FormSecret,
    origin: Origin,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let fields = form.0;
    let submitted = SetupForm {
        token: Secret::new(&fields.token),
        account: NewAccountForm {
            name: &fields.name,
            email: &fields.email,
            role: Role::Admin.as_str(),
            password: &fields.password,
            confirmation: &fields.password_confirm,
            must_change: false,
        },
    };
    match first_run::complete_setup(app, submitted, &origin).await? {
        Setup::Done {
            session: Some(issued),
        } => {
            cookie.set_session(issued.token.into_exposed(), false);
            let welcome = "Welcome! Your administrator account is ready.";
            Ok(Either::Left(page::done(uri!("/dashboard"), welcome)))
        }
        // Only a concurrent disable could get here; the account exists, so send them to sign in.
        Setup::Done { session: None } => Ok(Either::Left(page::done(
            uri!("/login"),
            "Your account is ready; please sign in.",
        ))),
        Setup::Invalid(refusal) => {
            let typed = (
                fields.token.as_str(),
                fields.name.as_str(),
                fields.email.as_str(),
            );
            let page = setup_form(
                Status::UnprocessableEntity,
                &secret,
                typed,
                Some(refusal.wording()),
            );
            Ok(Either::Right(page))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![setup_page, setup]
}
