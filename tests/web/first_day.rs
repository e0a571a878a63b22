//! A newcomer's first day: a database URL written as the README shows it, and the ordinary
//! mistakes everyone makes once. Every test runs the real binary in a fresh temporary folder,
//! with `RUST_BACKTRACE=1` so that a backtrace would show if one were printed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{output_with_stdin, PASSWORD};

/// `hr-portal` with its data folder inside `dir` and the given database URL. It runs in `dir`,
/// so nothing it does can touch the work tree.
fn hr_portal(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hr-portal"));
    command
        .current_dir(dir)
        .env("ROCKET_DATA_DIR", dir.join("data"))
        .env("ROCKET_DATABASE_URL", database_url)
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("RUST_BACKTRACE", "1");
    command
}

/// Runs `hr-portal ARGS` to completion with `stdin`.
fn run(dir: &Path, database_url: &str, args: &[&str], stdin: &str) -> Output {
    output_with_stdin(hr_portal(dir, database_url).args(args), stdin)
}

/// The SQLite file of the README's form, `sqlite:///abs/path`, in a folder that does not exist.
fn fresh_sqlite_url(dir: &Path) -> (String, std::path::PathBuf) {
    let file = dir.join("new").join("hr.db");
    assert!(!file.parent().unwrap().exists());
    (format!("sqlite://{}", file.display()), file)
}

fn add_user(dir: &Path, url: &str, email: &str, password: &str) -> Output {
    run(
        dir,
        url,
        &["user", "add", email, "--name", "Ada Lovelace"],
        &format!("{password}\n"),
    )
}

/// A person's mistake: exit code 1 and exactly one line on stderr, saying `expected`, no backtrace.
fn assert_one_line_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "exactly one line: {stderr}");
    assert!(
        !stderr.to_lowercase().contains("backtrace"),
        "no backtrace: {stderr}"
    );
    assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
}

/// A started server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The status line of `GET path`, or None while nothing answers.
fn http_get_status(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_string)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

#[test]
fn a_sqlite_url_as_the_readme_writes_it_creates_its_folder_and_file_for_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (url, file) = fresh_sqlite_url(dir.path());

    let added = add_user(dir.path(), &url, "ada@example.com", PASSWORD);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(file.is_file());
    let listed = run(dir.path(), &url, &["user", "list"], "");
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).contains("ada@example.com"));
}

#[test]
fn a_sqlite_url_as_the_readme_writes_it_creates_its_folder_and_file_for_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (url, file) = fresh_sqlite_url(dir.path());
    let port = free_port();
    let mut server = Server(
        hr_portal(dir.path(), &url)
            .env("ROCKET_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs"),
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            let mut stderr = String::new();
            let _ = server.0.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("the server stopped ({exit}): {stderr}");
        }
        if let Some(status) = http_get_status(port, "/healthz") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server never answered");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.contains(" 200 "), "{status}");
    assert!(file.is_file());
}

#[test]
fn a_sqlite_url_keeps_its_own_query_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    // A query without `mode` still creates the file (and its folder).
    let file = dir.path().join("with-query").join("hr.db");
    let url = format!("sqlite://{}?cache=shared", file.display());
    let listed = run(dir.path(), &url, &["user", "list"], "");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(file.is_file());

    // A mode the URL names is obeyed: read-only never creates a missing file.
    let file = dir.path().join("read-only").join("hr.db");
    let url = format!("sqlite://{}?mode=ro", file.display());
    let listed = run(dir.path(), &url, &["user", "list"], "");
    assert_one_line_error(&listed, "cannot connect to the database");
    assert!(!file.exists());
}

#[test]
fn a_short_password_is_one_line_on_stderr_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_sqlite_url(dir.path());
    let output = add_user(dir.path(), &url, "ada@example.com", "short");
    assert_one_line_error(&output, "at least 12 characters");
}

#[test]
fn a_taken_email_address_is_one_line_on_stderr_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_sqlite_url(dir.path());
    assert!(add_user(dir.path(), &url, "ada@example.com", PASSWORD)
        .status
        .success());
    let output = add_user(dir.path(), &url, "ADA@example.com", PASSWORD);
    assert_one_line_error(
        &output,
        "an account with that e-mail address already exists",
    );
}

#[test]
fn an_unknown_email_address_is_one_line_on_stderr_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_sqlite_url(dir.path());
    let output = run(
        dir.path(),
        &url,
        &["user", "disable", "nobody@example.com"],
        "",
    );
    assert_one_line_error(&output, "no account with e-mail nobody@example.com");
}

#[test]
fn an_unusable_mail_setting_is_one_line_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_sqlite_url(dir.path());
    for (name, value, expected) in [
        (
            "ROCKET_SMTP_URL",
            "mail.example.com:25",
            "setting `smtp_url`",
        ),
        (
            "ROCKET_PUBLIC_URL",
            "hr.example.com",
            "setting `public_url`",
        ),
        ("ROCKET_MAIL_FROM", "not an address", "setting `mail_from`"),
    ] {
        let output = output_with_stdin(
            hr_portal(dir.path(), &url)
                .env("ROCKET_MAIL_TRANSPORT", "smtp")
                .env("ROCKET_SMTP_URL", "smtp://127.0.0.1:2525")
                .env(name, value)
                .args(["user", "list"]),
            "",
        );
        assert_one_line_error(&output, expected);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains(value) || name != "ROCKET_SMTP_URL",
            "the URL is not echoed: {stderr}"
        );
    }
}

#[test]
fn a_port_in_use_is_one_line_that_names_rocket_port_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_sqlite_url(dir.path());
    let occupied = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = occupied.local_addr().unwrap().port();
    let mut child = hr_portal(dir.path(), &url)
        .env("ROCKET_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server kept running on a taken port");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert_one_line_error(&output, "Address already in use");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ROCKET_PORT"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    drop(occupied);
}

#[test]
fn a_usage_error_still_exits_with_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_sqlite_url(dir.path());
    let output = run(dir.path(), &url, &["user", "add"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&output.stderr)
        .to_lowercase()
        .contains("backtrace"));
}
