//! Catchers: friendly pages for every error status, and the sign-in redirect for anonymous users.

use rocket::http::{Method, RawStr, Status};
use rocket::response::Redirect;
use rocket::{catch, catchers, Catcher, Request};
use rocket_dyn_templates::Template;

use super::page::{default_message, error_page};

/// Guards forward anonymous requests with 401; send the person to sign in and back.
#[catch(401)]
fn sign_in_first(request: &Request<'_>) -> Redirect {
    let origin = request.uri();
    if request.method() != Method::Get {
        return Redirect::to("/login");
    }
    let next = match origin.query() {
        Some(query) => format!("{}?{}", origin.path(), query),
        None => origin.path().to_string(),
    };
    let encoded = RawStr::new(&next).percent_encode();
    Redirect::to(format!("/login?next={}", encoded.as_str()))
}

#[catch(default)]
fn any_error(status: Status, request: &Request<'_>) -> (Status, Template) {
    let status = if status.code < 400 {
        Status::InternalServerError
    } else {
        status
    };
    (
        status,
        error_page(request, status, default_message(request, status)),
    )
}

pub fn catchers() -> Vec<Catcher> {
    catchers![sign_in_first, any_error]
}
