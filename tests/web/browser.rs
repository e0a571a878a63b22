//! End-to-end in a real browser: Debian's Chromium, headless, driven through chromedriver.
//!
//! Skipped (with the reason printed) when chromium or chromedriver is missing — except under
//! `CI=true`, where a missing browser fails the run. Writes screenshots under the target folder
//! (`target/tmp/screenshots/`), and to docs/screenshots/ only when `HR_PORTAL_UPDATE_SCREENSHOTS=1`,
//! so an ordinary `cargo test` leaves the work tree as it was.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hr_portal::users::Role;

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver as a child process, killed when dropped.
pub(crate) struct Driver {
    process: Child,
    pub(crate) url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// Starts chromedriver, or explains why the browser tests cannot run here.
pub(crate) fn start_driver() -> Option<Driver> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        let reason = format!(
            "browser tests need {} (apt-get install chromium chromium-driver)",
            missing.join(" and ")
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true and {reason}");
        }
        say_once_uncaptured(&format!(
            "skipped: the real-browser test did not run: {reason}"
        ));
        return None;
    }
    let port = free_port();
    let process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    Some(Driver {
        process,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().expect("profile dir"),
    })
}

/// A headless Chromium window with a fresh profile (inside the driver's temporary folder, which
/// is deleted with it).
pub(crate) async fn open_browser(driver: &Driver) -> Client {
    let profile = tempfile::Builder::new()
        .prefix("profile")
        .tempdir_in(driver._profile.path())
        .expect("profile dir")
        .keep();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    // chromedriver needs a moment to listen.
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return client,
            Err(_) => rocket::tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("could not start a Chromium session through chromedriver");
}

/// Serves the test app on a real port for the browser, at http://127.0.0.1:<port>.
pub(crate) async fn serve(app: &TestApp) -> String {
    serve_as(app, "127.0.0.1").await
}

/// Serves the test app on a real port, opened (and linked, as `public_url`) by `host` — a name
/// such as `localhost` where passkeys must work (WebAuthn refuses IP addresses).
pub(crate) async fn serve_as(app: &TestApp, host: &str) -> String {
    serve_on(app, host, free_port()).await
}

/// Serves the test app at http://`host`:`port` (a port chosen before the app, when something
/// else — an identity provider's client registration — must know the address first).
pub(crate) async fn serve_on(app: &TestApp, host: &str, port: u16) -> String {
    let public_url = format!("http://{host}:{port}");
    let figment = app
        .figment()
        .merge(("port", port))
        .merge(("address", "127.0.0.1"))
        .merge(("public_url", public_url.as_str()));
    let rocket = hr_portal::rocket_with_clock(figment, app.clock.clone());
    rocket::tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    public_url
}

/// docs/screenshots/ when `HR_PORTAL_UPDATE_SCREENSHOTS=1` asks to refresh the README's pictures,
/// otherwise `tmp/screenshots/` in the build's target folder (Cargo's `CARGO_TARGET_TMPDIR`, which
/// follows `CARGO_TARGET_DIR`).
pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = if std::env::var("HR_PORTAL_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join("screenshots")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    };
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

pub(crate) async fn save_screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(name), png).expect("write screenshot");
}

pub(crate) async fn sign_in(browser: &Client, base: &str, email: &str, password: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    fill(browser, "email", email).await;
    fill(browser, "password", password).await;
    click(browser, "#sign-in").await;
    wait_until(browser, "the page after signing in", |url, _| {
        url.path() != "/login"
    })
    .await;
}

