//! The instance's side: one PostgreSQL connection that `LISTEN`s for generations, renews the
//! lease and acknowledges — all on that connection, so a lease is never renewed by an instance
//! that has stopped hearing.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rocket::tokio::sync::Notify;
use rocket::tokio::time::{sleep, sleep_until, timeout};
use sqlx::postgres::{PgListener, PgNotification, PgPool, PgPoolOptions};

use super::state::State;
use super::{ACK_CHANNEL, GENERATION_CHANNEL};

/// The first wait before reconnecting a lost listener; it doubles while attempts fail.
const RECONNECT_AFTER: Duration = Duration::from_millis(200);
/// The longest wait between attempts (a database that is gone for a while).
const RECONNECT_AT_MOST: Duration = Duration::from_secs(5);

/// Connects, listens, takes (or renews) the lease, then catches up: reads the generation now
/// committed, drops everything cached and acknowledges it. Only then may the caches be used.
/// The listener on its own one-connection pool, and the generation it caught up to.
pub(super) async fn connect(url: &str, state: &State) -> Result<Connected, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(url)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    // Named, so an operator can tell it apart in `pg_stat_activity`.
    sqlx::query("SET application_name = 'hr-portal cache listener'")
        .execute(&mut listener)
        .await?;
    // A lost connection is reported (`Ok(None)`) rather than quietly replaced: notifications
    // sent meanwhile are gone, so the caches go off until this function has run again.
    listener.eager_reconnect(false);
    listener
        .listen_all([GENERATION_CHANNEL, ACK_CHANNEL])
        .await?;
    renew(&mut listener, state).await?;
    // Listening before this read: every later commit is announced to this connection.
    let current: i64 = sqlx::query_scalar("SELECT value FROM cache_generation")
        .fetch_one(&mut listener)
        .await?;
    state.drop_all();
    state.cover(current);
    acknowledge(&mut listener, state, current).await?;
    state.listening_again();
    Ok(Connected {
        listener,
        pool,
        heard: current,
    })
}

/// A caught-up listener. Its pool is closed when it is let go, so the connection ends with it
/// (a `PgListener` dropped on its own hands its connection back to a pool nobody closes).
pub(super) struct Connected {
    listener: PgListener,
    pool: PgPool,
    heard: i64,
}

impl Connected {
    async fn close(self) {
        drop(self.listener);
        // Waits for the connection to come back from the listener's UNLISTEN, then closes it;
        // a database that does not answer is not waited for (the socket goes with the process).
        let _ = timeout(Duration::from_secs(1), self.pool.close()).await;
    }
}

/// Why serving stopped.
enum Ended {
    /// The process dropped its `Peers` (it is shutting down): lease given back.
    Stopped,
    /// The connection failed, or a generation was missed: reconnect and catch up.
    Lost(String),
}

/// The listener task: serves until the process stops, reconnecting (caches off meanwhile)
/// whenever the connection is lost.
pub(super) async fn run(url: String, state: Weak<State>, first: Connected, stop: Arc<Notify>) {
    // Kept apart from the state, which is gone once the process has dropped its `Peers`.
    let Some(id) = state.upgrade().map(|live| live.id.clone()) else {
        return;
    };
    let mut connected = first;
    loop {
        let Connected {
            listener, heard, ..
        } = &mut connected;
        match serve(listener, &state, &stop, heard).await {
            Ended::Stopped => {
                give_back(listener, &id).await;
                connected.close().await;
                return;
            }
            Ended::Lost(reason) => {
                let Some(live) = state.upgrade() else { return };
                live.stop_listening();
                live.count_lost_connection();
                rocket::warn!("cache invalidations: {reason}; caches are off until caught up");
            }
        }
        connected.close().await;
        let mut wait = RECONNECT_AFTER;
        connected = loop {
            rocket::tokio::select! {
                _ = stop.notified() => return,
                _ = sleep(wait) => {}
            }
            let Some(live) = state.upgrade() else { return };
            match connect(&url, &live).await {
                Ok(connected) => break connected,
                Err(error) => {
                    // Said once per outage, not every attempt.
                    if wait == RECONNECT_AFTER {
                        rocket::warn!("cache invalidations: cannot reconnect yet: {error}");
                    }
                    wait = (wait * 2).min(RECONNECT_AT_MOST);
                }
            }
        };
        rocket::info!("cache invalidations: caught up again; caches are back on");
    }
}

