//! Employees: the types ([`Employee`], its status, the directory's query and order), their
//! validation ([`validation`]: a form's draft into checked fields) and the queries that search,
//! load and change them ([`queries`], as `impl Employee`); the private details ([`private`]) and
//! the one rule for who may see them ([`visibility`]).

pub mod access;
pub mod directory;
pub mod history;
pub mod managers;
pub mod private;
pub mod queries;
pub mod validation;
pub mod visibility;

use chrono::NaiveDate;
use sqlx::FromRow;

pub use directory::{
    DirectoryQuery, DirectorySort, DirectoryStatus, SortColumn, Standing, UnknownStatus,
};
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
