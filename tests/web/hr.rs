//! The HR pages: the directory on the demo company, profiles, adding and editing employees, the
//! dashboard figures, and the demo fill itself.
//!
//! Expectations come from the generated company (`demo::generate`), not from the queries under
//! test: the directory must list what the company plan says, in the order the plan implies.

use chrono::{Datelike, Duration, NaiveDate};
use hr_portal::app::demo::{DemoAccount, DemoError, DemoReport};
use hr_portal::hr::demo::{self, DemoCompany, DEMO_SEED};
use hr_portal::hr::EmployeeStatus;
use hr_portal::text::fold;
use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

/// One person of the demo company together with the id the database gave them.
#[derive(Debug, Clone)]
struct Person {
    id: i64,
    name: String,
    email: String,
    title: String,
    department: String,
    manager: Option<i64>,
    start_date: NaiveDate,
    status: EmployeeStatus,
}

struct Demo {
    app: TestApp,
    report: DemoReport,
    people: Vec<Person>,
}

impl Demo {
    fn account(&self, role: Role) -> &DemoAccount {
        demo_account(&self.report, role)
    }

    async fn sign_in(&self, role: Role) {
        self.app.sign_in_to_the_demo_as(&self.report, role).await;
    }

    /// The people with the company today: the directory's default. (The demo's leavers all
    /// have a last day that is over, so "current" is "not marked as left".)
    fn current(&self) -> impl Iterator<Item = &Person> {
        self.people
            .iter()
            .filter(|p| p.status != EmployeeStatus::Terminated)
    }

    fn person(&self, name: &str) -> &Person {
        self.people
            .iter()
            .find(|p| p.name == name)
            .expect("person is in the demo")
    }
}

fn today_of(app: &TestApp) -> NaiveDate {
    app.app().today()
}

/// The demo company in `app`, dated from the app clock's today.
async fn demo_in(app: TestApp) -> Demo {
    let report = app.fill_demo_company().await;
    let company = demo::generate(DEMO_SEED, today_of(&app));
    let people = people_of(&app, &company).await;
    Demo {
        app,
        report,
        people,
    }
}

/// The planned people with their database ids (matched by their unique work e-mail).
async fn people_of(app: &TestApp, company: &DemoCompany) -> Vec<Person> {
    let ids: Vec<(i64, String)> = sqlx::query_as("SELECT id, email FROM employees")
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
    let id_of = |email: &str| {
        ids.iter()
            .find(|(_, e)| e == email)
            .map(|(id, _)| *id)
            .expect("every planned person is stored")
    };
    company
        .employees
        .iter()
        .map(|e| Person {
            id: id_of(&e.email),
            name: e.name.clone(),
            email: e.email.clone(),
            title: e.title.clone(),
            department: company.departments[e.department].clone(),
            manager: e.manager.map(|m| id_of(&company.employees[m].email)),
            start_date: e.start_date,
            status: e.status,
        })
        .collect()
}

/// Ids of the people a directory page lists, in order.
fn listed_ids(html: &str) -> Vec<i64> {
    ids_after(html, "<a class=\"person\" href=\"/employees/")
}

