//! The people someone works with, as their home page shows them: their manager, the others who
//! report to the same manager, and their own reports — current staff only, with who is new and
//! whose work anniversary is coming up. Work details only: nothing private is read here.

use chrono::{Datelike, Days, NaiveDate};
use sqlx::AnyConnection;

use super::{Employee, EmployeeStatus};

/// Someone who started this many days ago or less is "new".
pub const NEW_FOR_DAYS: i64 = 30;
/// Anniversaries this many days ahead are "coming up".
pub const ANNIVERSARIES_AHEAD_DAYS: u64 = 30;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCircle {
    pub manager: Option<Employee>,
    /// Others with the same manager, by name.
    pub peers: Vec<Employee>,
    /// Direct reports, by name.
    pub reports: Vec<Employee>,
}

/// A work anniversary coming up in the circle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircleAnniversary {
    pub employee: Employee,
    pub on: NaiveDate,
    pub years: i32,
}

impl WorkCircle {
    pub async fn of(conn: &mut AnyConnection, me: &Employee) -> Result<WorkCircle, sqlx::Error> {
        let current = |people: Vec<Employee>| -> Vec<Employee> {
            people
                .into_iter()
                .filter(|e| e.status != EmployeeStatus::Terminated && e.id != me.id)
                .collect()
        };
        let (manager, peers) = match me.manager_id {
            Some(manager_id) => (
                Employee::find(conn, manager_id)
                    .await?
                    .filter(|m| m.status != EmployeeStatus::Terminated),
                current(Employee::direct_reports(conn, manager_id).await?),
            ),
            None => (None, Vec::new()),
        };
        let reports = current(Employee::direct_reports(conn, me.id).await?);
        Ok(WorkCircle {
            manager,
            peers,
            reports,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.manager.is_none() && self.peers.is_empty() && self.reports.is_empty()
    }

    fn everyone(&self) -> impl Iterator<Item = &Employee> {
        self.manager
            .iter()
            .chain(self.peers.iter())
            .chain(self.reports.iter())
    }

    /// Work anniversaries (a whole number of years since the start date) from `today` to
    /// [`ANNIVERSARIES_AHEAD_DAYS`] ahead, soonest first.
    pub fn anniversaries(&self, today: NaiveDate) -> Vec<CircleAnniversary> {
        let last = today
            .checked_add_days(Days::new(ANNIVERSARIES_AHEAD_DAYS))
            .unwrap_or(today);
        let mut coming: Vec<CircleAnniversary> = self
            .everyone()
            .filter_map(|employee| {
                let on = next_anniversary(employee.start_date, today)?;
                let years = on.year() - employee.start_date.year();
                (on <= last && years >= 1).then(|| CircleAnniversary {
                    employee: employee.clone(),
                    on,
                    years,
                })
            })
            .collect();
        coming.sort_by(|a, b| (a.on, &a.employee.name).cmp(&(b.on, &b.employee.name)));
        coming
    }
}

/// Whether someone who started on `start` is new on `today`.
pub fn is_new(start: NaiveDate, today: NaiveDate) -> bool {
    let days = (today - start).num_days();
    (0..=NEW_FOR_DAYS).contains(&days)
}

/// The first anniversary of `start` on or after `today` (29 February falls on 28 February in
/// other years).
fn next_anniversary(start: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let in_year = |year: i32| {
        NaiveDate::from_ymd_opt(year, start.month(), start.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, start.month(), start.day() - 1))
    };
    let this_year = in_year(today.year())?;
    if this_year >= today {
        Some(this_year)
    } else {
        in_year(today.year() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_next_anniversary_is_this_year_or_next() {
        assert_eq!(
            next_anniversary(day(2020, 3, 10), day(2026, 3, 1)),
            Some(day(2026, 3, 10))
        );
        assert_eq!(
            next_anniversary(day(2020, 3, 10), day(2026, 3, 11)),
            Some(day(2027, 3, 10))
        );
        assert_eq!(
            next_anniversary(day(2020, 2, 29), day(2026, 2, 1)),
            Some(day(2026, 2, 28))
        );
    }

    #[test]
    fn someone_is_new_for_a_month_from_their_start() {
        assert!(is_new(day(2026, 11, 20), day(2026, 12, 6)));
        assert!(!is_new(day(2026, 10, 1), day(2026, 12, 6)));
        assert!(
            !is_new(day(2026, 12, 20), day(2026, 12, 6)),
            "not started yet"
        );
    }
}
