//! The append-only trail of what happened: sign-ins, sessions ended, accounts and employees
//! changed. Events are written only by the application layer, inside the transaction of the change
//! they describe ([`record`] takes that transaction's connection), so a change and its event
//! commit together or not at all. There is no code path that edits or deletes an event.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use crate::ids::UserId;
use crate::text::like_pattern;
use crate::users::MAX_EMAIL_LEN;

/// Defines [`EventKind`] from one table: variant, stored name, label.
macro_rules! event_kinds {
    ($($variant:ident => $stored:literal, $label:literal;)*) => {
        /// Every kind of event the trail records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $stored,)*
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $label,)*
                }
            }
        }
    };
}

event_kinds! {
    LoginSucceeded => "login_succeeded", "Sign-in succeeded";
    LoginFailed => "login_failed", "Sign-in failed";
    LoginThrottled => "login_throttled", "Sign-in throttled";
    Logout => "logout", "Signed out";
    SessionRevoked => "session_revoked", "Session revoked";
    OtherSessionsRevoked => "other_sessions_revoked", "Other sessions revoked";
    UserForceLoggedOut => "user_force_logged_out", "Signed out everywhere";
    UserCreated => "user_created", "User created";
    UserDisabled => "user_disabled", "User disabled";
    UserEnabled => "user_enabled", "User enabled";
    RoleChanged => "role_changed", "Role changed";
    PasswordChanged => "password_changed", "Password changed";
    SetupCompleted => "setup_completed", "First-run set-up completed";
    EmployeeCreated => "employee_created", "Employee added";
    EmployeeUpdated => "employee_updated", "Employee changed";
    DepartmentCreated => "department_created", "Department added";
    PasswordResetRequested => "password_reset_requested", "Password reset requested";
    PasswordResetLinkCreated => "password_reset_link_created", "Reset link created";
    PasswordReset => "password_reset", "Password reset with a link";
    UserInvited => "user_invited", "User invited";
    InvitationAccepted => "invitation_accepted", "Invitation accepted";
    PasswordSet => "password_set", "Password set by an administrator";
    AccountUnlocked => "account_unlocked", "Sign-in lock cleared";
    MailSent => "mail_sent", "E-mail sent";
    MailFailed => "mail_failed", "E-mail given up";
    TwoFactorChallenged => "two_factor_challenged", "Password accepted, code asked";
    TwoFactorFailed => "two_factor_failed", "Second step failed";
    TwoFactorEnabled => "two_factor_enabled", "Two-factor turned on";
    TwoFactorDisabled => "two_factor_disabled", "Two-factor turned off";
    TwoFactorReset => "two_factor_reset", "Two-factor reset by an administrator";
    RecoveryCodesRenewed => "recovery_codes_renewed", "New recovery codes";
    DeviceForgotten => "device_forgotten", "Trusted device removed";
    PasskeyAdded => "passkey_added", "Passkey added";
    PasskeyRenamed => "passkey_renamed", "Passkey renamed";
    PasskeyRemoved => "passkey_removed", "Passkey removed";
    PasskeyRefused => "passkey_refused", "Passkey registration refused";
    PasskeyCloneSuspected => "passkey_clone_suspected", "Passkey refused: it may have been copied";
}

impl EventKind {
    pub fn parse(value: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == value)
    }
}

/// Where a change came from: a browser (address and user agent) or the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub command_line: bool,
}

impl Origin {
    pub fn command_line() -> Origin {
        Origin {
            command_line: true,
            ..Origin::default()
        }
    }
}

