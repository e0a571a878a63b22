//! Web plumbing shared by every page: security headers, catchers, the page layout and flashes.

pub mod assets;
pub mod catchers;
pub mod charts;
pub mod csv;
pub mod device;
pub mod error_response;
pub mod handle;
pub mod headers;
pub mod page;
pub mod provenance;
pub mod views;
