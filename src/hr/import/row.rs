//! One person's row, checked by the employee form's own rules (the same functions, so a file
//! and the form can never disagree), each problem reported as "line N: Column: reason".

use std::fmt;

use chrono::NaiveDate;

use super::cells::unmark;
use super::columns::{Column, ColumnMap};
use super::file::Record;
use crate::hr::department::parse_department_name;
use crate::hr::employee::validation::{parse_last_day, parse_start_date, parse_text};
use crate::hr::employee::{EmployeeStatus, MAX_LOCATION_CHARS, MAX_TITLE_CHARS};
use crate::users::{parse_name, Email};

/// A checked row: what the file says about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub line: u64,
    pub name: String,
    /// Normalized (the form in which addresses are stored and matched).
    pub email: String,
    pub title: String,
    pub department: String,
    pub manager_email: Option<String>,
    pub location: String,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// Set exactly when `status` is `Terminated`.
    pub left_on: Option<NaiveDate>,
}

/// One problem with a file's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// `None` for a problem with the row as a whole.
    pub column: Option<Column>,
    pub reason: String,
}

impl RowError {
    pub fn new(line: u64, column: Column, reason: impl Into<String>) -> RowError {
        RowError {
            line,
            column: Some(column),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}: {column}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Collects a row's problems while its fields are checked.
struct Checker<'a> {
    record: &'a Record,
    columns: &'a ColumnMap,
    errors: Vec<RowError>,
}

impl Checker<'_> {
    /// The cell of `column`, without the export's formula mark.
    fn cell(&self, column: Column) -> &str {
        unmark(self.record.cell(self.columns, column))
    }

    fn check<T>(&mut self, column: Column, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(reason) => {
                self.errors
                    .push(RowError::new(self.record.line, column, reason));
                None
            }
        }
    }
}

/// A staff list's status: the stored form or the label ("Left the company").
fn parse_status(raw: &str) -> Result<EmployeeStatus, String> {
    EmployeeStatus::parse_stored_or_label(raw).ok_or_else(|| {
        let labels: Vec<String> = EmployeeStatus::ALL
            .iter()
            .map(|s| format!("\"{}\"", s.label()))
            .collect();
        format!(
            "\"{}\" is not a status; use {}.",
            raw.trim(),
            labels.join(", ")
        )
    })
}

fn parse_email(raw: &str) -> Result<String, String> {
    Email::parse(raw)
        .map(|e| e.as_str().to_string())
        .map_err(|e| e.to_string())
}

/// Checks one record; every problem of the row at once.
pub fn check_row(record: &Record, columns: &ColumnMap) -> Result<PersonRow, Vec<RowError>> {
    let mut row = Checker {
        record,
        columns,
        errors: Vec::new(),
    };
    if record.cells.len() > columns.width {
        row.errors.push(RowError {
            line: record.line,
            column: None,
            reason: format!(
                "this row has {} cells but the header has {}.",
                record.cells.len(),
                columns.width
            ),
        });
    }
    let name = parse_name(row.cell(Column::Name)).map_err(str::to_string);
    let name = row.check(Column::Name, name);
    let email = parse_email(row.cell(Column::WorkEmail));
    let email = row.check(Column::WorkEmail, email);
    let title = parse_text(row.cell(Column::JobTitle), MAX_TITLE_CHARS, "job title");
    let title = row.check(Column::JobTitle, title);
    let department = parse_department_name(row.cell(Column::Department)).map_err(str::to_string);
    let department = row.check(Column::Department, department);
    let manager = match row.cell(Column::ManagerEmail).trim() {
        "" => Ok(None),
        typed => parse_email(typed).map(Some),
    };
    let manager_email = row.check(Column::ManagerEmail, manager);
    let location = parse_text(row.cell(Column::Location), MAX_LOCATION_CHARS, "location");
    let location = row.check(Column::Location, location);
    let start_date = parse_start_date(row.cell(Column::StartDate));
    let start_date = row.check(Column::StartDate, start_date);
    let status = parse_status(row.cell(Column::Status));
    let status = row.check(Column::Status, status);
    let last_day = row.cell(Column::LastDay).trim().to_string();
    let left_on = match (status, start_date) {
        (Some(EmployeeStatus::Terminated), Some(start)) => {
            let left_on = parse_last_day(&last_day, start).map(Some);
            row.check(Column::LastDay, left_on)
        }
        (Some(_), _) if !last_day.is_empty() => row.check(
            Column::LastDay,
            Err(
                "Only someone who left the company has a last day; empty this cell or set \
                 the status to \"Left the company\"."
                    .to_string(),
            ),
        ),
        _ => Some(None),
    };
    let person = (|| {
        Some(PersonRow {
            line: record.line,
            name: name?,
            email: email?,
            title: title?,
            department: department?,
            manager_email: manager_email?,
            location: location?,
            start_date: start_date?,
            status: status?,
            left_on: left_on?,
        })
    })();
    match person {
        Some(person) if row.errors.is_empty() => Ok(person),
        _ => Err(row.errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> ColumnMap {
        ColumnMap::from_header(Column::ALL.map(Column::header)).unwrap()
    }

    fn record(cells: [&str; 9]) -> Record {
        Record {
            line: 7,
            cells: cells.iter().map(|c| c.to_string()).collect(),
        }
    }

    const GRACE: [&str; 9] = [
        "Grace Hopper",
        "Grace@Example.com",
        "Rear Admiral",
        "Navy",
        "",
        "Arlington",
        "1943-12-01",
        "Active",
        "",
    ];

    #[test]
    fn a_good_row_reads_like_the_form() {
        let row = check_row(&record(GRACE), &columns()).unwrap();
        assert_eq!(row.email, "grace@example.com");
        assert_eq!(row.status, EmployeeStatus::Active);
        assert_eq!(row.manager_email, None);
    }

    #[test]
    fn each_problem_names_its_line_and_column() {
        let mut cells = GRACE;
        cells[6] = "1943-02-30";
        cells[7] = "Retired";
        let errors = check_row(&record(cells), &columns()).unwrap_err();
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("line 7: Start date: "), "{lines:?}");
        assert!(
            lines[1].starts_with("line 7: Status: \"Retired\""),
            "{lines:?}"
        );
    }

    #[test]
    fn a_last_day_belongs_to_leavers_only() {
        let mut leaver = GRACE;
        leaver[7] = "Left the company";
        let missing = check_row(&record(leaver), &columns()).unwrap_err();
        assert_eq!(missing[0].column, Some(Column::LastDay));
        leaver[8] = "1986-08-14";
        let row = check_row(&record(leaver), &columns()).unwrap();
        assert_eq!(row.status, EmployeeStatus::Terminated);
        let mut active = GRACE;
        active[8] = "1986-08-14";
        let refused = check_row(&record(active), &columns()).unwrap_err();
        assert_eq!(refused[0].column, Some(Column::LastDay));
    }

    #[test]
    fn the_stored_status_and_a_marked_formula_are_read() {
        let mut cells = GRACE;
        cells[7] = "on_leave";
        cells[2] = "'=1+1";
        let row = check_row(&record(cells), &columns()).unwrap();
        assert_eq!(row.status, EmployeeStatus::OnLeave);
        assert_eq!(row.title, "=1+1");
    }
}
