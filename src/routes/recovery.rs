//! Getting back in without a password: "forgot my password" and the page behind a reset or
//! invitation link.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::app::error::AppResult;
use crate::app::recovery::{self, LinkHolder, LinkUse};
use crate::app::App;
use crate::audit::Origin;
use crate::clock::format_timestamp;
use crate::secret::Secret;
use crate::users::links::LinkPurpose;
use crate::users::password::Password;
use crate::web::cookies::LinkCookie;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::{FormSecret, PublicForm};
use crate::web::page::NoticeRedirect;
use crate::web::page::{self, Layout};
use crate::web::refusals::Wording;

#[derive(Debug, FromForm)]
pub struct ForgotFields {
    #[field(default = "")]
    email: String,
    csrf_token: Secret<String>,
}

csrf_protected!(ForgotFields);

fn forgot_form(status: Status, secret: &FormSecret, error: Option<&str>) -> (Status, Template) {
    let page = Template::render(
        "password_forgot.html",
        context! { layout: Layout::anonymous(None), csrf_token: secret.csrf_token(), error },
    );
    (status, page)
}

#[get("/password/forgot")]
fn forgot_page(secret: FormSecret) -> (Status, Template) {
    forgot_form(Status::Ok, &secret, None)
}

/// Always the same answer, whether or not an account exists for the address: the page carries
/// neither the address nor a form token, so it is the same byte for byte.
#[post("/password/forgot", data = "<form>")]
async fn request_reset(
    form: PublicForm<ForgotFields>,
    secret: FormSecret,
    origin: Origin,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let fields = form.0;
    if fields.email.trim().is_empty() {
        let message = "Please enter the e-mail address of your account.";
        return Ok(forgot_form(
            Status::UnprocessableEntity,
            &secret,
            Some(message),
        ));
    }
    recovery::request_reset(app, &fields.email, &origin).await?;
    let page = Template::render(
        "password_forgot_sent.html",
        context! { layout: Layout::anonymous(None), minutes: app.recovery.reset_ttl / 60 },
    );
    Ok((Status::Ok, page))
}

/// Expired, used, forged or truncated: one page for all, and nothing changes.
fn dead_link() -> (Status, Template) {
    let page = Template::render(
        "password_link_invalid.html",
        context! { layout: Layout::anonymous(None) },
    );
    (Status::BadRequest, page)
}

/// The link from the message: its token moves into a private cookie and the browser is sent on
/// to the same page without it, before anything is rendered.
#[get("/password/reset/<token>")]
async fn follow_link(
    token: &str,
    link: LinkCookie<'_>,
    app: &State<App>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    if recovery::open_link(app, token).await?.is_none() {
        return Ok(Either::Right(dead_link()));
    }
    link.set(token.to_string());
    Ok(Either::Left(Redirect::to(uri!(link_page))))
}

fn link_form(
    status: Status,
    holder: &LinkHolder,
    secret: &FormSecret,
    error: Option<&str>,
) -> (Status, Template) {
    let page = Template::render(
        "password_reset.html",
        context! {
            layout: Layout::anonymous(None),
            csrf_token: secret.csrf_token(),
            name: &holder.name,
            email: &holder.email,
            invitation: holder.purpose == LinkPurpose::Invitation,
            recent_factors: holder
                .recent_factors
                .iter()
                .map(|factor| (&factor.what, format_timestamp(factor.added_at)))
                .collect::<Vec<_>>(),
            error,
        },
    );
    (status, page)
}

#[get("/password/reset")]
async fn link_page(
    link: LinkCookie<'_>,
    secret: FormSecret,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let holder = match link.token() {
        Some(token) => recovery::open_link(app, &token).await?,
        None => None,
    };
    Ok(match holder {
        Some(holder) => link_form(Status::Ok, &holder, &secret, None),
        None => dead_link(),
    })
}

/// The new-password form behind a link (its `Debug` redacts the passwords).
#[derive(Debug, FromForm)]
pub struct NewPasswordFields {
    new_password: Password,
    new_password_confirm: Password,
    /// The reset page's box "remove the second factors added in the last 24 hours" (ticked by
    /// default when it lists any; absent — unticked — otherwise).
    #[field(default = false)]
    remove_recent_factors: bool,
    csrf_token: Secret<String>,
}

csrf_protected!(NewPasswordFields);

#[post("/password/reset", data = "<form>")]
async fn use_link(
    form: PublicForm<NewPasswordFields>,
    link: LinkCookie<'_>,
    secret: FormSecret,
    origin: Origin,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let fields = form.0;
    let Some(token) = link.token() else {
        return Ok(Either::Right(dead_link()));
    };
    let (new, confirmation) = (&fields.new_password, &fields.new_password_confirm);
    let remove_recent = fields.remove_recent_factors;
    match recovery::use_link(app, &token, new, confirmation, remove_recent, &origin).await? {
        LinkUse::PasswordSet { purpose, .. } => {
            link.clear();
            let message = match purpose {
                LinkPurpose::Reset => {
                    "Your password has been reset and every session was signed out. Sign in with the new password."
                }
                LinkPurpose::Invitation => "Your password is set. Welcome — sign in with it.",
            };
            Ok(Either::Left(page::done(uri!("/login"), message)))
        }
        LinkUse::Refused { problem, holder } => {
            let status = Status::UnprocessableEntity;
            Ok(Either::Right(link_form(
                status,
                &holder,
                &secret,
                Some(&problem.wording()),
            )))
        }
        LinkUse::Invalid => {
            link.clear();
            Ok(Either::Right(dead_link()))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![forgot_page, request_reset, follow_link, link_page, use_link]
}
