//! Private details (personal e-mail, phone, date of birth, home address, emergency contact) are
//! seen on the profile by exactly the person, their managers up the line, HR and administrators —
//! and never anywhere else: not the directory, its CSV, search, the org chart, /team, the
//! dashboard or an error page, and not the audit trail (which names the fields, never the values).
//! Also `/account/details`, where people keep their own, and `/team`.

use hr_portal::users::Role;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::helpers::*;

/// Ada's planted private values: unique strings that appear nowhere else.
const PERSONAL_EMAIL: &str = "ada.xq7private@home.example";
const PHONE: &str = "+44 7700 900123";
const BIRTH_DATE: &str = "1985-03-17";
const HOME_ADDRESS: &str = "12 Zyxwoldgarden Lane\nLondon";
const EMERGENCY_CONTACT: &str = "Byron Qwertcontact, +44 7700 900456";

/// What of the planted values could show up on a page (the date also in its human form; the
/// address line by line, as HTML keeps the line break).
const PLANTED: [&str; 7] = [
    PERSONAL_EMAIL,
    "7700 900123",
    BIRTH_DATE,
    "17 March 1985",
    "Zyxwoldgarden",
    "Qwertcontact",
    "7700 900456",
];

/// The planted values found in `html`.
fn planted_in(html: &str) -> Vec<&'static str> {
    PLANTED.into_iter().filter(|v| html.contains(v)).collect()
}

/// The employee form for a record in Engineering, with `manager` (a record id or empty) and
/// Ada's private values when `private` says so.
fn record(name: &str, email: &str, manager: &str, private: bool) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("name", name.to_string()),
        ("email", email.to_string()),
        ("title", "Engineer".into()),
        ("department", String::new()),
        ("new_department", "Engineering".into()),
        ("manager", manager.to_string()),
        ("location", "London".into()),
        ("start_date", "2020-03-02".into()),
        ("status", "active".into()),
        ("left_on", String::new()),
    ];
    if private {
        fields.extend([
            ("personal_email", PERSONAL_EMAIL.to_string()),
            ("phone", PHONE.to_string()),
            ("birth_date", BIRTH_DATE.to_string()),
            ("home_address", HOME_ADDRESS.to_string()),
            ("emergency_contact", EMERGENCY_CONTACT.to_string()),
        ]);
    }
    fields
}

/// The administrator (the first browser) adds a record; its id.
async fn admin_adds(
    app: &TestApp,
    name: &str,
    email: &str,
    manager: Option<i64>,
    private: bool,
) -> i64 {
    let manager = manager.map(|id| id.to_string()).unwrap_or_default();
    let new = "/admin/employees/new";
    let (status, _) = submit(
        &app.browser,
        new,
        new,
        &record(name, email, &manager, private),
    )
    .await;
    assert_eq!(status, Status::SeeOther, "{name}'s record is saved");
    app.record_id_of(email).await
}

/// A reporting line with an account at every place the rule cares about:
/// Bea (top) ← Mia ← Ada, and Cole beside Mia under Bea (Ada's colleague in Engineering);
/// HR, security and auditor accounts without records; the signed-in administrator.
struct Company {
    app: TestApp,
    ada: i64,
    mia: i64,
    bea: i64,
}

async fn company(app: TestApp) -> Company {
    app.sign_in_as_admin().await;
    for (email, name, role) in [
        ("bea@example.com", "Bea Boss", Role::Employee),
        ("mia@example.com", "Mia Manager", Role::Employee),
        ("ada@example.com", "Ada Lovelace", Role::Employee),
        ("cole@example.com", "Cole League", Role::Employee),
        ("hana@example.com", "Hana HR", Role::Hr),
        ("sec@example.com", "Sam Security", Role::Security),
        ("aud@example.com", "Audrey Auditor", Role::Auditor),
    ] {
        app.create_user(email, name, role).await;
    }
    let bea = admin_adds(&app, "Bea Boss", "bea@example.com", None, false).await;
    let mia = admin_adds(&app, "Mia Manager", "mia@example.com", Some(bea), false).await;
    let ada = admin_adds(&app, "Ada Lovelace", "ada@example.com", Some(mia), true).await;
    admin_adds(&app, "Cole League", "cole@example.com", Some(bea), false).await;
    Company { app, ada, mia, bea }
}

impl Company {
    async fn browser_of(&self, email: &str) -> Client {
        let browser = self.app.new_browser().await;
        assert_eq!(browser.signs_in_as(email, PASSWORD).await, Status::SeeOther);
        browser
    }
}

/// Who opens Ada's profile, and whether they may see her private details.
const VIEWERS: [(&str, bool); 8] = [
    ("ada@example.com", true),
    ("mia@example.com", true),
    ("bea@example.com", true),
    ("cole@example.com", false),
    ("hana@example.com", true),
    ("sec@example.com", false),
    ("aud@example.com", false),
    ("root@example.com", true),
];

