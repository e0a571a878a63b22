//! Our cookies: how each is named and flagged ([`CookiePolicy`], managed state built from the
//! settings) and one typed handle per kind ([`PrivateCookie`]) that handlers take as a guard to
//! set, read and clear it. Every one is private (encrypted and authenticated with the secret
//! key), HttpOnly, SameSite=Lax and Path=/; with `secure_cookies` also Secure and named with the
//! `__Host-` prefix, which pins it to this host and path.

use std::marker::PhantomData;

use rocket::http::private::cookie::Expiration;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::time::{Duration, OffsetDateTime};

use crate::auth::pending_login::PENDING_LOGIN_SECONDS;
use crate::secret::Secret;
use crate::sso::flow::{Flow, FLOW_SECONDS};
use crate::token::looks_like_token;
use crate::users::devices::{DEVICE_LIFETIME, MAX_TOKENS_PER_BROWSER};

/// Every cookie the application sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieKind {
    /// The session token.
    Session,
    /// The CSRF secret of forms shown before a session exists (login, set-up, recovery).
    Form,
    /// A password link's token, moved out of the URL before the form is shown.
    Link,
    /// The device tokens of the accounts that signed in from this browser.
    Device,
    /// A sign-in waiting for its code.
    PendingLogin,
    /// A one-time message carried over a redirect.
    Notice,
    /// A single sign-on in progress: its state, nonce and PKCE verifier, bound to this browser.
    SsoFlow,
}

/// How long a password link's token may wait in its cookie for the form to be sent.
const LINK_COOKIE_SECONDS: i64 = 15 * 60;
/// Seconds a one-time message waits for the page it is for.
const NOTICE_COOKIE_SECONDS: i64 = 60;

impl CookieKind {
    /// How long the browser keeps it: `None` for a browser-session cookie.
    fn lifetime(self) -> Option<i64> {
        match self {
            CookieKind::Session | CookieKind::Form => None,
            CookieKind::Link => Some(LINK_COOKIE_SECONDS),
            CookieKind::Device => Some(DEVICE_LIFETIME),
            CookieKind::PendingLogin => Some(PENDING_LOGIN_SECONDS),
            CookieKind::Notice => Some(NOTICE_COOKIE_SECONDS),
            CookieKind::SsoFlow => Some(FLOW_SECONDS),
        }
    }
}

/// How cookies are named and flagged; managed state built from the settings.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
    pub remember_max_age: i64,
}

impl CookiePolicy {
    /// The cookie's name: with `Secure`, the `__Host-` prefix also pins it to this host and `/`.
    pub fn name(&self, kind: CookieKind) -> &'static str {
        match (kind, self.secure) {
            (CookieKind::Session, false) => "hr_session",
            (CookieKind::Session, true) => "__Host-hr_session",
            (CookieKind::Form, false) => "hr_form",
            (CookieKind::Form, true) => "__Host-hr_form",
            (CookieKind::Link, false) => "hr_link",
            (CookieKind::Link, true) => "__Host-hr_link",
            (CookieKind::Device, false) => "hr_device",
            (CookieKind::Device, true) => "__Host-hr_device",
            (CookieKind::PendingLogin, false) => "hr_pending",
            (CookieKind::PendingLogin, true) => "__Host-hr_pending",
            (CookieKind::Notice, false) => "hr_notice",
            (CookieKind::Notice, true) => "__Host-hr_notice",
            (CookieKind::SsoFlow, false) => "hr_sso",
            (CookieKind::SsoFlow, true) => "__Host-hr_sso",
        }
    }

    /// A cookie of `kind` holding `value`, flagged and timed as that kind is.
    pub fn cookie(&self, kind: CookieKind, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(self.name(kind), value);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(self.secure);
        match kind.lifetime() {
            Some(seconds) => set_lifetime(&mut cookie, seconds),
            // Rocket would otherwise give a private cookie a one-week expiry.
            None => cookie.set_expires(Expiration::Session),
        }
        cookie
    }

    /// The session cookie: a browser-session cookie, or a persistent one for "keep me signed in".
    pub fn session_cookie(&self, token: String, remember: bool) -> Cookie<'static> {
        let mut cookie = self.cookie(CookieKind::Session, token);
        if remember {
            set_lifetime(&mut cookie, self.remember_max_age);
        }
        cookie
    }

    /// A `Set-Cookie` that deletes a cookie, for responses built outside the cookie jar
    /// (catchers).
    pub fn removal_cookie(&self, kind: CookieKind) -> Cookie<'static> {
        let mut cookie = self.cookie(kind, String::new());
        cookie.make_removal();
        cookie
    }

    /// The value of our private cookie of `kind`, if it has the shape of a token we issue:
    /// forged, truncated or re-keyed cookies read as absent.
    pub fn token_in(&self, jar: &CookieJar<'_>, kind: CookieKind) -> Option<String> {
        jar.get_private(self.name(kind))
            .map(|c| c.value().to_string())
            .filter(|t| looks_like_token(t))
    }

    /// Removes our private cookie of `kind` from the browser.
    pub fn clear(&self, jar: &CookieJar<'_>, kind: CookieKind) {
        jar.remove_private(self.cookie(kind, String::new()));
    }
}

/// Gives a persistent cookie its lifetime as both `Max-Age` and `Expires`, agreeing. (Rocket
/// adds a one-week `Expires` to a private cookie that has none, which contradicted a longer
/// `Max-Age`; browsers that read only `Expires` then dropped a 30-day cookie after 7.)
fn set_lifetime(cookie: &mut Cookie<'static>, seconds: i64) {
    cookie.set_max_age(Duration::seconds(seconds));
    cookie.set_expires(OffsetDateTime::now_utc() + Duration::seconds(seconds));
}

