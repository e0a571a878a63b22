//! The company's calendar: which day it is where the company is, and when a day ends there. A
//! last day ends at midnight in the company's time zone (the `time_zone` setting), not in UTC:
//! someone in Auckland whose last day is Friday keeps access through their Friday evening.

use chrono::{Days, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// Dates and day boundaries in one IANA time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    zone: Tz,
}

impl Calendar {
    pub fn new(zone: Tz) -> Calendar {
        Calendar { zone }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The date at unix time `unix` in the company's zone.
    pub fn date_at(&self, unix: i64) -> NaiveDate {
        chrono::DateTime::from_timestamp(unix, 0)
            .map(|t| t.with_timezone(&self.zone).date_naive())
            .unwrap_or_default()
    }

    /// The first second of `date` in the company's zone. Where a clock change skips midnight
    /// (some zones move from 23:59:59 to 01:00), the day starts at the first time that exists.
    pub fn start_of(&self, date: NaiveDate) -> i64 {
        let midnight = date.and_time(chrono::NaiveTime::MIN);
        // Gaps last at most a few hours; walking forward in quarter hours finds the first
        // existing local time (an ambiguous one, when clocks fall back, counts at its first).
        (0..=96)
            .filter_map(|quarter| {
                let local = midnight + chrono::Duration::minutes(15 * quarter);
                self.zone.from_local_datetime(&local).earliest()
            })
            .map(|t| t.timestamp())
            .next()
            .unwrap_or_else(|| midnight.and_utc().timestamp())
    }

    /// The first second after `date` ends in the company's zone.
    pub fn end_of(&self, date: NaiveDate) -> i64 {
        match date.checked_add_days(Days::new(1)) {
            Some(next) => self.start_of(next),
            None => i64::MAX,
        }
    }

    /// Whether `date` is over at unix time `now` (it is over from the first second of the next).
    pub fn is_over(&self, date: NaiveDate, now: i64) -> bool {
        now >= self.end_of(date)
    }
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::new(Tz::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_day_ends_at_midnight_in_the_company_zone() {
        let berlin = Calendar::new(chrono_tz::Europe::Berlin);
        // 5 December 2026 ends at 23:00 UTC in Berlin (UTC+1 in winter).
        let end = chrono::DateTime::parse_from_rfc3339("2026-12-05T23:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(berlin.end_of(day("2026-12-05")), end);
        assert!(!berlin.is_over(day("2026-12-05"), end - 1));
        assert!(berlin.is_over(day("2026-12-05"), end));
        assert_eq!(berlin.date_at(end - 1), day("2026-12-05"));
        assert_eq!(berlin.date_at(end), day("2026-12-06"));
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_first_time_that_exists() {
        // Santiago moved its clocks from 00:00 to 01:00 on 8 September 2024.
        let santiago = Calendar::new(chrono_tz::America::Santiago);
        let start = santiago.start_of(day("2024-09-08"));
        let expected = chrono::DateTime::parse_from_rfc3339("2024-09-08T04:00:00Z")
            .unwrap()
            .timestamp();
        assert_eq!(start, expected);
        assert_eq!(santiago.date_at(start), day("2024-09-08"));
        assert_eq!(santiago.date_at(start - 1), day("2024-09-07"));
    }
}
