//! The session core: tokens, the session store, request guards, CSRF, the login check and
//! login throttling. This file only declares and re-exports.

pub mod account_change;
pub mod csrf;
pub mod guard;
pub mod login;
pub mod next;
pub mod session;
pub mod throttle;

pub use crate::token::{constant_time_eq, hash_token, looks_like_token, random_token};
pub use guard::{AdminUser, ClientInfo, CurrentSession, CurrentUser};
pub use next::safe_next;
pub use session::{ActiveSession, IssuedSession, SessionLimits, SessionStore};
