//! The employee form (HR and administrators; `Require<EditPeople>` guards every route): adding
//! someone, and editing a record — a job change dated by its "effective from" day, the manager
//! chosen with a picker that works without JavaScript (a text input with a `<datalist>` of
//! current staff, checked on the server), the location from the managed list or added to it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use super::employees::{department_options, employee_id};
use crate::app::error::{AppError, AppResult};
use crate::app::people::{self, EmployeeFormData, EmployeeSave};
use crate::app::App;
use crate::auth::grants::EditPeople;
use crate::auth::{CurrentSession, Require};
use crate::hr::employee::{PrivateDetails, PrivateDraft};
use crate::hr::{format_date, Employee, EmployeeDraft, EmployeeStatus, InvalidEmployee};
use crate::ids::EmployeeId;
use crate::secret::Secret;
use crate::text::{fold, initials};
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::StaffForm;
use crate::web::page::{self, Layout, NoticeRedirect};
use crate::web::views::SelectOption;

/// How the manager picker names a person: readable, and ending in the one thing that tells two
/// people with the same name apart (the server reads the address between the angle brackets).
fn manager_pick(name: &str, email: &str) -> String {
    format!("{name} <{email}>")
}

/// The employee form's fields exactly as typed (re-shown after a refused submission).
#[derive(Debug, Default, Serialize)]
struct Draft {
    name: String,
    email: String,
    title: String,
    department: String,
    new_department: String,
    manager: String,
    location: String,
    new_location: String,
    work_phone: String,
    start_date: String,
    status: String,
    left_on: String,
    effective_from: String,
    personal_email: String,
    phone: String,
    birth_date: String,
    home_address: String,
    emergency_contact: String,
}

impl Draft {
    fn of(
        employee: &Employee,
        manager_email: Option<&str>,
        private: Option<&PrivateDetails>,
        today: NaiveDate,
    ) -> Draft {
        let private = private.cloned().unwrap_or_default();
        Draft {
            name: employee.name.clone(),
            email: employee.email.clone(),
            title: employee.title.clone(),
            department: employee.department_id.to_string(),
            new_department: String::new(),
            manager: match (&employee.manager_name, manager_email) {
                (Some(name), Some(email)) => manager_pick(name, email),
                _ => String::new(),
            },
            location: employee.location.clone(),
            new_location: String::new(),
            work_phone: employee.work_phone.clone().unwrap_or_default(),
            start_date: format_date(employee.start_date),
            status: employee.status.as_str().to_string(),
            left_on: employee.left_on.map(format_date).unwrap_or_default(),
            effective_from: format_date(today.max(employee.start_date)),
            personal_email: private.personal_email.unwrap_or_default(),
            phone: private.phone.unwrap_or_default(),
            birth_date: private.birth_date.map(format_date).unwrap_or_default(),
            home_address: private.home_address.unwrap_or_default(),
            emergency_contact: private.emergency_contact.unwrap_or_default(),
        }
    }

    fn blank(today: NaiveDate) -> Draft {
        Draft {
            start_date: format_date(today),
            status: EmployeeStatus::Active.as_str().to_string(),
            ..Draft::default()
        }
    }
}

#[derive(Debug, FromForm)]
pub struct EmployeeFormFields {
    #[field(default = "")]
    name: String,
    #[field(default = "")]
    email: String,
    #[field(default = "")]
    title: String,
    #[field(default = "")]
    department: String,
    #[field(default = "")]
    new_department: String,
    #[field(default = "")]
    manager: String,
    #[field(default = "")]
    location: String,
    #[field(default = "")]
    new_location: String,
    #[field(default = "")]
    work_phone: String,
    #[field(default = "")]
    start_date: String,
    #[field(default = "")]
    status: String,
    #[field(default = "")]
    left_on: String,
    /// The day a job change takes effect (the edit form only; empty: today).
    #[field(default = "")]
    effective_from: String,
    #[field(default = "")]
    personal_email: String,
    #[field(default = "")]
    phone: String,
    #[field(default = "")]
    birth_date: String,
    #[field(default = "")]
    home_address: String,
    #[field(default = "")]
    emergency_contact: String,
    csrf_token: Secret<String>,
}

csrf_protected!(EmployeeFormFields);

impl EmployeeFormFields {
    fn draft(&self) -> EmployeeDraft<'_> {
        EmployeeDraft {
            name: &self.name,
            email: &self.email,
            title: &self.title,
            department: &self.department,
            new_department: &self.new_department,
            manager: &self.manager,
            location: &self.location,
            new_location: &self.new_location,
            work_phone: &self.work_phone,
            start_date: &self.start_date,
            status: &self.status,
            left_on: &self.left_on,
        }
    }

    fn private_draft(&self) -> PrivateDraft<'_> {
        PrivateDraft {
            personal_email: &self.personal_email,
            phone: &self.phone,
            birth_date: Some(&self.birth_date),
            home_address: &self.home_address,
            emergency_contact: &self.emergency_contact,
        }
    }

    fn into_draft(self) -> Draft {
        Draft {
            name: self.name,
            email: self.email,
            title: self.title,
            department: self.department,
            new_department: self.new_department,
            manager: self.manager,
            location: self.location,
            new_location: self.new_location,
            work_phone: self.work_phone,
            start_date: self.start_date,
            status: self.status,
            left_on: self.left_on,
            effective_from: self.effective_from,
            personal_email: self.personal_email,
            phone: self.phone,
            birth_date: self.birth_date,
            home_address: self.home_address,
            emergency_contact: self.emergency_contact,
        }
    }
}

