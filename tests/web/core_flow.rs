//! The core flow: sign in, see the dashboard, sign out — and what must not work afterwards.

use hr_portal::users::Role;
use rocket::http::{ContentType, Cookie, Status};

use crate::helpers::*;

async fn login_shows_the_dashboard_and_logout_ends_the_session_server_side(app: TestApp) {
    app.create_user("ada@example.com", "Ada Lovelace", Role::Employee)
        .await;
    let browser = &app.browser;

    let response = browser
        .signs_in_with(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/dashboard"));

    let (status, html) = browser.opens("/dashboard").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Welcome, Ada Lovelace"));
    assert!(html.contains("Employee"));
    assert!(html.contains("id=\"session-started\""));
    assert!(html.contains("This is the first sign-in to your account."));
    let stolen = browser.session_cookie().expect("a session cookie is set");

    let response = browser.submits("/dashboard", "/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/login"));
    assert_eq!(app.sessions().await, 0);

    // The copied cookie is worthless now, from any browser.
    let other = app.new_browser().await;
    let replay = other.replays_cookie("/dashboard", &stolen).await;
    assert_eq!(
        replay,
        Status::SeeOther,
        "a logged-out cookie must not sign anyone in"
    );
    assert!(!browser.is_signed_in().await);
}

async fn a_session_survives_a_server_restart(app: TestApp) {
    app.create_ada().await;
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let cookie = app.browser.session_cookie().unwrap();

    // A new instance on the same data folder reads the persisted secret key.
    let restarted = app.new_browser().await;
    assert_eq!(
        restarted.replays_cookie("/dashboard", &cookie).await,
        Status::Ok
    );
    assert!(app.dir.path().join("secret.key").exists());
}

async fn every_login_issues_a_new_token_and_drops_the_old_session(app: TestApp) {
    app.create_ada().await;
    let browser = &app.browser;
    browser.signs_in_as("ada@example.com", PASSWORD).await;
    let first_token = browser.session_token().unwrap();
    let first_cookie = browser.session_cookie().unwrap();

    browser.signs_in_as("ada@example.com", PASSWORD).await;
    let second_token = browser.session_token().unwrap();
    assert_ne!(first_token, second_token);
    assert_eq!(
        app.sessions().await,
        1,
        "the browser's earlier session is replaced, not kept"
    );
    let other = app.new_browser().await;
    assert_eq!(
        other.replays_cookie("/dashboard", &first_cookie).await,
        Status::SeeOther
    );
    assert!(browser.is_signed_in().await);
    let (_, html) = browser.opens("/dashboard").await;
    assert!(
        html.contains("Previous sign-in:"),
        "the second sign-in shows the first"
    );
}

