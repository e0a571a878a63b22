//! Web plumbing shared by every page: security headers, catchers, the page layout and flashes.

pub mod assets;
pub mod catchers;
pub mod charts;
pub mod cookies;
pub mod csv;
pub mod error_response;
pub mod guards;
pub mod handle;
pub mod headers;
pub mod metrics;
pub mod next;
pub mod page;
pub mod params;
pub mod provenance;
pub mod refusals;
pub mod request_log;
pub mod table;
pub mod views;
