//! The in-memory session cache never outlives a session: for every way a session ends, a loop
//! makes a session hot in the caches of two instances (proved by their hit counts), ends it, and
//! sends the very next request to each — started after the ending call returned — which must be
//! anonymous. Every iteration, no exceptions, 1 000 times, on SQLite (a counter file) and on
//! PostgreSQL (leases and acknowledgements). The victim's requests go to two instances of the
//! app, the administrator's to a third over the same database, and the command line is a fourth
//! process.

use hr_portal::app::App;
use hr_portal::ids::UserId;
use hr_portal::users::User;
use rocket::http::{ContentType, Cookie, Status};
use rocket::local::asynchronous::Client;

use crate::cli::hr_portal;
use crate::helpers::*;

/// Iterations per way of ending a session.
const LOOPS: usize = 1_000;
/// A page that needs a session and reads nothing else.
const PAGE: &str = "/account/password";

/// A session row with a real token, planted straight into the table (no argon2 per iteration).
struct Hot {
    token: String,
    handle: String,
}

/// The victim's browser, sending the planted cookie to its own instance of the app — or to a
/// second one (the next request of a browser behind a load balancer).
struct Victim {
    client: Client,
    second_instance: Client,
}

impl Victim {
    async fn on(app: &TestApp) -> Victim {
        Victim {
            client: app.new_browser().await,
            second_instance: app.new_browser().await,
        }
    }

    fn app(&self) -> &App {
        self.client.rocket().state::<App>().expect("app managed")
    }

    fn instances(&self) -> [&Client; 2] {
        [&self.client, &self.second_instance]
    }

    async fn opens(&self, hot: &Hot) -> (Status, String) {
        self.opens_on(&self.client, hot).await
    }

    async fn opens_on(&self, client: &Client, hot: &Hot) -> (Status, String) {
        let response = client
            .get(PAGE)
            .private_cookie(Cookie::new("hr_session", hot.token.clone()))
            .dispatch()
            .await;
        let status = response.status();
        (status, body(response).await)
    }

    async fn is_signed_in_on(&self, client: &Client, hot: &Hot) -> bool {
        match self.opens_on(client, hot).await.0 {
            Status::Ok => true,
            Status::SeeOther => false,
            other => panic!("{PAGE} answered {other}"),
        }
    }

    /// Signed in on the first instance.
    async fn is_signed_in(&self, hot: &Hot) -> bool {
        self.is_signed_in_on(&self.client, hot).await
    }

    /// Signed in on either instance.
    async fn is_signed_in_anywhere(&self, hot: &Hot) -> bool {
        for client in self.instances() {
            if self.is_signed_in_on(client, hot).await {
                return true;
            }
        }
        false
    }

    /// Plants a session for `user` and opens a page with it twice on each instance: the first
    /// request loads it, the second is answered from memory. Returns the session and the page's
    /// CSRF token.
    async fn hot_session(&self, app: &TestApp, user: UserId) -> (Hot, String) {
        let hot = plant(app, user).await;
        let (status, html) = self.opens(&hot).await;
        assert_eq!(status, Status::Ok, "a planted session opens the page");
        for (n, client) in self.instances().into_iter().enumerate() {
            let cache = &client.rocket().state::<App>().expect("app").session_cache;
            if n > 0 {
                assert!(self.is_signed_in_on(client, &hot).await, "loads it");
            }
            let hits = cache.hits();
            assert!(self.is_signed_in_on(client, &hot).await);
            assert_eq!(
                cache.hits(),
                hits + 1,
                "the second request was answered from memory"
            );
        }
        (hot, csrf_token_in(&html))
    }

    async fn posts(&self, hot: &Hot, action: &str, fields: &[(&str, &str)]) -> Status {
        self.client
            .post(action.to_string())
            .private_cookie(Cookie::new("hr_session", hot.token.clone()))
            .header(ContentType::Form)
            .body(form_body(fields))
            .dispatch()
            .await
            .status()
    }
}

async fn plant(app: &TestApp, user: UserId) -> Hot {
    let (token, handle) = app.plant_live_session(user).await;
    Hot { token, handle }
}

/// An account straight in the database (its password is never used).
async fn plant_user(app: &TestApp, n: usize) -> UserId {
    sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at, password_changed_at) \
         VALUES ($1, $2, 'employee', 'unused', $3, $3) RETURNING id",
    )
    .bind(format!("person{n}@example.com"))
    .bind(format!("Person {n}"))
    .bind(app.clock.now())
    .fetch_one(&app.db().pool)
    .await
    .unwrap()
}

/// The administrator's signed-in browser (another instance) and its CSRF token.
async fn admin_of(app: &TestApp) -> (User, String) {
    let root = app.sign_in_as_admin().await;
    let (_, html) = app.browser.opens("/admin/users").await;
    (root, csrf_token_in(&html))
}

