//! The company at a glance, as the dashboard leads with it: headcount now and a year ago,
//! joiners and leavers (this month, per month for a year), average tenure, headcount by
//! department, recent hires and upcoming work anniversaries.
//!
//! Everything here is company-wide and the same for every viewer: [`CompanyFigures`] holds no
//! per-user data, so one computed value can serve every dashboard (see `app::caches::CompanyFiguresCache`).

use chrono::{Datelike, Duration, Months, NaiveDate};
use sqlx::{AnyConnection, FromRow};

use super::decode_date;
use super::department::{Department, DepartmentHeadcount};
use super::employee::{Employee, EmployeeStatus};
use crate::ids::DepartmentId;

/// How far ahead anniversaries are announced, in days (today included).
pub const ANNIVERSARY_WINDOW_DAYS: i64 = 30;
/// How many recent hires and anniversaries the dashboard lists.
pub const RECENT_HIRES_SHOWN: i64 = 5;
pub const ANNIVERSARIES_SHOWN: usize = 8;
/// How many calendar months the joiners/leavers chart covers (this month included).
pub const MONTHS_CHARTED: usize = 12;

/// A work anniversary inside the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anniversary {
    pub employee: Employee,
    pub date: NaiveDate,
    pub years: i32,
    pub in_days: i64,
}

/// Who joined and who left in one calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthFlow {
    /// The first day of the month.
    pub month: NaiveDate,
    pub joined: i64,
    pub left: i64,
}

/// Every company-wide figure of the dashboard as of one day. Plain data (`Clone + Send`), free of
/// anything about the viewer, so it can be computed once and shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyFigures {
    pub today: NaiveDate,
    /// People with the company today.
    pub headcount: i64,
    /// People with the company on the same day twelve months ago.
    pub headcount_year_ago: i64,
    pub joined_this_month: i64,
    pub left_this_month: i64,
    /// Over the charted months (this one and the eleven before it).
    pub joined_last_12_months: i64,
    pub left_last_12_months: i64,
    /// Average time with the company of the people here today, in days; `None` when nobody is.
    pub average_tenure_days: Option<i64>,
    /// Today's headcount per department, largest first; empty departments included (with 0).
    pub departments: Vec<DepartmentHeadcount>,
    /// Joiners and leavers per month, oldest first, `MONTHS_CHARTED` of them.
    pub months: Vec<MonthFlow>,
    pub recent_hires: Vec<Employee>,
    /// The first few anniversaries, soonest first.
    pub anniversaries: Vec<Anniversary>,
    /// All anniversaries in the window, including those not listed.
    pub anniversaries_total: usize,
}

impl CompanyFigures {
    /// Computes every figure as of `today` (a parameter so that tests pick the day) with four
    /// queries: the departments, one lean row per employee (every count and the charts are
    /// worked out from those in Rust, identically on both backends), the recent hires and the
    /// anniversary candidates.
    pub async fn load(conn: &mut AnyConnection, today: NaiveDate) -> Result<Self, sqlx::Error> {
        let departments = Department::all(conn).await?;
        let spans = EmploymentSpan::all(conn).await?;
        let recent_hires = Employee::recent_hires(conn, today, RECENT_HIRES_SHOWN).await?;
        let mut anniversaries = upcoming_anniversaries(conn, today).await?;
        let anniversaries_total = anniversaries.len();
        anniversaries.truncate(ANNIVERSARIES_SHOWN);
        let mut figures = CompanyFigures::from_spans(today, departments, &spans);
        figures.recent_hires = recent_hires;
        figures.anniversaries = anniversaries;
        figures.anniversaries_total = anniversaries_total;
        Ok(figures)
    }

