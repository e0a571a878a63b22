//! Exports: the whole directory as a search shows it, and the audit trail page by page.

use std::collections::HashMap;

use rocket::futures::stream::{self, Stream};

use super::App;
use crate::app::error::AppResult;
use crate::audit::{EventFilter, EventRecord, TrailPosition};
use crate::hr::{DirectoryQuery, Employee};
use crate::ids::EmployeeId;

/// Events read per query of an audit export: few enough that a page is a small allocation,
/// many enough that a million events take a thousand queries, not a million.
pub const AUDIT_EXPORT_PAGE: i64 = 1000;

/// A directory export: the people, and the work address of everyone who manages someone (the
/// export names managers by address, and a filtered list may leave a manager out).
pub struct WholeDirectory {
    pub directory: Vec<Employee>,
    pub manager_emails: HashMap<EmployeeId, String>,
}

/// Everyone the directory finds for `query` — every page of it at once, whatever its window
/// (a directory is as long as the company, which fits in memory).
pub async fn whole_directory(app: &App, query: DirectoryQuery<'_>) -> AppResult<WholeDirectory> {
    let query = DirectoryQuery {
        limit: i64::MAX,
        offset: 0,
        ..query
    };
    let mut conn = app.db.read().await?;
    let (directory, _) = Employee::search(&mut conn, &query).await?;
    let manager_emails = Employee::manager_emails(&mut conn).await?;
    Ok(WholeDirectory {
        directory,
        manager_emails,
    })
}

/// How far a walk through the trail has come.
#[derive(Debug, Clone, Copy)]
enum Walk {
    Start,
    After(TrailPosition),
    Done,
}

/// The events matching `filter`, newest first, as a stream of pages read only when the consumer
/// asks for the next: however long the trail, one page is in memory at a time, and no connection
/// is held between pages (a slow download must not keep one from the pool).
pub fn audit_trail(
    app: App,
    filter: EventFilter,
) -> impl Stream<Item = AppResult<Vec<EventRecord>>> + Send + 'static {
    stream::try_unfold(Walk::Start, move |walk| {
        let app = app.clone();
        let filter = filter.clone();
        async move {
            let after = match walk {
                Walk::Start => None,
                Walk::After(position) => Some(position),
                Walk::Done => return Ok(None),
            };
            let page = {
                let mut conn = app.db.read().await?;
                EventRecord::page_after(&mut conn, &filter, after, AUDIT_EXPORT_PAGE).await?
            };
            let next = match page.last() {
                Some(last) if page.len() as i64 == AUDIT_EXPORT_PAGE => {
                    Walk::After(last.position())
                }
                Some(_) => Walk::Done,
                None => return Ok(None),
            };
            Ok(Some((page, next)))
        }
    })
}
