//! How path segments and form fields become the domain's types: Rocket's `FromParam`,
//! `UriDisplay` and `FromFormField` for types defined below the web layer.

use rocket::form::{self, FromFormField, ValueField};
use rocket::http::impl_from_uri_param_identity;
use rocket::http::uri::fmt::{Formatter, Path, UriDisplay};
use rocket::request::FromParam;

use crate::ids::{DepartmentId, DeviceId, EmployeeId, PasskeyId, SessionId, UserId};
use crate::secret::Secret;
use crate::users::password::Password;

/// Makes an id type a path segment: any integer, as an `i64` segment would take it (an id that
/// names no row is a 404 from the use case, and only a non-number forwards, 422), and printable
/// into `uri!`.
macro_rules! id_param {
    ($($name:ident),*) => {$(
        impl<'a> FromParam<'a> for $name {
            type Error = std::num::ParseIntError;

            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                param.parse::<i64>().map($name)
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
