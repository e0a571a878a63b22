//! Sessions loaded by earlier requests, kept in memory and used only while the database's write
//! generation still equals the one read before they were loaded (see [`crate::generation`]):
//! every commit that could end a session or change what one carries (logout, revocation, force
//! logout, disable, role, password, name, two-factor, sign-in) bumps it, here or in any other
//! process on the host, so an entry can never outlive the change. Entries keep their timestamps,
//! so the idle and absolute limits are still checked on every request against the clock.
//!
//! Off (empty, never consulted) on PostgreSQL and in-memory SQLite, where there is no counter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::session::ActiveSession;

/// Most entries kept. Past it, entries of older generations go first, then all of them.
const CAPACITY: usize = 50_000;

/// A backstop, not the mechanism: an entry is read again from the database after this long, so
/// a change made outside the application (a hand edit of the database file, which bumps no
/// counter) is seen within it.
const MAX_AGE: Duration = Duration::from_secs(30);

/// The cached sessions, by the SHA-256 of their cookie token (the key the database uses too).
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: RwLock<HashMap<String, Entry>>,
    hits: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    generation: u64,
    loaded: Instant,
    session: ActiveSession,
}

impl SessionCache {
    /// The session cached under `token_hash`, if it was loaded at `generation` (the counter read
    /// for this request) and recently enough.
    pub fn get(&self, token_hash: &str, generation: u64) -> Option<ActiveSession> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(token_hash)?;
        if entry.generation != generation || entry.loaded.elapsed() >= MAX_AGE {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.session.clone())
    }

    /// Keeps `session`, loaded after the counter read `generation`.
    pub fn put(&self, token_hash: String, generation: u64, session: ActiveSession) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= CAPACITY && !entries.contains_key(&token_hash) {
            entries.retain(|_, entry| entry.generation == generation);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let entry = Entry {
            generation,
            loaded: Instant::now(),
            session,
        };
        entries.insert(token_hash, entry);
    }

    /// Records that the session's `last_seen_at` was written as `at` (its entry stays valid: the
    /// activity time changes no one's rights, so that write does not bump the generation).
    pub fn seen(&self, token_hash: &str, at: i64) {
        if let Ok(mut entries) = self.entries.write() {
            if let Some(entry) = entries.get_mut(token_hash) {
                entry.session.last_seen_at = entry.session.last_seen_at.max(at);
            }
        }
    }

    /// How many requests were answered from memory (tests prove a session was hot with it).
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}
