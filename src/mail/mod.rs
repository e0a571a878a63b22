//! E-mail: what a message says ([`messages`]), the queue it waits in ([`outbox`]) and the
//! transport that finally carries it ([`Transport`]).
//!
//! Nothing here sends during a request. A use case puts a [`Letter`] into the outbox inside its
//! own transaction (so the message exists exactly when the change does); the delivery task drains
//! the outbox with retries and backoff, so a message survives a restart and an SMTP outage. Headers
//! are lettre's typed headers: a name or address can never add a header line.

pub mod messages;
pub mod outbox;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{AppConfig, ConfigError, MailTransportKind};
use crate::secret::Secret;

/// How long one SMTP conversation may take before it counts as a failed attempt.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A message for one person, as a use case writes it. Plain text; the body may hold a reset
/// link, so it is never printed.
#[derive(Clone, Debug)]
pub struct Letter {
    pub to_email: String,
    pub to_name: String,
    pub subject: String,
    pub body: Secret<String>,
}

/// Why a message could not be handed over. The text goes into the outbox for admins: it names
/// the server's answer, never the message.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    /// The server refused for good (a 5xx answer): retrying cannot help.
    #[error("SMTP, refused: {0}")]
    Rejected(String),
    #[error("writing the message file: {0}")]
    File(#[from] std::io::Error),
}

impl SendError {
    /// Whether another attempt could succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Build(_) | SendError::Rejected(_))
    }
}

/// The mail settings, checked once when the application starts (with the transport, in
/// `App::start`): an unusable one stops the launch, or the CLI command, with a clear message.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: Mailbox,
    /// Without a trailing slash.
    pub public_url: String,
}

impl MailSettings {
    /// Reads `mail_from` and `public_url`.
    pub fn from_config(config: &AppConfig) -> Result<MailSettings, ConfigError> {
        let from: Mailbox = config.mail_from.parse().map_err(|_| {
            ConfigError::Invalid(
                "mail_from",
                "expected an address such as `HR <hr@example.com>`".into(),
            )
        })?;
        let public_url = config.public_url.trim().trim_end_matches('/').to_string();
        let well_formed = (public_url.starts_with("http://") || public_url.starts_with("https://"))
            && !public_url.contains(char::is_whitespace)
            && !public_url.contains(['?', '#']);
        if !well_formed {
            return Err(ConfigError::Invalid(
                "public_url",
                "expected http(s)://host[:port][/path], e.g. https://hr.example.com".into(),
            ));
        }
        Ok(MailSettings { from, public_url })
    }

    /// An absolute link for a message: `path` starts with `/`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// Where delivered messages go.
#[derive(Clone)]
pub enum Transport {
    /// One `.eml` file per message in this folder (mode 0700, files 0600: they hold links).
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::File(dir) => write!(f, "Transport::File({})", dir.display()),
            // The URL may carry credentials.
            Transport::Smtp(_) => f.write_str("Transport::Smtp([redacted])"),
        }
    }
}

impl Transport {
    pub fn from_config(config: &AppConfig) -> Result<Transport, ConfigError> {
        match config.mail_transport {
            MailTransportKind::File => Ok(Transport::File(config.outbox_dir())),
            MailTransportKind::Smtp => Transport::smtp(config),
        }
    }

    fn smtp(config: &AppConfig) -> Result<Transport, ConfigError> {
        let Some(url) = &config.smtp_url else {
            return Err(ConfigError::Invalid(
                "smtp_url",
                "required when mail_transport = \"smtp\"".into(),
            ));
        };
        // The parser's message could quote the URL, credentials included: not passed on.
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose().trim()).map_err(|_| {
                ConfigError::Invalid(
                    "smtp_url",
                    "expected smtp://host:port or smtps://host:port (credentials as user:pass@)"
                        .into(),
                )
            })?;
        Ok(Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
    }

    /// Hands one message over: to the SMTP server, or into a file. `id` names the file.
    pub async fn send(
        &self,
        settings: &MailSettings,
        letter: &Letter,
        id: i64,
    ) -> Result<(), SendError> {
        let message = build(settings, letter)?;
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| {
                if e.is_permanent() {
                    SendError::Rejected(e.to_string())
                } else {
                    SendError::Smtp(e.to_string())
                }
            }),
            Transport::File(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                rocket::tokio::task::spawn_blocking(move || write_message_file(&dir, id, &bytes))
                    .await
                    .map_err(|e| SendError::File(std::io::Error::other(e)))?
                    .map_err(SendError::File)
            }
        }
    }
}

/// A header's free text with control characters (CR, LF, tab…) replaced by spaces. Names are
/// already refused with control characters; this is the second wall, and it also keeps lettre
/// from panicking on a display name with a line break (it does, in 0.11).
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The message with typed headers: lettre refuses addresses that are not addresses and encodes
/// names and subjects, and free text loses its control characters first, so nothing a person
/// typed can start a header line of its own.
pub fn build(settings: &MailSettings, letter: &Letter) -> Result<Message, SendError> {
    let address = letter
        .to_email
        .parse()
        .map_err(|_| SendError::Build("the recipient address is not accepted".into()))?;
    let to = Mailbox::new(Some(header_text(&letter.to_name)), address);
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(header_text(&letter.subject))
        .header(ContentType::TEXT_PLAIN)
        .body(letter.body.expose().clone())
        .map_err(|e| SendError::Build(e.to_string()))
}

/// Writes `<dir>/<id>.eml` whole (temporary file, then rename), readable by the owner only.
fn write_message_file(dir: &Path, id: i64, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    crate::private_files::private_dir(dir)?;
    let name = format!("message-{id:08}.eml");
    let temporary = dir.join(format!(".{name}.tmp"));
    let mut options = crate::private_files::private_file_options();
    options.write(true).create(true).truncate(true);
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            from: "HR <hr@example.com>".parse().unwrap(),
            public_url: "http://127.0.0.1:8000".into(),
        }
    }

    fn letter(name: &str, email: &str) -> Letter {
        Letter {
            to_email: email.into(),
            to_name: name.into(),
            subject: "Subject\r\nBcc: eve@example.com".into(),
            body: String::from("Hello").into(),
        }
    }

    #[test]
    fn names_and_subjects_cannot_inject_headers() {
        let message = build(
            &settings(),
            &letter("Dana\r\nBcc: eve@example.com", "dana@example.com"),
        )
        .unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        let header_lines: Vec<&str> = text.split("\r\n\r\n").next().unwrap().lines().collect();
        assert!(
            !header_lines
                .iter()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{text}"
        );
        assert_eq!(message.envelope().to().len(), 1);
    }

    #[test]
    fn an_address_with_a_line_break_is_refused() {
        assert!(build(
            &settings(),
            &letter("Dana", "dana@example.com\r\nBcc: eve@example.com")
        )
        .is_err());
    }
}
