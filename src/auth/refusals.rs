//! Refusals past the first, counted in memory instead of one audit row each.
//!
//! The first attempt a throttle refuses in a window is audited on its own row. Every further one
//! (an [`Attempt::repeat`](super::throttle::Attempt)) only adds to a count here, keyed by what the
//! audit row would have said (kind, typed e-mail, address); the purge writes each count as one
//! summary row and starts again. So a flood from one address costs a handful of rows per purge
//! interval, whatever its size, and the trail still says how many attempts were refused.
//!
//! The map is bounded: past [`MAX_KEYS`] distinct keys, further ones are added to a single
//! "other sources" count, so an attacker rotating addresses cannot grow memory either.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::audit::{Event, EventKind, Origin};

/// Distinct (kind, e-mail, address) counts kept between two purges.
pub const MAX_KEYS: usize = 10_000;

/// What a summary row is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Source {
    kind: EventKind,
    email: Option<String>,
    ip: Option<String>,
}

/// Counts of refusals not yet written, with the time of the first of each.
#[derive(Debug, Default)]
pub struct RefusalTally {
    counts: Mutex<HashMap<Source, (u64, i64)>>,
}

impl RefusalTally {
    /// Counts one more refused attempt of `kind` from `origin` (for `email`, if one was typed).
    pub fn note(&self, kind: EventKind, email: Option<&str>, origin: &Origin, now: i64) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let mut source = Source {
            kind,
            email: email.map(|email| email.chars().take(crate::users::MAX_EMAIL_LEN).collect()),
            ip: origin.ip.clone(),
        };
        if counts.len() >= MAX_KEYS && !counts.contains_key(&source) {
            source.email = None;
            source.ip = None;
        }
        let entry = counts.entry(source).or_insert((0, now));
        entry.0 += 1;
    }

    /// Empties the tally: what the purge is to write.
    pub fn take(&self) -> Vec<Tallied> {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        counts
            .into_iter()
            .map(|(source, (count, since))| Tallied {
                source,
                count,
                since,
            })
            .collect()
    }

    /// Adds counts back that could not be written (the database was unavailable), so a
    /// hiccup loses no refusals; they go out with the next purge.
    pub fn put_back(&self, tallied: Vec<Tallied>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for Tallied {
            source,
            count,
            since,
        } in tallied
        {
            let entry = counts.entry(source).or_insert((0, since));
            entry.0 += count;
            entry.1 = entry.1.min(since);
        }
    }
}

/// The refusals of one source since `since`, about to become one summary row.
#[derive(Debug)]
pub struct Tallied {
    source: Source,
    count: u64,
    since: i64,
}

impl Tallied {
    /// The summary audit row.
    pub fn event(&self, now: i64) -> Event {
        let origin = Origin {
            ip: self.source.ip.clone(),
            ..Origin::default()
        };
        let mut event = Event::new(self.source.kind, &origin).detail(format!(
            "{} more refused in the last {} s (counted, not recorded one by one)",
            self.count,
            (now - self.since).max(0)
        ));
        if let Some(email) = &self.source.email {
            event = event.email(email);
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(ip: &str) -> Origin {
        Origin {
            ip: Some(ip.to_string()),
            ..Origin::default()
        }
    }

    #[test]
    fn refusals_from_one_source_become_one_row_with_their_count() {
        let tally = RefusalTally::default();
        for _ in 0..1_000 {
            tally.note(
                EventKind::LoginThrottled,
                Some("dana@example.com"),
                &from("192.0.2.7"),
                100,
            );
        }
        tally.note(EventKind::LoginThrottled, None, &from("192.0.2.8"), 130);
        let mut rows: Vec<Event> = tally.take().iter().map(|t| t.event(160)).collect();
        rows.sort_by(|a, b| a.ip.cmp(&b.ip));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].email.as_deref(), Some("dana@example.com"));
        assert!(rows[0]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("1000 more refused in the last 60 s"));
        assert!(tally.take().is_empty(), "taking empties the tally");
    }

    #[test]
    fn the_tally_stays_bounded_however_many_sources_there_are() {
        let tally = RefusalTally::default();
        for n in 0..(MAX_KEYS + 500) {
            tally.note(
                EventKind::LoginThrottled,
                None,
                &from(&format!("10.0.{}.{}", n / 256, n % 256)),
                0,
            );
        }
        let taken = tally.take();
        assert_eq!(taken.len(), MAX_KEYS + 1, "the rest share one row");
        let total: u64 = taken.iter().map(|t| t.count).sum();
        assert_eq!(total, (MAX_KEYS + 500) as u64);
    }

    #[test]
    fn counts_that_could_not_be_written_are_kept_for_the_next_purge() {
        let tally = RefusalTally::default();
        tally.note(EventKind::LoginThrottled, None, &from("192.0.2.7"), 10);
        let taken = tally.take();
        tally.note(EventKind::LoginThrottled, None, &from("192.0.2.7"), 20);
        tally.put_back(taken);
        let again = tally.take();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].count, again[0].since), (2, 10));
    }
}
