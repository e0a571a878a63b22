//! The session core: tokens, the session rows, who a request is, CSRF and login throttling.
//! No Rocket here: the web layer's guards (`web::guards`) build these values from the request.
//! This file only declares and re-exports.

pub mod csrf;
pub mod current;
pub mod passkey_ceremony;
pub mod pending_login;
pub mod refusals;
pub mod relying_party;
pub mod session;
pub mod sso_sessions;
pub mod throttle;

pub use crate::token::{constant_time_eq, hash_token, looks_like_token, random_token};
pub use current::{grants, CurrentSession, CurrentUser, Grant, Require};
pub use session::{ActiveSession, IssuedSession, SessionLimits};
