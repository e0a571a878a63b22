//! Employees: the types ([`Employee`], its status, the directory's query and order), their
//! validation ([`validation`]: a form's draft into checked fields) and the queries that search,
//! load and change them ([`queries`], as `impl Employee`); the private details ([`private`]) and
//! the one rule for who may see them ([`visibility`]).

pub mod access;
pub mod history;
pub mod managers;
pub mod private;
pub mod queries;
pub mod validation;
pub mod visibility;

use chrono::NaiveDate;
use sqlx::FromRow;

pub use history::JobPeriod;
pub use private::{PrivateDetails, PrivateDraft, PrivateField};
pub use validation::{
    CheckedEmployee, DepartmentChoice, EmployeeDraft, EmployeeFields, EmployeeWriteError,
    InvalidEmployee, ManagerPick,
};

use crate::ids::{DepartmentId, EmployeeId};

/// Longest job title and location accepted.
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_LOCATION_CHARS: usize = 100;

/// Where someone stands with the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmployeeStatus {
    Active,
    OnLeave,
    Terminated,
}

impl EmployeeStatus {
    pub const ALL: [EmployeeStatus; 3] = [
        EmployeeStatus::Active,
        EmployeeStatus::OnLeave,
        EmployeeStatus::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmployeeStatus::Active => "active",
            EmployeeStatus::OnLeave => "on_leave",
            EmployeeStatus::Terminated => "terminated",
        }
    }

    /// The stored or posted form; anything else is `None`.
    pub fn parse(value: &str) -> Option<EmployeeStatus> {
        EmployeeStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The stored form, or the label as people read it (any case): what a staff list may hold.
    pub fn parse_stored_or_label(value: &str) -> Option<EmployeeStatus> {
        let value = value.trim();
        EmployeeStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value || status.label().eq_ignore_ascii_case(value))
    }

    pub fn label(self) -> &'static str {
        match self {
            EmployeeStatus::Active => "Active",
            EmployeeStatus::OnLeave => "On leave",
            EmployeeStatus::Terminated => "Left the company",
        }
    }
}

/// An employee with the names of their department and manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub id: EmployeeId,
    pub name: String,
    pub email: String,
    pub title: String,
    pub department_id: DepartmentId,
    pub department_name: String,
    pub manager_id: Option<EmployeeId>,
    pub manager_name: Option<String>,
    pub location: String,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// The last day with the company, for someone who left (unknown for people marked as left
    /// before leaving days were recorded).
    pub left_on: Option<NaiveDate>,
    /// Work information, shown to everyone signed in (not one of the private details).
    pub work_phone: Option<String>,
}

/// How the directory is ordered. Each variant is one fixed SQL statement: sort keys from the
/// query string only ever choose among them, never reach the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectorySort {
    #[default]
    Name,
    Department,
    /// Longest-serving first.
    StartDate,
    /// Most recent hires first.
    StartDateDesc,
}

impl DirectorySort {
    pub const ALL: [DirectorySort; 4] = [
        DirectorySort::Name,
        DirectorySort::Department,
        DirectorySort::StartDate,
        DirectorySort::StartDateDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectorySort::Name => "name",
            DirectorySort::Department => "department",
            DirectorySort::StartDate => "start",
            DirectorySort::StartDateDesc => "start_desc",
        }
    }

    /// Unknown keys fall back to the default order rather than failing the page.
    pub fn parse(value: Option<&str>) -> DirectorySort {
        value
            .and_then(|v| DirectorySort::ALL.into_iter().find(|s| s.as_str() == v))
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            DirectorySort::Name => "Name",
            DirectorySort::Department => "Department",
            DirectorySort::StartDate => "Start date (earliest first)",
            DirectorySort::StartDateDesc => "Start date (newest first)",
        }
    }
}

/// One directory request: a free-text search over name, title and department, an optional
/// department, an order and a page window.
#[derive(Debug, Clone)]
pub struct DirectoryQuery<'a> {
    pub search: &'a str,
    pub department: Option<DepartmentId>,
    pub sort: DirectorySort,
    pub limit: i64,
    pub offset: i64,
}

/// A manager candidate for the employee form's picker.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ManagerChoice {
    pub id: EmployeeId,
    pub name: String,
    pub title: String,
    pub email: String,
}

/// The department an employee was written with, and whether the write created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedDepartment {
    pub id: DepartmentId,
    /// The name of a department this write created.
    pub created: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_sort_keys_fall_back_to_name() {
        assert_eq!(
            DirectorySort::parse(Some("start")),
            DirectorySort::StartDate
        );
        assert_eq!(
            DirectorySort::parse(Some("name; DROP TABLE employees")),
            DirectorySort::Name
        );
        assert_eq!(DirectorySort::parse(None), DirectorySort::Name);
    }
}
