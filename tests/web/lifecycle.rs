//! People and their access are one lifecycle: an account belongs to the record with its work
//! e-mail, a leaver's access ends when their last day is over (at once, everywhere, exactly
//! once), rehiring restores nothing by itself, and HR can give or end access from the record.

use chrono::{Days, NaiveDate};
use hr_portal::app::lifecycle;
use hr_portal::app::Actor;
use hr_portal::hr::Employee;
use hr_portal::users::User;
use rocket::figment::value::Value;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::cli::hr_portal;
use crate::helpers::*;

/// The employee form for Ada's record (her account's address), with `status` and `left_on`.
fn ada_record(status: &str, left_on: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Ada Lovelace".into()),
        ("email", "ada@example.com".into()),
        ("title", "Analyst".into()),
        ("department", String::new()),
        ("new_department", "Engineering".into()),
        ("manager", String::new()),
        ("location", "London".into()),
        ("start_date", "2020-03-02".into()),
        ("status", status.into()),
        ("left_on", left_on.into()),
    ]
}

async fn post(
    browser: &Client,
    form_page: &str,
    action: &str,
    fields: &[(&'static str, String)],
) -> Status {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.submits(form_page, action, &borrowed).await.status()
}

/// The administrator (first browser) adds a record with `fields`.
async fn admin_adds_record(app: &TestApp, fields: &[(&'static str, String)]) -> Status {
    let new = "/admin/employees/new";
    post(&app.browser, new, new, fields).await
}

/// The administrator (first browser) adds Ada's record; its id.
async fn admin_adds_adas_record(app: &TestApp) -> i64 {
    let status = admin_adds_record(app, &ada_record("active", "")).await;
    assert_eq!(status, Status::SeeOther, "the record is saved");
    sqlx::query_scalar("SELECT id FROM employees WHERE email = 'ada@example.com'")
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
}

/// The administrator marks Ada as left with `last_day`.
async fn admin_marks_ada_as_left(app: &TestApp, record: i64, last_day: NaiveDate) {
    let edit = format!("/admin/employees/{record}/edit");
    let fields = ada_record("terminated", &last_day.to_string());
    assert_eq!(
        post(&app.browser, &edit, &edit, &fields).await,
        Status::SeeOther
    );
}

async fn linked_record(app: &TestApp, user: &User) -> Option<i64> {
    let mut conn = app.db().read().await.unwrap();
    Employee::for_user(&mut conn, user.id)
        .await
        .unwrap()
        .map(|e| e.id.0)
}

fn yesterday(app: &TestApp) -> NaiveDate {
    app.app().today().checked_sub_days(Days::new(1)).unwrap()
}

async fn a_leaver_with_a_past_last_day_is_anonymous_at_once_on_another_instance(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    assert_eq!(
        linked_record(&app, &ada).await,
        Some(record),
        "linked by work e-mail"
    );
    // Ada works on another instance (its own Rocket, pool and caches).
    let other_instance = app.browser_signed_in_as(&ada).await;
    assert!(other_instance.is_signed_in().await);

    admin_marks_ada_as_left(&app, record, yesterday(&app)).await;

    assert!(
        !other_instance.is_signed_in().await,
        "anonymous on the very next request"
    );
    assert_eq!(app.sessions_of(&ada).await, 0);
    let again = app.new_browser().await;
    assert_ne!(
        again.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
    assert!(app.reload(&ada).await.disabled);
    assert_eq!(app.events_of_kind("access_ended").await, 1);
    assert_eq!(
        app.events_of_kind_mentioning("access_ended", "last day")
            .await,
        1
    );
    // The sweep finds nothing left to do.
    let ended = lifecycle::offboard_due(app.app(), &Actor::schedule())
        .await
        .unwrap();
    assert!(ended.is_empty());
    assert_eq!(app.events_of_kind("access_ended").await, 1);
}

async fn a_future_last_day_keeps_access_until_midnight_in_the_company_time_zone(backend: Backend) {
    let zone = [("time_zone", Value::from("Pacific/Auckland"))];
    let Some(app) = spawn_app_with(backend, &zone).await else {
        return;
    };
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    let last_day = app.app().today(); // Auckland's today, not UTC's
    admin_marks_ada_as_left(&app, record, last_day).await;
    // "Keep me signed in": the session outlives the hours until midnight.
    let laptop = app.new_browser().await;
    let status = laptop
        .signs_in_remembered(ada.email.as_str(), PASSWORD)
        .await;
    assert_eq!(status, Status::SeeOther);
    let schedule = Actor::schedule();
    let sweep = || lifecycle::offboard_due(app.app(), &schedule);
    assert!(
        sweep().await.unwrap().is_empty(),
        "her last day is not over"
    );

    let midnight = app.app().calendar.end_of(last_day);
    app.clock.advance(midnight - app.clock.now() - 1);
    assert!(
        sweep().await.unwrap().is_empty(),
        "one second before midnight in Auckland"
    );
    assert!(laptop.is_signed_in().await);

    app.clock.advance(1);
    let ended = sweep().await.unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].name, "Ada Lovelace");
    assert!(!laptop.is_signed_in().await);
    assert!(sweep().await.unwrap().is_empty(), "exactly once");
    assert_eq!(app.events_of_kind("access_ended").await, 1);
}

async fn two_instances_sweeping_at_once_end_a_leavers_access_exactly_once(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    let last_day = app.app().today();
    admin_marks_ada_as_left(&app, record, last_day).await;
    let _laptop = app.browser_signed_in_as(&ada).await;
    app.clock
        .advance(app.app().calendar.end_of(last_day) - app.clock.now());
    // A second instance over the same database, sweeping at the same moment.
    let other = app.new_browser().await;
    let other_app = other
        .rocket()
        .state::<hr_portal::app::App>()
        .unwrap()
        .clone();
    let actor = Actor::schedule();
    let (here, there) = rocket::tokio::join!(
        lifecycle::offboard_due(app.app(), &actor),
        lifecycle::offboard_due(&other_app, &actor)
    );
    assert_eq!(here.unwrap().len() + there.unwrap().len(), 1);
    assert_eq!(app.events_of_kind("access_ended").await, 1);
    assert_eq!(app.sessions_of(&ada).await, 0);
}

async fn offboard_due_from_the_command_line_ends_what_is_due_once(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    // A leaver saved before the link existed: the record is changed behind the app's back.
    sqlx::query("UPDATE employees SET status = 'terminated', left_on = '2020-01-31' WHERE id = $1")
        .bind(record)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let laptop = app.browser_signed_in_as(&ada).await;
    let (ok, out) = hr_portal(&app, &["employees", "offboard-due"], "");
    assert!(ok, "{out}");
    assert!(
        out.contains("Ended the access of Ada Lovelace (last day 2020-01-31)."),
        "{out}"
    );
    assert!(!laptop.is_signed_in().await);
    let (ok, out) = hr_portal(&app, &["employees", "offboard-due"], "");
    assert!(ok && out.contains("0 leaver(s) lost access."), "{out}");
    assert_eq!(app.events_of_kind("access_ended").await, 1);
}

async fn accounts_created_later_are_linked_to_the_record_with_their_address(app: TestApp) {
    app.sign_in_as_admin().await;
    let record = admin_adds_adas_record(&app).await;
    let (status, html) = app.browser.opens(&format!("/employees/{record}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("data-state=\"none\""), "no account yet");

    // "Give access" invites the record's work e-mail.
    let profile = format!("/employees/{record}");
    let give = format!("{profile}/access/give");
    assert_eq!(
        app.browser.submits(&profile, &give, &[]).await.status(),
        Status::SeeOther
    );
    assert_eq!(app.mails_titled("Your HR Portal account").await, 1);
    let (_, html) = app.browser.opens(&profile).await;
    assert!(html.contains("data-state=\"invited\""), "{html}");
    let ada = User::find_by_email(&mut app.db().read().await.unwrap(), "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked_record(&app, &ada).await, Some(record));

    // An account made at the command line for another record's address is linked too.
    let grace = [
        ("name", "Grace Hopper".to_string()),
        ("email", "grace@example.com".to_string()),
        ("status", "active".to_string()),
    ];
    let mut fields = ada_record("active", "");
    for (key, value) in grace {
        fields.retain(|(k, _)| *k != key);
        fields.push((key, value));
    }
    admin_adds_record(&app, &fields).await;
    let (ok, out) = hr_portal(
        &app,
        &["user", "add", "grace@example.com", "--name", "Grace Hopper"],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{out}");
    let grace = User::find_by_email(&mut app.db().read().await.unwrap(), "grace@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(linked_record(&app, &grace).await.is_some());
}

async fn rehiring_restores_nothing_until_an_admin_gives_access_again(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    admin_marks_ada_as_left(&app, record, yesterday(&app)).await;

    // While she is a leaver, neither enabling nor "give access" lets her back in.
    let enable = format!("/admin/users/{}/enable", ada.id);
    let answer = app.browser.submits("/admin/users", &enable, &[]).await;
    assert_eq!(answer.status(), Status::SeeOther);
    let (_, users) = app.browser.opens("/admin/users").await;
    assert!(
        users.contains("has left the company"),
        "the refusal is explained"
    );
    assert!(app.reload(&ada).await.disabled);
    let profile = format!("/employees/{record}");
    let give = format!("{profile}/access/give");
    app.browser.submits(&profile, &give, &[]).await;
    assert!(app.reload(&ada).await.disabled);

    // Rehired: the record is active again, but the account stays disabled…
    let edit = format!("/admin/employees/{record}/edit");
    post(&app.browser, &edit, &edit, &ada_record("active", "")).await;
    assert!(
        app.reload(&ada).await.disabled,
        "rehiring restores nothing by itself"
    );
    // …until an administrator gives access again.
    app.browser.submits(&profile, &give, &[]).await;
    assert!(!app.reload(&ada).await.disabled);
    let laptop = app.new_browser().await;
    assert_eq!(
        laptop.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
}

async fn inviting_a_leaver_is_refused_and_writes_nothing(app: TestApp) {
    app.sign_in_as_admin().await;
    let fields = ada_record("terminated", "2021-06-30");
    admin_adds_record(&app, &fields).await;
    let accounts = app.accounts().await;
    let invite = [
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("role", "employee"),
    ];
    app.browser
        .submits("/admin/users", "/admin/users/invite", &invite)
        .await;
    assert_eq!(app.accounts().await, accounts);
    let (ok, out) = hr_portal(
        &app,
        &["user", "add", "ada@example.com", "--name", "Ada"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!ok && out.contains("has left the company"), "{out}");
    assert_eq!(app.accounts().await, accounts);
}

async fn ending_access_now_needs_a_reason_and_an_administrator(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    let laptop = app.browser_signed_in_as(&ada).await;
    let profile = format!("/employees/{record}");
    let end = format!("{profile}/access/end");

    // Ada herself cannot (403), nor can a forged post (no CSRF token).
    let (_, ada_page) = laptop.opens(&profile).await;
    assert!(
        !ada_page.contains("End access now"),
        "only administrators see it"
    );
    let token = csrf_token_in(&laptop.opens("/dashboard").await.1);
    let refused = laptop
        .posts(&end, &[("reason", "x"), ("csrf_token", &token)])
        .await;
    assert_eq!(refused.status(), Status::Forbidden);
    assert_eq!(
        app.browser.posts(&end, &[("reason", "x")]).await.status(),
        Status::Forbidden
    );
    // A reason is required.
    app.browser
        .submits(&profile, &end, &[("reason", "  ")])
        .await;
    assert!(laptop.is_signed_in().await);
    assert_eq!(app.events_of_kind("access_ended").await, 0);

    let answer = app
        .browser
        .submits(&profile, &end, &[("reason", "Dismissed for cause")])
        .await;
    assert_eq!(answer.status(), Status::SeeOther);
    assert!(!laptop.is_signed_in().await);
    assert!(app.reload(&ada).await.disabled);
    assert_eq!(
        app.events_of_kind_mentioning("access_ended", "Dismissed for cause")
            .await,
        1
    );
    let (_, html) = app.browser.opens(&profile).await;
    assert!(html.contains("data-state=\"disabled\""));
    // An unknown record is a 404, after the guards.
    let missing = app
        .browser
        .submits(&profile, "/employees/999999/access/end", &[("reason", "x")]);
    assert_eq!(missing.await.status(), Status::NotFound);
}

async fn the_access_review_lists_leavers_late_sign_ins_and_unlinked_accounts(app: TestApp) {
    let root = app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let record = admin_adds_adas_record(&app).await;
    admin_marks_ada_as_left(&app, record, yesterday(&app)).await;

    let (status, html) = app.browser.opens("/admin/access-review").await;
    assert_eq!(status, Status::Ok);
    let leavers = html.split("id=\"leavers\"").nth(1).unwrap();
    assert!(leavers.contains("Ada Lovelace") && leavers.contains("data-account=\"disabled\""));
    assert!(html.contains("No sign-in after a last day."));
    let unlinked = html.split("id=\"without-record\"").nth(1).unwrap();
    assert!(
        unlinked.contains(root.email.as_str()),
        "the administrator has no record"
    );
    let (status, csv) = app.browser.opens("/admin/access-review.csv").await;
    assert_eq!(status, Status::Ok);
    assert!(csv.starts_with(r#""Check","Name","E-mail","#), "{csv}");
    let leaver = r#""Leaver","Ada Lovelace","ada@example.com","","disabled","#;
    assert!(csv.contains(leaver), "{csv}");
    let admin = r#""Administrator","Root","root@example.com","#;
    assert!(csv.contains(admin), "{csv}");

    // A sign-in after her last day (planted: the app refuses them) is flagged.
    sqlx::query(
        "INSERT INTO audit_events (at, kind, subject_user_id, command_line) \
         VALUES ($1, 'login_succeeded', $2, 0)",
    )
    .bind(app.clock.now())
    .bind(ada.id)
    .execute(&app.db().pool)
    .await
    .unwrap();
    let (_, html) = app.browser.opens("/admin/access-review").await;
    assert!(html.contains("1 sign-in after a last day"), "{html}");

    for bad in [
        "?from=yesterday",
        "?from=2026-02-30",
        "?from=2026-05-01&to=2026-04-01",
    ] {
        let (status, _) = app
            .browser
            .opens(&format!("/admin/access-review{bad}"))
            .await;
        assert_eq!(status, Status::BadRequest, "{bad}");
    }
    let employee = app.browser_signed_in_as(&app.create_dana().await).await;
    for path in ["/admin/access-review", "/admin/access-review.csv"] {
        assert_eq!(employee.opens(path).await.0, Status::Forbidden, "{path}");
    }
}

on_every_backend!(
    a_leaver_with_a_past_last_day_is_anonymous_at_once_on_another_instance,
    a_future_last_day_keeps_access_until_midnight_in_the_company_time_zone,
    two_instances_sweeping_at_once_end_a_leavers_access_exactly_once,
    offboard_due_from_the_command_line_ends_what_is_due_once,
    accounts_created_later_are_linked_to_the_record_with_their_address,
    rehiring_restores_nothing_until_an_admin_gives_access_again,
    inviting_a_leaver_is_refused_and_writes_nothing,
    ending_access_now_needs_a_reason_and_an_administrator,
    the_access_review_lists_leavers_late_sign_ins_and_unlinked_accounts,
);
