//! Employees: the type, its validation, and the queries that search, load and change it.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sqlx::{AnyConnection, FromRow};

use super::department::{parse_department_name, Department};
use super::{decode_date, display_date, format_date, parse_date};
use crate::db::is_unique_violation;
use crate::ids::{DepartmentId, EmployeeId, UserId};
use crate::text::{fold, like_pattern};
use crate::users::{parse_name, Email};

/// Longest job title and location accepted.
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_LOCATION_CHARS: usize = 100;

/// Where someone stands with the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmployeeStatus {
    Active,
    OnLeave,
    Terminated,
}

impl EmployeeStatus {
    pub const ALL: [EmployeeStatus; 3] = [
        EmployeeStatus::Active,
        EmployeeStatus::OnLeave,
        EmployeeStatus::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmployeeStatus::Active => "active",
            EmployeeStatus::OnLeave => "on_leave",
            EmployeeStatus::Terminated => "terminated",
        }
    }

    /// The stored or posted form; anything else is `None`.
    pub fn parse(value: &str) -> Option<EmployeeStatus> {
        EmployeeStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            EmployeeStatus::Active => "Active",
            EmployeeStatus::OnLeave => "On leave",
            EmployeeStatus::Terminated => "Left the company",
        }
    }
}

/// An employee with the names of their department and manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub id: EmployeeId,
    pub name: String,
    pub email: String,
    pub title: String,
    pub department_id: DepartmentId,
    pub department_name: String,
    pub manager_id: Option<EmployeeId>,
    pub manager_name: Option<String>,
    pub location: String,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// The last day with the company, for someone who left (unknown for people marked as left
    /// before leaving days were recorded).
    pub left_on: Option<NaiveDate>,
}

#[derive(FromRow)]
struct EmployeeRow {
    id: EmployeeId,
    name: String,
    email: String,
    title: String,
    department_id: DepartmentId,
    department_name: String,
    manager_id: Option<EmployeeId>,
    manager_name: Option<String>,
    location: String,
    start_date: String,
    status: String,
    left_on: Option<String>,
}

impl TryFrom<EmployeeRow> for Employee {
    type Error = sqlx::Error;

    fn try_from(row: EmployeeRow) -> Result<Self, sqlx::Error> {
        Ok(Employee {
            start_date: decode_date(&row.start_date)?,
            left_on: row.left_on.as_deref().map(decode_date).transpose()?,
            // The CHECK constraint allows only the three; anything else is corruption, reported.
            status: EmployeeStatus::parse(&row.status).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown stored status {:?}", row.status).into())
            })?,
            id: row.id,
            name: row.name,
            email: row.email,
            title: row.title,
            department_id: row.department_id,
            department_name: row.department_name,
            manager_id: row.manager_id,
            manager_name: row.manager_name,
            location: row.location,
        })
    }
}

fn decode_all(rows: Vec<EmployeeRow>) -> Result<Vec<Employee>, sqlx::Error> {
    rows.into_iter().map(Employee::try_from).collect()
}

/// How the directory is ordered. Each variant is one fixed SQL statement: sort keys from the
/// query string only ever choose among them, never reach the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirectorySort {
    #[default]
    Name,
    Department,
    /// Longest-serving first.
    StartDate,
    /// Most recent hires first.
    StartDateDesc,
}

/// Binds an employee's eleven stored columns ($1..$11, in the order the INSERT and UPDATE name them),
/// so the two statements cannot drift apart.
trait BindEmployee<'q>: Sized {
    fn bind_value<T>(self, value: T) -> Self
    where
        T: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>;

    fn bind_employee(self, fields: &EmployeeFields, department_id: DepartmentId) -> Self {
        self.bind_value(fields.name.clone())
            .bind_value(fold(&fields.name))
            .bind_value(search_text(&fields.name, &fields.title))
            .bind_value(fields.email.clone())
            .bind_value(fields.title.clone())
            .bind_value(department_id)
            .bind_value(fields.manager_id)
            .bind_value(fields.location.clone())
            .bind_value(format_date(fields.start_date))
            .bind_value(fields.status.as_str().to_string())
            .bind_value(fields.left_on.map(format_date))
    }
}