async fn private_details_show_on_the_profile_exactly_for_the_person_their_managers_hr_and_admin(
    app: TestApp,
) {
    let company = company(app).await;
    let profile = format!("/employees/{}", company.ada);
    for (email, may_see) in VIEWERS {
        let browser = company.browser_of(email).await;
        let (status, html) = browser.opens(&profile).await;
        assert_eq!(status, Status::Ok, "{email} opens the profile");
        let found = planted_in(&html);
        if may_see {
            assert_eq!(found, PLANTED, "{email} sees every private detail");
            assert!(html.contains("id=\"private-details\""));
        } else {
            assert!(found.is_empty(), "{email} sees {found:?}");
            assert!(!html.contains("id=\"private-details\""), "{email}");
        }
    }
    // The rule looks up the line, never down or sideways: Ada does not see her manager's.
    let ada = company.browser_of("ada@example.com").await;
    let (_, html) = ada.opens(&format!("/employees/{}", company.mia)).await;
    assert!(!html.contains("id=\"private-details\""));
}

async fn private_values_never_appear_on_any_other_page_for_anyone(app: TestApp) {
    let company = company(app).await;
    let pages = [
        "/employees".to_string(),
        "/employees?q=Ada".to_string(),
        "/employees?q=Lovelace&sort=start".to_string(),
        "/employees.csv".to_string(),
        "/employees.csv?q=Ada".to_string(),
        "/org".to_string(),
        format!("/org?root={}", company.bea),
        "/team".to_string(),
        "/dashboard".to_string(),
        // Error pages: an unknown record, a malformed id, an unknown path, a refused admin page.
        "/employees/999999".to_string(),
        "/employees/not-a-number".to_string(),
        "/no-such-page".to_string(),
        format!("/admin/employees/{}/edit", company.ada),
    ];
    for (email, may_see) in VIEWERS {
        let browser = company.browser_of(email).await;
        for page in &pages {
            let (status, html) = browser.opens(page).await;
            let found = planted_in(&html);
            // The edit form is where those who edit people keep the values.
            if page.ends_with("/edit") && status == Status::Ok {
                assert!(may_see, "{email} opens the edit form");
                continue;
            }
            assert!(
                found.is_empty(),
                "{email} on {page} ({status}) sees {found:?}"
            );
        }
    }
    // Private details are not searchable: a planted value finds nobody.
    let hr = company.browser_of("hana@example.com").await;
    let (_, html) = hr.opens("/employees?q=Zyxwoldgarden").await;
    assert!(!html.contains(&format!("/employees/{}\"", company.ada)));
    let (_, csv) = hr.opens("/employees.csv?q=Qwertcontact").await;
    assert!(!csv.contains("Ada Lovelace"));
}

async fn the_audit_trail_names_changed_private_fields_never_their_values(app: TestApp) {
    let company = company(app).await;
    let app = &company.app;
    assert_eq!(
        app.events_of_kind_mentioning(
            "employee_created",
            "with personal e-mail, phone, date of birth, home address, emergency contact"
        )
        .await,
        1
    );
    // Her phone, address and title change (a work field keeps old → new).
    let edit = format!("/admin/employees/{}/edit", company.ada);
    let mut fields = record(
        "Ada Lovelace",
        "ada@example.com",
        &company.mia.to_string(),
        true,
    );
    for (name, value) in fields.iter_mut() {
        match *name {
            "phone" => *value = "+1 555 0100 777".into(),
            "home_address" => *value = "1 Qqnewplace Road".into(),
            "title" => *value = "Analyst".into(),
            _ => {}
        }
    }
    let (status, _) = submit(&app.browser, &edit, &edit, &fields).await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        app.events_of_kind_mentioning(
            "employee_updated",
            "title: Engineer → Analyst; changed phone, home address"
        )
        .await,
        1
    );
    for value in PLANTED.into_iter().chain(["555 0100 777", "Qqnewplace"]) {
        assert_eq!(
            app.events_mentioning(value).await,
            0,
            "{value} is in the trail"
        );
    }
    let (_, trail) = app.browser.opens("/admin/audit").await;
    assert!(planted_in(&trail).is_empty());
    assert!(!trail.contains("Qqnewplace"));
}

/// Ada's /account/details form with `phone` and `home_address` (the other two as stored).
fn own_fields<'a>(phone: &'a str, home_address: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("phone", phone),
        ("personal_email", PERSONAL_EMAIL),
        ("home_address", home_address),
        ("emergency_contact", EMERGENCY_CONTACT),
        // Not on the page: HR keeps the date of birth, a posted one is ignored.
        ("birth_date", "2001-01-01"),
    ]
}

