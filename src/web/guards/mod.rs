//! Request guards: the only place authorization happens.
//!
//! - [`session`]: the signed-in session (read from the private cookie once per request), the
//!   person, the administrator, and the holds that keep a session on one page.
//! - [`admin`]: a change from an administration page, with the actor the use case re-confirms.
//! - [`forms`]: data guards that refuse a POST whose `csrf_token` does not match before the
//!   handler runs, so a forged request changes nothing.
//! - [`sudo`]: a dangerous act's form, held until its person confirms it is them.
//! - [`upload`]: a staff list posted from the import page (multipart, under its own cap).
//! - [`directory`]: the directory's reader, and whether they may filter it by status.
//! - [`origin`]: where a request came from, for session rows and the audit trail.
//! - [`refusal`]: why a guard refused, for the error page.

pub mod admin;
pub mod directory;
pub mod forms;
pub mod origin;
pub mod refusal;
pub mod session;
pub mod sudo;
pub mod upload;

pub use admin::StaffForm;
pub use directory::DirectoryReader;
pub use forms::{CsrfProtected, FormSecret, PublicForm, SessionForm};
pub use refusal::Refusal;
pub use session::{SessionEvenIfHeld, SessionForEnrolment, SessionLookup};
pub use sudo::SudoForm;
pub use upload::StaffListUpload;
