//! The organisation chart: the demo company with its first two levels open and every deeper
//! team one "Open team" link away, everyone current in it once and leavers out; a chart that
//! starts at one person; a search and "Find me" that mark a person in their manager's team;
//! reporting lines planted in the database that loop or lead to someone who left — drawn,
//! never followed round; and a company of 20 000 whose first view stays small.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fantoccini::Client;
use hr_portal::app::demo::DemoReport;
use hr_portal::users::Role;
use rocket::http::Status;
use serde_json::Value;

use crate::browser::{click, open_browser, serve_as, sign_in, start_driver};
use crate::helpers::*;

/// Fills the app with the demo company and signs its employee account in on the first browser.
async fn with_the_demo_company(app: &TestApp) -> DemoReport {
    let report = app.fill_demo_company().await;
    app.sign_in_to_the_demo_as(&report, Role::Employee).await;
    report
}

/// The employee ids the chart draws, in drawing order.
fn drawn(html: &str) -> Vec<i64> {
    ids_after(html, "<a class=\"org-name\" href=\"/employees/")
}

/// The people whose team is folded behind an "Open team" link, in drawing order.
fn folded(html: &str) -> Vec<i64> {
    ids_after(html, "<a class=\"org-open\" href=\"/org?root=")
}

fn ids_after(html: &str, marker: &str) -> Vec<i64> {
    html.split(marker)
        .skip(1)
        .filter_map(|rest| rest.split(['"', '#']).next()?.parse().ok())
        .collect()
}

/// The person whose card is marked (`id="found"`).
fn marked(html: &str) -> Option<i64> {
    let (_, card) = html.split_once("id=\"found\"")?;
    drawn(card).first().copied()
}

/// Who is in the company, as the database says.
struct Company {
    /// Employee id → manager id.
    managers: HashMap<i64, Option<i64>>,
    /// Everyone who has not left.
    current: HashSet<i64>,
}

impl Company {
    async fn read(app: &TestApp) -> Company {
        let rows: Vec<(i64, Option<i64>, String)> =
            sqlx::query_as("SELECT id, manager_id, status FROM employees")
                .fetch_all(&app.db().pool)
                .await
                .unwrap();
        Company {
            managers: rows.iter().map(|(id, m, _)| (*id, *m)).collect(),
            current: rows
                .iter()
                .filter(|(_, _, status)| status != "terminated")
                .map(|(id, _, _)| *id)
                .collect(),
        }
    }

    /// `root` and everyone below them through managers who have not left.
    fn team_of(&self, root: i64) -> HashSet<i64> {
        let mut team = HashSet::from([root]);
        let mut queue = vec![root];
        while let Some(manager) = queue.pop() {
            for (id, m) in &self.managers {
                if *m == Some(manager) && self.current.contains(id) && team.insert(*id) {
                    queue.push(*id);
                }
            }
        }
        team
    }

    /// How many managers above `id`, up to the top of their tree.
    fn level(&self, id: i64) -> usize {
        let mut level = 0;
        let mut at = id;
        while let Some(Some(manager)) = self.managers.get(&at) {
            if !self.current.contains(manager) || level > self.managers.len() {
                break;
            }
            at = *manager;
            level += 1;
        }
        level
    }

    fn is_manager(&self, id: i64) -> bool {
        self.managers
            .iter()
            .any(|(report, m)| *m == Some(id) && self.current.contains(report))
    }
}

/// Opens the chart, failing the test if the page takes longer than a few seconds.
async fn opens_chart(app: &TestApp, path: &str) -> (Status, String) {
    rocket::tokio::time::timeout(Duration::from_secs(20), app.browser.opens(path))
        .await
        .expect("the chart is drawn without hanging")
}

/// Everyone the chart shows from `path`, opening every folded team through its link in turn.
async fn walk(app: &TestApp, path: &str) -> Vec<i64> {
    let (status, html) = opens_chart(app, path).await;
    assert_eq!(status, Status::Ok, "{path}");
    let mut everyone = drawn(&html);
    let mut to_open = folded(&html);
    while let Some(root) = to_open.pop() {
        let (status, html) = opens_chart(app, &format!("/org?root={root}")).await;
        assert_eq!(status, Status::Ok, "Open team of {root}");
        let ids = drawn(&html);
        assert_eq!(ids[0], root, "an opened team starts at its manager");
        assert!(ids.len() > 1, "an \"Open team\" link leads to a team");
        everyone.extend(&ids[1..]);
        to_open.extend(folded(&html));
    }
    everyone
}

