//! The one-time first-run token: generated at start while no account exists, printed on the
//! console, and destroyed when the first administrator is created.

use std::sync::Mutex;

use crate::secret::Secret;
use crate::token::{constant_time_eq, random_token};

#[derive(Debug, Default)]
pub struct SetupToken(Mutex<Option<Secret<String>>>);

impl SetupToken {
    /// A token ready for use.
    pub fn issue() -> SetupToken {
        SetupToken(Mutex::new(Some(random_token().into())))
    }

    /// No token: set-up is closed (accounts already exist).
    pub fn closed() -> SetupToken {
        SetupToken(Mutex::new(None))
    }

    /// The token to print, if set-up is open.
    pub fn peek(&self) -> Option<String> {
        self.0
            .lock()
            .map(|t| t.as_ref().map(|t| t.expose().clone()))
            .unwrap_or(None)
    }

    pub fn matches(&self, candidate: &str) -> bool {
        match self.0.lock() {
            Ok(guard) => guard
                .as_ref()
                .is_some_and(|t| constant_time_eq(t.expose().as_bytes(), candidate.as_bytes())),
            Err(_) => false,
        }
    }

    /// Ends the token's life after use.
    pub fn consume(&self) {
        if let Ok(mut guard) = self.0.lock() {
            *guard = None;
        }
    }
}
