//! The organisation chart (everyone signed in): the top of the company, a team opened from one
//! person down, one person found in their manager's team, or a search's matches. Every chart is
//! folded a few levels down (see `app::org_chart`); a folded team opens with a plain link.

use std::collections::HashMap;

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::{AppError, AppResult};
use crate::app::org_chart::{self as chart, ChartRequest, ChartStart, OrgChartPage, Shown};
use crate::app::App;
use crate::auth::CurrentUser;
use crate::hr::employee::visibility::sees_leave;
use crate::hr::org_chart::{ChartEntry, OrgMember, TreeStart};
use crate::hr::EmployeeStatus;
use crate::ids::EmployeeId;
use crate::text::search_term;
use crate::web::page::{Layout, Notice};

/// Up to two letters for the avatar: the first of the first and of the last word of the name.
fn initials(name: &str) -> String {
    let mut words = name.split_whitespace().filter_map(|w| w.chars().next());
    let first = words.next();
    let last = words.next_back();
    first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect()
}

/// A person in the chart as the page draws them. The page nests the flat list by `reports`
/// (this person's team opens below them) and `closes` (teams that end after them), so the
/// template needs no recursion however deep the company is.
#[derive(Debug, Serialize)]
struct NodeView {
    id: EmployeeId,
    name: String,
    initials: String,
    title: String,
    department: String,
    status: &'static str,
    status_label: &'static str,
    reports: usize,
    /// Everyone below them, drawn or not.
    team: usize,
    /// Their team is behind an "Open team" link.
    folded: bool,
    closes: usize,
    /// The person looked for ("Find me" or a search).
    marked: bool,
    /// Why this person starts a tree, when that needs saying.
    note: Option<String>,
}

impl NodeView {
    fn new(
        entry: ChartEntry,
        people: &HashMap<EmployeeId, OrgMember>,
        marked: Option<EmployeeId>,
        sees_leave: bool,
    ) -> Self {
        let name_of = |id: EmployeeId| people.get(&id).map_or("someone", |m| m.name.as_str());
        let note = match entry.start {
            Some(TreeStart::ManagerLeft(manager)) => {
                Some(format!("Reported to {}, who has left", name_of(manager)))
            }
            Some(TreeStart::ManagerGone) => Some("Their manager's record is gone".to_string()),
            Some(TreeStart::Loop) => Some("Reporting line loops".to_string()),
            Some(TreeStart::Top | TreeStart::Chosen) | None => None,
        };
        // Read a moment after the tree: a record deleted in between keeps its place, unnamed.
        let member = people.get(&entry.id);
        // Leave is need-to-know (`visibility::sees_leave`): to others, someone on leave is active.
        let status = match member.map_or(EmployeeStatus::Active, |m| m.status) {
            EmployeeStatus::OnLeave if !sees_leave => EmployeeStatus::Active,
            status => status,
        };
        let name = member.map_or_else(|| "(record gone)".to_string(), |m| m.name.clone());
        NodeView {
            id: entry.id,
            status: status.as_str(),
            status_label: status.label(),
            initials: initials(&name),
            marked: Some(entry.id) == marked,
            name,
            title: member.map(|m| m.title.clone()).unwrap_or_default(),
            department: member.map(|m| m.department.clone()).unwrap_or_default(),
            reports: entry.reports,
            team: entry.team,
            folded: entry.folded,
            closes: entry.closes,
            note,
        }
    }
}

/// A search's match, listed when a search found several people (or none).
#[derive(Debug, Serialize)]
struct MatchView {
    id: EmployeeId,
    name: String,
    initials: String,
    title: String,
    department: String,
}

impl From<OrgMember> for MatchView {
    fn from(member: OrgMember) -> Self {
        MatchView {
            id: member.id,
            initials: initials(&member.name),
            name: member.name,
            title: member.title,
            department: member.department,
        }
    }
}

/// The person the chart starts at, and whom they report to.
#[derive(Debug, Serialize)]
struct ChosenView {
    name: String,
    above: Option<AboveView>,
}

#[derive(Debug, Serialize)]
struct AboveView {
    id: EmployeeId,
    name: String,
}

impl From<OrgMember> for AboveView {
    fn from(member: OrgMember) -> Self {
        AboveView {
            id: member.id,
            name: member.name,
        }
    }
}

/// An employee number from the query string: absent or empty is no choice; anything but a
/// number is refused.
fn employee_number(raw: Option<&str>) -> AppResult<Option<EmployeeId>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            AppError::BadRequest(
                "The organisation chart starts at an employee number, like /org?root=12.".into(),
            )
        }),
    }
}

/// What the query asks for. A search wins over a person, a person over a starting point: the
/// search box and "Find me" are links of their own, so a mix only comes from a typed address.
fn chart_request(
    root: Option<&str>,
    person: Option<&str>,
    q: Option<&str>,
) -> AppResult<ChartRequest> {
    let root = employee_number(root)?;
    let person = employee_number(person)?;
    let term = search_term(q);
    Ok(if !term.is_empty() {
        ChartRequest::Search(term)
    } else if let Some(person) = person {
        ChartRequest::Around(person)
    } else if let Some(root) = root {
        ChartRequest::Below(root)
    } else {
        ChartRequest::Top
    })
}

/// `?fragment=1` with `?root=`: only the reporting lines of that team, for the chart's script
/// to open a folded team in place (static/org-chart.js). Any other request ignores it.
#[get("/org?<root>&<person>&<q>&<fragment>")]
async fn org_chart(
    user: CurrentUser,
    root: Option<&str>,
    person: Option<&str>,
    q: Option<&str>,
    fragment: Option<&str>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let request = chart_request(root, person, q)?;
    let fragment = fragment == Some("1") && matches!(request, ChartRequest::Below(_));
    let search = match &request {
        ChartRequest::Search(term) => term.clone(),
        _ => String::new(),
    };
    let Some(OrgChartPage { shown, me }) = chart::page(app, &user, request).await? else {
        return Err(AppError::NotFound);
    };
    let layout = Layout::signed_in(&user.session, flash);
    Ok(match shown {
        Shown::Chart {
            chart,
            people: members,
            start,
            marked,
        } => {
            let people = chart.people();
            let nodes: Vec<NodeView> = chart
                .entries
                .into_iter()
                .map(|entry| NodeView::new(entry, &members, marked, sees_leave(user.role)))
                .collect();
            let chosen = match (start, nodes.first()) {
                (ChartStart::At { above }, Some(first)) => Some(ChosenView {
                    name: first.name.clone(),
                    above: above.map(AboveView::from),
                }),
                _ => None,
            };
            let found = nodes.iter().find(|n| n.marked).map(|n| n.name.clone());
            if fragment {
                return Ok(Template::render(
                    "org_chart_tree.html",
                    context! { nodes, found_is_me: false },
                ));
            }
            Template::render(
                "org_chart.html",
                context! {
                    layout,
                    search,
                    me,
                    found_is_me: marked.is_some() && marked == me,
                    found,
                    chosen,
                    people,
                    nodes,
                },
            )
        }
        Shown::Matches { term, found, total } => {
            let matches: Vec<MatchView> = found.into_iter().map(MatchView::from).collect();
            let more = total - matches.len();
            Template::render(
                "org_chart.html",
                context! {
                    layout,
                    search,
                    me,
                    term,
                    total,
                    matches,
                    more,
                },
            )
        }
        Shown::Left { name } => Template::render(
            "org_chart.html",
            context! { layout, search, me, left: name },
        ),
    })
}

pub fn routes() -> Vec<Route> {
    routes![org_chart]
}
