//! Locations: the managed list the employee form offers. An employee keeps the location's name
//! (the directory, its CSV and the staff-list import read it as text); the list says which names
//! exist, so "London", "london " and "LONDON" stay one place.

use sqlx::{AnyConnection, FromRow};

use crate::text::fold;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Location {
    pub id: i64,
    pub name: String,
}

impl Location {
    /// Every location, alphabetically (the employee form and the HR list show them).
    pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Location>, sqlx::Error> {
        sqlx::query_as("SELECT id, name FROM locations ORDER BY name_key, id")
            .fetch_all(&mut *conn)
            .await
    }

    /// The listed location with this name, compared case-insensitively, if any: its spelling
    /// on the list wins over how it was typed.
    pub async fn find(
        conn: &mut AnyConnection,
        name: &str,
    ) -> Result<Option<Location>, sqlx::Error> {
        let key = fold(name.trim());
        // The list is short (offices, not people), and comparing folded names here rather than
        // by `name_key` alone also finds rows the migration keyed with SQLite's ASCII-only lower().
        Ok(Self::all(conn)
            .await?
            .into_iter()
            .find(|location| fold(location.name.trim()) == key))
    }

    /// The location with this (already checked) name, created if it is new; the flag says
    /// whether this call created it. `ON CONFLICT DO NOTHING` makes two people adding the same
    /// new place at once agree on one row.
    pub async fn find_or_create(
        conn: &mut AnyConnection,
        name: &str,
    ) -> Result<(Location, bool), sqlx::Error> {
        if let Some(found) = Self::find(conn, name).await? {
            return Ok((found, false));
        }
        let key = fold(name.trim());
        let inserted = sqlx::query(
            "INSERT INTO locations (name, name_key) VALUES ($1, $2) ON CONFLICT (name_key) DO NOTHING",
        )
        .bind(name.trim())
        .bind(&key)
        .execute(&mut *conn)
        .await?;
        let location = sqlx::query_as("SELECT id, name FROM locations WHERE name_key = $1")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await?;
        Ok((location, inserted.rows_affected() > 0))
    }
}
