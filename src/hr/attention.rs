//! What HR should look at today, as the HR home shows it: records that lack what the rest of the
//! portal relies on, people starting soon without a way to sign in, and this month's leavers.

use chrono::{Datelike, Days, NaiveDate};
use sqlx::AnyConnection;

use super::employee::access::PeriodLeaver;
use super::{format_date, Employee};
use crate::ids::EmployeeId;

/// At most this many people are named per list; the count says how many there are.
const NAMED: i64 = 8;

/// Joiners whose start date lies this many days either side of today are "starting now".
const JOINER_WINDOW_DAYS: u64 = 30;

#[derive(Debug, Clone, Default)]
pub struct HrAttention {
    /// Current staff without a job title or a location, or with neither a manager nor reports
    /// (outside the reporting tree): the first few, and how many.
    pub incomplete: Vec<Employee>,
    pub incomplete_total: i64,
    /// People who start (or started) within a month of today and have no account yet.
    pub joiners_without_access: Vec<Employee>,
    pub joiners_without_access_total: i64,
    /// Leavers whose last day falls in this calendar month, with their account's state.
    pub leavers_this_month: Vec<PeriodLeaver>,
}

const INCOMPLETE: &str = "FROM employees e \
     WHERE e.status <> 'terminated' AND (e.title = '' OR e.location = '' \
       OR (e.manager_id IS NULL \
           AND NOT EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.id)))";

const JOINERS_WITHOUT_ACCESS: &str = "FROM employees e \
     WHERE e.status <> 'terminated' AND e.start_date >= $1 AND e.start_date <= $2 \
       AND NOT EXISTS (SELECT 1 FROM users u WHERE u.employee_id = e.id)";

impl HrAttention {
    pub async fn load(conn: &mut AnyConnection, today: NaiveDate) -> Result<Self, sqlx::Error> {
        let window = Days::new(JOINER_WINDOW_DAYS);
        let from = format_date(today.checked_sub_days(window).unwrap_or(today));
        let to = format_date(today.checked_add_days(window).unwrap_or(today));
        let (month_start, month_end) = month_of(today);
        let incomplete_total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {INCOMPLETE}"))
            .fetch_one(&mut *conn)
            .await?;
        let incomplete_ids: Vec<EmployeeId> = sqlx::query_scalar(&format!(
            "SELECT e.id {INCOMPLETE} ORDER BY e.name_key, e.id LIMIT {NAMED}"
        ))
        .fetch_all(&mut *conn)
        .await?;
        let joiners_total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) {JOINERS_WITHOUT_ACCESS}"))
                .bind(&from)
                .bind(&to)
                .fetch_one(&mut *conn)
                .await?;
        let joiner_ids: Vec<EmployeeId> = sqlx::query_scalar(&format!(
            "SELECT e.id {JOINERS_WITHOUT_ACCESS} ORDER BY e.start_date, e.name_key, e.id \
             LIMIT {NAMED}"
        ))
        .bind(&from)
        .bind(&to)
        .fetch_all(&mut *conn)
        .await?;
        Ok(HrAttention {
            incomplete: load_all(conn, incomplete_ids).await?,
            incomplete_total,
            joiners_without_access: load_all(conn, joiner_ids).await?,
            joiners_without_access_total: joiners_total,
            leavers_this_month: Employee::leavers_between(conn, month_start, month_end).await?,
        })
    }

    /// Whether there is nothing to look at.
    pub fn is_clear(&self) -> bool {
        self.incomplete_total == 0
            && self.joiners_without_access_total == 0
            && self.leavers_this_month.is_empty()
    }
}

/// A few named records, in the order given.
async fn load_all(
    conn: &mut AnyConnection,
    ids: Vec<EmployeeId>,
) -> Result<Vec<Employee>, sqlx::Error> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(employee) = Employee::find(conn, id).await? {
            found.push(employee);
        }
    }
    Ok(found)
}

/// The first and last day of `day`'s month.
fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (first, next.pred_opt().unwrap_or(day))
}

#[cfg(test)]
mod tests {
    use super::month_of;
    use chrono::NaiveDate;

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            month_of(day(2024, 2, 14)),
            (day(2024, 2, 1), day(2024, 2, 29))
        );
        assert_eq!(
            month_of(day(2026, 12, 31)),
            (day(2026, 12, 1), day(2026, 12, 31))
        );
    }
}