/// Waits (up to 10 s) until the page after a click has loaded and satisfies `done`.
pub(crate) async fn wait_until(
    browser: &Client,
    what: &str,
    done: impl Fn(&url::Url, &str) -> bool,
) {
    for _ in 0..200 {
        if let (Ok(url), Ok(source)) = (browser.current_url().await, browser.source().await) {
            if done(&url, &source) {
                return;
            }
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(crate) async fn path_of(browser: &Client) -> String {
    browser.current_url().await.unwrap().path().to_string()
}

#[rocket::async_test]
async fn a_person_signs_in_uses_the_dashboard_is_force_logged_out_and_signs_out_in_chromium() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    let demo = app.fill_demo_company().await;
    let admin_account = demo_account(&demo, Role::Admin).clone();
    let employee = demo_account(&demo, Role::Employee).clone();
    // Opened by name, as people do (the login page then offers passkeys too).
    let base = serve_as(&app, "localhost").await;

    let user = open_browser(&driver).await;
    user.goto(&format!("{base}/login")).await.unwrap();
    save_screenshot(&user, "login.png").await;
    sign_in(&user, &base, &employee.email, employee.password.expose()).await;
    assert_eq!(path_of(&user).await, "/dashboard");
    let page = user.source().await.unwrap();
    assert!(page.contains(&format!("Welcome, {}", employee.name)));
    // The headcount chart is drawn on the server: one bar per department.
    let bars = user
        .find_all(Locator::Css("#headcount-chart rect.bar"))
        .await
        .unwrap();
    assert_eq!(bars.len(), demo.departments);
    // At a phone's width the layout reflows instead of scrolling sideways.
    user.set_window_size(390, 844).await.unwrap();
    let overflow = user
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow,
        serde_json::Value::Bool(false),
        "no horizontal scrolling on a phone"
    );
    save_screenshot(&user, "dashboard-phone.png").await;
    user.set_window_size(1280, 900).await.unwrap();

    // The directory lists current staff, as many as the dashboard's headcount.
    let headcount = user
        .find(Locator::Css("#figure-headcount .figure-value"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The directory search narrows the list to matching people.
    user.goto(&format!("{base}/employees")).await.unwrap();
    let everyone = user
        .find(Locator::Id("result-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(everyone.starts_with(&format!("{headcount} ")), "{everyone}");
    let surname = employee.name.split(' ').next_back().unwrap().to_string();
    fill(&user, "employee-search", &surname).await;
    click(&user, "form[action=\"/employees\"] button[type=submit]").await;
    wait_until(&user, "the search results", |url, _| {
        url.query().is_some_and(|q| q.contains("q="))
    })
    .await;
    let matches = user
        .find(Locator::Id("result-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count: usize = matches.split(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1 && count < demo.employees, "{matches}");
    assert!(user.source().await.unwrap().contains(&employee.name));
    save_screenshot(&user, "directory.png").await;

    // An administrator in another browser signs the employee out everywhere from the sessions page.
    let admin = open_browser(&driver).await;
    sign_in(
        &admin,
        &base,
        &admin_account.email,
        admin_account.password.expose(),
    )
    .await;
    admin.goto(&format!("{base}/admin/sessions")).await.unwrap();
    save_screenshot(&admin, "admin-sessions.png").await;
    let employee_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&employee.email)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    // One "Sign out everywhere" per person, through a page that says what it does.
    let selector =
        format!("a[href=\"/admin/users/{employee_id}/confirm?action=sign-out-everywhere\"]");
    click(&admin, &selector).await;
    click(&admin, "#confirm-destructive button[type=submit]").await;
    wait_until(&admin, "the force-logout confirmation", |_, page| {
        page.contains("signed out everywhere")
    })
    .await;

    // The employee's very next navigation lands on the login page.
    user.goto(&format!("{base}/account/sessions"))
        .await
        .unwrap();
    assert_eq!(path_of(&user).await, "/login");

    // The admin signs out with the page's button; the session is gone server-side.
    click(&admin, "#sign-out").await;
    wait_until(&admin, "the login page after signing out", |url, _| {
        url.path() == "/login"
    })
    .await;
    assert!(admin
        .source()
        .await
        .unwrap()
        .contains("You have been signed out."));
    admin.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(path_of(&admin).await, "/login");
    assert_eq!(app.sessions().await, 0);

    user.close().await.unwrap();
    admin.close().await.unwrap();
}

/// Empties the field with the id `id` and types `text` into it, as a person would.
pub(crate) async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Types `text` into the field `id` and presses the button `button`.
async fn fill_and_press(browser: &Client, id: &str, text: &str, button: &str) {
    fill(browser, id, text).await;
    click(browser, &format!("#{button}")).await;
}

/// The code an authenticator app shows for `base32` at `at` (totp-rs, not the app's wrapper).
fn authenticator_code(base32: &str, at: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(base32.to_string())
        .to_bytes()
        .expect("the page shows valid base32");
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .expect("RFC 6238 parameters")
        .generate(at.unsigned_abs())
}

#[rocket::async_test]
async fn a_person_turns_on_two_factor_and_signs_in_with_a_code_in_chromium() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    app.create_dana().await;
    let base = serve(&app).await;
    let browser = open_browser(&driver).await;
    sign_in(&browser, &base, "dana@example.com", PASSWORD).await;
    assert_eq!(path_of(&browser).await, "/dashboard");

    browser
        .goto(&format!("{base}/account/two-factor"))
        .await
        .unwrap();
    let qr = browser.find(Locator::Css(".qr svg")).await;
    assert!(qr.is_ok(), "the QR code is drawn inline");
    save_screenshot(&browser, "two-factor.png").await;
    let secret = browser
        .find(Locator::Id("totp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = authenticator_code(secret.trim(), app.clock.now());
    fill_and_press(&browser, "code", &code, "turn-on").await;
    wait_until(&browser, "the recovery codes", |_, page| {
        page.contains("id=\"recovery-codes\"")
    })
    .await;
    let codes = browser
        .find_all(Locator::Css("#recovery-codes code"))
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);

    // Sign out, then in again: the password leads to the code step, the code to the dashboard.
    click(&browser, "form[action='/logout'] button").await;
    wait_until(&browser, "the login page", |url, _| url.path() == "/login").await;
    sign_in(&browser, &base, "dana@example.com", PASSWORD).await;
    assert_eq!(path_of(&browser).await, "/login/two-factor");
    browser.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(
        path_of(&browser).await,
        "/login",
        "the password alone opens nothing"
    );
    sign_in(&browser, &base, "dana@example.com", PASSWORD).await;
    app.clock.advance(30);
    let code = authenticator_code(secret.trim(), app.clock.now());
    fill_and_press(&browser, "code", &code, "verify-code").await;
    wait_until(&browser, "the dashboard", |url, _| {
        url.path() == "/dashboard"
    })
    .await;
    let page = browser.source().await.unwrap();
    assert!(page.contains("Welcome, Dana Scully"));
    browser.close().await.unwrap();
}

/// Chromium's virtual authenticator (the WebDriver WebAuthn extension): a platform authenticator
/// that keeps discoverable credentials and verifies its user without asking.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/webauthn/authenticator"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let options = serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "automaticPresenceSimulation": true,
        });
        (http::Method::POST, Some(options.to_string()))
    }
}

pub(crate) async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[rocket::async_test]
async fn a_person_adds_a_passkey_signs_in_with_it_alone_and_removes_it_in_chromium() {
    let Some(driver) = start_driver() else { return };
    let app = spawn_app().await;
    app.create_dana().await;
    let base = serve_as(&app, "localhost").await;
    let browser = open_browser(&driver).await;
    browser
        .issue_cmd(AddVirtualAuthenticator)
        .await
        .expect("chromedriver adds a virtual authenticator");
    sign_in(&browser, &base, "dana@example.com", PASSWORD).await;
    assert_eq!(path_of(&browser).await, "/dashboard");

    // Register: the script asks for a challenge, the authenticator answers, the form posts it.
    browser
        .goto(&format!("{base}/account/passkeys"))
        .await
        .unwrap();
    fill_and_press(&browser, "passkey-name", "work laptop", "add-passkey").await;
    wait_until(&browser, "the passkey in the list", |_, page| {
        page.contains("data-passkey=\"work laptop\"")
    })
    .await;
    assert_eq!(app.passkeys().await, 1);

    // Sign out, then in with the passkey alone: no e-mail, no password, no code.
    click(&browser, "#sign-out").await;
    wait_until(&browser, "the login page", |url, _| url.path() == "/login").await;
    click(&browser, "#sign-in-with-passkey").await;
    wait_until(&browser, "the dashboard", |url, _| {
        url.path() == "/dashboard"
    })
    .await;
    let page = browser.source().await.unwrap();
    assert!(page.contains("Welcome, Dana Scully"));
    let method: String = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE kind = 'login_succeeded' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db().pool)
    .await
    .unwrap();
    assert!(method.contains("passkey"), "{method}");

    // Remove it (within ten minutes of signing in: no password asked); it signs in no more.
    browser
        .goto(&format!("{base}/account/passkeys"))
        .await
        .unwrap();
    save_screenshot(&browser, "passkeys.png").await;
    click(&browser, "form[action$='/remove'] button").await;
    wait_until(&browser, "the removal", |_, page| {
        page.contains("no longer signs you in")
    })
    .await;
    assert_eq!(app.passkeys().await, 0);
    click(&browser, "#sign-out").await;
    wait_until(&browser, "the login page", |url, _| url.path() == "/login").await;
    click(&browser, "#sign-in-with-passkey").await;
    wait_until(&browser, "the refusal", |_, page| {
        page.contains("not registered here")
    })
    .await;
    browser.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(path_of(&browser).await, "/login", "not signed in");
    browser.close().await.unwrap();
}
