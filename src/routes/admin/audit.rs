//! /admin/audit: the audit trail, filtered by person and kind, newest first.

use crate::auth::grants::ReadAudit;
use crate::auth::Require;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::app::accounts;
use crate::app::error::AppResult;
use crate::app::App;
use crate::audit::{EventFilter, EventKind};
use crate::text::search_term;
use crate::web::page::{page_window, Layout, Notice, Pagination};
use crate::web::views::{EventRow, SelectOption};

const EVENTS_PER_PAGE: i64 = 100;

#[get("/admin/audit?<user>&<kind>&<page>")]
async fn audit_page(
    admin: Require<ReadAudit>,
    user: Option<&str>,
    kind: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let filter = EventFilter {
        user: search_term(user),
        kind: kind.and_then(EventKind::parse),
    };
    let (page, offset) = page_window(page, EVENTS_PER_PAGE);
    let (events, total) = accounts::audit_page(app, &filter, EVENTS_PER_PAGE, offset).await?;
    let full_page = events.len() as i64 == EVENTS_PER_PAGE;
    let now = app.clock.now();
    let rows: Vec<EventRow> = events.into_iter().map(|e| EventRow::new(e, now)).collect();
    let mut pagination = Pagination::new(page, EVENTS_PER_PAGE, total);
    if total > crate::audit::COUNT_CAP && full_page {
        // The count stops at the cap; the trail goes on as long as pages come back full.
        pagination.next = Some(page + 1);
    }
    let kinds: Vec<SelectOption> = EventKind::ALL
        .iter()
        .map(|k| SelectOption::new(k.as_str(), k.label(), filter.kind == Some(*k)))
        .collect();
    let kind_filter = filter.kind.map_or("", EventKind::as_str);
    Ok(Template::render(
        "admin_audit.html",
        context! {
            layout: Layout::signed_in(current, flash),
            user_filter: &filter.user,
            kind_filter,
            kinds,
            events: rows,
            count_cap: crate::audit::COUNT_CAP,
            pagination: pagination
                .with_query("user", &filter.user)
                .with_query("kind", kind_filter),
        },
    ))
}

pub(super) fn routes() -> Vec<Route> {
    routes![audit_page]
}
