//! The front door and the signed-in home page.

use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::{people, App};
use crate::auth::{CurrentSession, CurrentUser};
use crate::error::AppResult;
use crate::hr::{display_date, Anniversary, DepartmentHeadcount};
use crate::web::page::Notice;
use crate::web::page::{when, Layout};
use crate::web::views::DeviceRow;

use super::employees::EmployeeView;

/// `/`: the dashboard for a signed-in person, the login page for everyone else.
#[get("/")]
fn index(signed_in: Option<&CurrentSession>) -> Redirect {
    match signed_in {
        Some(_) => Redirect::to("/dashboard"),
        None => Redirect::to("/login"),
    }
}

/// One bar of the headcount chart. `width` is the bar's share of the longest bar (0–100), drawn
/// as an SVG `width` attribute: the CSP forbids inline styles, not presentation attributes.
#[derive(Debug, Serialize)]
struct HeadcountBar {
    id: crate::ids::DepartmentId,
    name: String,
    headcount: i64,
    width: i64,
}

fn headcount_bars(headcounts: Vec<DepartmentHeadcount>) -> Vec<HeadcountBar> {
    let largest = headcounts
        .iter()
        .map(|d| d.headcount)
        .max()
        .unwrap_or(0)
        .max(1);
    headcounts
        .into_iter()
        .map(|d| HeadcountBar {
            width: d.headcount * 100 / largest,
            id: d.id,
            name: d.name,
            headcount: d.headcount,
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct AnniversaryView {
    employee: EmployeeView,
    date: String,
    years: i32,
    in_days: i64,
}

impl From<Anniversary> for AnniversaryView {
    fn from(a: Anniversary) -> Self {
        AnniversaryView {
            employee: a.employee.into(),
            date: display_date(a.date),
            years: a.years,
            in_days: a.in_days,
        }
    }
}

/// Each of `items` as its page view.
fn views<V: From<T>, T>(items: Vec<T>) -> Vec<V> {
    items.into_iter().map(V::from).collect()
}

#[get("/dashboard")]
async fn dashboard(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let people::Dashboard {
        figures,
        session_count,
        new_devices,
    } = people::dashboard(app, &user).await?;
    // Counts are worked out here: Tera's filters bind looser than its arithmetic.
    let anniversaries_more = figures.anniversaries_total - figures.anniversaries.len();
    let department_count = figures.headcounts.len();
    let session = &user.session.session;
    Ok(Template::render(
        "dashboard.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            name: &user.name,
            email: user.email.as_str(),
            role: user.role.label(),
            is_admin: user.is_admin(),
            session_started: when(session.created_at),
            session_expires: when(session.expires_at),
            remembered: session.remember,
            session_count,
            csrf_token: user.session.csrf_token(),
            new_devices: DeviceRow::rows(new_devices),
            previous_sign_in: session.previous_sign_in_at.map(when),
            profile: figures.profile.map(EmployeeView::from),
            headcount_total: figures.headcount_total,
            headcounts: headcount_bars(figures.headcounts),
            recent_hires: views::<EmployeeView, _>(figures.recent_hires),
            anniversaries: views::<AnniversaryView, _>(figures.anniversaries),
            anniversaries_more,
            department_count,
        },
    ))
}

pub fn routes() -> Vec<Route> {
    routes![index, dashboard]
}
