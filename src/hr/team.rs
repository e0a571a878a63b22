//! A line manager's team: everyone below them in the reporting line, grouped under each direct
//! report. Built from one query's rows by a pure function, so the grouping is tested without a
//! database and a planted reporting loop cannot make it run forever.

use std::collections::{BTreeMap, HashSet};

use crate::hr::Employee;
use crate::ids::EmployeeId;

/// One direct report and everyone below them (with how far below: 1 = reports to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamGroup {
    pub lead: Employee,
    pub below: Vec<(usize, Employee)>,
}

/// The manager's reports, direct ones first-level, the rest folded under them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Team {
    pub groups: Vec<TeamGroup>,
}

impl Team {
    /// Groups `everyone_below` (as `Employee::everyone_below` loads them, by name) under
    /// `manager`'s direct reports; each person appears once, depth-first, by name.
    pub fn of(manager: EmployeeId, everyone_below: Vec<Employee>) -> Team {
        let mut children: BTreeMap<Option<EmployeeId>, Vec<Employee>> = BTreeMap::new();
        for employee in everyone_below {
            children
                .entry(employee.manager_id)
                .or_default()
                .push(employee);
        }
        let mut seen = HashSet::from([manager]);
        let direct = children.remove(&Some(manager)).unwrap_or_default();
        let mut groups = Vec::new();
        for lead in direct {
            if !seen.insert(lead.id) {
                continue;
            }
            // Depth-first, each person followed by the people below them; the children go
            // onto the stack reversed so they come off in name order.
            let mut below = Vec::new();
            let mut stack: Vec<(usize, Employee)> = Vec::new();
            let push_children = |stack: &mut Vec<(usize, Employee)>,
                                 children: &mut BTreeMap<Option<EmployeeId>, Vec<Employee>>,
                                 seen: &mut HashSet<EmployeeId>,
                                 id: EmployeeId,
                                 depth: usize| {
                let mut under = children.remove(&Some(id)).unwrap_or_default();
                under.retain(|e| seen.insert(e.id));
                stack.extend(under.into_iter().rev().map(|e| (depth, e)));
            };
            push_children(&mut stack, &mut children, &mut seen, lead.id, 1);
            while let Some((depth, employee)) = stack.pop() {
                push_children(&mut stack, &mut children, &mut seen, employee.id, depth + 1);
                below.push((depth, employee));
            }
            groups.push(TeamGroup { lead, below });
        }
        Team { groups }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Everyone on the team, at any depth.
    pub fn size(&self) -> usize {
        self.groups.iter().map(|g| 1 + g.below.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::hr::EmployeeStatus;
    use crate::ids::DepartmentId;

    fn person(id: i64, name: &str, manager: i64) -> Employee {
        Employee {
            id: EmployeeId(id),
            name: name.into(),
            email: format!("{id}@example.com"),
            title: "Engineer".into(),
            department_id: DepartmentId(1),
            department_name: "Engineering".into(),
            manager_id: Some(EmployeeId(manager)),
            manager_name: None,
            location: "Berlin".into(),
            start_date: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            status: EmployeeStatus::Active,
            left_on: None,
            work_phone: None,
        }
    }

    fn names(group: &TeamGroup) -> Vec<(usize, &str)> {
        group
            .below
            .iter()
            .map(|(d, e)| (*d, e.name.as_str()))
            .collect()
    }

    #[test]
    fn reports_further_down_are_folded_under_their_direct_report_depth_first() {
        // 1 manages Ann (2) and Bob (3); Ann manages Cy (4) and Di (5); Cy manages Ed (6).
        let below = vec![
            person(2, "Ann", 1),
            person(3, "Bob", 1),
            person(4, "Cy", 2),
            person(5, "Di", 2),
            person(6, "Ed", 4),
        ];
        let team = Team::of(EmployeeId(1), below);
        assert_eq!(team.groups.len(), 2);
        assert_eq!(team.groups[0].lead.name, "Ann");
        assert_eq!(names(&team.groups[0]), [(1, "Cy"), (2, "Ed"), (1, "Di")]);
        assert!(team.groups[1].below.is_empty());
        assert_eq!(team.size(), 5);
    }

    #[test]
    fn a_planted_loop_lists_everyone_once_and_ends() {
        // Ann (2) reports to the manager (1), Bo (3) to Ann, and the manager to Bo.
        let below = vec![person(2, "Ann", 1), person(3, "Bo", 2), person(1, "Me", 3)];
        let team = Team::of(EmployeeId(1), below);
        assert_eq!(team.size(), 2);
    }

    #[test]
    fn someone_without_reports_has_an_empty_team() {
        assert!(Team::of(EmployeeId(1), Vec::new()).is_empty());
    }
}
