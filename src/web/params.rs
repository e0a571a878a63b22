//! How path segments and form fields become the domain's types: Rocket's `FromParam`,
//! `UriDisplay` and `FromFormField` for types defined below the web layer.

use rocket::form::{self, FromFormField, ValueField};
use rocket::http::impl_from_uri_param_identity;
use rocket::http::uri::fmt::{Formatter, Path, UriDisplay};
use rocket::request::FromParam;

use crate::app::error::AppError;
use crate::ids::{DepartmentId, DeviceId, EmployeeId, PasskeyId, SessionId, UserId};
use crate::secret::Secret;
use crate::users::password::Password;

/// A path segment that is not a number, so names no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnId;

impl From<NotAnId> for AppError {
    fn from(_: NotAnId) -> AppError {
        AppError::NotFound
    }
}

/// Makes an id type a path segment: any integer (an id that names no row is a 404 from the use
/// case), and printable into `uri!`. A route takes `Result<UserId, NotAnId>` and answers `?` on
/// it: a 404 *after* its guards, where a failed parameter would forward with 422 before the data
/// guard that authorizes it (an anonymous post must still go to the sign-in page, a non-admin's
/// still get 403).
macro_rules! id_param {
    ($($name:ident),*) => {$(
        impl<'a> FromParam<'a> for $name {
            type Error = NotAnId;

            fn from_param(param: &'a str) -> Result<Self, NotAnId> {
                param.parse::<i64>().map($name).map_err(|_| NotAnId)
            }
        }

        impl UriDisplay<Path> for $name {
            fn fmt(&self, f: &mut Formatter<'_, Path>) -> std::fmt::Result {
                f.write_value(self.0)
            }
        }

        impl_from_uri_param_identity!([Path] $name);
    )*};
}

id_param!(
    UserId,
    SessionId,
    EmployeeId,
    DepartmentId,
    DeviceId,
    PasskeyId
);

#[rocket::async_trait]
impl<'v> FromFormField<'v> for Password {
    fn from_value(field: ValueField<'v>) -> form::Result<'v, Self> {
        Ok(Password::new(field.value.to_string()))
    }

    /// A missing field is an empty password, refused by the checks like any other.
    fn default() -> Option<Self> {
        Some(Password::new(String::new()))
    }
}

/// A secret form field (a code, a ceremony token): a missing field is empty, like `String`'s
/// `#[field(default = "")]`.
#[rocket::async_trait]
impl<'v> FromFormField<'v> for Secret<String> {
    fn from_value(field: ValueField<'v>) -> form::Result<'v, Self> {
        Ok(Secret::new(field.value.to_string()))
    }

    fn default() -> Option<Self> {
        Some(Secret::new(String::new()))
    }
}
