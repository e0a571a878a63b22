//! Where a request came from, for session rows and the audit log.

use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use crate::audit::Origin;

/// Longest user agent kept on a session row or an event.
const MAX_USER_AGENT_CHARS: usize = 300;

/// The IP is the socket peer (Rocket's `ip_header` is switched off unless `proxy_ip_header` names
/// a trusted proxy's header: a client-chosen header must not pick its throttle key).
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