impl<'q> BindEmployee<'q> for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    fn bind_value<T>(self, value: T) -> Self
    where
        T: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.bind(value)
    }
}

impl<'q, O> BindEmployee<'q>
    for sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
{
    fn bind_value<T>(self, value: T) -> Self
    where
        T: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.bind(value)
    }
}

/// What an [`Employee`] is loaded from: its columns with its department's and manager's names.
/// Every statement that loads employees starts with this, so the row shape cannot drift.
macro_rules! employee_select {
    () => {
        "SELECT e.id, e.name, e.email, e.title, e.department_id, d.name AS department_name, \
                e.manager_id, m.name AS manager_name, e.location, e.start_date, e.status, \
                e.left_on \
         FROM employees e JOIN departments d ON d.id = e.department_id \
         LEFT JOIN employees m ON m.id = e.manager_id "
    };
}

/// The directory filter ($1 department id or 0 for all, $2 the LIKE pattern).
macro_rules! directory_filter {
    () => {
        "WHERE ($1 = 0 OR e.department_id = $1) \
           AND (e.search_key LIKE $2 ESCAPE '\\' OR d.name_key LIKE $2 ESCAPE '\\') "
    };
}

/// The directory query with one of the fixed orderings: still one static SQL string per sort
/// (built at compile time), never a string assembled from input.
macro_rules! directory_query {
    ($order:literal) => {
        concat!(
            employee_select!(),
            directory_filter!(),
            $order,
            " LIMIT $3 OFFSET $4"
        )
    };
}

impl DirectorySort {
    pub const ALL: [DirectorySort; 4] = [
        DirectorySort::Name,
        DirectorySort::Department,
        DirectorySort::StartDate,
        DirectorySort::StartDateDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DirectorySort::Name => "name",
            DirectorySort::Department => "department",
            DirectorySort::StartDate => "start",
            DirectorySort::StartDateDesc => "start_desc",
        }
    }

    /// Unknown keys fall back to the default order rather than failing the page.
    pub fn parse(value: Option<&str>) -> DirectorySort {
        value
            .and_then(|v| DirectorySort::ALL.into_iter().find(|s| s.as_str() == v))
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            DirectorySort::Name => "Name",
            DirectorySort::Department => "Department",
            DirectorySort::StartDate => "Start date (earliest first)",
            DirectorySort::StartDateDesc => "Start date (newest first)",
        }
    }

    // In every variant: $1 department id or 0 for all, $2 the LIKE pattern ('%%' matches all),
    // $3 limit, $4 offset. The trailing id makes the order total, so pages never overlap.
    fn sql(self) -> &'static str {
        match self {
            DirectorySort::Name => directory_query!("ORDER BY e.name_key, e.id"),
            DirectorySort::Department => directory_query!("ORDER BY d.name_key, e.name_key, e.id"),
            DirectorySort::StartDate => directory_query!("ORDER BY e.start_date, e.id"),
            DirectorySort::StartDateDesc => {
                directory_query!("ORDER BY e.start_date DESC, e.id DESC")
            }
        }
    }
}

/// One directory request: a free-text search over name, title and department, an optional
/// department, an order and a page window.
#[derive(Debug, Clone)]
pub struct DirectoryQuery<'a> {
    pub search: &'a str,
    pub department: Option<DepartmentId>,
    pub sort: DirectorySort,
    pub limit: i64,
    pub offset: i64,
}

/// Which department a new or edited employee belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepartmentChoice {
    Existing(DepartmentId),
    /// A department typed into the form; created unless one with that name exists.
    New(String),
}

