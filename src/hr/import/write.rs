//! Writing a clean plan inside the caller's HR write transaction: new departments, then everyone
//! created or updated, each after their manager (so a manager may come later in the file than
//! their reports, and every manager has an id by the time a report is written: one statement
//! per person, no second pass).

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::AnyConnection;

use super::plan::{Change, Plan};
use super::snapshot::Snapshot;
use crate::hr::{Department, DepartmentChoice, Employee, EmployeeFields, Location};
use crate::ids::{DepartmentId, EmployeeId};
use crate::text::fold;

/// A person the import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenPerson {
    pub id: EmployeeId,
    pub name: String,
    /// Empty for someone created.
    pub changes: Vec<String>,
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub created: Vec<WrittenPerson>,
    pub updated: Vec<WrittenPerson>,
    /// Departments this import created.
    pub departments: Vec<Department>,
}

/// Writes `plan` (checked clean against `snapshot` on the same transaction). A location not on
/// the list yet is added to it; a changed job takes effect `today` (or on the start date, for
/// someone who has not started yet).
pub async fn write_plan(
    conn: &mut AnyConnection,
    plan: &Plan,
    snapshot: &Snapshot,
    today: NaiveDate,
) -> Result<Written, sqlx::Error> {
    let mut written = Written::default();
    let mut new_departments: HashMap<String, DepartmentId> = HashMap::new();
    for name in &plan.new_departments {
        let (department, created) = Department::find_or_create(conn, name).await?;
        new_departments.insert(fold(name), department.id);
        if created {
            written.departments.push(department);
        }
    }
    let mut ids: HashMap<&str, EmployeeId> = HashMap::new();
    for at in managers_first(plan) {
        let person = &plan.people[at];
        let row = &person.row;
        let department_id = match snapshot.department(&row.department) {
            Some(department) => department.id,
            None => new_departments[&fold(&row.department)],
        };
        let manager_id = row.manager_email.as_deref().map(|manager| {
            snapshot
                .employee(manager)
                .map(|e| e.id)
                .unwrap_or_else(|| ids[manager])
        });
        if person.change == Change::Unchanged {
            continue;
        }
        let (location, _) = Location::find_or_create(conn, &row.location).await?;
        let fields = EmployeeFields {
            name: row.name.clone(),
            email: row.email.clone(),
            title: row.title.clone(),
            department: DepartmentChoice::Existing(department_id),
            manager_id,
            location: location.name,
            start_date: row.start_date,
            status: row.status,
            left_on: row.left_on,
            // The staff list has no work phone column: a record keeps the one it has.
            work_phone: snapshot
                .employee(&row.email)
                .and_then(|e| e.work_phone.clone()),
        };
        let id = match &person.change {
            Change::Unchanged => continue,
            Change::Create => {
                let id = Employee::insert(conn, &fields, department_id).await?;
                written.created.push(WrittenPerson {
                    id,
                    name: row.name.clone(),
                    changes: Vec::new(),
                });
                id
            }
            Change::Update { id, changes } => {
                let effective_from = today.max(row.start_date);
                Employee::overwrite(conn, *id, &fields, department_id, effective_from).await?;
                written.updated.push(WrittenPerson {
                    id: *id,
                    name: row.name.clone(),
                    changes: changes.clone(),
                });
                *id
            }
        };
        ids.insert(row.email.as_str(), id);
    }
    Ok(written)
}

/// The plan's people (by position), each after the manager the file creates for them. A clean
/// plan has no reporting loop, so every chain ends; each person is placed once.
fn managers_first(plan: &Plan) -> Vec<usize> {
    let created: HashMap<&str, usize> = plan
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.change == Change::Create)
        .map(|(at, p)| (p.row.email.as_str(), at))
        .collect();
    let mut placed = vec![false; plan.people.len()];
    let mut order = Vec::with_capacity(plan.people.len());
    for start in 0..plan.people.len() {
        // The chain of not-yet-placed people the file creates, from `start` up.
        let mut chain = Vec::new();
        let mut at = Some(start);
        while let Some(person) = at.filter(|p| !placed[*p]) {
            placed[person] = true;
            chain.push(person);
            at = plan.people[person]
                .row
                .manager_email
                .as_deref()
                .and_then(|m| created.get(m).copied());
        }
        order.extend(chain.into_iter().rev());
    }
    order
}