    /// The counts, the department headcounts and the monthly flow, from every employee's span.
    pub fn from_spans(
        today: NaiveDate,
        departments: Vec<Department>,
        spans: &[EmploymentSpan],
    ) -> CompanyFigures {
        let year_ago = today.checked_sub_months(Months::new(12)).unwrap_or(today);
        let here_today: Vec<&EmploymentSpan> =
            spans.iter().filter(|s| s.present_on(today)).collect();
        let headcount = here_today.len() as i64;
        let average_tenure_days = (headcount > 0).then(|| {
            here_today
                .iter()
                .map(|s| (today - s.start_date).num_days())
                .sum::<i64>()
                / headcount
        });

        let mut departments: Vec<DepartmentHeadcount> = departments
            .into_iter()
            .map(|d| DepartmentHeadcount {
                headcount: here_today
                    .iter()
                    .filter(|s| s.department_id == d.id)
                    .count() as i64,
                id: d.id,
                name: d.name,
            })
            .collect();
        // Stable: equal headcounts keep the alphabetical order the departments came in.
        departments.sort_by_key(|d| std::cmp::Reverse(d.headcount));

        let this_month = first_of_month(today);
        let months: Vec<MonthFlow> = (0..MONTHS_CHARTED as u32)
            .rev()
            .map(|back| {
                let month = this_month
                    .checked_sub_months(Months::new(back))
                    .unwrap_or(this_month);
                MonthFlow {
                    month,
                    joined: spans
                        .iter()
                        .filter(|s| first_of_month(s.start_date) == month)
                        .count() as i64,
                    left: spans
                        .iter()
                        .filter(|s| s.left_on.map(first_of_month) == Some(month))
                        .count() as i64,
                }
            })
            .collect();
        let current = months.last().copied().unwrap_or(MonthFlow {
            month: this_month,
            joined: 0,
            left: 0,
        });
        CompanyFigures {
            today,
            headcount,
            headcount_year_ago: spans.iter().filter(|s| s.present_on(year_ago)).count() as i64,
            joined_this_month: current.joined,
            left_this_month: current.left,
            joined_last_12_months: months.iter().map(|m| m.joined).sum(),
            left_last_12_months: months.iter().map(|m| m.left).sum(),
            average_tenure_days,
            departments,
            months,
            recent_hires: Vec::new(),
            anniversaries: Vec::new(),
            anniversaries_total: 0,
        }
    }
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// When one person was with the company: all the dashboard needs to count them on any day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmploymentSpan {
    pub department_id: DepartmentId,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// The day they left (no longer counted from that day on).
    pub left_on: Option<NaiveDate>,
}

#[derive(FromRow)]
struct EmploymentSpanRow {
    department_id: DepartmentId,
    start_date: String,
    status: String,
    left_on: Option<String>,
}

impl EmploymentSpan {
    /// Every employee's span, present or past.
    pub async fn all(conn: &mut AnyConnection) -> Result<Vec<EmploymentSpan>, sqlx::Error> {
        let rows: Vec<EmploymentSpanRow> =
            sqlx::query_as("SELECT department_id, start_date, status, left_on FROM employees")
                .fetch_all(&mut *conn)
                .await?;
        rows.into_iter()
            .map(|row| {
                Ok(EmploymentSpan {
                    department_id: row.department_id,
                    start_date: decode_date(&row.start_date)?,
                    status: EmployeeStatus::parse(&row.status).ok_or_else(|| {
                        sqlx::Error::Decode(
                            format!("unknown stored status {:?}", row.status).into(),
                        )
                    })?,
                    left_on: row.left_on.as_deref().map(decode_date).transpose()?,
                })
            })
            .collect()
    }

