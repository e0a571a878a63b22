//! The operator's command line, run as a separate process against the app's data folder.

use std::process::Command;

use rocket::http::Status;

use crate::helpers::*;

/// Runs `hr-portal ARGS` with the test app's settings and `stdin`; returns (success, stdout+stderr).
pub(crate) fn hr_portal(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hr-portal"));
    command
        .args(args)
        .env("ROCKET_DATA_DIR", app.dir.path())
        .env(
            "ROCKET_DATABASE_URL",
            app.database_url.as_deref().unwrap_or(""),
        )
        .env("ROCKET_LOG_LEVEL", "off");
    let output = output_with_stdin(&mut command, stdin);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn user_add_reads_the_password_from_stdin_and_the_account_can_sign_in(app: TestApp) {
    let (ok, out) = hr_portal(
        &app,
        &[
            "user",
            "add",
            "Grace@Example.com",
            "--name",
            "Grace Hopper",
            "--admin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{out}");
    let (ok, list) = hr_portal(&app, &["user", "list"], "");
    assert!(
        ok && list.contains("grace@example.com") && list.contains("admin"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "hashes are never printed");
    assert_eq!(
        app.browser.signs_in_as("grace@example.com", PASSWORD).await,
        Status::SeeOther
    );
    let (_, html) = app.browser.opens("/admin/users").await;
    assert!(html.contains("Grace Hopper"));

    let (ok, out) = hr_portal(
        &app,
        &["user", "add", "weak@example.com", "--name", "Weak"],
        "short\n",
    );
    assert!(!ok && out.contains("at least 12"), "{out}");
    let (ok, out) = hr_portal(
        &app,
        &["user", "add", "grace@example.com", "--name", "Again"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!ok, "{out}");
}

async fn a_force_logout_from_the_command_line_ends_sessions_at_once(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    let (ok, list) = hr_portal(&app, &["sessions", "list", "--user", "ada@example.com"], "");
    assert!(ok && list.contains("ada@example.com"), "{list}");

    let (ok, out) = hr_portal(
        &app,
        &["sessions", "revoke", "--user", "ADA@example.com"],
        "",
    );
    assert!(ok && out.contains("Ended 1 session"), "{out}");
    assert!(!app.browser.is_signed_in().await);
}

async fn disabling_from_the_command_line_ends_sessions_and_blocks_login(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    let (ok, out) = hr_portal(&app, &["user", "disable", "ada@example.com"], "");
    assert!(ok, "{out}");
    assert!(!app.browser.is_signed_in().await);
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::Unauthorized
    );
    let (ok, _) = hr_portal(&app, &["user", "enable", "ada@example.com"], "");
    assert!(ok);
    assert_eq!(
        app.browser.signs_in_as("ada@example.com", PASSWORD).await,
        Status::SeeOther
    );
}

async fn sessions_purge_reports_what_it_removed(app: TestApp) {
    app.create_ada().await;
    app.browser.signs_in_as("ada@example.com", PASSWORD).await;
    sqlx::query("UPDATE sessions SET expires_at = 0")
        .execute(&app.db().pool)
        .await
        .unwrap();
    let (ok, out) = hr_portal(&app, &["sessions", "purge"], "");
    assert!(ok && out.contains("Purged 1 expired session"), "{out}");
}

on_every_backend!(
    user_add_reads_the_password_from_stdin_and_the_account_can_sign_in,
    a_force_logout_from_the_command_line_ends_sessions_at_once,
    disabling_from_the_command_line_ends_sessions_and_blocks_login,
    sessions_purge_reports_what_it_removed,
);
