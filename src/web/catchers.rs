//! Catchers: friendly pages for every error status, and the sign-in redirect for anonymous users.

use rocket::http::{Header, Method, RawStr, Status};
use rocket::response::{self, Redirect, Responder};
use rocket::{catch, catchers, Catcher, Either, Request};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use super::guards::sudo::{held_request, HeldRequest};
use super::guards::SessionLookup;
use super::page::{default_message, error_page, Layout};
use crate::web::cookies::{CookieKind, CookiePolicy};
use crate::web::guards::Refusal;

/// The redirect to the login page, clearing a dead session cookie on the way. (Rocket drops
/// cookie-jar changes before a catcher runs, so the removal is written here as a header.)
struct SignInRedirect {
    to: String,
    clear_cookie: Option<String>,
}

impl<'r> Responder<'r, 'static> for SignInRedirect {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Redirect::to(self.to).respond_to(request)?;
        if let Some(cookie) = self.clear_cookie {
            response.adjoin_header(Header::new("Set-Cookie", cookie));
        }
        Ok(response)
    }
}

/// Guards forward anonymous requests with 401; send the person to sign in and back. A dangerous
/// act held for confirmation (see `guards::sudo`) gets the page that asks for it instead.
#[catch(401)]
fn sign_in_first(request: &Request<'_>) -> Either<(Status, Template), SignInRedirect> {
    if let Some(held) = held_request(request) {
        return Either::Left((Status::Unauthorized, confirmation_page(request, held)));
    }
    Either::Right(sign_in_redirect(request))
}

/// The page that asks a person to confirm it is them, re-posting the held request.
fn confirmation_page(request: &Request<'_>, held: &HeldRequest) -> Template {
    let layout = match SessionLookup::cached(request) {
        Some(current) => Layout::signed_in(current, None),
        None => Layout::anonymous(None),
    };
    let fields: Vec<HeldField<'_>> = held
        .fields
        .iter()
        .map(|(name, value)| HeldField { name, value })
        .collect();
    Template::render(
        "confirm.html",
        context! {
            layout,
            action: &held.action,
            fields,
            code_needed: held.code_needed,
            error: &held.error,
        },
    )
}

#[derive(Serialize)]
struct HeldField<'a> {
    name: &'a str,
    value: &'a str,
}

fn sign_in_redirect(request: &Request<'_>) -> SignInRedirect {
    let clear_cookie = request.rocket().state::<CookiePolicy>().and_then(|policy| {
        let name = policy.name(CookieKind::Session);
        request
            .cookies()
            .get(name)
            .map(|_| policy.removal_cookie(CookieKind::Session).to_string())
    });
    let origin = request.uri();
    let to = if request.method() != Method::Get {
        "/login".to_string()
    } else {
        let next = match origin.query() {
            Some(query) => format!("{}?{}", origin.path(), query),
            None => origin.path().to_string(),
        };
        let encoded = RawStr::new(&next).percent_encode();
        format!("/login?next={}", encoded.as_str())
    };
    SignInRedirect { to, clear_cookie }
}

/// A session held for a password change (or an administrator held until they set up two-factor)
/// may open only the page that lifts the hold: every other page sends the person there. Any other
/// 403 gets the error page.
#[catch(403)]
fn forbidden(request: &Request<'_>) -> Either<Redirect, (Status, Template)> {
    match *request.local_cache(|| Refusal::None) {
        Refusal::PasswordChangeRequired => return Either::Left(Redirect::to("/account/password")),
        Refusal::TwoFactorRequired => return Either::Left(Redirect::to("/account/two-factor")),
        Refusal::None
        | Refusal::Csrf
        | Refusal::ConfirmationNeeded
        | Refusal::StatusFilter
        | Refusal::UnknownStatus => {}
    }
    let status = Status::Forbidden;
    Either::Right((
        status,
        error_page(request, status, default_message(request, status)),
    ))
}

/// Every other status: the error page. A 503 (the database unreachable while a guard looked up
/// the session) says when to come back, as the handlers' own 503s do.
#[catch(default)]
fn any_error(status: Status, request: &Request<'_>) -> ErrorPage {
    let status = if status.code < 400 {
        Status::InternalServerError
    } else {
        status
    };
    ErrorPage {
        status,
        page: error_page(request, status, default_message(request, status)),
    }
}

struct ErrorPage {
    status: Status,
    page: Template,
}

impl<'r> Responder<'r, 'static> for ErrorPage {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = (self.status, self.page).respond_to(request)?;
        if self.status == Status::ServiceUnavailable {
            let seconds = super::error_response::DATABASE_RETRY_AFTER.to_string();
            response.set_header(Header::new("Retry-After", seconds));
        }
        Ok(response)
    }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![sign_in_first, forbidden, any_error]
}