    /// With the company on `day`: started by then and not yet gone. Someone marked as left
    /// without a known day (recorded before leaving days were) counts as gone on every day,
    /// since the day they left cannot be placed.
    pub fn present_on(&self, day: NaiveDate) -> bool {
        let gone = self.status == EmployeeStatus::Terminated
            && self.left_on.is_none_or(|left_on| left_on <= day);
        self.start_date <= day && !gone
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
            left_on: None,
            work_phone: None,
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

    fn span(department: i64, start: NaiveDate, left_on: Option<NaiveDate>) -> EmploymentSpan {
        EmploymentSpan {
            department_id: DepartmentId(department),
            start_date: start,
            status: if left_on.is_some() {
                EmployeeStatus::Terminated
            } else {
                EmployeeStatus::Active
            },
            left_on,
        }
    }

    fn departments() -> Vec<Department> {
        ["Engineering", "Finance", "Sales"]
            .into_iter()
            .enumerate()
            .map(|(i, name)| Department {
                id: DepartmentId(i as i64 + 1),
                name: name.into(),
            })
            .collect()
    }

    #[test]
    fn headcount_counts_people_here_today_and_a_year_ago() {
        let today = date(2026, 5, 20);
        let spans = [
            span(1, date(2020, 1, 1), None),
            span(1, date(2026, 5, 2), None),
            span(2, date(2019, 3, 1), Some(date(2026, 5, 10))),
            span(3, date(2025, 6, 1), Some(date(2025, 12, 31))),
            span(3, date(2026, 6, 1), None),
        ];
        let figures = CompanyFigures::from_spans(today, departments(), &spans);
        assert_eq!(
            figures.headcount, 2,
            "leavers and future starters are not here"
        );
        assert_eq!(figures.headcount_year_ago, 2, "the 2020 and 2019 starters");
        assert_eq!((figures.joined_this_month, figures.left_this_month), (1, 1));
        assert_eq!(figures.joined_last_12_months, 2, "June 2025 and May 2026");
        assert_eq!(figures.left_last_12_months, 2);
        let engineering = &figures.departments[0];
        assert_eq!(
            (engineering.name.as_str(), engineering.headcount),
            ("Engineering", 2)
        );
        let empty: Vec<&str> = figures.departments[1..]
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(
            empty,
            ["Finance", "Sales"],
            "empty departments stay, alphabetically"
        );
    }

    #[test]
    fn the_monthly_flow_covers_twelve_months_ending_with_this_one() {
        let today = date(2026, 1, 15);
        let spans = [
            span(1, date(2025, 2, 3), Some(date(2026, 1, 2))),
            span(1, date(2025, 1, 31), None),
        ];
        let figures = CompanyFigures::from_spans(today, departments(), &spans);
        assert_eq!(figures.months.len(), MONTHS_CHARTED);
        assert_eq!(figures.months[0].month, date(2025, 2, 1));
        assert_eq!(
            figures.months[0].joined, 1,
            "January 2025 is outside the chart"
        );
        assert_eq!(figures.months[11].month, date(2026, 1, 1));
        assert_eq!(figures.months[11].left, 1);
    }

    #[test]
    fn average_tenure_is_over_the_people_here_today() {
        let today = date(2026, 1, 1);
        let spans = [
            span(1, today - Duration::days(100), None),
            span(1, today - Duration::days(300), None),
            span(
                1,
                today - Duration::days(5000),
                Some(today - Duration::days(1)),
            ),
        ];
        let figures = CompanyFigures::from_spans(today, departments(), &spans);
        assert_eq!(figures.average_tenure_days, Some(200));
        let nobody = CompanyFigures::from_spans(today, departments(), &[]);
        assert_eq!(nobody.average_tenure_days, None);
    }

    #[test]
    fn someone_marked_as_left_without_a_day_counts_as_gone_throughout() {
        let old_leaver = EmploymentSpan {
            left_on: None,
            status: EmployeeStatus::Terminated,
            ..span(1, date(2015, 1, 1), None)
        };
        assert!(!old_leaver.present_on(date(2016, 1, 1)));
        let on_leave = EmploymentSpan {
            status: EmployeeStatus::OnLeave,
            ..span(1, date(2015, 1, 1), None)
        };
        assert!(
            on_leave.present_on(date(2016, 1, 1)),
            "on leave is still employed"
        );
    }
}
