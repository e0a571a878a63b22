//! Security headers on every response, in one fairing rather than per-route code.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

use crate::web::cookies::CookiePolicy;

/// Adds CSP, no-store caching for every dynamic page, and the usual hardening headers.
pub struct SecurityHeaders;

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// The policy as this deployment needs it: with single sign-on, forms may also lead to the
/// identity provider (Chromium applies `form-action` to the redirect after a form, so the SSO
/// button and signing out of an SSO session would otherwise stop at the portal). Managed state.
#[derive(Debug, Clone)]
pub struct ContentSecurityPolicy(String);

impl ContentSecurityPolicy {
    /// The policy, with the issuer's origin among the form targets when there is one.
    pub fn for_provider(issuer: Option<&str>) -> Self {
        let origin = issuer
            .and_then(|issuer| url::Url::parse(issuer).ok())
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null");
        match origin {
            Some(origin) => ContentSecurityPolicy(CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'",
                &format!("form-action 'self' {origin}"),
            )),
            None => ContentSecurityPolicy(CONTENT_SECURITY_POLICY.to_string()),
        }
    }
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let is_static =
            request.uri().path().starts_with("/static/") || request.uri().path() == "/favicon.ico";
        // Pages show personal data and CSRF tokens: no browser or proxy may keep a copy.
        let cache = if is_static && response.status().code < 400 {
            "public, max-age=3600"
        } else {
            "no-store"
        };
        response.set_header(Header::new("Cache-Control", cache));
        let policy = request
            .rocket()
            .state::<ContentSecurityPolicy>()
            .map_or(CONTENT_SECURITY_POLICY, |policy| policy.0.as_str());
        response.set_header(Header::new("Content-Security-Policy", policy));
        response.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        // A password link's page must not hand its token to anything it loads or links to.
        let referrer = if request.uri().path().starts_with("/password/reset") {
            "no-referrer"
        } else {
            "same-origin"
        };
        response.set_header(Header::new("Referrer-Policy", referrer));
        response.set_header(Header::new("X-Frame-Options", "DENY"));
        response.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        // Secure cookies mean the site is served over HTTPS: tell browsers never to try plain
        // HTTP for it again, where a network attacker could strip TLS before the first redirect.
        let secure = request
            .rocket()
            .state::<CookiePolicy>()
            .is_some_and(|policy| policy.secure);
        if secure {
            response.set_header(Header::new(
                "Strict-Transport-Security",
                "max-age=31536000; includeSubDomains",
            ));
        }
    }
}