async fn people_edit_their_own_details_in_one_audited_change(app: TestApp) {
    let company = company(app).await;
    let app = &company.app;
    let ada = company.browser_of("ada@example.com").await;
    let (status, html) = ada.opens("/account/details").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(PHONE), "the form holds her phone");
    assert!(
        html.contains("17 March 1985"),
        "and names her date of birth"
    );

    let page = "/account/details";
    let response = ada
        .submits(
            page,
            page,
            &own_fields("+49 30 1234567", "Unter den Linden 1\nBerlin"),
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(app.records_with_phone("+49 30 1234567").await, 1);
    assert_eq!(app.records_born_on(BIRTH_DATE).await, 1, "birth date kept");
    assert_eq!(
        app.events_of_kind_by_someone("own_details_changed").await,
        1
    );
    assert_eq!(
        app.events_of_kind_mentioning("own_details_changed", "changed phone, home address")
            .await,
        1
    );
    assert_eq!(app.events_mentioning("1234567").await, 0);
    assert_eq!(app.events_mentioning("Linden").await, 0);
    let (_, profile) = ada.opens(&format!("/employees/{}", company.ada)).await;
    assert!(profile.contains("Unter den Linden 1"));
}

async fn bad_own_details_are_refused_with_422_and_nothing_is_written(app: TestApp) {
    let company = company(app).await;
    let app = &company.app;
    let ada = company.browser_of("ada@example.com").await;
    let page = "/account/details";
    let long = "x".repeat(301);
    for (phone, address, field) in [
        ("call me maybe", "Home", "phone-error"),
        ("12", "Home", "phone-error"),
        (PHONE, long.as_str(), "home-address-error"),
        (PHONE, "Bell\u{7}Street", "home-address-error"),
    ] {
        let response = ada.submits(page, page, &own_fields(phone, address)).await;
        assert_eq!(
            response.status(),
            Status::UnprocessableEntity,
            "{phone} / {address}"
        );
        let html = body(response).await;
        assert!(
            html.contains(&format!("id=\"{field}\"")),
            "{field} is marked"
        );
    }
    let response = ada
        .submits(
            page,
            page,
            &[("personal_email", "not an address"), ("phone", PHONE)],
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(body(response).await.contains("id=\"personal-email-error\""));

    // Without the form's CSRF token nothing happens either.
    let response = ada.posts(page, &own_fields("+1 999 999", "Forged")).await;
    assert_eq!(response.status(), Status::Forbidden);

    assert_eq!(
        app.records_with_phone(PHONE).await,
        1,
        "the phone is as it was"
    );
    assert_eq!(app.events_of_kind("own_details_changed").await, 0);
}

async fn someone_without_a_record_gets_a_friendly_account_details_page(app: TestApp) {
    let company = company(app).await;
    let app = &company.app;
    let security = company.browser_of("sec@example.com").await;
    let (status, html) = security.opens("/account/details").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("id=\"no-record\""));
    // A hand-made post (with a valid token) writes nothing.
    let token = csrf_token_in(&security.opens("/dashboard").await.1);
    let response = security
        .posts(
            "/account/details",
            &[("phone", "+1 555 0199"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(app.records_with_phone("+1 555 0199").await, 0);
    assert_eq!(app.events_of_kind("own_details_changed").await, 0);
    // Anonymous visitors are sent to sign in.
    let anonymous = app.new_browser().await;
    let response = anonymous.get("/account/details").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
}

async fn the_team_page_lists_direct_reports_and_folds_the_people_below_them(app: TestApp) {
    let company = company(app).await;
    let link = |id: i64| format!("href=\"/employees/{id}\"");
    let bea = company.browser_of("bea@example.com").await;
    let (status, html) = bea.opens("/team").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("3 people report to you"));
    let (direct, folded) = html
        .split_once("<details class=\"team-below\">")
        .expect("a folded group");
    assert!(
        direct.contains(&link(company.mia)),
        "Mia reports to Bea directly"
    );
    let (under_mia, _) = folded.split_once("</details>").unwrap();
    assert!(
        under_mia.contains(&link(company.ada)),
        "Ada is folded under Mia"
    );
    assert!(html.contains("Cole League"));
    assert!(planted_in(&html).is_empty());

    let mia = company.browser_of("mia@example.com").await;
    let (_, html) = mia.opens("/team").await;
    assert!(html.contains("1 person reports to you"));
    assert!(html.contains(&link(company.ada)));

    // No reports, or no record at all: an empty state, not a refusal.
    for email in ["ada@example.com", "root@example.com"] {
        let browser = company.browser_of(email).await;
        let (status, html) = browser.opens("/team").await;
        assert_eq!(status, Status::Ok, "{email}");
        assert!(html.contains("id=\"team-empty\""), "{email}");
    }
}

on_every_backend!(
    private_details_show_on_the_profile_exactly_for_the_person_their_managers_hr_and_admin,
    private_values_never_appear_on_any_other_page_for_anyone,
    the_audit_trail_names_changed_private_fields_never_their_values,
    people_edit_their_own_details_in_one_audited_change,
    bad_own_details_are_refused_with_422_and_nothing_is_written,
    someone_without_a_record_gets_a_friendly_account_details_page,
    the_team_page_lists_direct_reports_and_folds_the_people_below_them,
);
