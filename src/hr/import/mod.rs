//! Staff lists: a CSV file of people ([`file`], [`columns`]), each row checked by the employee
//! form's rules ([`row`]), then compared with everyone already here into a [`plan`] — who is
//! created, who is updated (and what changes), who stays as they are, and every error as
//! "line N: Column: reason". The application layer shows a plan as a preview, keeps the
//! previewed file ([`preview`]) and applies it in one transaction ([`write`]).

pub mod cells;
pub mod columns;
pub mod file;
pub mod plan;
pub mod preview;
pub mod row;
pub mod snapshot;
pub mod write;

pub use columns::Column;
pub use file::{read_staff_list, FileRefusal, Record};
pub use plan::{plan, Change, Plan, PlannedPerson};
pub use row::{PersonRow, RowError};
pub use snapshot::Snapshot;

/// The largest staff list accepted, in bytes (5 MB: some 50 000 typical rows).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The most people one file may hold: ten times the largest company the portal is made for.
pub const MAX_ROWS: usize = 20_000;
