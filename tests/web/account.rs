//! Self-service: a person's own sessions and password.

use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

async fn a_person_sees_their_sessions_and_signs_out_the_others_but_keeps_this_one(app: TestApp) {
    app.create_ada().await;
    app.create_user("bob@example.com", "Bob", Role::Employee)
        .await;
    let here = &app.browser;
    let elsewhere = app.new_browser().await;
    let bob = app.new_browser().await;
    here.signs_in_as("ada@example.com", PASSWORD).await;
    elsewhere.signs_in_as("ada@example.com", PASSWORD).await;
    bob.signs_in_as("bob@example.com", PASSWORD).await;

    let (status, html) = here.opens("/account/sessions").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(html.matches("This device").count(), 1);
    assert_eq!(
        html.matches("/revoke\"").count(),
        2,
        "one row per own session, none of Bob's"
    );

    let response = here
        .submits("/account/sessions", "/account/sessions/revoke-others", &[])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(here.is_signed_in().await);
    assert!(!elsewhere.is_signed_in().await);
    assert!(bob.is_signed_in().await);
}

async fn posting_another_users_session_handle_changes_nothing_and_answers_as_for_an_unknown_one(
    app: TestApp,
) {
    app.create_ada().await;
    app.create_user("bob@example.com", "Bob", Role::Employee)
        .await;
    let bob = app.new_browser().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    bob.signs_in_as("bob@example.com", PASSWORD).await;
    let bobs_handle = app.session_handle_of_address("bob@example.com").await;
    let answer = |response: rocket::local::asynchronous::LocalResponse<'_>| {
        let location = response.headers().get_one("Location").map(str::to_string);
        (response.status(), location)
    };
    let action = format!("/account/sessions/{bobs_handle}/revoke");
    let theirs = answer(app.browser.submits("/account/sessions", &action, &[]).await);
    assert!(bob.is_signed_in().await);
    assert_eq!(app.sessions().await, 2);
    let unknown_handle: String = bobs_handle.chars().rev().collect();
    let action = format!("/account/sessions/{unknown_handle}/revoke");
    let unknown = answer(app.browser.submits("/account/sessions", &action, &[]).await);
    assert_eq!(
        theirs, unknown,
        "no way to tell a live handle from an unknown one"
    );
    assert_eq!(theirs.0, Status::SeeOther);
}

async fn signing_out_one_own_session_from_the_list_ends_it(app: TestApp) {
    app.create_ada().await;
    let other = app.new_browser().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    other.signs_in_as("ada@example.com", PASSWORD).await;
    let handle = app.session_handle_of(&other).await;
    let action = format!("/account/sessions/{handle}/revoke");
    let response = app.browser.submits("/account/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(!other.is_signed_in().await);
    assert!(app.browser.is_signed_in().await);
    // A handle that no longer exists is a friendly no-op.
    let response = app.browser.submits("/account/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
}

async fn a_password_change_ends_the_other_sessions_and_rotates_this_one(app: TestApp) {
    app.create_ada().await;
    let here = &app.browser;
    let elsewhere = app.new_browser().await;
    here.signs_in_as("ada@example.com", PASSWORD).await;
    elsewhere.signs_in_as("ada@example.com", PASSWORD).await;
    let old_cookie = here.session_cookie().unwrap();
    let old_token = here.session_token().unwrap();
    let new_password = "a brand new passphrase";

    let response = here
        .changes_password(PASSWORD, new_password, new_password)
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(here.is_signed_in().await, "this browser stays signed in");
    assert_ne!(here.session_token().unwrap(), old_token, "with a new token");
    assert!(!elsewhere.is_signed_in().await);
    let thief = app.new_browser().await;
    assert_eq!(
        thief.replays_cookie("/dashboard", &old_cookie).await,
        Status::SeeOther
    );

    let fresh = app.new_browser().await;
    assert_eq!(
        fresh.signs_in_as("ada@example.com", PASSWORD).await,
        Status::Unauthorized
    );
    assert_eq!(
        fresh.signs_in_as("ada@example.com", new_password).await,
        Status::SeeOther
    );
    assert_eq!(app.events_of_kind("password_changed").await, 1);
}

async fn a_wrong_current_password_or_weak_new_one_changes_nothing(app: TestApp) {
    app.create_ada().await;
    let other = app.new_browser().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    other.signs_in_as("ada@example.com", PASSWORD).await;
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
        let response = app.browser.changes_password(current, new, confirm).await;
        assert_eq!(response.status(), Status::UnprocessableEntity);
        assert!(body(response).await.contains(message), "{message}");
    }
    assert!(other.is_signed_in().await);
    assert_eq!(
        app.new_browser()
            .await
            .signs_in_as("ada@example.com", PASSWORD)
            .await,
        Status::SeeOther
    );
}

on_every_backend!(
    a_person_sees_their_sessions_and_signs_out_the_others_but_keeps_this_one,
    posting_another_users_session_handle_changes_nothing_and_answers_as_for_an_unknown_one,
    signing_out_one_own_session_from_the_list_ends_it,
    a_password_change_ends_the_other_sessions_and_rotates_this_one,
    a_wrong_current_password_or_weak_new_one_changes_nothing,
);
