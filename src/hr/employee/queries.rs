//! The queries that search, load and change employees: one fixed SQL statement each.

use sqlx::{AnyConnection, FromRow};

use super::history::JobPeriod;
use super::managers::check_manager;
use super::validation::{DepartmentChoice, EmployeeFields, EmployeeWriteError, InvalidEmployee};
use super::{
    DirectoryQuery, DirectorySort, Employee, EmployeeStatus, ResolvedDepartment, SortColumn,
};
use crate::db::is_unique_violation;
use crate::hr::department::Department;
use chrono::NaiveDate;

use crate::hr::{decode_date, display_date, format_date};
use crate::ids::{DepartmentId, EmployeeId, UserId};
use crate::text::{fold, like_pattern};
use crate::users::lookalike::skeleton;

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
    work_phone: Option<String>,
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
            work_phone: row.work_phone,
        })
    }
}

fn decode_all(rows: Vec<EmployeeRow>) -> Result<Vec<Employee>, sqlx::Error> {
    rows.into_iter().map(Employee::try_from).collect()
}

/// Binds an employee's twelve stored columns ($1..$12, in the order the INSERT and UPDATE name them),
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
            .bind_value(fields.work_phone.clone())
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
                e.left_on, e.work_phone \
         FROM employees e JOIN departments d ON d.id = e.department_id \
         LEFT JOIN employees m ON m.id = e.manager_id "
    };
}

/// The directory filter: $1 department id or 0 for all, $2 the LIKE pattern, $3 the status
/// filter (`DirectoryStatus::as_str`), $4 today. "current" is `EmploymentSpan::present_on` in
/// SQL — started by today and not yet gone — so the directory's count is the dashboard's
/// headcount. Dates are ISO text: text order is date order, and a NULL last day compares as
/// unknown, so it never counts as "still to come".
macro_rules! directory_filter {
    () => {
        "WHERE ($1 = 0 OR e.department_id = $1) \
           AND (e.search_key LIKE $2 ESCAPE '\\' OR d.name_key LIKE $2 ESCAPE '\\') \
           AND (($3 = 'current' AND e.start_date <= $4 \
                 AND (e.status <> 'terminated' OR e.left_on > $4)) \
             OR ($3 = 'active' AND e.status = 'active') \
             OR ($3 = 'on_leave' AND e.status = 'on_leave') \
             OR ($3 = 'leaving' AND e.status = 'terminated' AND e.left_on > $4) \
             OR ($3 = 'left' AND e.status = 'terminated' \
                 AND (e.left_on IS NULL OR e.left_on <= $4)) \
             OR $3 = 'all') "
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
            " LIMIT $5 OFFSET $6"
        )
    };
}

impl DirectorySort {
    // In every variant: the filter's $1..$4 (above), $5 limit, $6 offset. The trailing id makes
    // the order total, so pages never overlap; descending reverses every key, ties included.
    fn sql(self) -> &'static str {
        match (self.column, self.descending) {
            (SortColumn::Name, false) => directory_query!("ORDER BY e.name_key, e.id"),
            (SortColumn::Name, true) => directory_query!("ORDER BY e.name_key DESC, e.id DESC"),
            (SortColumn::Department, false) => {
                directory_query!("ORDER BY d.name_key, e.name_key, e.id")
            }
            (SortColumn::Department, true) => {
                directory_query!("ORDER BY d.name_key DESC, e.name_key DESC, e.id DESC")
            }
            (SortColumn::Start, false) => directory_query!("ORDER BY e.start_date, e.id"),
            (SortColumn::Start, true) => {
                directory_query!("ORDER BY e.start_date DESC, e.id DESC")
            }
        }
    }
}

