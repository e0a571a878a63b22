//! The test harness: a fresh app on a fresh database per test, browsers with their own cookie
//! jars, and small helpers to read forms out of pages.

use std::sync::atomic::{AtomicU32, Ordering};

use hr_portal::app::demo::{self, DemoAccount, DemoError, DemoReport};
use hr_portal::app::App;
use hr_portal::clock::Clock;
use hr_portal::db::Db;
use hr_portal::hr::demo::DEMO_SEED;
use hr_portal::ids::UserId;
use hr_portal::users::password::PasswordService;
use hr_portal::users::{Email, NewUser, Role, User};
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A PostgreSQL server for tests: `TEST_DATABASE_URL`. Under `CI=true` its absence fails the test.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests cannot be skipped in CI");
            }
            say_once_uncaptured(
                "skipped: the PostgreSQL variants of the tests did not run because \
                 TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)",
            );
            None
        }
    }
}

static DATABASE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Prints a note once per test run, straight to stderr: the harness captures `eprintln!` of
/// passing tests, and a skip must be visible to whoever runs `cargo test`.
pub fn say_once_uncaptured(message: &str) {
    use std::io::Write;
    use std::sync::Mutex;
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let Ok(mut said) = SAID.lock() else { return };
    if !said.iter().any(|m| m == message) {
        said.push(message.to_string());
        let _ = writeln!(std::io::stderr(), "\n{message}");
    }
}

/// Whether python3 can import `module` (a tool a test drives); says once what `skipped` needs.
/// Under `CI=true` its absence is a failure, never a skip.
pub fn python_can_import(module: &str, skipped: &str) -> bool {
    let available = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but python3 cannot import {module}: {skipped} cannot be skipped in CI");
        }
        say_once_uncaptured(&format!(
            "skipped: {skipped} need python3 -m pip install {} (.ci/run does)",
            module.split('.').next().unwrap_or(module).replace('_', "-")
        ));
    }
    available
}

