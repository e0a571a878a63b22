//! Use cases around people: adding and editing employees (with an event that says what changed,
//! and one for a department the edit created), the directory, profiles, the dashboard and the
//! demo company.

use std::sync::Arc;

use super::{lifecycle, Actor, App};
use crate::app::error::AppResult;
use crate::audit::{self, Event, EventKind};
use crate::auth::{session, CurrentUser};
use crate::hr::employee::history::parse_effective_from;
use crate::hr::employee::visibility::may_see_private;
use crate::hr::employee::{
    CheckedEmployee, JobPeriod, ManagerChoice, PrivateDetails, PrivateDraft, ResolvedDepartment,
};
use crate::hr::{
    begin_hr_write, CompanyFigures, Department, DirectoryQuery, Employee, EmployeeDraft,
    EmployeeFields, EmployeeWriteError, InvalidEmployee, Location,
};
use crate::ids::{DepartmentId, EmployeeId};
use crate::users::devices::KnownDevice;

/// How saving an employee went.
#[derive(Debug)]
pub enum EmployeeSave {
    Saved {
        id: EmployeeId,
        name: String,
    },
    /// An edit that changed nothing: nothing written, no event.
    Unchanged {
        id: EmployeeId,
        name: String,
    },
    /// Nothing was written; per-field messages for the form.
    Invalid(InvalidEmployee),
    NoSuchEmployee,
}

pub(super) fn employee_event(actor: &Actor, kind: EventKind, id: EmployeeId, name: &str) -> Event {
    actor.event(kind).detail(format!("employee #{id} {name}"))
}

/// The event for a department that a write created on the way.
async fn record_new_department(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    department: &ResolvedDepartment,
    now: i64,
) -> AppResult<()> {
    if let Some(name) = &department.created {
        audit::record(conn, now, department_event(actor, department.id, name)).await?;
    }
    Ok(())
}

/// The event for a department created on the way (by the form or an import).
pub(super) fn department_event(actor: &Actor, id: DepartmentId, name: &str) -> Event {
    actor
        .event(EventKind::DepartmentCreated)
        .detail(format!("department #{id} {name}"))
}

/// The checked form's manager and location found inside `conn`'s transaction: the manager by
/// work e-mail, the location in its listed spelling (a name already on the list, in any case,
/// is that place) or added to the list with its event. The fields, ready to write.
async fn find_picks(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    checked: CheckedEmployee,
    now: i64,
) -> AppResult<Result<EmployeeFields, InvalidEmployee>> {
    let CheckedEmployee {
        mut fields,
        manager,
    } = checked;
    fields.manager_id = match Employee::find_manager(conn, &manager).await? {
        Ok(id) => id,
        Err(invalid) => return Ok(Err(invalid)),
    };
    let (location, created) = Location::find_or_create(conn, &fields.location).await?;
    if created {
        let event = actor
            .event(EventKind::LocationCreated)
            .detail(format!("location {}", location.name));
        audit::record(conn, now, event).await?;
    }
    fields.location = location.name;
    Ok(Ok(fields))
}

/// Both parts of the employee form checked at once, every problem reported (the private part's
/// date of birth bounded by today).
fn validate_form(
    app: &App,
    draft: EmployeeDraft<'_>,
    private: PrivateDraft<'_>,
) -> Result<(CheckedEmployee, PrivateDetails), InvalidEmployee> {
    match (draft.validate(), private.validate(app.today(), None)) {
        (Ok(fields), Ok(private)) => Ok((fields, private)),
        (work, private) => {
            let mut errors = work.err().unwrap_or_default();
            errors.0.extend(private.err().unwrap_or_default().0);
            Err(errors)
        }
    }
}

/// Undoes a change that was refused, and says why.
async fn refused(tx: crate::db::WriteTx, invalid: InvalidEmployee) -> AppResult<EmployeeSave> {
    tx.rollback().await?;
    Ok(EmployeeSave::Invalid(invalid))
}

