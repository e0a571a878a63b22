//! The session cache on PostgreSQL when instances fail: a server process paused past its lease
//! (SIGSTOP) or killed, a `LISTEN` connection terminated by the database, a generation that
//! never arrived. Each may delay a revocation by at most a lease, or turn caches off for a
//! while; none may ever serve a revoked session. (The 1 000-iteration loops over every way a
//! session ends, across instances and the command line, are in `session_cache`.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hr_portal::app::App;
use hr_portal::cache::Generation;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::cli::hr_portal;
use crate::helpers::*;

/// Short, so a paused instance's lease runs out quickly.
const LEASE_MS: i64 = 1_000;

async fn app_with_short_leases() -> Option<TestApp> {
    spawn_app_with(Backend::Postgres, &[("cache_lease_ms", LEASE_MS.into())]).await
}

/// The stage of most tests here: an administrator signed in on the first browser, and Ada.
async fn admin_and_ada() -> Option<(TestApp, hr_portal::users::User)> {
    let app = app_with_short_leases().await?;
    app.sign_in_as_admin().await;
    let ada = app.create_ada().await;
    Some((app, ada))
}

/// A new sign-in of Ada's (in another browser): its encrypted session cookie.
async fn cookie_of(app: &TestApp, ada: &hr_portal::users::User) -> String {
    let browser = app.browser_signed_in_as(ada).await;
    browser.session_cookie().expect("signed in")
}

/// The real server binary on the test's database and data folder (so it shares the secret key,
/// and reads the same encrypted cookies), with its metrics on a second port.
struct ServerProcess {
    child: Child,
    port: u16,
    metrics_port: u16,
}

