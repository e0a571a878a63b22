//! /admin/import: a staff list uploaded (CSV), previewed — who is created, updated and left as
//! they are, every error by line — and, when clean, applied exactly as previewed.
//! `StaffListUpload` guards the upload (HR or an administrator, CSRF, its own 5 MB cap), `SudoForm` (a recent sign-in) the
//! apply.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::AppResult;
use crate::app::import::{self, ApplyOutcome, ImportSummary, PreviewOutcome};
use crate::app::App;
use crate::auth::grants::EditPeople;
use crate::auth::{CurrentSession, Require};
use crate::hr::import::FileRefusal;
use crate::secret::Secret;
use crate::users::Permission;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::{StaffListUpload, SudoForm};
use crate::web::page::{self, Layout, Notice, NoticeRedirect};
use crate::web::refusals::Wording;

/// A person the preview updates, with each change.
#[derive(Debug, Serialize)]
struct UpdatedView {
    name: String,
    email: String,
    changes: Vec<String>,
}

/// The preview as the page shows it.
#[derive(Debug, Serialize)]
struct PreviewView {
    created: usize,
    updated: Vec<UpdatedView>,
    unchanged: usize,
    new_departments: Vec<String>,
    errors: Vec<String>,
    /// The kept file's id, for the apply form (clean files only).
    preview_id: Option<String>,
}

impl PreviewView {
    fn new(summary: ImportSummary, preview_id: Option<String>) -> PreviewView {
        PreviewView {
            created: summary.created,
            updated: summary
                .updated
                .into_iter()
                .map(|u| UpdatedView {
                    name: u.name,
                    email: u.email,
                    changes: u.changes,
                })
                .collect(),
            unchanged: summary.unchanged,
            new_departments: summary.new_departments,
            errors: summary.errors.iter().map(ToString::to_string).collect(),
            preview_id,
        }
    }
}

/// The import page: the upload form, and a preview or a refusal when there is one.
fn import_page(
    current: &CurrentSession,
    flash: Option<Notice>,
    invite: bool,
    refusal: Option<String>,
    preview: Option<PreviewView>,
) -> Template {
    Template::render(
        "admin_import.html",
        context! {
            may_invite: current.session.user_role.may(Permission::ManageAccounts),
            layout: Layout::signed_in(current, flash),
            csrf_token: current.csrf_token(),
            invite,
            refusal,
            preview,
        },
    )
}

#[get("/admin/import")]
fn upload_form(admin: Require<EditPeople>, flash: Option<Notice>) -> Template {
    import_page(&admin.0.session, flash, false, None, None)
}

/// A refused file is 413 when it is too large, else 422.
fn refusal_status(refusal: &FileRefusal) -> Status {
    match refusal {
        FileRefusal::TooLarge | FileRefusal::TooManyRows => Status::PayloadTooLarge,
        _ => Status::UnprocessableEntity,
    }
}

#[post("/admin/import", data = "<upload>")]
async fn preview(upload: StaffListUpload, app: &State<App>) -> AppResult<(Status, Template)> {
    let current = &upload.admin.0.session;
    let invite = upload.invite;
    Ok(
        match import::preview(app, &upload.actor, &upload.file).await? {
            PreviewOutcome::Refused(refusal) => (
                refusal_status(&refusal),
                import_page(current, None, invite, Some(refusal.to_string()), None),
            ),
            PreviewOutcome::Previewed {
                summary,
                preview_id,
            } => {
                let status = match summary.errors.is_empty() {
                    true => Status::Ok,
                    false => Status::UnprocessableEntity,
                };
                let view = PreviewView::new(summary, preview_id);
                (status, import_page(current, None, invite, None, Some(view)))
            }
        },
    )
}

#[derive(Debug, FromForm)]
struct ApplyForm {
    csrf_token: Secret<String>,
    /// A missing id names no preview (404 once the token is checked).
    #[field(default = "")]
    preview: String,
    #[field(default = false)]
    invite: bool,
}

csrf_protected!(ApplyForm);

/// The status of an apply that wrote nothing.
fn apply_status(outcome: &ApplyOutcome) -> Status {
    match outcome {
        ApplyOutcome::Applied(_) => Status::SeeOther,
        ApplyOutcome::NoSuchPreview => Status::NotFound,
        ApplyOutcome::NotYours => Status::Forbidden,
        ApplyOutcome::Expired => Status::Gone,
        ApplyOutcome::AlreadyApplied | ApplyOutcome::Altered | ApplyOutcome::NoLongerValid(_) => {
            Status::Conflict
        }
    }
}

#[post("/admin/import/apply", data = "<form>")]
async fn apply(
    form: SudoForm<EditPeople, ApplyForm>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let SudoForm(form) = form;
    let current = &form.staff.0.session;
    let invite = form.form.invite;
    // Inviting makes accounts: that takes the permission to manage them, beyond editing people.
    if invite && !form.staff.0.may(Permission::ManageAccounts) {
        let refusal = "Inviting people to accounts needs the permission to manage accounts. \
                       Import without inviting, or ask an administrator."
            .to_string();
        let page = import_page(current, None, false, Some(refusal), None);
        return Ok(Either::Right((Status::Forbidden, page)));
    }
    let outcome = import::apply_preview(app, &form.actor, &form.form.preview, invite).await?;
    let status = apply_status(&outcome);
    let refusal = Some(outcome.wording());
    let page = match outcome {
        ApplyOutcome::Applied(report) => {
            let message = format!("Staff list imported: {}.", report.describe());
            return Ok(Either::Left(page::done(uri!("/employees"), message)));
        }
        ApplyOutcome::NoLongerValid(summary) => {
            let view = PreviewView::new(summary, None);
            import_page(current, None, invite, refusal, Some(view))
        }
        _ => import_page(current, None, invite, refusal, None),
    };
    Ok(Either::Right((status, page)))
}

pub(super) fn routes() -> Vec<Route> {
    routes![upload_form, preview, apply]
}