/// Creates an empty database on the server behind `base_url` and returns its URL.
async fn fresh_postgres_database(base_url: &str) -> String {
    use sqlx::Connection;
    let name = format!(
        "hr_portal_test_{}_{}_{}",
        std::process::id(),
        DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    );
    let mut conn = sqlx::PgConnection::connect(base_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    conn.close().await.ok();
    let (prefix, _) = base_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends with /<database>");
    format!("{prefix}/{name}")
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// One running application (and its data folder) plus the first browser on it.
pub struct TestApp {
    pub browser: Client,
    pub dir: TempDir,
    pub clock: Clock,
    pub database_url: Option<String>,
    pub extra: Vec<(String, rocket::figment::value::Value)>,
}

impl Drop for TestApp {
    /// Drops the test's PostgreSQL database (the SQLite file goes with the temp dir).
    fn drop(&mut self) {
        let (Some(url), Some(base)) = (self.database_url.clone(), postgres_base_url()) else {
            return;
        };
        let Some((_, name)) = url.rsplit_once('/') else {
            return;
        };
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        // Drop runs inside the test's runtime; a helper thread with its own runtime may block.
        let _ = std::thread::spawn(move || {
            use sqlx::Connection;
            let runtime = rocket::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                    let _ = sqlx::query(&statement).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

fn postgres_base_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// Settings every test app starts from.
fn base_figment(dir: &TempDir, database_url: Option<&str>) -> Figment {
    let mut figment = rocket::Config::figment()
        .merge(("data_dir", dir.path()))
        .merge(("log_level", "off"))
        .merge(("secure_cookies", false))
        .merge(("cli_colors", false));
    if let Some(url) = database_url {
        figment = figment.merge(("database_url", url));
    } else {
        figment = figment.merge(("database_url", ""));
    }
    figment
}

/// What [`on_every_backend!`] can run: an `async fn(TestApp)` (handed a fresh app) or an
/// `async fn(Backend)` (which builds its own). `Input` only tells the two kinds apart.
#[allow(async_fn_in_trait)] // test-only, awaited in place
pub trait BackendTest<Input> {
    async fn run(self, backend: Backend);
}

impl<F, Fut> BackendTest<Backend> for F
where
    F: FnOnce(Backend) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    async fn run(self, backend: Backend) {
        self(backend).await;
    }
}

impl<F, Fut> BackendTest<TestApp> for F
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    async fn run(self, backend: Backend) {
        // Without PostgreSQL the variant ends here (after saying so); under CI=true it panics.
        let Some(app) = spawn_on(backend).await else {
            return;
        };
        self(app).await;
    }
}

/// Runs one test of [`on_every_backend!`] on `backend`.
pub async fn run_on<Input>(backend: Backend, test: impl BackendTest<Input>) {
    test.run(backend).await;
}

/// A fresh app on `backend`; `None` (after saying why) when PostgreSQL is not configured.
pub async fn spawn_on(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

#[allow(dead_code)] // used by some test modules only
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, &[])
        .await
        .expect("sqlite always runs")
}

/// A fresh app on `backend` with extra settings; `None` when PostgreSQL is not available.
pub async fn spawn_app_with(
    backend: Backend,
    settings: &[(&str, rocket::figment::value::Value)],
) -> Option<TestApp> {
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_postgres_database(&postgres_url()?).await),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Clock::default();
    let extra: Vec<(String, rocket::figment::value::Value)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut app = TestApp {
        browser: placeholder_client().await,
        dir,
        clock,
        database_url,
        extra,
    };
    app.browser = app.new_browser().await;
    Some(app)
}

async fn placeholder_client() -> Client {
    Client::untracked(rocket::build().configure(rocket::Config {
        log_level: rocket::config::LogLevel::Off,
        ..rocket::Config::debug_default()
    }))
    .await
    .expect("empty rocket")
}

impl TestApp {
    pub fn figment(&self) -> Figment {
        let mut figment = base_figment(&self.dir, self.database_url.as_deref());
        for (key, value) in &self.extra {
            figment = figment.merge((key.as_str(), value.clone()));
        }
        figment
    }

    /// Another browser (own cookie jar) on another instance of the app over the same data.
    pub async fn new_browser(&self) -> Client {
        Client::tracked(hr_portal::rocket_with_clock(
            self.figment(),
            self.clock.clone(),
        ))
        .await
        .expect("the app ignites")
    }

    /// The database this app runs on.
    #[allow(dead_code)] // used by some test modules only
    pub fn backend(&self) -> Backend {
        if self.database_url.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The application behind the first browser.
    pub fn app(&self) -> &App {
        self.browser.rocket().state::<App>().expect("app managed")
    }

    pub fn db(&self) -> &Db {
        &self.app().db
    }

    pub fn password_service(&self) -> &PasswordService {
        &self.app().passwords
    }

    /// Creates an account directly in the database.
    pub async fn create_user(&self, email: &str, name: &str, role: Role) -> User {
        let hash = self.password_service().hash(PASSWORD).await.unwrap();
        let email = Email::parse(email).expect("a valid test address");
        let mut conn = self.db().read().await.unwrap();
        let new = NewUser {
            email: &email,
            name,
            role,
            password_hash: hr_portal::secret::Secret::new(&hash),
            must_change_password: false,
        };
        User::create(&mut conn, &new, None, self.clock.now())
            .await
            .unwrap()
    }

    /// Creates Ada's employee account (`ada@example.com`), the tests' usual second person.
    pub async fn create_ada(&self) -> User {
        self.create_user("ada@example.com", "Ada", Role::Employee)
            .await
    }

    /// Creates Dana's employee account (`dana@example.com`), the recovery and two-factor
    /// tests' fixture.
    pub async fn create_dana(&self) -> User {
        self.create_user("dana@example.com", "Dana Scully", Role::Employee)
            .await
    }

    /// Fills the database with the demo company (seed [`DEMO_SEED`]), dated from the app
    /// clock's today; refused when the database is not empty.
    pub async fn try_fill_demo_company(&self) -> Result<DemoReport, DemoError> {
        demo::fill(self.app(), DEMO_SEED, self.app().today()).await
    }

    /// [`Self::try_fill_demo_company`] on the empty database of a fresh app.
    #[allow(dead_code)] // used by some test modules only
    pub async fn fill_demo_company(&self) -> DemoReport {
        self.try_fill_demo_company()
            .await
            .expect("the demo company fills an empty database")
    }

    /// Signs the first browser in as the demo company's account with `role`, with the password
    /// the demo printed.
    #[allow(dead_code)] // used by some test modules only
    pub async fn sign_in_to_the_demo_as(&self, report: &DemoReport, role: Role) {
        let account = demo_account(report, role);
        assert_eq!(
            self.browser
                .signs_in_as(&account.email, account.password.expose())
                .await,
            Status::SeeOther,
            "the demo {role:?} signs in with the printed password"
        );
    }

    /// Puts a session row straight into the table (as if signed in from another device), with
    /// its handle doubling as its token hash: these rows have no usable cookie.
    /// A live session of `user` (an hour to run) written straight into the database, as
    /// another instance would: its cookie token and its handle.
    pub async fn plant_live_session(&self, user: UserId) -> (String, String) {
        let token = hr_portal::auth::random_token();
        let handle = hr_portal::token::random_handle();
        let now = self.clock.now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, handle, user_id, created_at, last_seen_at, \
             expires_at, remember, csrf_secret) VALUES ($1, $2, $3, $4, $4, $5, 0, $6)",
        )
        .bind(hr_portal::auth::hash_token(&token))
        .bind(&handle)
        .bind(user)
        .bind(now)
        .bind(now + 3_600)
        .bind(hr_portal::auth::random_token())
        .execute(&self.db().pool)
        .await
        .unwrap();
        (token, handle)
    }

    pub async fn plant_session(&self, planted: PlantedSession<'_>) {
        sqlx::query(
            "INSERT INTO sessions (token_hash, handle, user_id, created_at, last_seen_at, expires_at, remember, csrf_secret) \
             VALUES ($1, $1, $2, $3, $3, $4, $5, 'x')",
        )
        .bind(planted.handle)
        .bind(planted.user)
        .bind(planted.last_seen_at)
        .bind(planted.expires_at)
        .bind(i64::from(planted.remember))
        .execute(&self.db().pool)
        .await
        .unwrap();
    }
}

/// The employee form filled in for one new employee (and a new department, "Navy").
pub const GRACE_HOPPER: [(&str, &str); 9] = [
    ("name", "Grace Hopper"),
    ("email", "grace@example.com"),
    ("title", "Rear Admiral"),
    ("department", ""),
    ("new_department", "Navy"),
    ("manager", ""),
    ("location", "Arlington"),
    ("start_date", "1943-12-01"),
    ("status", "active"),
];

/// Runs a prepared command with `stdin` fed to it; its whole output.
pub fn output_with_stdin(command: &mut std::process::Command, stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A session row for [`TestApp::plant_session`], named field by field.
pub struct PlantedSession<'a> {
    pub handle: &'a str,
    pub user: UserId,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub remember: bool,
}

/// The first `csrf_token` hidden input of a page.
pub fn csrf_token_in(html: &str) -> String {
    input_value(html, "csrf_token").expect("page has a csrf_token input")
}

/// The `csrf_token` of the form posting to `action` (falls back to the first one on the page).
pub fn csrf_token_for(html: &str, action: &str) -> String {
    let marker = format!("action=\"{action}\"");
    match html.find(&marker) {
        Some(at) => csrf_token_in(&html[at..]),
        None => csrf_token_in(html),
    }
}

/// The value of the first `<input name="…">` on a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#x2F;", "/")
            .replace("&amp;", "&"),
    )
}

