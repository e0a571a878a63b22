//! /admin/mail: the messages not delivered yet, and why.

use crate::auth::grants::ManageAccess;
use crate::auth::Require;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::AppResult;
use crate::app::{mail, App};
use crate::mail::outbox::QueuedMessage;
use crate::web::page::{page_window, Layout, Notice, Pagination};
use crate::web::views::Moment;

const MESSAGES_PER_PAGE: i64 = 50;

#[get("/admin/mail?<page>")]
async fn mail_page(
    admin: Require<ManageAccess>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let (page, offset) = page_window(page, MESSAGES_PER_PAGE);
    let (messages, counts) = mail::undelivered(app, MESSAGES_PER_PAGE, offset).await?;
    let now = app.clock.now();
    let rows: Vec<MessageRow> = messages
        .into_iter()
        .map(|m| MessageRow::new(m, now))
        .collect();
    Ok(Template::render(
        "admin_mail.html",
        context! {
            layout: Layout::signed_in(current, flash),
            counts,
            messages: rows,
            pagination: Pagination::new(page, MESSAGES_PER_PAGE, counts.waiting + counts.failed),
        },
    ))
}

/// A message that has not been delivered, as the mail page shows it.
#[derive(Debug, Serialize)]
struct MessageRow {
    recipient: String,
    subject: String,
    queued: Moment,
    attempts: i64,
    failed: bool,
    next_attempt: Moment,
    last_error: String,
}

impl MessageRow {
    fn new(m: QueuedMessage, now: i64) -> Self {
        MessageRow {
            recipient: m.recipient,
            subject: m.subject,
            queued: Moment::at(m.created_at, now),
            attempts: m.attempts,
            failed: m.failed_at.is_some(),
            next_attempt: Moment::at(m.next_attempt_at, now),
            last_error: m.last_error.unwrap_or_default(),
        }
    }
}

pub(super) fn routes() -> Vec<Route> {
    routes![mail_page]
}
