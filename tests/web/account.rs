//! Self-service: a person's own sessions and password.

use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

async fn a_person_sees_their_sessions_and_signs_out_the_others_but_keeps_this_one(
    backend: Backend,
) {
    let Some(app) = spawn_on(backend).await else {
        return;
    };
    app.create_user("ada@example.com", "Ada", Role::Employee)
        .await;
    app.create_user("bob@example.com", "Bob", Role::Employee)
        .await;
    let here = &app.browser;
    let elsewhere = app.new_browser().await;
    let bob = app.new_browser().await;
    log_in(here, "ada@example.com", PASSWORD).await;
    log_in(&elsewhere, "ada@example.com", PASSWORD).await;
    log_in(&bob, "bob@example.com", PASSWORD).await;

    let (status, html) = get_page(here, "/account/sessions").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(html.matches("This device").count(), 1);
    assert_eq!(
        html.matches("/revoke\"").count(),
        2,
        "one row per own session, none of Bob's"
    );

    let response = post_with_csrf(
        here,
        "/account/sessions",
        "/account/sessions/revoke-others",
        &[],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(is_signed_in(here).await);
    assert!(!is_signed_in(&elsewhere).await);
    assert!(is_signed_in(&bob).await);
}

async fn posting_another_users_session_handle_changes_nothing(backend: Backend) {
    let Some(app) = spawn_on(backend).await else {
        return;
    };
    app.create_user("ada@example.com", "Ada", Role::Employee)
        .await;
    app.create_user("bob@example.com", "Bob", Role::Employee)
        .await;
    let bob = app.new_browser().await;
    log_in(&app.browser, "ada@example.com", PASSWORD).await;
    log_in(&bob, "bob@example.com", PASSWORD).await;
    let bobs_handle: String = sqlx::query_scalar(
        "SELECT s.handle FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'bob@example.com'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    let action = format!("/account/sessions/{bobs_handle}/revoke");
    let response = post_with_csrf(&app.browser, "/account/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::NotFound);
    assert!(is_signed_in(&bob).await);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 2);
}

async fn signing_out_one_own_session_from_the_list_ends_it(backend: Backend) {
    let Some(app) = spawn_on(backend).await else {
        return;
    };
    app.create_user("ada@example.com", "Ada", Role::Employee)
        .await;
    let other = app.new_browser().await;
    log_in(&app.browser, "ada@example.com", PASSWORD).await;
    log_in(&other, "ada@example.com", PASSWORD).await;
    let token = session_token(&other).unwrap();
    let handle: String = sqlx::query_scalar("SELECT handle FROM sessions WHERE token_hash = $1")
        .bind(hr_portal::auth::hash_token(&token))
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let action = format!("/account/sessions/{handle}/revoke");
    let response = post_with_csrf(&app.browser, "/account/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(!is_signed_in(&other).await);
    assert!(is_signed_in(&app.browser).await);
    // A handle that no longer exists is a friendly no-op.
    let response = post_with_csrf(&app.browser, "/account/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
}

async fn a_password_change_ends_the_other_sessions_and_rotates_this_one(backend: Backend) {
    let Some(app) = spawn_on(backend).await else {
        return;
    };
    app.create_user("ada@example.com", "Ada", Role::Employee)
        .await;
    let here = &app.browser;
    let elsewhere = app.new_browser().await;
    log_in(here, "ada@example.com", PASSWORD).await;
    log_in(&elsewhere, "ada@example.com", PASSWORD).await;
    let old_cookie = session_cookie(here).unwrap();
    let old_token = session_token(here).unwrap();
    let new_password = "a brand new passphrase";

    let response = post_with_csrf(
        here,
        "/account/password",
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", new_password),
            ("new_password_confirm", new_password),
        ],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(is_signed_in(here).await, "this browser stays signed in");
    assert_ne!(session_token(here).unwrap(), old_token, "with a new token");
    assert!(!is_signed_in(&elsewhere).await);
    let thief = app.new_browser().await;
    assert_eq!(
        get_with_cookie(&thief, "/dashboard", &old_cookie).await,
        Status::SeeOther
    );

    let fresh = app.new_browser().await;
    assert_eq!(
        log_in(&fresh, "ada@example.com", PASSWORD).await,
        Status::Unauthorized
    );
    assert_eq!(
        log_in(&fresh, "ada@example.com", new_password).await,
        Status::SeeOther
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE kind = 'password_changed'")
            .await,
        1
    );
}

async fn a_wrong_current_password_or_weak_new_one_changes_nothing(backend: Backend) {
    let Some(app) = spawn_on(backend).await else {
        return;
    };
    app.create_user("ada@example.com", "Ada", Role::Employee)
        .await;
    let other = app.new_browser().await;
    log_in(&app.browser, "ada@example.com", PASSWORD).await;
    log_in(&other, "ada@example.com", PASSWORD).await;
    for (current, new, confirm, message) in [
        (
            "wrong current password",
            "a brand new passphrase",
            "a brand new passphrase",
            "current password is incorrect",
        ),
        (PASSWORD, "short", "short", "at least 12 characters"),
        (
            PASSWORD,
            "a brand new passphrase",
            "a different passphrase",
            "do not match",
        ),
    ] {
        let response = post_with_csrf(
            &app.browser,
            "/account/password",
            "/account/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("new_password_confirm", confirm),
            ],
        )
        .await;
        assert_eq!(response.status(), Status::UnprocessableEntity);
        assert!(body(response).await.contains(message), "{message}");
    }
    assert!(is_signed_in(&other).await);
    assert_eq!(
        log_in(&app.new_browser().await, "ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
}

on_every_backend!(
    a_person_sees_their_sessions_and_signs_out_the_others_but_keeps_this_one,
    posting_another_users_session_handle_changes_nothing,
    signing_out_one_own_session_from_the_list_ends_it,
    a_password_change_ends_the_other_sessions_and_rotates_this_one,
    a_wrong_current_password_or_weak_new_one_changes_nothing,
);
