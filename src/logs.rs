//! Where log lines go: the request lines and the application's own messages through `tracing`,
//! as text (the default) or one JSON object per line (`log_format = "json"`).
//!
//! Text keeps Rocket's own console output as it is and adds the request lines beside it. JSON
//! takes over Rocket's log records too (through the `log` bridge), keeping only its warnings and
//! errors: its informational lines repeat each raw request path, which can carry a one-time link,
//! while the request line here names the route template only.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of the request lines (`web::request_log`).
pub const REQUEST_TARGET: &str = "hr_portal::request";

/// A second installation in one process (tests start many servers) is a no-op.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the logger: {0}")]
pub struct LogSetupError(String);

/// Installs the process's subscriber. `json`: every line an object with `timestamp`, `level`,
/// `target` and the event's fields.
pub fn install(json: bool) -> Result<(), LogSetupError> {
    let ours = Targets::new().with_target("hr_portal", LevelFilter::INFO);
    if json {
        let filter = ours
            .with_target("rocket::launch", LevelFilter::OFF)
            .with_target("rocket::launch_", LevelFilter::OFF)
            .with_default(LevelFilter::WARN);
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(filter);
        // `try_init` also routes the `log` records of Rocket and our `rocket::warn!` here.
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .map_err(|error| LogSetupError(error.to_string()))
    } else {
        let layer = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_filter(ours);
        // No `log` bridge: Rocket keeps its own console logger for its own lines.
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .map_err(|error| LogSetupError(error.to_string()))
    }
}
