//! The employee directory and profiles (everyone signed in), and adding and editing employees
//! (administrators; `AdminUser` guards those routes).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::auth::guard::{CsrfProtected, SessionForm};
use crate::auth::{AdminUser, CurrentSession, CurrentUser};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::hr::employee::ManagerChoice;
use crate::hr::{
    date_of, display_date, format_date, CompanyFiguresCache, Department, DirectoryQuery,
    DirectorySort, Employee, EmployeeDraft, EmployeeStatus, EmployeeWriteError, InvalidEmployee,
};
use crate::web::page::{self, page_window, Layout, Pagination};

pub const EMPLOYEES_PER_PAGE: i64 = 25;
/// Longest search term used; the rest of an oversized query string is ignored.
const MAX_SEARCH_CHARS: usize = 100;

/// A search term from the query string: bounded, single-line.
fn search_term(raw: Option<&str>) -> String {
    raw.unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SEARCH_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// An employee as tables, cards and lists show them.
#[derive(Debug, Serialize)]
pub struct EmployeeView {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub title: String,
    pub department_id: i64,
    pub department: String,
    pub manager_id: Option<i64>,
    pub manager: Option<String>,
    pub location: String,
    /// ISO form, for `<time datetime>`.
    pub start_date: String,
    /// Human form.
    pub started: String,
    pub status: &'static str,
    pub status_label: &'static str,
}

impl From<Employee> for EmployeeView {
    fn from(e: Employee) -> Self {
        EmployeeView {
            id: e.id,
            start_date: format_date(e.start_date),
            started: display_date(e.start_date),
            status: e.status.as_str(),
            status_label: e.status.label(),
            name: e.name,
            email: e.email,
            title: e.title,
            department_id: e.department_id,
            department: e.department_name,
            manager_id: e.manager_id,
            manager: e.manager_name,
            location: e.location,
        }
    }
}

#[derive(Debug, Serialize)]
struct SelectOption {
    value: String,
    label: String,
    selected: bool,
}

#[get("/employees?<q>&<department>&<sort>&<page>")]
async fn directory(
    user: CurrentUser,
    q: Option<&str>,
    department: Option<i64>,
    sort: Option<&str>,
    page: Option<i64>,
    db: &State<Db>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<Template> {
    let search = search_term(q);
    let sort = DirectorySort::parse(sort);
    let department = department.filter(|id| *id > 0);
    let (page, offset) = page_window(page, EMPLOYEES_PER_PAGE);
    let (employees, total) = Employee::search(
        db,
        &DirectoryQuery {
            search: &search,
            department,
            sort,
            limit: EMPLOYEES_PER_PAGE,
            offset,
        },
    )
    .await?;
    let departments: Vec<SelectOption> = Department::all(db)
        .await?
        .into_iter()
        .map(|d| SelectOption {
            selected: Some(d.id) == department,
            value: d.id.to_string(),
            label: d.name,
        })
        .collect();
    let sorts: Vec<SelectOption> = DirectorySort::ALL
        .into_iter()
        .map(|s| SelectOption {
            value: s.as_str().to_string(),
            label: s.label().to_string(),
            selected: s == sort,
        })
        .collect();
    let rows: Vec<EmployeeView> = employees.into_iter().map(EmployeeView::from).collect();
    Ok(Template::render(
        "employees.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            is_admin: user.is_admin(),
            query: &search,
            department: department.map(|id| id.to_string()).unwrap_or_default(),
            sort: sort.as_str(),
            filtered: !search.is_empty() || department.is_some(),
            departments,
            sorts,
            employees: rows,
            pagination: Pagination::new(page, EMPLOYEES_PER_PAGE, total),
        },
    ))
}

/// An employee id from the path. Anything that is not one names no employee: 404, like an
/// unknown number (Rocket would answer a malformed `i64` segment with 422).
fn employee_id(raw: &str) -> AppResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

#[get("/employees/<id>")]
async fn profile(
    user: CurrentUser,
    id: &str,
    db: &State<Db>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<Template> {
    let Some(employee) = Employee::find(db, employee_id(id)?).await? else {
        return Err(AppError::NotFound);
    };
    let reports: Vec<EmployeeView> = Employee::direct_reports(db, employee.id)
        .await?
        .into_iter()
        .map(EmployeeView::from)
        .collect();
    let manager = match employee.manager_id {
        Some(manager_id) => Employee::find(db, manager_id)
            .await?
            .map(EmployeeView::from),
        None => None,
    };
    Ok(Template::render(
        "employee.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            is_admin: user.is_admin(),
            employee: EmployeeView::from(employee),
            manager,
            reports,
        },
    ))
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
    start_date: String,
    status: String,
}

impl Draft {
    fn of(employee: &Employee) -> Draft {
        Draft {
            name: employee.name.clone(),
            email: employee.email.clone(),
            title: employee.title.clone(),
            department: employee.department_id.to_string(),
            new_department: String::new(),
            manager: employee
                .manager_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            location: employee.location.clone(),
            start_date: format_date(employee.start_date),
            status: employee.status.as_str().to_string(),
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
    start_date: String,
    #[field(default = "")]
    status: String,
    #[field(default = "")]
    csrf_token: String,
}

impl CsrfProtected for EmployeeFormFields {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

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
            start_date: &self.start_date,
            status: &self.status,
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
            start_date: self.start_date,
            status: self.status,
        }
    }
}

/// Which form is shown: a new employee, or an existing one (who cannot manage themselves).
#[derive(Debug, Clone, Copy)]
enum FormMode {
    New,
    Edit(i64),
}

async fn employee_form(
    status: Status,
    current: &CurrentSession,
    db: &Db,
    mode: FormMode,
    draft: Draft,
    errors: BTreeMap<&'static str, String>,
) -> AppResult<(Status, Template)> {
    let departments: Vec<SelectOption> = Department::all(db)
        .await?
        .into_iter()
        .map(|d| SelectOption {
            selected: d.id.to_string() == draft.department,
            value: d.id.to_string(),
            label: d.name,
        })
        .collect();
    let editing = match mode {
        FormMode::Edit(id) => Some(id),
        FormMode::New => None,
    };
    let managers: Vec<SelectOption> = Employee::manager_choices(db)
        .await?
        .into_iter()
        .filter(|m| Some(m.id) != editing)
        .map(|ManagerChoice { id, name, title }| SelectOption {
            selected: id.to_string() == draft.manager,
            value: id.to_string(),
            label: format!("{name} — {title}"),
        })
        .collect();
    let statuses: Vec<SelectOption> = EmployeeStatus::ALL
        .into_iter()
        .map(|s| SelectOption {
            value: s.as_str().to_string(),
            label: s.label().to_string(),
            selected: s.as_str() == draft.status,
        })
        .collect();
    let heading = match mode {
        FormMode::New => "Add an employee".to_string(),
        FormMode::Edit(_) => format!("Edit {}", draft.name),
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
                heading,
                draft,
                errors,
                departments,
                managers,
                statuses,
            },
        ),
    ))
}

