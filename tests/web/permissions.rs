//! One table says who may open what (`routes::access::ROUTES`); these tests hold the application
//! to it: every mounted route is in the table and every table row is mounted, the docs are the
//! table, and a walk of every route with every role (and anonymously) gets exactly the refusals
//! the table promises — 403 for a role without the permission, the sign-in page for anyone not
//! signed in, never a refusal for a role that has it.

use hr_portal::routes::access::{self, Access, ROUTES};
use hr_portal::users::Role;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use crate::helpers::*;

/// The mounted routes as the table names them (the benchmark feature's routes aside).
fn mounted(client: &Client) -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = client
        .rocket()
        .routes()
        .map(|route| {
            (
                route.method.as_str().to_string(),
                route.uri.as_str().to_string(),
            )
        })
        .filter(|(_, uri)| !uri.starts_with("/bench/"))
        .collect();
    routes.sort();
    routes.dedup();
    routes
}

#[rocket::async_test]
async fn every_mounted_route_is_in_the_permissions_table_and_nothing_else_is() {
    let app = spawn_app().await;
    let mut listed: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    listed.sort();
    let mounted = mounted(&app.browser);
    let unlisted: Vec<_> = mounted.iter().filter(|r| !listed.contains(r)).collect();
    let unmounted: Vec<_> = listed.iter().filter(|r| !mounted.contains(r)).collect();
    assert!(
        unlisted.is_empty(),
        "mounted but not in the table: {unlisted:?}"
    );
    assert!(
        unmounted.is_empty(),
        "in the table but not mounted: {unmounted:?}"
    );
}

#[test]
fn the_permissions_doc_is_the_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/permissions.md");
    let table = access::markdown();
    if std::env::var_os("HR_PORTAL_WRITE_DOCS").is_some() {
        std::fs::write(&path, &table).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        written, table,
        "docs/permissions.md is out of date: run the suite with HR_PORTAL_WRITE_DOCS=1"
    );
}

/// A path for a route: each `<parameter>` filled with a value that passes the guards and names
/// nothing (so an admitted change answers 404 and changes nothing), the query left off.
fn concrete(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|segment| match segment {
            "<id>" | "<user_id>" => "999999",
            "<handle>" => "AAAAAAAAAAAAAAAAAAAAAA",
            "<access>" => "disable",
            "<token>" => "not-a-real-link-token",
            "<name>" => "style.css",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// What one request got: the status and where a redirect went.
async fn request(browser: &Client, method: &str, path: &str, token: &str) -> (Status, String) {
    let response = if method == "GET" {
        browser.get(path.to_string()).dispatch().await
    } else if path == "/admin/import" {
        // The upload is multipart: its token travels as a part, beside an empty file.
        let boundary = "walkboundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"staff.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n\r\n--{boundary}--\r\n"
        );
        let content_type =
            ContentType::new("multipart", "form-data").with_params(("boundary", boundary));
        browser
            .post(path.to_string())
            .header(content_type)
            .body(body)
            .dispatch()
            .await
    } else {
        browser
            .post(path.to_string())
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", token)]))
            .dispatch()
            .await
    };
    let to = location(&response).unwrap_or_default().to_string();
    (response.status(), to)
}

/// Walks every route (sign-out last) as `role` and checks each answer against the table.
async fn walk(browser: &Client, role: Option<Role>) -> Vec<String> {
    let token = match role {
        Some(_) => csrf_token_in(&browser.opens("/dashboard").await.1),
        None => String::new(),
    };
    let mut routes: Vec<&(&str, &str, Access)> = ROUTES.iter().collect();
    routes.sort_by_key(|(_, path, _)| *path == "/logout");
    let mut wrong = Vec::new();
    for (method, path, access) in routes {
        let concrete = concrete(path);
        let (status, to) = request(browser, method, &concrete, &token).await;
        let who = role.map_or("anonymous", Role::as_str);
        let admitted = access.admits(role);
        let refused_for_role = status == Status::Forbidden || status == Status::Unauthorized;
        let as_promised = match (admitted, role) {
            (false, None) => status == Status::SeeOther && to.starts_with("/login"),
            (false, Some(_)) => status == Status::Forbidden,
            // Pages before sign-in ask no role: a public form posted without its form cookie
            // is refused for that (403), the second step without a sign-in in progress sends
            // the browser back to sign in (401), and `/` sends a stranger to sign in.
            (true, _) if *access != Access::SignedIn && !matches!(access, Access::Needs(_)) => {
                status.code < 500
                    && (*method == "POST"
                        || *access == Access::SignInInProgress
                        || status != Status::Forbidden)
            }
            // Signing out lands on the sign-in page: that is its job, not a refusal.
            (true, _) if *path == "/logout" => status == Status::SeeOther,
            (true, _) => !refused_for_role && status.code < 500 && !to.starts_with("/login"),
        };
        if !as_promised {
            wrong.push(format!("{who} {method} {concrete}: {status} {to}"));
        }
    }
    wrong
}

async fn every_route_answers_every_role_as_the_table_says(app: TestApp) {
    let anonymous = app.new_browser().await;
    let mut wrong = walk(&anonymous, None).await;
    for role in Role::ALL {
        let email = format!("{}@example.com", role.as_str());
        let user = app.create_user(&email, role.label(), role).await;
        let browser = app.browser_signed_in_as(&user).await;
        wrong.extend(walk(&browser, Some(role)).await);
    }
    assert!(
        wrong.is_empty(),
        "answers that break the table:\n{}",
        wrong.join("\n")
    );
}

on_every_backend!(every_route_answers_every_role_as_the_table_says);
