//! Login throttling with fixed-window failure counters kept in the database, so limits survive
//! restarts and hold across every instance sharing it.
//!
//! Policy (defaults; see README): at most `login_failures_per_account` failures per account and
//! `login_failures_per_ip` per client address within `throttle_window` seconds. Past either, sign-in
//! attempts for that key are answered 429 with `Retry-After` until the window ends — before any
//! password is checked. With 5 per 15 minutes an attacker gets at most 20 guesses an hour on one
//! account however many addresses they use (ASVS 2.2.1 asks for fewer than 100). A successful
//! sign-in clears the account's counter. Unknown e-mails are counted exactly like real ones, so the
//! throttle reveals nothing about which accounts exist.

use crate::clock::Clock;
use crate::db::Db;

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub per_account: i64,
    pub per_ip: i64,
    pub window: i64,
}

/// Checks and records failed sign-ins.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    db: Db,
    clock: Clock,
    policy: ThrottlePolicy,
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn ip_key(ip: Option<&str>) -> String {
    format!("ip:{}", ip.unwrap_or("unknown"))
}

impl LoginThrottle {
    pub fn new(db: Db, clock: Clock, policy: ThrottlePolicy) -> Self {
        LoginThrottle { db, clock, policy }
    }

    /// Seconds until the caller may try again, or `None` when neither the account (normalized
    /// e-mail) nor the address is over its limit.
    pub async fn retry_after(
        &self,
        email: &str,
        ip: Option<&str>,
    ) -> Result<Option<i64>, sqlx::Error> {
        let now = self.clock.now();
        let window_open_since = now - self.policy.window;
        let mut wait: Option<i64> = None;
        for (key, limit) in [
            (account_key(email), self.policy.per_account),
            (ip_key(ip), self.policy.per_ip),
        ] {
            let row: Option<(i64, i64)> = sqlx::query_as(
                "SELECT window_start, failures FROM login_throttle WHERE key = $1 AND window_start > $2",
            )
            .bind(&key)
            .bind(window_open_since)
            .fetch_optional(&self.db.pool)
            .await?;
            if let Some((window_start, failures)) = row {
                if failures >= limit {
                    let remaining = window_start + self.policy.window - now;
                    wait = Some(wait.map_or(remaining, |w| w.max(remaining)));
                }
            }
        }
        Ok(wait)
    }

    /// Counts one failure against the account and the address. A single upsert per key, so
    /// concurrent failures on several instances are all counted.
    pub async fn record_failure(&self, email: &str, ip: Option<&str>) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let window_open_since = now - self.policy.window;
        for key in [account_key(email), ip_key(ip)] {
            sqlx::query(
                "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                 window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END",
            )
            .bind(&key)
            .bind(now)
            .bind(window_open_since)
            .execute(&self.db.pool)
            .await?;
        }
        Ok(())
    }

    /// Clears the account's counter after a successful sign-in (the address keeps its count).
    pub async fn record_success(&self, email: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(account_key(email))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Removes counters whose window has ended (housekeeping, run with the session purge).
    pub async fn purge_stale(&self) -> Result<u64, sqlx::Error> {
        let result = sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
            .bind(self.clock.now() - self.policy.window)
            .execute(&self.db.pool)
            .await?;
        Ok(result.rows_affected())
    }
}
