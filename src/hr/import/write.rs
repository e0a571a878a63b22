//! Writing a clean plan inside the caller's HR write transaction: new departments, then everyone
//! created or updated with the managers already here, then — once everyone exists — the managers
//! the file itself creates (so a manager may come later in the file than their reports).

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::plan::{Change, Plan};
use super::snapshot::Snapshot;
use crate::hr::{Department, DepartmentChoice, Employee, EmployeeFields};
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

/// Writes `plan` (checked clean against `snapshot` on the same transaction).
pub async fn write_plan(
    conn: &mut AnyConnection,
    plan: &Plan,
    snapshot: &Snapshot,
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
    let mut later_managers: Vec<(EmployeeId, &str)> = Vec::new();
    for person in &plan.people {
        let row = &person.row;
        let department_id = match snapshot.department(&row.department) {
            Some(department) => department.id,
            None => new_departments[&fold(&row.department)],
        };
        let manager = row.manager_email.as_deref();
        let known_manager = manager.and_then(|m| snapshot.employee(m)).map(|e| e.id);
        let fields = EmployeeFields {
            name: row.name.clone(),
            email: row.email.clone(),
            title: row.title.clone(),
            department: DepartmentChoice::Existing(department_id),
            manager_id: known_manager,
            location: row.location.clone(),
            start_date: row.start_date,
            status: row.status,
            left_on: row.left_on,
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
                Employee::overwrite(conn, *id, &fields, department_id).await?;
                written.updated.push(WrittenPerson {
                    id: *id,
                    name: row.name.clone(),
                    changes: changes.clone(),
                });
                *id
            }
        };
        ids.insert(row.email.as_str(), id);
        if let (Some(manager), None) = (manager, known_manager) {
            later_managers.push((id, manager));
        }
    }
    for (id, manager) in later_managers {
        Employee::set_manager(conn, id, ids[manager]).await?;
    }
    Ok(written)
}
