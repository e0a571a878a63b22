//! The write generation on PostgreSQL, where instances share no host: exact in-memory caches on
//! every instance, kept so by leases and acknowledged invalidation.
//!
//! - Every committing write that changes what a cache may hold calls
//!   `hr_portal_bump_generation()` inside its transaction: one row (`cache_generation`) moves
//!   on, and a `NOTIFY` carrying the new value is delivered at commit, in commit order (the row
//!   lock orders the writers).
//! - Every serving instance holds a **lease** (a row in `cache_instances`, `lease_until` a few
//!   seconds ahead by the database's clock), renewed over its `LISTEN` connection. On each
//!   notification it drops every cached entry (its local epoch moves on) and then records the
//!   value as **acknowledged** in its row.
//! - The writer, once committed, drops its own entries and waits until every *other* instance
//!   whose lease is live has acknowledged its value — or that lease has run out. Only then does
//!   the revoking request (or command) return.
//! - An instance caches only while its `LISTEN` connection is up and caught up and its lease
//!   holds by its own clock, with a margin: a lapsed lease, a dropped connection or a missed
//!   value turns its caches off; coming back on it drops everything first. So a crash, a pause or
//!   a split can delay a writer by at most one lease, and can never make a cache stale.
//!
//! The command line takes part as a writer only: it caches nothing, holds no lease, and waits
//! for the instances' acknowledgements like any other writer.

mod listener;
mod state;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::tokio::sync::Notify;
use sqlx::AnyPool;

use state::State;

/// The channel every committed generation is announced on.
const GENERATION_CHANNEL: &str = "hr_portal_generation";
/// The channel an instance announces its acknowledgements on (it wakes waiting writers).
const ACK_CHANNEL: &str = "hr_portal_generation_ack";

/// A writer without a listener (the command line) asks again this often while it waits.
const POLL_WITHOUT_LISTENER: Duration = Duration::from_millis(10);
/// A writer with a listener is woken by acknowledgements; this is only its backstop.
const POLL_WITH_LISTENER: Duration = Duration::from_millis(250);

/// How this process takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participation {
    /// A server: caches, holds a lease and acknowledges every generation.
    Instance,
    /// The command line: caches nothing, waits for the instances after its writes.
    Writer,
}

/// This process's part in the protocol.
#[derive(Debug)]
pub struct Peers {
    state: Arc<State>,
    pool: AnyPool,
    participation: Participation,
    /// Tells the listener task to give its lease back and stop.
    stop: Arc<Notify>,
}

/// The lease and generation settings.
#[derive(Debug, Clone, Copy)]
pub struct LeaseSettings {
    /// How long a lease holds after each renewal (by the database's clock).
    pub lease: Duration,
}

impl LeaseSettings {
    /// Renewals come this often: three chances before the lease runs out.
    fn renew_every(&self) -> Duration {
        self.lease / 4
    }

    /// How long after sending a renewal this process still trusts its lease: a fifth less than
    /// the database grants from (at the earliest) the same moment, for clocks that run at
    /// slightly different rates and for scheduling delays.
    fn trusted_for(&self) -> Duration {
        self.lease * 4 / 5
    }

    /// The longest a writer waits for acknowledgements before it reports the database as
    /// unavailable: a lease (an instance that stopped answering) twice over.
    fn give_up_after(&self) -> Duration {
        self.lease * 2 + Duration::from_secs(1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeersError {
    #[error("cannot listen for cache invalidations")]
    Listen(#[source] sqlx::Error),
}

impl Peers {
    /// Joins the database's instances: for a server, connects its listener, takes a lease and
    /// catches up before returning (so the first request may already use the caches); for the
    /// command line, nothing to connect.
    pub async fn join(
        url: &str,
        pool: AnyPool,
        participation: Participation,
        settings: LeaseSettings,
    ) -> Result<Peers, PeersError> {
        let state = Arc::new(State::new(settings));
        let stop = Arc::new(Notify::new());
        if participation == Participation::Instance {
            let connected = listener::connect(url, &state)
                .await
                .map_err(PeersError::Listen)?;
            rocket::tokio::spawn(listener::run(
                url.to_string(),
                Arc::downgrade(&state),
                connected,
                Arc::clone(&stop),
            ));
        }
        Ok(Peers {
            state,
            pool,
            participation,
            stop,
        })
    }

    /// The local epoch to tag loaded values with, while this instance may cache.
    pub fn read(&self) -> Option<u64> {
        self.state.read()
    }

    /// Whether this process caches at all (servers do; the command line does not).
    pub fn caches(&self) -> bool {
        self.participation == Participation::Instance
    }

    /// Whether the caches may be used right now (listening, caught up, lease held).
    pub fn is_serving(&self) -> bool {
        self.state.read().is_some()
    }

    /// How often the listener lost its connection, or missed a generation, and caught up again.
    pub fn lost_connections(&self) -> u64 {
        self.state.lost_connections()
    }

    /// Inside a write transaction, just before its commit: moves the shared generation on and
    /// queues its announcement (delivered at commit). The new value, for [`Peers::settle`].
    pub async fn publish(&self, tx: &mut sqlx::AnyConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT hr_portal_bump_generation()")
            .fetch_one(tx)
            .await
    }

    /// After the commit of `generation`: drops this process's own entries, then waits until
    /// every other instance with a live lease has acknowledged it or lost its lease. An error
    /// (the database unreachable, or an instance that acknowledges nothing yet keeps renewing)
    /// means the write is committed but not yet known to be seen everywhere.
    pub async fn settle(&self, generation: i64) -> Result<(), sqlx::Error> {
        self.state.cover(generation);
        let started = Instant::now();
        let give_up = started + self.state.settings.give_up_after();
        loop {
            let acknowledged = self.state.acks.notified();
            rocket::tokio::pin!(acknowledged);
            acknowledged.as_mut().enable();
            let (pending, soonest_lapse_ms): (i64, i64) = sqlx::query_as(
                "SELECT count(*), \
                        COALESCE(CAST(EXTRACT(EPOCH FROM min(lease_until) - now()) * 1000 \
                                      AS BIGINT), 0) \
                 FROM cache_instances \
                 WHERE id <> $1 AND acked < $2 AND lease_until > now()",
            )
            .bind(self.state.id.as_str())
            .bind(generation)
            .fetch_one(&self.pool)
            .await?;
            if pending == 0 {
                return Ok(());
            }
            if Instant::now() >= give_up {
                return Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "{pending} instance(s) neither acknowledged generation {generation} nor \
                         lost their lease within {:?}",
                        started.elapsed()
                    ),
                )));
            }
            let backstop = if self.state.is_listening() {
                POLL_WITH_LISTENER
            } else {
                POLL_WITHOUT_LISTENER
            };
            // Just past the soonest lease's end, when its holder stops counting.
            let until_lapse =
                Duration::from_millis(u64::try_from(soonest_lapse_ms).unwrap_or(0) + 1);
            let _ = rocket::tokio::time::timeout(backstop.min(until_lapse), acknowledged).await;
        }
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        // The listener gives the lease back, so no writer waits for an instance that is gone.
        self.stop.notify_one();
    }
}