/// A checked employee, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeFields {
    pub name: String,
    pub email: String,
    pub title: String,
    pub department: DepartmentChoice,
    pub manager_id: Option<EmployeeId>,
    pub location: String,
    pub start_date: NaiveDate,
    pub status: EmployeeStatus,
    /// Set exactly when `status` is `Terminated`.
    pub left_on: Option<NaiveDate>,
}

/// The form fields exactly as posted.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmployeeDraft<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub title: &'a str,
    pub department: &'a str,
    pub new_department: &'a str,
    pub manager: &'a str,
    pub location: &'a str,
    pub start_date: &'a str,
    pub status: &'a str,
    /// The leaving day; read only when `status` says the person left.
    pub left_on: &'a str,
}

/// What is wrong with a draft, per form field (field name → message for people).
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("the employee form has {} invalid field(s)", .0.len())]
pub struct InvalidEmployee(pub BTreeMap<&'static str, String>);

impl InvalidEmployee {
    pub fn one(field: &'static str, message: impl Into<String>) -> InvalidEmployee {
        let mut errors = BTreeMap::new();
        errors.insert(field, message.into());
        InvalidEmployee(errors)
    }
}

/// Why a valid-looking employee could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum EmployeeWriteError {
    #[error("{0}")]
    Invalid(InvalidEmployee),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<InvalidEmployee> for EmployeeWriteError {
    fn from(invalid: InvalidEmployee) -> Self {
        EmployeeWriteError::Invalid(invalid)
    }
}

/// A short single-line text: 1..=`max` characters after trimming, no control characters.
fn parse_text(raw: &str, max: usize, what: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("Please enter a {what}."));
    }
    if text.chars().count() > max {
        return Err(format!("The {what} must be at most {max} characters long."));
    }
    if text.chars().any(char::is_control) {
        return Err(format!(
            "The {what} contains characters that are not allowed."
        ));
    }
    Ok(text.to_string())
}

type Errors = BTreeMap<&'static str, String>;

/// The value of a checked field, or `None` with its message recorded under `field`.
fn note<T>(errors: &mut Errors, field: &'static str, result: Result<T, String>) -> Option<T> {
    result.map_err(|message| errors.insert(field, message)).ok()
}

/// An id posted by a `<select>`; only positive integers name a row.
fn parse_id<Id: std::str::FromStr>(raw: &str) -> Option<Id> {
    raw.trim().parse().ok()
}

