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
//!
//! The address is counted first: an attempt the address limit already refuses is not also counted
//! against the account, so one client cannot keep an account locked by guessing from an address
//! that is itself refused. And an attempt that carries a valid device cookie for the account
//! (OWASP's "device cookies") is counted only against that device: failures from elsewhere, which
//! lock the account for everyone else, never lock out the browser its owner signed in from before.

use std::net::IpAddr;

use sqlx::AnyConnection;

use crate::ids::DeviceId;
use crate::users::MAX_EMAIL_LEN;

/// What is being counted: each has its own counters (and key prefixes), so a flood of reset
/// requests never locks anyone's sign-in and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// Password guesses: sign-in and the current-password check.
    SignIn,
    /// Requests for a password-reset message.
    ResetRequest,
}

impl ThrottleScope {
    fn prefixes(self) -> (&'static str, &'static str) {
        match self {
            ThrottleScope::SignIn => ("account:", "ip:"),
            ThrottleScope::ResetRequest => ("reset-account:", "reset-ip:"),
        }
    }
}

/// The limits, and the statements that count attempts against them.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub scope: ThrottleScope,
    pub per_account: i64,
    pub per_ip: i64,
    pub window: i64,
}

/// How one counted attempt stands against each limit: `Some(seconds)` until that limit lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempt {
    pub account_wait: Option<i64>,
    pub ip_wait: Option<i64>,
    /// Refused by a counter that was already over its limit before this attempt: not the first
    /// refusal of the window, so it is tallied, not audited on its own row.
    pub repeat: bool,
}

