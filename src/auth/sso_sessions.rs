//! The statements single sign-on adds to sessions: what a session keeps for RP-initiated
//! logout, ending the sessions a logout token names, and remembering the token's `jti`.

use sqlx::{AnyConnection, FromRow};

use crate::ids::{SessionId, UserId};

/// A session a logout token ended.
#[derive(Debug, Clone, FromRow)]
pub struct EndedSession {
    pub id: SessionId,
    pub handle: String,
    pub user_id: UserId,
}

/// The sealed ID token of a single sign-on session (for `id_token_hint`); `None` for a session
/// that did not come through single sign-on.
pub async fn sealed_id_token(
    conn: &mut AnyConnection,
    session: SessionId,
) -> Result<Option<String>, sqlx::Error> {
    let token: Option<Option<String>> = sqlx::query_scalar(
        "SELECT sso_id_token FROM sessions WHERE id = $1 AND single_sign_on = 1",
    )
    .bind(session)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(token.flatten())
}

/// Ends the single sign-on sessions a logout token names: those with its `sid` (of its
/// subject's account when it names one too), or — naming only a subject — every single sign-on
/// session of that account.
pub async fn end_named(
    conn: &mut AnyConnection,
    sid: Option<&str>,
    subject_account: Option<UserId>,
) -> Result<Vec<EndedSession>, sqlx::Error> {
    match (sid, subject_account) {
        (Some(sid), account) => {
            sqlx::query_as(
                "DELETE FROM sessions WHERE single_sign_on = 1 AND sso_sid = $1 \
                 AND ($2 IS NULL OR user_id = $2) RETURNING id, handle, user_id",
            )
            .bind(sid)
            .bind(account)
            .fetch_all(&mut *conn)
            .await
        }
        (None, Some(account)) => {
            sqlx::query_as(
                "DELETE FROM sessions WHERE single_sign_on = 1 AND user_id = $1 \
                 RETURNING id, handle, user_id",
            )
            .bind(account)
            .fetch_all(&mut *conn)
            .await
        }
        (None, None) => Ok(Vec::new()),
    }
}

/// Records a logout token's `jti`; `false` when it was used before (a replay).
pub async fn first_use_of_logout_token(
    conn: &mut AnyConnection,
    jti: &str,
    remember_until: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO sso_logout_tokens (jti, expires_at) VALUES ($1, $2) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(remember_until)
    .execute(&mut *conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Forgets `jti`s whose tokens would be refused as stale anyway (the purge's).
pub async fn forget_old_logout_tokens(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sso_logout_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
