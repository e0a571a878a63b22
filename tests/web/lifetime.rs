//! Session lifetime: idle and absolute limits, "keep me signed in", and the purge.
//! Time moves through the app's injectable clock; nothing sleeps.

use hr_portal::app::{housekeeping, App};
use rocket::http::Status;

use crate::helpers::*;

const IDLE: i64 = 1800;
const ABSOLUTE: i64 = 43_200;

async fn a_session_idle_past_the_limit_is_anonymous_and_its_row_deleted(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;

    app.clock.advance(IDLE - 5);
    assert!(
        app.browser.is_signed_in().await,
        "just inside the idle limit"
    );
    // That request refreshed last_seen_at, so the limit counts from it.
    app.clock.advance(IDLE - 5);
    assert!(app.browser.is_signed_in().await);
    app.clock.advance(IDLE);
    assert!(!app.browser.is_signed_in().await);
    assert_eq!(app.sessions().await, 0);
}

async fn activity_never_extends_a_session_past_its_absolute_limit(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    let mut elapsed = 0;
    while elapsed + 600 < ABSOLUTE {
        app.clock.advance(600);
        elapsed += 600;
        assert!(app.browser.is_signed_in().await, "active at {elapsed} s");
    }
    app.clock.advance(ABSOLUTE - elapsed);
    assert!(!app.browser.is_signed_in().await);
}

async fn short_idle_timeouts_still_count_activity(backend: Backend) {
    let settings = [("session_idle_timeout", 30.into())];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    for _ in 0..10 {
        app.clock.advance(20);
        assert!(app.browser.is_signed_in().await);
    }
    app.clock.advance(31);
    assert!(!app.browser.is_signed_in().await);
}

async fn keep_me_signed_in_outlives_the_normal_idle_limit_but_not_its_own(app: TestApp) {
    app.create_ada().await;
    let response = app
        .browser
        .signs_in_with(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("remember", "true"),
        ])
        .await;
    let cookie = set_cookie(&response, "hr_session").unwrap();
    assert!(
        cookie.contains("Max-Age=2592000"),
        "a persistent cookie: {cookie}"
    );

    app.clock.advance(IDLE * 4);
    assert!(
        app.browser.is_signed_in().await,
        "two hours idle is fine when remembered"
    );
    app.clock.advance(7 * 86_400);
    assert!(!app.browser.is_signed_in().await, "but not a week idle");
}

async fn keep_me_signed_in_ends_at_its_absolute_limit_and_on_revocation(app: TestApp) {
    app.create_ada().await;
    let other = app.new_browser().await;
    app.browser
        .signs_in_remembered("ada@example.com", PASSWORD)
        .await;
    other.signs_in_remembered("ada@example.com", PASSWORD).await;

    // Revocation: "sign out other sessions" ends a remembered session like any other.
    app.browser
        .submits("/account/sessions", "/account/sessions/revoke-others", &[])
        .await;
    assert!(!other.is_signed_in().await);

    for _ in 0..29 {
        app.clock.advance(86_400);
        assert!(app.browser.is_signed_in().await);
    }
    app.clock.advance(86_400);
    assert!(!app.browser.is_signed_in().await, "30 days is the ceiling");
}

async fn the_purge_removes_exactly_the_expired_rows(app: TestApp) {
    let ada = app.create_ada().await;
    let now = app.clock.now();
    // (handle, last_seen_at, expires_at, remember, should survive)
    let rows = [
        ("live", now - 10, now + 100, 0, true),
        ("idle", now - IDLE - 1, now + 100, 0, false),
        ("absolute", now - 10, now - 1, 0, false),
        ("remembered-idle-ok", now - IDLE * 10, now + 100, 1, true),
        (
            "remembered-idle-too-long",
            now - 8 * 86_400,
            now + 100,
            1,
            false,
        ),
        ("remembered-absolute", now - 10, now, 1, false),
    ];
    for (handle, last_seen, expires, remember, _) in rows {
        app.plant_session(PlantedSession {
            handle,
            user: ada.id,
            last_seen_at: last_seen,
            expires_at: expires,
            remember: remember == 1,
        })
        .await;
    }
    let state = app.browser.rocket().state::<App>().unwrap();
    assert_eq!(housekeeping::purge_expired(state).await.unwrap(), 4);
    let mut left: Vec<String> = sqlx::query_scalar("SELECT handle FROM sessions")
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
    left.sort();
    assert_eq!(
        left,
        vec!["live".to_string(), "remembered-idle-ok".to_string()]
    );
}

async fn the_purge_works_through_many_rows_in_batches(app: TestApp) {
    let ada = app.create_ada().await;
    let now = app.clock.now();
    for i in 0..1_234 {
        app.plant_session(PlantedSession {
            handle: &format!("expired-{i}"),
            user: ada.id,
            last_seen_at: now - 100,
            expires_at: now - 1,
            remember: false,
        })
        .await;
    }
    let state = app.browser.rocket().state::<App>().unwrap();
    assert_eq!(housekeeping::purge_expired(state).await.unwrap(), 1_234);
    assert_eq!(app.sessions().await, 0);
    let page = app.browser.get("/login").dispatch().await;
    assert_eq!(page.status(), Status::Ok);
}

on_every_backend!(
    a_session_idle_past_the_limit_is_anonymous_and_its_row_deleted,
    activity_never_extends_a_session_past_its_absolute_limit,
    short_idle_timeouts_still_count_activity,
    keep_me_signed_in_outlives_the_normal_idle_limit_but_not_its_own,
    keep_me_signed_in_ends_at_its_absolute_limit_and_on_revocation,
    the_purge_removes_exactly_the_expired_rows,
    the_purge_works_through_many_rows_in_batches,
);
