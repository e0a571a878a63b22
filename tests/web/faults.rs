//! Fault tolerance: many clients at once, a saturated hashing queue, and a hard kill mid-burst.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hr_portal::users::Role;
use rocket::http::{ContentType, Status};

use crate::helpers::*;

/// 16 people sign in, browse and sign out at the same moment, each through their own instance.
async fn sixteen_clients_sign_in_browse_and_sign_out_at_once_without_errors(app: TestApp) {
    for i in 0..16 {
        app.create_user(
            &format!("person{i}@example.com"),
            &format!("Person {i}"),
            Role::Employee,
        )
        .await;
    }
    let mut browsers = Vec::new();
    for _ in 0..16 {
        browsers.push(app.new_browser().await);
    }
    let journeys = browsers.iter().enumerate().map(|(i, browser)| async move {
        let mut statuses = Vec::new();
        let email = format!("person{i}@example.com");
        statuses.push(browser.signs_in_as(&email, PASSWORD).await);
        for path in [
            "/dashboard",
            "/account/sessions",
            "/employees",
            "/dashboard",
        ] {
            statuses.push(browser.get(path).dispatch().await.status());
        }
        statuses.push(browser.signs_out().await);
        statuses.push(browser.get("/dashboard").dispatch().await.status());
        statuses
    });
    let all = rocket::futures::future::join_all(journeys).await;
    for (i, statuses) in all.iter().enumerate() {
        assert_eq!(
            statuses,
            &[
                Status::SeeOther,
                Status::Ok,
                Status::Ok,
                Status::Ok,
                Status::Ok,
                Status::SeeOther,
                Status::SeeOther
            ],
            "person {i}"
        );
    }
    assert_eq!(app.sessions().await, 0);
    assert_eq!(app.events_of_kind("logout").await, 16);
}

