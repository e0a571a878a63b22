//! What a request reads to decide whether it may use the caches, and what the listener and the
//! writers change: the local epoch, the lease as this process trusts it, and whether the listener
//! is connected and caught up.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::RngCore;
use rocket::tokio::sync::Notify;

use super::LeaseSettings;

#[derive(Debug)]
pub(super) struct State {
    /// This process's row in `cache_instances` (random, never reused).
    pub id: String,
    pub settings: LeaseSettings,
    /// What cached values are tagged with; moving it on drops every one of them.
    epoch: AtomicU64,
    /// The highest generation whose commit happened before the epoch last moved on: everything
    /// up to it is already out of this process's caches.
    covered: AtomicI64,
    /// The listener is connected and has caught up since it (re)connected.
    listening: AtomicBool,
    /// Nanoseconds after `origin` until which this process trusts its lease (0: no lease yet).
    trusted_until: AtomicU64,
    origin: Instant,
    /// Woken whenever an instance announces an acknowledgement.
    pub acks: Notify,
    /// Times the listener lost its connection (or a generation) and had to catch up again.
    lost_connections: AtomicU64,
}

impl State {
    pub fn new(settings: LeaseSettings) -> State {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        State {
            id: id.iter().map(|byte| format!("{byte:02x}")).collect(),
            settings,
            epoch: AtomicU64::new(0),
            covered: AtomicI64::new(0),
            listening: AtomicBool::new(false),
            trusted_until: AtomicU64::new(0),
            origin: Instant::now(),
            acks: Notify::new(),
            lost_connections: AtomicU64::new(0),
        }
    }

    /// The epoch, when the caches may be used now.
    pub fn read(&self) -> Option<u64> {
        if !self.listening.load(Ordering::Acquire) || self.lease_lapsed() {
            return None;
        }
        Some(self.epoch.load(Ordering::Acquire))
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Caches off until [`State::listening_again`] (the listener's connection is gone).
    pub fn stop_listening(&self) {
        self.listening.store(false, Ordering::Release);
    }

    /// The listener is connected and has covered the generation it read: caches may be used.
    pub fn listening_again(&self) {
        self.listening.store(true, Ordering::Release);
    }

    pub fn count_lost_connection(&self) {
        self.lost_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn lost_connections(&self) -> u64 {
        self.lost_connections.load(Ordering::Relaxed)
    }

    /// Drops every cached value: the epoch moves on.
    pub fn drop_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Called after the commit of `generation` became visible: drops every cached value unless
    /// a drop made after an equal or later commit already did, and records the generation as
    /// covered.
    pub fn cover(&self, generation: i64) {
        if self.covered.load(Ordering::Acquire) < generation {
            self.drop_all();
            self.covered.fetch_max(generation, Ordering::AcqRel);
        }
    }

    /// Whether this process's own clock says the lease may have run out.
    fn lease_lapsed(&self) -> bool {
        self.nanos_now() >= self.trusted_until.load(Ordering::Acquire)
    }

    /// A renewal sent at `sent` was granted; `was_live` says whether the database still held the
    /// previous lease then. After any lapse (by either clock) everything cached is dropped before
    /// the caches come back: a writer may have stopped waiting for this process meanwhile.
    pub fn renewed(&self, sent: Instant, was_live: bool) {
        if !was_live || self.lease_lapsed() {
            self.drop_all();
        }
        let until = sent.duration_since(self.origin) + self.settings.trusted_for();
        self.trusted_until
            .fetch_max(duration_nanos(until), Ordering::AcqRel);
    }

    fn nanos_now(&self) -> u64 {
        duration_nanos(self.origin.elapsed())
    }
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new(LeaseSettings {
            lease: Duration::from_secs(5),
        })
    }

    #[test]
    fn caches_stay_off_until_the_listener_is_caught_up_and_the_lease_granted() {
        let state = state();
        assert_eq!(state.read(), None);
        state.renewed(Instant::now(), false);
        assert_eq!(state.read(), None, "not listening yet");
        state.listening_again();
        assert!(state.read().is_some());
        state.stop_listening();
        assert_eq!(state.read(), None);
    }

    #[test]
    fn a_lease_trusted_in_the_past_turns_caches_off() {
        let state = state();
        state.listening_again();
        state.renewed(state.origin, true);
        assert!(state.read().is_some());
        state.trusted_until.store(1, Ordering::Release);
        assert_eq!(state.read(), None, "a lapsed lease is off");
    }

    #[test]
    fn a_renewal_after_a_lapse_drops_everything_cached() {
        let state = state();
        state.listening_again();
        state.renewed(Instant::now(), true);
        let before = state.read().unwrap();
        state.renewed(Instant::now(), false);
        assert_ne!(
            state.read().unwrap(),
            before,
            "the database saw the lease lapse"
        );
        let before = state.read().unwrap();
        state.renewed(Instant::now(), true);
        assert_eq!(
            state.read().unwrap(),
            before,
            "a renewal in time keeps the caches"
        );
    }

    #[test]
    fn a_generation_already_covered_drops_nothing_again() {
        let state = state();
        state.listening_again();
        state.renewed(Instant::now(), true);
        let start = state.read().unwrap();
        state.cover(7);
        let after_seven = state.read().unwrap();
        assert_ne!(after_seven, start);
        state.cover(5);
        state.cover(7);
        assert_eq!(state.read().unwrap(), after_seven);
        state.cover(8);
        assert_ne!(state.read().unwrap(), after_seven);
    }
}
