//! The append-only trail of what happened: sign-ins, sessions ended, accounts and employees
//! changed. Events are written only by the application layer, inside the transaction of the change
//! they describe ([`record`] takes that transaction's connection), so a change and its event
//! commit together or not at all. There is no code path that edits an event; the only deletion is
//! retention ([`purge_older_than`]): events older than `audit_retention_days` go, oldest first.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use crate::ids::UserId;
use crate::text::like_pattern;
use crate::users::MAX_EMAIL_LEN;

/// Defines [`EventKind`] from one table: variant, stored name, label.
macro_rules! event_kinds {
    ($($variant:ident => $stored:literal, $label:literal;)*) => {
        /// Every kind of event the trail records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $stored,)*
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $label,)*
                }
            }
        }
    };
}

event_kinds! {
    LoginSucceeded => "login_succeeded", "Sign-in succeeded";
    LoginFailed => "login_failed", "Sign-in failed";
    LoginThrottled => "login_throttled", "Sign-in throttled";
    Logout => "logout", "Signed out";
    SessionRevoked => "session_revoked", "Session signed out";
    OtherSessionsRevoked => "other_sessions_revoked", "Other sessions signed out";
    UserForceLoggedOut => "user_force_logged_out", "Signed out everywhere";
    UserCreated => "user_created", "User created";
    UserDisabled => "user_disabled", "User disabled";
    UserEnabled => "user_enabled", "User enabled";
    RoleChanged => "role_changed", "Role changed";
    PasswordChanged => "password_changed", "Password changed";
    SetupCompleted => "setup_completed", "First-run set-up completed";
    EmployeeCreated => "employee_created", "Employee added";
    EmployeeUpdated => "employee_updated", "Employee changed";
    DepartmentCreated => "department_created", "Department added";
    LocationCreated => "location_created", "Location added";
    EmployeesImported => "employees_imported", "Staff list imported";
    PasswordResetRequested => "password_reset_requested", "Password reset requested";
    PasswordResetLinkCreated => "password_reset_link_created", "Reset link created";
    PasswordReset => "password_reset", "Password reset with a link";
    UserInvited => "user_invited", "User invited";
    InvitationAccepted => "invitation_accepted", "Invitation accepted";
    PasswordSet => "password_set", "Password set by an administrator";
    AccountUnlocked => "account_unlocked", "Sign-in lock cleared";
    MailSent => "mail_sent", "E-mail sent";
    MailFailed => "mail_failed", "E-mail given up";
    TwoFactorChallenged => "two_factor_challenged", "Password accepted, code asked";
    TwoFactorFailed => "two_factor_failed", "Second step failed";
    TwoFactorEnabled => "two_factor_enabled", "Two-factor turned on";
    TwoFactorDisabled => "two_factor_disabled", "Two-factor turned off";
    TwoFactorReset => "two_factor_reset", "Two-factor reset by an administrator";
    RecoveryCodesRenewed => "recovery_codes_renewed", "New recovery codes";
    DeviceForgotten => "device_forgotten", "Trusted device removed";
    PasskeyAdded => "passkey_added", "Passkey added";
    PasskeyRenamed => "passkey_renamed", "Passkey renamed";
    PasskeyRemoved => "passkey_removed", "Passkey removed";
    PasskeyRefused => "passkey_refused", "Passkey registration refused";
    PasskeyCloneSuspected => "passkey_clone_suspected", "Passkey refused: it may have been copied";
    RecentFactorsRemoved => "recent_factors_removed", "Second factors of the last 24 hours removed with a reset link";
    AccessEnded => "access_ended", "Access ended (left the company)";
    OwnDetailsChanged => "own_details_changed", "Own private details changed";
    SsoAccountCreated => "sso_account_created", "Account created by single sign-on";
    SsoRefused => "sso_refused", "Single sign-on refused";
    SsoLogout => "sso_logout", "Signed out by the identity provider";
    SsoUnlinked => "sso_unlinked", "Single sign-on link removed";
}

impl EventKind {
    pub fn parse(value: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == value)
    }
}

/// Where a change came from: a browser (address and user agent) or the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub command_line: bool,
}

