//! How an `AppError` is answered: the error page in the site's layout, with the right status
//! and, for load shedding and throttling, `Retry-After`.

use rocket::http::Header;
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use super::page;
use crate::error::{log_with_causes, AppError};

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
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
