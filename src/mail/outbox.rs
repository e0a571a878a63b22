//! The outbox table: messages written by use cases inside their transactions and drained by the
//! delivery task. Safe with several instances: a message is claimed by moving its
//! `next_attempt_at` forward with a compare-and-set, so exactly one instance sends it at a time,
//! and a claim whose sender died simply becomes due again when the lease runs out.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::Letter;
use crate::ids::UserId;
use crate::sealed::{Sealer, Unsealable};

/// Seconds a claimed message is left alone by other instances while one sends it (a send is cut
/// off well before: see `app::mail`).
pub const CLAIM_LEASE: i64 = 120;

/// Longest wait between two attempts, however many failed.
const MAX_RETRY_DELAY: i64 = 3_600;

/// Queues `letter` for `user`; the body is sealed, bound to the recipient.
pub async fn enqueue(
    conn: &mut AnyConnection,
    sealer: &Sealer,
    user: Option<UserId>,
    letter: &Letter,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (user_id, recipient, recipient_name, subject, body, created_at, \
         attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
    )
    .bind(user)
    .bind(&letter.to_email)
    .bind(&letter.to_name)
    .bind(&letter.subject)
    .bind(sealer.seal(letter.body.expose(), &letter.to_email))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A message that is due, as claimed for sending.
#[derive(FromRow)]
pub struct Claimed {
    pub id: i64,
    pub user_id: Option<UserId>,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: String,
    body: String,
    /// Attempts including this one.
    pub attempts: i64,
    /// The claim: every update after the send names it, so a sender that outlived its lease
    /// (and lost the message to another instance) changes nothing.
    pub lease_until: i64,
}

impl Claimed {
    pub fn letter(&self, sealer: &Sealer) -> Result<Letter, Unsealable> {
        Ok(Letter {
            to_email: self.recipient.clone(),
            to_name: self.recipient_name.clone(),
            subject: self.subject.clone(),
            body: sealer.open(&self.body, &self.recipient)?.into(),
        })
    }
}

/// Ids of up to `limit` messages due at `now`, oldest first, with the due time the claim compares.
pub async fn due(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, next_attempt_at FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
         AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}

/// When the next message falls due, if any is waiting.
pub async fn next_due_at(conn: &mut AnyConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await
}

/// Messages waiting for delivery (not sent, not given up) and when the oldest was queued.
pub async fn waiting(conn: &mut AnyConnection) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await
}

/// Claims message `id` if it is still due as `seen_due_at` (nobody claimed it meanwhile),
/// counting the attempt; `None` when another sender has it.
pub async fn claim(
    conn: &mut AnyConnection,
    id: i64,
    seen_due_at: i64,
    now: i64,
) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1 \
         WHERE id = $2 AND next_attempt_at = $3 AND sent_at IS NULL AND failed_at IS NULL \
         RETURNING id, user_id, recipient, recipient_name, subject, body, attempts, \
         next_attempt_at AS lease_until",
    )
    .bind(now + CLAIM_LEASE)
    .bind(id)
    .bind(seen_due_at)
    .fetch_optional(&mut *conn)
    .await
}

/// The condition every post-send update adds: still ours, still undelivered.
macro_rules! still_claimed {
    () => {
        " WHERE id = $1 AND next_attempt_at = $2 AND sent_at IS NULL AND failed_at IS NULL"
    };
}

/// Delivered: the body (which may hold a link) is erased; the row stays for the records.
/// `false` when the claim was lost meanwhile.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    claim: &Claimed,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(concat!(
        "UPDATE outbox SET sent_at = $3, body = '', last_error = NULL",
        still_claimed!()
    ))
    .bind(claim.id)
    .bind(claim.lease_until)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The wait before attempt `attempts + 1`: `base`, doubling per failed attempt, at most an hour.
pub fn retry_delay(base: i64, attempts: i64) -> i64 {
    let doublings = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(1_i64 << doublings).min(MAX_RETRY_DELAY)
}

/// A failed attempt: try again at `retry_at`. `false` when the claim was lost meanwhile.
pub async fn mark_retry(
    conn: &mut AnyConnection,
    claim: &Claimed,
    error: &str,
    retry_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(concat!(
        "UPDATE outbox SET next_attempt_at = $3, last_error = $4",
        still_claimed!()
    ))
    .bind(claim.id)
    .bind(claim.lease_until)
    .bind(retry_at)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Given up: shown to admins as failed; the body is erased (its links will have expired).
/// `false` when the claim was lost meanwhile.
pub async fn mark_failed(
    conn: &mut AnyConnection,
    claim: &Claimed,
    error: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(concat!(
        "UPDATE outbox SET failed_at = $3, last_error = $4, body = ''",
        still_claimed!()
    ))
    .bind(claim.id)
    .bind(claim.lease_until)
    .bind(now)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message as admins see it on the mail page (never its body).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct QueuedMessage {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
}

/// How many messages wait and how many were given up.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OutboxCounts {
    pub waiting: i64,
    pub failed: i64,
}

impl QueuedMessage {
    /// One page of messages not delivered (waiting or failed), newest first, and their counts.
    pub async fn undelivered(
        conn: &mut AnyConnection,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<QueuedMessage>, OutboxCounts), sqlx::Error> {
        let rows: Vec<QueuedMessage> = sqlx::query_as(
            "SELECT id, recipient, subject, created_at, attempts, next_attempt_at, last_error, \
             sent_at, failed_at FROM outbox WHERE sent_at IS NULL \
             ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let (waiting, failed): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN failed_at IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN failed_at IS NULL THEN 0 ELSE 1 END), 0) \
             FROM outbox WHERE sent_at IS NULL",
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok((rows, OutboxCounts { waiting, failed }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(retry_delay(30, 1), 30);
        assert_eq!(retry_delay(30, 2), 60);
        assert_eq!(retry_delay(30, 4), 240);
        assert_eq!(retry_delay(30, 50), 3_600);
        assert_eq!(retry_delay(1, 1), 1);
    }
}
