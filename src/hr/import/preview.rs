//! Previewed staff lists, kept server-side: the apply form names one by its random id, so what
//! is applied is exactly the file the administrator saw previewed, checked again against its
//! SHA-256 — never a second upload. A preview is its uploader's alone, is applied at most once,
//! and expires after [`PREVIEW_TTL`] seconds (housekeeping deletes it then).

use sqlx::{AnyConnection, FromRow};

use crate::ids::UserId;
use crate::token::{hash_token, is_base64url_of_len, random_token};

/// How long a preview can be applied: an hour.
pub const PREVIEW_TTL: i64 = 60 * 60;

#[derive(Debug, Clone, FromRow)]
pub struct StoredPreview {
    pub id: String,
    pub user_id: UserId,
    pub content: String,
    pub content_hash: String,
    pub created_at: i64,
    pub applied_at: Option<i64>,
}

/// Whether a posted id has the shape of the ones issued; anything else names nothing and never
/// reaches the database.
pub fn is_preview_id(value: &str) -> bool {
    is_base64url_of_len(value, 43)
}

impl StoredPreview {
    /// Keeps `content` for `user_id`; returns its id.
    pub async fn store(
        conn: &mut AnyConnection,
        user_id: UserId,
        content: &str,
        now: i64,
    ) -> Result<String, sqlx::Error> {
        let id = random_token();
        sqlx::query(
            "INSERT INTO import_previews (id, user_id, content, content_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(content)
        .bind(hash_token(content))
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }

    pub async fn find(
        conn: &mut AnyConnection,
        id: &str,
    ) -> Result<Option<StoredPreview>, sqlx::Error> {
        if !is_preview_id(id) {
            return Ok(None);
        }
        sqlx::query_as(
            "SELECT id, user_id, content, content_hash, created_at, applied_at \
             FROM import_previews WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
    }

    /// Whether the content is still what was previewed.
    pub fn is_intact(&self) -> bool {
        hash_token(&self.content) == self.content_hash
    }

    pub fn has_expired(&self, now: i64) -> bool {
        now - self.created_at >= PREVIEW_TTL
    }

    /// Marks the preview applied (and drops its content, no longer needed); false when another
    /// apply got there first.
    pub async fn mark_applied(
        conn: &mut AnyConnection,
        id: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE import_previews SET applied_at = $1, content = '' \
             WHERE id = $2 AND applied_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Deletes previews past their time (applied or not).
    pub async fn purge_expired(conn: &mut AnyConnection, now: i64) -> Result<u64, sqlx::Error> {
        let result = sqlx::query("DELETE FROM import_previews WHERE created_at <= $1")
            .bind(now - PREVIEW_TTL)
            .execute(&mut *conn)
            .await?;
        Ok(result.rows_affected())
    }
}
