//! Every change and its audit event commit together: with the audit insert failing, the change
//! it belongs to is rolled back and the person gets an error page, never a change with no trail.

use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::helpers::*;
use hr_portal::users::{Role, User};

/// An administrator signed in, and Ada signed in on her laptop.
struct Office {
    app: TestApp,
    ada: User,
    ada_laptop: Client,
}

/// The first browser signed in as the administrator, Ada signed in on her laptop, the mail
/// about both sign-ins delivered.
async fn office(app: TestApp) -> Office {
    app.sign_in_as_admin().await;
    let ada = app
        .create_user("ada@example.com", "Ada Lovelace", Role::Employee)
        .await;
    let ada_laptop = app.browser_signed_in_as(&ada).await;
    // Both first sign-ins are announced by mail: let the delivery task write its `mail_sent`
    // events now, not while a test counts events around a broken audit trail.
    app.mails_sent().reaches(2).await;
    Office {
        app,
        ada,
        ada_laptop,
    }
}

/// Posts an admin form with the audit trail broken; the answer must be a server error.
async fn admin_posts_while_the_audit_trail_is_down(office: &Office, page: &str, action: &str) {
    office.app.break_the_audit_trail().await;
    let events = office.app.audit_events().await;
    let response = office.app.browser.submits(page, action, &[]).await;
    assert_eq!(response.status(), Status::InternalServerError, "{action}");
    office.app.mend_the_audit_trail().await;
    assert_eq!(office.app.audit_events().await, events, "no event");
}

async fn a_sign_in_whose_event_cannot_be_written_starts_no_session(app: TestApp) {
    let office = office(app).await;
    let desk = office.app.new_browser().await;
    office.app.break_the_audit_trail().await;
    let status = desk.signs_in_as("ada@example.com", PASSWORD).await;
    assert_eq!(status, Status::InternalServerError);
    office.app.mend_the_audit_trail().await;
    assert!(!desk.is_signed_in().await, "no session was started");
    assert_eq!(
        office.app.sessions_of(&office.ada).await,
        1,
        "only the laptop's"
    );
}

async fn a_revocation_whose_event_cannot_be_written_leaves_the_session_alive(app: TestApp) {
    let office = office(app).await;
    let handle: String = sqlx::query_scalar("SELECT handle FROM sessions WHERE user_id = $1")
        .bind(office.ada.id)
        .fetch_one(&office.app.db().pool)
        .await
        .unwrap();
    let action = format!("/admin/sessions/{handle}/revoke");
    admin_posts_while_the_audit_trail_is_down(&office, "/admin/sessions", &action).await;
    assert!(office.ada_laptop.is_signed_in().await);
}

async fn a_force_logout_whose_event_cannot_be_written_ends_nothing(app: TestApp) {
    let office = office(app).await;
    let action = format!("/admin/users/{}/sessions/revoke", office.ada.id);
    admin_posts_while_the_audit_trail_is_down(&office, "/admin/sessions", &action).await;
    assert!(office.ada_laptop.is_signed_in().await);
}

async fn a_disable_whose_event_cannot_be_written_leaves_the_account_enabled(app: TestApp) {
    let office = office(app).await;
    let action = format!("/admin/users/{}/disable", office.ada.id);
    admin_posts_while_the_audit_trail_is_down(&office, "/admin/users", &action).await;
    assert!(!office.app.reload(&office.ada).await.disabled);
    assert!(office.ada_laptop.is_signed_in().await);
}

async fn a_role_change_whose_event_cannot_be_written_leaves_the_role(app: TestApp) {
    let office = office(app).await;
    office.app.break_the_audit_trail().await;
    let action = format!("/admin/users/{}/role", office.ada.id);
    let response = office
        .app
        .browser
        .submits("/admin/users", &action, &[("role", "admin")])
        .await;
    assert_eq!(response.status(), Status::InternalServerError);
    office.app.mend_the_audit_trail().await;
    assert_eq!(office.app.reload(&office.ada).await.role, Role::Employee);
    assert!(office.ada_laptop.is_signed_in().await);
}

async fn a_password_change_whose_event_cannot_be_written_changes_nothing(app: TestApp) {
    let office = office(app).await;
    let phone = office.app.browser_signed_in_as(&office.ada).await;
    office.app.break_the_audit_trail().await;
    let response = office
        .ada_laptop
        .changes_password(
            PASSWORD,
            "an entirely new passphrase",
            "an entirely new passphrase",
        )
        .await;
    assert_eq!(response.status(), Status::InternalServerError);
    office.app.mend_the_audit_trail().await;
    assert!(
        phone.is_signed_in().await,
        "the other session was not ended"
    );
    assert!(
        office.ada_laptop.is_signed_in().await,
        "nor this one rotated away"
    );
    let desk = office.app.new_browser().await;
    assert_eq!(
        desk.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther,
        "the old password still works"
    );
}

async fn an_employee_edit_whose_event_cannot_be_written_is_not_saved(app: TestApp) {
    let office = office(app).await;
    let form = GRACE_HOPPER;
    let created = office
        .app
        .browser
        .submits("/admin/employees/new", "/admin/employees/new", &form)
        .await;
    assert_eq!(created.status(), Status::SeeOther);
    let profile = location(&created).expect("to the profile").to_string();
    let edit = format!("{profile}/edit").replace("/employees/", "/admin/employees/");
    let mut changed = form;
    changed[2] = ("title", "Commodore");
    office.app.break_the_audit_trail().await;
    let response = office.app.browser.submits(&edit, &edit, &changed).await;
    assert_eq!(response.status(), Status::InternalServerError);
    office.app.mend_the_audit_trail().await;
    let (_, html) = office.app.browser.opens(&profile).await;
    assert!(html.contains("Rear Admiral") && !html.contains("Commodore"));
}

on_every_backend!(
    a_sign_in_whose_event_cannot_be_written_starts_no_session,
    a_revocation_whose_event_cannot_be_written_leaves_the_session_alive,
    a_force_logout_whose_event_cannot_be_written_ends_nothing,
    a_disable_whose_event_cannot_be_written_leaves_the_account_enabled,
    a_role_change_whose_event_cannot_be_written_leaves_the_role,
    a_password_change_whose_event_cannot_be_written_changes_nothing,
    an_employee_edit_whose_event_cannot_be_written_is_not_saved,
);
