//! The employee directory and profiles (everyone signed in), and adding and editing employees
//! (HR and administrators; `Require<EditPeople>` guards those routes).

use crate::auth::grants::EditPeople;
use crate::auth::Require;
use crate::users::Permission;
use crate::web::guards::StaffForm;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::{AppError, AppResult};
use crate::app::lifecycle::{self, AccessStatus, AccountState};
use crate::app::people::{self, EmployeeFormData, EmployeeSave};
use crate::app::App;
use crate::auth::{CurrentSession, CurrentUser};
use crate::hr::employee::visibility::sees_leave;
use crate::hr::employee::{PrivateDetails, PrivateDraft};
use crate::hr::{
    display_date, format_date, short_date, Department, DirectoryQuery, DirectorySort,
    DirectoryStatus, Employee, EmployeeDraft, EmployeeStatus, InvalidEmployee, SortColumn,
    Standing,
};
use crate::ids::{DepartmentId, EmployeeId};
use crate::secret::Secret;
use crate::text::search_term;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::DirectoryReader;
use crate::web::page::{self, page_window, Layout};
use crate::web::page::{Notice, NoticeRedirect};
use crate::web::table::{page_size, SortHeader, TableLinks};
use crate::web::views::{Moment, SelectOption};

/// An employee as tables, cards and lists show them.
#[derive(Debug, Serialize)]
pub struct EmployeeView {
    pub id: EmployeeId,
    pub name: String,
    pub email: String,
    pub title: String,
    pub department_id: DepartmentId,
    pub department: String,
    pub manager_id: Option<EmployeeId>,
    pub manager: Option<String>,
    pub location: String,
    /// ISO form, for `<time datetime>`.
    pub start_date: String,
    /// Human form, and the short one tables show ("12 Nov 2022").
    pub started: String,
    pub started_short: String,
    /// `hr::Standing`: `active`, `on_leave`, `leaving` or `left`, as the viewer may see it.
    pub status: &'static str,
    pub status_label: &'static str,
    /// ISO and human forms of the last day, for someone who left on a known day.
    pub left_on: Option<String>,
    pub left: Option<String>,
}

impl EmployeeView {
    /// The person as someone sees them today who may (`sees_leave`) or may not learn who is on
    /// leave (`hr::employee::visibility`).
    pub fn seen(e: Employee, today: NaiveDate, sees_leave: bool) -> EmployeeView {
        let standing = Standing::of(&e, today).as_seen(sees_leave);
        EmployeeView::with_standing(e, standing)
    }

