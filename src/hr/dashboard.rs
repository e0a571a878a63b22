//! The figures on the signed-in home page: the person's own record, headcount by department,
//! recent hires and upcoming work anniversaries.

use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Datelike, Duration, NaiveDate};

use super::department::{Department, DepartmentHeadcount};
use super::employee::Employee;
use sqlx::AnyConnection;

use crate::ids::UserId;

/// How far ahead anniversaries are announced, in days (today included).
pub const ANNIVERSARY_WINDOW_DAYS: i64 = 30;
/// How many recent hires and anniversaries the dashboard lists.
pub const RECENT_HIRES_SHOWN: i64 = 5;
pub const ANNIVERSARIES_SHOWN: usize = 8;

/// A work anniversary inside the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anniversary {
    pub employee: Employee,
    pub date: NaiveDate,
    pub years: i32,
    pub in_days: i64,
}

#[derive(Debug, Clone)]
pub struct DashboardFigures {
    /// The signed-in person's employee record, when their account is linked to one.
    pub profile: Option<Employee>,
    pub headcounts: Vec<DepartmentHeadcount>,
    pub headcount_total: i64,
    pub recent_hires: Vec<Employee>,
    /// The first few anniversaries, soonest first.
    pub anniversaries: Vec<Anniversary>,
    /// All anniversaries in the window, including those not listed.
    pub anniversaries_total: usize,
}

impl DashboardFigures {
    /// Loads every figure for `user_id` as of `today` (a parameter so that tests pick the day).
    /// The company-wide part comes from `cache`; only the person's own record is read each time.
    pub async fn load(
        conn: &mut AnyConnection,
        cache: &CompanyFiguresCache,
        user_id: UserId,
        today: NaiveDate,
    ) -> Result<Self, sqlx::Error> {
        let company = cache.get(conn, today).await?;
        let mut figures = (*company).clone();
        figures.profile = Employee::for_user(conn, user_id).await?;
        Ok(figures)
    }

    /// The company-wide figures (no profile), straight from the database.
    async fn load_company(conn: &mut AnyConnection, today: NaiveDate) -> Result<Self, sqlx::Error> {
        let headcounts = Department::headcounts(conn).await?;
        let headcount_total = headcounts.iter().map(|d| d.headcount).sum();
        let recent_hires = Employee::recent_hires(conn, today, RECENT_HIRES_SHOWN).await?;
        let mut anniversaries = upcoming_anniversaries(conn, today).await?;
        let anniversaries_total = anniversaries.len();
        anniversaries.truncate(ANNIVERSARIES_SHOWN);
        Ok(DashboardFigures {
            profile: None,
            headcounts,
            headcount_total,
            recent_hires,
            anniversaries,
            anniversaries_total,
        })
    }
}

/// How long the company-wide dashboard figures are reused before being read again.
pub const COMPANY_FIGURES_TTL: StdDuration = StdDuration::from_secs(15);

/// The company-wide dashboard figures (headcounts, recent hires, anniversaries), shared by every
/// dashboard view for a few seconds: they are the same for everyone, cost four queries, and a
/// few seconds of staleness is harmless for them. Employee edits on this instance clear it at
/// once; edits elsewhere (another instance, the CLI) show within `COMPANY_FIGURES_TTL`.
/// Nothing about sessions or permissions is ever cached here.
#[derive(Debug, Default)]
pub struct CompanyFiguresCache {
    slot: Mutex<Option<CachedFigures>>,
}

#[derive(Debug)]
struct CachedFigures {
    loaded: Instant,
    today: NaiveDate,
    figures: Arc<DashboardFigures>,
}

impl CompanyFiguresCache {
    /// The figures for `today`, from the cache while fresh.
    pub async fn get(
        &self,
        conn: &mut AnyConnection,
        today: NaiveDate,
    ) -> Result<Arc<DashboardFigures>, sqlx::Error> {
        if let Ok(slot) = self.slot.lock() {
            if let Some(cached) = slot.as_ref() {
                if cached.today == today && cached.loaded.elapsed() < COMPANY_FIGURES_TTL {
                    return Ok(Arc::clone(&cached.figures));
                }
            }
        }
        let figures = Arc::new(DashboardFigures::load_company(conn, today).await?);
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(CachedFigures {
                loaded: Instant::now(),
                today,
                figures: Arc::clone(&figures),
            });
        }
        Ok(figures)
    }

    /// Forgets the cached figures (after an employee was added or changed here).
    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = None;
        }
    }
}