impl Origin {
    pub fn command_line() -> Origin {
        Origin {
            command_line: true,
            ..Origin::default()
        }
    }
}

/// One event about to be written.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub actor_user_id: Option<UserId>,
    pub subject_user_id: Option<UserId>,
    pub email: Option<String>,
    pub session_handle: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
    /// Done by the operator at the command line (no account, no browser).
    pub command_line: bool,
}

impl Event {
    pub fn new(kind: EventKind, origin: &Origin) -> Event {
        Event {
            kind,
            actor_user_id: None,
            subject_user_id: None,
            email: None,
            session_handle: None,
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            detail: None,
            command_line: origin.command_line,
        }
    }

    pub fn actor(mut self, user_id: UserId) -> Self {
        self.actor_user_id = Some(user_id);
        self
    }

    pub fn subject(mut self, user_id: UserId) -> Self {
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
                .take(MAX_EMAIL_LEN)
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

/// Writes `event` at time `at` on `conn` — the transaction of the change it records.
pub async fn record(conn: &mut AnyConnection, at: i64, event: Event) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (at, kind, actor_user_id, subject_user_id, email, session_handle, \
         ip, user_agent, detail, command_line) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(at)
    .bind(event.kind.as_str())
    .bind(event.actor_user_id)
    .bind(event.subject_user_id)
    .bind(event.email)
    .bind(event.session_handle)
    .bind(event.ip)
    .bind(event.user_agent)
    .bind(event.detail)
    .bind(i64::from(event.command_line))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How many events of `kind` happened at or after `since` (the admin dashboard's failed
/// sign-ins); read through the kind-then-time index.
pub async fn count_since(
    conn: &mut AnyConnection,
    kind: EventKind,
    since: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE kind = $1 AND at >= $2")
        .bind(kind.as_str())
        .bind(since)
        .fetch_one(&mut *conn)
        .await
}

/// When `subject`'s access last ended (their account disabled by hand or at the end of their
/// last day), if the trail still holds it.
pub async fn access_ended_at(
    conn: &mut AnyConnection,
    subject: UserId,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(at) FROM audit_events \
         WHERE subject_user_id = $1 AND kind IN ('access_ended', 'user_disabled')",
    )
    .bind(subject)
    .fetch_one(&mut *conn)
    .await
}

/// How many times `subject` signed in at or after `since`, and the first of those times.
pub async fn sign_ins_since(
    conn: &mut AnyConnection,
    subject: UserId,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM audit_events \
         WHERE subject_user_id = $1 AND kind = 'login_succeeded' AND at >= $2",
    )
    .bind(subject)
    .bind(since)
    .fetch_one(&mut *conn)
    .await
}

/// Deletes up to `batch` events older than `before`, oldest first; how many (retention).
pub async fn purge_older_than(
    conn: &mut AnyConnection,
    before: i64,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM audit_events WHERE id IN \
         (SELECT id FROM audit_events WHERE at < $1 ORDER BY at, id LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(&mut *conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// A stored event with the names of the people involved, for the audit page.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct EventRecord {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub actor_user_id: Option<UserId>,
    pub actor_email: Option<String>,
    pub subject_user_id: Option<UserId>,
    pub subject_email: Option<String>,
    pub email: Option<String>,
    pub session_handle: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
    /// 1 when the operator did it at the command line (an integer: sqlx's `Any` driver cannot
    /// decode SQLite booleans).
    pub command_line: i64,
}

impl EventRecord {
    /// Whether the operator did it at the command line.
    pub fn from_command_line(&self) -> bool {
        self.command_line != 0
    }

    /// Where the event stands in the trail, to continue reading after it.
    pub fn position(&self) -> TrailPosition {
        TrailPosition {
            at: self.at,
            id: self.id,
        }
    }
}

/// Filters for the audit page; empty means "any".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Substring of the subject's, actor's or typed e-mail.
    pub user: String,
    pub kind: Option<EventKind>,
}

/// The columns of an [`EventRecord`], over `audit_events e` with the actor `a` and subject `s`
/// joined.
macro_rules! event_record_columns {
    () => {
        concat!(
            "SELECT e.id, e.at, e.kind, e.actor_user_id, a.email AS actor_email, \
             e.subject_user_id, s.email AS subject_email, e.email, e.session_handle, e.ip, \
             e.user_agent, e.detail, e.command_line ",
            events_with_people!()
        )
    };
}

/// The events with their actor `a` and subject `s` joined.
macro_rules! events_with_people {
    () => {
        "FROM audit_events e LEFT JOIN users a ON a.id = e.actor_user_id \
         LEFT JOIN users s ON s.id = e.subject_user_id "
    };
}

/// At most this many matching events are counted; the page says "more than" past it. Counting
/// every match of a million-row trail on each page view would cost more than the page.
pub const COUNT_CAP: i64 = 10_000;

/// Accounts a user term is resolved to by id; a vaguer term is matched by a subquery instead.
const MAX_MATCHED_ACCOUNTS: i64 = 200;

/// Where an event stands in the trail's newest-first order: a place to continue reading from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailPosition {
    pub at: i64,
    pub id: i64,
}

/// A value bound to a filter placeholder.
enum Bound {
    Text(String),
    Id(i64),
    /// A timestamp or id of a [`TrailPosition`].
    Position(i64),
    /// How many rows each branch of a user filter may read: the page's end, or the count's cap.
    Depth,
}

/// The `WHERE` clause of a filter and its values, built so that every condition reads an index
/// that returns its rows newest first (`audit_by_kind_time`, `audit_by_subject_time`,
/// `audit_by_actor`, `audit_by_typed_email`, migration 0007) and stops after the rows it needs:
/// a filter written as `($1 = '' OR kind = $1)`, or one `OR` over three columns, would read and
/// sort every match in the table.
struct FilterSql {
    clause: String,
    values: Vec<Bound>,
}

impl FilterSql {
    /// The user term stands for the accounts whose address contains it (events about them or by
    /// them), and for the typed address equal to it (attempts on addresses without an account).
    /// Each of the three is read newest first up to the depth, and their union is the candidate
    /// set the outer query orders.
    ///
    /// With `after`, only events older than that position match (keyset paging: each branch
    /// starts reading its index right there, however deep into the trail that is).
    async fn build(
        conn: &mut AnyConnection,
        filter: &EventFilter,
        after: Option<TrailPosition>,
    ) -> Result<FilterSql, sqlx::Error> {
        let mut values = Vec::new();
        // Conditions on the event's own columns, `{t}` standing for the table's qualifier.
        let mut own = Vec::new();
        if let Some(kind) = filter.kind {
            values.push(Bound::Text(kind.as_str().to_string()));
            own.push(format!("{{t}}kind = ${}", values.len()));
        }
        if let Some(after) = after {
            values.push(Bound::Position(after.at));
            values.push(Bound::Position(after.id));
            // A row-value comparison, which both engines read as one range of the (at, id) index.
            own.push(format!(
                "({{t}}at, {{t}}id) < (${}, ${})",
                values.len() - 1,
                values.len()
            ));
        }
        if filter.user.is_empty() {
            let clause = if own.is_empty() {
                String::new()
            } else {
                format!("WHERE {} ", own.join(" AND ").replace("{t}", "e."))
            };
            return Ok(FilterSql { clause, values });
        }
        let pattern = like_pattern(&filter.user);
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM users WHERE email LIKE $1 ESCAPE '\\' ORDER BY id LIMIT $2",
        )
        .bind(&pattern)
        .bind(MAX_MATCHED_ACCOUNTS + 1)
        .fetch_all(&mut *conn)
        .await?;
        values.push(Bound::Depth);
        let depth = values.len();
        // Both sides through the engine's own LOWER, so the comparison means what the index it
        // reads means (SQLite's LOWER folds ASCII only, PostgreSQL's everything).
        values.push(Bound::Text(filter.user.clone()));
        let mut conditions = vec![format!("LOWER(email) = LOWER(${})", values.len())];
        let accounts = if ids.len() as i64 > MAX_MATCHED_ACCOUNTS {
            // A vague term (half the company): the same accounts as a subquery — slower, never
            // incomplete.
            values.push(Bound::Text(pattern));
            Some(format!(
                "SELECT id FROM users WHERE email LIKE ${} ESCAPE '\\'",
                values.len()
            ))
        } else if ids.is_empty() {
            None
        } else {
            let list = crate::db::numbered_placeholders(values.len() + 1, ids.len());
            values.extend(ids.iter().map(|id| Bound::Id(*id)));
            Some(list)
        };
        if let Some(accounts) = accounts {
            conditions.push(format!("subject_user_id IN ({accounts})"));
            conditions.push(format!("actor_user_id IN ({accounts})"));
        }
        let and_own: String = own
            .iter()
            .map(|c| format!(" AND {}", c.replace("{t}", "")))
            .collect();
        let branches: Vec<String> = conditions
            .iter()
            .enumerate()
            .map(|(n, condition)| {
                format!(
                    "SELECT id FROM (SELECT id FROM audit_events WHERE {condition}{and_own} \
                     ORDER BY at DESC, id DESC LIMIT ${depth}) branch{n}"
                )
            })
            .collect();
        let clause = format!("WHERE e.id IN ({}) ", branches.join(" UNION "));
        Ok(FilterSql { clause, values })
    }