async fn the_first_view_opens_two_levels_and_folds_the_teams_below(app: TestApp) {
    with_the_demo_company(&app).await;
    let company = Company::read(&app).await;
    let (status, html) = opens_chart(&app, "/org").await;
    assert_eq!(status, Status::Ok);
    let ids = drawn(&html);
    assert_eq!(company.managers[&ids[0]], None, "it starts at the top");
    assert!(
        ids.iter().all(|id| company.level(*id) <= 2),
        "nobody below the second level is drawn"
    );
    let closed = folded(&html);
    assert!(!closed.is_empty(), "the demo company is deeper than that");
    for id in &ids {
        assert_eq!(
            closed.contains(id),
            company.level(*id) == 2 && company.is_manager(*id),
            "a person at the third level with a team has an \"Open team\" link: {id}"
        );
    }

    // The link opens that person's team, two levels of it, with its size on the card before.
    let lead = closed[0];
    let team = company.team_of(lead);
    let size = format!("Team of {}</span>", team.len() - 1);
    let card = html
        .split(&format!("href=\"/employees/{lead}\""))
        .nth(1)
        .unwrap();
    assert!(
        card[..card.find("</li>").unwrap()].contains(&size),
        "{size}"
    );
    let (status, opened) = opens_chart(&app, &format!("/org?root={lead}")).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(drawn(&opened)[0], lead);
    assert!(drawn(&opened).iter().all(|id| team.contains(id)));
    assert!(opened.contains(&format!("({} people)", team.len())));
}

async fn a_folded_team_is_also_served_alone_for_opening_in_place(app: TestApp) {
    with_the_demo_company(&app).await;
    let company = Company::read(&app).await;
    let (_, html) = opens_chart(&app, "/org").await;
    let lead = folded(&html)[0];
    let (status, team) = opens_chart(&app, &format!("/org?root={lead}&fragment=1")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        team.trim_start().starts_with("<ul class=\"org-tree\""),
        "{team}"
    );
    assert!(!team.contains("<html"), "the reporting lines alone");
    assert_eq!(drawn(&team)[0], lead);
    assert_eq!(
        drawn(&team).into_iter().collect::<HashSet<_>>(),
        company.team_of(lead)
    );
    // Anywhere else the parameter changes nothing: a page, as without it.
    for path in ["/org?fragment=1", "/org?q=an&fragment=1"] {
        let (status, html) = opens_chart(&app, path).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert!(html.contains("</html>"), "{path}");
    }
    assert!(html.contains("<script src=\"/static/org-chart.js\" defer></script>"));
    let (status, _) = app.browser.opens("/static/org-chart.js").await;
    assert_eq!(status, Status::Ok);
}

async fn every_current_employee_is_one_open_team_away_and_in_the_chart_once(app: TestApp) {
    with_the_demo_company(&app).await;
    let company = Company::read(&app).await;
    let ids = walk(&app, "/org").await;
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "nobody drawn twice");
    assert_eq!(unique, company.current, "everyone current, and only them");
    let (_, html) = opens_chart(&app, "/org").await;
    assert!(html.contains(&format!("{} people,", company.current.len())));
    assert!(!html.contains("Reporting line loops"));
    let (_, nav) = app.browser.opens("/dashboard").await;
    assert!(nav.contains("href=\"/org\""), "the chart is in the menu");
}