impl EmployeeDraft<'_> {
    /// Checks every field and reports all problems at once, so the form can show each one next
    /// to its input. Whether the department and manager exist is checked when writing.
    pub fn validate(&self) -> Result<EmployeeFields, InvalidEmployee> {
        let mut errors = Errors::new();
        let name = note(
            &mut errors,
            "name",
            parse_name(self.name).map_err(str::to_string),
        );
        let email = note(
            &mut errors,
            "email",
            Email::parse(self.email)
                .map(|e| e.as_str().to_string())
                .map_err(|e| e.to_string()),
        );
        let title = note(
            &mut errors,
            "title",
            parse_text(self.title, MAX_TITLE_CHARS, "job title"),
        );
        let department = note(&mut errors, "department", self.department_choice());
        let manager_id = note(&mut errors, "manager", self.manager_id());
        let location = note(
            &mut errors,
            "location",
            parse_text(self.location, MAX_LOCATION_CHARS, "location"),
        );
        let start_date = note(&mut errors, "start_date", self.start_date());
        let status = note(
            &mut errors,
            "status",
            EmployeeStatus::parse(self.status).ok_or_else(|| "Please choose a status.".into()),
        );
        let left_on = match (status, start_date) {
            (Some(status), Some(start_date)) => {
                note(&mut errors, "left_on", self.left_on(status, start_date))
            }
            _ => Some(None),
        };
        match (
            name, email, title, department, manager_id, location, start_date, status, left_on,
        ) {
            (
                Some(name),
                Some(email),
                Some(title),
                Some(department),
                Some(manager_id),
                Some(location),
                Some(start_date),
                Some(status),
                Some(left_on),
            ) => Ok(EmployeeFields {
                name,
                email,
                title,
                department,
                manager_id,
                location,
                start_date,
                status,
                left_on,
            }),
            _ => Err(InvalidEmployee(errors)),
        }
    }

    /// A typed new department wins over the list (the list may still show a stale choice).
    fn department_choice(&self) -> Result<DepartmentChoice, String> {
        if !self.new_department.trim().is_empty() {
            return parse_department_name(self.new_department)
                .map(DepartmentChoice::New)
                .map_err(str::to_string);
        }
        parse_id(self.department)
            .map(DepartmentChoice::Existing)
            .ok_or_else(|| "Please choose a department.".into())
    }

    /// No manager (the empty option) is a valid choice.
    fn manager_id(&self) -> Result<Option<EmployeeId>, String> {
        if self.manager.trim().is_empty() {
            return Ok(None);
        }
        parse_id(self.manager)
            .map(Some)
            .ok_or_else(|| "Please choose a manager from the list.".into())
    }

    fn start_date(&self) -> Result<NaiveDate, String> {
        parse_date(self.start_date.trim())
            // Keeps dates within what people mean (and what four-digit years sort correctly as text).
            .filter(|d| (1900..=2199).contains(&d.year()))
            .ok_or_else(|| "Please enter a valid start date (YYYY-MM-DD).".into())
    }

    /// A leaver needs their last day (on or after the start); for anyone else a leftover date in
    /// the field is dropped rather than refused, so switching a leaver back to active (a mistake
    /// undone, a return) needs no second edit to clear it.
    fn left_on(
        &self,
        status: EmployeeStatus,
        start_date: NaiveDate,
    ) -> Result<Option<NaiveDate>, String> {
        if status != EmployeeStatus::Terminated {
            return Ok(None);
        }
        let left_on = parse_date(self.left_on.trim())
            .filter(|d| (1900..=2199).contains(&d.year()))
            .ok_or("Please enter the last day with the company (YYYY-MM-DD).")?;
        if left_on < start_date {
            return Err("The last day cannot be before the start date.".into());
        }
        Ok(Some(left_on))
    }
}

/// A manager candidate for the employee form.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ManagerChoice {
    pub id: EmployeeId,
    pub name: String,
    pub title: String,
}

