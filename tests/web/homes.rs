//! A home for each role, and administration that asks before it destroys: an employee's home
//! leads with the people they work with, HR's with what needs doing; sessions are grouped by
//! person with one "Sign out everywhere" each; destructive account changes go through a
//! confirmation page; a new sign-in is one line.

use chrono::{Datelike, Days, NaiveDate};
use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

fn today(app: &TestApp) -> NaiveDate {
    app.app().calendar.date_at(app.clock.now())
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The record id and name of the person with the work e-mail `email`.
async fn record_of(app: &TestApp, email: &str) -> (i64, Option<i64>) {
    sqlx::query_as("SELECT id, manager_id FROM employees WHERE email = $1")
        .bind(email)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
}

async fn names_reporting_to(app: &TestApp, manager: i64, except: i64) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT id, name FROM employees WHERE manager_id = $1 AND id <> $2 \
         AND status <> 'terminated' ORDER BY id",
    )
    .bind(manager)
    .bind(except)
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
}

async fn set(app: &TestApp, sql: &str, id: i64, value: &str) {
    sqlx::query(sql)
        .bind(value)
        .bind(id)
        .execute(&app.db().pool)
        .await
        .unwrap();
}

/// The HTML of the section with `id` on `page`.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page"));
    let end = page[start..]
        .find("</section>")
        .map_or(page.len(), |end| start + end);
    &page[start..end]
}

async fn an_employee_home_leads_with_the_people_they_work_with(app: TestApp) {
    let demo = app.fill_demo_company().await;
    let employee = demo_account(&demo, Role::Employee).clone();
    let (me, manager) = record_of(&app, &employee.email).await;
    let manager = manager.expect("the demo employee has a manager");
    let peers = names_reporting_to(&app, manager, me).await;
    assert!(peers.len() >= 3, "the demo employee has peers");
    let today = today(&app);
    // One peer started last week, one has three years coming up in ten days, one has left.
    let (new_peer, anniversary_peer, leaver) = (&peers[0], &peers[1], &peers[2]);
    let new_start = iso(today.checked_sub_days(Days::new(7)).unwrap());
    set(
        &app,
        "UPDATE employees SET start_date = $1 WHERE id = $2",
        new_peer.0,
        &new_start,
    )
    .await;
    let in_ten_days = today.checked_add_days(Days::new(10)).unwrap();
    let three_years_before = in_ten_days.with_year(in_ten_days.year() - 3).unwrap();
    set(
        &app,
        "UPDATE employees SET start_date = $1 WHERE id = $2",
        anniversary_peer.0,
        &iso(three_years_before),
    )
    .await;
    set(
        &app,
        "UPDATE employees SET status = 'terminated', left_on = $1 WHERE id = $2",
        leaver.0,
        &iso(today.checked_sub_days(Days::new(40)).unwrap()),
    )
    .await;

    app.sign_in_to_the_demo_as(&demo, Role::Employee).await;
    let (status, page) = app.browser.opens("/dashboard").await;
    assert_eq!(status, Status::Ok);
    let circle = section(&page, "work-circle");
    let manager_name: String = sqlx::query_scalar("SELECT name FROM employees WHERE id = $1")
        .bind(manager)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert!(circle.contains("Your manager") && circle.contains(&manager_name));
    let new_item = &circle[circle.find(&new_peer.1).unwrap()..];
    assert!(
        new_item[..new_item.find("</li>").unwrap()].contains(">New<"),
        "a peer who started last week is marked new"
    );
    assert!(
        circle.contains(&format!(
            "{}</a>: 3 years with the company on",
            anniversary_peer.1
        )),
        "the coming anniversary is listed"
    );
    assert!(
        !circle.contains(&leaver.1),
        "a leaver is not among the team"
    );
    assert!(circle.contains("action=\"/employees\""), "a search box");
    assert!(
        page.find("id=\"work-circle\"").unwrap() < page.find("id=\"company-figures\"").unwrap(),
        "the team before the company's figures"
    );
    assert!(
        !page.contains("id=\"hr-attention\""),
        "no HR list for an employee"
    );
}

