//! `hr-portal backup` and `hr-portal restore`, run as the operator runs them (the real binary)
//! against a data folder a server may be using, and the scheduled backups of a running server.
//! SQLite only: on PostgreSQL both commands point to pg_dump / pg_restore, which the last test
//! checks.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hr_portal::cache::FileGeneration;
use hr_portal::users::Role;
use rocket::http::Status;
use sqlx::Connection;

use crate::helpers::*;

/// `hr-portal ARGS` with `data` as its data folder (and the SQLite file in it).
fn hr_portal_in(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hr-portal"))
        .args(args)
        .env("ROCKET_DATA_DIR", data)
        .env("ROCKET_DATABASE_URL", "")
        .env("ROCKET_LOG_LEVEL", "off")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A person's mistake: exit code 1 and one line on stderr containing `expected`.
fn assert_refused(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", text(output));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
}

fn database_in(data: &Path) -> PathBuf {
    data.join("hr-portal.db")
}

/// The first column of the first row `sql` returns on `file`, read by a connection of the
/// test's own.
async fn read_from(file: &Path, sql: &'static str) -> String {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let value: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    value
}

/// `PRAGMA integrity_check` of `file`.
async fn integrity_of(file: &Path) -> String {
    read_from(file, "PRAGMA integrity_check").await
}

/// Runs one SQL statement on `file` (to build the bad copies a restore must refuse).
async fn execute_on(file: &Path, sql: &'static str) {
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// The write generation of the database in `data`, as every process reads it.
async fn generation_of(data: &Path) -> Option<u64> {
    let file = database_in(data);
    let id = read_from(&file, "SELECT id FROM database_identity").await;
    FileGeneration::beside(&file, &id).unwrap().read()
}

#[rocket::async_test]
async fn a_backup_taken_while_another_process_signs_in_and_writes_restores_into_a_fresh_folder_where_the_same_accounts_sign_in(
) {
    let app = spawn_app().await;
    app.create_ada().await;
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("copy.db");

    let data = app.dir.path().to_path_buf();
    let target = file.clone();
    let backup = rocket::tokio::task::spawn_blocking(move || {
        hr_portal_in(&data, &["backup", target.to_str().unwrap()])
    });
    // This process keeps signing in and creating accounts until the backup is done.
    let mut written = 0;
    loop {
        let browser = app.new_browser().await;
        assert_eq!(
            browser.signs_in_as("ada@example.com", PASSWORD).await,
            Status::SeeOther
        );
        app.create_user(
            &format!("writer{written}@example.com"),
            "Writer",
            Role::Employee,
        )
        .await;
        written += 1;
        if backup.is_finished() {
            break;
        }
    }
    let backed_up = backup.await.unwrap();
    assert!(backed_up.status.success(), "{}", text(&backed_up));
    assert!(
        text(&backed_up).contains("backed up") && text(&backed_up).contains("secret.key"),
        "says what it copied and where the key is: {}",
        text(&backed_up)
    );
    assert!(written >= 1);
    assert_eq!(integrity_of(&file).await, "ok");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the copy is the owner's only");

    let fresh = tempfile::tempdir().unwrap();
    let restored = hr_portal_in(fresh.path(), &["restore", file.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored));
    let settings = [("data_dir", fresh.path().to_str().unwrap().into())];
    let again = spawn_app_with(Backend::Sqlite, &settings).await.unwrap();
    assert_eq!(
        again.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther,
        "the same account signs in on the restored database"
    );
}

#[rocket::async_test]
async fn restore_refuses_while_a_server_runs_on_the_database() {
    let app = spawn_app().await;
    app.create_ada().await;
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("copy.db");
    let backed_up = hr_portal_in(app.dir.path(), &["backup", file.to_str().unwrap()]);
    assert!(backed_up.status.success(), "{}", text(&backed_up));

    let refused = hr_portal_in(app.dir.path(), &["restore", file.to_str().unwrap()]);
    assert_refused(&refused, "a server is running on");
    let aside = std::fs::read_dir(app.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .contains("before-restore")
        });
    assert!(!aside, "nothing was set aside");
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther,
        "the running server is undisturbed"
    );
}

