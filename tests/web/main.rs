//! Integration tests: the real Rocket, driven through its local client, on a fresh database each.

/// Runs each named test once on SQLite and once on PostgreSQL (Django's
/// one-suite-for-every-backend idea): `sqlite::name` and `postgres::name`.
///
/// A test is either `async fn(app: TestApp)`, handed a fresh app on the backend, or
/// `async fn(backend: Backend)` when it builds its own app(s) (other settings, several apps).
/// Without PostgreSQL (`TEST_DATABASE_URL` unset) the PostgreSQL variant returns at once after
/// saying so; under `CI=true` it fails instead (see [`helpers::postgres_url`]).
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[rocket::async_test]
                async fn $name() {
                    crate::helpers::run_on(crate::helpers::Backend::Sqlite, super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[rocket::async_test]
                #[cfg_attr(
                    not(postgres_tests),
                    ignore = "needs PostgreSQL: set TEST_DATABASE_URL (CI sets it)"
                )]
                async fn $name() {
                    crate::helpers::run_on(crate::helpers::Backend::Postgres, super::$name).await
                }
            )*
        }
    };
}

mod counts;
mod helpers;
mod homes;

mod accessibility;
mod account;
mod admin;
mod atomic;
mod audit_trail;
mod backup_restore;
mod browser;
mod cache_peers;
mod cli;
mod core_flow;
mod counter_file;
mod deploy_config;
mod directory;
mod exports;
mod faults;
mod first_day;
mod hardening;
mod hr;
mod import;
mod instances;
mod job_history;
mod layers;
mod lifecycle;
mod lifetime;
mod lookalike_addresses;
mod mail_support;
mod observability;
mod odd_segments;
mod oidc_provider;
mod org_chart;
mod outage;
mod passkeys;
mod permissions;
mod private_details;
mod recent_factors;
mod recovery;
mod roles;
mod session_cache;
mod single_sign_on;
mod soft_authenticator;
mod throttle;
mod two_factor;