/// Percent-encodes a form value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn body(response: LocalResponse<'_>) -> String {
    response.into_string().await.unwrap_or_default()
}

/// The `Set-Cookie` header a response sends for the cookie `name`, whole (with its attributes).
#[allow(dead_code)] // used by some test modules only
pub fn set_cookie(response: &LocalResponse<'_>, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get("Set-Cookie")
        .find(|c| c.starts_with(&prefix))
        .map(str::to_string)
}

pub fn location<'a>(response: &'a LocalResponse<'_>) -> Option<&'a str> {
    response.headers().get_one("Location")
}

/// What a person does with a browser, so tests read as sentences:
/// `laptop.signs_in_as("ada@example.com", PASSWORD)`, `admin.submits("/admin/users", action, &[])`.
#[allow(async_fn_in_trait)] // test-only; never used through `dyn` or across threads by name
pub trait Browser {
    /// GET `path`: the status and the page.
    async fn opens(&self, path: &str) -> (Status, String);
    /// Fills in the form posting to `action` on `form_page` (its CSRF token included) and sends it.
    async fn submits(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'_>;
    /// POSTs exactly `fields`, with no token added (a forged or hand-made request).
    async fn posts(&self, action: &str, fields: &[(&str, &str)]) -> LocalResponse<'_>;
    /// Submits the login form with `fields`; the whole response.
    async fn signs_in_with(&self, fields: &[(&str, &str)]) -> LocalResponse<'_>;
    /// Signs in through the login form; the response status.
    async fn signs_in_as(&self, email: &str, password: &str) -> Status;
    /// Signs in with "keep me signed in".
    async fn signs_in_remembered(&self, email: &str, password: &str) -> Status;
    /// Presses "Sign out".
    async fn signs_out(&self) -> Status;
    /// Fills in /account/password: the current password, the new one and its confirmation.
    async fn changes_password(
        &self,
        current: &str,
        new: &str,
        confirmation: &str,
    ) -> LocalResponse<'_>;
    /// Whether the browser is signed in (the dashboard answers 200 rather than a redirect).
    async fn is_signed_in(&self) -> bool;
    /// Sends GET `path` carrying `raw_cookie` as the session cookie (replay from another machine).
    async fn replays_cookie(&self, path: &str, raw_cookie: &str) -> Status;
    /// The encrypted session cookie exactly as the browser holds it (what a thief would copy).
    fn session_cookie(&self) -> Option<String>;
    /// The decrypted token inside the session cookie.
    fn session_token(&self) -> Option<String>;
}

impl Browser for Client {
    async fn opens(&self, path: &str) -> (Status, String) {
        let response = self.get(path.to_string()).dispatch().await;
        let status = response.status();
        (status, body(response).await)
    }

