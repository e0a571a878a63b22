//! The organisation chart: the demo company as one tree with everyone in it once, a chart that
//! starts at one person, and reporting lines planted in the database that loop or lead to
//! someone who left — drawn, never followed round.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use hr_portal::app::demo::DemoReport;
use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

/// Fills the app with the demo company and signs its employee account in on the first browser.
async fn with_the_demo_company(app: &TestApp) -> DemoReport {
    let report = app.fill_demo_company().await;
    app.sign_in_to_the_demo_as(&report, Role::Employee).await;
    report
}

/// The employee ids the chart draws, in drawing order.
fn drawn(html: &str) -> Vec<i64> {
    html.split("<a class=\"org-name\" href=\"/employees/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// Who reports to whom, as the database says (employee id → manager id).
async fn managers(app: &TestApp) -> HashMap<i64, Option<i64>> {
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as("SELECT id, manager_id FROM employees")
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
    rows.into_iter().collect()
}

/// Opens the chart, failing the test if the page takes longer than a few seconds.
async fn opens_chart(app: &TestApp, path: &str) -> (Status, String) {
    rocket::tokio::time::timeout(Duration::from_secs(20), app.browser.opens(path))
        .await
        .expect("the chart is drawn without hanging")
}

async fn the_demo_company_is_one_tree_with_every_employee_in_it_once(app: TestApp) {
    let report = with_the_demo_company(&app).await;
    let (status, html) = opens_chart(&app, "/org").await;
    assert_eq!(status, Status::Ok);
    let ids = drawn(&html);
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), report.employees, "one node per employee");
    assert_eq!(unique.len(), ids.len(), "nobody drawn twice");
    let reporting = managers(&app).await;
    assert_eq!(
        reporting[&ids[0]], None,
        "the chart starts at the top of the company"
    );
    assert_eq!(
        html.matches("<details open>").count(),
        reporting.values().flatten().collect::<HashSet<_>>().len(),
        "every manager's team is a foldable list"
    );
    assert!(!html.contains("Reporting line loops"));
    let (_, nav) = app.browser.opens("/dashboard").await;
    assert!(nav.contains("href=\"/org\""), "the chart is in the menu");
}

async fn a_chart_can_start_at_anyone_and_their_profile_links_to_it(app: TestApp) {
    with_the_demo_company(&app).await;
    let reporting = managers(&app).await;
    // Someone in the middle: a manager who has a manager.
    let middle = reporting
        .iter()
        .filter_map(|(id, manager)| manager.map(|m| (*id, m)))
        .find(|(id, _)| reporting.values().any(|m| *m == Some(*id)))
        .map(|(id, _)| id)
        .expect("the demo has middle managers");
    let mut team = HashSet::from([middle]);
    while let Some(next) = reporting
        .iter()
        .find(|(id, m)| !team.contains(*id) && m.is_some_and(|m| team.contains(&m)))
        .map(|(id, _)| *id)
    {
        team.insert(next);
    }

    let (_, profile) = app.browser.opens(&format!("/employees/{middle}")).await;
    let link = format!("href=\"/org?root={middle}\"");
    assert!(profile.contains(&link), "the profile links to its chart");
    let (status, html) = opens_chart(&app, &format!("/org?root={middle}")).await;
    assert_eq!(status, Status::Ok);
    let ids = drawn(&html);
    assert_eq!(ids[0], middle, "the chart starts at the chosen person");
    assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), team);
    assert_eq!(ids.len(), team.len());
    let up = format!("href=\"/org?root={}\"", reporting[&middle].unwrap());
    assert!(html.contains(&up), "a link goes up to their manager's team");
}

async fn a_reporting_loop_planted_in_the_database_is_drawn_once_and_marked(app: TestApp) {
    let report = with_the_demo_company(&app).await;
    let reporting = managers(&app).await;
    let top = reporting
        .iter()
        .find(|(_, m)| m.is_none())
        .map(|(id, _)| *id)
        .unwrap();
    let below_top = reporting
        .iter()
        .find(|(_, m)| **m == Some(top))
        .map(|(id, _)| *id)
        .unwrap();
    // The chief executive now reports to one of their own reports: nobody is at the top.
    sqlx::query("UPDATE employees SET manager_id = $1 WHERE id = $2")
        .bind(below_top)
        .bind(top)
        .execute(&app.db().pool)
        .await
        .unwrap();

    let (status, html) = opens_chart(&app, "/org").await;
    assert_eq!(status, Status::Ok);
    let ids = drawn(&html);
    assert_eq!(ids.len(), report.employees, "everyone is still drawn");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert!(html.contains("Reporting line loops"));

    let (status, html) = opens_chart(&app, &format!("/org?root={below_top}")).await;
    assert_eq!(status, Status::Ok);
    let ids = drawn(&html);
    assert_eq!(ids[0], below_top);
    assert_eq!(ids.len(), report.employees, "the loop is the whole company");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}

async fn the_team_of_someone_who_left_starts_its_own_tree(app: TestApp) {
    let report = with_the_demo_company(&app).await;
    let reporting = managers(&app).await;
    let manager = reporting
        .values()
        .filter_map(|m| *m)
        .find(|m| reporting[m].is_some())
        .expect("a manager below the top");
    sqlx::query("UPDATE employees SET status = 'terminated' WHERE id = $1")
        .bind(manager)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let (status, html) = opens_chart(&app, "/org").await;
    assert_eq!(status, Status::Ok);
    let ids = drawn(&html);
    assert_eq!(ids.len(), report.employees);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert!(
        html.contains("who has left"),
        "their team says why it stands alone"
    );
}

async fn a_chart_of_nobody_is_refused_with_a_clear_page(app: TestApp) {
    with_the_demo_company(&app).await;
    for (path, expected) in [
        ("/org?root=999999", Status::NotFound),
        ("/org?root=abc", Status::BadRequest),
        ("/org?root=-3", Status::BadRequest),
        ("/org?root=1%00", Status::BadRequest),
    ] {
        let (status, html) = app.browser.opens(path).await;
        assert_eq!(status, expected, "{path}");
        assert!(html.contains("</html>"), "{path} gets a page");
    }
    let (status, _) = app.browser.opens("/org?root=").await;
    assert_eq!(status, Status::Ok, "an empty choice draws everyone");

    let stranger = app.new_browser().await;
    let response = stranger.get("/org").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/login?next=%2Forg"));
}

on_every_backend!(
    the_demo_company_is_one_tree_with_every_employee_in_it_once,
    a_chart_can_start_at_anyone_and_their_profile_links_to_it,
    a_reporting_loop_planted_in_the_database_is_drawn_once_and_marked,
    the_team_of_someone_who_left_starts_its_own_tree,
    a_chart_of_nobody_is_refused_with_a_clear_page,
);
