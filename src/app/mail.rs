//! Delivering the outbox: the one use case of the background delivery task.
//!
//! Each due message is claimed (so another instance leaves it alone), handed to the transport
//! with no connection held, then marked sent — its body erased — or scheduled again with backoff,
//! or given up after `mail_max_attempts` and left for admins to see. The outcome and its event
//! ("e-mail sent" on the person's own activity page) commit together.

use super::App;
use crate::app::error::AppResult;
use crate::audit::{self, Event, EventKind, Origin};
use crate::mail::outbox::{self, retry_delay, Claimed, OutboxCounts, QueuedMessage};

/// Messages handled per round; the task comes straight back while more are due.
const BATCH: i64 = 20;

/// The longest one message may take to hand over, kept well inside the claim's lease so no other
/// instance takes it over while it is still being sent.
const SEND_DEADLINE: std::time::Duration =
    std::time::Duration::from_secs(outbox::CLAIM_LEASE as u64 / 2);

/// What one delivery round did, and when the next message falls due.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRound {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
    pub next_due_at: Option<i64>,
}

/// Sends every message that is due now.
pub async fn deliver_due(app: &App) -> AppResult<DeliveryRound> {
    let mut round = DeliveryRound::default();
    let due = outbox::due(&mut *app.db.read().await?, app.clock.now(), BATCH).await?;
    for (id, seen_due_at) in due {
        let mut conn = app.db.read().await?;
        let claimed = outbox::claim(&mut conn, id, seen_due_at, app.clock.now()).await?;
        drop(conn); // no connection is held while the message travels
        if let Some(message) = claimed {
            deliver(app, message, &mut round).await?;
        }
    }
    app.metrics.mail_failed(round.retrying + round.failed);
    round.next_due_at = outbox::next_due_at(&mut *app.db.read().await?).await?;
    Ok(round)
}

async fn deliver(app: &App, message: Claimed, round: &mut DeliveryRound) -> AppResult<()> {
    let mail = &app.mail;
    let outcome = match message.letter(&mail.sealer) {
        Ok(letter) => {
            let sending = mail.transport.send(&mail.settings, &letter, message.id);
            match rocket::tokio::time::timeout(SEND_DEADLINE, sending).await {
                Ok(sent) => sent.map_err(|e| (e.is_permanent(), e.to_string())),
                Err(_) => Err((false, "no answer from the mail server in time".to_string())),
            }
        }
        // Sealed under another secret key: no attempt can ever read it.
        Err(unsealable) => Err((true, unsealable.to_string())),
    };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let event = |kind| {
        let mut event = Event::new(kind, &Origin::default())
            .detail(format!("\"{}\" to {}", message.subject, message.recipient));
        if let Some(user) = message.user_id {
            event = event.subject(user);
        }
        event
    };
    // Each outcome is written only while the claim still holds; a sender that lost it to another
    // instance (its lease ran out) records nothing.
    match outcome {
        Ok(()) => {
            if outbox::mark_sent(&mut tx, &message, now).await? {
                audit::record(&mut tx, now, event(EventKind::MailSent)).await?;
                round.sent += 1;
            }
        }
        Err((permanent, error)) if permanent || message.attempts >= mail.max_attempts => {
            if outbox::mark_failed(&mut tx, &message, &error, now).await? {
                let event = event(EventKind::MailFailed).detail(error.clone());
                audit::record(&mut tx, now, event).await?;
                rocket::warn!("giving up on outbox message {}: {error}", message.id);
                round.failed += 1;
            }
        }
        Err((_, error)) => {
            let retry_at = now + retry_delay(mail.retry_delay, message.attempts);
            if outbox::mark_retry(&mut tx, &message, &error, retry_at).await? {
                rocket::info!("outbox message {} will be retried: {error}", message.id);
                round.retrying += 1;
            }
        }
    }
    // The outbox and the audit trail: nothing a cache holds.
    tx.commit_leaving_caches_valid().await?;
    Ok(())
}

/// One page of undelivered messages (waiting or given up) for the admins' mail page.
pub async fn undelivered(
    app: &App,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<QueuedMessage>, OutboxCounts)> {
    let mut conn = app.db.read().await?;
    Ok(QueuedMessage::undelivered(&mut conn, limit, offset).await?)
}