impl Attempt {
    /// Seconds until the attempt could go ahead, if any limit refuses it.
    pub fn refused(&self) -> Option<i64> {
        match (self.account_wait, self.ip_wait) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Where one counter stands after an attempt.
#[derive(Debug, Clone, Copy)]
struct Count {
    window_start: i64,
    attempts: i64,
    limit: i64,
    /// It was over the limit before this attempt (so this attempt was not written).
    repeat: bool,
}

impl Count {
    fn refused(&self) -> bool {
        self.attempts > self.limit
    }

    /// Seconds until the window ends, when the limit refuses.
    fn wait(&self, window: i64, now: i64) -> Option<i64> {
        self.refused()
            .then(|| (self.window_start + window - now).max(1))
    }
}

/// The account key: the normalized e-mail, bounded so a huge typed value cannot bloat the table.
fn account_key(scope: ThrottleScope, email: &str) -> String {
    let email: String = email.chars().take(MAX_EMAIL_LEN).collect();
    format!("{}{email}", scope.prefixes().0)
}

/// The key of one known device (sign-in scope only: devices are for password guesses).
fn device_key(device: DeviceId) -> String {
    format!("device:{device}")
}

/// The address key. IPv6 clients usually own a whole /64, so that is what is counted.
fn ip_key(scope: ThrottleScope, ip: Option<&str>) -> String {
    let prefix = scope.prefixes().1;
    format!("{prefix}{}", client_key(ip))
}

fn client_key(ip: Option<&str>) -> String {
    // Canonical form first, so an IPv4-mapped IPv6 address counts as the IPv4 client it is.
    match ip
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
    {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => "unknown".to_string(),
    }
}

impl ThrottlePolicy {
    /// Counts one attempt against the account (normalized e-mail) and the address, and says
    /// how it stands against each limit ([`Attempt::refused`]: `None` to go ahead and check the
    /// password, `Some(seconds)` to refuse it until the window ends). Call
    /// [`Self::record_success`] when the password was right.
    pub async fn register_attempt(
        &self,
        conn: &mut AnyConnection,
        email: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Attempt, sqlx::Error> {
        let address = self
            .count(conn, &ip_key(self.scope, ip), self.per_ip, now)
            .await?;
        if address.refused() {
            return Ok(Attempt {
                account_wait: None,
                ip_wait: address.wait(self.window, now),
                repeat: address.repeat,
            });
        }
        let account = self
            .count(conn, &account_key(self.scope, email), self.per_account, now)
            .await?;
        Ok(Attempt {
            account_wait: account.wait(self.window, now),
            ip_wait: None,
            repeat: account.repeat,
        })
    }

    /// Counts one attempt from a browser holding a valid device cookie for the account: against
    /// that device alone, with the per-account limit. Neither the account's nor the address's
    /// counter is touched or consulted.
    pub async fn register_device_attempt(
        &self,
        conn: &mut AnyConnection,
        device: DeviceId,
        now: i64,
    ) -> Result<Attempt, sqlx::Error> {
        self.count_under_account_limit(conn, &device_key(device), now)
            .await
    }

    /// After a correct password (and code) from a known device: clears that device's counter only.
    /// The account's lock, earned elsewhere, stays for everyone else.
    pub async fn record_device_success(
        &self,
        conn: &mut AnyConnection,
        device: DeviceId,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(device_key(device))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Until when each account (normalized e-mail) is refused, if it is now, in the order given:
    /// one query for a whole page of accounts.
    pub async fn locked_until(
        &self,
        conn: &mut AnyConnection,
        emails: &[&str],
        now: i64,
    ) -> Result<Vec<Option<i64>>, sqlx::Error> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = emails
            .iter()
            .map(|email| account_key(self.scope, email))
            .collect();
        let sql = format!(
            "SELECT key, window_start FROM login_throttle \
             WHERE failures >= $1 AND window_start > $2 AND key IN ({})",
            crate::db::numbered_placeholders(3, keys.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql)
            .bind(self.per_account)
            .bind(now - self.window);
        for key in &keys {
            query = query.bind(key);
        }
        let locked = query.fetch_all(&mut *conn).await?;
        Ok(keys
            .iter()
            .map(|key| {
                locked
                    .iter()
                    .find(|(locked_key, _)| locked_key == key)
                    .map(|(_, window_start)| window_start + self.window)
            })
            .collect())
    }

    /// How many accounts are refused sign-in right now (the admin dashboard's figure): the
    /// same rule as [`Self::locked_until`], over every account key of this scope.
    pub async fn locked_account_count(
        &self,
        conn: &mut AnyConnection,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        // The prefix holds no LIKE wildcard, so it matches itself literally.
        let prefix = format!("{}%", self.scope.prefixes().0);
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_throttle \
             WHERE key LIKE $1 AND failures >= $2 AND window_start > $3",
        )
        .bind(prefix)
        .bind(self.per_account)
        .bind(now - self.window)
        .fetch_one(&mut *conn)
        .await
    }

    /// Clears the account's counter (an administrator's unlock); whether there was one.
    pub async fn clear_account(
        &self,
        conn: &mut AnyConnection,
        email: &str,
    ) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(account_key(self.scope, email))
            .execute(&mut *conn)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    /// Adds one to `key`'s counter (starting a new window when the old one ended) in a single
    /// statement, and says where it stands against `limit`. A counter already over the limit in
    /// its window is not written again: the attempt is refused either way, and writing it would
    /// let a flood of refused requests grow the write-ahead log.
    async fn count(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        limit: i64,
        now: i64,
    ) -> Result<Count, sqlx::Error> {
        // One statement in the common case. The update's WHERE leaves a counter that is already
        // over the limit in its window untouched (no row comes back), so racing attempts cannot
        // both be "first", and a refused flood writes nothing.
        let counted: Option<(i64, i64)> = sqlx::query_as(
            "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
             window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
             WHERE login_throttle.window_start <= $3 OR login_throttle.failures <= $4 \
             RETURNING window_start, failures",
        )
        .bind(key)
        .bind(now)
        .bind(now - self.window)
        .bind(limit)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((window_start, attempts)) = counted {
            return Ok(Count {
                window_start,
                attempts,
                limit,
                repeat: false,
            });
        }
        // Refused before this attempt: only its window is needed, for Retry-After.
        let (window_start, attempts) =
            sqlx::query_as("SELECT window_start, failures FROM login_throttle WHERE key = $1")
                .bind(key)
                .fetch_one(&mut *conn)
                .await?;
        Ok(Count {
            window_start,
            attempts,
            limit,
            repeat: true,
        })
    }

    /// After a correct password: clears the account's counter and takes this attempt back off the
    /// address's count, so only failures accumulate.
    pub async fn record_success(
        &self,
        conn: &mut AnyConnection,
        email: &str,
        ip: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        self.clear_account(conn, email).await?;
        self.release_address(conn, ip).await
    }

    /// Takes one counted attempt back off the address (it was not a failure). The account's
    /// count stays: a right password before a second step is not yet a success for the account.
    pub async fn release_address(
        &self,
        conn: &mut AnyConnection,
        ip: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(ip_key(self.scope, ip))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Counts one attempt against the account alone: a passkey sign-in, whose address was counted
    /// when its challenge was issued.
    pub async fn register_account_attempt(
        &self,
        conn: &mut AnyConnection,
        email: &str,
        now: i64,
    ) -> Result<Attempt, sqlx::Error> {
        self.count_under_account_limit(conn, &account_key(self.scope, email), now)
            .await
    }

    /// Counts one attempt against `key` alone, under the per-account limit.
    async fn count_under_account_limit(
        &self,
        conn: &mut AnyConnection,
        key: &str,
        now: i64,
    ) -> Result<Attempt, sqlx::Error> {
        let count = self.count(conn, key, self.per_account, now).await?;
        Ok(Attempt {
            account_wait: count.wait(self.window, now),
            ip_wait: None,
            repeat: count.repeat,
        })
    }

    /// Counts one attempt against the address alone (a request that names no account).
    pub async fn register_address_attempt(
        &self,
        conn: &mut AnyConnection,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Attempt, sqlx::Error> {
        let count = self
            .count(conn, &ip_key(self.scope, ip), self.per_ip, now)
            .await?;
        Ok(Attempt {
            account_wait: None,
            ip_wait: count.wait(self.window, now),
            repeat: count.repeat,
        })
    }

    /// Removes counters whose window has ended (housekeeping, run with the session purge). Every
    /// scope's rows go: the oldest window any scope could still be in is this policy's.
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
        let ip_key = |ip| ip_key(ThrottleScope::SignIn, ip);
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
            account_key(ThrottleScope::SignIn, &"a".repeat(10_000)).len(),
            "account:".len() + 254
        );
    }

    #[test]
    fn reset_requests_are_counted_apart_from_sign_ins() {
        let email = "dana@example.com";
        assert_ne!(
            account_key(ThrottleScope::SignIn, email),
            account_key(ThrottleScope::ResetRequest, email)
        );
        assert_ne!(
            ip_key(ThrottleScope::SignIn, Some("192.0.2.7")),
            ip_key(ThrottleScope::ResetRequest, Some("192.0.2.7"))
        );
    }
}
