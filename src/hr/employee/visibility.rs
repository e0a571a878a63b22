//! The one rule for who may see a record's private details: the person themselves, anyone above
//! them in the reporting line (directly or further up), and roles with
//! `Permission::SeePrivateDetails` (hr, admin). Every page that shows private details asks here
//! first and loads them only on a yes.

use sqlx::AnyConnection;

use crate::ids::{EmployeeId, UserId};
use crate::users::{Permission, Role};

/// How far up the reporting line is walked: far beyond any real organisation, and a bound that
/// keeps the walk finite should a loop ever be planted in the data (the forms refuse one).
const MAX_REPORTING_DEPTH: i64 = 10_000;

/// Whether a role may learn, in lists (the directory, its CSV, the org chart), who is on leave
/// and filter by status: leave is need-to-know, as private details are. Lists use the role alone
/// (one answer for a whole page); a profile asks [`may_see_private`] about its one person, so a
/// manager sees it there for their own reports.
pub fn sees_leave(role: Role) -> bool {
    role.may(Permission::SeePrivateDetails)
}

/// Whether the account `viewer` (with `role`) may see `employee`'s private details.
pub async fn may_see_private(
    conn: &mut AnyConnection,
    viewer: UserId,
    role: Role,
    employee: EmployeeId,
) -> Result<bool, sqlx::Error> {
    if role.may(Permission::SeePrivateDetails) {
        return Ok(true);
    }
    // Walks up from the employee (depth 0 is the person): the viewer's own record anywhere on
    // that chain is a yes. An account without a linked record compares with NULL: never a yes.
    let found: i64 = sqlx::query_scalar(
        "WITH RECURSIVE chain (id, manager_id, depth) AS ( \
             SELECT id, manager_id, 0 FROM employees WHERE id = $1 \
             UNION ALL \
             SELECT e.id, e.manager_id, c.depth + 1 FROM employees e \
             JOIN chain c ON e.id = c.manager_id WHERE c.depth < $3 \
         ) \
         SELECT COUNT(*) FROM chain WHERE id = (SELECT employee_id FROM users WHERE id = $2)",
    )
    .bind(employee)
    .bind(viewer)
    .bind(MAX_REPORTING_DEPTH)
    .fetch_one(&mut *conn)
    .await?;
    Ok(found > 0)
}
