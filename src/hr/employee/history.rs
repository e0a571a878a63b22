//! A person's job history: the title, department, manager and location they had, each period
//! with the day it took effect (`job_history`, newest first). A change to any of the four adds a
//! period; the old one stays with its dates. The current values also stay on the record itself,
//! which every other page reads.

use chrono::NaiveDate;
use sqlx::{AnyConnection, FromRow};

use crate::hr::{decode_date, format_date};
use crate::ids::{DepartmentId, EmployeeId};

/// One period of someone's job: what held from `effective_from` until the next period began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPeriod {
    pub effective_from: NaiveDate,
    pub title: String,
    pub department_id: DepartmentId,
    pub department_name: String,
    pub manager_id: Option<EmployeeId>,
    pub manager_name: Option<String>,
    pub location: String,
}

#[derive(FromRow)]
struct JobPeriodRow {
    effective_from: String,
    title: String,
    department_id: DepartmentId,
    department_name: String,
    manager_id: Option<EmployeeId>,
    manager_name: Option<String>,
    location: String,
}

impl JobPeriod {
    /// Everyone's periods, newest first (the same day twice: the later change first).
    pub async fn for_employee(
        conn: &mut AnyConnection,
        employee: EmployeeId,
    ) -> Result<Vec<JobPeriod>, sqlx::Error> {
        let rows: Vec<JobPeriodRow> = sqlx::query_as(
            "SELECT h.effective_from, h.title, h.department_id, d.name AS department_name, \
                    h.manager_id, m.name AS manager_name, h.location \
             FROM job_history h JOIN departments d ON d.id = h.department_id \
             LEFT JOIN employees m ON m.id = h.manager_id \
             WHERE h.employee_id = $1 ORDER BY h.effective_from DESC, h.id DESC",
        )
        .bind(employee)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(JobPeriod {
                    effective_from: decode_date(&row.effective_from)?,
                    title: row.title,
                    department_id: row.department_id,
                    department_name: row.department_name,
                    manager_id: row.manager_id,
                    manager_name: row.manager_name,
                    location: row.location,
                })
            })
            .collect()
    }

    /// The day the person's current period began, if they have any.
    pub async fn current_since(
        conn: &mut AnyConnection,
        employee: EmployeeId,
    ) -> Result<Option<NaiveDate>, sqlx::Error> {
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT MAX(effective_from) FROM job_history WHERE employee_id = $1",
        )
        .bind(employee)
        .fetch_one(&mut *conn)
        .await?;
        latest.as_deref().map(decode_date).transpose()
    }

    /// After a write to the record inside the caller's transaction: starts a new period from
    /// `effective_from` with the record's current title, department, manager and location —
    /// unless they are what the latest period already says (an edit of the name or the phone
    /// is no job change). Whether a period was added.
    pub async fn note(
        conn: &mut AnyConnection,
        employee: EmployeeId,
        effective_from: NaiveDate,
    ) -> Result<bool, sqlx::Error> {
        // One statement: the comparison and the insert see the same rows. COALESCE compares
        // "no manager" with "no manager" as equal on both engines.
        let inserted = sqlx::query(
            "INSERT INTO job_history \
                 (employee_id, effective_from, title, department_id, manager_id, location) \
             SELECT e.id, $2, e.title, e.department_id, e.manager_id, e.location \
             FROM employees e WHERE e.id = $1 AND NOT EXISTS ( \
                 SELECT 1 FROM job_history h WHERE h.id = ( \
                     SELECT l.id FROM job_history l WHERE l.employee_id = $1 \
                     ORDER BY l.effective_from DESC, l.id DESC LIMIT 1) \
                 AND h.title = e.title AND h.department_id = e.department_id \
                 AND COALESCE(h.manager_id, 0) = COALESCE(e.manager_id, 0) \
                 AND h.location = e.location)",
        )
        .bind(employee)
        .bind(format_date(effective_from))
        .execute(&mut *conn)
        .await?;
        Ok(inserted.rows_affected() > 0)
    }
}

/// How far ahead a change may be dated: a year, enough for any announced reorganisation.
pub const MAX_DAYS_AHEAD: i64 = 366;

/// The day a job change takes effect, checked: on or after the person's start date and the
/// start of their current period (a history reads in order), at most a year ahead. An empty
/// field means today (or the first day it may be, for someone who has not started yet or whose
/// current job is dated ahead).
pub fn parse_effective_from(
    raw: &str,
    start_date: NaiveDate,
    current_since: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    let date = if raw.is_empty() {
        today
            .max(start_date)
            .max(current_since.unwrap_or(start_date))
    } else {
        crate::hr::parse_date(raw)
            .ok_or("Please enter the date the change takes effect (YYYY-MM-DD).")?
    };
    if date < start_date {
        return Err("A change cannot take effect before the start date.".into());
    }
    if let Some(since) = current_since.filter(|since| date < *since) {
        return Err(format!(
            "The current job took effect on {}; a change cannot take effect before it.",
            crate::hr::display_date(since)
        ));
    }
    if date > today + chrono::Duration::days(MAX_DAYS_AHEAD) {
        return Err("A change can be dated at most a year ahead.".into());
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_change_is_dated_between_the_current_period_and_a_year_ahead() {
        let (start, since, today) = (day(2020, 3, 1), Some(day(2023, 6, 1)), day(2026, 1, 10));
        assert_eq!(parse_effective_from("", start, since, today), Ok(today));
        assert_eq!(
            parse_effective_from("2024-01-01", start, since, today),
            Ok(day(2024, 1, 1))
        );
        for bad in [
            "2019-12-31",
            "2023-05-31",
            "2027-01-12",
            "01/01/2024",
            "2024-02-30",
        ] {
            assert!(
                parse_effective_from(bad, start, since, today).is_err(),
                "{bad}"
            );
        }
        // Someone who starts next month: an undated change takes effect on their first day.
        let joiner = day(2026, 2, 1);
        assert_eq!(parse_effective_from(" ", joiner, None, today), Ok(joiner));
    }
}