/// One event about to be written.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub actor_user_id: Option<UserId>,
    pub subject_user_id: Option<UserId>,
    pub email: Option<String>,
    pub session_handle: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(kind: EventKind, origin: &Origin) -> Event {
        Event {
            kind,
            actor_user_id: None,
            subject_user_id: None,
            email: None,
            session_handle: None,
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            detail: origin.command_line.then(|| "command line".to_string()),
        }
    }

    pub fn actor(mut self, user_id: UserId) -> Self {
        self.actor_user_id = Some(user_id);
        self
    }

    pub fn subject(mut self, user_id: UserId) -> Self {
        self.subject_user_id = Some(user_id);
        self
    }

    /// The address as typed (failed logins), cut to a sane length. Something without an `@` is
    /// not kept: people do type their password into the e-mail field, and it must not land here.
    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(if email.contains('@') {
            email
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_EMAIL_LEN)
                .collect()
        } else {
            format!(
                "(not an e-mail address, {} characters)",
                email.chars().count()
            )
        });
        self
    }

    pub fn session(mut self, handle: &str) -> Self {
        self.session_handle = Some(handle.to_string());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.detail = Some(match self.detail.take() {
            Some(existing) => format!("{existing}; {detail}"),
            None => detail,
        });
        self
    }
}

/// Writes `event` at time `at` on `conn` — the transaction of the change it records.
pub async fn record(conn: &mut AnyConnection, at: i64, event: Event) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (at, kind, actor_user_id, subject_user_id, email, session_handle, \
         ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at)
    .bind(event.kind.as_str())
    .bind(event.actor_user_id)
    .bind(event.subject_user_id)
    .bind(event.email)
    .bind(event.session_handle)
    .bind(event.ip)
    .bind(event.user_agent)
    .bind(event.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A stored event with the names of the people involved, for the audit page.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct EventRecord {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub actor_user_id: Option<UserId>,
    pub actor_email: Option<String>,
    pub subject_user_id: Option<UserId>,
    pub subject_email: Option<String>,
    pub email: Option<String>,
    pub session_handle: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// Filters for the audit page; empty means "any".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Substring of the subject's, actor's or typed e-mail.
    pub user: String,
    pub kind: Option<EventKind>,
}

/// The columns of an [`EventRecord`], over `audit_events e` with the actor `a` and subject `s`
/// joined.
macro_rules! event_record_columns {
    () => {
        concat!(
            "SELECT e.id, e.at, e.kind, e.actor_user_id, a.email AS actor_email, \
             e.subject_user_id, s.email AS subject_email, e.email, e.session_handle, e.ip, \
             e.user_agent, e.detail ",
            events_with_people!()
        )
    };
}

/// The events with their actor `a` and subject `s` joined.
macro_rules! events_with_people {
    () => {
        "FROM audit_events e LEFT JOIN users a ON a.id = e.actor_user_id \
         LEFT JOIN users s ON s.id = e.subject_user_id "
    };
}

/// The joins and the filter both audit queries share ($1 kind or '', $2 user term or '', $3 its
/// LIKE pattern).
macro_rules! filtered_events {
    () => {
        "WHERE ($1 = '' OR e.kind = $1) AND ($2 = '' OR s.email LIKE $3 ESCAPE '\\' \
         OR a.email LIKE $3 ESCAPE '\\' OR LOWER(e.email) LIKE $3 ESCAPE '\\')"
    };
}

impl EventRecord {
    /// One page of events, newest first, and how many match.
    pub async fn page(
        conn: &mut AnyConnection,
        filter: &EventFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EventRecord>, i64), sqlx::Error> {
        let pattern = like_pattern(&filter.user);
        let kind = filter.kind.map_or("", EventKind::as_str);
        let rows: Vec<EventRecord> = sqlx::query_as(concat!(
            event_record_columns!(),
            filtered_events!(),
            " ORDER BY e.at DESC, e.id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(kind)
        .bind(&filter.user)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) ",
            events_with_people!(),
            filtered_events!()
        ))
        .bind(kind)
        .bind(&filter.user)
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await?;
        Ok((rows, total))
    }

    /// One page of the events about one account (its subject), whoever caused them, newest
    /// first, and how many there are. Never another account's events.
    pub async fn page_about(
        conn: &mut AnyConnection,
        subject: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EventRecord>, i64), sqlx::Error> {
        let rows: Vec<EventRecord> = sqlx::query_as(concat!(
            event_record_columns!(),
            "WHERE e.subject_user_id = $1 ORDER BY e.id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(subject)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE subject_user_id = $1")
                .bind(subject)
                .fetch_one(&mut *conn)
                .await?;
        Ok((rows, total))
    }
}
