//! CSV downloads of what two pages list, with the same query string as the page: the directory
//! (`/employees.csv`, everyone signed in) and the audit log (`/admin/audit.csv`, security,
//! auditors and administrators; `Require<ReadAudit>` answers anyone else).

use std::collections::HashMap;

use rocket::futures::{StreamExt, TryStreamExt};
use rocket::response::stream::TextStream;
use rocket::{get, routes, Route, State};

use crate::app::error::AppResult;
use crate::app::{exports, App};
use crate::audit::{EventFilter, EventKind, EventRecord};
use crate::auth::grants::ReadAudit;
use crate::auth::Require;
use crate::hr::import::columns::IGNORED_COLUMN;
use crate::hr::import::Column;
use crate::hr::{format_date, DirectoryQuery, Employee, EmployeeStatus};
use crate::ids::EmployeeId;
use crate::routes::employees::DirectoryFilters;
use crate::text::search_term;
use crate::web::csv::{self, CsvDownload};
use crate::web::guards::DirectoryReader;
use crate::web::provenance;

/// `<what>-YYYY-MM-DD.csv`, dated by the application clock.
fn filename(app: &App, what: &str) -> String {
    format!("{what}-{}.csv", format_date(app.today()))
}

/// The directory's columns: the staff-list import reads this file as it is (its own header
/// names come from `hr::import::Column`, so the two cannot drift apart), ignoring the number.
fn directory_columns() -> Vec<&'static str> {
    let mut columns = vec![IGNORED_COLUMN];
    columns.extend(Column::ALL.map(Column::header));
    columns
}

/// One person in the import's column order. Managers are named by work e-mail, the one thing
/// that names a person both here and in a file. A reader who may not learn who is on leave
/// (`sees_leave` false) reads "Active" for them, as the directory shows them.
fn directory_row(e: Employee, emails: &HashMap<EmployeeId, String>, sees_leave: bool) -> String {
    let manager = e.manager_id.and_then(|id| emails.get(&id).cloned());
    let status = match e.status {
        EmployeeStatus::OnLeave if !sees_leave => EmployeeStatus::Active,
        status => status,
    };
    csv::row(&[
        e.id.to_string(),
        e.name,
        e.email,
        e.title,
        e.department_name,
        manager.unwrap_or_default(),
        e.location,
        format_date(e.start_date),
        status.label().to_string(),
        e.left_on.map(format_date).unwrap_or_default(),
    ])
}

/// The same people as the directory page with the same query (every page of it); the status
/// filter is the page's, allowed or refused by the same guard.
#[get("/employees.csv?<q>&<department>&<status>&<sort>&<dir>")]
async fn directory_csv(
    reader: DirectoryReader,
    q: Option<&str>,
    department: Option<i64>,
    status: Option<&str>,
    sort: Option<&str>,
    dir: Option<&str>,
    app: &State<App>,
) -> AppResult<CsvDownload<String>> {
    // Read, and allowed or refused, by the `DirectoryReader` guard.
    let _ = status;
    let filters = DirectoryFilters::parse(q, department, sort, dir);
    let query = DirectoryQuery {
        search: &filters.search,
        department: filters.department,
        status: reader.status,
        today: app.today(),
        sort: filters.sort,
        limit: 0,
        offset: 0,
    };
    let employees = exports::whole_directory(app, query).await?;
    let mut body = csv::row(&directory_columns());
    for employee in employees.directory {
        body.push_str(&directory_row(
            employee,
            &employees.manager_emails,
            reader.sees_leave,
        ));
    }
    Ok(CsvDownload {
        filename: filename(app, "employees"),
        body,
    })
}

/// The audit page's columns (the page shortens the session handle to its first 8 characters,
/// and so does the export).
const AUDIT_COLUMNS: [&str; 10] = [
    "Time (UTC)",
    "Event",
    "Event code",
    "By",
    "Account",
    "E-mail as typed",
    "Session",
    "IP address",
    "Device",
    "Detail",
];

/// `2026-11-27T06:38:00Z`: a moment spreadsheets and scripts read without guessing.
fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn audit_row(e: &EventRecord) -> String {
    csv::row(&[
        rfc3339(e.at),
        EventKind::parse(&e.kind)
            .map_or("Other", EventKind::label)
            .to_string(),
        e.kind.clone(),
        provenance::actor(e),
        e.subject_email.clone().unwrap_or_default(),
        e.email.clone().unwrap_or_default(),
        e.session_handle
            .as_deref()
            .map(|h| h.chars().take(8).collect())
            .unwrap_or_default(),
        e.ip.clone().unwrap_or_default(),
        provenance::device(e),
        e.detail.clone().unwrap_or_default(),
    ])
}

fn audit_rows(page: &[EventRecord]) -> String {
    page.iter().map(audit_row).collect()
}

/// Streamed: each page of events is read from the database when the client has taken the one
/// before, so a trail of any length never sits in memory. The first page is read before the
/// response starts, so a database that is down still gets its error page; a failure later can
/// only end the file, and its last line says that it is incomplete.
#[get("/admin/audit.csv?<user>&<kind>")]
async fn audit_csv(
    _auditor: Require<ReadAudit>,
    user: Option<&str>,
    kind: Option<&str>,
    app: &State<App>,
) -> AppResult<CsvDownload<TextStream![String]>> {
    let filter = EventFilter {
        user: search_term(user),
        kind: kind.and_then(EventKind::parse),
    };
    let mut pages = Box::pin(exports::audit_trail(app.inner().clone(), filter));
    let first = pages.try_next().await?;
    let body = TextStream! {
        yield csv::row(&AUDIT_COLUMNS);
        let Some(first) = first else { return };
        yield audit_rows(&first);
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => yield audit_rows(&page),
                Err(error) => {
                    rocket::warn!("the audit export stopped early: {error}");
                    yield csv::row(&["Export incomplete: the database stopped answering. Download it again."]);
                    return;
                }
            }
        }
    };
    Ok(CsvDownload {
        filename: filename(app, "audit"),
        body,
    })
}

pub fn routes() -> Vec<Route> {
    routes![directory_csv, audit_csv]
}