    /// Binds the filter's values, reading at most `depth` rows per branch.
    fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        depth: i64,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            query = match value {
                Bound::Text(text) => query.bind(text.as_str()),
                Bound::Id(id) | Bound::Position(id) => query.bind(*id),
                Bound::Depth => query.bind(depth),
            };
        }
        query
    }

    /// The next free placeholder number.
    fn next(&self) -> usize {
        self.values.len() + 1
    }
}

impl EventRecord {
    /// One page of events, newest first, and how many match (at most [`COUNT_CAP`] + 1).
    pub async fn page(
        conn: &mut AnyConnection,
        filter: &EventFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EventRecord>, i64), sqlx::Error> {
        let filter = FilterSql::build(conn, filter, None).await?;
        let n = filter.next();
        let sql = format!(
            "{}{}ORDER BY e.at DESC, e.id DESC LIMIT ${n} OFFSET ${}",
            event_record_columns!(),
            filter.clause,
            n + 1
        );
        let rows = filter
            .bind(sqlx::query(&sql), offset + limit)
            .bind(limit)
            .bind(offset)
            .try_map(|row: sqlx::any::AnyRow| EventRecord::from_row(&row))
            .fetch_all(&mut *conn)
            .await?;
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM audit_events e {}LIMIT ${n}) capped",
            filter.clause
        );
        let total: i64 = filter
            .bind(sqlx::query(&sql), COUNT_CAP + 1)
            .bind(COUNT_CAP + 1)
            .try_map(|row: sqlx::any::AnyRow| sqlx::Row::try_get(&row, 0))
            .fetch_one(&mut *conn)
            .await?;
        Ok((rows, total))
    }

    /// Up to `limit` events matching `filter` that come after `after` (from the newest when
    /// `None`) in newest-first order: a page of a walk through the whole trail whose cost does
    /// not grow with how far the walk has gone (no OFFSET), and which neither skips nor repeats
    /// an event when new ones are written meanwhile.
    pub async fn page_after(
        conn: &mut AnyConnection,
        filter: &EventFilter,
        after: Option<TrailPosition>,
        limit: i64,
    ) -> Result<Vec<EventRecord>, sqlx::Error> {
        let filter = FilterSql::build(conn, filter, after).await?;
        let sql = format!(
            "{}{}ORDER BY e.at DESC, e.id DESC LIMIT ${}",
            event_record_columns!(),
            filter.clause,
            filter.next()
        );
        filter
            .bind(sqlx::query(&sql), limit)
            .bind(limit)
            .try_map(|row: sqlx::any::AnyRow| EventRecord::from_row(&row))
            .fetch_all(&mut *conn)
            .await
    }

    /// One page of the events about one account (its subject), whoever caused them, newest
    /// first, and how many there are. Never another account's events.
    pub async fn page_about(
        conn: &mut AnyConnection,
        subject: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EventRecord>, i64), sqlx::Error> {
        let rows: Vec<EventRecord> = sqlx::query_as(concat!(
            event_record_columns!(),
            "WHERE e.subject_user_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(subject)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE subject_user_id = $1")
                .bind(subject)
                .fetch_one(&mut *conn)
                .await?;
        Ok((rows, total))
    }
}
