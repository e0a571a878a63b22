//! The employee directory and profiles (everyone signed in); the profile shows the record with
//! its job history. Adding and editing employees is `routes::employee_form`, offboarding
//! `routes::offboard`.

use crate::users::Permission;

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::{AppError, AppResult};
use crate::app::lifecycle::{self, AccessStatus, AccountState};
use crate::app::people;
use crate::app::App;
use crate::auth::CurrentUser;
use crate::hr::employee::{JobPeriod, PrivateDetails};
use crate::hr::{
    display_date, format_date, short_date, Department, DirectoryQuery, DirectorySort, Employee,
    EmployeeStatus,
};
use crate::ids::{DepartmentId, EmployeeId};
use crate::text::{initials, search_term};
use crate::web::page::Notice;
use crate::web::page::{page_window, Layout, Pagination};
use crate::web::views::{Moment, SelectOption};

pub const EMPLOYEES_PER_PAGE: i64 = 25;

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
    /// Human form.
    pub started: String,
    pub status: &'static str,
    pub status_label: &'static str,
    /// ISO and human forms of the last day, for someone who left on a known day.
    pub left_on: Option<String>,
    pub left: Option<String>,
}

impl From<Employee> for EmployeeView {
    fn from(e: Employee) -> Self {
        EmployeeView {
            id: e.id,
            start_date: format_date(e.start_date),
            started: display_date(e.start_date),
            status: e.status.as_str(),
            status_label: e.status.label(),
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

/// The department filter's choices, `selected` marked.
pub(super) fn department_options(
    departments: Vec<Department>,
    selected: Option<DepartmentId>,
) -> Vec<SelectOption> {
    departments
        .into_iter()
        .map(|d| SelectOption::new(d.id, d.name, Some(d.id) == selected))
        .collect()
}

fn sort_options(current: DirectorySort) -> Vec<SelectOption> {
    DirectorySort::ALL
        .into_iter()
        .map(|s| SelectOption::new(s.as_str(), s.label(), s == current))
        .collect()
}

/// The directory's search, department and order as its query string gives them: the page and
/// its CSV export (`routes::exports`) read them alike.
pub struct DirectoryFilters {
    pub search: String,
    pub department: Option<DepartmentId>,
    pub sort: DirectorySort,
}

impl DirectoryFilters {
    pub fn parse(q: Option<&str>, department: Option<i64>, sort: Option<&str>) -> Self {
        DirectoryFilters {
            search: search_term(q),
            department: department.filter(|id| *id > 0).map(DepartmentId),
            sort: DirectorySort::parse(sort),
        }
    }
}

#[get("/employees?<q>&<department>&<sort>&<page>")]
async fn directory(
    user: CurrentUser,
    q: Option<&str>,
    department: Option<i64>,
    sort: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let DirectoryFilters {
        search,
        department,
        sort,
    } = DirectoryFilters::parse(q, department, sort);
    let (page, offset) = page_window(page, EMPLOYEES_PER_PAGE);
    let query = DirectoryQuery {
        search: &search,
        department,
        sort,
        limit: EMPLOYEES_PER_PAGE,
        offset,
    };
    let found = people::directory(app, &query).await?;
    let departments = department_options(found.departments, department);
    let filtered = !search.is_empty() || department.is_some();
    let department = department.map(|id| id.to_string()).unwrap_or_default();
    let pagination = Pagination::new(page, EMPLOYEES_PER_PAGE, found.total)
        .with_query("q", &search)
        .with_query("department", &department)
        .with_query("sort", sort.as_str());
    Ok(Template::render(
        "employees.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            can_edit: user.may(Permission::EditPeople),
            query: &search,
            department,
            sort: sort.as_str(),
            filtered,
            departments,
            sorts: sort_options(sort),
            employees: found.employees.into_iter().map(EmployeeView::from).collect::<Vec<_>>(),
            pagination,
        },
    ))
}

/// An employee id from the path. Anything that is not one names no employee: 404, like an
/// unknown number (Rocket would answer a malformed segment with 422).
pub(super) fn employee_id(raw: &str) -> AppResult<EmployeeId> {
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
    // Only those who manage access see (and change) whether the person can sign in.
    let access = match user.may(Permission::ManageAccess) {
        true => {
            let status = lifecycle::access_status(app, id).await?;
            Some(AccessView::new(status, app, &user))
        }
        false => None,
    };
    let can_edit = user.may(Permission::EditPeople);
    Ok(Template::render(
        "employee.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            can_edit,
            can_offboard: can_edit && found.employee.status != EmployeeStatus::Terminated,
            csrf_token: user.session.csrf_token(),
            access,
            initials: initials(&found.employee.name),
            work_phone: found.employee.work_phone.clone(),
            history: found.history.into_iter().map(JobPeriodView::from).collect::<Vec<_>>(),
            private: found.private.map(PrivateView::from),
            employee: EmployeeView::from(found.employee),
            manager: found.manager.map(EmployeeView::from),
            reports: found.reports.into_iter().map(EmployeeView::from).collect::<Vec<_>>(),
        },
    ))
}

/// One period of the job history as the profile lists it: the short date on the page, the exact
/// one in `<time datetime>`.
#[derive(Debug, Serialize)]
pub struct JobPeriodView {
    pub effective_from: String,
    pub from: String,
    pub title: String,
    pub department: String,
    pub manager_id: Option<EmployeeId>,
    pub manager: Option<String>,
    pub location: String,
}

impl From<JobPeriod> for JobPeriodView {
    fn from(p: JobPeriod) -> Self {
        JobPeriodView {
            effective_from: format_date(p.effective_from),
            from: short_date(p.effective_from),
            title: p.title,
            department: p.department_name,
            manager_id: p.manager_id,
            manager: p.manager_name,
            location: p.location,
        }
    }
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

pub fn routes() -> Vec<Route> {
    routes![directory, profile]
}
