//! The CSV exports: cells a spreadsheet would run come out defused, the page's filters apply,
//! only the right people may download, and an audit trail of 100 000 events streams through
//! whole. Also: what the operator did at the command line says so on the pages and in the file.

use std::collections::HashSet;

use hr_portal::app::accounts::{self, AccountAction};
use hr_portal::app::{AccountRef, Actor};
use hr_portal::users::Role;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::LocalResponse;
use rocket::tokio::io::AsyncReadExt;

use crate::helpers::*;

/// Downloads `path`: the response's checks done, the lines of the file.
async fn downloads(browser: &rocket::local::asynchronous::Client, path: &str) -> Vec<String> {
    let response = browser.get(path.to_string()).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "{path}");
    assert_is_a_csv_file(&response, path);
    let body = body(response).await;
    assert!(body.ends_with("\r\n"), "every line ends with CRLF");
    body.split_terminator("\r\n").map(str::to_string).collect()
}

fn assert_is_a_csv_file(response: &LocalResponse<'_>, path: &str) {
    assert_eq!(
        response.content_type(),
        Some(ContentType::new("text", "csv").with_params(("charset", "utf-8")))
    );
    let disposition = response
        .headers()
        .get_one("Content-Disposition")
        .expect("the file is named");
    let what = if path.starts_with("/admin/audit") {
        "audit"
    } else {
        "employees"
    };
    let prefix = format!("attachment; filename=\"{what}-");
    assert!(disposition.starts_with(&prefix), "{disposition}");
    // `…-YYYY-MM-DD.csv"`
    assert_eq!(disposition.len(), prefix.len() + "2026-01-01.csv\"".len());
    assert!(disposition.ends_with(".csv\""), "{disposition}");
}

/// Adds an employee through the admin form.
async fn adds_employee(app: &TestApp, name: &str, email: &str, title: &str) {
    let mut form = GRACE_HOPPER;
    form[0] = ("name", name);
    form[1] = ("email", email);
    form[2] = ("title", title);
    let new = "/admin/employees/new";
    let response = app.browser.submits(new, new, &form).await;
    assert_eq!(response.status(), Status::SeeOther, "{name} is added");
}

async fn a_name_a_spreadsheet_would_run_comes_out_defused(app: TestApp) {
    app.sign_in_as_admin().await;
    adds_employee(&app, "=HYPERLINK(\"http://x\")", "x@example.com", "-1+2").await;
    adds_employee(&app, "Grace Hopper", "grace@example.com", "Rear Admiral").await;

    let lines = downloads(&app.browser, "/employees.csv").await;
    assert!(
        lines[0].starts_with("\"Employee number\",\"Name\""),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 3, "a header and two people");
    let grace = lines.iter().find(|l| l.contains("Grace Hopper")).unwrap();
    assert!(grace.contains(",\"Grace Hopper\",\"grace@example.com\",\"Rear Admiral\","));
    let x = lines.iter().find(|l| l.contains("x@example.com")).unwrap();
    assert!(
        x.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
        "the formula is defused and its quotes doubled: {x}"
    );
    assert!(x.contains(",\"'-1+2\","), "{x}");
}

async fn the_directory_export_keeps_the_search_and_the_order(app: TestApp) {
    app.sign_in_as_admin().await;
    adds_employee(&app, "Ada Lovelace", "ada@example.com", "Analyst").await;
    adds_employee(&app, "Alan Turing", "alan@example.com", "Cryptanalyst").await;
    adds_employee(&app, "Grace Hopper", "grace@example.com", "Rear Admiral").await;

    let lines = downloads(&app.browser, "/employees.csv?q=analyst&sort=name").await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].contains("Ada Lovelace") && lines[2].contains("Alan Turing"));

    // The directory page links to the file with its own query string.
    let (_, page) = app.browser.opens("/employees?q=grace&sort=start").await;
    let link = "href=\"/employees.csv?q=grace&amp;sort=start&amp;dir=asc&amp;\"";
    assert!(page.contains(link), "the page offers its own rows");
    let lines = downloads(&app.browser, "/employees.csv?q=grace&sort=start&dir=asc&").await;
    assert_eq!(lines.len(), 2);
    assert!(lines[1].contains("Grace Hopper"));
}

async fn the_audit_export_keeps_the_page_filters(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    app.browser
        .submits(
            "/admin/users",
            &format!("/admin/users/{}/disable", ada.id),
            &[],
        )
        .await;

    let lines = downloads(&app.browser, "/admin/audit.csv?kind=user_disabled").await;
    assert_eq!(
        lines[0],
        "\"Time (UTC)\",\"Event\",\"Event code\",\"By\",\"Account\",\"E-mail as typed\",\
         \"Session\",\"IP address\",\"Device\",\"Detail\""
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains(",\"user_disabled\",\"root@example.com\",\"ada@example.com\","));
    let time = lines[1].split('"').nth(1).unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with('Z'),
        "{time}"
    );

    let everything = downloads(&app.browser, "/admin/audit.csv").await;
    assert!(everything.iter().any(|l| l.contains("\"login_succeeded\"")));
    let about_ada = downloads(&app.browser, "/admin/audit.csv?user=ada%40").await;
    assert!(about_ada.len() > 1 && about_ada.len() < everything.len());
    assert!(about_ada[1..].iter().all(|l| l.contains("ada@example.com")));

    let (_, page) = app.browser.opens("/admin/audit?kind=user_disabled").await;
    assert!(page.contains("href=\"/admin/audit.csv?user=&amp;kind=user_disabled&amp;\""));
}

