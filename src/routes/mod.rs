//! HTTP routes, one file per page area. Handlers parse, call the domain, and render.

pub mod access;
pub mod account;
pub mod account_details;
pub mod admin;
pub mod auth;
#[cfg(feature = "bench-routes")]
pub mod bench;
pub mod dashboard;
pub mod employee_access;
pub mod employee_form;
pub mod employees;
pub mod exports;
pub mod health;
pub mod home;
pub mod offboard;
pub mod org_chart;
pub mod passkeys;
pub mod recovery;
pub mod setup;
pub mod single_sign_on;
pub mod team;
pub mod two_factor;

use rocket::form::FromForm;

use crate::secret::Secret;
use crate::web::guards::forms::csrf_protected;
use rocket::Route;

/// Every route of the application.
pub fn all() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(auth::routes());
    routes.extend(setup::routes());
    routes.extend(two_factor::routes());
    routes.extend(passkeys::routes());
    routes.extend(single_sign_on::routes());
    routes.extend(recovery::routes());
    routes.extend(dashboard::routes());
    routes.extend(employees::routes());
    routes.extend(employee_access::routes());
    routes.extend(employee_form::routes());
    routes.extend(offboard::routes());
    routes.extend(org_chart::routes());
    routes.extend(exports::routes());
    routes.extend(account::routes());
    routes.extend(account_details::routes());
    routes.extend(team::routes());
    routes.extend(admin::routes());
    routes.extend(health::routes());
    #[cfg(feature = "bench-routes")]
    routes.extend(bench::routes());
    routes
}

/// A form whose only field is the CSRF token (sign-out and revoke buttons).
#[derive(Debug, FromForm)]
pub struct CsrfOnly {
    csrf_token: Secret<String>,
}

csrf_protected!(CsrfOnly);
