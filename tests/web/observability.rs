//! What an operator sees: metrics read by Prometheus's own text parser (the `prometheus-client`
//! package from PyPI, which .ci/run installs), JSON log lines from the real binary with every kind
//! of secret sent at it, the request id, and liveness beside readiness.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rocket::http::{Header, Status};

use crate::faults::{http, launch, HttpResponse, Server};
use crate::helpers::*;
use crate::mail_support::free_port;

/// Whether python3 can import Prometheus's parser (a failure under `CI=true`).
fn prometheus_parser_available() -> bool {
    python_can_import(
        "prometheus_client.parser",
        "the metrics tests (Prometheus's parser)",
    )
}

/// Every sample of a scrape as Prometheus's text parser reads it: `name{label="value",…}` →
/// value, labels in name order.
type Samples = BTreeMap<String, f64>;

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        print(json.dumps([f"{sample.name}{{{labels}}}", sample.value]))
"#;

fn parse_with_prometheus(text: &str) -> Samples {
    let mut child = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the parser refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<(String, f64)>(line).unwrap())
        .collect()
}

/// GET /metrics on the metrics listener (off the async workers: the listener runs on them).
async fn scrape(port: u16) -> HttpResponse {
    rocket::tokio::task::spawn_blocking(move || {
        for _ in 0..100 {
            if let Some(response) = http(port, "GET", "/metrics", "", "") {
                return response;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the metrics listener did not answer");
    })
    .await
    .unwrap()
}

fn sample(samples: &Samples, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

async fn metrics_are_read_by_prometheus_own_parser_and_move_with_traffic(backend: Backend) {
    if !prometheus_parser_available() {
        return;
    }
    let port = free_port();
    let settings = [("metrics_address", format!("127.0.0.1:{port}").into())];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    let before = scrape(port).await;
    assert_eq!(before.status, 200);
    assert!(
        before
            .head
            .to_lowercase()
            .contains("application/openmetrics-text"),
        "{}",
        before.head
    );
    let before = parse_with_prometheus(&before.body);

    // One browser only: a second instance of the app would need a metrics address of its own.
    app.create_user("root@example.com", "Root", hr_portal::users::Role::Admin)
        .await;
    assert_eq!(
        app.browser
            .signs_in_as("root@example.com", "not the password at all")
            .await,
        Status::Unauthorized
    );
    assert_eq!(
        app.browser.signs_in_as("root@example.com", PASSWORD).await,
        Status::SeeOther
    );
    for _ in 0..3 {
        assert_eq!(app.browser.opens("/dashboard").await.0, Status::Ok);
    }
    assert_eq!(
        app.browser.opens("/metrics").await.0,
        Status::NotFound,
        "never on the public port"
    );

    // The new-sign-in notice leaves through the outbox: scraped once it has gone.
    app.mails_sent().reaches(1).await;
    let after = parse_with_prometheus(&scrape(port).await.body);
    let moved = |key: &str| sample(&after, key) - sample(&before, key);
    assert_eq!(moved(r#"hr_portal_sign_ins_total{outcome="ok"}"#), 1.0);
    assert_eq!(
        moved(r#"hr_portal_sign_ins_total{outcome="wrong_password"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"hr_portal_http_requests_total{method="GET",route="/dashboard",status="2xx"}"#),
        3.0
    );
    assert!(
        moved(r#"hr_portal_http_requests_total{method="POST",route="/login",status="4xx"}"#) >= 1.0
    );
    assert_eq!(
        moved(r#"hr_portal_http_request_duration_seconds_count{route="/dashboard"}"#),
        3.0
    );
    assert_eq!(sample(&after, "hr_portal_live_sessions{}"), 1.0);
    assert_eq!(sample(&after, "hr_portal_outbox_depth{}"), 0.0);
    assert!(sample(&after, "hr_portal_database_pool_connections{}") >= 1.0);
    let version = format!(
        r#"hr_portal_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&after, &version), 1.0);
    assert!(
        after.keys().all(|key| !key.contains('@')),
        "no e-mail address is ever a label"
    );
    if backend == Backend::Sqlite {
        the_session_cache_reports_a_hit(&app, port, &before).await;
    }
}

/// Any write in between (the outbox worker sending the new-sign-in notice, a sweep) rightly turns
/// a lookup into a miss, so a hit is asked for until the background work has settled.
async fn the_session_cache_reports_a_hit(app: &TestApp, port: u16, before: &Samples) {
    let hits = r#"hr_portal_session_cache_lookups_total{result="hit"}"#;
    for _ in 0..50 {
        assert_eq!(app.browser.opens("/dashboard").await.0, Status::Ok);
        let now = parse_with_prometheus(&scrape(port).await.body);
        if sample(&now, hits) > sample(before, hits) {
            return;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fifty quiet dashboard requests in a row and not one session-cache hit");
}

async fn livez_never_touches_the_database_and_readyz_does(app: TestApp) {
    for path in ["/livez", "/readyz", "/healthz"] {
        assert_eq!(app.browser.opens(path).await.0, Status::Ok, "{path}");
    }
    app.db().pool.close().await;
    assert_eq!(app.browser.opens("/livez").await.0, Status::Ok);
    let ready = app.browser.get("/readyz").dispatch().await;
    assert_eq!(ready.status(), Status::ServiceUnavailable);
    assert!(ready.headers().get_one("Retry-After").is_some());
}

on_every_backend!(
    metrics_are_read_by_prometheus_own_parser_and_move_with_traffic,
    livez_never_touches_the_database_and_readyz_does,
);

#[rocket::async_test]
async fn every_response_carries_a_request_id_and_a_plain_one_from_the_proxy_is_kept() {
    let app = spawn_app().await;
    let first = app.browser.get("/login").dispatch().await;
    let second = app.browser.get("/login").dispatch().await;
    let id = |response: &rocket::local::asynchronous::LocalResponse<'_>| {
        response
            .headers()
            .get_one("X-Request-Id")
            .map(str::to_string)
            .expect("an X-Request-Id")
    };
    assert_ne!(id(&first), id(&second), "one id per request");
    let passed = app
        .browser
        .get("/login")
        .header(Header::new("X-Request-Id", "nginx-4f2a9c1e"))
        .dispatch()
        .await;
    assert_eq!(id(&passed), "nginx-4f2a9c1e");
    let forged = app
        .browser
        .get("/login")
        .header(Header::new("X-Request-Id", "x\" injected=\"yes"))
        .dispatch()
        .await;
    assert!(id(&forged).bytes().all(|b| b.is_ascii_hexdigit()));
}

fn hr_portal(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hr-portal"));
    command
        .env("ROCKET_DATA_DIR", data)
        .env("ROCKET_DATABASE_URL", "")
        .env("ROCKET_SECURE_COOKIES", "false")
        .env("ROCKET_LOG_FORMAT", "json")
        .env("ROCKET_LOG_LEVEL", "normal")
        .env("ROCKET_CLI_COLORS", "false");
    command
}

/// The real binary on `data` with JSON logs, its stdout and stderr going to files in `logs`.
fn start_json_logging_server(data: &Path, logs: &Path) -> Server {
    let port = free_port();
    let mut command = hr_portal(data);
    command
        .env("ROCKET_PORT", port.to_string())
        .stdout(std::fs::File::create(logs.join("stdout")).unwrap())
        .stderr(std::fs::File::create(logs.join("stderr")).unwrap());
    launch(command, port)
}

fn cookies_of(response: &HttpResponse) -> String {
    response
        .head
        .lines()
        .filter_map(|line| line.strip_prefix("set-cookie: "))
        .filter_map(|cookie| cookie.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn json_logs_are_one_object_per_line_and_hold_no_password_token_cookie_csrf_value_reset_link_or_code(
) {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let added = output_with_stdin(
        hr_portal(data.path()).args(["user", "add", "ada@example.com", "--name", "Ada"]),
        &format!("{PASSWORD}\n"),
    );
    assert!(added.status.success());
    let server = start_json_logging_server(data.path(), logs.path());
    let port = server.port;
    let mut secrets = vec![PASSWORD.to_string()];

    let page = http(port, "GET", "/login", "", "").unwrap();
    let form_cookies = cookies_of(&page);
    let token = csrf_token_for(&page.body, "/login");
    secrets.push(token.clone());
    secrets.push(page.cookie("hr_form").unwrap());
    let wrong = "wrong horse battery staple";
    secrets.push(wrong.to_string());
    let posts = |path: &str, cookies: &str, fields: &[(&str, &str)]| {
        http(port, "POST", path, cookies, &form_body(fields)).unwrap()
    };
    let signs_in_with = |password: &str| {
        let fields = [
            ("email", "ada@example.com"),
            ("password", password),
            ("csrf_token", &token),
        ];
        posts("/login", &form_cookies, &fields)
    };
    assert_eq!(signs_in_with(wrong).status, 401);
    let signed_in = signs_in_with(PASSWORD);
    assert_eq!(signed_in.status, 303);
    let session = signed_in.cookie("hr_session").unwrap();
    secrets.push(session.clone());
    let dashboard = http(
        port,
        "GET",
        "/dashboard",
        &format!("hr_session={session}"),
        "",
    )
    .unwrap();
    assert_eq!(dashboard.status, 200);
    let dashboard_id = dashboard
        .head
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .unwrap()
        .to_string();

    let link = hr_portal(data.path())
        .args(["user", "reset-link", "ada@example.com"])
        .output()
        .unwrap();
    let link = String::from_utf8(link.stdout).unwrap().trim().to_string();
    let reset_token = link.rsplit('/').next().unwrap().to_string();
    assert!(reset_token.len() >= 20, "{link}");
    secrets.push(reset_token.clone());
    http(
        port,
        "GET",
        &format!("/password/reset/{reset_token}"),
        "",
        "",
    )
    .unwrap();
    let code = "918273";
    secrets.push(code.to_string());
    posts(
        "/login/two-factor",
        &form_cookies,
        &[("code", code), ("csrf_token", &token)],
    );
    // A forged CSRF value and a malformed form: refused, and not echoed into the log.
    let forged_csrf = "forged-csrf-value-5b1c0e7d";
    secrets.push(forged_csrf.to_string());
    let session_cookie = format!("hr_session={session}");
    posts("/logout", &session_cookie, &[("csrf_token", forged_csrf)]);
    assert_eq!(http(port, "GET", "/livez", "", "").unwrap().status, 200);
    // Stopped as an operator's service manager stops it: the lines still held by the log writer
    // are written before the process ends (killing it could lose the last of them).
    let stopped = server.terminate();
    assert!(stopped.success(), "{stopped}");

    let stdout = std::fs::read_to_string(logs.path().join("stdout")).unwrap();
    let stderr = std::fs::read_to_string(logs.path().join("stderr")).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let requests: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["target"] == "hr_portal::request")
        .collect();
    assert!(requests.len() >= 7, "{stdout}");
    assert!(
        requests
            .last()
            .is_some_and(|line| line["route"] == "/livez"),
        "the last request's line was written at shutdown: {stdout}"
    );
    for line in &requests {
        for field in [
            "timestamp",
            "level",
            "request_id",
            "method",
            "route",
            "status",
            "duration_ms",
        ] {
            assert!(!line[field].is_null(), "{field} in {line}");
        }
    }
    assert!(
        requests
            .iter()
            .any(|line| line["request_id"] == dashboard_id.as_str()
                && line["route"] == "/dashboard"
                && line["status"] == 200),
        "the dashboard's X-Request-Id is on its line: {stdout}"
    );
    assert!(requests
        .iter()
        .any(|line| line["route"] == "/password/reset/<token>"));
    for secret in &secrets {
        assert!(
            !stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()),
            "{secret:?} appears in the log:\n{stdout}\n{stderr}"
        );
    }
}

#[test]
fn a_bad_metrics_address_or_log_format_stops_the_launch_with_a_line_naming_the_setting() {
    let data = tempfile::tempdir().unwrap();
    for (setting, value) in [
        ("ROCKET_METRICS_ADDRESS", "localhost"),
        ("ROCKET_LOG_FORMAT", "xml"),
    ] {
        let output = hr_portal(data.path())
            .env("ROCKET_LOG_FORMAT", "text")
            .env(setting, value)
            .env("ROCKET_PORT", free_port().to_string())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = setting.trim_start_matches("ROCKET_").to_lowercase();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("`{name}`")), "{stderr}");
    }
}
