//! The directory's request: which people (a status filter over today's standing), how they are
//! ordered (a column and a direction) and which page. The SQL for each lives in `queries.rs`.

use chrono::NaiveDate;

use super::{Employee, EmployeeStatus};
use crate::ids::DepartmentId;

/// Where someone stands today, as pages name it. The stored status says "left" as soon as HR
/// records a last day, but someone serving their notice is still here until that day is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    OnLeave,
    /// Left, with a last day still to come.
    Leaving,
    Left,
}

impl Standing {
    pub fn of(employee: &Employee, today: NaiveDate) -> Standing {
        match employee.status {
            EmployeeStatus::Active => Standing::Active,
            EmployeeStatus::OnLeave => Standing::OnLeave,
            EmployeeStatus::Terminated if employee.left_on.is_some_and(|day| day > today) => {
                Standing::Leaving
            }
            EmployeeStatus::Terminated => Standing::Left,
        }
    }

    /// The standing as someone sees it who may (`sees_leave`) or may not learn who is on
    /// leave: to the latter a person on leave is simply active (see `visibility::sees_leave`).
    pub fn as_seen(self, sees_leave: bool) -> Standing {
        match self {
            Standing::OnLeave if !sees_leave => Standing::Active,
            other => other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::OnLeave => "on_leave",
            Standing::Leaving => "leaving",
            Standing::Left => "left",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Standing::Active => "Active",
            Standing::OnLeave => "On leave",
            Standing::Leaving => "Leaving",
            Standing::Left => "Left the company",
        }
    }
}

/// Which people the directory lists. `Current` — everyone with the company today, the people
/// the dashboard's headcount counts — is the default and the only choice open to everyone; the
/// others need `Permission::SeePrivateDetails` (the web guard `StatusFilter` decides), since
/// "on leave" is need-to-know and leavers are HR's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectoryStatus {
    #[default]
    Current,
    /// Stored as active, started or not.
    Active,
    OnLeave,
    Leaving,
    Left,
    /// Everyone ever recorded.
    All,
}

/// A `?status=` value that names no [`DirectoryStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl DirectoryStatus {
    pub const ALL: [DirectoryStatus; 6] = [
        DirectoryStatus::Current,
        DirectoryStatus::Active,
        DirectoryStatus::OnLeave,
        DirectoryStatus::Leaving,
        DirectoryStatus::Left,
        DirectoryStatus::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryStatus::Current => "current",
            DirectoryStatus::Active => "active",
            DirectoryStatus::OnLeave => "on_leave",
            DirectoryStatus::Leaving => "leaving",
            DirectoryStatus::Left => "left",
            DirectoryStatus::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DirectoryStatus::Current => "Current staff",
            DirectoryStatus::Active => "Active",
            DirectoryStatus::OnLeave => "On leave",
            DirectoryStatus::Leaving => "Leaving",
            DirectoryStatus::Left => "Left the company",
            DirectoryStatus::All => "Everyone",
        }
    }

    /// Absent or empty is the default; an unknown value is refused rather than guessed at (it
    /// would otherwise silently widen or narrow the list).
    pub fn parse(value: Option<&str>) -> Result<DirectoryStatus, UnknownStatus> {
        match value.map(str::trim) {
            None | Some("") => Ok(DirectoryStatus::Current),
            Some(value) => DirectoryStatus::ALL
                .into_iter()
                .find(|status| status.as_str() == value)
                .ok_or_else(|| UnknownStatus(value.chars().take(40).collect())),
        }
    }
}

/// The columns the directory can be ordered by: each has a folded or ISO key that sorts alike
/// on both databases (titles and locations have none, so their columns do not sort).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    #[default]
    Name,
    Department,
    Start,
}

impl SortColumn {
    pub const ALL: [SortColumn; 3] = [SortColumn::Name, SortColumn::Department, SortColumn::Start];

    pub fn as_str(self) -> &'static str {
        match self {
            SortColumn::Name => "name",
            SortColumn::Department => "department",
            SortColumn::Start => "start",
        }
    }
}

/// How the directory is ordered: a column, ascending or descending. Each combination is one
/// fixed SQL statement (`queries.rs`): sort keys from the query string only ever choose among
/// them, never reach the SQL text. Descending is the exact reverse of ascending, ties included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectorySort {
    pub column: SortColumn,
    pub descending: bool,
}

impl DirectorySort {
    /// Unknown keys fall back to the default order (by name) rather than failing the page: an
    /// old bookmark still opens. `start_desc` is the key the former dropdown used.
    pub fn parse(sort: Option<&str>, dir: Option<&str>) -> DirectorySort {
        if sort == Some("start_desc") {
            return DirectorySort {
                column: SortColumn::Start,
                descending: true,
            };
        }
        let column = sort
            .and_then(|v| SortColumn::ALL.into_iter().find(|c| c.as_str() == v))
            .unwrap_or_default();
        DirectorySort {
            column,
            descending: dir == Some("desc"),
        }
    }

    pub fn direction(self) -> &'static str {
        if self.descending {
            "desc"
        } else {
            "asc"
        }
    }
}

/// One directory request: a free-text search over name, title and department, an optional
/// department, a status filter as of `today`, an order and a page window.
#[derive(Debug, Clone)]
pub struct DirectoryQuery<'a> {
    pub search: &'a str,
    pub department: Option<DepartmentId>,
    pub status: DirectoryStatus,
    pub today: NaiveDate,
    pub sort: DirectorySort,
    pub limit: i64,
    pub offset: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_sort_keys_fall_back_to_name_ascending() {
        let start = DirectorySort::parse(Some("start"), None);
        assert_eq!(start.column, SortColumn::Start);
        assert!(!start.descending);
        assert!(DirectorySort::parse(Some("start_desc"), None).descending);
        assert!(DirectorySort::parse(Some("department"), Some("desc")).descending);
        assert_eq!(
            DirectorySort::parse(Some("name; DROP TABLE employees"), Some("sideways")),
            DirectorySort::default()
        );
        assert_eq!(DirectorySort::parse(None, None), DirectorySort::default());
    }

    #[test]
    fn a_status_is_one_of_the_six_or_refused() {
        assert_eq!(DirectoryStatus::parse(None), Ok(DirectoryStatus::Current));
        assert_eq!(
            DirectoryStatus::parse(Some("")),
            Ok(DirectoryStatus::Current)
        );
        assert_eq!(
            DirectoryStatus::parse(Some("on_leave")),
            Ok(DirectoryStatus::OnLeave)
        );
        assert!(DirectoryStatus::parse(Some("terminated")).is_err());
    }

    #[test]
    fn leave_is_hidden_from_those_who_may_not_see_it_and_nothing_else_is() {
        assert_eq!(Standing::OnLeave.as_seen(false), Standing::Active);
        assert_eq!(Standing::OnLeave.as_seen(true), Standing::OnLeave);
        assert_eq!(Standing::Leaving.as_seen(false), Standing::Leaving);
        assert_eq!(Standing::Left.as_seen(false), Standing::Left);
    }
}
