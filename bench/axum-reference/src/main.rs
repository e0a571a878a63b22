//! The axum + tower-sessions reference for bench/peers.sh: hr-portal's `/bench/page/session` page (a
//! greeting and a 20-row table) behind a session that tower-sessions keeps in a SQLite file, so the
//! two stacks can be measured side by side in one run.
//!
//!   axum-reference PORT SQLITE_FILE
//!
//! `POST /login` (form field `email`) signs the user in; `GET /page` renders the page for the
//! session's user or answers 401. There are no passwords: what is compared is the per-request
//! session lookup and render, not sign-in.

use axum::{
    extract::State,
    http::{HeaderName, HeaderValue, StatusCode},
    middleware::map_response,
    response::{Html, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use rand::{distributions::Alphanumeric, Rng};
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};
use tera::{Context, Tera};
use tower_sessions::{Session, SessionManagerLayer};
use tower_sessions_sqlx_store::{
    sqlx::{
        self,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
        SqlitePool,
    },
    SqliteStore,
};

/// The session key under which the signed-in user is kept.
const USER: &str = "user";

/// What the session holds: the user's id and name (and what the page's header shows), plus a
/// per-session CSRF token for the sign-out form, as hr-portal's page carries one.
#[derive(Serialize, Deserialize)]
struct SignedIn {
    id: i64,
    name: String,
    email: String,
    is_admin: bool,
    csrf_token: String,
}

#[derive(Serialize)]
struct Row {
    id: usize,
    name: String,
    department: &'static str,
    since: String,
}

/// The same 20 rows as hr-portal's src/routes/bench.rs.
fn rows() -> Vec<Row> {
    const DEPARTMENTS: [&str; 4] = ["Engineering", "Finance", "People", "Sales"];
    (1..=20)
        .map(|id| Row {
            id,
            name: format!("Employee {id}"),
            department: DEPARTMENTS[id % DEPARTMENTS.len()],
            since: format!("20{:02}-0{}-1{}", 10 + id % 10, 1 + id % 9, id % 10),
        })
        .collect()
}

#[derive(Clone)]
struct App {
    db: SqlitePool,
    tera: Arc<Tera>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
}

async fn login(
    State(app): State<App>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Redirect, StatusCode> {
    let user: Option<(i64, String, String, bool)> =
        sqlx::query_as("SELECT id, name, email, is_admin FROM users WHERE email = ?")
            .bind(&form.email)
            .fetch_optional(&app.db)
            .await
            .map_err(internal)?;
    let (id, name, email, is_admin) = user.ok_or(StatusCode::UNAUTHORIZED)?;
    // A fresh id at sign-in, so an id planted before it (session fixation) is worth nothing.
    session.cycle_id().await.map_err(internal)?;
    // 43 alphanumerics: about 256 bits, as long as 32 random bytes in base64.
    let csrf_token = rand::thread_rng()
        .sample_iter(Alphanumeric)
        .take(43)
        .map(char::from)
        .collect();
    let user = SignedIn {
        id,
        name,
        email,
        is_admin,
        csrf_token,
    };
    session.insert(USER, user).await.map_err(internal)?;
    Ok(Redirect::to("/page"))
}

async fn page(State(app): State<App>, session: Session) -> Result<Html<String>, StatusCode> {
    // The first read loads the record from SQLite (one indexed query); no session → 401.
    let user: SignedIn = session
        .get(USER)
        .await
        .map_err(internal)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let mut context = Context::new();
    context.insert("user", &user);
    context.insert("rows", &rows());
    app.tera
        .render("page.html", &context)
        .map(Html)
        .map_err(internal)
}

/// The headers hr-portal sends with every page, so both answers carry the same headers.
const SECURITY_HEADERS: [(&str, &str); 7] = [
    ("permissions-policy", "interest-cohort=()"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; \
         base-uri 'none'; object-src 'none'",
    ),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
];

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

fn internal(error: impl std::fmt::Display) -> StatusCode {
    eprintln!("{error}");
    StatusCode::INTERNAL_SERVER_ERROR
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(file)) = (args.next(), args.next()) else {
        return Err("usage: axum-reference PORT SQLITE_FILE".into());
    };

    // The SQLite settings hr-portal uses (src/db.rs): WAL, NORMAL, a 5 s busy wait, 16 connections.
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    let db = SqlitePoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
           name TEXT NOT NULL, is_admin INTEGER NOT NULL); \
         INSERT OR IGNORE INTO users (email, name, is_admin) \
           VALUES ('bench@example.com', 'Bench Admin', 1);",
    )
    .execute(&db)
    .await?;
    let store = SqliteStore::new(db.clone());
    store.migrate().await?;

    // Compiled into the binary; names ending in .html are autoescaped, as in hr-portal.
    let mut tera = Tera::default();
    tera.add_raw_templates([
        ("base.html", include_str!("../templates/base.html")),
        ("page.html", include_str!("../templates/page.html")),
    ])?;

    // Plain HTTP on 127.0.0.1, so no Secure flag (bench/run.sh sets ROCKET_SECURE_COOKIES=false too).
    let sessions = SessionManagerLayer::new(store).with_secure(false);
    let app = Router::new()
        .route("/login", post(login))
        .route("/page", get(page))
        .route("/healthz", get(|| async { "ok" })) // what bench/common.sh's await_server polls
        .layer(sessions)
        .layer(map_response(security_headers))
        .with_state(App {
            db,
            tera: Arc::new(tera),
        });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