/// Adds an employee (HR and administrators). The event names the private fields given, never their
/// values.
pub async fn add_employee(
    app: &App,
    actor: &Actor,
    draft: EmployeeDraft<'_>,
    private: PrivateDraft<'_>,
) -> AppResult<EmployeeSave> {
    let (checked, private) = match validate_form(app, draft, private) {
        Ok(checked) => checked,
        Err(invalid) => return Ok(EmployeeSave::Invalid(invalid)),
    };
    let mut tx = begin_hr_write(&app.db).await?;
    actor.confirm(&mut tx).await?;
    let now = app.clock.now();
    let fields = match find_picks(&mut tx, actor, checked, now).await? {
        Ok(fields) => fields,
        Err(invalid) => return refused(tx, invalid).await,
    };
    let (id, department) = match Employee::create(&mut tx, &fields).await {
        Ok(created) => created,
        Err(EmployeeWriteError::Invalid(invalid)) => return refused(tx, invalid).await,
        Err(EmployeeWriteError::Database(e)) => return Err(e.into()),
    };
    private.save(&mut tx, id).await?;
    record_new_department(&mut tx, actor, &department, now).await?;
    let mut event = employee_event(actor, EventKind::EmployeeCreated, id, &fields.name);
    if let Some(given) = private.describe_given() {
        event = event.detail(given);
    }
    audit::record(&mut tx, now, event).await?;
    lifecycle::settle_access(&mut tx, app, actor, id, now).await?;
    tx.commit().await?;
    app.company.invalidate();
    Ok(EmployeeSave::Saved {
        id,
        name: fields.name,
    })
}

/// Changes an employee (administrators). The event lists each work field that changed, old →
/// new, and only the names of the private fields that changed ("changed phone"). A new title,
/// department, manager or location takes effect on `effective_from` (empty: today), and the job
/// history keeps the old one with its dates.
pub async fn edit_employee(
    app: &App,
    actor: &Actor,
    id: EmployeeId,
    draft: EmployeeDraft<'_>,
    private: PrivateDraft<'_>,
    effective_from: &str,
) -> AppResult<EmployeeSave> {
    let mut tx = begin_hr_write(&app.db).await?;
    actor.confirm(&mut tx).await?;
    // An unknown id is "not found" whatever was posted, not a form error.
    let Some(before) = Employee::find(&mut tx, id).await? else {
        tx.rollback().await?;
        return Ok(EmployeeSave::NoSuchEmployee);
    };
    let (checked, private) = match validate_form(app, draft, private) {
        Ok(checked) => checked,
        Err(invalid) => return refused(tx, invalid).await,
    };
    let current_since = JobPeriod::current_since(&mut tx, id).await?;
    let start = checked.fields.start_date;
    let effective_from =
        match parse_effective_from(effective_from, start, current_since, app.today()) {
            Ok(day) => day,
            Err(message) => {
                let invalid = InvalidEmployee::one("effective_from", message);
                return refused(tx, invalid).await;
            }
        };
    let now = app.clock.now();
    let fields = match find_picks(&mut tx, actor, checked, now).await? {
        Ok(fields) => fields,
        Err(invalid) => return refused(tx, invalid).await,
    };
    let private_before = PrivateDetails::for_employee(&mut tx, id)
        .await?
        .unwrap_or_default();
    let department = match Employee::update(&mut tx, id, &fields, effective_from).await {
        Ok(Some(department)) => department,
        Ok(None) => {
            tx.rollback().await?;
            return Ok(EmployeeSave::NoSuchEmployee);
        }
        Err(EmployeeWriteError::Invalid(invalid)) => return refused(tx, invalid).await,
        Err(EmployeeWriteError::Database(e)) => return Err(e.into()),
    };
    let Some(after) = Employee::find(&mut tx, id).await? else {
        tx.rollback().await?;
        return Ok(EmployeeSave::NoSuchEmployee);
    };
    private.save(&mut tx, id).await?;
    let mut changes = before.changes_to(&after);
    changes.extend(PrivateDetails::describe_changes(
        &private_before.changed_fields(&private),
    ));
    if changes.is_empty() {
        tx.rollback().await?;
        return Ok(EmployeeSave::Unchanged {
            id,
            name: after.name,
        });
    }
    record_new_department(&mut tx, actor, &department, now).await?;
    let event = employee_event(actor, EventKind::EmployeeUpdated, id, &after.name)
        .detail(changes.join("; "));
    audit::record(&mut tx, now, event).await?;
    lifecycle::settle_access(&mut tx, app, actor, id, now).await?;
    tx.commit().await?;
    app.company.invalidate();
    Ok(EmployeeSave::Saved {
        id,
        name: after.name,
    })
}

