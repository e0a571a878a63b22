//! Reading the mail the app sends: a real SMTP server on loopback (aiosmtpd, storing what it
//! receives in a Maildir) and the file transport's `<data_dir>/outbox/*.eml`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::helpers::{python_can_import, TestApp};

/// A port nobody listens on (yet).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A real SMTP server (aiosmtpd from PyPI, which .ci/run installs) writing each message it
/// accepts into a Maildir. Stopped when dropped.
pub struct SmtpServer {
    child: Child,
    maildir: TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a real SMTP server can be started here (aiosmtpd); says why not once. Under `CI=true`
/// its absence is a failure, never a skip.
pub fn smtp_server_available() -> bool {
    python_can_import("aiosmtpd", "the SMTP tests (a real SMTP server)")
}

impl SmtpServer {
    /// Starts the server on `port`; `None` (after saying why) when aiosmtpd is not installed —
    /// under `CI=true` that is a failure instead.
    pub fn start(port: u16) -> Option<SmtpServer> {
        if !smtp_server_available() {
            return None;
        }
        let maildir = tempfile::tempdir().expect("maildir");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SmtpServer { child, maildir })
    }

    /// Every message received so far, as raw RFC 5322 text (line ends as `\n`), besides the
    /// new-sign-in notices that any first sign-in of a test browser causes (see
    /// [`new_sign_in_notices`]).
    pub fn messages(&self) -> Vec<String> {
        without_sign_in_notices(read_all(&self.maildir.path().join("mail").join("new")))
    }

    /// Waits (up to 20 s) until `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        wait_until(|| Some(self.messages()).filter(|m| m.len() >= count)).await
    }
}

fn read_all(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    // In arrival order: neither maildir names (seconds, then unpadded microseconds) nor
    // `message-<id>.eml` sort that way as text.
    files.sort_by_key(|p| {
        let written = std::fs::metadata(p).and_then(|m| m.modified()).ok();
        (written, p.clone())
    });
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| text.replace("\r\n", "\n"))
        .collect()
}

async fn wait_until<T>(mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "the mail did not arrive in 20 s");
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The subject of the message that announces a sign-in from a browser new to the account.
pub const NEW_SIGN_IN_SUBJECT: &str = "New sign-in to your HR Portal account";

fn is_sign_in_notice(message: &str) -> bool {
    header(message, "Subject") == Some(NEW_SIGN_IN_SUBJECT)
}

fn without_sign_in_notices(messages: Vec<String>) -> Vec<String> {
    messages
        .into_iter()
        .filter(|m| !is_sign_in_notice(m))
        .collect()
}

/// What the default file transport wrote (`<data_dir>/outbox/*.eml`), besides new-sign-in notices.
pub fn outbox_files(app: &TestApp) -> Vec<String> {
    without_sign_in_notices(read_all(&app.dir.path().join("outbox")))
}

/// The new-sign-in notices the file transport wrote.
pub fn new_sign_in_notices(app: &TestApp) -> Vec<String> {
    read_all(&app.dir.path().join("outbox"))
        .into_iter()
        .filter(|m| is_sign_in_notice(m))
        .collect()
}

/// Waits (up to 20 s) until the file transport wrote `count` messages; returns them all.
pub async fn wait_for_outbox(app: &TestApp, count: usize) -> Vec<String> {
    wait_until(|| Some(outbox_files(app)).filter(|m| m.len() >= count)).await
}

/// A message's body with quoted-printable soft breaks undone (long lines may be folded).
fn unfolded(message: &str) -> String {
    message.replace("=\n", "").replace("=3D", "=")
}

/// The path of the password link in a message (`/password/reset/<token>`).
pub fn link_in(message: &str) -> String {
    let text = unfolded(message);
    let start = text
        .find("/password/reset/")
        .unwrap_or_else(|| panic!("no password link in:\n{message}"));
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_'))
        .collect()
}

/// The value of a header of a raw message.
pub fn header<'m>(message: &'m str, name: &str) -> Option<&'m str> {
    let head = message.split("\n\n").next().unwrap_or(message);
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
