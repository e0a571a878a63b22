//! The HR domain: departments, employees, the dashboard figures and the demo company.
//!
//! Start dates are calendar dates without a time zone, stored as ISO `YYYY-MM-DD` text: both
//! engines compare and sort that form correctly, and sqlx `Any` decodes it as a plain string.
//! Search and sort use lowercase `*_key` columns computed in Rust (`text::fold`), because SQLite's `LOWER`
//! only folds ASCII while PostgreSQL's folds everything: one Rust function keeps both alike.

pub mod attention;
pub mod circle;
pub mod dashboard;
pub mod demo;
pub mod department;
pub mod employee;
pub mod import;
pub mod location;
pub mod org_chart;
pub mod team;

use chrono::NaiveDate;

use crate::db::{Backend, Db};

pub use dashboard::{Anniversary, CompanyFigures, MonthFlow};
pub use department::{Department, DepartmentHeadcount};
pub use employee::{
    DepartmentChoice, DirectoryQuery, DirectorySort, DirectoryStatus, Employee, EmployeeDraft,
    EmployeeFields, EmployeeStatus, EmployeeWriteError, InvalidEmployee, SortColumn, Standing,
};
pub use location::Location;

/// The stored form of a date.
const DATE_FORMAT: &str = "%Y-%m-%d";

/// A date in its stored form (zero-padded, so text order is date order).
pub fn format_date(date: NaiveDate) -> String {
    date.format(DATE_FORMAT).to_string()
}

/// Parses the stored (and the HTML date input's) `YYYY-MM-DD` form.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    // chrono accepts unpadded fields; insisting on exactly ten bytes keeps one canonical form.
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, DATE_FORMAT).ok()
}

/// "12 March 2021": how dates read on pages.
pub fn display_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// "12 Mar 2021": how dates read in tables, where the long form would crowd the columns (the
/// long form goes in the cell's title).
pub fn short_date(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// A stored date that does not parse is data corruption, reported as a decode error.
pub(crate) fn decode_date(text: &str) -> Result<NaiveDate, sqlx::Error> {
    parse_date(text)
        .ok_or_else(|| sqlx::Error::Decode(format!("invalid stored date {text:?}").into()))
}

/// A transaction that reads and then changes employees, serialized against every other such
/// writer while readers carry on. On SQLite, `BEGIN IMMEDIATE` takes the write lock up front: a
/// deferred transaction that read first could not upgrade once another connection had written,
/// and would fail instead of waiting for `busy_timeout`. On PostgreSQL the table lock does the
/// same, so two edits checked against each other's old state (a reporting loop made of two
/// "valid" manager changes) cannot both commit.
pub async fn begin_hr_write(db: &Db) -> Result<crate::db::WriteTx, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if db.backend == Backend::Postgres {
        sqlx::query("LOCK TABLE employees IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_dates_parse() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "2023-02-29",
            "2024-2-29",
            "24-02-29",
            "2024-02-29x",
            "",
            "yesterday",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
        let date = NaiveDate::from_ymd_opt(987, 1, 5).unwrap();
        assert_eq!(format_date(date), "0987-01-05");
    }
}
