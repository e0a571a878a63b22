//! Single sign-on's three doors: `GET /login/sso` sends the browser to the identity provider,
//! `GET /login/sso/callback` is where it comes back, and `POST /login/sso/backchannel-logout`
//! is where the provider says a session of its has ended. Without `oidc_issuer`, all three are
//! 404.

use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::Template;

use super::auth::{enter, login_refused, to_code_step};
use crate::app::error::{AppError, AppResult};
use crate::app::sign_in::single_sign_on::{self, SsoCallback, SsoStep};
use crate::app::App;
use crate::audit::Origin;
use crate::sso::flow::Returned;
use crate::web::cookies::{PendingLoginCookie, SignInCookies, SsoFlowCookie};
use crate::web::guards::FormSecret;
use crate::web::next::safe_next;
use crate::web::refusals::{Wording, SSO_UNREACHABLE};

/// Sends the browser to the provider, keeping the flow's secrets in its private cookie.
#[get("/login/sso?<next>&<remember>")]
async fn start(
    next: Option<&str>,
    remember: Option<bool>,
    flow: SsoFlowCookie<'_>,
    secret: FormSecret,
    app: &State<App>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    let next = safe_next(next.unwrap_or("")).unwrap_or("").to_string();
    match single_sign_on::begin(app, next.clone(), remember.unwrap_or(false)).await? {
        Ok(started) => {
            flow.set_flow(&started.flow);
            Ok(Either::Left(Redirect::to(started.authorize_url)))
        }
        Err(unreachable) => {
            tracing::warn!("single sign-on: {unreachable}");
            let page = login_refused(app, &secret, &next, SSO_UNREACHABLE);
            Ok(Either::Right((Status::ServiceUnavailable, page.1)))
        }
    }
}

/// Where the provider sends the browser back: the flow is checked and used up, then the person
/// signed in — or the login page says why not.
#[get("/login/sso/callback?<state>&<code>&<error>&<iss>")]
#[allow(clippy::too_many_arguments)]
async fn callback(
    state: Option<&str>,
    code: Option<&str>,
    error: Option<&str>,
    iss: Option<&str>,
    flow: SsoFlowCookie<'_>,
    cookies: SignInCookies<'_>,
    pending: PendingLoginCookie<'_>,
    secret: FormSecret,
    origin: Origin,
    app: &State<App>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    let started = flow.flow();
    flow.clear();
    let next = started
        .as_ref()
        .map(|flow| flow.next.clone())
        .unwrap_or_default();
    let callback = SsoCallback {
        flow: started,
        returned: Returned {
            state,
            code,
            error,
            issuer: iss,
        },
        replacing: cookies.replacing(),
        device_tokens: cookies.device_tokens(),
    };
    match single_sign_on::complete(app, callback, &origin).await? {
        SsoStep::SignedIn(signed_in) => Ok(Either::Left(enter(*signed_in, &cookies, &next))),
        SsoStep::CodeNeeded(token) => Ok(Either::Left(to_code_step(&pending, token, &next))),
        SsoStep::Refused(refusal) => {
            let page = login_refused(app, &secret, &next, &refusal.wording());
            Ok(Either::Right((Status::Forbidden, page.1)))
        }
    }
}

/// The back-channel logout request's body.
#[derive(Debug, FromForm)]
struct BackChannelLogout<'r> {
    logout_token: &'r str,
}

/// The provider ends the sessions its session covered. No CSRF token: the provider's signature
/// on the logout token is what authenticates the request. `Cache-Control: no-store` as the
/// specification asks; a bad token is 400 and changes nothing.
#[post("/login/sso/backchannel-logout", data = "<form>")]
async fn back_channel_logout(
    form: Option<Form<BackChannelLogout<'_>>>,
    origin: Origin,
    app: &State<App>,
) -> AppResult<NoStore> {
    if app.sso.is_none() {
        return Err(AppError::NotFound);
    }
    let Some(form) = form else {
        return Ok(NoStore(Status::BadRequest));
    };
    match single_sign_on::back_channel_logout(app, form.logout_token, &origin).await? {
        Ok(_) => Ok(NoStore(Status::Ok)),
        Err(bad) => {
            tracing::warn!("single sign-on: logout token refused: {bad}");
            Ok(NoStore(Status::BadRequest))
        }
    }
}

/// A bodiless answer the provider must not cache.
struct NoStore(Status);

impl<'r> rocket::response::Responder<'r, 'static> for NoStore {
    fn respond_to(self, _: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        rocket::Response::build()
            .status(self.0)
            .raw_header("Cache-Control", "no-store")
            .ok()
    }
}

pub fn routes() -> Vec<Route> {
    routes![start, callback, back_channel_logout]
}