impl Employee {
    /// One page of the directory and the number of matches.
    pub async fn search(
        conn: &mut AnyConnection,
        query: &DirectoryQuery<'_>,
    ) -> Result<(Vec<Employee>, i64), sqlx::Error> {
        let pattern = like_pattern(query.search);
        let department = query.department.unwrap_or(DepartmentId(0));
        let rows: Vec<EmployeeRow> = sqlx::query_as(query.sort.sql())
            .bind(department)
            .bind(&pattern)
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&mut *conn)
            .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM employees e JOIN departments d ON d.id = e.department_id ",
            directory_filter!()
        ))
        .bind(department)
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await?;
        Ok((decode_all(rows)?, total))
    }

    pub async fn find(
        conn: &mut AnyConnection,
        id: EmployeeId,
    ) -> Result<Option<Employee>, sqlx::Error> {
        let row: Option<EmployeeRow> =
            sqlx::query_as(concat!(employee_select!(), "WHERE e.id = $1"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        row.map(Employee::try_from).transpose()
    }

    /// The people who report to `manager_id`, by name.
    pub async fn direct_reports(
        conn: &mut AnyConnection,
        manager_id: EmployeeId,
    ) -> Result<Vec<Employee>, sqlx::Error> {
        let rows: Vec<EmployeeRow> = sqlx::query_as(concat!(
            employee_select!(),
            "WHERE e.manager_id = $1 ORDER BY e.name_key, e.id"
        ))
        .bind(manager_id)
        .fetch_all(&mut *conn)
        .await?;
        decode_all(rows)
    }

    /// The employee record linked to an account (`users.employee_id`), if any.
    pub async fn for_user(
        conn: &mut AnyConnection,
        user_id: UserId,
    ) -> Result<Option<Employee>, sqlx::Error> {
        let row: Option<EmployeeRow> = sqlx::query_as(concat!(
            employee_select!(),
            "WHERE e.id = (SELECT employee_id FROM users WHERE id = $1)"
        ))
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(Employee::try_from).transpose()
    }

    /// The most recent hires who have started by `today` and are still with the company.
    pub async fn recent_hires(
        conn: &mut AnyConnection,
        today: NaiveDate,
        limit: i64,
    ) -> Result<Vec<Employee>, sqlx::Error> {
        let rows: Vec<EmployeeRow> = sqlx::query_as(concat!(
            employee_select!(),
            "WHERE e.status <> 'terminated' AND e.start_date <= $1 \
             ORDER BY e.start_date DESC, e.id DESC LIMIT $2"
        ))
        .bind(format_date(today))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        decode_all(rows)
    }

    /// Current employees who started before `before` and whose start month-day (`MM-DD`) lies in
    /// `from..=to`; when the window crosses New Year (`to < from`) it wraps around.
    pub async fn with_start_day_between(
        conn: &mut AnyConnection,
        from: &str,
        to: &str,
        before: NaiveDate,
    ) -> Result<Vec<Employee>, sqlx::Error> {
        let sql = if from <= to {
            concat!(
                employee_select!(),
                "WHERE e.status <> 'terminated' AND e.start_date < $3 \
                   AND substr(e.start_date, 6, 5) BETWEEN $1 AND $2"
            )
        } else {
            concat!(
                employee_select!(),
                "WHERE e.status <> 'terminated' AND e.start_date < $3 \
                   AND (substr(e.start_date, 6, 5) >= $1 OR substr(e.start_date, 6, 5) <= $2)"
            )
        };
        let rows: Vec<EmployeeRow> = sqlx::query_as(sql)
            .bind(from)
            .bind(to)
            .bind(format_date(before))
            .fetch_all(&mut *conn)
            .await?;
        decode_all(rows)
    }

    /// Everyone who can be chosen as a manager (people who left cannot), by name.
    pub async fn manager_choices(
        conn: &mut AnyConnection,
    ) -> Result<Vec<ManagerChoice>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, name, title FROM employees WHERE status <> 'terminated' \
             ORDER BY name_key, id",
        )
        .fetch_all(&mut *conn)
        .await
    }

    pub async fn count(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM employees")
            .fetch_one(&mut *conn)
            .await
    }

    /// Adds an employee inside the caller's HR write transaction (see `hr::begin_hr_write`):
    /// resolves the department (creating a typed new one), checks the manager, inserts.
    pub async fn create(
        conn: &mut AnyConnection,
        fields: &EmployeeFields,
    ) -> Result<(EmployeeId, ResolvedDepartment), EmployeeWriteError> {
        let department = resolve_department(conn, &fields.department).await?;
        if let Some(manager_id) = fields.manager_id {
            check_manager(conn, None, manager_id).await?;
        }
        let id = Self::insert(conn, fields, department.id)
            .await
            .map_err(email_taken)?;
        Ok((id, department))
    }

    /// Changes an employee inside the caller's HR write transaction; `Ok(None)` when there is no
    /// such employee.
    pub async fn update(
        conn: &mut AnyConnection,
        id: EmployeeId,
        fields: &EmployeeFields,
    ) -> Result<Option<ResolvedDepartment>, EmployeeWriteError> {
        let department = resolve_department(conn, &fields.department).await?;
        if let Some(manager_id) = fields.manager_id {
            check_manager(conn, Some(id), manager_id).await?;
        }
        let result = sqlx::query(
            "UPDATE employees SET name = $1, name_key = $2, search_key = $3, email = $4, \
                    title = $5, department_id = $6, manager_id = $7, location = $8, \
                    start_date = $9, status = $10, left_on = $11 \
             WHERE id = $12",
        )
        .bind_employee(fields, department.id)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(email_taken)?;
        Ok((result.rows_affected() > 0).then_some(department))
    }

    /// Inserts an already-checked record inside the caller's transaction (also the demo fill).
    pub async fn insert(
        conn: &mut AnyConnection,
        fields: &EmployeeFields,
        department_id: DepartmentId,
    ) -> Result<EmployeeId, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO employees (name, name_key, search_key, email, title, department_id, \
                                    manager_id, location, start_date, status, left_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind_employee(fields, department_id)
        .fetch_one(&mut *conn)
        .await
    }

    /// What differs between two versions of a record, field by field ("Title: A → B"), for the
    /// audit trail; empty when nothing that matters changed.
    pub fn changes_to(&self, after: &Employee) -> Vec<String> {
        let mut changes = Vec::new();
        let mut compare = |field: &str, before: String, now: String| {
            if before != now {
                changes.push(format!("{field}: {before} → {now}"));
            }
        };
        // Names are not unique: a manager is told apart by id too.
        let manager = |e: &Employee| match (&e.manager_name, e.manager_id) {
            (Some(name), Some(id)) => format!("{name} (#{id})"),
            _ => "none".to_string(),
        };
        compare("name", self.name.clone(), after.name.clone());
        compare("e-mail", self.email.clone(), after.email.clone());
        compare("title", self.title.clone(), after.title.clone());
        compare(
            "department",
            self.department_name.clone(),
            after.department_name.clone(),
        );
        compare("manager", manager(self), manager(after));
        compare("location", self.location.clone(), after.location.clone());
        compare(
            "start date",
            display_date(self.start_date),
            display_date(after.start_date),
        );
        compare(
            "status",
            self.status.label().to_string(),
            after.status.label().to_string(),
        );
        let left_on = |e: &Employee| e.left_on.map_or_else(|| "none".to_string(), display_date);
        compare("last day", left_on(self), left_on(after));
        changes
    }
}