/// One page of the directory, its total, and the departments for the filter.
pub struct DirectoryPage {
    pub employees: Vec<Employee>,
    pub total: i64,
    pub departments: Vec<Department>,
}

pub async fn directory(app: &App, query: &DirectoryQuery<'_>) -> AppResult<DirectoryPage> {
    let mut conn = app.db.read().await?;
    let (employees, total) = Employee::search(&mut conn, query).await?;
    let departments = Department::all(&mut conn).await?;
    Ok(DirectoryPage {
        employees,
        total,
        departments,
    })
}

/// A profile: the person, their manager and their direct reports, and their private details
/// when the viewer may see them.
pub struct Profile {
    pub employee: Employee,
    pub manager: Option<Employee>,
    pub reports: Vec<Employee>,
    /// Loaded only when `visibility::may_see_private` says yes for this viewer.
    pub private: Option<PrivateDetails>,
    /// What `visibility::may_see_private` said: also whether the viewer may learn that this
    /// person (or anyone below them) is on leave.
    pub sees_private: bool,
    /// Their job over time, newest first: work information, shown to everyone like the
    /// current title and manager.
    pub history: Vec<JobPeriod>,
}

pub async fn profile(
    app: &App,
    viewer: &CurrentUser,
    id: EmployeeId,
) -> AppResult<Option<Profile>> {
    let mut conn = app.db.read().await?;
    let Some(employee) = Employee::find(&mut conn, id).await? else {
        return Ok(None);
    };
    let sees_private = may_see_private(&mut conn, viewer.id, viewer.role, id).await?;
    let private = match sees_private {
        true => PrivateDetails::for_employee(&mut conn, id).await?,
        false => None,
    };
    let reports = Employee::direct_reports(&mut conn, id).await?;
    let manager = match employee.manager_id {
        Some(manager_id) => Employee::find(&mut conn, manager_id).await?,
        None => None,
    };
    let history = JobPeriod::for_employee(&mut conn, id).await?;
    Ok(Some(Profile {
        employee,
        manager,
        reports,
        private,
        sees_private,
        history,
    }))
}

/// What the employee form offers, and the record being edited (for an edit).
pub struct EmployeeFormData {
    pub employee: Option<Employee>,
    /// The edited record's private details: the form is behind the guard of those who edit
    /// people, and every role that may edit people may see private details.
    pub private: Option<PrivateDetails>,
    pub departments: Vec<Department>,
    pub managers: Vec<ManagerChoice>,
    pub locations: Vec<Location>,
    /// The edited record's manager's work e-mail (what the picker shows them by), even when
    /// that manager has since left and is no longer offered.
    pub manager_email: Option<String>,
}

/// The form's choices; for `editing`, also that record (`None` when it does not exist).
pub async fn employee_form(
    app: &App,
    editing: Option<EmployeeId>,
) -> AppResult<Option<EmployeeFormData>> {
    let mut conn = app.db.read().await?;
    let employee = match editing {
        Some(id) => match Employee::find(&mut conn, id).await? {
            Some(employee) => Some(employee),
            None => return Ok(None),
        },
        None => None,
    };
    let private = match editing {
        Some(id) => PrivateDetails::for_employee(&mut conn, id).await?,
        None => None,
    };
    let departments = Department::all(&mut conn).await?;
    let managers = Employee::manager_choices(&mut conn)
        .await?
        .into_iter()
        .filter(|m| Some(m.id) != editing)
        .collect();
    let locations = Location::all(&mut conn).await?;
    let manager_email = match employee.as_ref().and_then(|e| e.manager_id) {
        Some(manager) => Employee::find(&mut conn, manager).await?.map(|m| m.email),
        None => None,
    };
    Ok(Some(EmployeeFormData {
        employee,
        private,
        departments,
        managers,
        locations,
        manager_email,
    }))
}