async fn a_session_planted_before_login_is_never_upgraded(app: TestApp) {
    app.create_ada().await;
    // The attacker signs in to their own account and plants that cookie in the victim's browser.
    app.create_user("mallory@example.com", "Mallory", Role::Employee)
        .await;
    let attacker = app.new_browser().await;
    attacker.signs_in_as("mallory@example.com", PASSWORD).await;
    let planted = attacker.session_cookie().unwrap();
    let victim = app.new_browser().await;
    let (_, login_page) = victim.opens("/login").await;
    let token = csrf_token_for(&login_page, "/login");
    let response = victim
        .post("/login")
        .header(ContentType::Form)
        .cookie(Cookie::new("hr_session", planted.clone()))
        .body(form_body(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_ne!(victim.session_cookie().unwrap(), planted);
    let (_, html) = victim.opens("/dashboard").await;
    assert!(html.contains("Welcome, Ada"));
    // The planted session was deleted rather than re-used or upgraded.
    assert_eq!(
        app.new_browser()
            .await
            .replays_cookie("/dashboard", &planted)
            .await,
        Status::SeeOther
    );
    assert_eq!(app.sessions().await, 1);
}

async fn anonymous_visitors_are_sent_to_login_and_come_back_after(app: TestApp) {
    app.create_ada().await;
    let browser = &app.browser;

    let response = browser.get("/account/sessions").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        location(&response),
        Some("/login?next=%2Faccount%2Fsessions")
    );
    let root = browser.get("/").dispatch().await;
    assert_eq!(location(&root), Some("/login"));

    let (_, html) = browser.opens("/login?next=%2Faccount%2Fsessions").await;
    assert!(html.contains("name=\"next\" value=\"&#x2F;account&#x2F;sessions\""));
    let response = browser
        .signs_in_with(&[
            ("email", "ada@example.com"),
            ("password", PASSWORD),
            ("next", "/account/sessions"),
        ])
        .await;
    assert_eq!(location(&response), Some("/account/sessions"));
}

async fn next_never_leads_off_the_site(app: TestApp) {
    app.create_ada().await;
    for evil in [
        "//evil.example/x",
        "https://evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\u{e9}",
        "/a<b",
    ] {
        let browser = app.new_browser().await;
        let response = browser
            .signs_in_with(&[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", evil),
            ])
            .await;
        assert_eq!(location(&response), Some("/dashboard"), "next={evil:?}");
    }
}

async fn a_non_admin_is_refused_the_admin_area(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    for path in ["/admin/sessions", "/admin/users", "/admin/audit"] {
        let (status, html) = app.browser.opens(path).await;
        assert_eq!(status, Status::Forbidden, "{path}");
        assert!(html.contains("Not allowed"));
    }
    let anonymous = app.new_browser().await;
    let response = anonymous.get("/admin/users").dispatch().await;
    assert_eq!(location(&response), Some("/login?next=%2Fadmin%2Fusers"));
}

async fn an_admin_revokes_a_session_and_the_victims_next_request_is_anonymous(app: TestApp) {
    app.create_user("root@example.com", "Root", Role::Admin)
        .await;
    app.create_ada().await;
    let admin = &app.browser;
    let victim = app.new_browser().await;
    admin.signs_in_as("root@example.com", PASSWORD).await;
    victim.signs_in_as("ada@example.com", PASSWORD).await;
    assert!(victim.is_signed_in().await);

    let (status, html) = admin.opens("/admin/sessions").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        html.matches("<tr").count(),
        5,
        "header row, then for each person a row naming them and one row per session"
    );
    let victim_handle = app.session_handle_of_address("ada@example.com").await;
    let action = format!("/admin/sessions/{victim_handle}/revoke");
    assert!(html.contains(&format!("action=\"{action}\"")));

    let response = admin.submits("/admin/sessions", &action, &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let response = victim.get("/dashboard").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    // The dead cookie is also removed from the browser.
    let removal = response
        .headers()
        .get("Set-Cookie")
        .find(|c| c.starts_with("hr_session="))
        .map(str::to_string)
        .expect("the dead session cookie is cleared");
    assert!(removal.starts_with("hr_session=;"), "{removal}");
    assert_eq!(location(&response), Some("/login?next=%2Fdashboard"));
    assert!(admin.is_signed_in().await);
}

async fn posts_without_a_valid_csrf_token_are_refused_and_change_nothing(app: TestApp) {
    app.create_user("root@example.com", "Root", Role::Admin)
        .await;
    let ada = app.create_ada().await;
    let browser = &app.browser;

    // Login without the form cookie's token.
    let response = browser
        .posts(
            "/login",
            &[("email", "root@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    assert!(body(response).await.contains("form has expired"));
    assert_eq!(app.sessions().await, 0);

    browser.signs_in_as("root@example.com", PASSWORD).await;
    let victim = app.new_browser().await;
    victim.signs_in_as("ada@example.com", PASSWORD).await;
    // Both first sign-ins are announced by mail; let the delivery task finish (it writes the
    // `mail_sent` events) before the snapshot that must not change.
    app.mails_sent().reaches(2).await;
    let victim_handle: String =
        sqlx::query_scalar("SELECT handle FROM sessions WHERE user_id = $1")
            .bind(ada.id)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
    sqlx::query("INSERT INTO departments (name, name_key) VALUES ('Finance', 'finance')")
        .execute(&app.db().pool)
        .await
        .unwrap();
    let employee_id: i64 = sqlx::query_scalar(
        "INSERT INTO employees (name, name_key, search_key, email, title, department_id, location, start_date) \
         SELECT 'Ada', 'ada', 'ada', 'ada@work.example', 'Analyst', id, 'Leeds', '2020-01-02' FROM departments \
         RETURNING id",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    let before = database_snapshot(&app).await;

    // Every POST route the app has — enumerated from Rocket itself, so a new one is covered too.
    // Except back-channel logout: the identity provider's signature on the logout token is its
    // authentication, not a form token (see `single_sign_on::forged_replayed_and_malformed_…`).
    let posts: Vec<String> = browser
        .rocket()
        .routes()
        .filter(|route| route.method == rocket::http::Method::Post)
        .filter(|route| route.uri.path() != "/login/sso/backchannel-logout")
        .flat_map(|route| {
            let path = route
                .uri
                .path()
                .replace("<handle>", &victim_handle)
                .replace("<user_id>", &ada.id.to_string())
                .replace("<id>", &employee_id.to_string());
            // One route serves both ends of an account's access.
            if path.contains("<access>") {
                vec![
                    path.replace("<access>", "disable"),
                    path.replace("<access>", "enable"),
                ]
            } else {
                vec![path]
            }
        })
        .collect();
    assert!(posts.len() >= 14, "{posts:?}");
    let forged = [("csrf_token", "AAAA")];
    for action in &posts {
        let missing = browser.posts(action, &[("role", "admin")]).await;
        assert_eq!(
            missing.status(),
            Status::Forbidden,
            "{action} without a token"
        );
        let wrong = browser.posts(action, &forged).await;
        assert_eq!(
            wrong.status(),
            Status::Forbidden,
            "{action} with a wrong token"
        );
    }
    // Another session's token is not this session's token.
    let (_, victim_page) = victim.opens("/dashboard").await;
    let victims_token = csrf_token_for(&victim_page, "/logout");
    let cross = browser
        .posts("/logout", &[("csrf_token", &victims_token)])
        .await;
    assert_eq!(cross.status(), Status::Forbidden);

    assert_eq!(database_snapshot(&app).await, before, "nothing changed");
    assert!(browser.is_signed_in().await && victim.is_signed_in().await);
}

/// Everything a forged request could have changed, as text.
async fn database_snapshot(app: &TestApp) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    for sql in [
        "SELECT id || ' ' || email || ' ' || role || ' ' || disabled || ' ' || password_hash FROM users ORDER BY id",
        "SELECT id || ' ' || token_hash || ' ' || csrf_secret FROM sessions ORDER BY id",
        "SELECT id || ' ' || name || ' ' || title || ' ' || department_id FROM employees ORDER BY id",
        "SELECT id || ' ' || name FROM departments ORDER BY id",
        "SELECT id || ' ' || kind FROM audit_events ORDER BY id",
    ] {
        let found: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
        rows.extend(found);
    }
    rows
}

async fn an_open_login_form_survives_other_requests_of_the_browser(app: TestApp) {
    app.create_ada().await;
    let browser = &app.browser;
    let (_, first_tab) = browser.opens("/login").await;
    let token = csrf_token_in(&first_tab);
    // A favicon fetch and a second tab must not invalidate the first tab's form.
    assert_eq!(
        browser.get("/favicon.ico").dispatch().await.status(),
        Status::Ok
    );
    browser.opens("/login").await;
    let response = browser
        .posts(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
}

async fn every_page_carries_the_security_headers(app: TestApp) {
    app.create_ada().await;
    let anonymous = app.new_browser().await;
    let redirect = anonymous.get("/dashboard").dispatch().await;
    assert_eq!(redirect.status(), Status::SeeOther);
    assert_eq!(
        redirect.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    // Anonymous, signed-in, missing, forbidden and plain-text responses alike.
    for path in [
        "/login",
        "/healthz",
        "/nowhere",
        "/dashboard",
        "/account/sessions",
        "/admin/users",
    ] {
        let response = app.browser.get(path).dispatch().await;
        let headers = response.headers();
        assert_eq!(headers.get_one("Cache-Control"), Some("no-store"), "{path}");
        let csp = headers.get_one("Content-Security-Policy").unwrap();
        for part in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert_eq!(headers.get_one("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(headers.get_one("Referrer-Policy"), Some("same-origin"));
    }
    let css = app.browser.get("/static/style.css").dispatch().await;
    assert_eq!(css.status(), Status::Ok);
    assert!(css
        .headers()
        .get_one("Cache-Control")
        .unwrap()
        .contains("max-age"));
}

async fn the_session_cookie_is_private_httponly_and_lax(app: TestApp) {
    app.create_ada().await;
    let response = app
        .browser
        .signs_in_with(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .await;
    let set_cookie: Vec<&str> = response.headers().get("Set-Cookie").collect();
    let session = set_cookie
        .iter()
        .find(|c| c.starts_with("hr_session="))
        .expect("session cookie set");
    assert!(session.contains("HttpOnly"));
    assert!(session.contains("SameSite=Lax"));
    assert!(session.contains("Path=/"));
    assert!(
        !session.contains("Expires"),
        "a browser-session cookie unless remembered"
    );
    let token = app.browser.session_token().unwrap();
    assert!(!session.contains(&token), "the token travels encrypted");
    // Only the hash is stored.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, hr_portal::auth::hash_token(&token));
}

async fn forged_truncated_and_garbage_cookies_are_anonymous(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    let real = app.browser.session_cookie().unwrap();
    let token = app.browser.session_token().unwrap();
    let mut flipped = real.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let long = "A".repeat(4000);
    let cases = [
        real[..real.len() - 5].to_string(),
        flipped,
        token.clone(), // the raw token without encryption
        "".to_string(),
        "%00%ff\u{7f}".to_string(),
        long,
    ];
    let stranger = app.new_browser().await;
    for case in &cases {
        let status = stranger.replays_cookie("/dashboard", case).await;
        assert_eq!(
            status,
            Status::SeeOther,
            "cookie {case:?} must be anonymous"
        );
        let page = stranger
            .get("/login")
            .cookie(Cookie::new("hr_session", case.clone()))
            .dispatch()
            .await;
        assert_eq!(page.status(), Status::Ok);
    }
    assert_eq!(app.sessions().await, 1, "nothing was written");
}

async fn oversized_and_malformed_forms_get_a_clear_4xx(app: TestApp) {
    app.create_ada().await;
    let browser = &app.browser;
    let (_, html) = browser.opens("/login").await;
    let token = csrf_token_in(&html);

    let huge = "x".repeat(100_000);
    let response = browser
        .posts(
            "/login",
            &[("email", &huge), ("password", "p"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), Status::PayloadTooLarge);
    assert!(body(response).await.contains("too large"));

    // Invalid UTF-8 in a field, with a valid token: refused as a bad form, not a crash.
    let response = browser
        .post("/login")
        .header(ContentType::Form)
        .body(format!("email=%FF%FE&password=x&csrf_token={token}"))
        .dispatch()
        .await;
    assert!(
        response.status().code >= 400 && response.status().code < 500,
        "{}",
        response.status()
    );

    let response = browser
        .posts(
            "/login",
            &[("email", ""), ("password", ""), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let html = body(response).await;
    assert!(html.contains("Please enter your e-mail address and your password."));
    assert!(
        html.contains("name=\"password\""),
        "the form is shown again"
    );
    assert_eq!(app.sessions().await, 0);
}

/// NUL and other control characters (which PostgreSQL refuses in text) in every kind of input
/// get a normal answer or a 4xx — never a 500 — from a signed-in admin with valid tokens.
async fn control_characters_in_any_input_never_cause_a_500(app: TestApp) {
    app.create_user("root@example.com", "Root", Role::Admin)
        .await;
    let browser = &app.browser;
    let response = browser
        .signs_in_with(&[
            ("email", "a\u{0}b@example.com"),
            ("password", "some password \u{0}"),
        ])
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    browser.signs_in_as("root@example.com", PASSWORD).await;
    for path in [
        "/admin/users?q=%00",
        "/admin/sessions?email=%00%01",
        "/admin/audit?user=%00&kind=%00",
        "/employees?q=%00",
        "/admin/sessions?page=abc",
        "/login?next=%00",
    ] {
        let status = browser.get(path).dispatch().await.status();
        assert!(status.code < 500, "{path}: {status}");
    }
    for action in [
        "/account/sessions/%00/revoke",
        "/admin/sessions/%00/revoke",
        "/admin/sessions/AAAAAAAAAAAAAAAAAAAA%00%00/revoke",
    ] {
        let status = browser.submits("/dashboard", action, &[]).await.status();
        assert_eq!(status, Status::NotFound, "{action}");
    }
    let response = browser
        .submits(
            "/admin/users",
            "/admin/users",
            &[
                ("name", "Bad\u{0}Name"),
                ("email", "bad\u{0}@example.com"),
                ("role", "employee"),
                ("password", "a long enough password"),
                ("password_confirm", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert_eq!(app.accounts().await, 1);
    assert!(browser.is_signed_in().await);
}

async fn first_run_setup_creates_one_admin_exactly_once(app: TestApp) {
    let token = app
        .browser
        .rocket()
        .state::<hr_portal::app::App>()
        .unwrap()
        .setup
        .peek()
        .expect("no account yet, so set-up is open");
    let browser = &app.browser;
    assert_eq!(
        browser.get("/setup").dispatch().await.status(),
        Status::NotFound
    );
    assert_eq!(
        browser.get("/setup?token=wrong").dispatch().await.status(),
        Status::NotFound
    );

    let page = format!("/setup?token={token}");
    let fields = [
        ("token", token.as_str()),
        ("name", "Grace Hopper"),
        ("email", "Grace@Example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let response = browser.submits(&page, "/setup", &fields).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), Some("/dashboard"));
    let (_, html) = browser.opens("/dashboard").await;
    assert!(html.contains("Welcome, Grace Hopper") && html.contains("Administrator"));

    assert_eq!(
        browser.get(page.clone()).dispatch().await.status(),
        Status::NotFound
    );
    let again = app.new_browser().await;
    let (_, login) = again.opens("/login").await;
    let mut replay: Vec<(&str, &str)> = fields.to_vec();
    let csrf = csrf_token_in(&login);
    replay.push(("csrf_token", &csrf));
    assert_eq!(
        again.posts("/setup", &replay).await.status(),
        Status::NotFound
    );
    assert_eq!(app.accounts().await, 1);
}

async fn healthz_answers_ok(app: TestApp) {
    let (status, body) = app.browser.opens("/healthz").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, "ok");
}

async fn with_secure_cookies_the_session_cookie_is_secure_and_host_prefixed(backend: Backend) {
    let settings = [("secure_cookies", true.into())];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    app.create_ada().await;
    let response = app
        .browser
        .signs_in_with(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let cookies: Vec<String> = response
        .headers()
        .get("Set-Cookie")
        .map(str::to_string)
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-hr_session="))
        .expect("the session cookie carries the __Host- prefix");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(
        !session.contains("Domain"),
        "__Host- cookies have no Domain"
    );
    assert!(cookies.iter().all(|c| !c.starts_with("hr_session=")));
    assert!(app.browser.is_signed_in().await);
}

on_every_backend!(
    with_secure_cookies_the_session_cookie_is_secure_and_host_prefixed,
    control_characters_in_any_input_never_cause_a_500,
    login_shows_the_dashboard_and_logout_ends_the_session_server_side,
    a_session_survives_a_server_restart,
    every_login_issues_a_new_token_and_drops_the_old_session,
    a_session_planted_before_login_is_never_upgraded,
    anonymous_visitors_are_sent_to_login_and_come_back_after,
    next_never_leads_off_the_site,
    a_non_admin_is_refused_the_admin_area,
    an_admin_revokes_a_session_and_the_victims_next_request_is_anonymous,
    posts_without_a_valid_csrf_token_are_refused_and_change_nothing,
    an_open_login_form_survives_other_requests_of_the_browser,
    every_page_carries_the_security_headers,
    the_session_cookie_is_private_httponly_and_lax,
    forged_truncated_and_garbage_cookies_are_anonymous,
    oversized_and_malformed_forms_get_a_clear_4xx,
    first_run_setup_creates_one_admin_exactly_once,
    healthz_answers_ok,
);

mod client_address {
    use rocket::http::Header;

    use crate::helpers::*;

    async fn stored_ip(app: &TestApp) -> Option<String> {
        sqlx::query_scalar("SELECT ip FROM sessions")
            .fetch_one(&app.db().pool)
            .await
            .unwrap()
    }

    async fn log_in_via_proxy(app: &TestApp) {
        let (_, page) = app.browser.opens("/login").await;
        let token = csrf_token_for(&page, "/login");
        app.browser
            .post("/login")
            .header(rocket::http::ContentType::Form)
            .header(Header::new("X-Real-IP", "203.0.113.9"))
            .body(form_body(&[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ]))
            .dispatch()
            .await;
    }

    #[rocket::async_test]
    async fn a_client_chosen_ip_header_is_ignored_unless_a_proxy_header_is_configured() {
        let app = spawn_app().await;
        app.create_ada().await;
        log_in_via_proxy(&app).await;
        assert_eq!(
            stored_ip(&app).await,
            None,
            "no socket peer in tests, and the header is ignored"
        );

        let settings = [("proxy_ip_header", "X-Real-IP".into())];
        let behind_proxy = spawn_app_with(Backend::Sqlite, &settings).await.unwrap();
        behind_proxy.create_ada().await;
        log_in_via_proxy(&behind_proxy).await;
        assert_eq!(
            stored_ip(&behind_proxy).await.as_deref(),
            Some("203.0.113.9")
        );
    }
}
