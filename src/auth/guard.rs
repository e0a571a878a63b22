//! Request guards: the only place authorization happens.
//!
//! `CurrentSession` reads the private cookie and loads the session once per request (cached in
//! request-local state); `CurrentUser` and `AdminUser` are built on it. Anonymous requests forward
//! with 401, which the catcher turns into a redirect to the login page; a signed-in non-admin gets
//! 403 from `AdminUser`. `SessionForm` / `PublicForm` are data guards that refuse a POST whose
//! `csrf_token` does not match before the handler runs, so a forged request changes nothing.

use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};
use rocket::time::Duration;

use super::pending_login::PENDING_LOGIN_SECONDS;
use super::session::ActiveSession;
use super::{csrf, looks_like_token, random_token};
use crate::app::{self, App};
use crate::audit::Origin;
use crate::ids::UserId;
use crate::users::devices::{DEVICE_LIFETIME, MAX_TOKENS_PER_BROWSER};
use crate::users::{Email, Role};

/// Seconds a one-time message waits for the page it is for.
const NOTICE_COOKIE_SECONDS: i64 = 60;

/// Gives a persistent cookie its lifetime as both `Max-Age` and `Expires`, agreeing. (Rocket
/// adds a one-week `Expires` to a private cookie that has none, which contradicted a longer
/// `Max-Age`; browsers that read only `Expires` then dropped a 30-day cookie after 7.)
fn set_lifetime(cookie: &mut Cookie<'static>, seconds: i64) {
    cookie.set_max_age(Duration::seconds(seconds));
    cookie.set_expires(rocket::time::OffsetDateTime::now_utc() + Duration::seconds(seconds));
}

/// How cookies are named and flagged; managed state built from the settings.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
    pub remember_max_age: i64,
}

impl CookiePolicy {
    /// With `Secure`, the `__Host-` prefix also pins the cookie to this host and path `/`.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-hr_session"
        } else {
            "hr_session"
        }
    }

    /// The cookie holding the CSRF secret for forms shown before a login exists.
    pub fn form_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-hr_form"
        } else {
            "hr_form"
        }
    }

    fn base_cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(name, value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(self.secure);
        cookie
    }

    /// The session cookie: a browser-session cookie, or a persistent one for "keep me signed in".
    /// (Rocket would otherwise give private cookies a one-week expiry.)
    pub fn session_cookie(&self, token: String, remember: bool) -> Cookie<'static> {
        let mut cookie = self.base_cookie(self.session_cookie_name(), token);
        if remember {
            set_lifetime(&mut cookie, self.remember_max_age);
        } else {
            cookie.set_expires(rocket::http::private::cookie::Expiration::Session);
        }
        cookie
    }

    pub fn set_session(&self, cookies: &CookieJar<'_>, token: String, remember: bool) {
        cookies.add_private(self.session_cookie(token, remember));
    }

    /// A `Set-Cookie` that deletes the session cookie, for responses built outside the cookie
    /// jar (catchers).
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.base_cookie(self.session_cookie_name(), String::new());
        cookie.make_removal();
        cookie
    }

    pub fn clear_session(&self, cookies: &CookieJar<'_>) {
        cookies.remove_private(self.base_cookie(self.session_cookie_name(), String::new()));
    }

    /// The cookie that carries a password link's token from its URL to the form (see
    /// [`LinkCookie`]).
    fn link_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-hr_link"
        } else {
            "hr_link"
        }
    }

    /// The long-lived cookie listing this browser's device tokens (see [`DeviceCookie`]).
    fn device_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-hr_device"
        } else {
            "hr_device"
        }
    }

    /// The five-minute cookie of a sign-in waiting for its code (see [`PendingLoginCookie`]).
    fn pending_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-hr_pending"
        } else {
            "hr_pending"
        }
    }

    /// The cookie of a one-time message carried over a redirect (see `web::page::Notice`).
    pub fn notice_cookie_name(&self) -> &'static str {
        if self.secure {
            "__Host-hr_notice"
        } else {
            "hr_notice"
        }
    }

    /// A one-minute cookie: the message is for the very next page.
    pub fn notice_cookie(&self, value: String) -> Cookie<'static> {
        let mut cookie = self.base_cookie(self.notice_cookie_name(), value);
        set_lifetime(&mut cookie, NOTICE_COOKIE_SECONDS);
        cookie
    }

    fn form_cookie(&self, secret: String) -> Cookie<'static> {
        let mut cookie = self.base_cookie(self.form_cookie_name(), secret);
        cookie.set_expires(rocket::http::private::cookie::Expiration::Session);
        cookie
    }
}