pub(crate) fn ids_after(html: &str, marker: &str) -> Vec<i64> {
    html.split(marker)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The "N people" count above the directory table.
pub(crate) fn result_count(html: &str) -> i64 {
    let marker = "id=\"result-count\">";
    let at = html.find(marker).expect("the directory shows a count") + marker.len();
    html[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("the count is a number")
}

/// People sorted the way the directory's default order promises: by folded name, then id.
fn by_name<'a>(people: impl IntoIterator<Item = &'a Person>) -> Vec<i64> {
    let mut sorted: Vec<&Person> = people.into_iter().collect();
    sorted.sort_by_key(|p| (fold(&p.name), p.id));
    sorted.into_iter().map(|p| p.id).collect()
}

/// Reads every page of a directory listing (`path` already has its query string).
async fn all_pages(demo: &Demo, path: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for page in 1.. {
        let (status, html) = demo.app.browser.opens(&format!("{path}&page={page}")).await;
        assert_eq!(status, Status::Ok);
        let listed = listed_ids(&html);
        assert!(listed.len() <= 25, "at most 25 people per page");
        if listed.is_empty() {
            break;
        }
        ids.extend(listed);
    }
    ids
}

async fn directory_search_finds_people_by_name_title_or_department_and_pages_through_them(
    app: TestApp,
) {
    let demo = demo_in(app).await;
    demo.sign_in(Role::Employee).await;
    let browser = &demo.app.browser;
    let everyone = by_name(demo.current());
    let pages = everyone.len().div_ceil(25);

    let (status, html) = browser.opens("/employees").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(result_count(&html), everyone.len() as i64);
    assert_eq!(listed_ids(&html), everyone[..25]);
    assert!(html.contains(&format!("Page 1 of {pages}")));
    let (_, last) = browser.opens(&format!("/employees?page={pages}")).await;
    assert_eq!(listed_ids(&last), everyone[(pages - 1) * 25..]);
    let (status, beyond) = browser
        .opens(&format!("/employees?page={}", pages + 1))
        .await;
    assert_eq!(status, Status::Ok);
    assert!(listed_ids(&beyond).is_empty());

    // A title word: matched case-insensitively, listed by name across several pages.
    let matches = |term: &str| {
        let term = fold(term);
        by_name(demo.current().filter(|p| {
            fold(&p.name).contains(&term)
                || fold(&p.title).contains(&term)
                || fold(&p.department).contains(&term)
        }))
    };
    let engineers = matches("engineer");
    assert!(
        engineers.len() > 25,
        "the demo has more engineers than a page holds"
    );
    let (_, html) = browser.opens("/employees?q=ENGINEER").await;
    assert_eq!(result_count(&html), engineers.len() as i64);
    assert_eq!(
        all_pages(&demo, "/employees?q=Engineer&department=&sort=name").await,
        engineers
    );

    // A department name finds its people; a surname finds its bearers.
    let success = matches("customer success");
    assert!(success.len() > 20, "most of Customer Success is still here");
    let (_, html) = browser.opens("/employees?q=customer%20success").await;
    assert_eq!(result_count(&html), success.len() as i64);
    let sam = demo.person(demo::DEMO_EMPLOYEE_NAME);
    let (_, html) = browser.opens("/employees?q=okafor").await;
    assert!(listed_ids(&html).contains(&sam.id));
    assert_eq!(listed_ids(&html), matches("okafor"));

    // LIKE wildcards are searched for literally, not expanded.
    for literal in ["%", "_", "\\"] {
        let path = format!("/employees?q={}", encode(literal));
        let (status, html) = browser.opens(&path).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(result_count(&html), 0, "{literal:?} matches nobody");
    }
}

async fn the_department_filter_lists_only_that_department(app: TestApp) {
    let demo = demo_in(app).await;
    demo.sign_in(Role::Employee).await;
    let sales_id: i64 = sqlx::query_scalar("SELECT id FROM departments WHERE name = 'Sales'")
        .fetch_one(&demo.app.db().pool)
        .await
        .unwrap();
    let sales = by_name(demo.current().filter(|p| p.department == "Sales"));
    assert!(sales.len() > 25, "Sales fills more than a page");
    let listed = all_pages(&demo, &format!("/employees?department={sales_id}")).await;
    assert_eq!(listed, sales);

    // Filter and search combine.
    let (_, html) = demo
        .app
        .browser
        .opens(&format!(
            "/employees?department={sales_id}&q=account%20executive"
        ))
        .await;
    let expected = by_name(
        demo.current()
            .filter(|p| p.department == "Sales" && fold(&p.title).contains("account executive")),
    );
    assert!(!expected.is_empty());
    assert_eq!(listed_ids(&html), expected);

    // An unknown department lists nobody; a malformed one is ignored. Neither is an error.
    let (status, html) = demo.app.browser.opens("/employees?department=999999").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(result_count(&html), 0);
    let (status, html) = demo.app.browser.opens("/employees?department=abc").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(result_count(&html), demo.current().count() as i64);
}

#[rocket::async_test]
async fn the_directory_sorts_by_name_start_date_and_department_and_ignores_unknown_keys() {
    let demo = demo_in(spawn_app().await).await;
    demo.sign_in(Role::Employee).await;
    let browser = &demo.app.browser;
    let first_page = |mut people: Vec<&Person>, key: fn(&Person) -> (String, String, i64)| {
        people.sort_by_key(|p| key(p));
        people.iter().take(25).map(|p| p.id).collect::<Vec<_>>()
    };
    let everyone: Vec<&Person> = demo.current().collect();

    let (_, html) = browser.opens("/employees?sort=start").await;
    let earliest = first_page(everyone.clone(), |p| {
        (p.start_date.to_string(), String::new(), p.id)
    });
    assert_eq!(listed_ids(&html), earliest);

    let (_, html) = browser.opens("/employees?sort=start_desc").await;
    let mut newest: Vec<&Person> = everyone.clone();
    newest.sort_by_key(|p| std::cmp::Reverse((p.start_date, p.id)));
    let newest: Vec<i64> = newest.iter().take(25).map(|p| p.id).collect();
    assert_eq!(listed_ids(&html), newest);

    let (_, html) = browser.opens("/employees?sort=department&page=1").await;
    let by_department = first_page(everyone.clone(), |p| {
        (fold(&p.department), fold(&p.name), p.id)
    });
    assert_eq!(listed_ids(&html), by_department);
    assert!(html.contains("<th scope=\"col\" aria-sort=\"ascending\"><a class=\"sort\" href=\"/employees?sort=department&amp;dir=desc"));

    let by_name_ids = by_name(demo.current());
    for junk in [
        "bogus",
        "name;%20DROP%20TABLE%20employees",
        "start_date%20DESC",
        "",
    ] {
        let (status, html) = browser.opens(&format!("/employees?sort={junk}")).await;
        assert_eq!(status, Status::Ok, "sort={junk}");
        assert_eq!(
            listed_ids(&html),
            by_name_ids[..25],
            "sort={junk} falls back to name"
        );
    }
    assert_eq!(demo.app.employees().await, 200);

    // Pagination links keep the search, filter and order (the former dropdown's
    // `start_desc` still opens, as the newest first).
    let (_, html) = browser.opens("/employees?q=engineer&sort=start_desc").await;
    assert!(html.contains(
        "href=\"/employees?q=engineer&amp;sort=start&amp;dir=desc&amp;size=25&amp;page=2\""
    ));
}

#[rocket::async_test]
async fn a_profile_shows_the_manager_and_the_direct_reports() {
    let demo = demo_in(spawn_app().await).await;
    demo.sign_in(Role::Employee).await;
    let browser = &demo.app.browser;
    let sam = demo.person(demo::DEMO_EMPLOYEE_NAME);
    let lead_id = sam.manager.expect("Sam has a team lead");
    let lead = demo.people.iter().find(|p| p.id == lead_id).unwrap();
    let head_id = lead.manager.expect("the lead reports to the head");

    let (status, html) = browser.opens(&format!("/employees/{lead_id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&lead.title));
    assert!(html.contains(&lead.email));
    let manager_section = &html[html.find("id=\"manager\"").unwrap()..];
    assert_eq!(
        ids_after(manager_section, "<a href=\"/employees/").first(),
        Some(&head_id),
        "the manager links to the head of department"
    );
    let reports_section = &html[html.find("id=\"reports\"").unwrap()..];
    let reports_html = &reports_section[..reports_section.find("</ul>").unwrap()];
    let expected = by_name(demo.people.iter().filter(|p| p.manager == Some(lead_id)));
    assert!(expected.contains(&sam.id));
    assert_eq!(ids_after(reports_html, "<a href=\"/employees/"), expected);

    // The chief executive has nobody above; an individual contributor nobody below.
    let chief = demo.people.iter().find(|p| p.manager.is_none()).unwrap();
    let (_, html) = browser.opens(&format!("/employees/{}", chief.id)).await;
    assert!(html.contains("Nobody — top of the organisation."));
    let (_, html) = browser.opens(&format!("/employees/{}", sam.id)).await;
    assert!(html.contains("No direct reports."));
    assert!(!html.contains("/edit\""), "no edit link for a non-admin");

    for missing in [
        "/employees/999999",
        "/employees/0",
        "/employees/-1",
        "/employees/abc",
    ] {
        let (status, html) = browser.opens(missing).await;
        assert_eq!(status, Status::NotFound, "{missing}");
        assert!(html.contains("Not found"));
    }
}

/// A complete, valid employee form (without the CSRF token).
fn new_hire(department: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Grace Hopper".into()),
        ("email", "Grace.Hopper@Larkspur.example".into()),
        ("title", "Principal Engineer".into()),
        ("department", department.into()),
        ("new_department", String::new()),
        ("manager", String::new()),
        ("location", "Arlington".into()),
        ("start_date", "2026-01-05".into()),
        ("status", "active".into()),
    ]
}

fn with(fields: &[(&'static str, String)], name: &str, value: &str) -> Vec<(&'static str, String)> {
    fields
        .iter()
        .map(|(k, v)| {
            (
                *k,
                if *k == name {
                    value.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

async fn post_employee<'c>(
    browser: &'c rocket::local::asynchronous::Client,
    form_page: &str,
    action: &str,
    fields: &[(&'static str, String)],
) -> rocket::local::asynchronous::LocalResponse<'c> {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.submits(form_page, action, &borrowed).await
}

/// Everything stored about employees, for "nothing changed" checks.
async fn employee_table(
    app: &TestApp,
) -> Vec<(
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    String,
    String,
)> {
    sqlx::query_as(
        "SELECT id, name, email, title, department_id, manager_id, start_date, status \
         FROM employees ORDER BY id",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
}

async fn id_of_department(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM departments WHERE name = $1")
        .bind(name)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
}

#[rocket::async_test]
async fn a_non_admin_can_neither_open_nor_post_the_employee_forms() {
    let demo = demo_in(spawn_app().await).await;
    demo.sign_in(Role::Employee).await;
    let browser = &demo.app.browser;
    let sam = demo.person(demo::DEMO_EMPLOYEE_NAME);
    let before = employee_table(&demo.app).await;
    let engineering = id_of_department(&demo.app, "Engineering").await.to_string();

    for path in [
        "/admin/employees/new".to_string(),
        format!("/admin/employees/{}/edit", sam.id),
    ] {
        let (status, html) = browser.opens(&path).await;
        assert_eq!(status, Status::Forbidden, "{path}");
        assert!(html.contains("Not allowed"));
    }
    // Even with a valid CSRF token (taken from a page they may see) the posts are refused.
    let promote = with(&new_hire(&engineering), "title", "Chief Everything Officer");
    let response = post_employee(browser, "/dashboard", "/admin/employees/new", &promote).await;
    assert_eq!(response.status(), Status::Forbidden);
    let edit = format!("/admin/employees/{}/edit", sam.id);
    let response = post_employee(browser, "/dashboard", &edit, &promote).await;
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(employee_table(&demo.app).await, before, "nothing changed");

    let (_, html) = browser.opens("/employees").await;
    assert!(
        !html.contains("/admin/employees/new"),
        "no add link for a non-admin"
    );

    // Anonymous visitors are sent to sign in first.
    let anonymous = demo.app.new_browser().await;
    let response = anonymous.get("/employees?q=sam").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        location(&response),
        Some("/login?next=%2Femployees%3Fq%3Dsam")
    );
    let response = anonymous.get("/admin/employees/new").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
}

async fn an_admin_adds_and_edits_an_employee_with_the_csrf_token(app: TestApp) {
    let demo = demo_in(app).await;
    demo.sign_in(Role::Admin).await;
    let app = &demo.app;
    let browser = &app.browser;
    let engineering = id_of_department(app, "Engineering").await;
    let sam = demo.person(demo::DEMO_EMPLOYEE_NAME);

    let (status, html) = browser.opens("/admin/employees/new").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("action=\"/admin/employees/new\""));
    for label in [
        "Full name",
        "Work e-mail",
        "Job title",
        "Department",
        "Manager",
        "Location",
        "Start date",
        "Status",
    ] {
        assert!(
            html.contains(&format!("\">{label}</label>")),
            "label {label}"
        );
    }

    let fields = with(
        &new_hire(&engineering.to_string()),
        "manager",
        &sam.id.to_string(),
    );
    let response = post_employee(
        browser,
        "/admin/employees/new",
        "/admin/employees/new",
        &fields,
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let to = location(&response).unwrap().to_string();
    let id: i64 = to.strip_prefix("/employees/").unwrap().parse().unwrap();
    let (status, html) = browser.opens(&to).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Grace Hopper was added to the directory."));
    assert!(
        html.contains("grace.hopper@larkspur.example"),
        "the work e-mail is normalized"
    );
    let stored: (String, i64, Option<i64>, String, String) = sqlx::query_as(
        "SELECT title, department_id, manager_id, start_date, status FROM employees WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "Principal Engineer".into(),
            engineering,
            Some(sam.id),
            "2026-01-05".into(),
            "active".into()
        )
    );
    assert_eq!(app.employees().await, 201);
    let (_, html) = browser.opens(&format!("/employees/{}", sam.id)).await;
    assert!(
        html.contains(&format!("<a href=\"/employees/{id}\">Grace Hopper</a>")),
        "Sam has a report now"
    );

    // Edit: the form shows the stored values; a new department is created with the change.
    let edit = format!("/admin/employees/{id}/edit");
    let (status, html) = browser.opens(&edit).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&format!("action=\"{edit}\"")));
    assert!(html.contains("value=\"Principal Engineer\""));
    // The manager picker shows the manager by name and work e-mail (what it posts back).
    assert!(html.contains(&format!(
        "name=\"manager\" list=\"manager-choices\" maxlength=\"400\" value=\"{} &lt;{}&gt;\"",
        sam.name, sam.email
    )));
    let changed = with(
        &with(
            &with(&fields, "title", "Distinguished Engineer"),
            "new_department",
            "Research Lab",
        ),
        "status",
        "on_leave",
    );
    let changed = with(&changed, "manager", "");
    let response = post_employee(browser, &edit, &edit, &changed).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some(to.as_str()));
    let stored: (String, String, Option<i64>, String) = sqlx::query_as(
        "SELECT e.title, d.name, e.manager_id, e.status FROM employees e \
         JOIN departments d ON d.id = e.department_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "Distinguished Engineer".into(),
            "Research Lab".into(),
            None,
            "on_leave".into()
        )
    );
    let (_, html) = browser.opens(&to).await;
    assert!(html.contains("Grace Hopper&#x27;s record was saved."));
    assert!(html.contains("On leave"));

    // The same form without its token changes nothing.
    let before = employee_table(app).await;
    let forged = with(&changed, "title", "Forged");
    let mut fields: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = browser.posts(&edit, &fields).await;
    assert_eq!(response.status(), Status::Forbidden);
    fields.push(("csrf_token", "not-the-token"));
    let response = browser.posts("/admin/employees/new", &fields).await;
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(employee_table(app).await, before);
}

async fn bad_employee_input_gets_a_4xx_and_changes_nothing(app: TestApp) {
    let demo = demo_in(app).await;
    demo.sign_in(Role::Admin).await;
    let app = &demo.app;
    let browser = &app.browser;
    let engineering = id_of_department(app, "Engineering").await.to_string();
    let valid = new_hire(&engineering);
    let sam = demo.person(demo::DEMO_EMPLOYEE_NAME);
    let before = employee_table(app).await;
    let departments_before = app.departments().await;
    let terminated = demo
        .people
        .iter()
        .find(|p| p.status == EmployeeStatus::Terminated)
        .expect("the demo has people who left");

    let cases: Vec<(&str, &str, &str)> = vec![
        ("name", "", "Please enter a name."),
        ("name", "   ", "Please enter a name."),
        ("name", "Bell\u{7}Ringer", "not allowed"),
        (
            "email",
            "not-an-email",
            "does not look like an e-mail address",
        ),
        ("email", &sam.email, "already has that work e-mail"),
        ("title", "", "Please enter a job title."),
        ("department", "", "Please choose a department."),
        ("department", "999999", "Please choose a department."),
        ("department", "engineering", "Please choose a department."),
        (
            "manager",
            "999999",
            "Please choose a manager from the list.",
        ),
        ("manager", "x", "Please choose a manager from the list."),
        (
            "location",
            "",
            "Please choose a location, or add a new one.",
        ),
        ("start_date", "2025-02-30", "valid start date"),
        ("start_date", "05/01/2025", "valid start date"),
        ("start_date", "0001-01-01", "valid start date"),
        ("status", "boss", "Please choose a status."),
        ("status", "", "Please choose a status."),
    ];
    let terminated_id = terminated.id.to_string();
    let mut cases = cases;
    cases.push(("manager", &terminated_id, "left the company"));
    for (field, value, message) in &cases {
        let fields = with(&valid, field, value);
        let response = post_employee(
            browser,
            "/admin/employees/new",
            "/admin/employees/new",
            &fields,
        )
        .await;
        assert_eq!(
            response.status(),
            Status::UnprocessableEntity,
            "{field}={value:?}"
        );
        let html = body(response).await;
        assert!(
            html.contains(message),
            "{field}={value:?} explains itself: {message}"
        );
        // The form comes back with what was typed.
        let kept = if *field == "location" {
            "value=\"Principal Engineer\""
        } else {
            "value=\"Arlington\""
        };
        assert!(html.contains(kept), "{field}={value:?} keeps the draft");
    }

    // Editing: nobody manages themselves or their own manager.
    let lead = sam.manager.unwrap();
    let edit_lead = format!("/admin/employees/{lead}/edit");
    let (_, form) = browser.opens(&edit_lead).await;
    let lead_person = demo.people.iter().find(|p| p.id == lead).unwrap();
    let own_pick = format!(
        "<option value=\"{} &lt;{}&gt;\">",
        lead_person.name, lead_person.email
    );
    assert!(!form.contains(&own_pick), "not offered as own manager");
    assert!(form.contains("<datalist id=\"manager-choices\">"));
    let lead_fields = with(
        &with(
            &with(
                &with(&valid, "name", &lead_person.name),
                "email",
                &lead_person.email,
            ),
            "title",
            &lead_person.title,
        ),
        "start_date",
        &lead_person.start_date.to_string(),
    );
    for (manager, message) in [
        (lead.to_string(), "cannot be their own manager"),
        (sam.id.to_string(), "reports to this employee"),
    ] {
        let fields = with(&lead_fields, "manager", &manager);
        let response = post_employee(browser, &edit_lead, &edit_lead, &fields).await;
        assert_eq!(
            response.status(),
            Status::UnprocessableEntity,
            "manager={manager}"
        );
        assert!(body(response).await.contains(message));
    }
    // The chief cannot be put under someone from their own organisation either (a longer loop).
    let chief = demo.people.iter().find(|p| p.manager.is_none()).unwrap();
    let edit_chief = format!("/admin/employees/{}/edit", chief.id);
    let chief_fields = with(
        &with(&with(&valid, "name", &chief.name), "email", &chief.email),
        "manager",
        &sam.id.to_string(),
    );
    let response = post_employee(browser, &edit_chief, &edit_chief, &chief_fields).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);

    // Unknown or malformed ids are 404s, for the form and the post alike.
    for path in ["/admin/employees/999999/edit", "/admin/employees/abc/edit"] {
        let (status, _) = browser.opens(path).await;
        assert_eq!(status, Status::NotFound, "{path}");
    }
    let response = post_employee(
        browser,
        "/dashboard",
        "/admin/employees/999999/edit",
        &valid,
    )
    .await;
    assert_eq!(response.status(), Status::NotFound);

    // An oversized body is refused before it is read into fields.
    let huge = "x".repeat(64 * 1024);
    let response = post_employee(
        browser,
        "/admin/employees/new",
        "/admin/employees/new",
        &with(&valid, "name", &huge),
    )
    .await;
    assert!(
        response.status().code >= 400 && response.status().code < 500,
        "{}",
        response.status()
    );

    assert_eq!(
        employee_table(app).await,
        before,
        "no refused form changed an employee"
    );
    assert_eq!(app.departments().await, departments_before);
}

#[rocket::async_test]
async fn employee_names_are_shown_as_text_never_as_markup() {
    let demo = demo_in(spawn_app().await).await;
    demo.sign_in(Role::Admin).await;
    let browser = &demo.app.browser;
    let engineering = id_of_department(&demo.app, "Engineering").await.to_string();
    let fields = with(&new_hire(&engineering), "name", "<script>alert(1)</script>");
    let response = post_employee(
        browser,
        "/admin/employees/new",
        "/admin/employees/new",
        &fields,
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    for path in ["/employees?q=script", "/employees?q=%3Cscript"] {
        let (_, html) = browser.opens(path).await;
        assert_eq!(result_count(&html), 1, "{path}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
        assert!(!html.contains("<script>alert(1)"));
    }
}

async fn the_demo_refuses_a_database_that_already_has_accounts_or_employees(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::Admin).await;
    assert!(matches!(
        app.try_fill_demo_company().await,
        Err(DemoError::NotEmpty)
    ));
    assert_eq!(app.employees().await, 0);
    assert_eq!(app.departments().await, 0);
    assert_eq!(app.accounts().await, 1);

    let fresh = spawn_on(app.backend())
        .await
        .expect("a second app on the same backend");
    fresh
        .try_fill_demo_company()
        .await
        .expect("an empty database is filled");
    assert!(matches!(
        fresh.try_fill_demo_company().await,
        Err(DemoError::NotEmpty)
    ));
    assert_eq!(fresh.employees().await, 200);
    assert_eq!(fresh.accounts().await, 5, "one account per role");
}

/// The whole company as stored, in insertion order, with references spelled out.
async fn company_dump(
    app: &TestApp,
) -> Vec<(
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
)> {
    sqlx::query_as(
        "SELECT e.name, e.email, e.title, d.name, m.email, e.location, e.start_date, e.status \
         FROM employees e JOIN departments d ON d.id = e.department_id \
         LEFT JOIN employees m ON m.id = e.manager_id ORDER BY e.id",
    )
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
}

async fn the_demo_company_is_the_same_for_the_same_seed(backend: Backend) {
    let day = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
    let mut dumps = Vec::new();
    let mut accounts = Vec::new();
    for seed in [DEMO_SEED, DEMO_SEED, DEMO_SEED + 1] {
        let Some(app) = spawn_on(backend).await else {
            return;
        };
        let report = hr_portal::app::demo::fill(app.app(), seed, day)
            .await
            .unwrap();
        accounts.push(report.accounts);
        dumps.push(company_dump(&app).await);
    }
    assert_eq!(dumps[0].len(), 200);
    assert_eq!(
        dumps[0], dumps[1],
        "same seed, same people, titles, managers and dates"
    );
    assert_ne!(dumps[0], dumps[2], "another seed, another company");
    // The stored company is exactly the generated plan.
    let plan = demo::generate(DEMO_SEED, day);
    let planned: Vec<&str> = plan.employees.iter().map(|e| e.email.as_str()).collect();
    let stored: Vec<&str> = dumps[0].iter().map(|row| row.1.as_str()).collect();
    assert_eq!(planned, stored);
    // Same accounts, but never the same passwords: those come from the OS generator.
    let emails = |i: usize| {
        accounts[i]
            .iter()
            .map(|a| a.email.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(emails(0), emails(1));
    assert_eq!(
        emails(0)[..2],
        [
            "dana.whitfield@larkspur.example",
            "sam.okafor@larkspur.example"
        ]
    );
    let roles: Vec<Role> = accounts[0].iter().map(|a| a.role).collect();
    assert_eq!(
        roles,
        [
            Role::Admin,
            Role::Employee,
            Role::Hr,
            Role::Security,
            Role::Auditor
        ],
        "one account per role"
    );
    assert_ne!(accounts[0][0].password, accounts[1][0].password);
}

/// Work anniversaries within the next 30 days, computed from the plan: soonest first.
fn expected_anniversaries(people: &[Person], today: NaiveDate) -> Vec<i64> {
    let mut found: Vec<(NaiveDate, String, i64)> = Vec::new();
    for offset in 0..30 {
        let day = today + Duration::days(offset);
        for p in people
            .iter()
            .filter(|p| p.status != EmployeeStatus::Terminated)
        {
            let s = p.start_date;
            let celebrates = (s.month(), s.day()) == (day.month(), day.day())
                || (s.month() == 2
                    && s.day() == 29
                    && (day.month(), day.day()) == (2, 28)
                    && NaiveDate::from_ymd_opt(day.year(), 2, 29).is_none());
            if celebrates && day.year() > s.year() {
                found.push((day, p.name.clone(), p.id));
            }
        }
    }
    found.sort();
    found.into_iter().map(|(_, _, id)| id).collect()
}

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).expect("section present");
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[rocket::async_test]
async fn the_dashboard_shows_the_profile_card_and_the_company_figures() {
    let demo = demo_in(spawn_app().await).await;
    demo.sign_in(Role::Employee).await;
    let (status, html) = demo.app.browser.opens("/dashboard").await;
    assert_eq!(status, Status::Ok);
    // What was there before stays.
    assert!(html.contains("Welcome, Sam Okafor"));
    assert!(html.contains("id=\"session-started\""));
    assert!(html.contains("href=\"/account/sessions\""));
    assert!(
        html.contains("<a href=\"/employees\">Employees</a>"),
        "top-bar link"
    );

    let sam = demo.person(demo::DEMO_EMPLOYEE_NAME);
    let lead = demo
        .people
        .iter()
        .find(|p| Some(p.id) == sam.manager)
        .unwrap();
    let profile = section(&html, "profile-card");
    assert!(profile.contains("Software Engineer"));
    assert!(profile.contains(">Engineering</a>"));
    assert!(profile.contains(&format!("<a href=\"/employees/{}\">", lead.id)));
    assert!(profile.contains(&format!("datetime=\"{}\"", sam.start_date)));

    // One bar per department, the largest the longest, counts without people who left; the
    // chart's description reads every count to a screen reader.
    let chart = section(&html, "headcount");
    assert_eq!(chart.matches("<rect ").count(), 8);
    assert!(chart.contains("role=\"img\""));
    let current = |dept: &str| {
        demo.people
            .iter()
            .filter(|p| p.department == dept && p.status != EmployeeStatus::Terminated)
            .count()
    };
    let engineering = current("Engineering");
    assert!(chart.contains(&format!("Engineering: {engineering} people")));
    assert!(chart.contains(&format!("<title>Engineering: {engineering}</title>")));
    let total: usize = demo
        .people
        .iter()
        .filter(|p| p.status != EmployeeStatus::Terminated)
        .count();
    assert!(chart.contains(&format!("{total} people in 8 departments")));
    assert!(!chart.contains("style="), "no inline styles under the CSP");
    assert!(html.contains(&format!("<span class=\"figure-value\">{total}</span>")));

    // Recent hires: the newest starters who are still here.
    let today = today_of(&demo.app);
    let mut hires: Vec<&Person> = demo
        .people
        .iter()
        .filter(|p| p.status != EmployeeStatus::Terminated && p.start_date <= today)
        .collect();
    hires.sort_by_key(|p| std::cmp::Reverse((p.start_date, p.id)));
    let expected: Vec<i64> = hires.iter().take(5).map(|p| p.id).collect();
    assert_eq!(
        ids_after(section(&html, "recent-hires"), "<a href=\"/employees/"),
        expected
    );

    let expected = expected_anniversaries(&demo.people, today);
    let listed = ids_after(section(&html, "anniversaries"), "<a href=\"/employees/");
    assert_eq!(listed, expected[..expected.len().min(8)]);
    if expected.len() > 8 {
        assert!(html.contains(&format!("…and {} more.", expected.len() - 8)));
    }
}

#[rocket::async_test]
async fn an_account_without_an_employee_record_gets_a_friendly_note_on_the_dashboard() {
    let app = spawn_app().await;
    app.create_user("ada@example.com", "Ada Lovelace", Role::Admin)
        .await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    let (status, html) = app.browser.opens("/dashboard").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Welcome, Ada Lovelace"));
    assert!(html.contains("not linked to an employee record"));
    assert!(html.contains("No departments yet."));
    assert!(html.contains("Nobody has joined yet."));
    assert!(html.contains("No work anniversaries in the next 30 days."));

    // With no departments yet, the first employee brings their own.
    let mut fields = new_hire("");
    fields = with(&fields, "new_department", "Engineering");
    let response = post_employee(
        &app.browser,
        "/admin/employees/new",
        "/admin/employees/new",
        &fields,
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let (_, html) = app.browser.opens("/employees").await;
    assert_eq!(result_count(&html), 1);
}

async fn a_new_hire_shows_on_the_dashboard_at_once_despite_the_figures_cache(app: TestApp) {
    let demo = demo_in(app).await;
    demo.sign_in(Role::Admin).await;
    let app = &demo.app;
    let browser = &app.browser;
    let (_, before) = browser.opens("/dashboard").await;
    assert!(!before.contains("Grace Hopper"));
    let engineering = id_of_department(app, "Engineering").await;
    let today = app.app().today().to_string();
    let fields = with(&new_hire(&engineering.to_string()), "start_date", &today);
    let response = post_employee(
        browser,
        "/admin/employees/new",
        "/admin/employees/new",
        &fields,
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let (_, after) = browser.opens("/dashboard").await;
    assert!(
        after.contains("Grace Hopper"),
        "the cached company figures were refreshed"
    );
}

on_every_backend!(
    a_new_hire_shows_on_the_dashboard_at_once_despite_the_figures_cache,
    directory_search_finds_people_by_name_title_or_department_and_pages_through_them,
    the_department_filter_lists_only_that_department,
    an_admin_adds_and_edits_an_employee_with_the_csrf_token,
    bad_employee_input_gets_a_4xx_and_changes_nothing,
    the_demo_refuses_a_database_that_already_has_accounts_or_employees,
    the_demo_company_is_the_same_for_the_same_seed,
);

#[rocket::async_test]
async fn the_dashboard_counts_joiners_and_leavers_and_shows_admins_what_needs_attention() {
    let demo = demo_in(spawn_app().await).await;
    let today = today_of(&demo.app);
    let this_month = today.format("%Y-%m").to_string();
    let joined = demo.app.employees_who_started_in(&this_month).await;
    let left = demo.app.employees_who_left_in(&this_month).await;
    let leavers = demo.app.employees_who_left().await;
    assert!(
        leavers > 0,
        "the demo company has people who left, with their last day"
    );

    // Two failed sign-ins for the administrator to see, then the administrator signs in.
    let stranger = demo.app.new_browser().await;
    for _ in 0..2 {
        stranger
            .signs_in_with(&[
                ("email", "nobody@example.com"),
                ("password", "wrong password!"),
            ])
            .await;
    }
    demo.sign_in(Role::Admin).await;
    let (status, html) = demo.app.browser.opens("/dashboard").await;
    assert_eq!(status, Status::Ok);
    let figure = |id: &str| {
        let rest = &html[html.find(&format!("id=\"{id}\"")).expect("figure shown")..];
        let value = &rest[rest.find("figure-value\">").unwrap() + "figure-value\">".len()..];
        value[..value.find('<').unwrap()].to_string()
    };
    assert_eq!(figure("figure-joined"), joined.to_string());
    assert_eq!(figure("figure-left"), left.to_string());
    // The monthly chart describes all twelve months in words.
    let flow = section(&html, "flow");
    assert_eq!(
        flow.matches(" joined, ").count(),
        2 * 12,
        "title and description per month"
    );

    let admin = section(&html, "admin-figures");
    assert!(admin.contains("href=\"/admin/sessions\""));
    assert!(admin.contains("href=\"/admin/audit?kind=login_failed\""));
    assert!(admin.contains("href=\"/admin/users\""));
    assert!(admin.contains("id=\"admin-failed-sign-ins\">2</span>"));
    assert!(admin.contains("id=\"admin-live-sessions\">1</span>"));
    assert!(admin.contains("id=\"admin-locked-accounts\">0</span>"));

    // An employee sees the company, not the administrator's figures.
    let employee = demo.app.new_browser().await;
    let account = demo.account(Role::Employee);
    employee
        .signs_in_as(&account.email, account.password.expose())
        .await;
    let (_, html) = employee.opens("/dashboard").await;
    assert!(html.contains("id=\"figure-headcount\""));
    assert!(!html.contains("id=\"admin-figures\""));
}
