//! What the database now says, as questions a test can ask in a sentence:
//! `app.sessions_of(&ada).await`, `app.mails_sent().reaches(2).await`. The SQL behind each
//! question is written here once, so a schema change touches this file and no test.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use hr_portal::users::User;

use crate::helpers::TestApp;

/// A value bound to a count's query.
enum Bound {
    Number(i64),
    Text(String),
}

/// A count of rows: `.await` it for the number now, or `.reaches(n).await` to wait for what a
/// background task (the mail queue, the audit writer) does next.
#[must_use = "a count does nothing until awaited"]
pub struct Count<'a> {
    app: &'a TestApp,
    sql: &'static str,
    bound: Vec<Bound>,
}

impl<'a> Count<'a> {
    fn of(app: &'a TestApp, sql: &'static str) -> Self {
        Count {
            app,
            sql,
            bound: Vec::new(),
        }
    }

    fn number(mut self, value: i64) -> Self {
        self.bound.push(Bound::Number(value));
        self
    }

    fn text(mut self, value: impl Into<String>) -> Self {
        self.bound.push(Bound::Text(value.into()));
        self
    }

    async fn now(&self) -> i64 {
        let mut query = sqlx::query_scalar(self.sql);
        for value in &self.bound {
            query = match value {
                Bound::Number(number) => query.bind(*number),
                Bound::Text(text) => query.bind(text.clone()),
            };
        }
        query.fetch_one(&self.app.db().pool).await.unwrap()
    }

    /// Waits (up to 20 s) until the count is at least `at_least`.
    pub async fn reaches(self, at_least: i64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.now().await < at_least {
            assert!(
                Instant::now() < deadline,
                "never came true: {} reaches {at_least}",
                self.sql
            );
            rocket::tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl<'a> IntoFuture for Count<'a> {
    type Output = i64;
    type IntoFuture = Pin<Box<dyn Future<Output = i64> + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.now().await })
    }
}

/// Accounts and their sessions.
impl TestApp {
    /// Session rows of everyone.
    pub fn sessions(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM sessions")
    }

    /// Session rows of `user`.
    pub fn sessions_of(&self, user: &User) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM sessions WHERE user_id = $1").number(user.id.0)
    }

    /// Session rows of the account with the address `email`.
    pub fn sessions_of_address(&self, email: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1",
        )
        .text(email)
    }

    /// Sessions started with "keep me signed in".
    pub fn remembered_sessions(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM sessions WHERE remember = 1")
    }

    /// Accounts, whatever their role or state.
    pub fn accounts(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM users")
    }

    /// Administrator accounts, disabled ones included.
    pub fn admins(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM users WHERE role = 'admin'")
    }

    /// Administrator accounts that are not disabled.
    pub fn enabled_admins(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0",
        )
    }

    /// Devices the app remembers for new-sign-in notices, of everyone.
    pub fn known_devices(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM known_devices")
    }

    /// Devices the app remembers for `user`.
    pub fn known_devices_of(&self, user: &User) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM known_devices WHERE user_id = $1",
        )
        .number(user.id.0)
    }
}

/// Second factors and passkeys.
impl TestApp {
    /// Accounts with an authenticator app set up.
    pub fn two_factor_enrolments(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM two_factor")
    }

    /// Recovery codes, used or not.
    pub fn recovery_codes(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM recovery_codes")
    }

    /// Recovery codes not used yet.
    pub fn unused_recovery_codes(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL",
        )
    }

    /// Authenticator apps switched on (enrolled and confirmed).
    pub fn two_factor_switched_on(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM two_factor WHERE enabled_at IS NOT NULL",
        )
    }

    /// Passkeys of everyone.
    pub fn passkeys(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM passkeys")
    }

    /// Passkeys by that name.
    pub fn passkeys_named(&self, name: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM passkeys WHERE name = $1").text(name)
    }

    /// Passkey challenges handed out and not yet answered or purged.
    pub fn passkey_ceremonies(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM passkey_ceremonies")
    }
}

/// Throttling.
impl TestApp {
    /// Rows of the sign-in throttle, of any key.
    pub fn throttle_counters(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM login_throttle")
    }

    /// Network addresses with at least one failed sign-in counted against them.
    pub fn addresses_with_failures(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM login_throttle WHERE key LIKE 'ip:%' AND failures > 0",
        )
    }
}

