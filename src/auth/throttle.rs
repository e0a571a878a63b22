//! Login throttling with fixed-window counters kept in the database, so limits survive restarts
//! and hold across every instance sharing it.
//!
//! Policy (defaults; see README): at most `login_failures_per_account` failed attempts per account
//! and `login_failures_per_ip` per client address within `throttle_window` seconds. Past either,
//! sign-in attempts for that key are answered 429 with `Retry-After` until the window ends —
//! before any password is checked. With 5 per 15 minutes an attacker gets at most 20 guesses an
//! hour on one account however many addresses they use (ASVS 2.2.1 asks for fewer than 100).
//!
//! Every attempt is counted *before* its password is checked, by one atomic upsert that returns
//! the new count. So a burst of simultaneous requests cannot all slip in under the limit while
//! their hashes queue: the sixth concurrent attempt already sees 6. A successful sign-in then
//! clears the account's counter and gives its slot back to the address. Unknown e-mails are
//! counted exactly like real ones, so the throttle reveals nothing about which accounts exist.

use std::net::IpAddr;

use sqlx::AnyConnection;

use crate::users::MAX_EMAIL_LEN;

/// The limits, and the statements that count attempts against them.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub per_account: i64,
    pub per_ip: i64,
    pub window: i64,
}

/// The account key: the normalized e-mail, bounded so a huge typed value cannot bloat the table.
fn account_key(email: &str) -> String {
    let email: String = email.chars().take(MAX_EMAIL_LEN).collect();
    format!("account:{email}")
}

/// The address key. IPv6 clients usually own a whole /64, so that is what is counted.
fn ip_key(ip: Option<&str>) -> String {
    // Canonical form first, so an IPv4-mapped IPv6 address counts as the IPv4 client it is.
    match ip
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
    {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        None => "ip:unknown".to_string(),
    }
}

impl ThrottlePolicy {
    /// Counts one attempt against the account (normalized e-mail) and the address, and says
    /// whether it may go ahead: `None` to check the password, `Some(seconds)` to refuse it with
    /// 429 until the window ends. Call [`Self::record_success`] when the password was right.
    pub async fn register_attempt(
        &self,
        conn: &mut AnyConnection,
        email: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let mut wait: Option<i64> = None;
        for (key, limit) in [
            (account_key(email), self.per_account),
            (ip_key(ip), self.per_ip),
        ] {
            let (window_start, attempts) = self.count(conn, &key, now).await?;
            if attempts > limit {
                let remaining = (window_start + self.window - now).max(1);
                wait = Some(wait.map_or(remaining, |w| w.max(remaining)));
            }
        }
        Ok(wait)
    }

    /// Adds one to `key`'s counter (starting a new window when the old one ended) in a single
    /// statement, and returns the window start and the new count.
    async fn count(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        now: i64,
    ) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(
            "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
             window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
             RETURNING window_start, failures",
        )
        .bind(key)
        .bind(now)
        .bind(now - self.window)
        .fetch_one(&mut *conn)
        .await
    }

    /// After a correct password: clears the account's counter and takes this attempt back off the
    /// address's count, so only failures accumulate.
    pub async fn record_success(
        &self,
        conn: &mut AnyConnection,
        email: &str,
        ip: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(account_key(email))
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(ip_key(ip))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Removes counters whose window has ended (housekeeping, run with the session purge).
    pub async fn purge_stale(
        &self,
        conn: &mut AnyConnection,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        let stale_before = now - self.window;
        let purged = sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
            .bind(stale_before)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_keyed_per_client_and_ipv6_per_64() {
        assert_eq!(ip_key(Some("192.0.2.7")), "ip:192.0.2.7");
        assert_eq!(
            ip_key(Some("2001:db8:1:2:aaaa::1")),
            ip_key(Some("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            ip_key(Some("2001:db8:1:2::1")),
            ip_key(Some("2001:db8:1:3::1"))
        );
        assert_eq!(ip_key(Some("::ffff:192.0.2.7")), "ip:192.0.2.7");
        assert_eq!(ip_key(None), "ip:unknown");
        assert_eq!(
            account_key(&"a".repeat(10_000)).len(),
            "account:".len() + 254
        );
    }
}
