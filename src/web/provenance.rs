//! Who caused an audit event and where it came from, as pages and exports name them.
//!
//! The operator's command line has no account and no browser: without saying so, its events
//! would read as done by nobody ("—") from an "Unknown device".

use crate::audit::EventRecord;
use crate::users::device;

/// How the operator's command line is named where an actor or a device would be.
pub const COMMAND_LINE: &str = "command line";

/// The acting account's address, the command line, or "—" (someone not signed in, or the
/// application itself).
pub fn actor(event: &EventRecord) -> String {
    match &event.actor_email {
        Some(email) => email.clone(),
        None if event.from_command_line() => COMMAND_LINE.to_string(),
        None => "—".to_string(),
    }
}

/// The browser, described from its user agent, or the command line.
pub fn device(event: &EventRecord) -> String {
    if event.from_command_line() {
        COMMAND_LINE.to_string()
    } else {
        device::describe(event.user_agent.as_deref())
    }
}
