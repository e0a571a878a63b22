//! The database's write generation: what every in-memory cache is checked against, and what
//! every committing write moves on. Two ways to keep it, one per engine:
//!
//! - [`FileGeneration`]: a counter file beside a SQLite database, shared by the processes on its
//!   host (none for in-memory and read-only databases: nothing is cached there);
//! - [`Peers`]: PostgreSQL, any number of hosts — leases, `LISTEN`/`NOTIFY` and acknowledgements,
//!   so a committing write returns only once every live instance has dropped what it changed.
//!
//! Either way the promise is the same: once a write that changes anything a cache holds has
//! returned, no cache anywhere serves what was loaded before it; a crash or a lost connection can
//! only turn caches off.

use super::file_generation::FileGeneration;
use super::peers::Peers;

#[derive(Debug)]
pub enum Generation {
    File(FileGeneration),
    Peers(Peers),
}

impl Generation {
    /// No generation: every read goes to the database.
    pub fn off() -> Self {
        Generation::File(FileGeneration::off())
    }

    /// The tag for what a request is about to load, when caches may be used right now: read
    /// **before** the database, and compared again before a cached value is served.
    pub fn read(&self) -> Option<u64> {
        match self {
            Generation::File(file) => file.read(),
            Generation::Peers(peers) => peers.read(),
        }
    }

    /// The counter file, if this database has one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Generation::File(file) => file.path(),
            Generation::Peers(_) => None,
        }
    }

    /// Whether values may be cached at all on this database (they may still be off for a while).
    pub fn is_on(&self) -> bool {
        match self {
            Generation::File(file) => file.is_on(),
            Generation::Peers(peers) => peers.caches(),
        }
    }
}