/// Hears generations and renews the lease until the connection fails or the process stops.
/// `heard` is the last generation this connection caught up to or heard, to notice one that
/// went missing.
async fn serve(
    listener: &mut PgListener,
    state: &Weak<State>,
    stop: &Notify,
    heard: &mut i64,
) -> Ended {
    let Some(renew_every) = state.upgrade().map(|s| s.settings.renew_every()) else {
        return Ended::Stopped;
    };
    let mut next_renewal = rocket::tokio::time::Instant::now() + renew_every;
    loop {
        rocket::tokio::select! {
            _ = stop.notified() => return Ended::Stopped,
            received = listener.try_recv() => {
                let Some(live) = state.upgrade() else { return Ended::Stopped };
                let first = match received {
                    Ok(Some(notification)) => notification,
                    Ok(None) => return Ended::Lost("the connection was closed".into()),
                    Err(error) => return Ended::Lost(error.to_string()),
                };
                let mut newest = None;
                let mut next = Some(first);
                while let Some(notification) = next {
                    match hear(&live, &notification, heard) {
                        Ok(Some(generation)) => newest = Some(generation),
                        Ok(None) => {}
                        Err(reason) => return Ended::Lost(reason),
                    }
                    next = listener.next_buffered();
                }
                if let Some(generation) = newest {
                    let acked = timeout(
                        live.settings.lease,
                        acknowledge(listener, &live, generation),
                    );
                    match acked.await {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => return Ended::Lost(error.to_string()),
                        Err(_) => return Ended::Lost("an acknowledgement timed out".into()),
                    }
                }
            }
            _ = sleep_until(next_renewal) => {
                let Some(live) = state.upgrade() else { return Ended::Stopped };
                match timeout(live.settings.lease, renew(listener, &live)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => return Ended::Lost(error.to_string()),
                    Err(_) => return Ended::Lost("a lease renewal timed out".into()),
                }
                next_renewal = rocket::tokio::time::Instant::now() + renew_every;
            }
        }
    }
}

/// One notification: an acknowledgement wakes the waiting writers; a generation drops what
/// this process cached before its commit. `Err` when a generation was skipped (one announcement
/// never arrived): the connection is treated as lost.
fn hear(
    state: &State,
    notification: &PgNotification,
    heard: &mut i64,
) -> Result<Option<i64>, String> {
    if notification.channel() == ACK_CHANNEL {
        state.acks.notify_waiters();
        return Ok(None);
    }
    let Ok(generation) = notification.payload().parse::<i64>() else {
        return Err(format!(
            "an unreadable generation {:?}",
            notification.payload()
        ));
    };
    let last = *heard;
    if generation <= last {
        // Committed before this connection caught up: already covered.
        return Ok(None);
    }
    if generation > last + 1 {
        return Err(format!(
            "generations {} to {generation} were not heard in order",
            last + 1
        ));
    }
    state.cover(generation);
    *heard = generation;
    Ok(Some(generation))
}

/// Renews (or takes) the lease; after a lapse the caches drop everything.
async fn renew(listener: &mut PgListener, state: &State) -> Result<(), sqlx::Error> {
    let sent = Instant::now();
    let lease_ms = i64::try_from(state.settings.lease.as_millis()).unwrap_or(i64::MAX);
    let was_live: bool = sqlx::query_scalar("SELECT hr_portal_renew_lease($1, $2)")
        .bind(state.id.as_str())
        .bind(lease_ms)
        .fetch_one(&mut *listener)
        .await?;
    state.renewed(sent, was_live);
    Ok(())
}

/// Records `generation` as acknowledged (its commit is out of this process's caches) and wakes
/// the writers waiting for it.
async fn acknowledge(
    listener: &mut PgListener,
    state: &State,
    generation: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT hr_portal_acknowledge_generation($1, $2)")
        .bind(state.id.as_str())
        .bind(generation)
        .execute(&mut *listener)
        .await?;
    Ok(())
}

/// Gives the lease back on the way out, so no writer waits for an instance that is gone.
async fn give_back(listener: &mut PgListener, id: &str) {
    let released = sqlx::query("DELETE FROM cache_instances WHERE id = $1")
        .bind(id)
        .execute(&mut *listener);
    if !matches!(timeout(Duration::from_secs(1), released).await, Ok(Ok(_))) {
        rocket::warn!("cache invalidations: lease not given back; it runs out by itself");
    }
}
