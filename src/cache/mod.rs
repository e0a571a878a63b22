//! The machinery of every in-memory cache, in one place. The caches themselves, with the rule
//! that keeps each one exact, are listed in `app::caches`, which owns them.
//!
//! - [`generation`]: the database's write generation, bumped by every committing write (see
//!   `db::WriteTx::commit`); what keeps cached sessions and dashboards exact.
//! - [`tagged`]: a map whose entries are used only under the generation they were loaded at.
//! - [`timed_slot`]: one shared value kept for a few seconds (figures only, never a decision).
//! - [`derived`]: a value computed from a shared `Arc` and kept while that `Arc` is the same.

pub mod derived;
pub mod generation;
pub mod tagged;
pub mod timed_slot;

pub use derived::Derived;
pub use generation::{Bracket, Generation};
pub use tagged::GenerationCache;
pub use timed_slot::TimedSlot;
