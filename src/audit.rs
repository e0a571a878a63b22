//! The append-only trail of authentication events. There is no code path that edits or deletes
//! an event; pages only read it.

use serde::Serialize;
use sqlx::FromRow;

use crate::auth::ClientInfo;
use crate::clock::Clock;
use crate::db::Db;

/// Every kind of event the trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    Logout,
    SessionRevoked,
    OtherSessionsRevoked,
    UserForceLoggedOut,
    UserCreated,
    UserDisabled,
    UserEnabled,
    RoleChanged,
    PasswordChanged,
    SetupCompleted,
}

impl EventKind {
    pub const ALL: [EventKind; 13] = [
        EventKind::LoginSucceeded,
        EventKind::LoginFailed,
        EventKind::LoginThrottled,
        EventKind::Logout,
        EventKind::SessionRevoked,
        EventKind::OtherSessionsRevoked,
        EventKind::UserForceLoggedOut,
        EventKind::UserCreated,
        EventKind::UserDisabled,
        EventKind::UserEnabled,
        EventKind::RoleChanged,
        EventKind::PasswordChanged,
        EventKind::SetupCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LoginSucceeded => "login_succeeded",
            EventKind::LoginFailed => "login_failed",
            EventKind::LoginThrottled => "login_throttled",
            EventKind::Logout => "logout",
            EventKind::SessionRevoked => "session_revoked",
            EventKind::OtherSessionsRevoked => "other_sessions_revoked",
            EventKind::UserForceLoggedOut => "user_force_logged_out",
            EventKind::UserCreated => "user_created",
            EventKind::UserDisabled => "user_disabled",
            EventKind::UserEnabled => "user_enabled",
            EventKind::RoleChanged => "role_changed",
            EventKind::PasswordChanged => "password_changed",
            EventKind::SetupCompleted => "setup_completed",
        }
    }

    pub fn parse(value: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::LoginSucceeded => "Sign-in succeeded",
            EventKind::LoginFailed => "Sign-in failed",
            EventKind::LoginThrottled => "Sign-in throttled",
            EventKind::Logout => "Signed out",
            EventKind::SessionRevoked => "Session revoked",
            EventKind::OtherSessionsRevoked => "Other sessions revoked",
            EventKind::UserForceLoggedOut => "Signed out everywhere",
            EventKind::UserCreated => "User created",
            EventKind::UserDisabled => "User disabled",
            EventKind::UserEnabled => "User enabled",
            EventKind::RoleChanged => "Role changed",
            EventKind::PasswordChanged => "Password changed",
            EventKind::SetupCompleted => "First-run set-up completed",
        }
    }
}

/// One event about to be written.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub actor_user_id: Option<i64>,
    pub subject_user_id: Option<i64>,
    pub email: Option<String>,
    pub session_handle: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(kind: EventKind, client: &ClientInfo) -> Event {
        Event {
            kind,
            actor_user_id: None,
            subject_user_id: None,
            email: None,
            session_handle: None,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            detail: None,
        }
    }

    /// An event from the command line (no client, no acting user).
    pub fn from_cli(kind: EventKind) -> Event {
        let mut event = Event::new(kind, &ClientInfo::default());
        event.detail = Some("command line".into());
        event
    }

    pub fn actor(mut self, user_id: i64) -> Self {
        self.actor_user_id = Some(user_id);
        self
    }

    pub fn subject(mut self, user_id: i64) -> Self {
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
                .take(254)
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

/// A stored event with the names of the people involved, for the audit page.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct EventRecord {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub actor_user_id: Option<i64>,
    pub actor_email: Option<String>,
    pub subject_user_id: Option<i64>,
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

/// Writes and reads the trail.
#[derive(Debug, Clone)]
pub struct AuditLog {
    db: Db,
    clock: Clock,
}

impl AuditLog {
    pub fn new(db: Db, clock: Clock) -> Self {
        AuditLog { db, clock }
    }

    pub async fn record(&self, event: Event) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor_user_id, subject_user_id, email, session_handle, \
             ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(self.clock.now())
        .bind(event.kind.as_str())
        .bind(event.actor_user_id)
        .bind(event.subject_user_id)
        .bind(event.email)
        .bind(event.session_handle)
        .bind(event.ip)
        .bind(event.user_agent)
        .bind(event.detail)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// One page of events, newest first.
    pub async fn list(
        &self,
        filter: &EventFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EventRecord>, i64), sqlx::Error> {
        let pattern = crate::users::like_pattern(&filter.user);
        let kind = filter.kind.map_or("", EventKind::as_str);
        let rows: Vec<EventRecord> = sqlx::query_as(
            "SELECT e.id, e.at, e.kind, e.actor_user_id, a.email AS actor_email, e.subject_user_id, \
             s.email AS subject_email, e.email, e.session_handle, e.ip, e.user_agent, e.detail \
             FROM audit_events e LEFT JOIN users a ON a.id = e.actor_user_id \
             LEFT JOIN users s ON s.id = e.subject_user_id \
             WHERE ($1 = '' OR e.kind = $1) AND ($2 = '' OR s.email LIKE $3 ESCAPE '\\' \
             OR a.email LIKE $3 ESCAPE '\\' OR LOWER(e.email) LIKE $3 ESCAPE '\\') \
             ORDER BY e.at DESC, e.id DESC LIMIT $4 OFFSET $5",
        )
        .bind(kind)
        .bind(&filter.user)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.db.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_events e LEFT JOIN users a ON a.id = e.actor_user_id \
             LEFT JOIN users s ON s.id = e.subject_user_id \
             WHERE ($1 = '' OR e.kind = $1) AND ($2 = '' OR s.email LIKE $3 ESCAPE '\\' \
             OR a.email LIKE $3 ESCAPE '\\' OR LOWER(e.email) LIKE $3 ESCAPE '\\')",
        )
        .bind(kind)
        .bind(&filter.user)
        .bind(&pattern)
        .fetch_one(&self.db.pool)
        .await?;
        Ok((rows, total))
    }
}
