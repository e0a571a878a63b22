//! How an `AppError` is answered: the error page in the site's layout, with the right status
//! and, for load shedding and throttling, `Retry-After`.

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use super::page;
use crate::app::error::AppError;
use crate::auth::throttle::ThrottleScope;

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        if self.is_database_unavailable() {
            if let Some(app) = request.rocket().state::<crate::app::App>() {
                app.metrics.database_unavailable();
            }
        }
        if status.code >= 500 {
            log_with_causes(&self);
        }
        let page = page::error_page(request, status, &self.public_message());
        let mut response = Response::build_from(page.respond_to(request)?)
            .status(status)
            .finalize();
        if let Some(seconds) = self.retry_after() {
            response.set_header(Header::new("Retry-After", seconds));
        }
        Ok(response)
    }
}

impl AppError {
    pub fn status(&self) -> Status {
        match self {
            _ if self.is_database_unavailable() => Status::ServiceUnavailable,
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
            _ if self.is_database_unavailable() => Some(DATABASE_RETRY_AFTER.to_string()),
            AppError::Throttled { retry_after, .. } => Some((*retry_after).max(1).to_string()),
            _ => None,
        }
    }

    /// What the page says: specific for client errors, generic for server faults.
    pub fn public_message(&self) -> String {
        match self {
            _ if self.is_database_unavailable() => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::password::HashError;

    #[test]
    fn a_full_hashing_queue_is_load_answered_503_not_a_fault() {
        let error: AppError = HashError::Busy.into();
        assert_eq!(error.status(), Status::ServiceUnavailable);
        assert_eq!(error.retry_after().as_deref(), Some("5"));
    }
}