impl ServerProcess {
    fn start(app: &TestApp) -> ServerProcess {
        let (port, metrics_port) = (free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_hr-portal"))
            .env("ROCKET_DATA_DIR", app.dir.path())
            .env("ROCKET_DATABASE_URL", app.database_url.as_deref().unwrap())
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env(
                "ROCKET_METRICS_ADDRESS",
                format!("127.0.0.1:{metrics_port}"),
            )
            .env("ROCKET_CACHE_LEASE_MS", LEASE_MS.to_string())
            .env("ROCKET_SECURE_COOKIES", "false")
            .env("ROCKET_LOG_LEVEL", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let server = ServerProcess {
            child,
            port,
            metrics_port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(server.port, "/healthz", None).is_none() {
            assert!(Instant::now() < deadline, "the server never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The status of `GET path` with the session cookie `cookie`.
    fn status(&self, path: &str, cookie: &str) -> u16 {
        get(self.port, path, Some(cookie)).expect("the server answers")
    }

    /// Session lookups this process answered from memory.
    fn cache_hits(&self) -> u64 {
        let page = get_body(self.metrics_port, "/metrics").expect("metrics answer");
        page.lines()
            .find_map(|line| {
                line.strip_prefix("hr_portal_session_cache_lookups_total{result=\"hit\"} ")
            })
            .map_or(0, |value| value.trim().parse().expect("a count"))
    }

    fn signal(&self, signal: &str) {
        assert!(self.sends(signal), "kill {signal}");
    }

    fn sends(&self, signal: &str) -> bool {
        Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A paused server (a failed assertion mid-test) must be able to die.
        self.sends("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

/// One HTTP/1.1 exchange; the whole response, or None while nothing answers.
fn exchange(port: u16, path: &str, cookie: Option<&str>) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let cookie = cookie
        .map(|value| format!("Cookie: hr_session={value}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn get(port: u16, path: &str, cookie: Option<&str>) -> Option<u16> {
    let response = exchange(port, path, cookie)?;
    response.split_whitespace().nth(1)?.parse().ok()
}

fn get_body(port: u16, path: &str) -> Option<String> {
    let response = exchange(port, path, None)?;
    Some(response.split_once("\r\n\r\n")?.1.to_string())
}

/// A page that needs a session and reads nothing else.
const PAGE: &str = "/account/password";

/// Ada signed in (in-process), her encrypted session cookie opened twice on `server` so the
/// second answer came from its memory.
async fn hot_on(server: &ServerProcess, app: &TestApp, ada: &hr_portal::users::User) -> String {
    let cookie = cookie_of(app, ada).await;
    assert_eq!(server.status(PAGE, &cookie), 200);
    let hits = server.cache_hits();
    assert_eq!(server.status(PAGE, &cookie), 200);
    assert_eq!(server.cache_hits(), hits + 1, "answered from memory");
    cookie
}

/// Ends every session of Ada through the admin page of another instance; how long it took.
async fn force_logout(app: &TestApp, ada: &hr_portal::users::User) -> Duration {
    let (_, html) = app.browser.opens("/admin/users").await;
    let fields = [("csrf_token", csrf_token_in(&html))];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let action = format!("/admin/users/{}/sessions/revoke", ada.id);
    let started = Instant::now();
    let response = app.browser.posts(&action, &fields).await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "the revocation returns"
    );
    started.elapsed()
}

fn lease() -> Duration {
    Duration::from_millis(LEASE_MS as u64)
}

#[rocket::async_test]
async fn a_paused_instance_delays_the_revoker_within_its_lease_and_never_serves_a_revoked_session()
{
    let Some((app, ada)) = admin_and_ada().await else {
        return;
    };
    let server = ServerProcess::start(&app);

    for way in ["web", "command line"] {
        let cookie = hot_on(&server, &app, &ada).await;
        server.signal("-STOP");
        let took = match way {
            "web" => force_logout(&app, &ada).await,
            _ => {
                let started = Instant::now();
                let (ok, out) = hr_portal(
                    &app,
                    &["sessions", "revoke", "--user", "ada@example.com"],
                    "",
                );
                assert!(ok, "{out}");
                started.elapsed()
            }
        };
        assert!(
            took >= lease() / 4,
            "{way}: the revoker waited for the paused instance's lease ({took:?})"
        );
        assert!(took < lease() * 3, "{way}: but not much longer ({took:?})");
        server.signal("-CONT");
        assert_eq!(
            server.status(PAGE, &cookie),
            303,
            "{way}: the resumed instance does not serve the revoked session"
        );
    }
    // Caught up, it caches again.
    hot_on(&server, &app, &ada).await;
}

#[rocket::async_test]
async fn a_killed_instance_delays_the_revoker_at_most_its_lease() {
    let Some((app, ada)) = admin_and_ada().await else {
        return;
    };
    let mut server = ServerProcess::start(&app);
    let cookie = hot_on(&server, &app, &ada).await;
    let other_instance = app.new_browser().await;
    assert_eq!(
        other_instance.replays_cookie(PAGE, &cookie).await,
        Status::Ok
    );

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let took = force_logout(&app, &ada).await;
    assert!(
        took < lease() * 3,
        "the dead instance's lease ran out ({took:?})"
    );
    assert_eq!(
        other_instance.replays_cookie(PAGE, &cookie).await,
        Status::SeeOther
    );
    let restarted = ServerProcess::start(&app);
    assert_eq!(restarted.status(PAGE, &cookie), 303);
}

fn peers_of(client: &Client) -> &hr_portal::cache::Peers {
    let app = client.rocket().state::<App>().expect("app");
    match &*app.db.generation {
        Generation::Peers(peers) => peers,
        Generation::File(_) => panic!("PostgreSQL keeps its generation with the peers"),
    }
}

/// Waits until `client`'s instance caches again (its listener reconnected and caught up).
async fn serving_again(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !peers_of(client).is_serving() {
        assert!(Instant::now() < deadline, "the listener never came back");
        rocket::tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Ada's session opened twice on `client`, the second time from memory; its cookie.
async fn hot_in_process(client: &Client, cookie: &str) {
    let cache = &client.rocket().state::<App>().unwrap().session_cache;
    assert_eq!(client.replays_cookie(PAGE, cookie).await, Status::Ok);
    let hits = cache.hits();
    assert_eq!(client.replays_cookie(PAGE, cookie).await, Status::Ok);
    assert_eq!(cache.hits(), hits + 1, "answered from memory");
}

#[rocket::async_test]
async fn a_terminated_listen_connection_turns_caches_off_and_never_serves_a_revoked_session() {
    let Some((app, ada)) = admin_and_ada().await else {
        return;
    };
    let victim = app.new_browser().await;
    for i in 0..20 {
        serving_again(&victim).await;
        let cookie = cookie_of(&app, &ada).await;
        hot_in_process(&victim, &cookie).await;
        let lost = peers_of(&victim).lost_connections();
        let terminated: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() \
               AND application_name = 'hr-portal cache listener'",
        )
        .fetch_all(&app.db().pool)
        .await
        .unwrap();
        assert!(
            terminated.contains(&true),
            "iteration {i}: a listener ended"
        );
        force_logout(&app, &ada).await;
        assert_eq!(
            victim.replays_cookie(PAGE, &cookie).await,
            Status::SeeOther,
            "iteration {i}"
        );
        serving_again(&victim).await;
        assert!(
            peers_of(&victim).lost_connections() > lost,
            "iteration {i}: the loss was noticed"
        );
    }
}

#[rocket::async_test]
async fn a_missed_generation_turns_caches_off_until_caught_up() {
    let Some(app) = app_with_short_leases().await else {
        return;
    };
    let ada = app.create_ada().await;
    let victim = app.new_browser().await;
    let cookie = cookie_of(&app, &ada).await;
    hot_in_process(&victim, &cookie).await;
    let lost = peers_of(&victim).lost_connections();
    // An announcement far ahead of the last one: those in between were never heard.
    sqlx::query("SELECT pg_notify('hr_portal_generation', '999999')")
        .execute(&app.db().pool)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while peers_of(&victim).lost_connections() == lost {
        assert!(Instant::now() < deadline, "the gap was never noticed");
        rocket::tokio::time::sleep(Duration::from_millis(10)).await;
    }
    serving_again(&victim).await;
    hot_in_process(&victim, &cookie).await;
}
