//! What the audit trail says about account and employee changes — and that a change that changed
//! nothing says nothing.

use rocket::http::Status;

use crate::helpers::*;

/// The kinds and details of every event, oldest first.
/// The trail so far, without the delivery events of mail (the new-sign-in notice of a test's
/// first sign-in is delivered in the background, whenever it happens to be).
async fn events(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT kind, COALESCE(detail, '') FROM audit_events WHERE kind NOT IN ('mail_sent', 'mail_failed') ORDER BY id",
    )
        .fetch_all(&app.db().pool)
        .await
        .unwrap()
}

async fn enabling_an_enabled_account_writes_no_event(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    let before = events(&app).await;
    let enable = format!("/admin/users/{}/enable", ada.id);
    let response = app.browser.submits("/admin/users", &enable, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let (_, html) = app.browser.opens("/admin/users").await;
    assert!(html.contains("Nothing to change."));
    assert_eq!(
        events(&app).await,
        before,
        "no event for a change that changed nothing"
    );

    let disable = format!("/admin/users/{}/disable", ada.id);
    app.browser.submits("/admin/users", &disable, &[]).await;
    let (kind, detail) = events(&app).await.pop().unwrap();
    assert_eq!(kind, "user_disabled");
    assert!(detail.contains("session(s) ended"), "{detail}");
}

async fn employee_changes_are_audited_field_by_field_and_an_unchanged_save_is_not(app: TestApp) {
    app.sign_in_as_admin().await;
    let mut form = GRACE_HOPPER;
    let new = "/admin/employees/new";
    let created = app.browser.submits(new, new, &form).await;
    let profile = location(&created).unwrap().to_string();
    let kinds: Vec<String> = events(&app).await.into_iter().map(|(k, _)| k).collect();
    assert!(kinds.ends_with(&["department_created".into(), "employee_created".into()]));

    let edit = format!(
        "{}/edit",
        profile.replace("/employees/", "/admin/employees/")
    );
    let before = events(&app).await;
    let department: String = sqlx::query_scalar("SELECT CAST(id AS TEXT) FROM departments")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    form[3] = ("department", &department);
    form[4] = ("new_department", "");
    let unchanged = app.browser.submits(&edit, &edit, &form).await;
    assert_eq!(unchanged.status(), Status::SeeOther);
    assert_eq!(
        events(&app).await,
        before,
        "saving the same record writes no event"
    );

    form[2] = ("title", "Commodore");
    form[6] = ("location", "Washington");
    app.browser.submits(&edit, &edit, &form).await;
    let (kind, detail) = events(&app).await.pop().unwrap();
    assert_eq!(kind, "employee_updated");
    assert!(
        detail.contains("title: Rear Admiral → Commodore"),
        "{detail}"
    );
    assert!(
        detail.contains("location: Arlington → Washington"),
        "{detail}"
    );
    assert!(
        !detail.contains("name:"),
        "unchanged fields are not listed: {detail}"
    );
}

/// Adds an employee through the admin form; returns their id.
async fn add_employee(app: &TestApp, name: &str, email: &str, manager: &str) -> String {
    let new = "/admin/employees/new";
    let form = [
        ("name", name),
        ("email", email),
        ("title", "Engineer"),
        ("department", ""),
        ("new_department", "Engineering"),
        ("manager", manager),
        ("location", "Leeds"),
        ("start_date", "2020-01-06"),
        ("status", "active"),
    ];
    let created = app.browser.submits(new, new, &form).await;
    let profile = location(&created).expect("to the new profile");
    profile.trim_start_matches("/employees/").to_string()
}

async fn moving_someone_between_two_managers_of_the_same_name_is_saved_and_audited(app: TestApp) {
    app.sign_in_as_admin().await;
    let first = add_employee(&app, "Alex Kim", "alex.kim@example.com", "").await;
    let second = add_employee(&app, "Alex Kim", "alex.kim2@example.com", "").await;
    let grace = add_employee(&app, "Grace Hopper", "grace@example.com", &first).await;
    let department: String = sqlx::query_scalar("SELECT CAST(id AS TEXT) FROM departments")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let edit = format!("/admin/employees/{grace}/edit");
    let form = [
        ("name", "Grace Hopper"),
        ("email", "grace@example.com"),
        ("title", "Engineer"),
        ("department", department.as_str()),
        ("new_department", ""),
        ("manager", second.as_str()),
        ("location", "Leeds"),
        ("start_date", "2020-01-06"),
        ("status", "active"),
    ];
    app.browser.submits(&edit, &edit, &form).await;
    let manager: i64 = sqlx::query_scalar("SELECT manager_id FROM employees WHERE email = $1")
        .bind("grace@example.com")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(manager.to_string(), second, "the new manager was saved");
    let (kind, detail) = events(&app).await.pop().unwrap();
    assert_eq!(kind, "employee_updated");
    let expected = format!("manager: Alex Kim (#{first}) → Alex Kim (#{second})");
    assert!(detail.contains(&expected), "{detail}");
}

on_every_backend!(
    moving_someone_between_two_managers_of_the_same_name_is_saved_and_audited,
    enabling_an_enabled_account_writes_no_event,
    employee_changes_are_audited_field_by_field_and_an_unchanged_save_is_not,
);
