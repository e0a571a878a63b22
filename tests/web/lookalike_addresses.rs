//! The red team's look-alike and unmailable addresses, beside an existing
//! `sam.okafor@larkspur.example`: the domain is mapped as mail resolves it (UTS-46), and an address
//! that reads like an existing account's or employee's is refused — for accounts and invitations.

use hr_portal::users::Role;
use rocket::http::Status;

use crate::cli::hr_portal;
use crate::helpers::*;

const LOOK_ALIKES: [&str; 4] = [
    "sam.okaf\u{014F}r@larkspur.example",
    "sam.oka\u{1E1F}or@larkspur.example",
    "sa\u{0271}.okafor@larkspur.example",
    "sam.okafor@Iarkspur.example",
];

async fn look_alike_and_unmailable_addresses_are_refused(app: TestApp) {
    app.sign_in_as_admin().await;
    app.create_user("sam.okafor@larkspur.example", "Sam Okafor", Role::Employee)
        .await;
    let users = app.accounts().await;
    let create = |email: String| {
        let browser = &app.browser;
        async move {
            let fields = [
                ("name", "Sam Twin"),
                ("email", email.as_str()),
                ("role", "employee"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ];
            let response = browser
                .submits("/admin/users", "/admin/users", &fields)
                .await;
            (response.status(), body(response).await)
        }
    };
    // U+3002 is a full stop to mail software: it is Sam's own address, already taken.
    let (status, page) = create("sam.okafor@larkspur\u{3002}example".into()).await;
    assert!(status.code >= 400 && status.code < 500, "{status}");
    assert!(page.contains("already"), "{page}");
    // A trailing ideographic full stop is a trailing dot: not an address.
    let (status, page) = create("sam.okafor@larkspur.example\u{3002}".into()).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        page.contains("does not look like an e-mail address"),
        "{page}"
    );
    for email in LOOK_ALIKES {
        let (status, page) = create(email.into()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{email}");
        assert!(
            page.contains("looks the same as the existing account"),
            "{email}: {page}"
        );
        // An invitation is refused alike.
        let fields = [("name", "Sam Twin"), ("email", email), ("role", "employee")];
        let response = app
            .browser
            .submits("/admin/users", "/admin/users/invite", &fields)
            .await;
        assert_ne!(response.status(), Status::SeeOther, "invitation {email}");
        drop(response);
        // And on the command line.
        let (ok, out) = hr_portal(&app, &["user", "invite", email, "--name", "Sam Twin"], "");
        assert!(!ok, "{email}: {out}");
    }
    assert_eq!(app.accounts().await, users);
    // A real, different address still goes through.
    let (status, _) = create("sam.okafor@larkspur.test".into()).await;
    assert_eq!(status, Status::SeeOther);
}

/// An employee record without an account counts too: an invitation for a look-alike of its
/// address is refused.
async fn a_look_alike_of_an_employees_address_is_refused(app: TestApp) {
    app.sign_in_as_admin().await;
    let department: i64 = sqlx::query_scalar(
        "INSERT INTO departments (name, name_key) VALUES ('Ops', 'ops') RETURNING id",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO employees (name, name_key, search_key, email, title, department_id, \
         location, start_date) VALUES ('Sam Okafor', 'sam okafor', 'sam okafor', \
         'sam.okafor@larkspur.example', 'Engineer', $1, 'Lagos', '2024-01-02')",
    )
    .bind(department)
    .execute(&app.db().pool)
    .await
    .unwrap();
    for email in LOOK_ALIKES {
        let (ok, out) = hr_portal(&app, &["user", "invite", email, "--name", "Sam Twin"], "");
        assert!(!ok, "{email}: {out}");
        assert!(out.contains("sam.okafor@larkspur.example"), "{out}");
    }
    assert_eq!(app.accounts().await, 1);
}

/// The employee form follows the same rule: a record whose work address reads like an
/// account's (or another record's) is refused beside the field, and nothing is written; the
/// account holder's own address is theirs to use.
async fn an_employee_record_with_a_look_alike_address_is_refused(app: TestApp) {
    app.sign_in_as_admin().await;
    app.create_user("sam.okafor@larkspur.example", "Sam Okafor", Role::Employee)
        .await;
    let employees = app.employees().await;
    let record = |email: &'static str| {
        [
            ("name", "Sam Twin"),
            ("email", email),
            ("title", "Engineer"),
            ("department", ""),
            ("new_department", "Operations"),
            ("manager", ""),
            ("location", "Lagos"),
            ("start_date", "2024-01-02"),
            ("status", "active"),
            ("left_on", ""),
        ]
    };
    for email in LOOK_ALIKES {
        let response = app
            .browser
            .submits(
                "/admin/employees/new",
                "/admin/employees/new",
                &record(email),
            )
            .await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{email}");
        let page = body(response).await;
        assert!(
            page.contains("looks the same as sam.okafor@larkspur.example"),
            "{email}"
        );
    }
    assert_eq!(app.employees().await, employees, "nothing was written");
    let own = app
        .browser
        .submits(
            "/admin/employees/new",
            "/admin/employees/new",
            &record("sam.okafor@larkspur.example"),
        )
        .await;
    assert_eq!(
        own.status(),
        Status::SeeOther,
        "the account holder's own address"
    );
    assert_eq!(app.employees().await, employees + 1);
}

on_every_backend!(
    look_alike_and_unmailable_addresses_are_refused,
    a_look_alike_of_an_employees_address_is_refused,
    an_employee_record_with_a_look_alike_address_is_refused,
);