/// Whose sessions a loop ends.
#[derive(Clone, Copy)]
enum Owner {
    /// Ada, every iteration.
    Ada,
    /// A new account each iteration (for endings that leave the account unusable).
    New,
}

/// One app with Ada, a signed-in administrator on one instance and the victim's browser on
/// another: the stage every loop runs on.
struct Stage {
    app: TestApp,
    ada: User,
    admin_csrf: String,
    victim: Victim,
}

impl Stage {
    async fn on(app: TestApp) -> Stage {
        let ada = app.create_ada().await;
        let (_, admin_csrf) = admin_of(&app).await;
        let victim = Victim::on(&app).await;
        Stage {
            app,
            ada,
            admin_csrf,
            victim,
        }
    }

    async fn admin_posts(&self, action: &str, fields: &[(&str, &str)]) {
        let mut all = fields.to_vec();
        all.push(("csrf_token", self.admin_csrf.as_str()));
        let response = self.app.browser.posts(action, &all).await;
        assert_eq!(response.status(), Status::SeeOther, "{action} was accepted");
    }

    /// The loop every way of ending a session runs: a hot session (its owner's e-mail and the
    /// page's CSRF token at hand), `end` it, and the very next request must be anonymous.
    async fn every_time(&self, owner: Owner, end: impl AsyncFn(usize, &Hot, &Ending)) {
        for i in 0..LOOPS {
            let (user, email) = match owner {
                Owner::Ada => (self.ada.id, "ada@example.com".to_string()),
                Owner::New => (
                    plant_user(&self.app, i).await,
                    format!("person{i}@example.com"),
                ),
            };
            let (hot, csrf) = self.victim.hot_session(&self.app, user).await;
            end(i, &hot, &Ending { user, email, csrf }).await;
            assert!(
                !self.victim.is_signed_in_anywhere(&hot).await,
                "iteration {i}"
            );
        }
    }
}

/// What an ending may need about the session it ends.
struct Ending {
    user: UserId,
    email: String,
    /// A CSRF token of the victim's own session.
    csrf: String,
}

async fn a_session_signed_out_is_anonymous_on_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let sign_out = async |_, hot: &Hot, ending: &Ending| {
        let fields = [("csrf_token", ending.csrf.as_str())];
        let status = stage.victim.posts(hot, "/logout", &fields).await;
        assert_eq!(status, Status::SeeOther);
    };
    stage.every_time(Owner::Ada, sign_out).await;
}

async fn a_session_revoked_by_an_admin_is_anonymous_on_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let revoke = async |_, hot: &Hot, _: &Ending| {
        let action = format!("/admin/sessions/{}/revoke", hot.handle);
        stage.admin_posts(&action, &[]).await;
    };
    stage.every_time(Owner::Ada, revoke).await;
}

async fn a_force_logout_is_seen_by_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let force_logout = async |_, _: &Hot, ending: &Ending| {
        let action = format!("/admin/users/{}/sessions/revoke", ending.user);
        stage.admin_posts(&action, &[]).await;
    };
    stage.every_time(Owner::Ada, force_logout).await;
}

async fn signing_out_other_sessions_ends_them_for_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let own = stage.app.browser_signed_in_as(&stage.ada).await;
    let (_, html) = own.opens("/account/sessions").await;
    let csrf = csrf_token_in(&html);
    let revoke_others = async |_, _: &Hot, _: &Ending| {
        let fields = [("csrf_token", csrf.as_str())];
        let response = own.posts("/account/sessions/revoke-others", &fields).await;
        assert_eq!(response.status(), Status::SeeOther);
    };
    stage.every_time(Owner::Ada, revoke_others).await;
    assert!(own.is_signed_in().await, "the session that asked stays");
}

async fn a_password_change_ends_the_other_sessions_for_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let own = stage.app.browser_signed_in_as(&stage.ada).await;
    let passwords = [PASSWORD, "another long passphrase 2"];
    let change_password = async |i: usize, _: &Hot, _: &Ending| {
        let (current, new) = (passwords[i % 2], passwords[(i + 1) % 2]);
        let response = own.changes_password(current, new, new).await;
        assert_eq!(response.status(), Status::SeeOther, "iteration {i}");
    };
    stage.every_time(Owner::Ada, change_password).await;
}

async fn disabling_an_account_is_seen_by_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let disable = async |_, _: &Hot, ending: &Ending| {
        let action = format!("/admin/users/{}/disable", ending.user);
        stage.admin_posts(&action, &[]).await;
    };
    stage.every_time(Owner::New, disable).await;
}

async fn a_role_change_is_seen_by_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let change_role = async |i: usize, _: &Hot, ending: &Ending| {
        let role = if i.is_multiple_of(2) {
            "admin"
        } else {
            "employee"
        };
        let action = format!("/admin/users/{}/role", ending.user);
        stage.admin_posts(&action, &[("role", role)]).await;
    };
    stage.every_time(Owner::Ada, change_role).await;
}

