//! The organisation chart (everyone signed in): the reporting tree from the top, or below one
//! person.

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::{AppError, AppResult};
use crate::app::people::{self, OrgChartView};
use crate::app::App;
use crate::auth::CurrentUser;
use crate::hr::org_chart::{ChartEntry, OrgMember, TreeStart};
use crate::ids::EmployeeId;
use crate::web::page::{Layout, Notice};

/// A person in the chart as the page draws them. The page nests the flat list by `reports`
/// (this person's team opens below them) and `closes` (teams that end after them), so the
/// template needs no recursion however deep the company is.
#[derive(Debug, Serialize)]
struct NodeView {
    id: EmployeeId,
    name: String,
    title: String,
    department: String,
    status: &'static str,
    status_label: &'static str,
    reports: usize,
    closes: usize,
    /// Why this person starts a tree, when that needs saying.
    note: Option<String>,
}

impl From<ChartEntry> for NodeView {
    fn from(entry: ChartEntry) -> Self {
        let note = match entry.start {
            Some(TreeStart::ManagerLeft(manager)) => {
                Some(format!("Reported to {manager}, who has left"))
            }
            Some(TreeStart::ManagerGone) => Some("Their manager's record is gone".to_string()),
            Some(TreeStart::Loop) => Some("Reporting line loops".to_string()),
            Some(TreeStart::Top | TreeStart::Chosen) | None => None,
        };
        let member = entry.member;
        NodeView {
            id: member.id,
            status: member.status.as_str(),
            status_label: member.status.label(),
            name: member.name,
            title: member.title,
            department: member.department,
            reports: entry.reports,
            closes: entry.closes,
            note,
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

/// `?root=`: absent or empty draws everyone; anything but an employee number is refused.
fn chosen_root(root: Option<&str>) -> AppResult<Option<EmployeeId>> {
    match root.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            AppError::BadRequest(
                "The organisation chart starts at an employee number, like /org?root=12.".into(),
            )
        }),
    }
}

#[get("/org?<root>")]
async fn org_chart(
    user: CurrentUser,
    root: Option<&str>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let root = chosen_root(root)?;
    let Some(OrgChartView { chart, above }) = people::org_chart(app, root).await? else {
        return Err(AppError::NotFound);
    };
    let people = chart.people();
    let chosen = match (root, chart.entries.first()) {
        (Some(_), Some(first)) => Some(ChosenView {
            name: first.member.name.clone(),
            above: above.map(AboveView::from),
        }),
        _ => None,
    };
    let nodes: Vec<NodeView> = chart.entries.into_iter().map(NodeView::from).collect();
    Ok(Template::render(
        "org_chart.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            chosen,
            people,
            nodes,
        },
    ))
}

pub fn routes() -> Vec<Route> {
    routes![org_chart]
}
