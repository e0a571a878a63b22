//! Importing a staff list (administrators and the operator): a preview that checks the file and
//! keeps it server-side, the apply of exactly that kept file, and the command line's check and
//! import of a file. Every apply re-reads the database and re-plans inside its one HR write
//! transaction: a file that was clean at preview but no longer is (someone changed a record
//! meanwhile) writes nothing.

use sqlx::AnyConnection;

use super::lifecycle::{self, InviteOutcome};
use super::people::{department_event, employee_event};
use super::{Actor, App};
use crate::app::error::{AppError, AppResult};
use crate::audit::{self, EventKind};
use crate::hr::begin_hr_write;
use crate::hr::import::file::decode;
use crate::hr::import::preview::StoredPreview;
use crate::hr::import::write::{write_plan, Written};
use crate::hr::import::{plan, read_staff_list, Change, FileRefusal, Plan, RowError, Snapshot};

/// A person an import updates, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedPerson {
    pub name: String,
    pub email: String,
    pub changes: Vec<String>,
}

/// What importing a file would do, or why it cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: Vec<UpdatedPerson>,
    pub unchanged: usize,
    pub new_departments: Vec<String>,
    /// "line N: Column: reason", by line; any error means nothing can be applied.
    pub errors: Vec<RowError>,
}

impl From<&Plan> for ImportSummary {
    fn from(plan: &Plan) -> Self {
        ImportSummary {
            created: plan.created(),
            updated: plan
                .people
                .iter()
                .filter_map(|p| match &p.change {
                    Change::Update { changes, .. } => Some(UpdatedPerson {
                        name: p.row.name.clone(),
                        email: p.row.email.clone(),
                        changes: changes.clone(),
                    }),
                    _ => None,
                })
                .collect(),
            unchanged: plan.unchanged(),
            new_departments: plan.new_departments.clone(),
            errors: plan.errors.clone(),
        }
    }
}

/// What an applied import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub departments: usize,
    /// New people invited to an account (with the invite option).
    pub invited: usize,
}

impl ImportReport {
    pub fn changed_anything(&self) -> bool {
        self.created + self.updated + self.departments > 0
    }

    /// The summary event's detail, and what pages and the command line print.
    pub fn describe(&self) -> String {
        format!(
            "{} created, {} updated, {} unchanged, {} department(s) created, {} invited",
            self.created, self.updated, self.unchanged, self.departments, self.invited
        )
    }
}

/// A file checked: refused whole, or planned (clean or with errors).
#[derive(Debug)]
pub enum Checked {
    Refused(FileRefusal),
    Planned(ImportSummary),
}

/// The preview of an upload: the plan, and for a clean file the id of the kept copy.
#[derive(Debug)]
pub enum PreviewOutcome {
    Refused(FileRefusal),
    Previewed {
        summary: ImportSummary,
        /// `None` when the file has errors (there is nothing to apply).
        preview_id: Option<String>,
    },
}

/// How applying a kept preview went. Every outcome but `Applied` wrote nothing.
#[derive(Debug)]
pub enum ApplyOutcome {
    Applied(ImportReport),
    NoSuchPreview,
    /// Another administrator's preview.
    NotYours,
    Expired,
    AlreadyApplied,
    /// The kept file no longer matches its hash.
    Altered,
    /// Clean at preview, not any more: the database changed meanwhile.
    NoLongerValid(ImportSummary),
}

/// What the command line's import did.
#[derive(Debug)]
pub enum FileImport {
    Refused(FileRefusal),
    Invalid(ImportSummary),
    Imported(ImportReport),
}

/// Reads and plans `text` against the database as `conn` sees it.
async fn plan_text(conn: &mut AnyConnection, text: &str) -> AppResult<Result<Plan, FileRefusal>> {
    let (columns, records) = match read_staff_list(text.as_bytes()) {
        Ok(read) => read,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let snapshot = Snapshot::load(conn).await?;
    Ok(Ok(plan(&columns, &records, &snapshot)))
}

/// Checks an uploaded file and, when it is clean, keeps it for the administrator to apply.
pub async fn preview(app: &App, actor: &Actor, bytes: &[u8]) -> AppResult<PreviewOutcome> {
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(refusal) => return Ok(PreviewOutcome::Refused(refusal)),
    };
    let planned = plan_text(&mut *app.db.read().await?, text).await?;
    let plan = match planned {
        Ok(plan) => plan,
        Err(refusal) => return Ok(PreviewOutcome::Refused(refusal)),
    };
    let summary = ImportSummary::from(&plan);
    if !plan.is_clean() {
        return Ok(PreviewOutcome::Previewed {
            summary,
            preview_id: None,
        });
    }
    let user_id = actor.user_id().ok_or(AppError::NoLongerAllowed)?;
    let mut tx = app.db.begin_write().await?;
    // The file is kept as text: it was checked to be UTF-8, and the stored form is what the
    // hash covers.
    let id = StoredPreview::store(&mut tx, user_id, text, app.clock.now()).await?;
    // A kept file changes nothing a cache holds.
    tx.commit_leaving_caches_valid().await?;
    Ok(PreviewOutcome::Previewed {
        summary,
        preview_id: Some(id),
    })
}