async fn a_chart_can_start_at_anyone_and_their_profile_links_to_it(app: TestApp) {
    with_the_demo_company(&app).await;
    let company = Company::read(&app).await;
    // Someone in the middle: a manager who has a manager.
    let middle = company
        .managers
        .iter()
        .filter(|(id, m)| m.is_some() && company.current.contains(id))
        .map(|(id, _)| *id)
        .find(|id| company.is_manager(*id))
        .expect("the demo has middle managers");

    let (_, profile) = app.browser.opens(&format!("/employees/{middle}")).await;
    let link = format!("href=\"/org?root={middle}\"");
    assert!(profile.contains(&link), "the profile links to its chart");
    let ids = walk(&app, &format!("/org?root={middle}")).await;
    assert_eq!(ids[0], middle, "the chart starts at the chosen person");
    assert_eq!(
        ids.iter().copied().collect::<HashSet<_>>(),
        company.team_of(middle)
    );
    assert_eq!(ids.len(), company.team_of(middle).len());
    let (_, html) = opens_chart(&app, &format!("/org?root={middle}")).await;
    let up = format!("href=\"/org?root={}\"", company.managers[&middle].unwrap());
    assert!(html.contains(&up), "a link goes up to their manager's team");
}

async fn a_search_finds_a_person_and_marks_them_in_their_managers_team(app: TestApp) {
    with_the_demo_company(&app).await;
    let company = Company::read(&app).await;
    let names: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM employees")
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
    // Someone current with a manager and a name nobody else's contains.
    let (person, name) = names
        .iter()
        .filter(|(id, _)| company.current.contains(id) && company.managers[id].is_some())
        .find(|(id, name)| {
            let key = name.to_lowercase();
            !name.contains('\'')
                && names
                    .iter()
                    .all(|(other, n)| other == id || !n.to_lowercase().contains(&key))
        })
        .cloned()
        .expect("a unique name");
    let manager = company.managers[&person].unwrap();

    let query = name.to_uppercase().replace(' ', "+");
    let (status, html) = opens_chart(&app, &format!("/org?q={query}")).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        drawn(&html)[0],
        manager,
        "the chart starts at their manager"
    );
    assert_eq!(marked(&html), Some(person), "their card is marked");
    assert!(html.contains(&format!("{name} is marked below")));
    assert!(html.contains("value=\"") && html.contains(&name.to_uppercase()));

    // Part of a name that several people share lists them, each a link to their place.
    let (status, html) = opens_chart(&app, "/org?q=an").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("people match “an”"), "{html}");
    assert!(drawn(&html).is_empty(), "a list of matches, not a chart");
    let first = ids_after(&html, "<a href=\"/org?person=")[0];
    let (_, place) = opens_chart(&app, &format!("/org?person={first}")).await;
    assert_eq!(marked(&place), Some(first));

    let (status, html) = opens_chart(&app, "/org?q=Nobody+Called+This").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Nobody in the chart matches"));
}

async fn find_me_marks_the_signed_in_person_in_their_team(app: TestApp) {
    let report = with_the_demo_company(&app).await;
    let email = &demo_account(&report, Role::Employee).email;
    let me: i64 = sqlx::query_scalar("SELECT employee_id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let (_, html) = opens_chart(&app, "/org").await;
    let link = format!("id=\"find-me\" href=\"/org?person={me}#found\"");
    assert!(html.contains(&link), "{link}");
    let (status, html) = opens_chart(&app, &format!("/org?person={me}")).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(marked(&html), Some(me));
    assert!(html.contains("You are marked below"));

    // An account without an employee record has nowhere to be found.
    let admin = app
        .create_user("root@example.com", "Root", Role::Admin)
        .await;
    let (_, html) = app.browser_signed_in_as(&admin).await.opens("/org").await;
    assert!(html.contains("people, each under the person they report to"));
    assert!(!html.contains("find-me"));
}

async fn a_reporting_loop_planted_in_the_database_is_drawn_once_and_marked(app: TestApp) {
    with_the_demo_company(&app).await;
    let company = Company::read(&app).await;
    let top = company
        .managers
        .iter()
        .find(|(_, m)| m.is_none())
        .map(|(id, _)| *id)
        .unwrap();
    let below_top = company
        .managers
        .iter()
        .find(|(id, m)| **m == Some(top) && company.current.contains(id))
        .map(|(id, _)| *id)
        .unwrap();
    // The chief executive now reports to one of their own reports: nobody is at the top.
    sqlx::query("UPDATE employees SET manager_id = $1 WHERE id = $2")
        .bind(below_top)
        .bind(top)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let company = Company::read(&app).await;

    let ids = walk(&app, "/org").await;
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert_eq!(ids.len(), company.current.len(), "everyone is still drawn");
    let (_, html) = opens_chart(&app, "/org").await;
    assert!(html.contains("Reporting line loops"));

    let ids = walk(&app, &format!("/org?root={below_top}")).await;
    assert_eq!(ids[0], below_top);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert_eq!(
        ids.iter().copied().collect::<HashSet<_>>(),
        company.team_of(below_top),
        "the loop is drawn once, stopping where it began"
    );
}

async fn leavers_are_not_in_the_chart_and_their_team_starts_its_own_tree(app: TestApp) {
    with_the_demo_company(&app).await;
    let before = Company::read(&app).await;
    let manager = before
        .managers
        .values()
        .filter_map(|m| *m)
        .find(|m| before.managers[m].is_some() && before.current.contains(m))
        .expect("a manager below the top");
    sqlx::query("UPDATE employees SET status = 'terminated' WHERE id = $1")
        .bind(manager)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let company = Company::read(&app).await;
    assert!(company.current.len() < before.current.len());

    let ids = walk(&app, "/org").await;
    assert!(!ids.contains(&manager), "the leaver is not drawn");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), company.current);
    let (_, html) = opens_chart(&app, "/org").await;
    assert!(
        html.contains("who has left"),
        "their team says why it stands alone"
    );

    // Their own chart, their place and a search for them say they have left.
    for path in [
        format!("/org?root={manager}"),
        format!("/org?person={manager}"),
    ] {
        let (status, html) = opens_chart(&app, &path).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert!(html.contains("has left the company"), "{path}");
        assert!(drawn(&html).is_empty(), "{path}");
    }
}

