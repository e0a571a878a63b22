//! Health for load balancers and orchestrators.
//!
//! - `/livez`: the process answers (never touches the database): restart it when this fails.
//! - `/readyz`: the database answers too: send it traffic only while this succeeds.
//! - `/healthz`: as before, the same as `/readyz` (kept for existing checks).

use rocket::{get, routes, Route, State};

use crate::app::error::AppResult;
use crate::app::{self, App};

/// 200 when the database answers.
#[get("/healthz")]
async fn healthz(app: &State<App>) -> AppResult<&'static str> {
    app::check_database(app).await?;
    Ok("ok")
}

/// 200 while the process serves requests, whatever the database does.
#[get("/livez")]
fn livez() -> &'static str {
    "ok"
}

/// 200 when the database answers (503 with `Retry-After` when it does not).
#[get("/readyz")]
async fn readyz(app: &State<App>) -> AppResult<&'static str> {
    app::check_database(app).await?;
    Ok("ok")
}

pub fn routes() -> Vec<Route> {
    routes![healthz, livez, readyz]
}
