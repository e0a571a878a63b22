//! The admin area: seeing and ending anyone's sessions, managing accounts, reading the audit log.

use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

async fn revoking_one_of_two_sessions_ends_exactly_that_one(app: TestApp) {
    app.sign_in_as_admin_and_create_ada().await;
    let laptop = app.new_browser().await;
    let phone = app.new_browser().await;
    laptop.signs_in_as("ada@example.com", PASSWORD).await;
    phone.signs_in_as("ada@example.com", PASSWORD).await;
    let laptop_handle = app.session_handle_of(&laptop).await;

    let action = format!("/admin/sessions/{laptop_handle}/revoke");
    let response = app.browser.submits("/admin/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(!laptop.is_signed_in().await);
    assert!(phone.is_signed_in().await);

    // Revoking it again is a friendly no-op.
    let again = app.browser.submits("/admin/sessions", &action, &[]).await;
    assert_eq!(again.status(), Status::SeeOther);
    let (_, html) = app.browser.opens("/admin/sessions").await;
    assert!(html.contains("That session had already ended."));

    let event: (Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT actor_user_id, session_handle FROM audit_events WHERE kind = 'session_revoked'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    let root_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'root@example.com'")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(event, (Some(root_id), Some(laptop_handle)));
}

async fn force_logout_ends_all_of_one_users_sessions_and_no_one_elses(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    app.create_user("bob@example.com", "Bob", Role::Employee)
        .await;
    let ada_laptop = app.new_browser().await;
    let ada_phone = app.new_browser().await;
    let bob = app.new_browser().await;
    for (browser, email) in [
        (&ada_laptop, "ada@example.com"),
        (&ada_phone, "ada@example.com"),
        (&bob, "bob@example.com"),
    ] {
        browser.signs_in_as(email, PASSWORD).await;
    }
    let action = format!("/admin/users/{}/sessions/revoke", ada.id);
    // One "Sign out everywhere" per person, leading to a page that says what it does.
    let confirm = format!("/admin/users/{}/confirm?action=sign-out-everywhere", ada.id);
    let (_, page) = app.browser.opens("/admin/sessions").await;
    assert_eq!(page.matches(&format!("href=\"{confirm}\"")).count(), 1);
    let (_, confirmation) = app.browser.opens(&confirm).await;
    assert!(confirmation.contains("Sign Ada out everywhere?"));
    assert!(confirmation.contains(&format!("action=\"{action}\"")));
    let response = app.browser.submits(&confirm, &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);

    assert!(!ada_laptop.is_signed_in().await);
    assert!(!ada_phone.is_signed_in().await);
    assert!(bob.is_signed_in().await);
    assert!(app.browser.is_signed_in().await);
    assert!(app
        .audit_kinds()
        .await
        .contains(&"user_force_logged_out".to_string()));
}

async fn disabling_a_user_ends_their_sessions_and_blocks_login_with_the_generic_failure(
    app: TestApp,
) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    let ada_browser = app.new_browser().await;
    ada_browser.signs_in_as("ada@example.com", PASSWORD).await;

    let action = format!("/admin/users/{}/disable", ada.id);
    let response = app.browser.submits("/admin/users", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(!ada_browser.is_signed_in().await);

    let retry = app.new_browser().await;
    let response = retry
        .signs_in_with(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert!(body(response)
        .await
        .contains("The e-mail address or password is incorrect."));

    let enable = format!("/admin/users/{}/enable", ada.id);
    app.browser.submits("/admin/users", &enable, &[]).await;
    assert_eq!(
        retry.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let kinds = app.audit_kinds().await;
    assert!(kinds.contains(&"user_disabled".to_string()));
    assert!(kinds.contains(&"user_enabled".to_string()));
}

async fn a_role_change_forces_a_fresh_login_with_the_new_rights(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    let ada_browser = app.new_browser().await;
    ada_browser.signs_in_as("ada@example.com", PASSWORD).await;
    assert_eq!(ada_browser.opens("/admin/users").await.0, Status::Forbidden);

    let action = format!("/admin/users/{}/role", ada.id);
    let response = app
        .browser
        .submits("/admin/users", &action, &[("role", "admin")])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(
        !ada_browser.is_signed_in().await,
        "the old session ends with the old rights"
    );

    ada_browser.signs_in_as("ada@example.com", PASSWORD).await;
    assert_eq!(ada_browser.opens("/admin/users").await.0, Status::Ok);
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE kind = 'role_changed'")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    assert!(detail.contains("employee → admin"), "{detail}");
}

async fn the_last_enabled_admin_cannot_disable_or_demote_themself(app: TestApp) {
    app.sign_in_as_admin().await;
    let root_id: i64 = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    for (action, fields) in [
        (format!("/admin/users/{root_id}/disable"), vec![]),
        (
            format!("/admin/users/{root_id}/role"),
            vec![("role", "employee")],
        ),
    ] {
        let response = app.browser.submits("/admin/users", &action, &fields).await;
        assert_eq!(response.status(), Status::SeeOther);
        let (_, html) = app.browser.opens("/admin/users").await;
        assert!(
            html.contains("That would leave no enabled administrator"),
            "{action}"
        );
    }
    assert_eq!(app.enabled_admins().await, 1);
    assert!(app.browser.is_signed_in().await);
}

async fn an_admin_creates_a_user_who_can_then_sign_in(app: TestApp) {
    app.sign_in_as_admin().await;
    let response = app
        .browser
        .submits(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "Katherine Johnson"),
                ("email", " Katherine@Example.COM "),
                ("role", "employee"),
                ("password", "orbital mechanics 1962"),
                ("password_confirm", "orbital mechanics 1962"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let kj = app.new_browser().await;
    assert_eq!(
        kj.signs_in_as("katherine@example.com", "orbital mechanics 1962")
            .await,
        Status::SeeOther
    );

    // The same address again, and a weak password, are refused with the form re-shown.
    let duplicate = app
        .browser
        .submits(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "K. Johnson"),
                ("email", "katherine@example.com"),
                ("role", "employee"),
                ("password", "another long password"),
                ("password_confirm", "another long password"),
            ],
        )
        .await;
    assert_eq!(duplicate.status(), Status::Conflict);
    let weak = app
        .browser
        .submits(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "Weak"),
                ("email", "weak@example.com"),
                ("role", "employee"),
                ("password", "password1234"),
                ("password_confirm", "password1234"),
            ],
        )
        .await;
    assert_eq!(weak.status(), Status::UnprocessableEntity);
    assert!(body(weak).await.contains("commonly used"));
    assert_eq!(app.accounts().await, 2);
}

async fn the_sessions_page_filters_by_email_and_paginates(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    // 120 sessions for Ada straight into the table, as if from 120 devices.
    let now = app.clock.now();
    for i in 0..120 {
        app.plant_session(PlantedSession {
            handle: &format!("handle-{i}"),
            user: ada.id,
            last_seen_at: now - i,
            expires_at: now + 3600,
            remember: false,
        })
        .await;
    }
    let (_, first) = app.browser.opens("/admin/sessions").await;
    assert!(first.contains("id=\"live-sessions\">121<"));
    assert!(first.contains("id=\"signed-in-users\">2<"));
    assert_eq!(
        first.matches("/revoke\"").count(),
        50,
        "50 rows a page, one \"Sign out\" each"
    );
    assert!(first.contains("Page 1 of 3"));
    let (_, last) = app.browser.opens("/admin/sessions?page=3").await;
    assert_eq!(last.matches("/admin/sessions/").count(), 21);

    let (_, filtered) = app.browser.opens("/admin/sessions?email=root").await;
    assert!(filtered.contains("id=\"live-sessions\">1<"));
    assert!(filtered.contains("Your session"));
    let (_, none) = app.browser.opens("/admin/sessions?email=%25").await;
    assert!(
        none.contains("id=\"live-sessions\">0<"),
        "LIKE wildcards in the filter are literal"
    );
}

async fn the_audit_log_records_who_did_what_and_filters(app: TestApp) {
    app.sign_in_as_admin_and_create_ada().await;
    let ada = app.new_browser().await;
    assert_eq!(
        ada.signs_in_as("ada@example.com", "not the password at all")
            .await,
        Status::Unauthorized
    );
    ada.signs_in_as("ada@example.com", PASSWORD).await;
    ada.signs_out().await;

    let (_, html) = app.browser.opens("/admin/audit").await;
    for label in ["Sign-in succeeded", "Sign-in failed", "Signed out"] {
        assert!(html.contains(label), "{label}");
    }
    assert!(
        !html.contains("not the password at all"),
        "passwords never reach the log"
    );
    let (_, failed_only) = app.browser.opens("/admin/audit?kind=login_failed").await;
    assert_eq!(failed_only.matches("data-kind=\"login_failed\"").count(), 1);
    assert_eq!(failed_only.matches("data-kind=").count(), 1);
    let (_, ada_only) = app.browser.opens("/admin/audit?user=ada%40").await;
    // Her sign-in, failure and sign-out (and the delivery of her new-sign-in notice, if done yet).
    let deliveries = ada_only.matches("data-kind=\"mail_sent\"").count();
    assert_eq!(ada_only.matches("data-kind=").count() - deliveries, 3);
    let stored: i64 = app.events_mentioning("not the password").await;
    assert_eq!(stored, 0);

    // A password typed into the e-mail field is not kept either.
    assert_eq!(
        ada.signs_in_as("my secret passphrase", "x").await,
        Status::Unauthorized
    );
    let (_, html) = app.browser.opens("/admin/audit?kind=login_failed").await;
    assert!(!html.contains("my secret passphrase"));
    assert!(html.contains("(not an e-mail address, 20 characters)"));
}

/// Sixty accounts straight into the table: `user00@…` to `user59@…`, created a second apart.
async fn sixty_accounts(app: &TestApp) {
    let now = app.clock.now();
    for i in 0..60 {
        sqlx::query(
            "INSERT INTO users (email, name, role, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, 'employee', 'unused', $3, $3)",
        )
        .bind(format!("user{i:02}@example.com"))
        .bind(format!("Person {}", 60 - i))
        .bind(now - 1000 + i)
        .execute(&app.db().pool)
        .await
        .unwrap();
    }
}

async fn the_users_table_sorts_by_its_headers_and_pages_by_the_chosen_size(app: TestApp) {
    app.sign_in_as_admin().await;
    sixty_accounts(&app).await;
    let rows = |page: &str| page.matches("<details class=\"menu row-menu\">").count();

    let (_, by_name) = app.browser.opens("/admin/users").await;
    assert_eq!(rows(&by_name), 25, "25 a page by default");
    assert!(by_name.contains("aria-sort=\"ascending\""));
    let header = "href=\"/admin/users?sort=email&amp;dir=asc&amp;size=25\"";
    assert!(by_name.contains(header), "the e-mail header sorts");

    let (_, by_email) = app
        .browser
        .opens("/admin/users?sort=email&dir=desc&size=50")
        .await;
    assert_eq!(rows(&by_email), 50);
    let first = by_email
        .find("user59@example.com")
        .expect("the last address first");
    assert!(first < by_email.find("user58@example.com").unwrap());
    assert!(by_email.contains("aria-sort=\"descending\""));
    assert!(by_email.contains("aria-current=\"page\""), "numbered pages");

    let (_, newest) = app
        .browser
        .opens("/admin/users?sort=created&dir=desc&size=100")
        .await;
    assert_eq!(rows(&newest), 61, "everyone on one page of 100");
    let (status, _) = app.browser.opens("/admin/users?size=7").await;
    assert_eq!(status, Status::BadRequest, "a size nobody offered");
}

on_every_backend!(
    the_users_table_sorts_by_its_headers_and_pages_by_the_chosen_size,
    revoking_one_of_two_sessions_ends_exactly_that_one,
    force_logout_ends_all_of_one_users_sessions_and_no_one_elses,
    disabling_a_user_ends_their_sessions_and_blocks_login_with_the_generic_failure,
    a_role_change_forces_a_fresh_login_with_the_new_rights,
    the_last_enabled_admin_cannot_disable_or_demote_themself,
    an_admin_creates_a_user_who_can_then_sign_in,
    the_sessions_page_filters_by_email_and_paginates,
    the_audit_log_records_who_did_what_and_filters,
);

/// Anonymous posts to the account-change routes are sent to sign in, like every page that needs
/// a session (the disable/enable route shares its shape with the role route).
#[rocket::async_test]
async fn anonymous_posts_to_account_changes_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let ada = app.create_ada().await;
    for action in ["role", "disable", "enable", "sessions/revoke"] {
        let path = format!("/admin/users/{}/{action}", ada.id);
        let response = app.browser.posts(&path, &[("role", "admin")]).await;
        assert_eq!(response.status(), Status::SeeOther, "{path}");
        assert!(
            location(&response).is_some_and(|to| to.starts_with("/login")),
            "{path}"
        );
    }
    assert_eq!(app.reload(&ada).await.role, Role::Employee);
}