impl Employee {
    /// One page of the directory and the number of matches.
    pub async fn search(
        conn: &mut AnyConnection,
        query: &DirectoryQuery<'_>,
    ) -> Result<(Vec<Employee>, i64), sqlx::Error> {
        let pattern = like_pattern(query.search);
        let department = query.department.unwrap_or(DepartmentId(0));
        let status = query.status.as_str();
        let today = format_date(query.today);
        let rows: Vec<EmployeeRow> = sqlx::query_as(query.sort.sql())
            .bind(department)
            .bind(&pattern)
            .bind(status)
            .bind(&today)
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
        .bind(status)
        .bind(&today)
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

    /// Everyone below `manager` in the reporting line, at any depth, by name: the rows `/team`
    /// groups (`hr::team::Team::of`). The depth bound keeps the walk finite should a loop be
    /// planted in the data, and the manager is left out even then.
    pub async fn everyone_below(
        conn: &mut AnyConnection,
        manager: EmployeeId,
    ) -> Result<Vec<Employee>, sqlx::Error> {
        let rows: Vec<EmployeeRow> = sqlx::query_as(concat!(
            "WITH RECURSIVE below (id, depth) AS ( \
                 SELECT id, 1 FROM employees WHERE manager_id = $1 \
                 UNION ALL \
                 SELECT e.id, b.depth + 1 FROM employees e \
                 JOIN below b ON e.manager_id = b.id WHERE b.depth < 10000 \
             ) ",
            employee_select!(),
            "WHERE e.id IN (SELECT id FROM below) AND e.id <> $1 ORDER BY e.name_key, e.id"
        ))
        .bind(manager)
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
        check_not_a_look_alike(conn, &fields.email, None).await?;
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
    /// such employee. A change of job takes effect on `effective_from` (see [`JobPeriod::note`]).
    pub async fn update(
        conn: &mut AnyConnection,
        id: EmployeeId,
        fields: &EmployeeFields,
        effective_from: NaiveDate,
    ) -> Result<Option<ResolvedDepartment>, EmployeeWriteError> {
        check_not_a_look_alike(conn, &fields.email, Some(id)).await?;
        let department = resolve_department(conn, &fields.department).await?;
        if let Some(manager_id) = fields.manager_id {
            check_manager(conn, Some(id), manager_id).await?;
        }
        let found = Self::overwrite(conn, id, fields, department.id, effective_from)
            .await
            .map_err(email_taken)?;
        Ok(found.then_some(department))
    }

    /// Writes already-checked fields over a record inside the caller's transaction (also the
    /// staff-list import, which checks a whole file at once); whether the record exists. A
    /// changed title, department, manager or location starts a job period from `effective_from`,
    /// so no writer can overwrite the old values without keeping them.
    pub async fn overwrite(
        conn: &mut AnyConnection,
        id: EmployeeId,
        fields: &EmployeeFields,
        department_id: DepartmentId,
        effective_from: NaiveDate,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE employees SET name = $1, name_key = $2, search_key = $3, email = $4, \
                    title = $5, department_id = $6, manager_id = $7, location = $8, \
                    start_date = $9, status = $10, left_on = $11, work_phone = $12 \
             WHERE id = $13",
        )
        .bind_employee(fields, department_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        JobPeriod::note(conn, id, effective_from).await?;
        Ok(true)
    }

    /// Everyone, in id order (the staff-list import compares a file with all of them at once).
    pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Employee>, sqlx::Error> {
        let rows: Vec<EmployeeRow> = sqlx::query_as(concat!(employee_select!(), "ORDER BY e.id"))
            .fetch_all(&mut *conn)
            .await?;
        decode_all(rows)
    }

    /// Inserts an already-checked record inside the caller's transaction (also the demo fill),
    /// with its first job period, from the start date.
    pub async fn insert(
        conn: &mut AnyConnection,
        fields: &EmployeeFields,
        department_id: DepartmentId,
    ) -> Result<EmployeeId, sqlx::Error> {
        let id = sqlx::query_scalar(
            "INSERT INTO employees (name, name_key, search_key, email, title, department_id, \
                                    manager_id, location, start_date, status, left_on, \
                                    work_phone) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind_employee(fields, department_id)
        .fetch_one(&mut *conn)
        .await?;
        JobPeriod::note(conn, id, fields.start_date).await?;
        Ok(id)
    }

    /// What differs between two versions of a record, field by field ("Title: A → B"), for the
    /// audit trail; empty when nothing that matters changed.
    pub fn changes_to(&self, after: &Employee) -> Vec<String> {
        // Names are not unique: a manager is told apart by id too.
        let manager = |e: &Employee| match (&e.manager_name, e.manager_id) {
            (Some(name), Some(id)) => format!("{name} (#{id})"),
            _ => "none".to_string(),
        };
        self.changes_naming_managers(after, manager(self), manager(after))
    }

    /// [`Employee::changes_to`] with the managers named by the caller: a staff-list import names
    /// them by e-mail, since a manager it creates has no id yet.
    pub fn changes_naming_managers(
        &self,
        after: &Employee,
        manager_before: String,
        manager_after: String,
    ) -> Vec<String> {
        let mut changes = Vec::new();
        let mut compare = |field: &str, before: String, now: String| {
            if before != now {
                changes.push(format!("{field}: {before} → {now}"));
            }
        };
        compare("name", self.name.clone(), after.name.clone());
        compare("e-mail", self.email.clone(), after.email.clone());
        compare("title", self.title.clone(), after.title.clone());
        compare(
            "department",
            self.department_name.clone(),
            after.department_name.clone(),
        );
        compare("manager", manager_before, manager_after);
        compare("location", self.location.clone(), after.location.clone());
        let phone = |e: &Employee| e.work_phone.clone().unwrap_or_else(|| "none".to_string());
        compare("work phone", phone(self), phone(after));
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

/// What the directory search matches: name and title, folded, joined by a unit separator that
/// search terms cannot contain (control characters are stripped), so no match spans both.
fn search_text(name: &str, title: &str) -> String {
    format!("{}\u{1f}{}", fold(name), fold(title))
}

/// Refuses a work address that reads like another employee's or account's without being it (the
/// rule accounts follow, see `users::lookalike`): the same address as an account is that person's
/// own, a look-alike is a mistake or a trap.
async fn check_not_a_look_alike(
    conn: &mut AnyConnection,
    email: &str,
    this: Option<EmployeeId>,
) -> Result<(), EmployeeWriteError> {
    let wanted = skeleton(email);
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM users UNION SELECT email FROM employees WHERE id <> $1",
    )
    .bind(this.map_or(0, |id| id.0))
    .fetch_all(&mut *conn)
    .await?;
    match others
        .into_iter()
        .find(|other| other != email && skeleton(other) == wanted)
    {
        Some(other) => Err(InvalidEmployee::one("email", look_alike_message(&other)).into()),
        None => Ok(()),
    }
}

/// Why a work address that reads like `other` (already here) is refused.
pub fn look_alike_message(other: &str) -> String {
    format!(
        "That address looks the same as {other}, which is already here (it uses characters that \
         read alike). Use a different address."
    )
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