/// The audit trail.
impl TestApp {
    /// Audit events of every kind but the mailer's own "mail sent" (written whenever the mailer
    /// gets to a message).
    pub fn audit_events_but_mail_sent(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM audit_events WHERE kind <> 'mail_sent'",
        )
    }

    /// Audit events of every kind.
    pub fn audit_events(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM audit_events")
    }

    /// Audit events of `kind`.
    pub fn events_of_kind(&self, kind: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM audit_events WHERE kind = $1").text(kind)
    }

    /// Audit events of `kind` whose detail is exactly `detail`.
    pub fn events_of_kind_with_detail(&self, kind: &str, detail: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM audit_events WHERE kind = $1 AND detail = $2",
        )
        .text(kind)
        .text(detail)
    }

    /// Audit events of `kind` whose detail contains `text`.
    pub fn events_of_kind_mentioning(&self, kind: &str, text: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM audit_events WHERE kind = $1 AND detail LIKE $2",
        )
        .text(kind)
        .text(format!("%{text}%"))
    }

    /// Audit events of `kind` done by a signed-in person (an actor account is named).
    pub fn events_of_kind_by_someone(&self, kind: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM audit_events WHERE kind = $1 AND actor_user_id IS NOT NULL",
        )
        .text(kind)
    }

    /// Audit events whose detail or typed e-mail contains `text` (a secret must never be there).
    pub fn events_mentioning(&self, text: &str) -> Count<'_> {
        let pattern = format!("%{text}%");
        Count::of(
            self,
            "SELECT COUNT(*) FROM audit_events WHERE detail LIKE $1 OR email LIKE $2",
        )
        .text(pattern.clone())
        .text(pattern)
    }

    /// Reset links asked for an address that has no account (noted, no account named).
    pub fn resets_asked_for_unknown_addresses(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM audit_events WHERE kind = 'password_reset_requested' \
             AND detail = 'no such account' AND subject_user_id IS NULL",
        )
    }
}

/// The outgoing mail queue.
impl TestApp {
    /// Messages in the outbox, in any state.
    pub fn outbox_messages(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM outbox")
    }

    /// Messages the mail server took.
    pub fn mails_sent(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL",
        )
    }

    /// Messages sent whose body was then wiped from the outbox.
    pub fn mails_sent_and_wiped(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL AND body = ''",
        )
    }

    /// Messages whose subject is exactly `subject`.
    pub fn mails_titled(&self, subject: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM outbox WHERE subject = $1").text(subject)
    }

    /// Messages whose subject matches the SQL `LIKE` pattern `pattern`.
    pub fn mails_with_subject_like(&self, pattern: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM outbox WHERE subject LIKE $1").text(pattern)
    }

    /// Messages to `recipient` that failed at least once and wait for another try.
    pub fn mails_to_retry_for(&self, recipient: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND last_error IS NOT NULL \
             AND sent_at IS NULL AND recipient = $1",
        )
        .text(recipient)
    }

    /// Messages to `recipient` given up after exactly `attempts` tries.
    pub fn mails_given_up_for(&self, recipient: &str, attempts: i64) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL AND attempts = $1 \
             AND recipient = $2",
        )
        .number(attempts)
        .text(recipient)
    }
}

/// The employee records.
impl TestApp {
    /// Employee records, whether they still work here or not.
    pub fn employees(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM employees")
    }

    /// Employees with a last day on record.
    pub fn employees_who_left(&self) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM employees WHERE left_on IS NOT NULL",
        )
    }

    /// Employees who started in `month` (`YYYY-MM`).
    pub fn employees_who_started_in(&self, month: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM employees WHERE substr(start_date, 1, 7) = $1",
        )
        .text(month)
    }

    /// Employees whose last day fell in `month` (`YYYY-MM`).
    pub fn employees_who_left_in(&self, month: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM employees WHERE substr(left_on, 1, 7) = $1",
        )
        .text(month)
    }

    /// Departments.
    pub fn departments(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM departments")
    }

    /// Employee records whose private phone is exactly `phone`.
    pub fn records_with_phone(&self, phone: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM employees WHERE phone = $1").text(phone)
    }

    /// Employee records whose date of birth is `date` (`YYYY-MM-DD`).
    pub fn records_born_on(&self, date: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM employees WHERE birth_date = $1").text(date)
    }
}

/// The staff-list import.
impl TestApp {
    /// Employees whose job title is exactly `title`.
    pub fn employees_titled(&self, title: &str) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM employees WHERE title = $1").text(title)
    }

    /// Employees whose manager has the work address `email`.
    pub fn reports_of(&self, email: &str) -> Count<'_> {
        Count::of(
            self,
            "SELECT COUNT(*) FROM employees e JOIN employees m ON m.id = e.manager_id \
             WHERE m.email = $1",
        )
        .text(email)
    }

    /// Staff lists kept for a preview (applied or not).
    pub fn kept_previews(&self) -> Count<'_> {
        Count::of(self, "SELECT COUNT(*) FROM import_previews")
    }
}