async fn exports_need_a_session_and_the_audit_export_an_administrator(app: TestApp) {
    for (path, next) in [
        ("/employees.csv", "%2Femployees.csv"),
        ("/admin/audit.csv", "%2Fadmin%2Faudit.csv"),
    ] {
        let response = app.browser.get(path).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{path}");
        assert_eq!(location(&response), Some(&*format!("/login?next={next}")));
    }
    let ada = app.create_ada().await;
    let employee = app.browser_signed_in_as(&ada).await;
    let response = employee.get("/admin/audit.csv").dispatch().await;
    assert_eq!(response.status(), Status::Forbidden);
    assert!(!body(response).await.contains("login_succeeded"));
    let lines = downloads(&employee, "/employees.csv").await;
    assert_eq!(
        lines.len(),
        1,
        "just the header: nobody in the directory yet"
    );
}

/// Writes `count` events straight into the trail in one statement (the same SQL on both
/// engines: a recursive row generator feeding one INSERT).
async fn plant_events(app: &TestApp, count: i64) {
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO audit_events (at, kind, ip, detail) \
         SELECT 1700000000 + i, 'passkey_refused', '203.0.113.9', 'planted #' || i FROM n",
    )
    .bind(count)
    .execute(&app.db().pool)
    .await
    .unwrap();
}

async fn an_audit_export_of_a_hundred_thousand_events_streams_them_all(app: TestApp) {
    const PLANTED: usize = 100_000;
    app.sign_in_as_admin().await;
    plant_events(&app, PLANTED as i64).await;

    let mut response = app.browser.get("/admin/audit.csv").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_is_a_csv_file(&response, "/admin/audit.csv");
    // Read as a client would: chunk by chunk, keeping only the line being read.
    let mut chunk = vec![0u8; 64 * 1024];
    let (mut lines, mut reads) = (0usize, 0usize);
    let mut line = Vec::new();
    let mut planted = HashSet::new();
    let mut previous_at = i64::MAX;
    loop {
        let read = response.read(&mut chunk).await.unwrap();
        if read == 0 {
            break;
        }
        reads += 1;
        for byte in &chunk[..read] {
            line.push(*byte);
            if *byte != b'\n' {
                continue;
            }
            let text = String::from_utf8(std::mem::take(&mut line)).unwrap();
            lines += 1;
            if let Some(at) = text.find("planted #") {
                let number: String = text[at + 9..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                assert!(planted.insert(number), "no event twice: {text}");
            }
            if lines > 1 {
                let time = text.split('"').nth(1).unwrap();
                let at = chrono::DateTime::parse_from_rfc3339(time)
                    .unwrap()
                    .timestamp();
                assert!(at <= previous_at, "newest first");
                previous_at = at;
            }
        }
    }
    assert!(line.is_empty(), "the file ends with a whole line");
    assert_eq!(planted.len(), PLANTED, "every planted event is in the file");
    let all_events = usize::try_from(app.audit_events().await).unwrap();
    assert!(
        lines > PLANTED,
        "the header and the events of signing in too"
    );
    assert!(lines <= all_events + 1);
    assert!(reads > 1, "the file arrived in pieces");

    let filtered = downloads(&app.browser, "/admin/audit.csv?kind=passkey_refused").await;
    assert_eq!(
        filtered.len(),
        PLANTED + 1,
        "the header and exactly the planted events"
    );
}

async fn what_the_operator_did_at_the_command_line_says_so_everywhere(app: TestApp) {
    let ada = app.sign_in_as_admin_and_create_ada().await;
    accounts::change_account(
        app.app(),
        &Actor::command_line(),
        AccountRef::Email("ada@example.com"),
        AccountAction::Role(Role::Admin),
    )
    .await
    .unwrap();

    let lines = downloads(&app.browser, "/admin/audit.csv?kind=role_changed").await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].contains(
            ",\"role_changed\",\"command line\",\"ada@example.com\",\"\",\"\",\"\",\"command line\","
        ),
        "{}",
        lines[1]
    );
    let (_, page) = app.browser.opens("/admin/audit?kind=role_changed").await;
    let row = &page[page.find("data-kind=\"role_changed\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(
        row.matches(">command line</td>").count(),
        2,
        "actor and device: {row}"
    );
    assert!(!row.contains("Unknown device"));

    let laptop = app.browser_signed_in_as(&ada).await;
    let (_, activity) = laptop.opens("/account/activity").await;
    let row = &activity[activity.find("data-kind=\"role_changed\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(row.matches(">command line</td>").count(), 2, "{row}");
}

on_every_backend!(
    a_name_a_spreadsheet_would_run_comes_out_defused,
    the_directory_export_keeps_the_search_and_the_order,
    the_audit_export_keeps_the_page_filters,
    exports_need_a_session_and_the_audit_export_an_administrator,
    an_audit_export_of_a_hundred_thousand_events_streams_them_all,
    what_the_operator_did_at_the_command_line_says_so_everywhere,
);
