//! The session core: tokens, the session rows, request guards, CSRF and login throttling.
//! This file only declares and re-exports.

pub mod csrf;
pub mod guard;
pub mod next;
pub mod passkey_ceremony;
pub mod pending_login;
pub mod refusals;
pub mod relying_party;
pub mod session;
pub mod throttle;

pub use crate::token::{constant_time_eq, hash_token, looks_like_token, random_token};
pub use guard::{AdminUser, CurrentSession, CurrentUser};
pub use next::safe_next;
pub use session::{ActiveSession, IssuedSession, SessionLimits};
