//! One line per request (method, route template, status, duration, request id) and the request
//! counters of the metrics, from one fairing. The id goes back to the client as `X-Request-Id`,
//! so a person reporting a problem can quote it and the operator can find the line.
//!
//! Only the route template is logged, never the path: a path can carry a one-time link
//! (`/password/reset/<token>`), a query an e-mail address. Headers, cookies and bodies are never
//! read here.

use std::time::{Duration, Instant};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

use crate::app::App;

pub struct RequestLog;

/// When the request arrived and the id it answers under.
struct Arrival {
    at: Instant,
    id: String,
}

/// A request id a trusted proxy passed on (`X-Request-Id`) is kept when it is short and plain;
/// anything else is replaced, so a client cannot write arbitrary text into the log.
fn request_id(request: &Request<'_>) -> String {
    let passed = request.headers().get_one("X-Request-Id").filter(|id| {
        (8..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    });
    match passed {
        Some(id) => id.to_string(),
        None => new_request_id(),
    }
}

/// 64 random bits as 16 hex digits: unique enough to find one line among a day's, and not a
/// secret (it is sent to the client). Written straight into one string, one allocation.
fn new_request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits: u64 = rand::random();
    (0..16)
        .rev()
        .map(|nibble| char::from(HEX[((bits >> (nibble * 4)) & 0xf) as usize]))
        .collect()
}

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "Request log and request metrics",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        let id = request_id(request);
        request.local_cache(|| Arrival {
            at: Instant::now(),
            id,
        });
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let arrival = request.local_cache(|| Arrival {
            at: Instant::now(),
            id: request_id(request),
        });
        let took: Duration = arrival.at.elapsed();
        let route = request
            .route()
            .map_or("unmatched", |route| route.uri.origin.path().as_str());
        let method = request.method();
        let status = response.status().code;
        if let Some(app) = request.rocket().state::<App>() {
            app.metrics.request(route, method.as_str(), status, took);
        }
        crate::logs::request(&arrival.id, method.as_str(), route, status, took);
        // Borrowed from the request's cache, which lives as long as the response.
        response.set_header(Header::new("X-Request-Id", arrival.id.as_str()));
    }
}
