//! The machinery of every in-memory cache, in one place. The caches themselves, with the rule
//! that keeps each one exact, are listed in `app::caches`, which owns them.
//!
//! - [`generation`]: the database's write generation, moved on by every committing write (see
//!   `db::WriteTx::commit`); what keeps cached sessions and dashboards exact. Kept in a counter
//!   file beside a SQLite database ([`file_generation`]) or, on PostgreSQL, by the instances'
//!   leases and acknowledgements ([`peers`]).
//! - [`tagged`]: a map whose entries are used only under the generation they were loaded at.
//! - [`timed_slot`]: one shared value kept for a few seconds (figures only, never a decision).
//! - [`derived`]: a value computed from a shared `Arc` and kept while that `Arc` is the same.

pub mod derived;
pub mod file_generation;
pub mod generation;
pub mod peers;
pub mod tagged;
pub mod timed_slot;

pub use derived::Derived;
pub use file_generation::{Bracket, FileGeneration};
pub use generation::Generation;
pub use peers::{LeaseSettings, Participation, Peers};
pub use tagged::GenerationCache;
pub use timed_slot::TimedSlot;
