//! A staff list compared with everyone already here: who is created, updated (with each changed
//! field, old → new) or left as they are, which departments are new, and every error. A plan is
//! pure: the same file and the same database always give the same plan, which is how an apply
//! can re-check, inside its transaction, exactly what the preview showed.

use std::collections::{HashMap, HashSet};

use super::columns::{Column, ColumnMap};
use super::file::Record;
use super::row::{check_row, PersonRow, RowError};
use super::snapshot::Snapshot;
use crate::hr::employee::queries::look_alike_message;
use crate::hr::{Employee, EmployeeStatus};
use crate::ids::{DepartmentId, EmployeeId};
use crate::text::fold;
use crate::users::lookalike::skeleton;

/// What happens to one person of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create,
    /// Changes in the audit trail's words ("title: A → B").
    Update {
        id: EmployeeId,
        changes: Vec<String>,
    },
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPerson {
    pub row: PersonRow,
    pub change: Change,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every valid row, in file order.
    pub people: Vec<PlannedPerson>,
    /// Departments the file names that do not exist yet (first spelling wins).
    pub new_departments: Vec<String>,
    /// Every problem, by line.
    pub errors: Vec<RowError>,
}

impl Plan {
    /// A plan without errors can be applied.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    fn count(&self, wanted: impl Fn(&Change) -> bool) -> usize {
        self.people.iter().filter(|p| wanted(&p.change)).count()
    }

    pub fn created(&self) -> usize {
        self.count(|c| matches!(c, Change::Create))
    }

    pub fn updated(&self) -> usize {
        self.count(|c| matches!(c, Change::Update { .. }))
    }

    pub fn unchanged(&self) -> usize {
        self.count(|c| matches!(c, Change::Unchanged))
    }
}

/// How a manager is named in a change ("manager: a@x.org → b@x.org"): by address, the one
/// thing that names a person both in the file and here.
fn manager_label(email: Option<&str>) -> String {
    email.map_or_else(|| "none".to_string(), str::to_string)
}

/// Everyone as they will be once the file is applied: each address's manager and status.
struct After<'a> {
    rows: HashMap<&'a str, &'a PersonRow>,
    snapshot: &'a Snapshot,
}

impl<'a> After<'a> {
    fn manager_of(&self, email: &str) -> Option<&'a str> {
        match self.rows.get(email) {
            // Being one's own manager is reported on its row, not again as a loop.
            Some(row) => row.manager_email.as_deref().filter(|m| *m != email),
            None => {
                let employee = self.snapshot.employee(email)?;
                self.snapshot.email_of(employee.manager_id?)
            }
        }
    }

    fn status_of(&self, email: &str) -> Option<EmployeeStatus> {
        match self.rows.get(email) {
            Some(row) => Some(row.status),
            None => self.snapshot.employee(email).map(|e| e.status),
        }
    }
}

/// Compares a file's records with `snapshot`.
pub fn plan(columns: &ColumnMap, records: &[Record], snapshot: &Snapshot) -> Plan {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    // Addresses the file names, valid rows or not: a manager on a row with a typo elsewhere is
    // not also reported as unknown.
    let mut named = HashSet::new();
    for record in records {
        named.insert(crate::users::normalize_email(
            record.cell(columns, Column::WorkEmail),
        ));
        match check_row(record, columns) {
            Ok(row) => rows.push(row),
            Err(problems) => errors.extend(problems),
        }
    }
    let rows = without_duplicates(rows, snapshot, &mut errors);
    let after = After {
        rows: rows.iter().map(|r| (r.email.as_str(), r)).collect(),
        snapshot,
    };
    let mut bad_manager = HashSet::new();
    for row in &rows {
        if let Err(reason) = check_manager(row, &after, &named) {
            errors.push(RowError::new(row.line, Column::ManagerEmail, reason));
            bad_manager.insert(row.line);
        }
    }
    errors.extend(reporting_loops(&rows, &after, &bad_manager));
    errors.sort_by_key(|e| e.line);
    let mut new_departments: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for row in &rows {
        if snapshot.department(&row.department).is_none() && seen.insert(fold(&row.department)) {
            new_departments.push(row.department.clone());
        }
    }
    let people = rows
        .into_iter()
        .map(|row| PlannedPerson {
            change: change_for(&row, snapshot),
            row,
        })
        .collect();
    Plan {
        people,
        new_departments,
        errors,
    }
}

/// Drops (and reports) a second row for an address, and a new address that reads like one
/// already here or earlier in the file.
fn without_duplicates(
    rows: Vec<PersonRow>,
    snapshot: &Snapshot,
    errors: &mut Vec<RowError>,
) -> Vec<PersonRow> {
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut new_skeletons: HashMap<String, String> = HashMap::new();
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(line) = first_line.get(&row.email) {
            let reason = format!("{} is also on line {line}; each person once.", row.email);
            errors.push(RowError::new(row.line, Column::WorkEmail, reason));
            continue;
        }
        first_line.insert(row.email.clone(), row.line);
        // An address already here is that person's own; only new ones are judged.
        if snapshot.employee(&row.email).is_none() {
            let shape = skeleton(&row.email);
            let earlier = new_skeletons.get(&shape).map(String::as_str);
            if let Some(other) = snapshot.look_alike_of(&row.email).or(earlier) {
                let reason = look_alike_message(other);
                errors.push(RowError::new(row.line, Column::WorkEmail, reason));
                continue;
            }
            new_skeletons.insert(shape, row.email.clone());
        }
        kept.push(row);
    }
    kept
}