/// Names a cookie kind at the type level, so each handle is its own guard type.
pub trait Kind: Send + Sync + 'static {
    const KIND: CookieKind;
}

macro_rules! cookie_kinds {
    ($($marker:ident => $kind:ident),* $(,)?) => {$(
        #[derive(Debug)]
        pub struct $marker;
        impl Kind for $marker {
            const KIND: CookieKind = CookieKind::$kind;
        }
    )*};
}

cookie_kinds!(
    SessionKind => Session,
    LinkKind => Link,
    DeviceKind => Device,
    PendingKind => PendingLogin,
    SsoFlowKind => SsoFlow,
);

/// Kinds whose lifetime is their kind's alone (the session cookie's depends on "keep me signed
/// in": it is set with `SessionCookie::set_session`, never with a plain `set`).
pub trait FixedLifetime: Kind {}
impl FixedLifetime for LinkKind {}
impl FixedLifetime for DeviceKind {}
impl FixedLifetime for PendingKind {}

impl<K: FixedLifetime> PrivateCookie<'_, K> {
    pub fn set(&self, token: String) {
        self.jar.add_private(self.policy.cookie(K::KIND, token));
    }
}

/// One of our private cookies in this request's jar, with the policy that names and flags it.
pub struct PrivateCookie<'r, K> {
    jar: &'r CookieJar<'r>,
    policy: &'r CookiePolicy,
    kind: PhantomData<K>,
}

impl<'r, K: Kind> PrivateCookie<'r, K> {
    fn new(jar: &'r CookieJar<'r>, policy: &'r CookiePolicy) -> Self {
        PrivateCookie {
            jar,
            policy,
            kind: PhantomData,
        }
    }

    /// The token it holds, if it has the shape of one.
    pub fn token(&self) -> Option<String> {
        self.policy.token_in(self.jar, K::KIND)
    }

    pub fn clear(&self) {
        self.policy.clear(self.jar, K::KIND);
    }
}

/// The request's cookie jar and the policy that names and flags our cookies.
pub fn jar_and_policy<'r>(
    request: &'r Request<'_>,
) -> request::Outcome<(&'r CookieJar<'r>, &'r CookiePolicy), ()> {
    match request.rocket().state::<CookiePolicy>() {
        Some(policy) => Outcome::Success((request.cookies(), policy)),
        None => Outcome::Error((Status::InternalServerError, ())),
    }
}

#[rocket::async_trait]
impl<'r, K: Kind> FromRequest<'r> for PrivateCookie<'r, K> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| PrivateCookie::new(jar, policy))
    }
}

/// The browser's session cookie: what handlers use to set, replace and clear it.
pub type SessionCookie<'r> = PrivateCookie<'r, SessionKind>;

impl SessionCookie<'_> {
    /// Sets the session, remembered across browser restarts for "keep me signed in".
    pub fn set_session(&self, token: String, remember: bool) {
        self.jar
            .add_private(self.policy.session_cookie(token, remember));
    }
}

/// The token of a password link, moved out of the URL into a private cookie before the form is
/// shown (as Django's reset view does): the page with the form then has no secret in its address
/// for a Referer, a browser history or a screenshot to leak.
pub type LinkCookie<'r> = PrivateCookie<'r, LinkKind>;

/// The cookie that carries a sign-in from the password step to the code step: a random token,
/// gone after five minutes.
pub type PendingLoginCookie<'r> = PrivateCookie<'r, PendingKind>;

/// The browser's known-device cookie: the device tokens of the accounts that signed in from it
/// (newest first, at most [`MAX_TOKENS_PER_BROWSER`]), in one cookie that lives as long as a
/// device is remembered. It survives signing out: it names the browser, not a session.
pub type DeviceCookie<'r> = PrivateCookie<'r, DeviceKind>;

/// The single sign-on in progress in this browser. SameSite=Lax like every cookie of ours: the
/// provider's redirect back is a top-level GET, which carries it.
pub type SsoFlowCookie<'r> = PrivateCookie<'r, SsoFlowKind>;

impl SsoFlowCookie<'_> {
    pub fn set_flow(&self, flow: &Flow) {
        if let Ok(json) = serde_json::to_string(flow) {
            let cookie = self.policy.cookie(CookieKind::SsoFlow, json);
            self.jar.add_private(cookie);
        }
    }

    /// The flow this browser started, if its cookie is ours and whole.
    pub fn flow(&self) -> Option<Flow> {
        let cookie = self
            .jar
            .get_private(self.policy.name(CookieKind::SsoFlow))?;
        serde_json::from_str(cookie.value()).ok()
    }
}

/// Separates the tokens inside the device cookie (not in the base64url alphabet).
const DEVICE_TOKEN_SEPARATOR: char = '.';

impl DeviceCookie<'_> {
    /// The well-formed tokens this browser carries.
    pub fn tokens(&self) -> Vec<String> {
        self.jar
            .get_private(self.policy.name(CookieKind::Device))
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
        self.set(tokens.join(&DEVICE_TOKEN_SEPARATOR.to_string()));
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
    pub fn replacing(&self) -> Option<Secret<&str>> {
        self.replacing.as_deref().map(Secret::new)
    }

    /// The device tokens this browser carries.
    pub fn device_tokens(&self) -> Secret<&[String]> {
        Secret::new(&self.device_tokens)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignInCookies<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        jar_and_policy(request).map(|(jar, policy)| {
            let session = SessionCookie::new(jar, policy);
            let devices = DeviceCookie::new(jar, policy);
            SignInCookies {
                replacing: session.token(),
                device_tokens: devices.tokens(),
                session,
                devices,
            }
        })
    }
}
