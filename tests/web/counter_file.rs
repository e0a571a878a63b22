//! The session cache's write-generation counter belongs to the database file, not to a spelling
//! of its path. The command line runs as a separate process that opens the database through a
//! symlink or another spelling, or after the counter file was deleted, renamed, recreated or
//! replaced through a hard link: every time, the revoked cookie is anonymous on the very next
//! request (the cache is exact, or off — never stale).

use std::path::{Path, PathBuf};
use std::process::Command;

use hr_portal::app::App;
use hr_portal::ids::UserId;
use hr_portal::users::Role;
use rocket::http::{Cookie, Status};
use rocket::local::asynchronous::Client;

use crate::helpers::*;

const PAGE: &str = "/account/password";
/// Revocations per path spelling (each one a process of its own).
const LOOPS: usize = 15;

/// The SQLite file the test app uses.
fn database(app: &TestApp) -> PathBuf {
    app.dir.path().join("hr-portal.db")
}

fn counter(app: &TestApp) -> PathBuf {
    app.dir.path().join("hr-portal.db-generation")
}

/// `hr-portal ARGS` as a separate process, opening the database as `url` from `cwd`.
fn cli(app: &TestApp, url: &str, cwd: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_hr-portal"))
        .args(args)
        .current_dir(cwd)
        .env("ROCKET_DATA_DIR", app.dir.path())
        .env("ROCKET_DATABASE_URL", url)
        .env("ROCKET_LOG_LEVEL", "off")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn revoke_through(app: &TestApp, url: &str, cwd: &Path) {
    cli(
        app,
        url,
        cwd,
        &["sessions", "revoke", "--user", "ada@example.com"],
    );
}

async fn plant(app: &TestApp, user: UserId) -> String {
    app.plant_live_session(user).await.0
}

async fn signed_in(client: &Client, token: &str) -> bool {
    let response = client
        .get(PAGE)
        .private_cookie(Cookie::new("hr_session", token.to_string()))
        .dispatch()
        .await;
    match response.status() {
        Status::Ok => true,
        Status::SeeOther => false,
        other => panic!("{PAGE} answered {other}"),
    }
}

fn hits(client: &Client) -> u64 {
    client
        .rocket()
        .state::<App>()
        .expect("app managed")
        .session_cache
        .hits()
}

/// A session planted for Ada and opened twice on `client`; whether the second request was
/// answered from memory.
async fn hot(app: &TestApp, client: &Client, ada: UserId) -> (String, bool) {
    let token = plant(app, ada).await;
    assert!(signed_in(client, &token).await);
    let before = hits(client);
    assert!(signed_in(client, &token).await);
    (token, hits(client) > before)
}

async fn stage() -> (TestApp, UserId, Client) {
    let app = spawn_on(Backend::Sqlite).await.expect("SQLite always runs");
    let ada = app
        .create_user("ada@example.com", "Ada", Role::Employee)
        .await;
    let victim = app.new_browser().await;
    (app, ada.id, victim)
}

#[rocket::async_test]
async fn a_revoke_through_a_symlink_or_another_spelling_of_the_path_is_seen_at_once() {
    let (app, ada, victim) = stage().await;
    let root = app.dir.path();
    let alias = root.join("alias");
    std::fs::create_dir(&alias).unwrap();
    std::os::unix::fs::symlink(database(&app), alias.join("hr.db")).unwrap();
    let spellings = [
        // The red team's reproduction: alias/hr.db → data/hr-portal.db.
        (format!("sqlite://{}", alias.join("hr.db").display()), root),
        (format!("sqlite://{}/./hr-portal.db", root.display()), root),
        (
            format!("sqlite://{}/alias/../hr-portal.db", root.display()),
            root,
        ),
        ("sqlite://hr-portal.db".to_string(), root),
        ("sqlite://./alias/hr.db".to_string(), root),
    ];
    for (url, cwd) in &spellings {
        for i in 0..LOOPS {
            let (token, cached) = hot(&app, &victim, ada).await;
            assert!(cached, "{url}, iteration {i}: the cache is on");
            revoke_through(&app, url, cwd);
            assert!(!signed_in(&victim, &token).await, "{url}, iteration {i}");
        }
    }
    // No second counter appeared beside a spelling.
    assert!(!alias.join("hr.db-generation").exists());
}

/// What can happen to the counter file while the server runs.
#[derive(Debug, Clone, Copy)]
enum Mishap {
    Deleted,
    Renamed,
    /// Deleted and created again, empty.
    Recreated,
    /// A hard link kept, the file replaced by a copy (same bytes, same id, another inode).
    HardLinkedThenReplaced,
}

impl Mishap {
    fn happen(self, counter: &Path) {
        let aside = counter.with_extension("aside");
        match self {
            Mishap::Deleted => std::fs::remove_file(counter).unwrap(),
            Mishap::Renamed => std::fs::rename(counter, &aside).unwrap(),
            Mishap::Recreated => {
                std::fs::remove_file(counter).unwrap();
                std::fs::write(counter, b"").unwrap();
            }
            Mishap::HardLinkedThenReplaced => {
                std::fs::hard_link(counter, &aside).unwrap();
                let copy = counter.with_extension("copy");
                std::fs::copy(counter, &copy).unwrap();
                std::fs::rename(&copy, counter).unwrap();
            }
        }
    }
}

async fn after(mishap: Mishap) {
    let (app, ada, victim) = stage().await;
    let (token, cached) = hot(&app, &victim, ada).await;
    assert!(cached, "{mishap:?}: the cache is on");
    mishap.happen(&counter(&app));
    let url = format!("sqlite://{}", database(&app).display());
    revoke_through(&app, &url, app.dir.path());
    assert!(!signed_in(&victim, &token).await, "{mishap:?}: never stale");
    // The cache stays off in that process, and every later revoke is seen at once.
    for i in 0..3 {
        let (token, cached) = hot(&app, &victim, ada).await;
        assert!(!cached, "{mishap:?}, iteration {i}: the cache is off");
        revoke_through(&app, &url, app.dir.path());
        assert!(
            !signed_in(&victim, &token).await,
            "{mishap:?}, iteration {i}"
        );
    }
    // A process started since uses the counter the path names, and sees the writes of the
    // process that lost its counter (the administrator's browser, on the first instance).
    let later = app.new_browser().await;
    let root = app.sign_in_as_admin().await;
    let (_, html) = app.browser.opens("/admin/users").await;
    let csrf = csrf_token_in(&html);
    for i in 0..3 {
        let (token, cached) = hot(&app, &later, ada).await;
        assert!(
            cached,
            "{mishap:?}, iteration {i}: a new process caches again"
        );
        let action = format!("/admin/users/{ada}/sessions/revoke");
        let response = app
            .browser
            .posts(&action, &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(response.status(), Status::SeeOther);
        drop(response);
        assert!(
            !signed_in(&later, &token).await,
            "{mishap:?}, iteration {i}"
        );
    }
    let _ = root;
}

#[rocket::async_test]
async fn a_deleted_counter_turns_the_cache_off_never_stale() {
    after(Mishap::Deleted).await;
}

#[rocket::async_test]
async fn a_renamed_counter_turns_the_cache_off_never_stale() {
    after(Mishap::Renamed).await;
}

#[rocket::async_test]
async fn a_recreated_counter_turns_the_cache_off_never_stale() {
    after(Mishap::Recreated).await;
}

#[rocket::async_test]
async fn a_counter_replaced_behind_a_hard_link_turns_the_cache_off_never_stale() {
    after(Mishap::HardLinkedThenReplaced).await;
}

/// Renamed away, a write by another process at the path (which makes a counter of its own there),
/// then renamed back over it: the process's open counter is the same file at the same path with
/// the same value, but it missed a write — its inode's change time gives it away.
#[rocket::async_test]
async fn a_counter_renamed_away_and_back_around_a_write_turns_the_cache_off_never_stale() {
    let (app, ada, victim) = stage().await;
    let (token, cached) = hot(&app, &victim, ada).await;
    assert!(cached, "the cache is on");
    let counter = counter(&app);
    let aside = counter.with_extension("aside");
    std::fs::rename(&counter, &aside).unwrap();
    let url = format!("sqlite://{}", database(&app).display());
    revoke_through(&app, &url, app.dir.path());
    std::fs::rename(&aside, &counter).unwrap();
    assert!(!signed_in(&victim, &token).await, "never stale");
    let (token, cached) = hot(&app, &victim, ada).await;
    assert!(!cached, "the cache is off in this process");
    revoke_through(&app, &url, app.dir.path());
    assert!(!signed_in(&victim, &token).await);
}

/// A counter stamped with another database's id is not trusted: the database's own id wins.
#[rocket::async_test]
async fn a_counter_of_another_database_is_restamped_and_never_trusted() {
    let (app, ada, victim) = stage().await;
    let (token, cached) = hot(&app, &victim, ada).await;
    assert!(cached);
    let path = counter(&app);
    let mut bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 24, "the value and the database's id");
    bytes[8..].copy_from_slice(&[0xAB; 16]);
    std::fs::write(&path, &bytes).unwrap();
    sqlx::query("DELETE FROM sessions")
        .execute(&app.db().pool)
        .await
        .unwrap();
    assert!(!signed_in(&victim, &token).await, "a foreign id: off");
    // The next write stamps the database's id again, and caches work again.
    let url = format!("sqlite://{}", database(&app).display());
    revoke_through(&app, &url, app.dir.path());
    let (_, cached) = hot(&app, &victim, ada).await;
    assert!(cached, "stamped again by the next writer");
}