/// The department an employee was written with, and whether the write created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedDepartment {
    pub id: DepartmentId,
    /// The name of a department this write created.
    pub created: Option<String>,
}

/// What the directory search matches: name and title, folded, joined by a unit separator that
/// search terms cannot contain (control characters are stripped), so no match spans both.
fn search_text(name: &str, title: &str) -> String {
    format!("{}\u{1f}{}", fold(name), fold(title))
}

fn email_taken(error: sqlx::Error) -> EmployeeWriteError {
    if is_unique_violation(&error) {
        InvalidEmployee::one(
            "email",
            "Another employee already has that work e-mail address.",
        )
        .into()
    } else {
        EmployeeWriteError::Database(error)
    }
}

async fn resolve_department(
    conn: &mut AnyConnection,
    choice: &DepartmentChoice,
) -> Result<ResolvedDepartment, EmployeeWriteError> {
    match choice {
        DepartmentChoice::Existing(id) => {
            if Department::exists(conn, *id).await? {
                Ok(ResolvedDepartment {
                    id: *id,
                    created: None,
                })
            } else {
                Err(InvalidEmployee::one("department", "Please choose a department.").into())
            }
        }
        DepartmentChoice::New(name) => {
            let (department, created) = Department::find_or_create(conn, name).await?;
            Ok(ResolvedDepartment {
                id: department.id,
                created: created.then_some(department.name),
            })
        }
    }
}