async fn hr_home_lists_what_needs_doing(app: TestApp) {
    let demo = app.fill_demo_company().await;
    let today = today(&app);
    // Three records without an account: one leaving this month, one who started a month ago,
    // one without a location.
    let unlinked: Vec<(i64, String)> = sqlx::query_as(
        "SELECT e.id, e.name FROM employees e WHERE e.status <> 'terminated' \
           AND e.manager_id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM users u WHERE u.employee_id = e.id) \
           AND NOT EXISTS (SELECT 1 FROM employees r WHERE r.manager_id = e.id) \
         ORDER BY e.id LIMIT 3",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap();
    let (leaver, joiner, incomplete) = (&unlinked[0], &unlinked[1], &unlinked[2]);
    set(
        &app,
        "UPDATE employees SET status = 'terminated', left_on = $1 WHERE id = $2",
        leaver.0,
        &iso(today.with_day(1).unwrap()),
    )
    .await;
    // The start of the window: first in the list, however many others start around now.
    let starts = iso(today.checked_sub_days(Days::new(30)).unwrap());
    set(
        &app,
        "UPDATE employees SET start_date = $1 WHERE id = $2",
        joiner.0,
        &starts,
    )
    .await;
    set(
        &app,
        "UPDATE employees SET location = $1 WHERE id = $2",
        incomplete.0,
        "",
    )
    .await;

    app.sign_in_to_the_demo_as(&demo, Role::Hr).await;
    let (_, page) = app.browser.opens("/dashboard").await;
    let todo = section(&page, "hr-attention");
    let leavers = section(todo, "attention-leavers");
    assert!(leavers.contains(&leaver.0.to_string()) && leavers.contains(&leaver.1));
    assert!(leavers.contains("No account"));
    assert!(section(todo, "attention-joiners").contains(&joiner.1));
    assert!(section(todo, "attention-incomplete").contains(&incomplete.1));
    assert!(
        todo.contains("id=\"turnover\""),
        "turnover over twelve months"
    );

    let employee = app.new_browser().await;
    let account = demo_account(&demo, Role::Employee);
    employee
        .signs_in_as(&account.email, account.password.expose())
        .await;
    let (_, page) = employee.opens("/dashboard").await;
    assert!(
        !page.contains("id=\"hr-attention\""),
        "nothing of it for an employee"
    );
}

async fn sessions_are_grouped_by_person_with_one_sign_out_everywhere_each(app: TestApp) {
    let root = app.sign_in_as_admin().await;
    app.create_ada().await;
    app.create_user("bob@example.com", "Bob", Role::Employee)
        .await;
    let mut browsers = Vec::new();
    for email in ["ada@example.com", "ada@example.com", "bob@example.com"] {
        let browser = app.new_browser().await;
        assert_eq!(browser.signs_in_as(email, PASSWORD).await, Status::SeeOther);
        browsers.push(browser);
    }
    let (_, page) = app.browser.opens("/admin/sessions").await;
    assert_eq!(
        page.matches("class=\"person-row\"").count(),
        3,
        "Ada, Bob, root"
    );
    assert_eq!(
        page.matches("/revoke\"").count(),
        4,
        "one Sign out per session"
    );
    assert_eq!(
        page.matches("confirm?action=sign-out-everywhere").count(),
        2,
        "one Sign out everywhere per person, none for the viewer's own"
    );
    let ada_group = section_of_tbody(&page, "ada@example.com");
    assert_eq!(
        ada_group.matches("<tr").count(),
        3,
        "Ada's row and her two sessions"
    );
    assert!(!page.contains(&format!("/admin/users/{}/confirm", root.id)));
}

fn section_of_tbody<'a>(page: &'a str, person: &str) -> &'a str {
    let start = page
        .find(&format!("data-person=\"{person}\""))
        .expect("a group for the person");
    let end = start + page[start..].find("</tbody>").unwrap();
    &page[start..end]
}

async fn destructive_account_changes_go_through_a_confirmation_page(app: TestApp) {
    let root = app.sign_in_as_admin().await;
    app.create_ada().await;
    let ada_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let (_, users) = app.browser.opens("/admin/users").await;
    for direct in ["/disable\"", "/sessions/revoke\"", "/reset-two-factor\""] {
        assert!(
            !users.contains(direct),
            "no one-click {direct} on the users page"
        );
    }
    let disable_ada = format!("/admin/users/{ada_id}/confirm?action=disable");
    assert!(users.contains(&disable_ada));
    assert!(
        !users.contains(&format!("/admin/users/{}/confirm?action=disable", root.id)),
        "no Disable on your own row"
    );
    assert!(users.contains("<summary class=\"button\">Invite someone</summary>"));

    let (status, confirm) = app.browser.opens(&disable_ada).await;
    assert_eq!(status, Status::Ok);
    assert!(
        confirm.contains("Disable Ada&#x27;s account?"),
        "the question names her"
    );
    assert!(confirm.contains("ada@example.com"));
    assert!(confirm.contains(&format!("action=\"/admin/users/{ada_id}/disable\"")));
    assert!(confirm.contains("href=\"/admin/users\">Cancel<"));
    let own = format!("/admin/users/{}/confirm?action=disable", root.id);
    assert_eq!(app.browser.opens(&own).await.0, Status::NotFound);
    let unknown = format!("/admin/users/{ada_id}/confirm?action=delete");
    assert_eq!(app.browser.opens(&unknown).await.0, Status::NotFound);
    assert_eq!(
        app.browser
            .opens("/admin/users/999999/confirm?action=disable")
            .await
            .0,
        Status::NotFound
    );

    let disable = format!("/admin/users/{ada_id}/disable");
    let response = app.browser.submits(&disable_ada, &disable, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let disabled: i64 = sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1")
        .bind(ada_id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(disabled, 1);

    let signed_out = app.new_browser().await;
    let (status, _) = signed_out.opens(&disable_ada).await;
    assert_eq!(status, Status::SeeOther, "to the login page");
}

on_every_backend!(
    an_employee_home_leads_with_the_people_they_work_with,
    hr_home_lists_what_needs_doing,
    sessions_are_grouped_by_person_with_one_sign_out_everywhere_each,
    destructive_account_changes_go_through_a_confirmation_page,
);
