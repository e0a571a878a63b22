//! How domain rows look on pages that several route modules share.

use serde::Serialize;

use crate::users::devices::KnownDevice;

use crate::audit::{EventKind, EventRecord};

use crate::auth::session::SessionSummary;
use crate::auth::CurrentSession;
use crate::clock::format_timestamp;
use crate::ids::UserId;
use crate::users::device;
use crate::web::provenance;

/// A moment as every page shows it: short and relative ("2 h ago", "in 3 days"), so dense tables
/// keep one line per row, with the exact time one hover (or one screen-reader step) away. The
/// `moment` macro in macros.html renders it as `<time datetime="…" title="…">`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moment {
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// "2026-11-27 06:38 UTC", for the title.
    pub exact: String,
    /// "2 h ago", shown.
    pub relative: String,
}

impl Moment {
    /// `unix` as seen at `now` (both unix seconds; `now` from the application clock).
    pub fn at(unix: i64, now: i64) -> Moment {
        Moment {
            iso: chrono::DateTime::from_timestamp(unix, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            exact: format_timestamp(unix),
            relative: relative_time(unix, now),
        }
    }
}

/// "just now", "5 min ago", "in 2 h", "3 days ago", "in 4 months", "2 years ago": the largest
/// unit that gives a whole number, rounded down, so "23 h ago" never reads as "1 day ago".
pub fn relative_time(unix: i64, now: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let distance = (unix - now).abs();
    if distance < MINUTE {
        return "just now".to_string();
    }
    let (count, unit) = match distance {
        d if d < HOUR => (d / MINUTE, "min"),
        d if d < DAY => (d / HOUR, "h"),
        // Up to two months in days: session lifetimes and "last week" read best that way.
        d if d < 60 * DAY => (d / DAY, if d < 2 * DAY { "day" } else { "days" }),
        d if d < 730 * DAY => (d / (30 * DAY), "months"),
        d => (d / (365 * DAY), "years"),
    };
    if unix < now {
        format!("{count} {unit} ago")
    } else {
        format!("in {count} {unit}")
    }
}

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
    /// Started through the company's identity provider.
    pub single_sign_on: bool,
    pub is_current: bool,
}

/// One person's sessions on a page of sessions: the page keeps its order (most recently active
/// first), and each person appears once, where their most recent session on the page was.
#[derive(Debug, Serialize)]
pub struct PersonSessions {
    pub user_id: UserId,
    pub user_name: String,
    pub user_email: String,
    /// Whether one of them is the viewer's own session.
    pub has_current: bool,
    pub sessions: Vec<SessionRow>,
}

impl PersonSessions {
    pub fn group(rows: Vec<SessionRow>) -> Vec<PersonSessions> {
        let mut people: Vec<PersonSessions> = Vec::new();
        for row in rows {
            match people
                .iter_mut()
                .find(|person| person.user_id == row.user_id)
            {
                Some(person) => {
                    person.has_current |= row.is_current;
                    person.sessions.push(row);
                }
                None => people.push(PersonSessions {
                    user_id: row.user_id,
                    user_name: row.user_name.clone(),
                    user_email: row.user_email.clone(),
                    has_current: row.is_current,
                    sessions: vec![row],
                }),
            }
        }
        people
    }
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
            single_sign_on: summary.single_sign_on != 0,
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
        let actor = provenance::actor(&e);
        let device = provenance::device(&e);
        EventRow {
            at: Moment::at(e.at, now),
            label: EventKind::parse(&e.kind).map_or("Other", EventKind::label),
            kind: e.kind,
            actor,
            subject: e.subject_email.unwrap_or_else(dash),
            email: e.email.unwrap_or_default(),
            session: e
                .session_handle
                .map(|h| h.chars().take(8).collect())
                .unwrap_or_default(),
            ip: e.ip.unwrap_or_else(dash),
            device,
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
