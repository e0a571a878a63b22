//! `/team`: a line manager's reports, direct ones and, folded under each, the people below them.
//! Anyone signed in may open it; someone without reports sees an empty state. Work details only:
//! a manager sees a report's private details on their profile.

use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use super::employees::EmployeeView;
use crate::app::error::AppResult;
use crate::app::{team, App};
use crate::auth::CurrentUser;
use crate::hr::team::TeamGroup;
use crate::web::page::{Layout, Notice};

/// A direct report and the people below them (with how far below, for indentation).
#[derive(Debug, Serialize)]
struct GroupView {
    lead: EmployeeView,
    below: Vec<MemberView>,
}

#[derive(Debug, Serialize)]
struct MemberView {
    depth: usize,
    employee: EmployeeView,
}

impl From<TeamGroup> for GroupView {
    fn from(group: TeamGroup) -> Self {
        GroupView {
            lead: EmployeeView::from(group.lead),
            below: group
                .below
                .into_iter()
                .map(|(depth, e)| MemberView {
                    depth,
                    employee: EmployeeView::from(e),
                })
                .collect(),
        }
    }
}

#[get("/team")]
async fn team_page(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let team = team::team(app, &user).await?;
    let size = team.size();
    Ok(Template::render(
        "team.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            size,
            groups: team.groups.into_iter().map(GroupView::from).collect::<Vec<_>>(),
        },
    ))
}

pub fn routes() -> Vec<Route> {
    routes![team_page]
}
