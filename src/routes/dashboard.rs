//! The front door and the signed-in home page.

use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use std::sync::Arc;

use rocket_dyn_templates::{context, Metadata, Template};
use serde::Serialize;

use crate::app::error::{AppError, AppResult};
use crate::app::people::{self, SecurityFigures};
use crate::app::App;
use crate::auth::{CurrentSession, CurrentUser};
use crate::hr::{display_date, Anniversary, CompanyFigures};
use crate::web::charts::{FlowChart, HeadcountChart};
use crate::web::page::Layout;
use crate::web::page::Notice;
use crate::web::views::{DeviceRow, Moment};

use super::employees::EmployeeView;
use super::home::{AttentionView, CircleView};

/// `/`: the dashboard for a signed-in person, the login page for everyone else.
#[get("/")]
fn index(signed_in: Option<&CurrentSession>) -> Redirect {
    match signed_in {
        Some(_) => Redirect::to("/dashboard"),
        None => Redirect::to("/login"),
    }
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

/// A change since a year ago, in words and as a direction the stylesheet marks.
#[derive(Debug, Serialize)]
struct Trend {
    /// "up", "down" or "flat".
    direction: &'static str,
    /// "+11", "−3", "±0".
    change: String,
    /// The same in plain words: "11 more than a year ago (171)", "the same as a year ago".
    words: String,
}

impl Trend {
    fn between(before: i64, now: i64) -> Trend {
        let change = now - before;
        match change.signum() {
            1 => Trend {
                direction: "up",
                change: format!("+{change}"),
                words: format!("{change} more than a year ago ({before})"),
            },
            -1 => Trend {
                direction: "down",
                change: format!("\u{2212}{}", -change),
                words: format!("{} fewer than a year ago ({before})", -change),
            },
            _ => Trend {
                direction: "flat",
                change: "±0".to_string(),
                words: "The same as a year ago".to_string(),
            },
        }
    }
}

/// "4.2 years" or, in a young company, "7 months".
fn tenure(days: i64) -> String {
    if days < 365 {
        let months = days * 12 / 365;
        return format!("{months} month{}", if months == 1 { "" } else { "s" });
    }
    format!("{:.1} years", days as f64 / 365.25)
}

/// The company part of the page, in the shape the template draws.
#[derive(Debug, Serialize)]
struct CompanyView {
    today: String,
    headcount: i64,
    headcount_year_ago: i64,
    headcount_trend: Trend,
    joined_this_month: i64,
    left_this_month: i64,
    joined_last_12_months: i64,
    left_last_12_months: i64,
    average_tenure: Option<String>,
    department_count: usize,
    headcount_chart: HeadcountChart,
    flow_chart: FlowChart,
    recent_hires: Vec<EmployeeView>,
    anniversaries: Vec<AnniversaryView>,
    /// Anniversaries in the window beyond those listed (worked out here: Tera's filters bind
    /// looser than its arithmetic).
    anniversaries_more: usize,
}

impl CompanyView {
    fn new(figures: &CompanyFigures) -> CompanyView {
        let figures = figures.clone();
        CompanyView {
            today: display_date(figures.today),
            headcount_trend: Trend::between(figures.headcount_year_ago, figures.headcount),
            headcount: figures.headcount,
            headcount_year_ago: figures.headcount_year_ago,
            joined_this_month: figures.joined_this_month,
            left_this_month: figures.left_this_month,
            joined_last_12_months: figures.joined_last_12_months,
            left_last_12_months: figures.left_last_12_months,
            average_tenure: figures.average_tenure_days.map(tenure),
            department_count: figures.departments.len(),
            headcount_chart: HeadcountChart::new(&figures.departments),
            flow_chart: FlowChart::new(&figures.months),
            anniversaries_more: figures.anniversaries_total - figures.anniversaries.len(),
            recent_hires: figures.recent_hires.into_iter().map(Into::into).collect(),
            anniversaries: figures.anniversaries.into_iter().map(Into::into).collect(),
        }
    }
}

/// The administrator's figures as the template shows them.
#[derive(Debug, Serialize)]
struct SecurityView {
    live_sessions: i64,
    failed_sign_ins: i64,
    locked_accounts: i64,
}

impl From<SecurityFigures> for SecurityView {
    fn from(s: SecurityFigures) -> Self {
        SecurityView {
            live_sessions: s.live_sessions,
            failed_sign_ins: s.failed_sign_ins,
            locked_accounts: s.locked_accounts,
        }
    }
}

#[get("/dashboard")]
async fn dashboard(
    user: CurrentUser,
    app: &State<App>,
    templates: Metadata<'_>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let people::Dashboard {
        company,
        profile,
        session_count,
        new_devices,
        security,
        circle,
        attention,
    } = people::dashboard(app, &user).await?;
    let now = app.clock.now();
    let session = &user.session.session;
    Ok(Template::render(
        "dashboard.html",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            name: &user.name,
            email: user.email.as_str(),
            role: user.role.label(),
            session_started: Moment::at(session.created_at, now),
            session_expires: Moment::at(session.expires_at, now),
            remembered: session.remember,
            session_count,
            csrf_token: user.session.csrf_token(),
            new_devices: DeviceRow::rows(new_devices, now),
            previous_sign_in: session.previous_sign_in_at.map(|at| Moment::at(at, now)),
            profile: profile.map(EmployeeView::from),
            company_today: display_date(company.today),
            company_html: app.company_fragment.get_or_try(&company, |company| {
                render_company(company, &templates)
            })?,
            security: security.map(SecurityView::from),
            circle: circle.as_ref().map(|c| CircleView::new(c, company.today)),
            attention: attention.as_ref().map(|a| AttentionView::new(a, &company)),
        },
    ))
}

fn render_company(company: &CompanyFigures, templates: &Metadata<'_>) -> AppResult<Arc<str>> {
    let context = context! { company: CompanyView::new(company) };
    let (_, html) = templates
        .render("dashboard_company.html", context)
        .ok_or(AppError::Render("dashboard_company.html"))?;
    Ok(html.into())
}

pub fn routes() -> Vec<Route> {
    routes![index, dashboard]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_carry_their_sign_and_tenure_reads_in_years_or_months() {
        assert_eq!(Trend::between(171, 182).change, "+11");
        assert_eq!(Trend::between(10, 7).direction, "down");
        assert_eq!(Trend::between(5, 5).change, "±0");
        assert_eq!(
            Trend::between(171, 182).words,
            "11 more than a year ago (171)"
        );
        assert_eq!(Trend::between(10, 7).words, "3 fewer than a year ago (10)");
        assert_eq!(tenure(1534), "4.2 years");
        assert_eq!(tenure(220), "7 months");
        assert_eq!(tenure(31), "1 month");
    }
}
