//! Liveness for load balancers.

use rocket::{get, routes, Route, State};

use crate::db::Db;
use crate::error::AppResult;

/// 200 when the database answers.
#[get("/healthz")]
async fn healthz(db: &State<Db>) -> AppResult<&'static str> {
    sqlx::query("SELECT 1").execute(&db.pool).await?;
    Ok("ok")
}

pub fn routes() -> Vec<Route> {
    routes![healthz]
}
