//! A public handle in a path segment (`/account/passkeys/<handle>/…`, sessions, devices): exactly
//! the shape this app issues — 22 characters of the base64url alphabet — or the request is a 404
//! before any query. Anything else (a NUL, which PostgreSQL refuses in text with an error; a
//! non-ASCII letter; a wrong length) names no row, so no query is asked about it.

use rocket::request::FromParam;

use crate::app::error::AppError;
use crate::token::is_handle;

/// A segment of the handle alphabet and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle<'a>(&'a str);

impl<'a> Handle<'a> {
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// The segment is not a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAHandle;

impl From<NotAHandle> for AppError {
    fn from(_: NotAHandle) -> AppError {
        AppError::NotFound
    }
}

/// A route takes `Result<Handle, NotAHandle>` and answers `?` on it: a 404 after its guards
/// (so an anonymous post still goes to the sign-in page), where a failed parameter would
/// forward with 422 before them.
impl<'a> FromParam<'a> for Handle<'a> {
    type Error = NotAHandle;

    fn from_param(param: &'a str) -> Result<Self, NotAHandle> {
        if is_handle(param) {
            Ok(Handle(param))
        } else {
            Err(NotAHandle)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shape_of_an_issued_handle_is_a_handle() {
        let issued = &crate::token::random_token()[..22];
        assert_eq!(Handle::from_param(issued).map(|h| h.as_str()), Ok(issued));
        for odd in [
            "a\u{0}b",
            "AAAAAAAAAAAAAAAAAAAAA\u{0}",
            "AAAAAAAAAAAAAAAAAAAAé",
            "AAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAA+/",
            "",
        ] {
            assert_eq!(Handle::from_param(odd), Err(NotAHandle), "{odd:?}");
        }
    }
}
