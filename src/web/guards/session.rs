//! The signed-in session of a request. [`SessionLookup`] reads the private cookie and loads the
//! session once per request (kept in request-local state); the person and the administrator
//! are built on it. Anonymous requests forward with 401, which the catcher turns into a redirect
//! to the login page; a signed-in person whose role lacks a route's permission gets 403 from `Require`; a session held for a
//! password change or two-factor enrolment gets 403 everywhere but the page that lifts the hold.

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::refusal::Refusal;
use crate::app::{self, App};
use crate::auth::current::{CurrentSession, CurrentUser, Grant, Hold, Require};
use crate::token::looks_like_token;
use crate::web::cookies::{CookieKind, CookiePolicy};

/// What a request's cookie resolved to, computed once and kept in request-local state.
#[derive(Debug, Clone)]
pub enum SessionLookup {
    Found(CurrentSession),
    Anonymous,
    Unavailable,
}

impl SessionLookup {
    /// Reads the already-resolved lookup without doing one (for error pages and catchers).
    pub fn cached<'r>(request: &'r Request<'_>) -> Option<&'r CurrentSession> {
        match request.local_cache(|| SessionLookup::Anonymous) {
            SessionLookup::Found(current) => Some(current),
            _ => None,
        }
    }

    async fn resolve(request: &Request<'_>) -> SessionLookup {
        let (Some(app), Some(policy)) = (
            request.rocket().state::<App>(),
            request.rocket().state::<CookiePolicy>(),
        ) else {
            return SessionLookup::Unavailable;
        };
        let cookies = request.cookies();
        // get_private fails closed: forged, truncated or re-keyed cookies read as absent.
        let Some(cookie) = cookies.get_private(policy.name(CookieKind::Session)) else {
            return SessionLookup::Anonymous;
        };
        let token = cookie.value().to_string();
        if !looks_like_token(&token) {
            policy.clear(cookies, CookieKind::Session);
            return SessionLookup::Anonymous;
        }
        match app::sessions::current(app, &token).await {
            Ok(Some(session)) => SessionLookup::Found(CurrentSession::new(session, token)),
            Ok(None) => {
                // Ended, expired or disabled: drop the dead cookie so the browser stops sending it.
                policy.clear(cookies, CookieKind::Session);
                SessionLookup::Anonymous
            }
            Err(error) => {
                rocket::error!("session lookup failed: {error}");
                SessionLookup::Unavailable
            }
        }
    }
}

/// The request's session, whether or not it is held for a password change.
pub(super) async fn any_session<'r>(
    request: &'r Request<'_>,
) -> request::Outcome<&'r CurrentSession, ()> {
    let lookup = request
        .local_cache_async(SessionLookup::resolve(request))
        .await;
    match lookup {
        SessionLookup::Found(current) => Outcome::Success(current),
        SessionLookup::Anonymous => Outcome::Forward(Status::Unauthorized),
        SessionLookup::Unavailable => Outcome::Error((Status::ServiceUnavailable, ())),
    }
}

fn refusal(hold: Hold) -> Refusal {
    match hold {
        Hold::PasswordChange => Refusal::PasswordChangeRequired,
        Hold::TwoFactorEnrolment => Refusal::TwoFactorRequired,
    }
}

/// Refuses a held session unless `allowed` says the page is open to it: the 403 catcher sends
/// the person to the one page that lifts the hold.
pub(super) fn refuse_if_held<'r>(
    current: &'r CurrentSession,
    request: &Request<'_>,
    allowed: impl Fn(Hold) -> bool,
) -> request::Outcome<&'r CurrentSession, ()> {
    let required = request
        .rocket()
        .state::<App>()
        .is_some_and(|app| app.two_factor.required_for_admins);
    match current.hold(required) {
        Some(hold) if !allowed(hold) => {
            request.local_cache(|| refusal(hold));
            Outcome::Error((Status::Forbidden, ()))
        }
        _ => Outcome::Success(current),
    }
}

/// A signed-in session that is not held: what every page needs.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r CurrentSession {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let current = try_outcome!(any_session(request).await);
        refuse_if_held(current, request, |_| false)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentSession {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let current = try_outcome!(request.guard::<&CurrentSession>().await);
        Outcome::Success(current.clone())
    }
}

/// A signed-in session, also one held until it does one thing: only the page that does it takes
/// this guard.
async fn session_held_only_for(
    request: &Request<'_>,
    open_to: Hold,
) -> request::Outcome<CurrentSession, ()> {
    let current = try_outcome!(any_session(request).await);
    let current = try_outcome!(refuse_if_held(current, request, |hold| hold == open_to));
    Outcome::Success(current.clone())
}

/// A signed-in session that may set up two-factor: not held, or held only until it has done so.
#[derive(Debug, Clone)]
pub struct SessionForEnrolment(pub CurrentSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionForEnrolment {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        session_held_only_for(request, Hold::TwoFactorEnrolment)
            .await
            .map(SessionForEnrolment)
    }
}

/// A signed-in session, also one held for a password change: only the password page takes it.
/// (A session held for two-factor enrolment is not let in: that hold opens one page only.)
#[derive(Debug, Clone)]
pub struct SessionEvenIfHeld(pub CurrentSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionEvenIfHeld {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        session_held_only_for(request, Hold::PasswordChange)
            .await
            .map(SessionEvenIfHeld)
    }
}

/// The signed-in person.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let current = try_outcome!(request.guard::<&CurrentSession>().await);
        Outcome::Success(CurrentUser::of(current))
    }
}

/// A signed-in administrator; anyone else signed in gets 403.
#[rocket::async_trait]
impl<'r, G: Grant> FromRequest<'r> for Require<G> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let user = try_outcome!(request.guard::<CurrentUser>().await);
        match Require::granted(user) {
            Some(granted) => Outcome::Success(granted),
            None => Outcome::Error((Status::Forbidden, ())),
        }
    }
}