async fn an_idle_session_expires_on_the_clock_even_when_cached(app: TestApp) {
    let stage = Stage::on(app).await;
    let idle = stage.victim.app().limits.idle;
    let wait = async |_, _: &Hot, _: &Ending| stage.app.clock.advance(idle);
    stage.every_time(Owner::Ada, wait).await;
}

async fn revoking_from_the_command_line_is_seen_by_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let revoke = async |_, _: &Hot, ending: &Ending| {
        let args = ["sessions", "revoke", "--user", ending.email.as_str()];
        let (ok, out) = hr_portal(&stage.app, &args, "");
        assert!(ok, "{out}");
    };
    stage.every_time(Owner::Ada, revoke).await;
}

async fn disabling_from_the_command_line_is_seen_by_the_next_request(app: TestApp) {
    let stage = Stage::on(app).await;
    let disable = async |_, _: &Hot, ending: &Ending| {
        let (ok, out) = hr_portal(&stage.app, &["user", "disable", &ending.email], "");
        assert!(ok, "{out}");
    };
    stage.every_time(Owner::New, disable).await;
}

/// A writer killed between its two bumps leaves the counter odd: the app then reads every
/// session from the database (correct, uncached) until the next write completes the count.
#[rocket::async_test]
async fn a_writer_that_died_between_its_bumps_turns_the_cache_off_until_the_next_write() {
    let stage = Stage::on(spawn_app().await).await;
    let Stage {
        app, ada, victim, ..
    } = &stage;
    let (hot, _) = victim.hot_session(app, ada.id).await;

    // What the dead writer left: the counter odd, and its commit (the session gone) in the file.
    let counter = app
        .db()
        .generation
        .path()
        .expect("SQLite has a counter file");
    let value = u64::from_le_bytes(std::fs::read(counter).unwrap()[..8].try_into().unwrap());
    std::fs::write(counter, (value | 1).to_le_bytes()).unwrap();
    sqlx::query("DELETE FROM sessions WHERE handle = $1")
        .bind(&hot.handle)
        .execute(&app.db().pool)
        .await
        .unwrap();
    assert!(!victim.is_signed_in(&hot).await, "not served from memory");

    // Still correct, and uncached, for sessions that live.
    let other = plant(app, ada.id).await;
    let hits = victim.app().session_cache.hits();
    for _ in 0..3 {
        assert!(victim.is_signed_in(&other).await);
    }
    assert_eq!(victim.app().session_cache.hits(), hits, "the cache is off");

    // The next write anywhere turns it back on.
    let action = format!("/admin/users/{}/sessions/revoke", ada.id);
    stage.admin_posts(&action, &[]).await;
    assert!(!victim.is_signed_in(&other).await);
    victim.hot_session(app, ada.id).await;
}

/// The dashboard is kept whole under the write generation: a sign-in and a sign-out in another
/// browser, on another instance, show in the very next view's session count, every iteration.
async fn a_kept_dashboard_shows_a_sign_in_elsewhere_on_the_next_view(app: TestApp) {
    let ada = app.create_ada().await;
    let own = app.browser_signed_in_as(&ada).await;
    let elsewhere = app.new_browser().await;
    let kept = || own.rocket().state::<App>().unwrap().dashboards.hits();
    let iterations = match app.backend() {
        Backend::Sqlite => 50,
        Backend::Postgres => 10,
    };
    for i in 0..iterations {
        own.opens("/dashboard").await;
        let hits = kept();
        let (_, html) = own.opens("/dashboard").await;
        if app.db().generation.is_on() {
            assert_eq!(kept(), hits + 1, "the second view was kept");
        }
        assert!(html.contains(">1 active session<"), "iteration {i}");
        let signed_in = elsewhere.signs_in_as("ada@example.com", PASSWORD).await;
        assert_eq!(signed_in, Status::SeeOther);
        let (_, html) = own.opens("/dashboard").await;
        assert!(html.contains(">2 active sessions<"), "iteration {i}");
        assert_eq!(elsewhere.signs_out().await, Status::SeeOther);
    }
}

on_every_backend!(
    a_session_signed_out_is_anonymous_on_the_next_request,
    a_session_revoked_by_an_admin_is_anonymous_on_the_next_request,
    a_force_logout_is_seen_by_the_next_request,
    signing_out_other_sessions_ends_them_for_the_next_request,
    a_password_change_ends_the_other_sessions_for_the_next_request,
    disabling_an_account_is_seen_by_the_next_request,
    a_role_change_is_seen_by_the_next_request,
    an_idle_session_expires_on_the_clock_even_when_cached,
    revoking_from_the_command_line_is_seen_by_the_next_request,
    disabling_from_the_command_line_is_seen_by_the_next_request,
    a_kept_dashboard_shows_a_sign_in_elsewhere_on_the_next_view,
);
