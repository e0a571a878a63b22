//! A person's second factor as stored: the sealed TOTP secret, whether it is switched on, the last
//! step accepted, and the hashed recovery codes. The statements take the caller's connection so
//! they commit with the use case's audit row.

use sqlx::{AnyConnection, FromRow};

use super::totp::{recovery_code_hash, TotpSecret};
use crate::ids::UserId;
use crate::sealed::Sealer;

/// The sealed secret is bound to its account: moved to another row it does not open.
fn context(user_id: UserId) -> String {
    format!("totp secret of user {user_id}")
}

/// A person's TOTP enrolment, started (`enabled_at` is `None`) or switched on.
#[derive(Debug, Clone, FromRow)]
pub struct TwoFactorRow {
    pub user_id: UserId,
    secret_sealed: String,
    pub created_at: i64,
    pub enabled_at: Option<i64>,
    pub last_used_step: i64,
}

impl TwoFactorRow {
    pub fn is_enabled(&self) -> bool {
        self.enabled_at.is_some()
    }

    /// The secret, or `None` if it does not open (the secret key changed since it was sealed).
    pub fn secret(&self, sealer: &Sealer) -> Option<TotpSecret> {
        let opened = sealer
            .open(&self.secret_sealed, &context(self.user_id))
            .ok()?;
        TotpSecret::from_stored(&opened)
    }

    pub async fn find(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<Option<TwoFactorRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT user_id, secret_sealed, created_at, enabled_at, last_used_step \
             FROM two_factor WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
    }

    /// Starts (or restarts) an enrolment with `secret`; a switched-on factor is never replaced.
    /// Returns whether the secret was stored.
    pub async fn start(
        conn: &mut AnyConnection,
        sealer: &Sealer,
        user_id: UserId,
        secret: &TotpSecret,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let sealed = sealer.seal(&secret.to_stored(), &context(user_id));
        let stored = sqlx::query(
            "INSERT INTO two_factor (user_id, secret_sealed, created_at, enabled_at, last_used_step) \
             VALUES ($1, $2, $3, NULL, 0) \
             ON CONFLICT (user_id) DO UPDATE SET secret_sealed = $2, created_at = $3, last_used_step = 0 \
             WHERE two_factor.enabled_at IS NULL",
        )
        .bind(user_id)
        .bind(sealed)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    /// Switches the factor on at `step` (the confirming code's, so it cannot be used again);
    /// whether this call did it.
    pub async fn enable(
        conn: &mut AnyConnection,
        user_id: UserId,
        step: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE two_factor SET enabled_at = $1, last_used_step = $2 \
             WHERE user_id = $3 AND enabled_at IS NULL",
        )
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records `step` as used if no later or equal step was: false means the code was replayed
    /// (or a parallel request used it first).
    pub async fn use_step(
        conn: &mut AnyConnection,
        user_id: UserId,
        step: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE two_factor SET last_used_step = $1 WHERE user_id = $2 AND last_used_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes the factor and its recovery codes; whether there was a switched-on one.
    pub async fn remove(conn: &mut AnyConnection, user_id: UserId) -> Result<bool, sqlx::Error> {
        RecoveryCodes::delete_for_user(conn, user_id).await?;
        let removed: Option<Option<i64>> =
            sqlx::query_scalar("DELETE FROM two_factor WHERE user_id = $1 RETURNING enabled_at")
                .bind(user_id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(matches!(removed, Some(Some(_))))
    }

    /// Which of `user_ids` have the factor switched on (for the users list: one query a page).
    pub async fn enabled_among(
        conn: &mut AnyConnection,
        user_ids: &[UserId],
    ) -> Result<Vec<UserId>, sqlx::Error> {
        let select = "SELECT user_id FROM two_factor WHERE enabled_at IS NOT NULL AND user_id IN";
        crate::db::user_ids_among(conn, select, user_ids).await
    }
}

/// The hashed recovery codes of one account.
pub struct RecoveryCodes;

impl RecoveryCodes {
    /// Replaces the account's codes with `codes` (stored hashed).
    pub async fn replace(
        conn: &mut AnyConnection,
        user_id: UserId,
        codes: &[String],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        Self::delete_for_user(conn, user_id).await?;
        for code in codes {
            let hash = recovery_code_hash(code).expect("generated codes have the recovery shape");
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Uses up the code whose compact form is `compact`, if it is one of the account's unused
    /// ones; whether it was.
    pub async fn consume(
        conn: &mut AnyConnection,
        user_id: UserId,
        compact: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(crate::token::hash_token(compact))
        .execute(&mut *conn)
        .await?;
        Ok(used.rows_affected() == 1)
    }

    pub async fn unused(conn: &mut AnyConnection, user_id: UserId) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
    }

    async fn delete_for_user(conn: &mut AnyConnection, user_id: UserId) -> Result<(), sqlx::Error> {
        crate::db::delete_rows_of_user(conn, "recovery_codes", user_id).await?;
        Ok(())
    }
}
