//! The account lists of the access review: accounts that belong to nobody on the staff list,
//! accounts nobody uses, and the administrators.

use sqlx::{AnyConnection, FromRow};

use super::{Role, UserId};

/// An account as the access review lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewedAccount {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// Linked to an employee record.
    pub has_record: bool,
}

#[derive(FromRow)]
struct ReviewedRow {
    id: UserId,
    name: String,
    email: String,
    role: String,
    disabled: i64,
    created_at: i64,
    last_sign_in_at: Option<i64>,
    has_record: i64,
}

/// Every statement below starts with this, so the row shape cannot drift.
macro_rules! reviewed_select {
    () => {
        "SELECT id, name, email, role, disabled, created_at, last_sign_in_at, \
                CASE WHEN employee_id IS NULL THEN 0 ELSE 1 END AS has_record \
         FROM users "
    };
}

fn decode(rows: Vec<ReviewedRow>) -> Result<Vec<ReviewedAccount>, sqlx::Error> {
    rows.into_iter()
        .map(|row| {
            Ok(ReviewedAccount {
                role: Role::from_stored(&row.role)?,
                id: row.id,
                name: row.name,
                email: row.email,
                disabled: row.disabled != 0,
                created_at: row.created_at,
                last_sign_in_at: row.last_sign_in_at,
                has_record: row.has_record != 0,
            })
        })
        .collect()
}

impl ReviewedAccount {
    /// Accounts linked to no employee record (service and admin accounts, or a typo).
    pub async fn without_record(
        conn: &mut AnyConnection,
    ) -> Result<Vec<ReviewedAccount>, sqlx::Error> {
        let rows = sqlx::query_as(concat!(
            reviewed_select!(),
            "WHERE employee_id IS NULL ORDER BY email"
        ))
        .fetch_all(&mut *conn)
        .await?;
        decode(rows)
    }

    /// Enabled accounts not signed in since `before` (never signed in: counted from creation).
    pub async fn unused_since(
        conn: &mut AnyConnection,
        before: i64,
    ) -> Result<Vec<ReviewedAccount>, sqlx::Error> {
        let rows = sqlx::query_as(concat!(
            reviewed_select!(),
            "WHERE disabled = 0 AND COALESCE(last_sign_in_at, created_at) < $1 \
             ORDER BY COALESCE(last_sign_in_at, created_at), email"
        ))
        .bind(before)
        .fetch_all(&mut *conn)
        .await?;
        decode(rows)
    }

    /// Every administrator account, enabled or not.
    pub async fn administrators(
        conn: &mut AnyConnection,
    ) -> Result<Vec<ReviewedAccount>, sqlx::Error> {
        let rows = sqlx::query_as(concat!(
            reviewed_select!(),
            "WHERE role = 'admin' ORDER BY email"
        ))
        .fetch_all(&mut *conn)
        .await?;
        decode(rows)
    }
}
