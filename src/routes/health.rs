//! Liveness for load balancers, and the favicon browsers ask for on every first visit.

use rocket::http::ContentType;
use rocket::{get, routes, Route, State};

use crate::db::Db;
use crate::error::AppResult;

/// 200 when the database answers.
#[get("/healthz")]
async fn healthz(db: &State<Db>) -> AppResult<&'static str> {
    sqlx::query("SELECT 1").execute(&db.pool).await?;
    Ok("ok")
}

const FAVICON: &str = include_str!("../../static/favicon.svg");

#[get("/favicon.ico")]
fn favicon() -> (ContentType, &'static str) {
    (ContentType::SVG, FAVICON)
}

pub fn routes() -> Vec<Route> {
    routes![healthz, favicon]
}
