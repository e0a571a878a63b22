//! CSRF-checked forms. [`SessionForm`] takes a POST from a signed-in session, [`PublicForm`] one
//! shown before sign-in; both refuse a `csrf_token` that does not match before the handler runs,
//! so a forged request changes nothing.

use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::refusal::Refusal;
use super::session::{any_session, refuse_if_held};
use crate::audit::Origin;
use crate::auth::csrf;
use crate::auth::current::{CurrentSession, Hold};
use crate::secret::Secret;
use crate::token::random_token;
use crate::web::cookies::{jar_and_policy, CookieKind, CookiePolicy};

/// The CSRF secret for forms shown before a session exists (login, first-run set-up), kept in a
/// private browser-session cookie. Reused while present, so opening the login page in a second
/// tab (or a favicon request) never invalidates a form that is already open.
#[derive(Debug)]
pub struct FormSecret(Secret<String>);

impl FormSecret {
    pub fn csrf_token(&self) -> String {
        csrf::masked_token(self.0.expose())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FormSecret {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let (cookies, policy) = try_outcome!(jar_and_policy(request));
        if let Some(secret) = policy.token_in(cookies, CookieKind::Form) {
            return Outcome::Success(FormSecret(secret.into()));
        }
        let secret = random_token();
        cookies.add_private(policy.cookie(CookieKind::Form, secret.clone()));
        Outcome::Success(FormSecret(secret.into()))
    }
}

/// A form that carries a `csrf_token` field.
pub trait CsrfProtected {
    /// Whether a session held for a password change may post it (the password form, sign-out).
    const OPEN_DURING_PASSWORD_HOLD: bool = false;
    /// Whether an administrator held until they set up two-factor may post it (the two-factor
    /// forms, sign-out).
    const OPEN_DURING_TWO_FACTOR_HOLD: bool = false;

    fn csrf_token(&self) -> &str;
}

/// Declares forms whose CSRF token is their `csrf_token` field and that no hold opens (the
/// default of `CsrfProtected`); forms a hold opens say so in an `impl` of their own.
macro_rules! csrf_protected {
    ($($form:ty),* $(,)?) => {$(
        impl $crate::web::guards::CsrfProtected for $form {
            fn csrf_token(&self) -> &str {
                self.csrf_token.expose()
            }
        }
    )*};
}
pub(crate) use csrf_protected;

fn refuse_csrf(request: &Request<'_>) {
    request.local_cache(|| Refusal::Csrf);
}

/// Where a change posted by `session` came from, once its `token` matches the session's CSRF
/// secret; a token that does not is refused (403, and the error page says why).
pub(super) async fn csrf_checked_origin(
    request: &Request<'_>,
    session: &CurrentSession,
    token: &str,
) -> Result<Origin, Status> {
    if !csrf::token_matches(session.session.csrf_secret.expose(), token) {
        refuse_csrf(request);
        return Err(Status::Forbidden);
    }
    Ok(request
        .guard::<Origin>()
        .await
        .succeeded()
        .unwrap_or_default())
}

async fn parse_form<'r, T: FromForm<'r> + Send + 'r>(
    request: &'r Request<'_>,
    data: Data<'r>,
) -> data::Outcome<'r, T, ()> {
    match Form::<T>::from_data(request, data).await {
        Outcome::Success(form) => Outcome::Success(form.into_inner()),
        Outcome::Forward(forward) => Outcome::Forward(forward),
        Outcome::Error((status, _errors)) => Outcome::Error((status, ())),
    }
}

/// A POSTed form from a signed-in session whose `csrf_token` matches that session, with where
/// the request came from (for the change's audit event).
#[derive(Debug)]
pub struct SessionForm<T> {
    pub session: CurrentSession,
    pub form: T,
    pub origin: Origin,
}

impl<T> SessionForm<T> {
    /// The session, the form and where it came from, for a handler that uses all three.
    pub fn into_parts(self) -> (CurrentSession, T, Origin) {
        (self.session, self.form, self.origin)
    }
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected + Send + 'r> FromData<'r> for SessionForm<T> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        // The session is checked before the body is read, so anonymous posts forward untouched.
        let allowed = |hold| match hold {
            Hold::PasswordChange => T::OPEN_DURING_PASSWORD_HOLD,
            Hold::TwoFactorEnrolment => T::OPEN_DURING_TWO_FACTOR_HOLD,
        };
        let session = match any_session(request)
            .await
            .and_then(|current| refuse_if_held(current, request, allowed))
        {
            Outcome::Success(current) => current.clone(),
            Outcome::Forward(status) => return Outcome::Forward((data, status)),
            Outcome::Error((status, ())) => return Outcome::Error((status, ())),
        };
        let form: T = try_outcome!(parse_form(request, data).await);
        let origin = match csrf_checked_origin(request, &session, form.csrf_token()).await {
            Ok(origin) => origin,
            Err(status) => return Outcome::Error((status, ())),
        };
        Outcome::Success(SessionForm {
            session,
            form,
            origin,
        })
    }
}

/// A POSTed form shown before sign-in whose `csrf_token` matches the browser's form cookie.
#[derive(Debug)]
pub struct PublicForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected + Send + 'r> FromData<'r> for PublicForm<T> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        let secret = request
            .rocket()
            .state::<CookiePolicy>()
            .and_then(|policy| request.cookies().get_private(policy.name(CookieKind::Form)))
            .map(|cookie| cookie.value().to_string());
        let form: T = try_outcome!(parse_form(request, data).await);
        match secret {
            Some(secret) if csrf::token_matches(&secret, form.csrf_token()) => {
                Outcome::Success(PublicForm(form))
            }
            _ => {
                refuse_csrf(request);
                Outcome::Error((Status::Forbidden, ()))
            }
        }
    }
}
