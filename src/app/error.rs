//! The one error type use cases return. How it is shown to people (status, wording,
//! `Retry-After`) lives in `web::error_response`.

use crate::auth::throttle::ThrottleScope;
use crate::users::password::HashError;

/// Everything that can stop a request. Client mistakes map to 4xx pages; the rest is logged
/// with its cause chain and shown as a generic 500 (or 503 when the server is only busy).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed")]
    Hashing(#[source] HashError),
    /// The server could not start a passkey ceremony or store its state (a fault, never the
    /// browser's answer: answers that do not check out are refusals, not errors).
    #[error("passkey ceremony failed")]
    Passkey(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the server is busy")]
    Busy { retry_after: u64 },
    #[error("too many attempts")]
    Throttled {
        retry_after: i64,
        scope: ThrottleScope,
    },
    #[error("the form expired or did not come from this site")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("no longer allowed")]
    NoLongerAllowed,
    #[error("{0}")]
    BadRequest(String),
    /// A template the binary ships failed to render (a fault of ours, never the request's).
    #[error("page rendering failed: {0}")]
    Render(&'static str),
}

impl AppError {
    /// Whether the database could not be reached at all (an outage, answered 503), as opposed
    /// to a query that failed.
    pub fn is_database_unavailable(&self) -> bool {
        matches!(self, AppError::Database(e) if crate::db::is_unavailable(e))
    }
}

impl From<HashError> for AppError {
    fn from(error: HashError) -> Self {
        match error {
            // A full hashing queue is load, not a fault: shed it with 503 + Retry-After.
            HashError::Busy => AppError::Busy { retry_after: 5 },
            other => AppError::Hashing(other),
        }
    }
}

impl From<webauthn_rs::prelude::WebauthnError> for AppError {
    fn from(error: webauthn_rs::prelude::WebauthnError) -> Self {
        AppError::Passkey(Box::new(error))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(error: serde_json::Error) -> Self {
        AppError::Passkey(Box::new(error))
    }
}

pub type AppResult<T> = Result<T, AppError>;
