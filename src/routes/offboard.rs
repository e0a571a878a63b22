//! "Offboard" (HR and administrators): a page that asks for someone's last day, and its POST,
//! which records it through the lifecycle (`app::lifecycle::offboard`) — the one place that
//! also ends a leaver's access when the day is already over.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use super::employees::employee_id;
use crate::app::error::{AppError, AppResult};
use crate::app::lifecycle::{self, Offboard};
use crate::app::App;
use crate::auth::grants::EditPeople;
use crate::auth::{CurrentSession, Require};
use crate::hr::{display_date, format_date, Employee};
use crate::secret::Secret;
use crate::text::initials;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::StaffForm;
use crate::web::page::{self, Layout, NoticeRedirect};

#[derive(Debug, FromForm)]
struct OffboardFields {
    #[field(default = "")]
    last_day: String,
    csrf_token: Secret<String>,
}

csrf_protected!(OffboardFields);

/// The page: who leaves, the last day asked (today suggested), and what saving it does.
fn offboard_page(
    status: Status,
    current: &CurrentSession,
    employee: &Employee,
    last_day: &str,
    error: Option<String>,
) -> (Status, Template) {
    (
        status,
        Template::render(
            "offboard.html",
            context! {
                layout: Layout::signed_in(current, None),
                csrf_token: current.csrf_token(),
                id: employee.id,
                name: &employee.name,
                title: &employee.title,
                initials: initials(&employee.name),
                started: display_date(employee.start_date),
                start_date: format_date(employee.start_date),
                last_day,
                error,
            },
        ),
    )
}

#[get("/admin/employees/<id>/offboard")]
async fn offboard_form(
    staff: Require<EditPeople>,
    id: &str,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let id = employee_id(id)?;
    let Some(employee) = lifecycle::leaver_to_be(app, id).await? else {
        return Err(AppError::NotFound);
    };
    let today = format_date(app.today());
    let suggested = employee.left_on.map(format_date).unwrap_or(today);
    Ok(offboard_page(
        Status::Ok,
        &staff.0.session,
        &employee,
        &suggested,
        None,
    ))
}

#[post("/admin/employees/<id>/offboard", data = "<form>")]
async fn offboard(
    id: &str,
    form: StaffForm<EditPeople, OffboardFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let id = employee_id(id)?;
    let last_day = &form.form.last_day;
    match lifecycle::offboard(app, &form.actor, id, last_day).await? {
        Offboard::NoSuchEmployee => Err(AppError::NotFound),
        Offboard::Invalid(message) => {
            let Some(employee) = lifecycle::leaver_to_be(app, id).await? else {
                return Err(AppError::NotFound);
            };
            let session = &form.staff.0.session;
            let status = Status::UnprocessableEntity;
            let page = offboard_page(status, session, &employee, last_day, Some(message));
            Ok(Either::Right(page))
        }
        Offboard::Offboarded {
            name,
            last_day,
            access_ended,
        } => {
            let day = display_date(last_day);
            let message = match access_ended {
                true => format!("{name} left on {day}; their access has ended."),
                false => format!("{name}'s last day is recorded: {day}."),
            };
            Ok(Either::Left(page::done(
                format!("/employees/{id}"),
                message,
            )))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![offboard_form, offboard]
}