    async fn submits(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'_> {
        let (_, html) = self.opens(form_page).await;
        let token = csrf_token_for(&html, action);
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.posts(action, &all).await
    }

    async fn posts(&self, action: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        self.post(action.to_string())
            .header(ContentType::Form)
            .body(form_body(fields))
            .dispatch()
            .await
    }

    async fn signs_in_with(&self, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        self.submits("/login", "/login", fields).await
    }

    async fn signs_in_as(&self, email: &str, password: &str) -> Status {
        let fields = [("email", email), ("password", password)];
        self.signs_in_with(&fields).await.status()
    }

    async fn signs_in_remembered(&self, email: &str, password: &str) -> Status {
        let fields = [
            ("email", email),
            ("password", password),
            ("remember", "true"),
        ];
        self.signs_in_with(&fields).await.status()
    }

    async fn changes_password(
        &self,
        current: &str,
        new: &str,
        confirmation: &str,
    ) -> LocalResponse<'_> {
        let fields = [
            ("current_password", current),
            ("new_password", new),
            ("new_password_confirm", confirmation),
        ];
        self.submits("/account/password", "/account/password", &fields)
            .await
    }

    async fn signs_out(&self) -> Status {
        self.submits("/dashboard", "/logout", &[]).await.status()
    }

    async fn is_signed_in(&self) -> bool {
        self.get("/dashboard").dispatch().await.status() == Status::Ok
    }

    async fn replays_cookie(&self, path: &str, raw_cookie: &str) -> Status {
        self.get(path.to_string())
            .cookie(Cookie::new("hr_session", raw_cookie.to_string()))
            .dispatch()
            .await
            .status()
    }

    fn session_cookie(&self) -> Option<String> {
        self.cookies()
            .get("hr_session")
            .map(|c| c.value().to_string())
    }

    fn session_token(&self) -> Option<String> {
        self.cookies()
            .get_private("hr_session")
            .map(|c| c.value().to_string())
    }
}

/// The demo company's account with `role` (the demo prints one per role).
#[allow(dead_code)] // used by some test modules only
pub fn demo_account(report: &DemoReport, role: Role) -> &DemoAccount {
    report
        .accounts
        .iter()
        .find(|a| a.role == role)
        .expect("the demo has an account with that role")
}

/// A fresh app with one employee account, Dana's (the recovery and two-factor tests' fixture).
#[allow(dead_code)] // used by some test modules only
pub async fn app_with_dana(
    backend: Backend,
    settings: &[(&str, rocket::figment::value::Value)],
) -> Option<(TestApp, User)> {
    let app = spawn_app_with(backend, settings).await?;
    let dana = app.create_dana().await;
    Some((app, dana))
}