/// With one hashing slot and almost no patience, a burst of sign-ins is shed with 503 +
/// Retry-After instead of queuing without bound; page requests are unaffected.
async fn a_saturated_hashing_queue_sheds_logins_with_503_and_retry_after(backend: Backend) {
    let settings = [
        ("password_hash_concurrency", 1.into()),
        ("password_hash_queue_timeout_ms", 1.into()),
    ];
    let Some(app) = spawn_app_with(backend, &settings).await else {
        return;
    };
    app.create_ada().await;
    let reader = app.new_browser().await;
    assert_eq!(
        reader.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let (_, page) = app.browser.opens("/login").await;
    let token = csrf_token_for(&page, "/login");
    let attempts = (0..12).map(|i| {
        let body = form_body(&[
            ("email", &format!("stranger{i}@example.com")),
            ("password", "a wrong password!!"),
            ("csrf_token", &token),
        ]);
        app.browser
            .post("/login")
            .header(ContentType::Form)
            .body(body)
            .dispatch()
    });
    // A signed-in person keeps reading pages while the burst is shed.
    let (responses, page) = rocket::tokio::join!(
        rocket::futures::future::join_all(attempts),
        reader.get("/dashboard").dispatch()
    );
    assert_eq!(page.status(), Status::Ok);
    let mut shed = 0;
    for response in &responses {
        match response.status() {
            Status::Unauthorized => {}
            Status::ServiceUnavailable => {
                shed += 1;
                let retry: u64 = response
                    .headers()
                    .get_one("Retry-After")
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(retry >= 1);
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        shed >= 1,
        "a one-slot queue with a 1 ms wait must shed part of a 12-login burst"
    );
    assert_eq!(
        app.browser.get("/login").dispatch().await.status(),
        Status::Ok
    );
}

on_every_backend!(
    sixteen_clients_sign_in_browse_and_sign_out_at_once_without_errors,
    a_saturated_hashing_queue_sheds_logins_with_503_and_retry_after,
);

// ---- kill -9 ------------------------------------------------------------------------------

/// The real binary serving a data folder on a local port; killed and reaped when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Server {
    /// Stops the server as systemd and `docker stop` do (SIGTERM, then a wait), so it shuts down
    /// gracefully; dropping a `Server` kills it outright (SIGKILL).
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(app: &TestApp) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_hr-portal"));
    command
        .env("ROCKET_DATA_DIR", app.dir.path())
        .env("ROCKET_DATABASE_URL", "")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .env("ROCKET_SECURE_COOKIES", "false")
        .env("ROCKET_LOGIN_FAILURES_PER_IP", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    launch(command, port)
}

/// Starts `command` (a server set to listen on `port`) and waits until it answers /healthz.
pub(crate) fn launch(mut command: Command, port: u16) -> Server {
    let child = command.spawn().expect("the server starts");
    // Owned by `Server` at once, so even a failed start is killed and reaped.
    let server = Server { child, port };
    for _ in 0..200 {
        if http(port, "GET", "/healthz", "", "").is_some_and(|r| r.status == 200) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not come up");
}

pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: String,
}

impl HttpResponse {
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let value = line
                .strip_prefix("set-cookie: ")
                .or_else(|| line.strip_prefix("Set-Cookie: "))?;
            let pair = value.split(';').next()?;
            let (key, value) = pair.split_once('=')?;
            (key == name && !value.is_empty()).then(|| value.to_string())
        })
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`); `None` if the server is gone.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    cookies: &str,
    body: &str,
) -> Option<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {cookies}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(HttpResponse {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}

fn csrf_in(body: &str, action: &str) -> String {
    csrf_token_for(body, action)
}

/// Signs in over real HTTP; returns the session cookie if the server acknowledged the login.
fn login_over_http(port: u16, email: &str) -> Option<String> {
    let page = http(port, "GET", "/login", "", "")?;
    let form = page.cookie("hr_form")?;
    let token = csrf_in(&page.body, "/login");
    let body = form_body(&[
        ("email", email),
        ("password", PASSWORD),
        ("csrf_token", &token),
    ]);
    let response = http(port, "POST", "/login", &format!("hr_form={form}"), &body)?;
    (response.status == 303)
        .then(|| response.cookie("hr_session"))
        .flatten()
}

fn logout_over_http(port: u16, session: &str) -> bool {
    let Some(page) = http(
        port,
        "GET",
        "/dashboard",
        &format!("hr_session={session}"),
        "",
    ) else {
        return false;
    };
    let token = csrf_in(&page.body, "/logout");
    let body = form_body(&[("csrf_token", &token)]);
    http(
        port,
        "POST",
        "/logout",
        &format!("hr_session={session}"),
        &body,
    )
    .is_some_and(|r| r.status == 303)
}

fn signed_in_over_http(port: u16, session: &str) -> bool {
    http(
        port,
        "GET",
        "/dashboard",
        &format!("hr_session={session}"),
        "",
    )
    .is_some_and(|r| r.status == 200)
}

#[rocket::async_test]
async fn after_kill_9_mid_burst_acknowledged_logins_and_logouts_hold_and_the_database_is_intact() {
    let app = spawn_app().await;
    for i in 0..8 {
        app.create_user(&format!("burst{i}@example.com"), "Burst", Role::Employee)
            .await;
    }
    let server = start_server(&app);
    let port = server.port;

    // Some sessions that are then logged out, acknowledged, before the crash.
    let mut logged_out = Vec::new();
    for i in 0..4 {
        let session = login_over_http(port, &format!("burst{i}@example.com")).expect("login");
        assert!(logout_over_http(port, &session));
        logged_out.push(session);
    }

    // A burst of logins from 8 threads; the server is killed with SIGKILL in the middle of it.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    match login_over_http(port, &format!("burst{i}@example.com")) {
                        Some(session) => acknowledged.lock().unwrap().push(session),
                        None => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let mut server = server;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    for worker in workers {
        worker.join().unwrap();
    }
    drop(server);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 8,
        "the burst was under way: {}",
        acknowledged.len()
    );

    // Restart on the same files.
    let server = start_server(&app);
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    for session in &acknowledged {
        assert!(
            signed_in_over_http(server.port, session),
            "an acknowledged login was lost"
        );
    }
    for session in &logged_out {
        assert!(
            !signed_in_over_http(server.port, session),
            "an acknowledged logout came back"
        );
    }
}