/// The employee form, for a new employee (`editing` none) or an existing one, with what was typed
/// and what is wrong with it. `None` when the employee being edited does not exist.
async fn employee_form(
    status: Status,
    current: &CurrentSession,
    app: &App,
    editing: Option<EmployeeId>,
    draft: Option<Draft>,
    errors: BTreeMap<&'static str, String>,
) -> AppResult<(Status, Template)> {
    let Some(EmployeeFormData {
        employee,
        private,
        departments,
        managers,
        locations,
        manager_email,
    }) = people::employee_form(app, editing).await?
    else {
        return Err(AppError::NotFound);
    };
    let draft = match (draft, &employee) {
        (Some(draft), _) => draft,
        (None, Some(employee)) => Draft::of(
            employee,
            manager_email.as_deref(),
            private.as_ref(),
            app.today(),
        ),
        (None, None) => Draft::blank(app.today()),
    };
    let departments = department_options(departments, draft.department.parse().ok());
    // The picker's list: what a person types narrows it, the value is what is posted.
    let managers: Vec<SelectOption> = managers
        .into_iter()
        .map(|m| {
            let label = format!("{} — {}", m.name, m.title);
            SelectOption::new(manager_pick(&m.name, &m.email), label, false)
        })
        .collect();
    let mut draft = draft;
    let chosen_location = fold(draft.location.trim());
    // A place not on the list (typed into a script's post, or a list changed since) is shown
    // where a new one is typed, so a refused form loses nothing.
    if !chosen_location.is_empty()
        && draft.new_location.trim().is_empty()
        && !locations.iter().any(|l| fold(&l.name) == chosen_location)
    {
        draft.new_location = std::mem::take(&mut draft.location);
    }
    let locations: Vec<SelectOption> = locations
        .into_iter()
        .map(|l| {
            let selected = fold(&l.name) == chosen_location;
            SelectOption::new(&l.name, &l.name, selected)
        })
        .collect();
    // Someone leaves through "Offboard", which asks for the last day; the form offers "Left the
    // company" and the last day only for a record that already says so (to correct the day, or
    // to take a rehire back).
    let leaver =
        draft.status == EmployeeStatus::Terminated.as_str() || errors.contains_key("left_on");
    let statuses: Vec<SelectOption> = EmployeeStatus::ALL
        .into_iter()
        .filter(|s| leaver || *s != EmployeeStatus::Terminated)
        .map(|s| SelectOption::new(s.as_str(), s.label(), s.as_str() == draft.status))
        .collect();
    let heading = match editing {
        None => "Add an employee".to_string(),
        Some(_) => format!("Edit {}", draft.name),
    };
    Ok((
        status,
        Template::render(
            "employee_form.html",
            context! {
                layout: Layout::signed_in(current, None),
                csrf_token: current.csrf_token(),
                // The template spells out the form's action and the cancel link itself, so
                // the paths are not HTML-escaped into `&#x2F;` entities.
                employee_id: editing,
                initials: editing.map(|_| initials(&draft.name)),
                heading,
                leaver,
                draft,
                errors,
                departments,
                managers,
                locations,
                statuses,
            },
        ),
    ))
}

#[get("/admin/employees/new")]
async fn new_form(admin: Require<EditPeople>, app: &State<App>) -> AppResult<(Status, Template)> {
    let no_errors = BTreeMap::new();
    employee_form(Status::Ok, &admin.0.session, app, None, None, no_errors).await
}

#[get("/admin/employees/<id>/edit")]
async fn edit_form(
    admin: Require<EditPeople>,
    id: &str,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let id = Some(employee_id(id)?);
    let no_errors = BTreeMap::new();
    employee_form(Status::Ok, &admin.0.session, app, id, None, no_errors).await
}

type FormOutcome = AppResult<Either<NoticeRedirect, (Status, Template)>>;

/// Renders how saving went: to the profile when saved, the form again when refused.
async fn after_save(
    save: EmployeeSave,
    current: &CurrentSession,
    app: &App,
    editing: Option<EmployeeId>,
    fields: EmployeeFormFields,
) -> FormOutcome {
    let (id, message) = match save {
        EmployeeSave::Saved { id, name } if editing.is_none() => {
            (id, format!("{name} was added to the directory."))
        }
        // An unchanged record reads as saved, as before; it only writes no event.
        EmployeeSave::Saved { id, name } | EmployeeSave::Unchanged { id, name } => {
            (id, format!("{name}'s record was saved."))
        }
        EmployeeSave::NoSuchEmployee => return Err(AppError::NotFound),
        EmployeeSave::Invalid(InvalidEmployee(errors)) => {
            let status = Status::UnprocessableEntity;
            let draft = Some(fields.into_draft());
            let page = employee_form(status, current, app, editing, draft, errors).await?;
            return Ok(Either::Right(page));
        }
    };
    Ok(Either::Left(page::done(
        format!("/employees/{id}"),
        message,
    )))
}

#[post("/admin/employees/new", data = "<form>")]
async fn create(form: StaffForm<EditPeople, EmployeeFormFields>, app: &State<App>) -> FormOutcome {
    let (draft, private) = (form.form.draft(), form.form.private_draft());
    let save = people::add_employee(app, &form.actor, draft, private).await?;
    after_save(save, &form.staff.0.session, app, None, form.form).await
}

#[post("/admin/employees/<id>/edit", data = "<form>")]
async fn update(
    id: &str,
    form: StaffForm<EditPeople, EmployeeFormFields>,
    app: &State<App>,
) -> FormOutcome {
    let id = employee_id(id)?;
    let (draft, private) = (form.form.draft(), form.form.private_draft());
    let effective_from = &form.form.effective_from;
    let save = people::edit_employee(app, &form.actor, id, draft, private, effective_from).await?;
    after_save(save, &form.staff.0.session, app, Some(id), form.form).await
}

pub fn routes() -> Vec<Route> {
    routes![new_form, create, edit_form, update]
}
