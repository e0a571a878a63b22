//! A person's access from their record (administrators): "Give access" (an invitation to the
//! record's work e-mail, or their account enabled again after a rehire) and "End access now"
//! (a dismissal, with a reason for the audit trail). `StaffForm` guards both: giving access is an invitation (administrators), ending it is access
//! management (security and administrators).

use crate::auth::grants::{ManageAccess, ManageAccounts};
use crate::web::guards::StaffForm;
use rocket::form::FromForm;
use rocket::{post, routes, Route, State};

use crate::app::error::{AppError, AppResult};
use crate::app::lifecycle::{self, EndAccess, EndAccessRefusal, GiveAccess};
use crate::app::App;
use crate::ids::EmployeeId;
use crate::routes::CsrfOnly;
use crate::secret::Secret;
use crate::web::guards::forms::csrf_protected;
use crate::web::page::{self, NoticeRedirect};
use crate::web::params::NotAnId;
use crate::web::refusals::{left_the_company, Wording};

/// The record's page, where each answer lands.
fn profile(id: EmployeeId) -> String {
    format!("/employees/{id}")
}

#[post("/employees/<id>/access/give", data = "<form>")]
async fn give_access(
    id: Result<EmployeeId, NotAnId>,
    form: StaffForm<ManageAccounts, CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let id = id?;
    let back = profile(id);
    Ok(match lifecycle::give_access(app, &form.actor, id).await? {
        GiveAccess::NoSuchEmployee => return Err(AppError::NotFound),
        GiveAccess::Invited(email) => {
            page::done(back, format!("An invitation is on its way to {email}."))
        }
        GiveAccess::Enabled => page::done(back, "Their account works again."),
        GiveAccess::AlreadyActive => page::done(back, "They already have access."),
        GiveAccess::LeftTheCompany(left_on) => page::failed(back, left_the_company(left_on)),
        GiveAccess::Refused(refusal) => page::failed(back, refusal.wording()),
        GiveAccess::EmailTaken => page::failed(
            back,
            "An account with that work e-mail already belongs to another record.",
        ),
    })
}

#[derive(Debug, FromForm)]
struct EndAccessFields {
    #[field(default = "")]
    reason: String,
    csrf_token: Secret<String>,
}

csrf_protected!(EndAccessFields);

#[post("/employees/<id>/access/end", data = "<form>")]
async fn end_access(
    id: Result<EmployeeId, NotAnId>,
    form: StaffForm<ManageAccess, EndAccessFields>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let id = id?;
    let back = profile(id);
    let reason = &form.form.reason;
    Ok(
        match lifecycle::end_access_now(app, &form.actor, id, reason).await? {
            EndAccess::NoSuchEmployee => return Err(AppError::NotFound),
            EndAccess::Ended { name, sessions } => page::done(
                back,
                format!("{name} can no longer sign in; {sessions} session(s) ended."),
            ),
            EndAccess::AlreadyEnded => page::done(back, "Their account is already disabled."),
            EndAccess::NoAccount => page::failed(back, "They have no account."),
            EndAccess::Refused(EndAccessRefusal::Reason) => page::failed(
                back,
                format!(
                    "Please give a reason (one line, at most {} characters): the audit trail \
                     keeps it.",
                    lifecycle::MAX_REASON_CHARS
                ),
            ),
            EndAccess::Refused(EndAccessRefusal::OwnAccount) => page::failed(
                back,
                "You cannot end your own access here; ask another administrator.",
            ),
        },
    )
}

pub fn routes() -> Vec<Route> {
    routes![give_access, end_access]
}