async fn a_chart_of_nobody_is_refused_with_a_clear_page(app: TestApp) {
    with_the_demo_company(&app).await;
    for (path, expected) in [
        ("/org?root=999999", Status::NotFound),
        ("/org?person=999999", Status::NotFound),
        ("/org?root=abc", Status::BadRequest),
        ("/org?root=-3", Status::BadRequest),
        ("/org?root=1%00", Status::BadRequest),
        ("/org?person=abc", Status::BadRequest),
    ] {
        let (status, html) = app.browser.opens(path).await;
        assert_eq!(status, expected, "{path}");
        assert!(html.contains("</html>"), "{path} gets a page");
    }
    for path in ["/org?root=", "/org?q=", "/org?q=%00%01"] {
        let (status, html) = app.browser.opens(path).await;
        assert_eq!(status, Status::Ok, "{path}: an empty choice draws the top");
        assert!(html.contains("people, each under the person they report to"));
    }

    let stranger = app.new_browser().await;
    let response = stranger.get("/org").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/login?next=%2Forg"));
}

/// Writes `count` people straight into the database in one statement (the same SQL on both
/// engines): person i reports to person (i + 8) / 10, ten to a manager, person 1 at the top.
async fn plant_a_company(app: &TestApp, count: i64) {
    sqlx::query("INSERT INTO departments (name, name_key) VALUES ('Engineering', 'engineering')")
        .execute(&app.db().pool)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO employees (id, name, name_key, search_key, email, title, department_id, \
                                manager_id, location, start_date, status) \
         SELECT i, 'Person ' || i, 'person ' || i, 'person ' || i, \
                'person' || i || '@example.com', 'Engineer', \
                (SELECT id FROM departments WHERE name_key = 'engineering'), \
                CASE WHEN i = 1 THEN NULL ELSE (i + 8) / 10 END, 'Leeds', '2020-01-06', 'active' \
         FROM n",
    )
    .bind(count)
    .execute(&app.db().pool)
    .await
    .unwrap();
}

async fn the_first_view_of_a_company_of_twenty_thousand_stays_under_300_kb(app: TestApp) {
    const PEOPLE: i64 = 20_000;
    app.sign_in_as_admin().await;
    plant_a_company(&app, PEOPLE).await;
    for path in ["/org", "/org?root=12", "/org?q=Person+12345"] {
        let (status, html) = opens_chart(&app, path).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert!(
            html.len() < 300_000,
            "{path} is {} bytes at {PEOPLE} people",
            html.len()
        );
        assert!(!drawn(&html).is_empty(), "{path}");
    }
    let (_, html) = opens_chart(&app, "/org").await;
    assert!(html.contains(&format!("{PEOPLE} people,")));
    assert_eq!(drawn(&html).len(), 1 + 10 + 100, "three levels drawn");
    assert_eq!(folded(&html).len(), 100, "the third level's teams folded");
    let (_, html) = opens_chart(&app, "/org?q=Person+12345").await;
    assert_eq!(marked(&html), Some(12_345));
}

