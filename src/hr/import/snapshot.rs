//! Everyone already here, loaded once (three queries, whatever the file's length) so that a
//! plan compares a whole staff list in memory instead of asking the database row by row.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::hr::{Department, Employee};
use crate::ids::EmployeeId;
use crate::text::fold;
use crate::users::lookalike::skeleton;

/// The people, departments and account addresses a plan is checked against.
#[derive(Debug, Default)]
pub struct Snapshot {
    employees: Vec<Employee>,
    by_email: HashMap<String, usize>,
    by_id: HashMap<EmployeeId, usize>,
    /// Departments by folded name (names are unique that way).
    departments: HashMap<String, Department>,
    /// Every address of an account or an employee, by its look-alike skeleton.
    skeletons: HashMap<String, Vec<String>>,
}

impl Snapshot {
    /// Everyone and everything a plan needs, read on `conn` (inside the applying transaction,
    /// so the plan that is applied is checked against the database as it is then).
    pub async fn load(conn: &mut AnyConnection) -> Result<Snapshot, sqlx::Error> {
        let employees = Employee::all(conn).await?;
        let departments = Department::all(conn).await?;
        let accounts: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
            .fetch_all(&mut *conn)
            .await?;
        Ok(Snapshot::new(employees, departments, accounts))
    }

    pub fn new(
        employees: Vec<Employee>,
        departments: Vec<Department>,
        account_emails: Vec<String>,
    ) -> Snapshot {
        let mut skeletons: HashMap<String, Vec<String>> = HashMap::new();
        let addresses = account_emails
            .into_iter()
            .chain(employees.iter().map(|e| e.email.clone()));
        for address in addresses {
            skeletons
                .entry(skeleton(&address))
                .or_default()
                .push(address);
        }
        Snapshot {
            by_email: employees
                .iter()
                .enumerate()
                .map(|(at, e)| (e.email.clone(), at))
                .collect(),
            by_id: employees
                .iter()
                .enumerate()
                .map(|(at, e)| (e.id, at))
                .collect(),
            departments: departments
                .into_iter()
                .map(|d| (fold(&d.name), d))
                .collect(),
            employees,
            skeletons,
        }
    }

    /// The employee with this (normalized) work address.
    pub fn employee(&self, email: &str) -> Option<&Employee> {
        self.by_email.get(email).map(|at| &self.employees[*at])
    }

    /// The work address of the employee `id`.
    pub fn email_of(&self, id: EmployeeId) -> Option<&str> {
        self.by_id
            .get(&id)
            .map(|at| self.employees[*at].email.as_str())
    }

    /// The department with this name, compared the way department names are unique.
    pub fn department(&self, name: &str) -> Option<&Department> {
        self.departments.get(&fold(name))
    }

    /// An address already here that reads like `email` without being it.
    pub fn look_alike_of(&self, email: &str) -> Option<&str> {
        self.skeletons
            .get(&skeleton(email))?
            .iter()
            .find(|other| *other != email)
            .map(String::as_str)
    }
}
