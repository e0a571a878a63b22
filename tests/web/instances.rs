//! Several instances on one database behave as one: what one does, the others honour at once.

use hr_portal::app::App;
use hr_portal::users::Role;
use rocket::http::Status;

use crate::helpers::*;

async fn several_instances_share_sessions_revocations_and_throttling(app: TestApp) {
    app.create_ada().await;
    app.create_user("root@example.com", "Root", Role::Admin)
        .await;
    // Two app instances (separate Rockets, pools and caches) over one database and secret key.
    let instance_a = app.new_browser().await;
    let instance_b = app.new_browser().await;

    // A session made on A works on B.
    instance_a.signs_in_as("ada@example.com", PASSWORD).await;
    let cookie = instance_a.session_cookie().unwrap();
    assert_eq!(
        instance_b.replays_cookie("/dashboard", &cookie).await,
        Status::Ok
    );

    // Revoked on B (by an admin there) → refused on A at once.
    let admin_on_b = app.new_browser().await;
    admin_on_b.signs_in_as("root@example.com", PASSWORD).await;
    let handle = app.session_handle_of_address("ada@example.com").await;
    let action = format!("/admin/sessions/{handle}/revoke");
    admin_on_b.submits("/admin/sessions", &action, &[]).await;
    assert!(!instance_a.is_signed_in().await);

    // Logout on A → B refuses the same cookie.
    instance_a.signs_in_as("ada@example.com", PASSWORD).await;
    let cookie = instance_a.session_cookie().unwrap();
    let third = app.new_browser().await;
    assert_eq!(
        third.replays_cookie("/dashboard", &cookie).await,
        Status::Ok
    );
    instance_a.signs_out().await;
    assert_eq!(
        third.replays_cookie("/dashboard", &cookie).await,
        Status::SeeOther
    );

    // Failures counted on A and B together trip the one account limit — for every browser Ada
    // never signed in from (hers are counted per device: see two_factor.rs).
    let stranger_a = app.new_browser().await;
    let stranger_b = app.new_browser().await;
    for attempt in 0..5 {
        let instance = if attempt % 2 == 0 {
            &stranger_a
        } else {
            &stranger_b
        };
        assert_eq!(
            instance
                .signs_in_as("ada@example.com", "a wrong password!!")
                .await,
            Status::Unauthorized
        );
    }
    assert_eq!(
        stranger_b.signs_in_as("ada@example.com", PASSWORD).await,
        Status::TooManyRequests
    );
    assert_eq!(
        stranger_a.signs_in_as("ada@example.com", PASSWORD).await,
        Status::TooManyRequests
    );
    assert_eq!(
        instance_a.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther,
        "the browser Ada signed in from before is not locked out by them"
    );
}

async fn concurrent_purges_on_every_instance_delete_each_row_once(app: TestApp) {
    let ada = app.create_ada().await;
    let now = app.clock.now();
    for i in 0..2_000 {
        let live = i % 4 == 0;
        let expires_at = if live { now + 3_600 } else { now - 1 };
        app.plant_session(PlantedSession {
            handle: &format!("row-{i}"),
            user: ada.id,
            last_seen_at: now - 10,
            expires_at,
            remember: false,
        })
        .await;
    }
    let a = app.new_browser().await;
    let b = app.new_browser().await;
    let app_a = a.rocket().state::<App>().unwrap();
    let app_b = b.rocket().state::<App>().unwrap();
    let (left, right) = rocket::tokio::join!(
        hr_portal::app::housekeeping::purge_expired(app_a),
        hr_portal::app::housekeeping::purge_expired(app_b)
    );
    assert_eq!(
        left.unwrap() + right.unwrap(),
        1_500,
        "every expired row deleted exactly once"
    );
    assert_eq!(app.sessions().await, 500);
}

async fn concurrent_failures_on_two_instances_are_all_counted(backend: Backend) {
    // Limits above the 20 attempts: a counter over its limit is no longer written (see
    // hardening.rs), and this test is about updates under the limit never being lost.
    let settings = [("login_failures_per_account", 100.into())];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    let a = app.new_browser().await;
    let b = app.new_browser().await;
    let app_a = a.rocket().state::<App>().unwrap().clone();
    let app_b = b.rocket().state::<App>().unwrap().clone();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let app = if i % 2 == 0 {
            app_a.clone()
        } else {
            app_b.clone()
        };
        tasks.push(rocket::tokio::spawn(async move {
            let mut conn = app.db.read().await?;
            let now = app.clock.now();
            app.throttle
                .register_attempt(&mut conn, "target@example.com", Some("10.0.0.1"), now)
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let failures: i64 = sqlx::query_scalar(
        "SELECT failures FROM login_throttle WHERE key = 'account:target@example.com'",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert_eq!(failures, 20, "no lost updates");
}

on_every_backend!(
    several_instances_share_sessions_revocations_and_throttling,
    concurrent_purges_on_every_instance_delete_each_row_once,
    concurrent_failures_on_two_instances_are_all_counted,
);
