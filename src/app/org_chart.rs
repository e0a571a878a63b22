//! The organisation chart: which part of the reporting tree a page shows. Whatever is asked for,
//! the page gets a folded chart (two levels open below where it starts), so its size follows
//! the shape of the company near the top, not the company's headcount.

use super::App;
use crate::app::error::AppResult;
use crate::auth::CurrentUser;
use crate::hr::org_chart::{self, OrgChart, OrgMember};
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

/// The page for `request`; `None` when it names an employee number nobody has.
pub async fn page(
    app: &App,
    viewer: &CurrentUser,
    request: ChartRequest,
) -> AppResult<Option<OrgChartPage>> {
    let mut conn = app.db.read().await?;
    let members = OrgMember::all(&mut conn).await?;
    let me = Employee::for_user(&mut conn, viewer.id)
        .await?
        .filter(|e| e.status != EmployeeStatus::Terminated)
        .map(|e| e.id);
    drop(conn);
    let shown = match request {
        ChartRequest::Top => Some(top(&members, None)),
        ChartRequest::Below(root) => below(&members, root),
        ChartRequest::Around(person) => around(&members, person),
        ChartRequest::Search(term) => Some(search(&members, term)),
    };
    Ok(shown.map(|shown| OrgChartPage { shown, me }))
}

fn top(members: &[OrgMember], marked: Option<EmployeeId>) -> Shown {
    Shown::Chart {
        chart: OrgChart::whole(members).folded(OPEN_LEVELS),
        start: ChartStart::Top,
        marked,
    }
}

fn member(members: &[OrgMember], id: EmployeeId) -> Option<&OrgMember> {
    members.iter().find(|m| m.id == id)
}

fn below(members: &[OrgMember], root: EmployeeId) -> Option<Shown> {
    let chosen = member(members, root)?;
    if chosen.status == EmployeeStatus::Terminated {
        return Some(Shown::Left {
            name: chosen.name.clone(),
        });
    }
    let chart = OrgChart::below(members, root)?.folded(OPEN_LEVELS);
    let above = chosen
        .manager_id
        .and_then(|id| member(members, id))
        .filter(|m| m.status != EmployeeStatus::Terminated)
        .cloned();
    Some(Shown::Chart {
        chart,
        start: ChartStart::At { above },
        marked: None,
    })
}

/// `person` in their manager's team, so their colleagues and their own reports are in view;
/// from the top when they have no current manager (they start a tree there).
fn around(members: &[OrgMember], person: EmployeeId) -> Option<Shown> {
    let found = member(members, person)?;
    if found.status == EmployeeStatus::Terminated {
        return Some(Shown::Left {
            name: found.name.clone(),
        });
    }
    let manager = found
        .manager_id
        .and_then(|id| member(members, id))
        .filter(|m| m.status != EmployeeStatus::Terminated);
    let Some(manager) = manager else {
        return Some(top(members, Some(person)));
    };
    let Some(Shown::Chart { chart, start, .. }) = below(members, manager.id) else {
        return Some(top(members, Some(person)));
    };
    Some(Shown::Chart {
        chart,
        start,
        marked: Some(person),
    })
}

fn search(members: &[OrgMember], term: String) -> Shown {
    let found = org_chart::find(members, &term);
    if let [one] = found.as_slice() {
        if let Some(shown) = around(members, one.id) {
            return shown;
        }
    }
    Shown::Matches {
        total: found.len(),
        found: found.into_iter().take(MAX_MATCHES).cloned().collect(),
        term,
    }
}
