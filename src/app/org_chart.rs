//! The organisation chart: which part of the reporting tree a page shows. Whatever is asked for,
//! the page gets a folded chart (two levels open below where it starts), so its size follows
//! the shape of the company near the top, not the company's headcount.

use std::collections::HashMap;

use super::App;
use crate::app::error::AppResult;
use crate::auth::CurrentUser;
use crate::hr::org_chart::{OrgChart, OrgLine, OrgMember, TreeStart};
use crate::hr::{Employee, EmployeeStatus};
use crate::ids::EmployeeId;

/// Levels whose teams a page draws: the start and the people reporting to it. Everyone below
/// appears as a card with their team size and a way to open their team.
pub const OPEN_LEVELS: usize = 2;

/// Matches a search lists before asking for more of the name.
pub const MAX_MATCHES: usize = 20;

/// What the page asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartRequest {
    /// From the top of the company.
    Top,
    /// From one person down (`?root=`).
    Below(EmployeeId),
    /// One person in their manager's team, marked (`?person=`, "Find me").
    Around(EmployeeId),
    /// The people whose name contains this (`?q=`).
    Search(String),
}

/// Where a drawn chart starts.
#[derive(Debug)]
pub enum ChartStart {
    /// The top of the company (and any trees that stand alone).
    Top,
    /// A chosen person, and whom they report to (for a link up).
    At { above: Option<OrgMember> },
}

/// What the page shows.
#[derive(Debug)]
pub enum Shown {
    Chart {
        /// Folded at [`OPEN_LEVELS`].
        chart: OrgChart,
        /// Everyone the chart draws, and the leavers whose teams it says stand alone.
        people: HashMap<EmployeeId, OrgMember>,
        start: ChartStart,
        /// The person looked for, drawn in the chart.
        marked: Option<EmployeeId>,
    },
    /// A search that did not pick one person: its matches (at most [`MAX_MATCHES`]) and how
    /// many there were in all.
    Matches {
        term: String,
        found: Vec<OrgMember>,
        total: usize,
    },
    /// The person asked for has left the company, so the chart leaves them out.
    Left { name: String },
}

pub struct OrgChartPage {
    pub shown: Shown,
    /// The viewer's own employee record, when it is in the chart: the target of "Find me".
    pub me: Option<EmployeeId>,
}

/// What to draw, before names are read: a folded chart, a search's matches, or a leaver.
enum Plan {
    Chart {
        chart: OrgChart,
        /// The chosen start's manager, when the chart starts at someone.
        start: Option<Option<EmployeeId>>,
        marked: Option<EmployeeId>,
    },
    Matches {
        found: Vec<EmployeeId>,
    },
    Left(EmployeeId),
}

/// The page for `request`; `None` when it names an employee number nobody has.
///
/// The tree is built from everyone's reporting line (three narrow columns); the names and
/// titles are then read for the hundred-odd people the page draws, not for the company.
pub async fn page(
    app: &App,
    viewer: &CurrentUser,
    request: ChartRequest,
) -> AppResult<Option<OrgChartPage>> {
    let mut conn = app.db.read().await?;
    let lines = OrgLine::all(&mut conn).await?;
    let me = Employee::for_user(&mut conn, viewer.id)
        .await?
        .filter(|e| e.status != EmployeeStatus::Terminated)
        .map(|e| e.id);
    let plan = match request {
        ChartRequest::Top => Some(top(&lines, None)),
        ChartRequest::Below(root) => below(&lines, root),
        ChartRequest::Around(person) => around(&lines, person),
        ChartRequest::Search(ref term) => {
            let found = OrgMember::named(&mut conn, term).await?;
            match found.as_slice() {
                [one] => around(&lines, *one),
                _ => Some(Plan::Matches { found }),
            }
        }
    };
    let Some(plan) = plan else {
        return Ok(None);
    };
    let shown = match plan {
        Plan::Chart {
            chart,
            start,
            marked,
        } => {
            let mut ids: Vec<EmployeeId> = chart.entries.iter().map(|e| e.id).collect();
            ids.extend(chart.entries.iter().filter_map(|e| match e.start {
                Some(TreeStart::ManagerLeft(manager)) => Some(manager),
                _ => None,
            }));
            ids.extend(start.flatten());
            let people = OrgMember::some(&mut conn, &ids).await?;
            let start = match start {
                None => ChartStart::Top,
                Some(above) => ChartStart::At {
                    above: above.and_then(|id| people.get(&id).cloned()),
                },
            };
            Shown::Chart {
                chart,
                people,
                start,
                marked,
            }
        }
        Plan::Matches { found } => {
            let shown: Vec<EmployeeId> = found.iter().copied().take(MAX_MATCHES).collect();
            let mut people = OrgMember::some(&mut conn, &shown).await?;
            Shown::Matches {
                term: match request {
                    ChartRequest::Search(term) => term,
                    _ => String::new(),
                },
                total: found.len(),
                found: shown.iter().filter_map(|id| people.remove(id)).collect(),
            }
        }
        Plan::Left(id) => {
            let people = OrgMember::some(&mut conn, &[id]).await?;
            Shown::Left {
                name: people.get(&id).map(|m| m.name.clone()).unwrap_or_default(),
            }
        }
    };
    Ok(Some(OrgChartPage { shown, me }))
}

fn top(lines: &[OrgLine], marked: Option<EmployeeId>) -> Plan {
    Plan::Chart {
        chart: OrgChart::whole(lines).folded(OPEN_LEVELS),
        start: None,
        marked,
    }
}

fn line(lines: &[OrgLine], id: EmployeeId) -> Option<&OrgLine> {
    lines.iter().find(|l| l.id == id)
}

/// The manager of `person` who is still here, if any.
fn current_manager(lines: &[OrgLine], person: &OrgLine) -> Option<EmployeeId> {
    person
        .manager_id
        .and_then(|id| line(lines, id))
        .filter(|m| !m.left)
        .map(|m| m.id)
}

fn below(lines: &[OrgLine], root: EmployeeId) -> Option<Plan> {
    let chosen = line(lines, root)?;
    if chosen.left {
        return Some(Plan::Left(root));
    }
    Some(Plan::Chart {
        chart: OrgChart::below(lines, root)?.folded(OPEN_LEVELS),
        start: Some(current_manager(lines, chosen)),
        marked: None,
    })
}

/// `person` in their manager's team, so their colleagues and their own reports are in view;
/// from the top when they have no current manager (they start a tree there).
fn around(lines: &[OrgLine], person: EmployeeId) -> Option<Plan> {
    let found = line(lines, person)?;
    if found.left {
        return Some(Plan::Left(person));
    }
    let Some(manager) = current_manager(lines, found) else {
        return Some(top(lines, Some(person)));
    };
    match below(lines, manager) {
        Some(Plan::Chart { chart, start, .. }) => Some(Plan::Chart {
            chart,
            start,
            marked: Some(person),
        }),
        _ => Some(top(lines, Some(person))),
    }
}