/// Applies the kept preview `id` (its uploader only, once, within the hour).
pub async fn apply_preview(
    app: &App,
    actor: &Actor,
    id: &str,
    invite: bool,
) -> AppResult<ApplyOutcome> {
    let mut tx = begin_hr_write(&app.db).await?;
    actor.confirm(&mut tx).await?;
    let now = app.clock.now();
    let refusal = match StoredPreview::find(&mut tx, id).await? {
        None => Some(ApplyOutcome::NoSuchPreview),
        Some(kept) if Some(kept.user_id) != actor.user_id() => Some(ApplyOutcome::NotYours),
        Some(kept) if kept.applied_at.is_some() => Some(ApplyOutcome::AlreadyApplied),
        Some(kept) if kept.has_expired(now) => Some(ApplyOutcome::Expired),
        Some(kept) if !kept.is_intact() => Some(ApplyOutcome::Altered),
        Some(kept) => match apply_in(&mut tx, app, actor, &kept.content, invite, now).await? {
            Ok(report) => {
                if !StoredPreview::mark_applied(&mut tx, id, now).await? {
                    return Ok(ApplyOutcome::AlreadyApplied);
                }
                commit(tx, app, &report).await?;
                return Ok(ApplyOutcome::Applied(report));
            }
            Err(Checked::Planned(summary)) => Some(ApplyOutcome::NoLongerValid(summary)),
            // The kept text was read once already: this cannot happen, but if it did it
            // would be an altered file.
            Err(Checked::Refused(_)) => Some(ApplyOutcome::Altered),
        },
    };
    tx.rollback().await?;
    Ok(refusal.unwrap_or(ApplyOutcome::NoSuchPreview))
}

/// The command line's dry run: what importing the file would do, writing nothing.
pub async fn check_file(app: &App, bytes: &[u8]) -> AppResult<Checked> {
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(refusal) => return Ok(Checked::Refused(refusal)),
    };
    Ok(match plan_text(&mut *app.db.read().await?, text).await? {
        Ok(plan) => Checked::Planned(ImportSummary::from(&plan)),
        Err(refusal) => Checked::Refused(refusal),
    })
}

/// The command line's import: checks and applies the file in one transaction.
pub async fn import_file(
    app: &App,
    actor: &Actor,
    bytes: &[u8],
    invite: bool,
) -> AppResult<FileImport> {
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(refusal) => return Ok(FileImport::Refused(refusal)),
    };
    let mut tx = begin_hr_write(&app.db).await?;
    actor.confirm(&mut tx).await?;
    let now = app.clock.now();
    match apply_in(&mut tx, app, actor, text, invite, now).await? {
        Ok(report) => {
            commit(tx, app, &report).await?;
            Ok(FileImport::Imported(report))
        }
        Err(refused) => {
            tx.rollback().await?;
            Ok(match refused {
                Checked::Refused(refusal) => FileImport::Refused(refusal),
                Checked::Planned(summary) => FileImport::Invalid(summary),
            })
        }
    }
}

/// Commits an applied import: a change to employees bumps the write generation and clears the
/// company figures; an import that changed nothing leaves every cache as it is. Invitations
/// leave once committed.
async fn commit(tx: crate::db::WriteTx, app: &App, report: &ImportReport) -> AppResult<()> {
    if report.changed_anything() {
        tx.commit().await?;
        app.company.invalidate();
    } else {
        tx.commit_leaving_caches_valid().await?;
    }
    if report.invited > 0 {
        app.mail_queued();
    }
    Ok(())
}

/// Plans `text` against the database inside the caller's HR write transaction and, when clean,
/// writes it with its audit rows: one per department and person created or updated, and one
/// summary — none at all when nothing changed. Each written person's access is settled (their
/// account linked, ended if their last day has passed); with `invite`, each new person is
/// invited to an account.
async fn apply_in(
    conn: &mut AnyConnection,
    app: &App,
    actor: &Actor,
    text: &str,
    invite: bool,
    now: i64,
) -> AppResult<Result<ImportReport, Checked>> {
    let (columns, records) = match read_staff_list(text.as_bytes()) {
        Ok(read) => read,
        Err(refusal) => return Ok(Err(Checked::Refused(refusal))),
    };
    let snapshot = Snapshot::load(conn).await?;
    let plan = plan(&columns, &records, &snapshot);
    if !plan.is_clean() {
        return Ok(Err(Checked::Planned(ImportSummary::from(&plan))));
    }
    let today = app.calendar.date_at(now);
    let written = write_plan(conn, &plan, &snapshot, today).await?;
    let invited = record_and_settle(conn, app, actor, &written, invite, now).await?;
    let report = ImportReport {
        created: written.created.len(),
        updated: written.updated.len(),
        unchanged: plan.unchanged(),
        departments: written.departments.len(),
        invited,
    };
    if report.changed_anything() {
        let summary = actor
            .event(EventKind::EmployeesImported)
            .detail(report.describe());
        audit::record(conn, now, summary).await?;
    }
    Ok(Ok(report))
}

/// The audit rows of what was written, each person's access settled, the new people invited.
/// Returns how many were invited.
async fn record_and_settle(
    conn: &mut AnyConnection,
    app: &App,
    actor: &Actor,
    written: &Written,
    invite: bool,
    now: i64,
) -> AppResult<usize> {
    for department in &written.departments {
        let event = department_event(actor, department.id, &department.name);
        audit::record(conn, now, event).await?;
    }
    for person in &written.updated {
        let event = employee_event(actor, EventKind::EmployeeUpdated, person.id, &person.name)
            .detail(person.changes.join("; "));
        audit::record(conn, now, event).await?;
        lifecycle::settle_access(conn, app, actor, person.id, now).await?;
    }
    let mut invited = 0;
    for person in &written.created {
        let event = employee_event(actor, EventKind::EmployeeCreated, person.id, &person.name);
        audit::record(conn, now, event).await?;
        lifecycle::settle_access(conn, app, actor, person.id, now).await?;
        if invite {
            let outcome = lifecycle::invite_employee(conn, app, actor, person.id).await?;
            if matches!(outcome, InviteOutcome::Invited { .. }) {
                invited += 1;
            }
        }
    }
    Ok(invited)
}
