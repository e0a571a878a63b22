//! The metrics scrape: the counters the process keeps, plus the figures only the database knows
//! (live sessions, the outbox), read at the moment Prometheus asks.

use crate::app::error::AppResult;
use crate::app::App;
use crate::auth::session;
use crate::mail::outbox;

/// The metrics in the Prometheus text format, with the database's figures read now. The pool
/// figures are read before the queries take a connection, so they show what the requests left.
pub async fn scrape(app: &App) -> AppResult<String> {
    let metrics = &app.metrics;
    metrics.pool_connections.set(i64::from(app.db.pool.size()));
    metrics
        .pool_idle
        .set(i64::try_from(app.db.pool.num_idle()).unwrap_or(i64::MAX));
    let in_use = app.db.generation.read().is_some();
    metrics.session_cache_in_use.set(i64::from(in_use));
    let now = app.clock.now();
    let mut conn = app.db.read().await?;
    let live = session::counts(&mut conn, "", app.limits.live_at(now)).await?;
    metrics.live_sessions.set(live.live_sessions);
    let (depth, oldest) = outbox::waiting(&mut conn).await?;
    metrics.outbox_depth.set(depth);
    metrics
        .outbox_oldest_age
        .set(oldest.map_or(0, |queued| now.saturating_sub(queued).max(0)));
    Ok(metrics.encode())
}