/// The manager must exist, still work here, and — when editing — must not be the employee or
/// anyone below them, which would make the reporting line a loop.
async fn check_manager(
    conn: &mut AnyConnection,
    employee_id: Option<EmployeeId>,
    manager_id: EmployeeId,
) -> Result<(), EmployeeWriteError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM employees WHERE id = $1")
        .bind(manager_id)
        .fetch_optional(&mut *conn)
        .await?;
    match status.as_deref() {
        None => {
            return Err(
                InvalidEmployee::one("manager", "Please choose a manager from the list.").into(),
            )
        }
        Some("terminated") => {
            return Err(InvalidEmployee::one(
                "manager",
                "That person has left the company and cannot be a manager.",
            )
            .into())
        }
        Some(_) => {}
    }
    let Some(employee_id) = employee_id else {
        return Ok(());
    };
    // Walks up from the proposed manager; finding the employee there means a loop. The depth
    // bound keeps the walk finite even if a loop already exists.
    let loops: i64 = sqlx::query_scalar(
        "WITH RECURSIVE chain (id, manager_id, depth) AS ( \
             SELECT id, manager_id, 0 FROM employees WHERE id = $1 \
             UNION ALL \
             SELECT e.id, e.manager_id, c.depth + 1 FROM employees e \
             JOIN chain c ON e.id = c.manager_id WHERE c.depth < 10000 \
         ) \
         SELECT COUNT(*) FROM chain WHERE id = $2",
    )
    .bind(manager_id)
    .bind(employee_id)
    .fetch_one(&mut *conn)
    .await?;
    if loops > 0 {
        let message = if manager_id == employee_id {
            "Someone cannot be their own manager."
        } else {
            "That person reports to this employee; choose someone outside their team."
        };
        return Err(InvalidEmployee::one("manager", message).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> EmployeeDraft<'static> {
        EmployeeDraft {
            name: " Grace Hopper ",
            email: "Grace@Example.com",
            title: "Rear Admiral",
            department: "3",
            new_department: "",
            manager: "",
            location: "Arlington",
            start_date: "1943-12-01",
            status: "active",
            left_on: "",
        }
    }

    #[test]
    fn a_complete_draft_validates_into_normalized_fields() {
        let fields = draft().validate().unwrap();
        assert_eq!(fields.name, "Grace Hopper");
        assert_eq!(fields.email, "grace@example.com");
        assert_eq!(
            fields.department,
            DepartmentChoice::Existing(DepartmentId(3))
        );
        assert_eq!(fields.manager_id, None);
        assert_eq!(fields.status, EmployeeStatus::Active);
    }

    #[test]
    fn a_typed_department_wins_over_the_list() {
        let fields = EmployeeDraft {
            new_department: " Navy ",
            department: "",
            ..draft()
        }
        .validate()
        .unwrap();
        assert_eq!(fields.department, DepartmentChoice::New("Navy".into()));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = EmployeeDraft {
            name: "",
            email: "nope",
            title: "x\u{7}",
            department: "abc",
            new_department: "",
            manager: "-4",
            location: "",
            start_date: "2023-02-29",
            status: "boss",
            left_on: "",
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = errors.0.keys().copied().collect();
        assert_eq!(
            fields,
            [
                "department",
                "email",
                "location",
                "manager",
                "name",
                "start_date",
                "status",
                "title"
            ]
        );
    }

    #[test]
    fn a_leaver_needs_a_last_day_on_or_after_the_start() {
        let leaver = |left_on| EmployeeDraft {
            status: "terminated",
            left_on,
            ..draft()
        };
        let missing = leaver("").validate().unwrap_err();
        assert!(missing.0.contains_key("left_on"));
        let too_early = leaver("1943-11-30").validate().unwrap_err();
        assert!(too_early.0.contains_key("left_on"));
        let fields = leaver("1986-08-14").validate().unwrap();
        assert_eq!(fields.left_on, NaiveDate::from_ymd_opt(1986, 8, 14));
    }

    #[test]
    fn someone_still_here_keeps_no_last_day() {
        let fields = EmployeeDraft {
            left_on: "1986-08-14",
            ..draft()
        }
        .validate()
        .unwrap();
        assert_eq!(fields.left_on, None);
    }

    #[test]
    fn unknown_sort_keys_fall_back_to_name() {
        assert_eq!(
            DirectorySort::parse(Some("start")),
            DirectorySort::StartDate
        );
        assert_eq!(
            DirectorySort::parse(Some("name; DROP TABLE employees")),
            DirectorySort::Name
        );
        assert_eq!(DirectorySort::parse(None), DirectorySort::Name);
    }
}
