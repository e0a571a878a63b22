//! Housekeeping of rows that no longer mean anything (expired sessions, links, counters, events
//! past their retention) and the tallied refusals, run in the background. Deletions go in small
//! batches that keep each write short, so requests never queue behind them.

use super::App;
use crate::app::error::AppResult;
use crate::audit;
use crate::auth::{passkey_ceremony, pending_login, session};
use crate::hr::import::preview::StoredPreview;
use crate::users::devices::KnownDevice;
use crate::users::links;

/// Deletes every session that is no longer live, in small batches that keep each write short
/// (requests never queue behind a purge), the throttle counters whose window ended, the
/// password links, pending sign-ins and known devices that expired, and audit events past their
/// retention; then writes the tallied refusals as one summary row per source.
/// Housekeeping of rows that no longer mean anything: not audited. Returns the sessions purged.
pub async fn purge_expired(app: &App) -> AppResult<u64> {
    // Each runs even when another fails; the first failure is reported.
    let sessions = purge_sessions(app).await;
    let now = app.clock.now();
    let others = match app.db.read().await {
        Ok(mut conn) => purge_small_tables(&mut conn, app, now).await,
        Err(error) => Err(error.into()),
    };
    let audit = purge_old_events(app, now).await;
    let refusals = write_tallied_refusals(app, now).await;
    let purged = sessions?;
    others?;
    audit?;
    refusals?;
    Ok(purged)
}

/// Events older than the retention.
async fn purge_old_events(app: &App, now: i64) -> AppResult<u64> {
    let before = now.saturating_sub(app.audit_retention_days.saturating_mul(86_400));
    in_batches(1_000, |batch| async move {
        audit::purge_older_than(&mut *app.db.read().await?, before, batch).await
    })
    .await
}

/// One summary row per source of refusals counted since the last purge, a few hundred per
/// transaction (so the write lock is never held long); counts that could not be written wait for
/// the next purge.
pub async fn write_tallied_refusals(app: &App, now: i64) -> AppResult<()> {
    const CHUNK: usize = 200;
    let mut tallied = app.refusals.take();
    while !tallied.is_empty() {
        let rest = tallied.split_off(tallied.len().min(CHUNK));
        let written = async {
            let mut tx = app.db.begin_write().await?;
            for refusals in &tallied {
                audit::record(&mut tx, now, refusals.event(now)).await?;
            }
            tx.commit_leaving_caches_valid().await
        }
        .await;
        if let Err(error) = written {
            tallied.extend(rest);
            app.refusals.put_back(tallied);
            return Err(error.into());
        }
        tallied = rest;
    }
    Ok(())
}

/// Throttle counters, password links, pending sign-ins, known devices, passkey ceremonies and
/// staff-list previews past their time, and used logout-token ids too old to be replayed.
async fn purge_small_tables(conn: &mut sqlx::AnyConnection, app: &App, now: i64) -> AppResult<()> {
    app.throttle.purge_stale(conn, now).await?;
    links::purge_expired(conn, now).await?;
    pending_login::purge_expired(conn, now).await?;
    KnownDevice::purge_expired(conn, now).await?;
    passkey_ceremony::purge_expired(conn, now).await?;
    StoredPreview::purge_expired(conn, now).await?;
    crate::auth::sso_sessions::forget_old_logout_tokens(conn, now).await?;
    Ok(())
}

/// Sessions that are no longer live (by the clock of each batch).
async fn purge_sessions(app: &App) -> AppResult<u64> {
    in_batches(500, |batch| async move {
        let live = app.limits.live_at(app.clock.now());
        session::purge_expired_batch(&mut *app.db.read().await?, live, batch).await
    })
    .await
}

/// Runs `delete_batch` (which deletes at most `batch` rows, each batch its own short write)
/// until a batch comes back short, pausing a moment between batches so that requests waiting
/// for the write lock go first. Returns the rows deleted.
async fn in_batches<F, Fut>(batch: i64, mut delete_batch: F) -> AppResult<u64>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<u64, sqlx::Error>>,
{
    let mut total = 0;
    loop {
        let deleted = delete_batch(batch).await?;
        total += deleted;
        if deleted < batch.unsigned_abs() {
            return Ok(total);
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