/// Everything the dashboard shows beyond the session itself.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The company at a glance, shared by every viewer.
    pub company: Arc<CompanyFigures>,
    /// The signed-in person's employee record, when their account is linked to one.
    pub profile: Option<Employee>,
    pub session_count: i64,
    /// Sign-ins from browsers new to the account that the person has not dismissed yet.
    pub new_devices: Vec<KnownDevice>,
    /// For administrators only: what needs their attention now.
    pub security: Option<SecurityFigures>,
    /// The people the viewer works with, when their account is linked to a record.
    pub circle: Option<crate::hr::circle::WorkCircle>,
    /// For HR (whoever may edit people): what needs doing.
    pub attention: Option<crate::hr::attention::HrAttention>,
}

/// The administrator's figures on the dashboard, each answered by its admin page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityFigures {
    pub live_sessions: i64,
    /// Failed sign-ins within the last `FAILED_SIGN_IN_WINDOW` seconds.
    pub failed_sign_ins: i64,
    /// Accounts refused sign-in right now after too many failures.
    pub locked_accounts: i64,
}

/// How far back the dashboard counts failed sign-ins: a day.
pub const FAILED_SIGN_IN_WINDOW: i64 = 24 * 60 * 60;

pub async fn dashboard(app: &App, user: &CurrentUser) -> AppResult<Dashboard> {
    let now = app.clock.now();
    let key = (user.id, app.calendar.date_at(now));
    // Read before the database (see `crate::cache::generation`).
    let generation = app.db.generation.read();
    if let Some(mut cached) = generation.and_then(|g| app.dashboards.get(&key, g)) {
        cached.security = security_figures(app, user, now).await?;
        return Ok(cached);
    }
    let mut conn = app.db.read().await?;
    let live = app.limits.live_at(now);
    let session_count = session::count_for_user(&mut conn, user.id, live).await?;
    let company = app.company.get(&mut conn, key.1).await?;
    let profile = Employee::for_user(&mut conn, user.id).await?;
    let new_devices = KnownDevice::unacknowledged(&mut conn, user.id, now).await?;
    let circle = match &profile {
        Some(me) => Some(crate::hr::circle::WorkCircle::of(&mut conn, me).await?),
        None => None,
    };
    let attention = if user.may(crate::users::Permission::EditPeople) {
        Some(crate::hr::attention::HrAttention::load(&mut conn, key.1).await?)
    } else {
        None
    };
    let mut dashboard = Dashboard {
        company,
        profile,
        session_count,
        new_devices,
        security: None,
        circle,
        attention,
    };
    if let Some(generation) = generation {
        app.dashboards.put(key, generation, dashboard.clone());
    }
    drop(conn);
    dashboard.security = security_figures(app, user, now).await?;
    Ok(dashboard)
}

/// The administrator's figures (none for anyone else), from the shared slot while it is fresh.
async fn security_figures(
    app: &App,
    user: &CurrentUser,
    now: i64,
) -> AppResult<Option<SecurityFigures>> {
    if !user.may(crate::users::Permission::ManageAccess) {
        return Ok(None);
    }
    if let Some(figures) = app.security_figures.get() {
        return Ok(Some(figures));
    }
    let figures = load_security_figures(app, &mut *app.db.read().await?, now).await?;
    app.security_figures.set(figures);
    Ok(Some(figures))
}

async fn load_security_figures(
    app: &App,
    conn: &mut sqlx::AnyConnection,
    now: i64,
) -> AppResult<SecurityFigures> {
    let live = app.limits.live_at(now);
    Ok(SecurityFigures {
        live_sessions: session::counts(conn, "", live).await?.live_sessions,
        failed_sign_ins: audit::count_since(
            conn,
            EventKind::LoginFailed,
            now - FAILED_SIGN_IN_WINDOW,
        )
        .await?,
        locked_accounts: app.throttle.locked_account_count(conn, now).await?,
    })
}
