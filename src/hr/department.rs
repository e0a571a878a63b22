//! Departments and the queries that load, create and count them.

use sqlx::{AnyConnection, FromRow};

pub use crate::ids::DepartmentId;
use crate::text::fold;

/// Longest department name accepted.
pub const MAX_DEPARTMENT_NAME_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
}

/// How many people (not counting those who left) a department has.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DepartmentHeadcount {
    pub id: DepartmentId,
    pub name: String,
    pub headcount: i64,
}

/// Checks a department name: 1..=80 characters after trimming, no control characters.
pub fn parse_department_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Please enter a department name.");
    }
    if name.chars().count() > MAX_DEPARTMENT_NAME_CHARS {
        return Err("The department name must be at most 80 characters long.");
    }
    if name.chars().any(char::is_control) {
        return Err("The department name contains characters that are not allowed.");
    }
    Ok(name.to_string())
}

impl Department {
    /// Every department, alphabetically (the directory filter and the employee form list them).
    pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Department>, sqlx::Error> {
        sqlx::query_as("SELECT id, name FROM departments ORDER BY name_key, id")
            .fetch_all(&mut *conn)
            .await
    }

    pub async fn exists(conn: &mut AnyConnection, id: DepartmentId) -> Result<bool, sqlx::Error> {
        let found: Option<DepartmentId> =
            sqlx::query_scalar("SELECT id FROM departments WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(found.is_some())
    }

    /// The department with this name (compared case-insensitively), created if it is new; the
    /// flag says whether this call created it. `ON CONFLICT DO NOTHING` makes two admins adding
    /// the same new department at once agree on one row instead of one of them failing.
    pub async fn find_or_create(
        conn: &mut AnyConnection,
        name: &str,
    ) -> Result<(Department, bool), sqlx::Error> {
        let key = fold(name);
        let inserted = sqlx::query(
            "INSERT INTO departments (name, name_key) VALUES ($1, $2) ON CONFLICT (name_key) DO NOTHING",
        )
        .bind(name)
        .bind(&key)
        .execute(&mut *conn)
        .await?;
        let department = sqlx::query_as("SELECT id, name FROM departments WHERE name_key = $1")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await?;
        Ok((department, inserted.rows_affected() > 0))
    }

    /// Creates the first department, but only while the database holds no departments, employees
    /// or accounts — checked in the same statement (which also takes SQLite's write lock), so a
    /// demo fill can never mix into real data, even when two run at once.
    pub async fn create_first(
        conn: &mut AnyConnection,
        name: &str,
    ) -> Result<Option<DepartmentId>, sqlx::Error> {
        crate::db::lock_for_transaction(conn, crate::db::WriteLock::FirstRun).await?;
        sqlx::query_scalar(
            "INSERT INTO departments (name, name_key) SELECT $1, $2 \
             WHERE NOT EXISTS (SELECT 1 FROM departments) \
               AND NOT EXISTS (SELECT 1 FROM employees) \
               AND NOT EXISTS (SELECT 1 FROM users) \
             RETURNING id",
        )
        .bind(name)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await
    }

    pub async fn create(conn: &mut AnyConnection, name: &str) -> Result<DepartmentId, sqlx::Error> {
        sqlx::query_scalar("INSERT INTO departments (name, name_key) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(fold(name))
            .fetch_one(&mut *conn)
            .await
    }

    /// Current headcount per department, largest first; people who left are not counted,
    /// departments without anyone still appear (with 0).
    pub async fn headcounts(
        conn: &mut AnyConnection,
    ) -> Result<Vec<DepartmentHeadcount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT d.id, d.name, COUNT(e.id) AS headcount \
             FROM departments d \
             LEFT JOIN employees e ON e.department_id = d.id AND e.status <> 'terminated' \
             GROUP BY d.id, d.name, d.name_key \
             ORDER BY COUNT(e.id) DESC, d.name_key, d.id",
        )
        .fetch_all(&mut *conn)
        .await
    }
}