#[rocket::async_test]
async fn restore_refuses_a_foreign_a_damaged_and_a_newer_file_before_touching_anything() {
    let data = tempfile::tempdir().unwrap();
    let added = output_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_hr-portal"))
            .args(["user", "add", "ada@example.com", "--name", "Ada"])
            .env("ROCKET_DATA_DIR", data.path())
            .env("ROCKET_DATABASE_URL", "")
            .env("ROCKET_LOG_LEVEL", "off"),
        &format!("{PASSWORD}\n"),
    );
    assert!(added.status.success(), "{}", text(&added));
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("good.db");
    let backed_up = hr_portal_in(data.path(), &["backup", good.to_str().unwrap()]);
    assert!(backed_up.status.success(), "{}", text(&backed_up));

    let foreign = files.path().join("notes.txt");
    std::fs::write(&foreign, "not a database at all\n".repeat(200)).unwrap();
    let other_app = files.path().join("other.db");
    execute_on(&other_app, "CREATE TABLE things (id INTEGER PRIMARY KEY)").await;
    let damaged = files.path().join("damaged.db");
    let mut bytes = std::fs::read(&good).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0x58);
    std::fs::write(&damaged, bytes).unwrap();
    let newer = files.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    execute_on(
        &newer,
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, \
         execution_time) VALUES (9999, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .await;

    let live = database_in(data.path());
    let before = std::fs::read(&live).unwrap();
    for (file, expected) in [
        (&foreign, "is not an hr-portal database"),
        (&other_app, "is not an hr-portal database"),
        (&damaged, "is damaged"),
        (&newer, "comes from a newer hr-portal"),
        (&files.path().join("missing.db"), "no such file"),
    ] {
        let refused = hr_portal_in(data.path(), &["restore", file.to_str().unwrap()]);
        assert_refused(&refused, expected);
        assert_eq!(
            std::fs::read(&live).unwrap(),
            before,
            "{expected}: untouched"
        );
        let listed: Vec<String> = std::fs::read_dir(data.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !listed
                .iter()
                .any(|name| name.contains("before-restore") || name.contains(".restoring-")),
            "{expected}: nothing set aside or left behind: {listed:?}"
        );
    }

    // The good copy goes in; the replaced database is kept, and the generation moves on.
    let generation = generation_of(data.path()).await;
    let restored = hr_portal_in(data.path(), &["restore", good.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(
        text(&restored).contains("restored 1 accounts"),
        "{}",
        text(&restored)
    );
    let kept: Vec<PathBuf> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.to_string_lossy()
                .contains("hr-portal.db.before-restore-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(integrity_of(&kept[0]).await, "ok");
    assert_ne!(generation_of(data.path()).await, generation);
}

#[rocket::async_test]
async fn backup_refuses_a_missing_folder_an_existing_file_and_a_postgres_database() {
    let app = spawn_app().await;
    let files = tempfile::tempdir().unwrap();
    let missing_folder = files.path().join("no-such-folder").join("copy.db");
    let refused = hr_portal_in(
        app.dir.path(),
        &["backup", missing_folder.to_str().unwrap()],
    );
    assert_refused(&refused, "does not exist");

    let existing = files.path().join("copy.db");
    std::fs::write(&existing, "keep me").unwrap();
    let refused = hr_portal_in(app.dir.path(), &["backup", existing.to_str().unwrap()]);
    assert_refused(&refused, "add --force");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let forced = hr_portal_in(
        app.dir.path(),
        &["backup", "--force", existing.to_str().unwrap()],
    );
    assert!(forced.status.success(), "{}", text(&forced));
    assert_eq!(integrity_of(&existing).await, "ok");

    for (command, tool) in [("backup", "pg_dump"), ("restore", "pg_restore")] {
        let refused = Command::new(env!("CARGO_BIN_EXE_hr-portal"))
            .args([command, existing.to_str().unwrap()])
            .env("ROCKET_DATA_DIR", app.dir.path())
            .env(
                "ROCKET_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/hr_portal",
            )
            .env("ROCKET_LOG_LEVEL", "off")
            .output()
            .unwrap();
        assert_refused(&refused, tool);
    }
}

#[rocket::async_test]
async fn scheduled_backups_run_every_backup_every_seconds_and_keep_only_backup_keep() {
    let folder = tempfile::tempdir().unwrap();
    let unrelated = folder.path().join("hr-portal-keep-me.db");
    std::fs::write(&unrelated, "not a scheduled backup").unwrap();
    let settings = [
        ("backup_every", 1.into()),
        ("backup_keep", 2.into()),
        ("backup_dir", folder.path().to_str().unwrap().into()),
    ];
    let app = spawn_app_with(Backend::Sqlite, &settings).await.unwrap();
    app.create_ada().await;

    let scheduled = |folder: &Path| -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(folder)
            .unwrap()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                name.ends_with("Z.db")
            })
            .collect();
        names.sort();
        names
    };
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 4 && Instant::now() < deadline {
        let now = scheduled(folder.path());
        assert!(now.len() <= 2, "at most backup_keep are kept: {now:?}");
        seen.extend(now);
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(seen.len() >= 4, "a backup every second: {seen:?}");
    let kept = scheduled(folder.path());
    assert!(!kept.is_empty() && kept.len() <= 2, "{kept:?}");
    // The newest one: the older may be pruned by the next run while it is being read.
    assert_eq!(integrity_of(kept.last().unwrap()).await, "ok");
    assert_eq!(
        std::fs::read_to_string(&unrelated).unwrap(),
        "not a scheduled backup",
        "files not named like a scheduled backup are never deleted"
    );
}
