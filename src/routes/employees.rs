//! The employee directory and profiles (everyone signed in); the profile shows the record with
//! its job history. Adding and editing employees is `routes::employee_form`, offboarding
//! `routes::offboard`.

use crate::users::Permission;

use chrono::NaiveDate;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::{AppError, AppResult};
use crate::app::lifecycle::{self, AccessStatus, AccountState};
use crate::app::people;
use crate::app::App;
use crate::auth::CurrentUser;
use crate::hr::employee::visibility::sees_leave;
use crate::hr::employee::{JobPeriod, PrivateDetails};
use crate::hr::{
    display_date, format_date, short_date, Department, DirectoryQuery, DirectorySort,
    DirectoryStatus, Employee, EmployeeStatus, SortColumn, Standing,
};
use crate::ids::{DepartmentId, EmployeeId};
use crate::text::{initials, search_term};
use crate::web::guards::DirectoryReader;
use crate::web::page::Notice;
use crate::web::page::{page_window, Layout};
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
    /// "AL" for Ada Lovelace: the avatar beside the name.
    pub initials: String,
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
            initials: initials(&e.name),
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
pub(super) fn department_options(
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