/// The manager must be someone (here or in the file), not the person, and — when the row sets
/// a new manager — still with the company, as the form requires.
fn check_manager(
    row: &PersonRow,
    after: &After<'_>,
    named: &HashSet<String>,
) -> Result<(), String> {
    let Some(manager) = row.manager_email.as_deref() else {
        return Ok(());
    };
    if manager == row.email {
        return Err("Someone cannot be their own manager.".into());
    }
    let Some(status) = after.status_of(manager) else {
        if named.contains(manager) {
            return Err(format!(
                "{manager} is on a line with errors; fix that line first."
            ));
        }
        return Err(format!(
            "No one with the address {manager} is here or in this file."
        ));
    };
    let current = after
        .snapshot
        .employee(&row.email)
        .and_then(|e| e.manager_id)
        .and_then(|id| after.snapshot.email_of(id));
    if status == EmployeeStatus::Terminated && current != Some(manager) {
        return Err("That person has left the company and cannot be a manager.".into());
    }
    Ok(())
}

/// Every row caught in a reporting loop once the file is applied (also through people who are
/// not in the file), each reported with the loop. Each address is walked once: linear in the
/// number of people however long the chains.
fn reporting_loops(
    rows: &[PersonRow],
    after: &After<'_>,
    bad_manager: &HashSet<u64>,
) -> Vec<RowError> {
    #[derive(PartialEq)]
    enum Walk {
        OnPath,
        Done,
    }
    let mut state: HashMap<&str, Walk> = HashMap::new();
    let mut errors = Vec::new();
    for row in rows.iter().filter(|r| !bad_manager.contains(&r.line)) {
        let mut path: Vec<&str> = Vec::new();
        let mut at = Some(row.email.as_str());
        while let Some(email) = at {
            match state.get(email) {
                Some(Walk::Done) => break,
                Some(Walk::OnPath) => {
                    let start = path.iter().position(|p| *p == email).unwrap_or(0);
                    errors.extend(loop_errors(&path[start..], after));
                    break;
                }
                None => {}
            }
            state.insert(email, Walk::OnPath);
            path.push(email);
            at = after.manager_of(email);
        }
        for email in path {
            state.insert(email, Walk::Done);
        }
    }
    errors
}

fn loop_errors(members: &[&str], after: &After<'_>) -> Vec<RowError> {
    let mut chain: Vec<&str> = members.to_vec();
    chain.push(members[0]);
    let described = chain.join(" → ");
    members
        .iter()
        .filter_map(|email| after.rows.get(email))
        .map(|row| {
            RowError::new(
                row.line,
                Column::ManagerEmail,
                format!("this makes a reporting loop ({described}); choose a manager outside it."),
            )
        })
        .collect()
}

/// Created, updated (with what changes) or unchanged.
fn change_for(row: &PersonRow, snapshot: &Snapshot) -> Change {
    let Some(before) = snapshot.employee(&row.email) else {
        return Change::Create;
    };
    let (department_id, department_name) = match snapshot.department(&row.department) {
        Some(d) => (d.id, d.name.clone()),
        None => (DepartmentId(0), row.department.clone()),
    };
    let after = Employee {
        id: before.id,
        name: row.name.clone(),
        email: row.email.clone(),
        title: row.title.clone(),
        department_id,
        department_name,
        manager_id: None,
        manager_name: None,
        location: row.location.clone(),
        start_date: row.start_date,
        status: row.status,
        left_on: row.left_on,
        work_phone: before.work_phone.clone(),
    };
    let manager_before = before.manager_id.and_then(|id| snapshot.email_of(id));
    let changes = before.changes_naming_managers(
        &after,
        manager_label(manager_before),
        manager_label(row.manager_email.as_deref()),
    );
    if changes.is_empty() {
        Change::Unchanged
    } else {
        Change::Update {
            id: before.id,
            changes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hr::import::file::read_staff_list;

    const HEADER: &str =
        "Name,Work e-mail,Job title,Department,Manager e-mail,Location,Start date,Status,Last day\n";

    fn planned(lines: &str) -> Plan {
        let text = format!("{HEADER}{lines}");
        let (columns, records) = read_staff_list(text.as_bytes()).unwrap();
        plan(&columns, &records, &Snapshot::default())
    }

    fn errors(plan: &Plan) -> Vec<String> {
        plan.errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_manager_later_in_the_file_is_found() {
        let plan = planned(
            "Ada,ada@x.org,Dev,R&D,bo@x.org,Here,2020-01-01,Active,\n\
             Bo,bo@x.org,Boss,R&D,,Here,2020-01-01,Active,\n",
        );
        assert!(plan.is_clean(), "{:?}", errors(&plan));
        assert_eq!(plan.created(), 2);
        assert_eq!(plan.new_departments, ["R&D"]);
    }

    #[test]
    fn loops_unknown_managers_and_duplicates_are_errors_with_their_lines() {
        let plan = planned(
            "Ada,ada@x.org,Dev,R&D,bo@x.org,Here,2020-01-01,Active,\n\
             Bo,bo@x.org,Boss,R&D,ada@x.org,Here,2020-01-01,Active,\n\
             Cy,cy@x.org,Dev,R&D,nobody@x.org,Here,2020-01-01,Active,\n\
             Ada again,ADA@x.org,Dev,R&D,,Here,2020-01-01,Active,\n\
             Di,di@x.org,Dev,R&D,di@x.org,Here,2020-01-01,Active,\n",
        );
        let errors = errors(&plan);
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].starts_with("line 2: Manager e-mail: this makes a reporting loop"));
        assert!(errors[1].starts_with("line 3: Manager e-mail: this makes a reporting loop"));
        assert!(errors[2].starts_with("line 4: Manager e-mail: No one with the address"));
        assert!(errors[3].starts_with("line 5: Work e-mail: ada@x.org is also on line 2"));
        assert_eq!(
            errors[4],
            "line 6: Manager e-mail: Someone cannot be their own manager."
        );
    }
}