#[get("/admin/employees/new")]
async fn new_form(
    admin: AdminUser,
    db: &State<Db>,
    clock: &State<Clock>,
) -> AppResult<(Status, Template)> {
    let today = date_of(clock.now());
    let draft = Draft::blank(today);
    employee_form(
        Status::Ok,
        &admin.0.session,
        db,
        FormMode::New,
        draft,
        BTreeMap::new(),
    )
    .await
}

type FormOutcome = AppResult<Either<Flash<Redirect>, (Status, Template)>>;

/// The form again with what was typed and what is wrong with it.
async fn refused(
    current: &CurrentSession,
    db: &Db,
    mode: FormMode,
    fields: EmployeeFormFields,
    invalid: InvalidEmployee,
) -> FormOutcome {
    employee_form(
        Status::UnprocessableEntity,
        current,
        db,
        mode,
        fields.into_draft(),
        invalid.0,
    )
    .await
    .map(Either::Right)
}

#[post("/admin/employees/new", data = "<form>")]
async fn create(
    _admin: AdminUser,
    form: SessionForm<EmployeeFormFields>,
    db: &State<Db>,
    company: &State<CompanyFiguresCache>,
) -> FormOutcome {
    let SessionForm {
        session: current,
        form: fields,
    } = form;
    let validated = fields.draft().validate();
    let checked = match validated {
        Ok(checked) => checked,
        Err(invalid) => return refused(&current, db, FormMode::New, fields, invalid).await,
    };
    match Employee::create(db, &checked).await {
        Ok(id) => {
            company.invalidate();
            Ok(Either::Left(page::done(
                format!("/employees/{id}"),
                format!("{} was added to the directory.", checked.name),
            )))
        }
        Err(EmployeeWriteError::Invalid(invalid)) => {
            refused(&current, db, FormMode::New, fields, invalid).await
        }
        Err(EmployeeWriteError::Database(e)) => Err(e.into()),
    }
}

#[get("/admin/employees/<id>/edit")]
async fn edit_form(admin: AdminUser, id: &str, db: &State<Db>) -> AppResult<(Status, Template)> {
    let id = employee_id(id)?;
    let Some(employee) = Employee::find(db, id).await? else {
        return Err(AppError::NotFound);
    };
    employee_form(
        Status::Ok,
        &admin.0.session,
        db,
        FormMode::Edit(id),
        Draft::of(&employee),
        BTreeMap::new(),
    )
    .await
}

#[post("/admin/employees/<id>/edit", data = "<form>")]
async fn update(
    _admin: AdminUser,
    id: &str,
    form: SessionForm<EmployeeFormFields>,
    db: &State<Db>,
    company: &State<CompanyFiguresCache>,
) -> FormOutcome {
    let SessionForm {
        session: current,
        form: fields,
    } = form;
    let id = employee_id(id)?;
    let mode = FormMode::Edit(id);
    // An unknown id is a 404 whatever was posted, not a form error.
    if Employee::find(db, id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let validated = fields.draft().validate();
    let checked = match validated {
        Ok(checked) => checked,
        Err(invalid) => return refused(&current, db, mode, fields, invalid).await,
    };
    match Employee::update(db, id, &checked).await {
        Ok(true) => {
            company.invalidate();
            Ok(Either::Left(page::done(
                format!("/employees/{id}"),
                format!("{}'s record was saved.", checked.name),
            )))
        }
        Ok(false) => Err(AppError::NotFound),
        Err(EmployeeWriteError::Invalid(invalid)) => {
            refused(&current, db, mode, fields, invalid).await
        }
        Err(EmployeeWriteError::Database(e)) => Err(e.into()),
    }
}

pub fn routes() -> Vec<Route> {
    routes![directory, profile, new_form, create, edit_form, update]
}
