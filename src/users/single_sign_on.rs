//! An account's link to the identity provider: the provider's subject (`sub`) stored at the
//! first single sign-on, which every later one must match.

use sqlx::AnyConnection;

use super::User;
use crate::ids::UserId;

/// How an account stands towards a subject the provider vouched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectMatch {
    /// No subject stored yet: this sign-in stores it.
    Unbound,
    /// The stored subject is this one.
    Same,
    /// Another subject is stored: the address moved at the provider, or someone else has it.
    Other,
}

impl User {
    /// The stored provider subject of an account.
    pub async fn sso_subject(
        conn: &mut AnyConnection,
        id: UserId,
    ) -> Result<Option<String>, sqlx::Error> {
        let subject: Option<Option<String>> =
            sqlx::query_scalar("SELECT subject FROM sso_identities WHERE user_id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(subject.flatten())
    }

    /// How `subject` matches the account's stored one.
    pub async fn match_sso_subject(
        conn: &mut AnyConnection,
        id: UserId,
        subject: &str,
    ) -> Result<SubjectMatch, sqlx::Error> {
        Ok(match Self::sso_subject(conn, id).await?.as_deref() {
            None => SubjectMatch::Unbound,
            Some(stored) if stored == subject => SubjectMatch::Same,
            Some(_) => SubjectMatch::Other,
        })
    }

    /// Stores `subject` for an account that has none; `false` when another sign-in stored one
    /// first, or another account holds this subject (the primary key and the unique index).
    pub async fn bind_sso_subject(
        conn: &mut AnyConnection,
        id: UserId,
        subject: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let bound = sqlx::query(
            "INSERT INTO sso_identities (user_id, subject, linked_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(subject)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(bound.rows_affected() == 1)
    }

    /// The account that signed in with `subject` before.
    pub async fn id_by_sso_subject(
        conn: &mut AnyConnection,
        subject: &str,
    ) -> Result<Option<UserId>, sqlx::Error> {
        sqlx::query_scalar("SELECT user_id FROM sso_identities WHERE subject = $1")
            .bind(subject)
            .fetch_optional(&mut *conn)
            .await
    }

    /// Which of `user_ids` have signed in through single sign-on (a subject is stored), for the
    /// users list: one query a page.
    pub async fn sso_linked_among(
        conn: &mut AnyConnection,
        user_ids: &[UserId],
    ) -> Result<Vec<UserId>, sqlx::Error> {
        let select = "SELECT user_id FROM sso_identities WHERE user_id IN";
        crate::db::user_ids_among(conn, select, user_ids).await
    }

    /// Forgets the stored subject (`hr-portal user unlink-sso`): the next single sign-on with
    /// this address binds afresh. `false` when there was none.
    pub async fn unlink_sso(conn: &mut AnyConnection, id: UserId) -> Result<bool, sqlx::Error> {
        let cleared = sqlx::query("DELETE FROM sso_identities WHERE user_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(cleared.rows_affected() == 1)
    }
}
