//! How domain rows look on pages that several route modules share.

use serde::Serialize;

use crate::users::devices::KnownDevice;

use crate::audit::{EventKind, EventRecord};

use crate::auth::session::SessionSummary;
use crate::auth::CurrentSession;
use crate::ids::UserId;
use crate::clock::format_timestamp;
use crate::web::device;

/// A session as a table row: what people need to recognise a device.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    pub handle: String,
    pub user_id: UserId,
    pub user_name: String,
    pub user_email: String,
    pub device: String,
    pub ip: String,
    pub created: Moment,
    pub last_seen: Moment,
    pub expires: Moment,
    pub remembered: bool,
    pub is_current: bool,
}

impl SessionRow {
    pub fn from_summary(summary: SessionSummary, current: &CurrentSession, now: i64) -> SessionRow {
        SessionRow {
            is_current: summary.id == current.session.id,
            device: device::describe(summary.user_agent.as_deref()),
            ip: summary.ip.unwrap_or_else(|| "—".into()),
            created: Moment::at(summary.created_at, now),
            last_seen: Moment::at(summary.last_seen_at, now),
            expires: Moment::at(summary.expires_at, now),
            remembered: summary.remember != 0,
            handle: summary.handle,
            user_id: summary.user_id,
            user_name: summary.user_name,
            user_email: summary.user_email,
        }
    }

    pub fn rows(
        summaries: Vec<SessionSummary>,
        current: &CurrentSession,
        now: i64,
    ) -> Vec<SessionRow> {
        summaries
            .into_iter()
            .map(|s| SessionRow::from_summary(s, current, now))
            .collect()
    }
}

/// A known device as a table row (trusted devices, the dashboard's new-sign-in notice).
#[derive(Debug, Serialize)]
pub struct DeviceRow {
    pub handle: String,
    pub device: String,
    pub ip: String,
    pub first_seen: Moment,
    pub last_seen: Moment,
}

impl DeviceRow {
    pub fn new(known: KnownDevice, now: i64) -> DeviceRow {
        DeviceRow {
            device: device::describe(known.user_agent.as_deref()),
            ip: known.ip.unwrap_or_else(|| "—".into()),
            first_seen: Moment::at(known.created_at, now),
            last_seen: Moment::at(known.last_seen_at, now),
            handle: known.handle,
        }
    }

    pub fn rows(devices: Vec<KnownDevice>, now: i64) -> Vec<DeviceRow> {
        devices
            .into_iter()
            .map(|known| DeviceRow::new(known, now))
            .collect()
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
    pub fn for_subject(event: EventRecord, now: i64) -> EventRow {
        let someone_else =
            event.actor_user_id.is_some() && event.actor_user_id != event.subject_user_id;
        let mut row = EventRow::new(event, now);
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
    at: Moment,
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

impl EventRow {
    pub fn new(e: EventRecord, now: i64) -> EventRow {
        let dash = || "—".to_string();
        EventRow {
            at: Moment::at(e.at, now),
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn recent_and_coming_moments_read_in_the_largest_whole_unit() {
        let cases = [
            (NOW - 20, "just now"),
            (NOW - 5 * 60, "5 min ago"),
            (NOW - 2 * 3600 - 59 * 60, "2 h ago"),
            (NOW - 23 * 3600, "23 h ago"),
            (NOW - 30 * 3600, "1 day ago"),
            (NOW + 3 * 86_400, "in 3 days"),
            (NOW - 90 * 86_400, "3 months ago"),
            (NOW + 800 * 86_400, "in 2 years"),
        ];
        for (at, expected) in cases {
            assert_eq!(relative_time(at, NOW), expected, "{}", at - NOW);
        }
    }

    #[test]
    fn a_moment_keeps_the_exact_time_for_the_title_and_the_datetime_attribute() {
        let moment = Moment::at(0, 7200);
        assert_eq!(moment.iso, "1970-01-01T00:00:00Z");
        assert_eq!(moment.exact, "1970-01-01 00:00 UTC");
        assert_eq!(moment.relative, "2 h ago");
    }
}
