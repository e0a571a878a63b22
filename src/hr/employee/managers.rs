//! Managers: who the picker offers, how its text finds a person, and the rules a manager must
//! meet (someone here, still with the company, not inside the person's own reporting line).

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::validation::{EmployeeWriteError, InvalidEmployee, ManagerPick};
use super::{Employee, ManagerChoice};
use crate::ids::EmployeeId;

/// Why the picker's text names nobody who may manage.
pub const UNKNOWN_MANAGER: &str =
    "Nobody here has that work e-mail address. Please choose a manager from the list.";

impl Employee {
    /// Everyone who can be chosen as a manager (people who left cannot), by name.
    pub async fn manager_choices(
        conn: &mut AnyConnection,
    ) -> Result<Vec<ManagerChoice>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, name, title, email FROM employees WHERE status <> 'terminated' \
             ORDER BY name_key, id",
        )
        .fetch_all(&mut *conn)
        .await
    }

    /// The record the picker's text names (by work e-mail, which is unique), or why none:
    /// nobody (no manager) is `Ok(None)`. Whether that person may manage this one is
    /// [`check_manager`]'s question, asked when writing.
    pub async fn find_manager(
        conn: &mut AnyConnection,
        pick: &ManagerPick,
    ) -> Result<Result<Option<EmployeeId>, InvalidEmployee>, sqlx::Error> {
        let id: Option<EmployeeId> = match pick {
            ManagerPick::Nobody => return Ok(Ok(None)),
            ManagerPick::Email(email) => {
                sqlx::query_scalar("SELECT id FROM employees WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut *conn)
                    .await?
            }
            ManagerPick::Id(id) => {
                sqlx::query_scalar("SELECT id FROM employees WHERE id = $1")
                    .bind(*id)
                    .fetch_optional(&mut *conn)
                    .await?
            }
        };
        Ok(id
            .map(Some)
            .ok_or_else(|| InvalidEmployee::one("manager", UNKNOWN_MANAGER)))
    }

    /// The work address of everyone who manages someone.
    pub async fn manager_emails(
        conn: &mut AnyConnection,
    ) -> Result<HashMap<EmployeeId, String>, sqlx::Error> {
        let rows: Vec<(EmployeeId, String)> = sqlx::query_as(
            "SELECT id, email FROM employees WHERE id IN \
             (SELECT manager_id FROM employees WHERE manager_id IS NOT NULL)",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

/// The manager must exist, still work here, and — when editing — must not be the employee or
/// anyone below them, which would make the reporting line a loop.
pub(super) async fn check_manager(
    conn: &mut AnyConnection,
    employee_id: Option<EmployeeId>,
    manager_id: EmployeeId,
) -> Result<(), EmployeeWriteError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM employees WHERE id = $1")
        .bind(manager_id)
        .fetch_optional(&mut *conn)
        .await?;
    match status.as_deref() {
        None => {
            return Err(
                InvalidEmployee::one("manager", "Please choose a manager from the list.").into(),
            )
        }
        Some("terminated") => {
            return Err(InvalidEmployee::one(
                "manager",
                "That person has left the company and cannot be a manager.",
            )
            .into())
        }
        Some(_) => {}
    }
    let Some(employee_id) = employee_id else {
        return Ok(());
    };
    // Walks up from the proposed manager; finding the employee there means a loop. The depth
    // bound keeps the walk finite even if a loop already exists.
    let loops: i64 = sqlx::query_scalar(
        "WITH RECURSIVE chain (id, manager_id, depth) AS ( \
             SELECT id, manager_id, 0 FROM employees WHERE id = $1 \
             UNION ALL \
             SELECT e.id, e.manager_id, c.depth + 1 FROM employees e \
             JOIN chain c ON e.id = c.manager_id WHERE c.depth < 10000 \
         ) \
         SELECT COUNT(*) FROM chain WHERE id = $2",
    )
    .bind(manager_id)
    .bind(employee_id)
    .fetch_one(&mut *conn)
    .await?;
    if loops > 0 {
        let message = if manager_id == employee_id {
            "Someone cannot be their own manager."
        } else {
            "That person reports to this employee; choose someone outside their team."
        };
        return Err(InvalidEmployee::one("manager", message).into());
    }
    Ok(())
}
