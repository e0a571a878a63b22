//! The one error type handlers return. How it is shown to people lives in `web::error_response`.

use rocket::http::Status;

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
    pub fn status(&self) -> Status {
        match self {
            AppError::Database(e) if crate::db::is_unavailable(e) => Status::ServiceUnavailable,
            AppError::Database(_)
            | AppError::Hashing(_)
            | AppError::Passkey(_)
            | AppError::Render(_) => Status::InternalServerError,
            AppError::Busy { .. } => Status::ServiceUnavailable,
            AppError::Throttled { .. } => Status::TooManyRequests,
            AppError::Csrf => Status::Forbidden,
            AppError::NotFound => Status::NotFound,
            AppError::NoLongerAllowed => Status::Forbidden,
            AppError::BadRequest(_) => Status::BadRequest,
        }
    }

    /// The `Retry-After` value for load shedding and throttling.
    pub fn retry_after(&self) -> Option<String> {
        match self {
            AppError::Busy { retry_after } => Some(retry_after.to_string()),
            AppError::Database(e) if crate::db::is_unavailable(e) => {
                Some(DATABASE_RETRY_AFTER.to_string())
            }
            AppError::Throttled { retry_after, .. } => Some((*retry_after).max(1).to_string()),
            _ => None,
        }
    }

    /// What the page says: specific for client errors, generic for server faults.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Database(e) if crate::db::is_unavailable(e) => {
                "The service cannot reach its database right now. Nothing was changed; please try \
                 again in a moment."
                    .to_string()
            }
            AppError::Database(_)
            | AppError::Hashing(_)
            | AppError::Passkey(_)
            | AppError::Render(_) => {
                "Something went wrong on our side. Please try again.".to_string()
            }
            AppError::Busy { .. } => {
                "The server is handling many sign-ins right now. Please try again in a moment."
                    .to_string()
            }
            AppError::Throttled { retry_after, scope } => format!(
                "{} Please wait {} before trying again.",
                match scope {
                    ThrottleScope::SignIn => "Too many failed sign-in attempts.",
                    ThrottleScope::ResetRequest => "Too many reset requests from your network.",
                },
                describe_wait(*retry_after)
            ),
            AppError::Csrf => "This form has expired or did not come from this site. \
                               Go back, reload the page and try again."
                .to_string(),
            AppError::NotFound => "That page or item does not exist.".to_string(),
            AppError::NoLongerAllowed => {
                "Your administrator rights or your session ended while this request was on its \
                 way, so nothing was changed."
                    .to_string()
            }
            AppError::BadRequest(message) => message.clone(),
        }
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
pub const DATABASE_RETRY_AFTER: u64 = 5;

/// "3 minutes", "40 seconds": a wait people can read.
pub fn describe_wait(seconds: i64) -> String {
    if seconds > 90 {
        format!("{} minutes", (seconds + 59) / 60)
    } else {
        format!("{} seconds", seconds.max(1))
    }
}

/// Logs an error with its whole cause chain (server faults only; never secrets).
pub fn log_with_causes(error: &dyn std::error::Error) {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    rocket::error!("request failed: {message}");
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