/// Every current employee with at least one full year whose anniversary falls within the next
/// `ANNIVERSARY_WINDOW_DAYS` days, soonest first.
pub async fn upcoming_anniversaries(
    conn: &mut AnyConnection,
    today: NaiveDate,
) -> Result<Vec<Anniversary>, sqlx::Error> {
    let last = today + Duration::days(ANNIVERSARY_WINDOW_DAYS - 1);
    // The database narrows by month-day; the exact rule runs below. One extra day at the end
    // catches 29 February starters, whose anniversary is kept on 28 February in common years.
    let from = today.format("%m-%d").to_string();
    let to = (last + Duration::days(1)).format("%m-%d").to_string();
    let candidates = Employee::with_start_day_between(conn, &from, &to, today).await?;
    let mut found: Vec<Anniversary> = candidates
        .into_iter()
        .filter_map(|employee| anniversary_between(employee, today, last))
        .collect();
    found.sort_by(|a, b| {
        (a.date, &a.employee.name, a.employee.id).cmp(&(b.date, &b.employee.name, b.employee.id))
    });
    Ok(found)
}

/// The anniversary of `employee` within `today..=last`, if there is one with at least a year.
fn anniversary_between(
    employee: Employee,
    today: NaiveDate,
    last: NaiveDate,
) -> Option<Anniversary> {
    let start = employee.start_date;
    let date = [today.year(), today.year() + 1]
        .into_iter()
        .map(|year| anniversary_in(start, year))
        .find(|date| *date >= today && *date <= last)?;
    let years = date.year() - start.year();
    (years >= 1).then(|| Anniversary {
        in_days: (date - today).num_days(),
        date,
        years,
        employee,
    })
}

/// The day in `year` on which someone who started on `start` celebrates.
fn anniversary_in(start: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, start.month(), start.day())
        // Only 29 February can be missing: celebrate on the 28th.
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hr::EmployeeStatus;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn started(start: NaiveDate) -> Employee {
        Employee {
            id: crate::ids::EmployeeId(1),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            title: "Engineer".into(),
            department_id: crate::ids::DepartmentId(1),
            department_name: "Engineering".into(),
            manager_id: None,
            manager_name: None,
            location: "London".into(),
            start_date: start,
            status: EmployeeStatus::Active,
        }
    }

    fn window(today: NaiveDate) -> NaiveDate {
        today + Duration::days(ANNIVERSARY_WINDOW_DAYS - 1)
    }

    #[test]
    fn anniversaries_count_whole_years_and_cross_new_year() {
        let today = date(2025, 12, 20);
        let found = anniversary_between(started(date(2019, 1, 5)), today, window(today)).unwrap();
        assert_eq!(found.date, date(2026, 1, 5));
        assert_eq!(found.years, 7);
        assert_eq!(found.in_days, 16);
        let today_too = anniversary_between(started(date(2020, 12, 20)), today, window(today));
        assert_eq!(today_too.map(|a| a.in_days), Some(0));
    }

    #[test]
    fn people_in_their_first_year_and_dates_outside_the_window_are_left_out() {
        let today = date(2025, 6, 1);
        assert!(anniversary_between(started(date(2025, 6, 10)), today, window(today)).is_none());
        assert!(anniversary_between(started(date(2020, 7, 1)), today, window(today)).is_none());
        assert!(anniversary_between(started(date(2020, 5, 31)), today, window(today)).is_none());
    }

    #[test]
    fn leap_day_starters_celebrate_on_the_28th_in_common_years() {
        let today = date(2025, 2, 1);
        let found = anniversary_between(started(date(2020, 2, 29)), today, window(today)).unwrap();
        assert_eq!(found.date, date(2025, 2, 28));
        assert_eq!(found.years, 5);
    }
}
