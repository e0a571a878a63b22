//! The parts of the dashboard that differ by role: the people someone works with (everyone with a
//! record), and what needs doing (HR). The company's figures and the administrators' security
//! figures are in `dashboard.rs`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::hr::attention::HrAttention;
use crate::hr::circle::{is_new, WorkCircle};
use crate::hr::employee::access::PeriodLeaver;
use crate::hr::{format_date, short_date, CompanyFigures, Employee};
use crate::ids::EmployeeId;
use crate::text::initials;

/// Someone in a list on the home page: the name with initials, the job title.
#[derive(Debug, Serialize)]
pub struct PersonView {
    id: EmployeeId,
    name: String,
    initials: String,
    title: String,
    department: String,
    /// Started within the last month.
    is_new: bool,
    /// ISO and short form of the start date.
    start_date: String,
    started: String,
}

impl PersonView {
    fn of(employee: &Employee, today: NaiveDate) -> PersonView {
        PersonView {
            id: employee.id,
            name: employee.name.clone(),
            initials: initials(&employee.name),
            title: employee.title.clone(),
            department: employee.department_name.clone(),
            is_new: is_new(employee.start_date, today),
            start_date: format_date(employee.start_date),
            started: short_date(employee.start_date),
        }
    }

    fn all(people: &[Employee], today: NaiveDate) -> Vec<PersonView> {
        people.iter().map(|e| PersonView::of(e, today)).collect()
    }
}

#[derive(Debug, Serialize)]
pub struct CircleView {
    manager: Option<PersonView>,
    peers: Vec<PersonView>,
    reports: Vec<PersonView>,
    new_people: usize,
    anniversaries: Vec<CircleAnniversaryView>,
}

#[derive(Debug, Serialize)]
struct CircleAnniversaryView {
    person: PersonView,
    date: String,
    on: String,
    years: i32,
}

impl CircleView {
    pub fn new(circle: &WorkCircle, today: NaiveDate) -> CircleView {
        let manager = circle.manager.as_ref().map(|m| PersonView::of(m, today));
        let peers = PersonView::all(&circle.peers, today);
        let reports = PersonView::all(&circle.reports, today);
        let new_people = manager
            .iter()
            .chain(&peers)
            .chain(&reports)
            .filter(|p| p.is_new)
            .count();
        CircleView {
            manager,
            peers,
            reports,
            new_people,
            anniversaries: circle
                .anniversaries(today)
                .into_iter()
                .map(|a| CircleAnniversaryView {
                    person: PersonView::of(&a.employee, today),
                    date: format_date(a.on),
                    on: short_date(a.on),
                    years: a.years,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AttentionView {
    clear: bool,
    incomplete: Vec<PersonView>,
    incomplete_total: i64,
    joiners: Vec<PersonView>,
    joiners_total: i64,
    /// How many are not named.
    incomplete_more: i64,
    joiners_more: i64,
    leavers: Vec<LeaverView>,
    /// Leavers in the last 12 months over the average of the headcount now and a year ago, as a
    /// percentage with one decimal; none without a headcount.
    turnover: Option<String>,
    left_last_12_months: i64,
}

#[derive(Debug, Serialize)]
struct LeaverView {
    id: EmployeeId,
    name: String,
    initials: String,
    left_on: String,
    left: String,
    /// "No account", "Signed out and disabled" or "Can still sign in".
    access: &'static str,
    access_open: bool,
}

impl From<&PeriodLeaver> for LeaverView {
    fn from(leaver: &PeriodLeaver) -> LeaverView {
        let (access, access_open) = match (leaver.user_id, leaver.account_disabled) {
            (None, _) => ("No account", false),
            (Some(_), true) => ("Account disabled", false),
            (Some(_), false) => ("Can still sign in", true),
        };
        LeaverView {
            id: leaver.employee_id,
            name: leaver.name.clone(),
            initials: initials(&leaver.name),
            left_on: format_date(leaver.left_on),
            left: short_date(leaver.left_on),
            access,
            access_open,
        }
    }
}

impl AttentionView {
    pub fn new(attention: &HrAttention, company: &CompanyFigures) -> AttentionView {
        let today = company.today;
        let unnamed = |total: i64, named: usize| total - i64::try_from(named).unwrap_or(total);
        AttentionView {
            incomplete_more: unnamed(attention.incomplete_total, attention.incomplete.len()),
            joiners_more: unnamed(
                attention.joiners_without_access_total,
                attention.joiners_without_access.len(),
            ),
            clear: attention.is_clear(),
            incomplete: PersonView::all(&attention.incomplete, today),
            incomplete_total: attention.incomplete_total,
            joiners: PersonView::all(&attention.joiners_without_access, today),
            joiners_total: attention.joiners_without_access_total,
            leavers: attention
                .leavers_this_month
                .iter()
                .map(Into::into)
                .collect(),
            turnover: turnover(
                company.left_last_12_months,
                company.headcount,
                company.headcount_year_ago,
            ),
            left_last_12_months: company.left_last_12_months,
        }
    }
}

/// Leavers over the average headcount, as "7.4".
fn turnover(left: i64, now: i64, year_ago: i64) -> Option<String> {
    let average = (now + year_ago) as f64 / 2.0;
    (average > 0.0).then(|| format!("{:.1}", left as f64 * 100.0 / average))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turnover_is_leavers_over_the_average_headcount() {
        assert_eq!(turnover(15, 181, 151).as_deref(), Some("9.0"));
        assert_eq!(turnover(0, 0, 0), None);
    }
}