/// The browser's session cookie, with the policy that names and flags it: what handlers use to
/// set, replace and clear it.
pub struct SessionCookie<'r> {
    jar: &'r CookieJar<'r>,
    policy: &'r CookiePolicy,
}

impl SessionCookie<'_> {
    pub fn set(&self, token: String, remember: bool) {
        self.policy.set_session(self.jar, token, remember);
    }

    pub fn clear(&self) {
        self.policy.clear_session(self.jar);
    }

    /// The token this browser presents, if it has the shape of one (a sign-in replaces it).
    pub fn presented(&self) -> Option<String> {
        token_in(self.jar, self.policy.session_cookie_name())
    }
}

/// The token in the private cookie `name`, if it has the shape of one we issue: forged,
/// truncated or re-keyed cookies read as absent.
fn token_in(jar: &CookieJar<'_>, name: &str) -> Option<String> {
    jar.get_private(name)
        .map(|c| c.value().to_string())
        .filter(|t| looks_like_token(t))
}

/// The request's cookie jar and the policy that names and flags our cookies.
fn jar_and_policy<'r>(
    request: &'r Request<'_>,
) -> request::Outcome<(&'r CookieJar<'r>, &'r CookiePolicy), ()> {
    match request.rocket().state::<CookiePolicy>() {
        Some(policy) => Outcome::Success((request.cookies(), policy)),
        None => Outcome::Error((Status::InternalServerError, ())),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionCookie<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| SessionCookie { jar, policy })
    }
}

/// How long a password link's token may wait in its cookie for the form to be sent.
const LINK_COOKIE_SECONDS: i64 = 15 * 60;

/// The token of a password link, moved out of the URL into a private cookie before the form is
/// shown (as Django's reset view does): the page with the form then has no secret in its address
/// for a Referer, a browser history or a screenshot to leak.
pub struct LinkCookie<'r> {
    jar: &'r CookieJar<'r>,
    policy: &'r CookiePolicy,
}

impl LinkCookie<'_> {
    pub fn set(&self, token: &str) {
        let name = self.policy.link_cookie_name();
        let mut cookie = self.policy.base_cookie(name, token.to_string());
        set_lifetime(&mut cookie, LINK_COOKIE_SECONDS);
        self.jar.add_private(cookie);
    }

    pub fn token(&self) -> Option<String> {
        token_in(self.jar, self.policy.link_cookie_name())
    }

    pub fn clear(&self) {
        let name = self.policy.link_cookie_name();
        self.jar
            .remove_private(self.policy.base_cookie(name, String::new()));
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LinkCookie<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| LinkCookie { jar, policy })
    }
}

/// The browser's known-device cookie: the device tokens of the accounts that signed in from it
/// (newest first, at most [`MAX_TOKENS_PER_BROWSER`]), in one private, HttpOnly cookie that lives
/// as long as a device is remembered. It survives signing out: it names the browser, not a session.
pub struct DeviceCookie<'r> {
    jar: &'r CookieJar<'r>,
    policy: &'r CookiePolicy,
}

/// Separates the tokens inside the device cookie (not in the base64url alphabet).
const DEVICE_TOKEN_SEPARATOR: char = '.';

impl DeviceCookie<'_> {
    /// The well-formed tokens this browser carries.
    pub fn tokens(&self) -> Vec<String> {
        self.jar
            .get_private(self.policy.device_cookie_name())
            .map(|cookie| {
                cookie
                    .value()
                    .split(DEVICE_TOKEN_SEPARATOR)
                    .filter(|t| looks_like_token(t))
                    .take(MAX_TOKENS_PER_BROWSER)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a new device token in front; the oldest falls off past the limit.
    pub fn add(&self, token: String) {
        let mut tokens = self.tokens();
        tokens.retain(|t| *t != token);
        tokens.insert(0, token);
        self.store(tokens);
    }

    /// After a sign-in from a known device: the cookie lives another lifetime, as its row does.
    pub fn refresh(&self) {
        let tokens = self.tokens();
        if !tokens.is_empty() {
            self.store(tokens);
        }
    }

    fn store(&self, mut tokens: Vec<String>) {
        tokens.truncate(MAX_TOKENS_PER_BROWSER);
        let value = tokens.join(&DEVICE_TOKEN_SEPARATOR.to_string());
        let name = self.policy.device_cookie_name();
        let mut cookie = self.policy.base_cookie(name, value);
        set_lifetime(&mut cookie, DEVICE_LIFETIME);
        self.jar.add_private(cookie);
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for DeviceCookie<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| DeviceCookie { jar, policy })
    }
}

/// What a sign-in reads from the browser and leaves in it: the session cookie it replaces (never
/// upgrades) and sets, and the device cookie it proves and extends. The values are read as the
/// request arrives.
pub struct SignInCookies<'r> {
    pub session: SessionCookie<'r>,
    pub devices: DeviceCookie<'r>,
    replacing: Option<String>,
    device_tokens: Vec<String>,
}

