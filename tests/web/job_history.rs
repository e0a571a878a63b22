//! The record at the centre: a job history with effective dates (an edit keeps the old title,
//! department, manager and location with their dates), the manager picker and its server-side
//! checks, the work phone, locations from a managed list with "add new", the initials avatar,
//! "Offboard" (the last day through the lifecycle), and the password field's focus after a
//! refused sign-in.

use chrono::{Duration, NaiveDate};
use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

/// A record in Engineering (created with the form's "new department" field), at `location`, with
/// `manager` as the picker posts it ("Name <e-mail>", or empty).
fn record(name: &str, email: &str, manager: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        ("email", email.to_string()),
        ("title", "Engineer".into()),
        ("department", String::new()),
        ("new_department", "Engineering".into()),
        ("manager", manager.to_string()),
        ("location", String::new()),
        ("new_location", "London".into()),
        ("start_date", "2020-03-02".into()),
        ("status", "active".into()),
    ]
}

fn with(
    fields: &[(&'static str, String)],
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut changed: Vec<(&'static str, String)> =
        fields.iter().filter(|(k, _)| *k != name).cloned().collect();
    changed.push((name, value.to_string()));
    changed
}

/// The administrator adds a record with the form; its id.
async fn adds(app: &TestApp, fields: &[(&'static str, String)]) -> i64 {
    let new = "/admin/employees/new";
    let (status, html) = submit(&app.browser, new, new, fields).await;
    assert_eq!(status, Status::SeeOther, "saved: {html}");
    let email = &fields.iter().find(|(k, _)| *k == "email").unwrap().1;
    app.record_id_of(email).await
}

/// The administrator posts the edit form of record `id`.
async fn edits(app: &TestApp, id: i64, fields: &[(&'static str, String)]) -> (Status, String) {
    let edit = format!("/admin/employees/{id}/edit");
    submit(&app.browser, &edit, &edit, fields).await
}

/// One stored job period: effective from, title, department, manager id, location.
type Period = (String, String, String, Option<i64>, String);

/// Record `id`'s job history as stored, newest first.
async fn history_of(app: &TestApp, id: i64) -> Vec<Period> {
    sqlx::query_as(
        "SELECT h.effective_from, h.title, d.name, h.manager_id, h.location \
         FROM job_history h JOIN departments d ON d.id = h.department_id \
         WHERE h.employee_id = $1 ORDER BY h.effective_from DESC, h.id DESC",
    )
    .bind(id)
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
}

fn period(
    from: &str,
    title: &str,
    department: &str,
    manager: Option<i64>,
    location: &str,
) -> Period {
    (
        from.into(),
        title.into(),
        department.into(),
        manager,
        location.into(),
    )
}

/// The manager, title and location of record `id`, as stored.
async fn job_of(app: &TestApp, id: i64) -> (Option<i64>, String, String) {
    sqlx::query_as("SELECT manager_id, title, location FROM employees WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
}

/// Bea at the top, Mia under her, Ada under Mia (all in Engineering, London); the administrator
/// is signed in on the app's first browser.
struct Team {
    app: TestApp,
    bea: i64,
    mia: i64,
    ada: i64,
}

async fn team(app: TestApp) -> Team {
    app.sign_in_as_admin().await;
    let bea = adds(&app, &record("Bea Boss", "bea@example.com", "")).await;
    let mia = adds(
        &app,
        &record(
            "Mia Manager",
            "mia@example.com",
            "Bea Boss <bea@example.com>",
        ),
    )
    .await;
    let ada = adds(
        &app,
        &record(
            "Ada Lovelace",
            "ada@example.com",
            "Mia Manager <mia@example.com>",
        ),
    )
    .await;
    Team { app, bea, mia, ada }
}

fn ada_fields() -> Vec<(&'static str, String)> {
    with(
        &with(
            &record(
                "Ada Lovelace",
                "ada@example.com",
                "Mia Manager <mia@example.com>",
            ),
            "new_location",
            "",
        ),
        "location",
        "London",
    )
}

async fn an_edit_keeps_the_old_job_with_its_dates(app: TestApp) {
    let Team { app, bea, mia, ada } = team(app).await;
    // A new record starts its history on its start date.
    assert_eq!(
        history_of(&app, ada).await,
        [period(
            "2020-03-02",
            "Engineer",
            "Engineering",
            Some(mia),
            "London"
        )]
    );

    // A promotion into a new department, under Bea, in a new place, dated in the past.
    let promoted = with(
        &with(
            &with(
                &with(&ada_fields(), "title", "Principal Engineer"),
                "new_department",
                "Research",
            ),
            "manager",
            "Bea Boss <bea@example.com>",
        ),
        "new_location",
        "Lisbon",
    );
    let promoted = with(&promoted, "effective_from", "2022-11-12");
    let (status, html) = edits(&app, ada, &promoted).await;
    assert_eq!(status, Status::SeeOther, "{html}");
    assert_eq!(
        history_of(&app, ada).await,
        [
            period(
                "2022-11-12",
                "Principal Engineer",
                "Research",
                Some(bea),
                "Lisbon"
            ),
            period("2020-03-02", "Engineer", "Engineering", Some(mia), "London"),
        ],
        "the old job stays, with its dates"
    );

    // The profile lists both, newest first, short dates with the exact one in <time>.
    let (_, html) = app.browser.opens(&format!("/employees/{ada}")).await;
    let newest = html
        .find("<time datetime=\"2022-11-12\">12 Nov 2022</time>")
        .expect("the change, with its date");
    let oldest = html
        .find("<time datetime=\"2020-03-02\">2 Mar 2020</time>")
        .expect("the first job, from the start date");
    assert!(newest < oldest, "newest first");
    let history = &html[html.find("id=\"job-history\"").unwrap()..];
    for shown in [
        "Principal Engineer",
        "Research",
        "Lisbon",
        "Engineer",
        "Engineering",
        "London",
    ] {
        assert!(history.contains(shown), "{shown} in the history");
    }
    assert!(history.contains(&format!("<a href=\"/employees/{mia}\">Mia Manager</a>")));

    // An edit that changes no job field (the name) starts no period, whatever date it carries.
    let renamed = with(&with(&promoted, "name", "Ada King"), "new_location", "");
    let renamed = with(
        &with(&renamed, "location", "Lisbon"),
        "new_department",
        "Research",
    );
    let (status, _) = edits(&app, ada, &with(&renamed, "effective_from", "")).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(history_of(&app, ada).await.len(), 2);

    // A change dated before the current job, before the start, or years ahead is refused
    // beside the field, and nothing changes.
    let today = app.app().today();
    let far = (today + Duration::days(400)).to_string();
    let moved = with(&renamed, "title", "Chief Scientist");
    for (date, message) in [
        ("2021-01-01", "cannot take effect before it"),
        ("2019-01-01", "before the start date"),
        (far.as_str(), "at most a year ahead"),
        ("12/11/2022", "YYYY-MM-DD"),
    ] {
        let (status, html) = edits(&app, ada, &with(&moved, "effective_from", date)).await;
        assert_eq!(status, Status::UnprocessableEntity, "{date}");
        assert!(html.contains("id=\"effective-from-error\""), "{date}");
        assert!(html.contains(message), "{date}: {message}");
    }
    assert_eq!(history_of(&app, ada).await.len(), 2);
    assert_eq!(job_of(&app, ada).await.1, "Principal Engineer");

    // The edit form suggests today for a change.
    let (_, form) = app
        .browser
        .opens(&format!("/admin/employees/{ada}/edit"))
        .await;
    let suggested = format!("name=\"effective_from\" type=\"date\" value=\"{today}\"");
    assert!(form.contains(&suggested));

    // A colleague sees the history: it is work information, like the current title.
    let cole = app
        .create_user("cole@example.com", "Cole League", Role::Employee)
        .await;
    let colleague = app.browser_signed_in_as(&cole).await;
    let (status, html) = colleague.opens(&format!("/employees/{ada}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<time datetime=\"2022-11-12\">12 Nov 2022</time>"));
    assert!(
        !html.contains("id=\"offboard\""),
        "no Offboard for a colleague"
    );
}

async fn the_manager_picker_refuses_strangers_leavers_and_loops(app: TestApp) {
    let Team { app, bea, mia, ada } = team(app).await;
    let leo = adds(&app, &record("Leo Leaver", "leo@example.com", "")).await;
    let (status, _) = submit(
        &app.browser,
        &format!("/admin/employees/{leo}/offboard"),
        &format!("/admin/employees/{leo}/offboard"),
        &[("last_day", "2021-06-30".into())],
    )
    .await;
    assert_eq!(status, Status::SeeOther);

    // The picker is a text field with a list of current staff: name — title, posting name <e-mail>.
    let edit_bea = format!("/admin/employees/{bea}/edit");
    let (_, form) = app.browser.opens(&edit_bea).await;
    assert!(form.contains("list=\"manager-choices\""));
    assert!(!form.contains("<select id=\"employee-manager\""));
    assert!(form.contains(
        "<option value=\"Mia Manager &lt;mia@example.com&gt;\">Mia Manager — Engineer</option>"
    ));
    assert!(!form.contains("leo@example.com"), "a leaver is not offered");
    assert!(
        !form.contains("value=\"Bea Boss &lt;"),
        "nor the person themself"
    );

    let bea_fields = with(
        &with(
            &record("Bea Boss", "bea@example.com", ""),
            "new_location",
            "",
        ),
        "location",
        "London",
    );
    let history_before = history_of(&app, bea).await;
    for (manager, message) in [
        (
            "Nobody <nobody@example.com>",
            "Nobody here has that work e-mail",
        ),
        ("someone", "Please choose a manager from the list"),
        ("Leo Leaver <leo@example.com>", "has left the company"),
        ("Bea Boss <bea@example.com>", "cannot be their own manager"),
        ("Mia Manager <mia@example.com>", "reports to this employee"),
        // Further down the line: Ada reports to Mia, who reports to Bea.
        ("ada@example.com", "reports to this employee"),
    ] {
        let (status, html) = edits(&app, bea, &with(&bea_fields, "manager", manager)).await;
        assert_eq!(status, Status::UnprocessableEntity, "{manager}");
        assert!(
            html.contains("id=\"manager-error\""),
            "{manager}: beside the field"
        );
        assert!(html.contains(message), "{manager}: {message}");
        assert!(html.contains("aria-invalid=\"true\""), "{manager}");
    }
    assert_eq!(job_of(&app, bea).await.0, None, "nothing changed");
    assert_eq!(history_of(&app, bea).await, history_before);

    // A valid choice is saved, typed in any case.
    let ada_fields = with(&ada_fields(), "manager", "Bea Boss <BEA@example.com>");
    let (status, _) = edits(&app, ada, &ada_fields).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(job_of(&app, ada).await.0, Some(bea));
    assert_eq!(history_of(&app, ada).await[0].3, Some(bea));
    assert_eq!(history_of(&app, ada).await[1].3, Some(mia));
}

async fn a_work_phone_is_checked_and_shown_to_colleagues(app: TestApp) {
    let Team { app, ada, .. } = team(app).await;
    for (phone, message) in [
        ("call me", "only digits, spaces and + - ( )"),
        ("1234", "5 to 30 characters"),
        ("+44 20 7946 0018 ext. 5", "only digits"),
    ] {
        let (status, html) = edits(&app, ada, &with(&ada_fields(), "work_phone", phone)).await;
        assert_eq!(status, Status::UnprocessableEntity, "{phone}");
        assert!(html.contains("id=\"work-phone-error\""), "{phone}");
        assert!(html.contains(message), "{phone}: {message}");
    }
    let stored: Option<String> =
        sqlx::query_scalar("SELECT work_phone FROM employees WHERE id = $1")
            .bind(ada)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert_eq!(stored, None, "nothing changed");

    let (status, _) = edits(
        &app,
        ada,
        &with(&ada_fields(), "work_phone", " +44 (20) 7946-0018 "),
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    let cole = app
        .create_user("cole@example.com", "Cole League", Role::Employee)
        .await;
    let (_, html) = app
        .browser_signed_in_as(&cole)
        .await
        .opens(&format!("/employees/{ada}"))
        .await;
    assert!(html.contains("<dd id=\"work-phone\">+44 (20) 7946-0018</dd>"));
    // The profile leads with the initials, hidden from screen readers (the name is beside them).
    assert!(html.contains("<span class=\"avatar\" aria-hidden=\"true\" id=\"avatar\">AL</span>"));
}

async fn a_location_added_from_the_form_joins_the_list_once(app: TestApp) {
    let Team { app, ada, .. } = team(app).await;
    let locations = || async {
        sqlx::query_scalar::<_, String>("SELECT name FROM locations ORDER BY name")
            .fetch_all(&app.db().pool)
            .await
            .unwrap()
    };
    assert_eq!(locations().await, ["London"], "three records, one place");

    let (status, _) = edits(&app, ada, &with(&ada_fields(), "new_location", "  Lisbon ")).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(locations().await, ["Lisbon", "London"]);
    assert!(app
        .audit_kinds()
        .await
        .contains(&"location_created".to_string()));

    // The same place typed again in another case is the listed one, not a second entry.
    let zoe = with(
        &with(
            &record("Zoe Zed", "zoe@example.com", ""),
            "new_location",
            "LISBON",
        ),
        "email",
        "zoe@example.com",
    );
    let zoe = adds(&app, &zoe).await;
    assert_eq!(locations().await, ["Lisbon", "London"]);
    assert_eq!(job_of(&app, zoe).await.2, "Lisbon");

    // The form offers the list, the record's place chosen.
    let (_, form) = app
        .browser
        .opens(&format!("/admin/employees/{zoe}/edit"))
        .await;
    assert!(form.contains("<option value=\"Lisbon\" selected>Lisbon</option>"));
    assert!(form.contains("<option value=\"London\">London</option>"));
    assert!(form.contains("name=\"new_location\""));

    // An empty choice is refused beside the field.
    let (status, html) = edits(
        &app,
        zoe,
        &with(
            &with(&ada_fields(), "location", ""),
            "email",
            "zoe@example.com",
        ),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("Please choose a location, or add a new one."));
}

async fn offboarding_records_the_last_day_through_the_lifecycle(app: TestApp) {
    let ada_account = app.create_ada().await;
    let Team { app, ada, .. } = team(app).await;
    let ada_browser = app.browser_signed_in_as(&ada_account).await;

    // The edit form no longer shows "Last day" nor offers "Left the company" for someone here.
    let (_, form) = app
        .browser
        .opens(&format!("/admin/employees/{ada}/edit"))
        .await;
    assert!(!form.contains("name=\"left_on\""));
    assert!(!form.contains("value=\"terminated\""));
    // The profile offers Offboard to HR, not to the person.
    let (_, profile) = app.browser.opens(&format!("/employees/{ada}")).await;
    assert!(profile.contains(&format!("href=\"/admin/employees/{ada}/offboard\"")));
    let (_, own) = ada_browser.opens(&format!("/employees/{ada}")).await;
    assert!(!own.contains("/offboard"));
    let offboard = format!("/admin/employees/{ada}/offboard");
    let (status, _) = ada_browser.opens(&offboard).await;
    assert_eq!(status, Status::Forbidden);

    let (status, page) = app.browser.opens(&offboard).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains("Last day with the company"));
    assert!(page.contains(&format!("action=\"{offboard}\"")));

    // A day before the start, or no date, is refused beside the field; nothing changes.
    for (day, message) in [
        ("2019-12-31", "cannot be before the start date"),
        ("", "Please enter the last day"),
        ("31/12/2025", "Please enter the last day"),
    ] {
        let (status, html) = submit(
            &app.browser,
            &offboard,
            &offboard,
            &[("last_day", day.into())],
        )
        .await;
        assert_eq!(status, Status::UnprocessableEntity, "{day:?}");
        assert!(html.contains("id=\"last-day-error\""), "{day:?}");
        assert!(html.contains(message), "{day:?}: {message}");
    }
    let status_of = || async {
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT status, left_on FROM employees WHERE id = $1",
        )
        .bind(ada)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
    };
    assert_eq!(status_of().await, ("active".into(), None));
    assert!(ada_browser.is_signed_in().await);

    // Without the CSRF token nothing happens either.
    let response = app
        .browser
        .posts(&offboard, &[("last_day", "2025-01-01")])
        .await;
    assert_eq!(response.status(), Status::Forbidden);

    // Yesterday: the lifecycle records it and ends her access at once.
    let yesterday: NaiveDate = app.app().today() - Duration::days(1);
    let (status, _) = submit(
        &app.browser,
        &offboard,
        &offboard,
        &[("last_day", yesterday.to_string())],
    )
    .await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        status_of().await,
        ("terminated".into(), Some(yesterday.to_string()))
    );
    assert!(!ada_browser.is_signed_in().await, "her session ended");
    let kinds = app.audit_kinds().await;
    assert!(kinds.ends_with(&["employee_updated".into(), "access_ended".into()]));
    let (_, profile) = app.browser.opens(&format!("/employees/{ada}")).await;
    assert!(
        !profile.contains("id=\"offboard\""),
        "no Offboard for a leaver"
    );
    // For a leaver the edit form shows the last day, to correct it.
    let (_, form) = app
        .browser
        .opens(&format!("/admin/employees/{ada}/edit"))
        .await;
    let last_day = format!("name=\"left_on\" type=\"date\" value=\"{yesterday}\"");
    assert!(form.contains(&last_day));
}

async fn after_a_refused_sign_in_the_password_field_has_focus(app: TestApp) {
    app.create_ada().await;
    let (_, page) = app.browser.opens("/login").await;
    let email_input = |html: &str| {
        let at = html.find("id=\"email\"").unwrap();
        html[at..at + html[at..].find('>').unwrap()].to_string()
    };
    let password_input = |html: &str| {
        let at = html.find("id=\"password\"").unwrap();
        html[at..at + html[at..].find('>').unwrap()].to_string()
    };
    assert!(email_input(&page).contains("autofocus"));
    assert!(!password_input(&page).contains("autofocus"));

    let response = app
        .browser
        .signs_in_with(&[
            ("email", "ada@example.com"),
            ("password", "not the password"),
        ])
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    let page = body(response).await;
    assert!(page.contains("value=\"ada@example.com\""));
    assert!(
        password_input(&page).contains("autofocus"),
        "the cursor goes to the password"
    );
    assert!(!email_input(&page).contains("autofocus"));
}

on_every_backend!(
    an_edit_keeps_the_old_job_with_its_dates,
    the_manager_picker_refuses_strangers_leavers_and_loops,
    a_work_phone_is_checked_and_shown_to_colleagues,
    a_location_added_from_the_form_joins_the_list_once,
    offboarding_records_the_last_day_through_the_lifecycle,
    after_a_refused_sign_in_the_password_field_has_focus,
);
