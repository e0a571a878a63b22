//! Login defenses: throttling, identical answers for every failure, bounded password work.

use hr_portal::app::App;
use hr_portal::users::Role;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::helpers::*;

/// Verifications run by the app instance behind `browser`.
fn verifications(browser: &Client) -> u64 {
    browser
        .rocket()
        .state::<App>()
        .unwrap()
        .passwords
        .verification_count()
}

/// The page with the per-render CSRF token blanked, so two answers can be compared whole.
fn comparable(html: &str) -> String {
    let token = csrf_token_for(html, "/login");
    html.replace(&token, "TOKEN")
}

async fn unknown_email_wrong_password_and_disabled_account_answer_identically_with_one_verification_each(
    app: TestApp,
) {
    app.create_ada().await;
    let disabled = app
        .create_user("gone@example.com", "Gone", Role::Employee)
        .await;
    sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1")
        .bind(disabled.id)
        .execute(&app.db().pool)
        .await
        .unwrap();

    let mut answers = Vec::new();
    for (email, password) in [
        ("nobody@example.com", PASSWORD),
        ("ada@example.com", "wrong password, long enough"),
        ("gone@example.com", PASSWORD),
    ] {
        let browser = app.new_browser().await;
        let before = verifications(&browser);
        let response = browser
            .signs_in_with(&[("email", email), ("password", password)])
            .await;
        let status = response.status();
        let html = body(response).await.replace(email, "EMAIL");
        assert_eq!(
            verifications(&browser) - before,
            1,
            "{email}: exactly one argon2 verification"
        );
        answers.push((status, comparable(&html)));
    }
    assert_eq!(answers[0].0, Status::Unauthorized);
    assert!(answers[0]
        .1
        .contains("The e-mail address or password is incorrect."));
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1], answers[2]);
}

async fn a_password_over_128_characters_is_refused_without_hashing(app: TestApp) {
    app.create_ada().await;
    let before = verifications(&app.browser);
    let long = "p".repeat(129);
    let response = app
        .browser
        .signs_in_with(&[("email", "ada@example.com"), ("password", &long)])
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(verifications(&app.browser), before);
}

async fn the_account_throttle_engages_after_five_failures_and_releases_after_the_window(
    app: TestApp,
) {
    app.create_ada().await;
    for _ in 0..5 {
        assert_eq!(
            app.browser
                .signs_in_as("ada@example.com", "a wrong password!!")
                .await,
            Status::Unauthorized
        );
    }
    // Even the right password is refused now, without a verification.
    let before = verifications(&app.browser);
    let response = app
        .browser
        .signs_in_with(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), Status::TooManyRequests);
    let retry_after: i64 = response
        .headers()
        .get_one("Retry-After")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(body(response)
        .await
        .contains("Too many failed sign-in attempts"));
    assert_eq!(verifications(&app.browser), before);

    // The same account from another address is still throttled (per-account limit).
    let elsewhere = app.new_browser().await;
    assert_eq!(
        elsewhere.signs_in_as("ADA@example.com ", PASSWORD).await,
        Status::TooManyRequests
    );

    app.clock.advance(retry_after);
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
    assert!(app.events_of_kind("login_throttled").await >= 1);
}

async fn a_burst_of_simultaneous_guesses_gets_no_more_checks_than_the_limit(app: TestApp) {
    app.create_ada().await;
    let (_, page) = app.browser.opens("/login").await;
    let token = csrf_token_for(&page, "/login");
    let body = form_body(&[
        ("email", "ada@example.com"),
        ("password", "a wrong password!!"),
        ("csrf_token", &token),
    ]);
    let before = verifications(&app.browser);
    let attempts = (0..20).map(|_| {
        app.browser
            .post("/login")
            .header(rocket::http::ContentType::Form)
            .body(body.clone())
            .dispatch()
    });
    let responses = rocket::futures::future::join_all(attempts).await;
    let throttled = responses
        .iter()
        .filter(|r| r.status() == Status::TooManyRequests)
        .count();
    assert_eq!(
        throttled, 15,
        "only the first five attempts are let through"
    );
    assert_eq!(verifications(&app.browser) - before, 5);
}

async fn a_successful_login_resets_the_account_counter(app: TestApp) {
    app.create_ada().await;
    for _ in 0..4 {
        app.browser
            .signs_in_as("ada@example.com", "a wrong password!!")
            .await;
    }
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
    for _ in 0..4 {
        assert_eq!(
            app.browser
                .signs_in_as("ada@example.com", "a wrong password!!")
                .await,
            Status::Unauthorized
        );
    }
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
}

async fn unknown_accounts_are_throttled_exactly_like_real_ones(app: TestApp) {
    for _ in 0..5 {
        assert_eq!(
            app.browser
                .signs_in_as("nobody@example.com", "a wrong password!!")
                .await,
            Status::Unauthorized
        );
    }
    assert_eq!(
        app.browser
            .signs_in_as("nobody@example.com", "a wrong password!!")
            .await,
        Status::TooManyRequests
    );
}

async fn the_address_throttle_stops_spraying_across_many_accounts(backend: Backend) {
    let settings = [("login_failures_per_ip", 3.into())];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    for i in 0..3 {
        let email = format!("user{i}@example.com");
        assert_eq!(
            app.browser.signs_in_as(&email, "a wrong password!!").await,
            Status::Unauthorized
        );
    }
    assert_eq!(
        app.browser
            .signs_in_as("fresh@example.com", "a wrong password!!")
            .await,
        Status::TooManyRequests
    );
}

async fn unicode_variants_of_an_email_reach_the_same_account(app: TestApp) {
    app.create_user("j\u{00F6}rg@example.com", "Jörg", Role::Employee)
        .await;
    for variant in [
        "J\u{00D6}RG@EXAMPLE.COM",
        "  jo\u{0308}rg@example.com ",
        "JO\u{0308}RG@Example.com",
    ] {
        let browser = app.new_browser().await;
        assert_eq!(
            browser.signs_in_as(variant, PASSWORD).await,
            Status::SeeOther,
            "{variant:?}"
        );
    }
}

async fn passwords_are_never_trimmed(app: TestApp) {
    app.create_user("root@example.com", "Root", Role::Admin)
        .await;
    app.browser.signs_in_as("root@example.com", PASSWORD).await;
    // A password with spaces at both ends is stored exactly as typed...
    let padded = "  spaces at both ends  ";
    let response = app
        .browser
        .submits(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "Pat"),
                ("email", "pat@example.com"),
                ("role", "employee"),
                ("password", padded),
                ("password_confirm", padded),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    // ...and only exactly that signs in.
    let pat = app.new_browser().await;
    assert_eq!(
        pat.signs_in_as("pat@example.com", padded.trim()).await,
        Status::Unauthorized
    );
    assert_eq!(
        pat.signs_in_as("pat@example.com", padded).await,
        Status::SeeOther
    );
}

on_every_backend!(
    a_burst_of_simultaneous_guesses_gets_no_more_checks_than_the_limit,
    unknown_email_wrong_password_and_disabled_account_answer_identically_with_one_verification_each,
    a_password_over_128_characters_is_refused_without_hashing,
    the_account_throttle_engages_after_five_failures_and_releases_after_the_window,
    a_successful_login_resets_the_account_counter,
    unknown_accounts_are_throttled_exactly_like_real_ones,
    the_address_throttle_stops_spraying_across_many_accounts,
    unicode_variants_of_an_email_reach_the_same_account,
    passwords_are_never_trimmed,
);
