//! The account that belongs to an employee record (the one with the same work e-mail) and the
//! leavers whose access is due to end: the queries of the lifecycle, next to the record.

use chrono::NaiveDate;
use sqlx::{AnyConnection, FromRow};

use super::Employee;
use crate::hr::{decode_date, format_date};
use crate::ids::{EmployeeId, UserId};

/// The account linked to a record, as the profile shows it to administrators.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LinkedAccount {
    pub user_id: UserId,
    pub email: String,
    /// An invited account has no password until its link is used.
    pub has_password: bool,
    pub disabled: bool,
    pub last_sign_in_at: Option<i64>,
}

#[derive(FromRow)]
struct LinkedAccountRow {
    user_id: UserId,
    email: String,
    has_password: i64,
    disabled: i64,
    last_sign_in_at: Option<i64>,
}

/// A leaver whose last day is over while their account is still enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLeaver {
    pub employee_id: EmployeeId,
    pub user_id: UserId,
    pub name: String,
    /// `None` for people marked as left before leaving days were recorded: gone already.
    pub left_on: Option<NaiveDate>,
}

#[derive(FromRow)]
struct DueLeaverRow {
    employee_id: EmployeeId,
    user_id: UserId,
    name: String,
    left_on: Option<String>,
}

impl Employee {
    /// Records that the person leaves: status "left the company" and their last day (the
    /// Offboard action; the caller settles their access in the same transaction).
    pub async fn set_last_day(
        conn: &mut AnyConnection,
        id: EmployeeId,
        last_day: NaiveDate,
    ) -> Result<bool, sqlx::Error> {
        let result =
            sqlx::query("UPDATE employees SET status = 'terminated', left_on = $1 WHERE id = $2")
                .bind(format_date(last_day))
                .bind(id)
                .execute(&mut *conn)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Links the record to the account with its work e-mail, when neither is linked yet (called
    /// whenever a record's e-mail is set). A record keeps the account it already has: a link
    /// never moves by itself, so changing an address cannot detach a leaver from their account.
    pub async fn link_account(
        conn: &mut AnyConnection,
        id: EmployeeId,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE users SET employee_id = $1 \
             WHERE employee_id IS NULL \
               AND email = (SELECT email FROM employees WHERE id = $1) \
               AND NOT EXISTS (SELECT 1 FROM users linked WHERE linked.employee_id = $1)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// The account that belongs to this record, if any.
    pub async fn linked_account(
        conn: &mut AnyConnection,
        id: EmployeeId,
    ) -> Result<Option<LinkedAccount>, sqlx::Error> {
        let row: Option<LinkedAccountRow> = sqlx::query_as(
            "SELECT id AS user_id, email, \
                    CASE WHEN password_hash = '' THEN 0 ELSE 1 END AS has_password, \
                    disabled, last_sign_in_at \
             FROM users WHERE employee_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(|row| LinkedAccount {
            user_id: row.user_id,
            email: row.email,
            has_password: row.has_password != 0,
            disabled: row.disabled != 0,
            last_sign_in_at: row.last_sign_in_at,
        }))
    }

    /// Leavers whose last day is before `today` (the company's date) and whose account is still
    /// enabled — everyone, or only the record `only`.
    pub async fn leavers_due(
        conn: &mut AnyConnection,
        today: NaiveDate,
        only: Option<EmployeeId>,
    ) -> Result<Vec<DueLeaver>, sqlx::Error> {
        // One statement per case: with `($2 = 0 OR e.id = $2)` neither engine can use the
        // primary key, and a check of one person (after every write, 10 000 times in an import)
        // scanned every employee.
        macro_rules! leavers_due {
            ($which:literal) => {
                concat!(
                    "SELECT e.id AS employee_id, u.id AS user_id, e.name, e.left_on \
                     FROM employees e JOIN users u ON u.employee_id = e.id \
                     WHERE e.status = 'terminated' AND (e.left_on IS NULL OR e.left_on < $1) \
                       AND u.disabled = 0 AND ",
                    $which,
                    " ORDER BY e.left_on, e.id"
                )
            };
        }
        let sql = match only {
            Some(_) => leavers_due!("e.id = $2"),
            None => leavers_due!("$2 = 0"),
        };
        let rows: Vec<DueLeaverRow> = sqlx::query_as(sql)
            .bind(format_date(today))
            .bind(only.map_or(0, |id| id.0))
            .fetch_all(&mut *conn)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(DueLeaver {
                    left_on: row.left_on.as_deref().map(decode_date).transpose()?,
                    employee_id: row.employee_id,
                    user_id: row.user_id,
                    name: row.name,
                })
            })
            .collect()
    }

    /// The record with the work e-mail `email` that has no account yet, with its name (a
    /// single sign-on may create the account).
    pub async fn unlinked_by_email(
        conn: &mut AnyConnection,
        email: &str,
    ) -> Result<Option<(EmployeeId, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT e.id, e.name FROM employees e WHERE e.email = $1 \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.employee_id = e.id)",
        )
        .bind(email)
        .fetch_optional(&mut *conn)
        .await
    }

    /// Whether the person with the work e-mail `email` has left and their last day is before
    /// `today`: their last day, or `Some(None)` for a leaver whose day is unknown.
    pub async fn gone_before(
        conn: &mut AnyConnection,
        email: &str,
        today: NaiveDate,
    ) -> Result<Option<Option<NaiveDate>>, sqlx::Error> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT left_on FROM employees \
             WHERE email = $1 AND status = 'terminated' AND (left_on IS NULL OR left_on < $2)",
        )
        .bind(email)
        .bind(format_date(today))
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|(left_on,)| left_on.as_deref().map(decode_date).transpose())
            .transpose()
    }
}

/// A leaver in a period, for the access review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodLeaver {
    pub employee_id: EmployeeId,
    pub name: String,
    pub email: String,
    pub left_on: NaiveDate,
    /// Their account, if they had one.
    pub user_id: Option<UserId>,
    pub account_disabled: bool,
}

#[derive(FromRow)]
struct PeriodLeaverRow {
    employee_id: EmployeeId,
    name: String,
    email: String,
    left_on: String,
    user_id: Option<UserId>,
    disabled: Option<i64>,
}

impl Employee {
    /// Everyone whose last day lies in `from..=to`, by last day.
    pub async fn leavers_between(
        conn: &mut AnyConnection,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PeriodLeaver>, sqlx::Error> {
        let rows: Vec<PeriodLeaverRow> = sqlx::query_as(
            "SELECT e.id AS employee_id, e.name, e.email, e.left_on, u.id AS user_id, u.disabled \
             FROM employees e LEFT JOIN users u ON u.employee_id = e.id \
             WHERE e.status = 'terminated' AND e.left_on >= $1 AND e.left_on <= $2 \
             ORDER BY e.left_on, e.name_key, e.id",
        )
        .bind(format_date(from))
        .bind(format_date(to))
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(PeriodLeaver {
                    left_on: decode_date(&row.left_on)?,
                    employee_id: row.employee_id,
                    name: row.name,
                    email: row.email,
                    user_id: row.user_id,
                    account_disabled: row.disabled.unwrap_or(0) != 0,
                })
            })
            .collect()
    }
}
