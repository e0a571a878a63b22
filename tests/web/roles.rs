//! Roles an HR team really has, and the re-authentication the dangerous acts ask for: a role
//! change ends that person's sessions and is audited old → new, the last administrator keeps the
//! role, an old sign-in must confirm the password before a dangerous act — which then carries on
//! as asked — and the command line names roles or refuses in one line.

use hr_portal::users::Role;
use rocket::http::Status;

use crate::cli::hr_portal;
use crate::helpers::*;

/// Every hidden field of the confirmation form in `page`, as (name, value).
fn held_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split_once('"')?.0;
            Some((name.to_string(), unescape(value)))
        })
        .collect()
}

/// What Tera's escaping of an attribute stands for.
fn unescape(text: &str) -> String {
    text.replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn a_role_change_ends_that_persons_sessions_and_is_audited_old_to_new(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let laptop = app.browser_signed_in_as(&ada).await;
    let action = format!("/admin/users/{}/role", ada.id);
    let answer = app
        .browser
        .submits("/admin/users", &action, &[("role", "hr")])
        .await;
    assert_eq!(answer.status(), Status::SeeOther);
    assert_eq!(app.reload(&ada).await.role, Role::Hr);
    assert!(
        !laptop.is_signed_in().await,
        "new rights apply from a fresh sign-in"
    );
    assert_eq!(
        app.events_of_kind_mentioning("role_changed", "employee → hr")
            .await,
        1
    );
    // HR now edits people but still cannot open the users page.
    let hr = app.browser_signed_in_as(&ada).await;
    assert_eq!(hr.opens("/admin/employees/new").await.0, Status::Ok);
    assert_eq!(hr.opens("/admin/users").await.0, Status::Forbidden);
    // An unknown role is a 4xx and changes nothing.
    let answer = app
        .browser
        .submits("/admin/users", &action, &[("role", "overlord")])
        .await;
    assert!(answer.status().code >= 400 && answer.status().code < 500);
    assert_eq!(app.reload(&ada).await.role, Role::Hr);
}

async fn the_last_administrator_cannot_lose_the_role(app: TestApp) {
    let root = app.sign_in_as_admin().await;
    let action = format!("/admin/users/{}/role", root.id);
    app.browser
        .submits("/admin/users", &action, &[("role", "security")])
        .await;
    assert_eq!(app.reload(&root).await.role, Role::Admin);
    assert_eq!(app.enabled_admins().await, 1);
}

async fn an_old_sign_in_confirms_the_password_and_the_act_carries_on(app: TestApp) {
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    let action = format!("/admin/users/{}/role", ada.id);
    let token = csrf_token_in(&app.browser.opens("/admin/users").await.1);
    // Eleven minutes later (inside the 30-minute idle limit) the sign-in is no longer fresh.
    app.clock.advance(11 * 60);
    let held = app
        .browser
        .posts(&action, &[("role", "auditor"), ("csrf_token", &token)])
        .await;
    assert_eq!(held.status(), Status::Unauthorized);
    let page = body(held).await;
    assert!(page.contains("Confirm it is you"), "{page}");
    assert!(unescape(&page).contains(&format!("action=\"{action}\"")));
    assert_eq!(app.reload(&ada).await.role, Role::Employee, "nothing yet");

    // A wrong password is refused on the same page, and still nothing changes.
    let mut fields = held_fields(&page);
    assert!(fields.contains(&("role".to_string(), "auditor".to_string())));
    fields.push(("sudo_password".into(), "not the password!".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = app.browser.posts(&action, &borrowed).await;
    assert_eq!(refused.status(), Status::Unauthorized);
    assert!(body(refused).await.contains("confirm-error"));
    assert_eq!(app.reload(&ada).await.role, Role::Employee);

    // The right password: the held request goes ahead as it was asked.
    let mut fields = held_fields(&page);
    fields.push(("sudo_password".into(), PASSWORD.into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = app.browser.posts(&action, &borrowed).await;
    assert_eq!(done.status(), Status::SeeOther);
    assert_eq!(app.reload(&ada).await.role, Role::Auditor);
}

async fn the_command_line_names_roles_and_refuses_unknown_ones_in_one_line(app: TestApp) {
    let stdin = format!("{PASSWORD}\n");
    let add = [
        "user",
        "add",
        "grace@example.com",
        "--name",
        "Grace",
        "--role",
        "security",
    ];
    let (ok, out) = hr_portal(&app, &add, &stdin);
    assert!(ok, "{out}");
    let (ok, out) = hr_portal(&app, &["user", "role", "grace@example.com", "auditor"], "");
    assert!(ok && out.contains("is now auditor"), "{out}");
    let (ok, out) = hr_portal(&app, &["user", "role", "grace@example.com", "overlord"], "");
    assert!(!ok, "{out}");
    assert_eq!(out.trim().lines().count(), 1, "one line: {out}");
    assert!(out.contains("unknown role"), "{out}");
    let bad_add = [
        "user",
        "add",
        "kay@example.com",
        "--name",
        "Kay",
        "--role",
        "boss",
    ];
    let (ok, out) = hr_portal(&app, &bad_add, &stdin);
    assert!(!ok && out.contains("unknown role"), "{out}");
    assert_eq!(app.accounts().await, 1, "nothing written");
}

on_every_backend!(
    a_role_change_ends_that_persons_sessions_and_is_audited_old_to_new,
    the_last_administrator_cannot_lose_the_role,
    an_old_sign_in_confirms_the_password_and_the_act_carries_on,
    the_command_line_names_roles_and_refuses_unknown_ones_in_one_line,
);