/// The phone the chart must fit: 390 px wide.
const PHONE: (u32, u32) = (390, 844);

/// Whether the open page is wider than the viewport, once the window is sized so that the
/// viewport (not the window with its decorations) is `PHONE`.
async fn scrolls_sideways_on_a_phone(browser: &Client) -> bool {
    let (width, height) = PHONE;
    browser.set_window_size(width, height).await.unwrap();
    let inner = browser
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    let inner = inner.as_u64().unwrap_or(width.into()) as u32;
    if inner != width {
        browser
            .set_window_size(width + width - inner, height)
            .await
            .unwrap();
    }
    let overflow = browser
        .execute(
            "const root = document.documentElement; return root.scrollWidth > root.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    overflow == Value::Bool(true)
}

#[rocket::async_test]
async fn the_chart_its_matches_and_a_found_person_fit_a_390_px_phone() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let report = app.fill_demo_company().await;
    let account = demo_account(&report, Role::Employee).clone();
    let base = serve_as(&app, "localhost").await;
    let (_, html) = {
        app.sign_in_to_the_demo_as(&report, Role::Employee).await;
        opens_chart(&app, "/org").await
    };
    let lead = folded(&html)[0];
    let me = ids_after(&html, "id=\"find-me\" href=\"/org?person=")[0];
    let browser = open_browser(&driver).await;
    sign_in(&browser, &base, &account.email, account.password.expose()).await;
    for path in [
        "/org".to_string(),
        format!("/org?root={lead}"),
        format!("/org?person={me}"),
        "/org?q=an".to_string(),
        "/org?q=Nobody+Called+This".to_string(),
    ] {
        browser.goto(&format!("{base}{path}")).await.unwrap();
        assert!(
            !scrolls_sideways_on_a_phone(&browser).await,
            "{path} scrolls sideways at 390 px"
        );
    }
    browser.close().await.unwrap();
}

/// The number of people drawn on the browser's page.
/// How many elements on the page match `css`.
async fn count_in(browser: &Client, css: &str) -> u64 {
    browser
        .execute(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

async fn cards_in(browser: &Client) -> u64 {
    count_in(browser, "a.org-name").await
}

#[rocket::async_test]
async fn with_its_script_open_team_opens_the_team_in_place_under_the_strict_csp() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let report = app.fill_demo_company().await;
    let account = demo_account(&report, Role::Employee).clone();
    let base = serve_as(&app, "localhost").await;
    let browser = open_browser(&driver).await;
    sign_in(&browser, &base, &account.email, account.password.expose()).await;
    browser.goto(&format!("{base}/org")).await.unwrap();
    let before = cards_in(&browser).await;
    let opens = count_in(&browser, "a.org-open").await;
    click(&browser, "a.org-open").await;
    let mut after = before;
    for _ in 0..100 {
        after = cards_in(&browser).await;
        if after > before {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(after > before, "the team appears below the card");
    let url = browser.current_url().await.unwrap();
    assert_eq!(
        (url.path(), url.query()),
        ("/org", None),
        "on the same page"
    );
    let left = count_in(&browser, "a.org-open").await;
    assert!(left > 0 && left != opens, "the opened team loses its link");
    browser.close().await.unwrap();
}

on_every_backend!(
    the_first_view_opens_two_levels_and_folds_the_teams_below,
    a_folded_team_is_also_served_alone_for_opening_in_place,
    every_current_employee_is_one_open_team_away_and_in_the_chart_once,
    a_chart_can_start_at_anyone_and_their_profile_links_to_it,
    a_search_finds_a_person_and_marks_them_in_their_managers_team,
    find_me_marks_the_signed_in_person_in_their_team,
    a_reporting_loop_planted_in_the_database_is_drawn_once_and_marked,
    leavers_are_not_in_the_chart_and_their_team_starts_its_own_tree,
    a_chart_of_nobody_is_refused_with_a_clear_page,
    the_first_view_of_a_company_of_twenty_thousand_stays_under_300_kb,
);