    fn with_standing(e: Employee, standing: Standing) -> EmployeeView {
        EmployeeView {
            id: e.id,
            start_date: format_date(e.start_date),
            started: display_date(e.start_date),
            started_short: short_date(e.start_date),
            status: standing.as_str(),
            status_label: standing.label(),
            left_on: e.left_on.map(format_date),
            left: e.left_on.map(display_date),
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

/// The stored status as it is, for pages whose reader may see it (their own record, their team).
impl From<Employee> for EmployeeView {
    fn from(e: Employee) -> Self {
        let standing = match e.status {
            EmployeeStatus::Active => Standing::Active,
            EmployeeStatus::OnLeave => Standing::OnLeave,
            EmployeeStatus::Terminated => Standing::Left,
        };
        EmployeeView::with_standing(e, standing)
    }
}

/// The department filter's choices, `selected` marked.
fn department_options(
    departments: Vec<Department>,
    selected: Option<DepartmentId>,
) -> Vec<SelectOption> {
    departments
        .into_iter()
        .map(|d| SelectOption::new(d.id, d.name, Some(d.id) == selected))
        .collect()
}

/// The status filter's choices (shown only to those `DirectoryReader` lets filter).
fn status_options(current: DirectoryStatus) -> Vec<SelectOption> {
    DirectoryStatus::ALL
        .into_iter()
        .map(|s| SelectOption::new(s.as_str(), s.label(), s == current))
        .collect()
}

/// The directory's search, department and order as its query string gives them: the page and
/// its CSV export (`routes::exports`) read them alike. The status filter comes from the
/// `DirectoryReader` guard, which decides who may use it.
pub struct DirectoryFilters {
    pub search: String,
    pub department: Option<DepartmentId>,
    pub sort: DirectorySort,
}

impl DirectoryFilters {
    pub fn parse(
        q: Option<&str>,
        department: Option<i64>,
        sort: Option<&str>,
        dir: Option<&str>,
    ) -> Self {
        DirectoryFilters {
            search: search_term(q),
            department: department.filter(|id| *id > 0).map(DepartmentId),
            sort: DirectorySort::parse(sort, dir),
        }
    }
}

/// The directory's links: its filters, order and page size, kept by every header and page link.
fn directory_links(filters: &DirectoryFilters, status: DirectoryStatus, size: i64) -> TableLinks {
    let department = filters.department.map(|id| id.to_string());
    // The default status stays out of the links, so a plain directory link looks plain.
    let status = match status {
        DirectoryStatus::Current => "",
        other => other.as_str(),
    };
    TableLinks::new(
        "/employees",
        filters.sort.column.as_str(),
        filters.sort.descending,
    )
    .filter("q", &filters.search)
    .filter("department", department.as_deref().unwrap_or_default())
    .filter("status", status)
    .page_size(size)
}

/// The directory's column headers: name, department and start date sort; title and location
/// have no sort key that orders alike on both databases (see `hr::SortColumn`).
fn directory_headers(links: &TableLinks) -> Vec<SortHeader> {
    vec![
        links.header(SortColumn::Name.as_str(), "Name"),
        links.plain("Job title"),
        links.header(SortColumn::Department.as_str(), "Department"),
        links.plain("Location"),
        links.header(SortColumn::Start.as_str(), "Started"),
    ]
}

#[get("/employees?<q>&<department>&<status>&<sort>&<dir>&<size>&<page>")]
#[allow(clippy::too_many_arguments)]
async fn directory(
    reader: DirectoryReader,
    q: Option<&str>,
    department: Option<i64>,
    status: Option<&str>,
    sort: Option<&str>,
    dir: Option<&str>,
    size: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    // Read, and allowed or refused, by the `DirectoryReader` guard.
    let _ = status;
    let DirectoryReader {
        user,
        status,
        sees_leave,
    } = reader;
    let filters = DirectoryFilters::parse(q, department, sort, dir);
    let size = page_size(size)?;
    let (page, offset) = page_window(page, size);
    let today = app.today();
    let query = DirectoryQuery {
        search: &filters.search,
        department: filters.department,
        status,
        today,
        sort: filters.sort,
        limit: size,
        offset,
    };
    let found = people::directory(app, &query).await?;
    let links = directory_links(&filters, status, size);
    let filtered = !filters.search.is_empty()
        || filters.department.is_some()
        || status != DirectoryStatus::Current;
    Ok(Template::render(
        "employees.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            can_edit: user.may(Permission::EditPeople),
            query: &filters.search,
            filtered,
            departments: department_options(found.departments, filters.department),
            statuses: sees_leave.then(|| status_options(status)),
            headers: directory_headers(&links),
            export_query: links.filters_and_order().as_str(),
            sort: filters.sort.column.as_str(),
            dir: filters.sort.direction(),
            size,
            employees: found
                .employees
                .into_iter()
                .map(|e| EmployeeView::seen(e, today, sees_leave))
                .collect::<Vec<_>>(),
            pagination: links.pagination(page, size, found.total),
        },
    ))
}

/// An employee id from the path. Anything that is not one names no employee: 404, like an
/// unknown number (Rocket would answer a malformed segment with 422).
fn employee_id(raw: &str) -> AppResult<EmployeeId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[get("/employees/<id>")]
async fn profile(
    user: CurrentUser,
    id: &str,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let id = employee_id(id)?;
    let Some(found) = people::profile(app, &user, id).await? else {
        return Err(AppError::NotFound);
    };
    let today = app.today();
    let sees_private = found.sees_private;
    // Only those who manage access see (and change) whether the person can sign in.
    let access = match user.may(Permission::ManageAccess) {
        true => {
            let status = lifecycle::access_status(app, id).await?;
            Some(AccessView::new(status, app, &user))
        }
        false => None,
    };
    Ok(Template::render(
        "employee.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            can_edit: user.may(Permission::EditPeople),
            csrf_token: user.session.csrf_token(),
            access,
            private: found.private.map(PrivateView::from),
            employee: EmployeeView::seen(found.employee, today, sees_private),
            // Seeing the person's details means being above them, so above their reports too;
            // their manager is another person, seen as lists see people.
            manager: found.manager.map(|m| EmployeeView::seen(m, today, sees_leave(user.role))),
            reports: found
                .reports
                .into_iter()
                .map(|e| EmployeeView::seen(e, today, sees_private))
                .collect::<Vec<_>>(),
        },
    ))
}

/// Private details as the profile shows them (only ever built from what the visibility rule let
/// the use case load).
#[derive(Debug, Serialize)]
pub struct PrivateView {
    pub personal_email: Option<String>,
    pub phone: Option<String>,
    /// ISO and human forms of the date of birth.
    pub birth_date: Option<String>,
    pub born: Option<String>,
    pub home_address: Option<String>,
    pub emergency_contact: Option<String>,
}

impl From<PrivateDetails> for PrivateView {
    fn from(p: PrivateDetails) -> Self {
        PrivateView {
            birth_date: p.birth_date.map(format_date),
            born: p.birth_date.map(display_date),
            personal_email: p.personal_email,
            phone: p.phone,
            home_address: p.home_address,
            emergency_contact: p.emergency_contact,
        }
    }
}

/// Where the person's account stands, as the profile shows administrators.
#[derive(Debug, Serialize)]
struct AccessView {
    /// `none`, `invited`, `active`, `disabled` or `locked`.
    state: &'static str,
    label: &'static str,
    email: Option<String>,
    live_sessions: i64,
    last_sign_in: Option<Moment>,
    /// "Give access" applies (no account, or a disabled one).
    can_give: bool,
    /// "End access now" applies (an enabled account).
    can_end: bool,
}

impl AccessView {
    fn new(status: AccessStatus, app: &App, viewer: &CurrentUser) -> AccessView {
        let now = app.clock.now();
        let (state, label) = match status.state {
            AccountState::None => ("none", "No account"),
            AccountState::Invited => ("invited", "Invited, no password chosen yet"),
            AccountState::Active => ("active", "Active"),
            AccountState::Disabled => ("disabled", "Disabled: cannot sign in"),
            AccountState::Locked => ("locked", "Locked after failed sign-ins"),
        };
        let account = status.account;
        AccessView {
            state,
            label,
            // An invitation creates an account: administrators only.
            can_give: viewer.may(Permission::ManageAccounts)
                && matches!(status.state, AccountState::None | AccountState::Disabled),
            can_end: account.as_ref().is_some_and(|a| !a.disabled),
            email: account.as_ref().map(|a| a.email.clone()),
            last_sign_in: account
                .and_then(|a| a.last_sign_in_at)
                .map(|at| Moment::at(at, now)),
            live_sessions: status.live_sessions,
        }
    }
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
    left_on: String,
    personal_email: String,
    phone: String,
    birth_date: String,
    home_address: String,
    emergency_contact: String,
}

impl Draft {
    fn of(employee: &Employee, private: Option<&PrivateDetails>) -> Draft {
        let private = private.cloned().unwrap_or_default();
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
            left_on: employee.left_on.map(format_date).unwrap_or_default(),
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
    start_date: String,
    #[field(default = "")]
    status: String,
    #[field(default = "")]
    left_on: String,
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
            start_date: self.start_date,
            status: self.status,
            left_on: self.left_on,
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
    }) = people::employee_form(app, editing).await?
    else {
        return Err(AppError::NotFound);
    };
    let draft = match (draft, &employee) {
        (Some(draft), _) => draft,
        (None, Some(employee)) => Draft::of(employee, private.as_ref()),
        (None, None) => Draft::blank(app.today()),
    };
    let departments = department_options(departments, draft.department.parse().ok());
    let managers: Vec<SelectOption> = managers
        .into_iter()
        .map(|m| {
            let label = format!("{} — {}", m.name, m.title);
            SelectOption::new(m.id, label, m.id.to_string() == draft.manager)
        })
        .collect();
    let statuses: Vec<SelectOption> = EmployeeStatus::ALL
        .into_iter()
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
        uri!(profile(id.to_string())),
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
    let save = people::edit_employee(app, &form.actor, id, draft, private).await?;
    after_save(save, &form.staff.0.session, app, Some(id), form.form).await
}

pub fn routes() -> Vec<Route> {
    routes![directory, profile, new_form, create, edit_form, update]
}
