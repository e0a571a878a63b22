//! The columns of a staff list, found by their header names (any case, any order).
//!
//! All nine are needed: a file that leaves one out would otherwise say nothing about it, and an
//! import cannot tell "no manager" from "not in this file". "Employee number" (the export's
//! first column) is ignored, since the portal numbers people itself. Any other column is refused
//! by name rather than ignored, so a misspelt header never drops a column of data silently.

use std::fmt;

/// A column the import reads, in the order the export writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Name,
    WorkEmail,
    JobTitle,
    Department,
    ManagerEmail,
    Location,
    StartDate,
    Status,
    LastDay,
}

/// The export's first column, which the import skips.
pub const IGNORED_COLUMN: &str = "Employee number";

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Name,
        Column::WorkEmail,
        Column::JobTitle,
        Column::Department,
        Column::ManagerEmail,
        Column::Location,
        Column::StartDate,
        Column::Status,
        Column::LastDay,
    ];

    /// The header as the export writes it.
    pub fn header(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::WorkEmail => "Work e-mail",
            Column::JobTitle => "Job title",
            Column::Department => "Department",
            Column::ManagerEmail => "Manager e-mail",
            Column::Location => "Location",
            Column::StartDate => "Start date",
            Column::Status => "Status",
            Column::LastDay => "Last day",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn parse(header: &str) -> Option<Column> {
        let header = header.trim();
        Column::ALL
            .into_iter()
            .find(|c| c.header().eq_ignore_ascii_case(header))
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header())
    }
}

/// Where each column is in the file's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    positions: [usize; 9],
    /// How many cells the header has (a row with more is refused).
    pub width: usize,
}

/// What is wrong with a header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    Missing(Vec<Column>),
    Unknown(Vec<String>),
    Repeated(Column),
}

impl ColumnMap {
    /// Maps a header line; reports every missing column at once.
    pub fn from_header<'a>(
        headers: impl IntoIterator<Item = &'a str>,
    ) -> Result<ColumnMap, HeaderProblem> {
        let mut positions: [Option<usize>; 9] = [None; 9];
        let mut unknown = Vec::new();
        let mut width = 0;
        for (at, header) in headers.into_iter().enumerate() {
            width = at + 1;
            // Spreadsheets keep a UTF-8 byte-order mark on the first header when one slips past.
            let header = header.trim_start_matches('\u{feff}');
            if header.trim().eq_ignore_ascii_case(IGNORED_COLUMN) {
                continue;
            }
            match Column::parse(header) {
                Some(column) if positions[column.index()].is_some() => {
                    return Err(HeaderProblem::Repeated(column));
                }
                Some(column) => positions[column.index()] = Some(at),
                None if header.trim().is_empty() => {}
                None => unknown.push(header.trim().to_string()),
            }
        }
        let missing: Vec<Column> = Column::ALL
            .into_iter()
            .filter(|c| positions[c.index()].is_none())
            .collect();
        if !missing.is_empty() {
            return Err(HeaderProblem::Missing(missing));
        }
        if !unknown.is_empty() {
            return Err(HeaderProblem::Unknown(unknown));
        }
        Ok(ColumnMap {
            positions: positions.map(|p| p.unwrap_or_default()),
            width,
        })
    }

    /// Where `column` is in a record.
    pub fn position(&self, column: Column) -> usize {
        self.positions[column.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_in_any_case_and_order() {
        let mut headers: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
        headers.reverse();
        headers.insert(0, "EMPLOYEE NUMBER");
        let upper: Vec<String> = headers.iter().map(|h| h.to_uppercase()).collect();
        let map = ColumnMap::from_header(upper.iter().map(String::as_str)).unwrap();
        assert_eq!(map.position(Column::LastDay), 1);
        assert_eq!(map.position(Column::Name), 9);
    }

    #[test]
    fn every_missing_column_is_named_and_strangers_are_refused() {
        let missing = ColumnMap::from_header(["Name", "Work e-mail"]).unwrap_err();
        assert_eq!(missing, HeaderProblem::Missing(Column::ALL[2..].to_vec()));
        let mut headers: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
        headers.push("Shoe size");
        assert_eq!(
            ColumnMap::from_header(headers).unwrap_err(),
            HeaderProblem::Unknown(vec!["Shoe size".into()])
        );
    }
}