impl SignInCookies<'_> {
    /// The session token this browser holds, if any: a sign-in replaces that session.
    pub fn replacing(&self) -> Option<&str> {
        self.replacing.as_deref()
    }

    /// The device tokens this browser carries.
    pub fn device_tokens(&self) -> &[String] {
        &self.device_tokens
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignInCookies<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| {
            let session = SessionCookie { jar, policy };
            let devices = DeviceCookie { jar, policy };
            SignInCookies {
                replacing: session.presented(),
                device_tokens: devices.tokens(),
                session,
                devices,
            }
        })
    }
}

/// The cookie that carries a sign-in from the password step to the code step: a random token,
/// private (so it cannot be forged or read), gone after five minutes.
pub struct PendingLoginCookie<'r> {
    jar: &'r CookieJar<'r>,
    policy: &'r CookiePolicy,
}

impl PendingLoginCookie<'_> {
    pub fn set(&self, token: String) {
        let name = self.policy.pending_cookie_name();
        let mut cookie = self.policy.base_cookie(name, token);
        set_lifetime(&mut cookie, PENDING_LOGIN_SECONDS);
        self.jar.add_private(cookie);
    }

    pub fn token(&self) -> Option<String> {
        token_in(self.jar, self.policy.pending_cookie_name())
    }

    pub fn clear(&self) {
        let name = self.policy.pending_cookie_name();
        self.jar
            .remove_private(self.policy.base_cookie(name, String::new()));
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PendingLoginCookie<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| PendingLoginCookie { jar, policy })
    }
}

/// The signed-in session of this request, with the cookie token it was found by.
#[derive(Clone)]
pub struct CurrentSession {
    pub session: ActiveSession,
    token: String,
}

impl std::fmt::Debug for CurrentSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentSession")
            .field("session", &self.session.handle)
            .field("user_id", &self.session.user_id)
            .finish_non_exhaustive()
    }
}

impl CurrentSession {
    /// The cookie token (needed to log out or rotate); never render or log it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A freshly masked CSRF token for this session's forms.
    pub fn csrf_token(&self) -> String {
        csrf::masked_token(&self.session.csrf_secret)
    }
}

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
        let Some(cookie) = cookies.get_private(policy.session_cookie_name()) else {
            return SessionLookup::Anonymous;
        };
        let token = cookie.value().to_string();
        if !looks_like_token(&token) {
            policy.clear_session(cookies);
            return SessionLookup::Anonymous;
        }
        match app::sessions::current(app, &token).await {
            Ok(Some(session)) => SessionLookup::Found(CurrentSession { session, token }),
            Ok(None) => {
                // Ended, expired or disabled: drop the dead cookie so the browser stops sending it.
                policy.clear_session(cookies);
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
async fn any_session<'r>(request: &'r Request<'_>) -> request::Outcome<&'r CurrentSession, ()> {
    let lookup = request
        .local_cache_async(SessionLookup::resolve(request))
        .await;
    match lookup {
        SessionLookup::Found(current) => Outcome::Success(current),
        SessionLookup::Anonymous => Outcome::Forward(Status::Unauthorized),
        SessionLookup::Unavailable => Outcome::Error((Status::ServiceUnavailable, ())),
    }
}

/// Something a session must do before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// An administrator set the password: the person picks their own on /account/password.
    PasswordChange,
    /// `require_two_factor_for_admins` is on and this administrator has no authenticator app
    /// yet: /account/two-factor is the one page open. (A passkey does not lift it: the password
    /// would still sign the account in alone.)
    TwoFactorEnrolment,
}

impl Hold {
    fn of(current: &CurrentSession, request: &Request<'_>) -> Option<Hold> {
        let required = request
            .rocket()
            .state::<App>()
            .is_some_and(|app| app.two_factor.required_for_admins);
        Hold::of_session(&current.session, required)
    }

    /// The rule itself, for a session and the `require_two_factor_for_admins` setting.
    pub fn of_session(session: &ActiveSession, two_factor_required: bool) -> Option<Hold> {
        if session.must_change_password {
            Some(Hold::PasswordChange)
        } else if two_factor_required
            && session.user_role == Role::Admin
            && !session.two_factor_enabled
        {
            Some(Hold::TwoFactorEnrolment)
        } else {
            None
        }
    }

    fn refusal(self) -> Refusal {
        match self {
            Hold::PasswordChange => Refusal::PasswordChangeRequired,
            Hold::TwoFactorEnrolment => Refusal::TwoFactorRequired,
        }
    }
}

/// Refuses a held session unless `allowed` says the page is open to it: the 403 catcher sends
/// the person to the one page that lifts the hold.
fn refuse_if_held<'r>(
    current: &'r CurrentSession,
    request: &Request<'_>,
    allowed: impl Fn(Hold) -> bool,
) -> request::Outcome<&'r CurrentSession, ()> {
    match Hold::of(current, request) {
        Some(hold) if !allowed(hold) => {
            request.local_cache(|| hold.refusal());
            Outcome::Error((Status::Forbidden, ()))
        }
        _ => Outcome::Success(current),
    }
}

