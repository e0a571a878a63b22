//! How domain rows look on pages that several route modules share.

use serde::Serialize;

use crate::users::devices::KnownDevice;

use crate::audit::{EventKind, EventRecord};

use crate::auth::session::SessionSummary;
use crate::auth::CurrentSession;
use crate::ids::UserId;
use crate::web::device;
use crate::web::page::when;

/// A session as a table row: what people need to recognise a device.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    pub handle: String,
    pub user_id: UserId,
    pub user_name: String,
    pub user_email: String,
    pub device: String,
    pub ip: String,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
    pub remembered: bool,
    pub is_current: bool,
}

impl SessionRow {
    pub fn from_summary(summary: SessionSummary, current: &CurrentSession) -> SessionRow {
        SessionRow {
            is_current: summary.id == current.session.id,
            device: device::describe(summary.user_agent.as_deref()),
            ip: summary.ip.unwrap_or_else(|| "—".into()),
            created: when(summary.created_at),
            last_seen: when(summary.last_seen_at),
            expires: when(summary.expires_at),
            remembered: summary.remember != 0,
            handle: summary.handle,
            user_id: summary.user_id,
            user_name: summary.user_name,
            user_email: summary.user_email,
        }
    }

    pub fn rows(summaries: Vec<SessionSummary>, current: &CurrentSession) -> Vec<SessionRow> {
        summaries
            .into_iter()
            .map(|s| SessionRow::from_summary(s, current))
            .collect()
    }
}

/// A known device as a table row (trusted devices, the dashboard's new-sign-in notice).
#[derive(Debug, Serialize)]
pub struct DeviceRow {
    pub handle: String,
    pub device: String,
    pub ip: String,
    pub first_seen: String,
    pub last_seen: String,
}

impl From<KnownDevice> for DeviceRow {
    fn from(known: KnownDevice) -> Self {
        DeviceRow {
            device: device::describe(known.user_agent.as_deref()),
            ip: known.ip.unwrap_or_else(|| "—".into()),
            first_seen: when(known.created_at),
            last_seen: when(known.last_seen_at),
            handle: known.handle,
        }
    }
}

impl DeviceRow {
    pub fn rows(devices: Vec<KnownDevice>) -> Vec<DeviceRow> {
        devices.into_iter().map(DeviceRow::from).collect()
    }
}

/// An option of a `<select>`.
#[derive(Debug, Serialize)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl SelectOption {
    pub fn new(value: impl ToString, label: impl Into<String>, selected: bool) -> SelectOption {
        SelectOption {
            value: value.to_string(),
            label: label.into(),
            selected,
        }
    }
}

impl EventRow {
    /// The event as its subject sees it on their own activity page: where a person acted from is
    /// theirs to know only when it was them (or an anonymous attempt on their account); an
    /// administrator's address and device stay on the admin audit page.
    pub fn for_subject(event: EventRecord) -> EventRow {
        let someone_else =
            event.actor_user_id.is_some() && event.actor_user_id != event.subject_user_id;
        let mut row = EventRow::from(event);
        if someone_else {
            row.ip = "—".to_string();
            row.device = "—".to_string();
        }
        row
    }
}

/// An audit event as the audit table shows it.
#[derive(Debug, Serialize)]
pub struct EventRow {
    at: String,
    kind: String,
    label: &'static str,
    actor: String,
    subject: String,
    email: String,
    session: String,
    ip: String,
    device: String,
    detail: String,
}

impl From<EventRecord> for EventRow {
    fn from(e: EventRecord) -> Self {
        let dash = || "—".to_string();
        EventRow {
            at: when(e.at),
            label: EventKind::parse(&e.kind).map_or("Other", EventKind::label),
            kind: e.kind,
            actor: e.actor_email.unwrap_or_else(dash),
            subject: e.subject_email.unwrap_or_else(dash),
            email: e.email.unwrap_or_default(),
            session: e
                .session_handle
                .map(|h| h.chars().take(8).collect())
                .unwrap_or_default(),
            ip: e.ip.unwrap_or_else(dash),
            device: device::describe(e.user_agent.as_deref()),
            detail: e.detail.unwrap_or_default(),
        }
    }
}