/// A small API that lets tests read as sentences: who is signed in where, and what the database
/// now says about them.
impl TestApp {
    /// Creates the administrator `root@example.com` and signs the first browser in as them.
    pub async fn sign_in_as_admin(&self) -> User {
        let root = self
            .create_user("root@example.com", "Root", Role::Admin)
            .await;
        assert_eq!(
            self.browser
                .signs_in_as(root.email.as_str(), PASSWORD)
                .await,
            Status::SeeOther,
            "the administrator signs in"
        );
        root
    }

    /// Signs the administrator in on the first browser and creates Ada's account: where most
    /// tests of the admin pages start. Ada is returned.
    #[allow(dead_code)] // used by some test modules only
    pub async fn sign_in_as_admin_and_create_ada(&self) -> User {
        self.sign_in_as_admin().await;
        self.create_ada().await
    }

    /// A fresh browser signed in as `user` (every test account shares [`PASSWORD`]).
    pub async fn browser_signed_in_as(&self, user: &User) -> Client {
        let browser = self.new_browser().await;
        assert_eq!(
            browser.signs_in_as(user.email.as_str(), PASSWORD).await,
            Status::SeeOther,
            "{} signs in",
            user.email
        );
        browser
    }

    /// The handle (the public name) of the session `browser` is signed in with.
    #[allow(dead_code)] // used by some test modules only
    pub async fn session_handle_of(&self, browser: &Client) -> String {
        let token = browser.session_token().expect("signed in");
        sqlx::query_scalar("SELECT handle FROM sessions WHERE token_hash = $1")
            .bind(hr_portal::auth::hash_token(&token))
            .fetch_one(&self.db().pool)
            .await
            .unwrap()
    }

    /// The handle of a session of the account with the address `email` (the first the
    /// database returns).
    #[allow(dead_code)] // used by some test modules only
    pub async fn session_handle_of_address(&self, email: &str) -> String {
        sqlx::query_scalar(
            "SELECT s.handle FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(&self.db().pool)
        .await
        .unwrap()
    }

    /// The kinds of every audit event, oldest first.
    #[allow(dead_code)] // used by some test modules only
    pub async fn audit_kinds(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT kind FROM audit_events ORDER BY id")
            .fetch_all(&self.db().pool)
            .await
            .unwrap()
    }

    /// The id of the employee record with work e-mail `email`.
    pub async fn record_id_of(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM employees WHERE email = $1")
            .bind(email)
            .fetch_one(&self.db().pool)
            .await
            .expect("a record with that work e-mail")
    }

    /// `user` as the database has them now.
    pub async fn reload(&self, user: &User) -> User {
        let mut conn = self.db().read().await.unwrap();
        User::find_by_id(&mut conn, user.id)
            .await
            .unwrap()
            .expect("the account still exists")
    }

    /// Makes every insert into the audit trail fail, as a full disk or a revoked grant would.
    pub async fn break_the_audit_trail(&self) {
        let statements: &[&str] = if self.database_url.is_some() {
            &[
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'audit trail unavailable'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ]
        } else {
            &["CREATE TRIGGER audit_down BEFORE INSERT ON audit_events \
               BEGIN SELECT RAISE(ABORT, 'audit trail unavailable'); END"]
        };
        for statement in statements {
            sqlx::raw_sql(statement)
                .execute(&self.db().pool)
                .await
                .unwrap();
        }
    }

    /// Undoes [`Self::break_the_audit_trail`].
    pub async fn mend_the_audit_trail(&self) {
        let statement = if self.database_url.is_some() {
            "DROP TRIGGER audit_down ON audit_events"
        } else {
            "DROP TRIGGER audit_down"
        };
        sqlx::raw_sql(statement)
            .execute(&self.db().pool)
            .await
            .unwrap();
    }
}

/// Submits a form whose values the test built (`name`, value) and returns the status and page.
#[allow(dead_code)] // used by some test modules only
pub async fn submit(
    browser: &Client,
    page: &str,
    action: &str,
    fields: &[(&'static str, String)],
) -> (Status, String) {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = browser.submits(page, action, &borrowed).await;
    (response.status(), body(response).await)
}
