//! Sessions loaded by earlier requests, kept in memory and used only while the database's write
//! generation still equals the one read before they were loaded (see [`crate::generation`]):
//! every commit that could end a session or change what one carries (logout, revocation, force
//! logout, disable, role, password, name, two-factor, sign-in) bumps it, here or in any other
//! process on the host, so an entry can never outlive the change. Entries keep their timestamps,
//! so the idle and absolute limits are still checked on every request against the clock.
//!
//! Never consulted on PostgreSQL and in-memory SQLite, where there is no counter.

use super::session::ActiveSession;
use crate::generation::cache::GenerationCache;

/// Most sessions kept in memory.
const CAPACITY: usize = 50_000;

/// The cached sessions, by the SHA-256 of their cookie token (the key the database uses too).
#[derive(Debug)]
pub struct SessionCache(GenerationCache<String, ActiveSession>);

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache(GenerationCache::with_capacity(CAPACITY))
    }
}

impl SessionCache {
    /// The session cached under `token_hash` at `generation`.
    pub fn get(&self, token_hash: &str, generation: u64) -> Option<ActiveSession> {
        self.0.get(token_hash, generation)
    }

    /// Keeps `session`, loaded after the counter read `generation`.
    pub fn put(&self, token_hash: String, generation: u64, session: ActiveSession) {
        self.0.put(token_hash, generation, session);
    }

    /// Records that the session's `last_seen_at` was written as `at`. The entry stays valid: the
    /// activity time changes no one's rights, so that write bumps no generation, and a kept
    /// activity time is never later than the row's.
    pub fn seen(&self, token_hash: &str, at: i64) {
        self.0.update(token_hash, |session| {
            session.last_seen_at = session.last_seen_at.max(at);
        });
    }

    /// How many requests were answered from memory.
    pub fn hits(&self) -> u64 {
        self.0.hits()
    }
}
