//! Liveness for load balancers.

use rocket::{get, routes, Route, State};

use crate::app::error::AppResult;
use crate::app::{self, App};

/// 200 when the database answers.
#[get("/healthz")]
async fn healthz(app: &State<App>) -> AppResult<&'static str> {
    app::check_database(app).await?;
    Ok("ok")
}

pub fn routes() -> Vec<Route> {
    routes![healthz]
}