/// A signed-in session that is not held for a password change: what every page needs.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r CurrentSession {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let current = try_outcome!(any_session(request).await);
        refuse_if_held(current, request, |_| false)
    }
}

/// A signed-in session that may set up two-factor: not held, or held only until it has done so.
#[derive(Debug, Clone)]
pub struct SessionForEnrolment(pub CurrentSession);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionForEnrolment {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let current = try_outcome!(any_session(request).await);
        let allowed = |hold| hold == Hold::TwoFactorEnrolment;
        let current = try_outcome!(refuse_if_held(current, request, allowed));
        Outcome::Success(SessionForEnrolment(current.clone()))
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
        let current = try_outcome!(any_session(request).await);
        let allowed = |hold| hold == Hold::PasswordChange;
        let current = try_outcome!(refuse_if_held(current, request, allowed));
        Outcome::Success(SessionEvenIfHeld(current.clone()))
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

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub session: CurrentSession,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let current = try_outcome!(request.guard::<&CurrentSession>().await);
        let session = &current.session;
        Outcome::Success(CurrentUser {
            id: session.user_id,
            email: session.user_email.clone(),
            name: session.user_name.clone(),
            role: session.user_role,
            session: current.clone(),
        })
    }
}

/// A signed-in administrator; anyone else signed in gets 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let user = try_outcome!(request.guard::<CurrentUser>().await);
        if user.is_admin() {
            Outcome::Success(AdminUser(user))
        } else {
            Outcome::Error((Status::Forbidden, ()))
        }
    }
}

/// Longest user agent kept on a session row or an event.
const MAX_USER_AGENT_CHARS: usize = 300;

/// Where a request came from, for session rows and the audit log. The IP is the socket peer
/// (Rocket's `ip_header` is switched off unless `proxy_ip_header` names a trusted proxy's header:
/// a client-chosen header must not pick its throttle key).
#[rocket::async_trait]
impl<'r> FromRequest<'r> for Origin {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let user_agent = request.headers().get_one("User-Agent").map(|ua| {
            ua.chars()
                .filter(|c| !c.is_control())
                .take(MAX_USER_AGENT_CHARS)
                .collect::<String>()
        });
        Outcome::Success(Origin {
            ip: request.client_ip().map(|ip| ip.to_string()),
            user_agent,
            command_line: false,
        })
    }
}

/// The CSRF secret for forms shown before a session exists (login, first-run set-up), kept in a
/// private browser-session cookie. Reused while present, so opening the login page in a second
/// tab (or a favicon request) never invalidates a form that is already open.
#[derive(Debug)]
pub struct FormSecret(String);

impl FormSecret {
    pub fn csrf_token(&self) -> String {
        csrf::masked_token(&self.0)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FormSecret {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let (cookies, policy) = try_outcome!(jar_and_policy(request));
        if let Some(secret) = token_in(cookies, policy.form_cookie_name()) {
            return Outcome::Success(FormSecret(secret));
        }
        let secret = random_token();
        cookies.add_private(policy.form_cookie(secret.clone()));
        Outcome::Success(FormSecret(secret))
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

/// Why a request was refused, for the error page (set before a guard fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    None,
    Csrf,
    /// The account must choose a new password before anything else.
    PasswordChangeRequired,
    /// The administrator must set up two-factor before anything else.
    TwoFactorRequired,
}

fn refuse_csrf(request: &Request<'_>) {
    request.local_cache(|| Refusal::Csrf);
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
        if !csrf::token_matches(&session.session.csrf_secret, form.csrf_token()) {
            refuse_csrf(request);
            return Outcome::Error((Status::Forbidden, ()));
        }
        let origin = request
            .guard::<Origin>()
            .await
            .succeeded()
            .unwrap_or_default();
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
            .and_then(|policy| request.cookies().get_private(policy.form_cookie_name()))
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
