//! People and their access are one lifecycle. An account belongs to the employee record with the
//! same work e-mail; when that person's last day is over — at once if it already is when the
//! record is saved, otherwise at midnight after it in the company's time zone — one transaction
//! disables the account, ends its sessions, pending sign-ins, links and trusted browsers, and
//! records "access ended". Every instance sweeps on its own schedule, and the update that
//! disables the account is the lock: whichever instance gets it first ends the access, the
//! others find nothing to do, so it happens exactly once. Rehiring restores nothing by itself:
//! an administrator gives access again.

use chrono::NaiveDate;

use super::recovery::{self, Delivery, Invitation};
use super::{Actor, App};
use crate::app::error::AppResult;
use crate::audit::{self, EventKind};
use crate::auth::{pending_login, session};
use crate::hr::employee::access::{DueLeaver, LinkedAccount};
use crate::hr::employee::validation::parse_last_day;
use crate::hr::{begin_hr_write, display_date, Employee};
use crate::ids::{EmployeeId, UserId};
use crate::users::devices::KnownDevice;
use crate::users::{links, AccountChange, Email, Role, User};

/// Longest reason accepted for ending someone's access by hand.
pub const MAX_REASON_CHARS: usize = 300;

/// After a record was written inside `conn`'s transaction: links it to the account with its work
/// e-mail, and ends that account's access when the person's last day is over.
pub async fn settle_access(
    conn: &mut sqlx::AnyConnection,
    app: &App,
    actor: &Actor,
    employee: EmployeeId,
    now: i64,
) -> AppResult<()> {
    Employee::link_account(conn, employee).await?;
    let today = app.calendar.date_at(now);
    for leaver in Employee::leavers_due(conn, today, Some(employee)).await? {
        end_access(conn, actor, leaver.user_id, last_day_passed(&leaver), now).await?;
    }
    Ok(())
}

fn last_day_passed(leaver: &DueLeaver) -> String {
    match leaver.left_on {
        Some(day) => format!("last day {} passed", display_date(day)),
        None => "left the company (last day not recorded)".to_string(),
    }
}

/// Disables the account and ends everything that lets it in, with its event — inside `conn`'s
/// transaction. `None` when the account was disabled already (by another instance's sweep a
/// moment ago, say): then nothing is written.
async fn end_access(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    user: UserId,
    why: String,
    now: i64,
) -> AppResult<Option<u64>> {
    if !User::disable_for_leaving(conn, user).await? {
        return Ok(None);
    }
    let ended = session::delete_for_user(conn, user, None).await?;
    pending_login::delete_for_user(conn, user).await?;
    links::delete_for_user(conn, user).await?;
    KnownDevice::delete_for_user(conn, user).await?;
    let event = actor
        .event(EventKind::AccessEnded)
        .subject(user)
        .detail(why)
        .detail(format!("{ended} session(s) ended"));
    audit::record(conn, now, event).await?;
    Ok(Some(ended))
}

/// Ends the access of every leaver whose last day is over (the schedule on every instance, and
/// `hr-portal employees offboard-due`): one transaction per person. Returns the people this
/// call ended; those another instance ended first are not among them.
pub async fn offboard_due(app: &App, actor: &Actor) -> AppResult<Vec<DueLeaver>> {
    let due = Employee::leavers_due(&mut *app.db.read().await?, app.today(), None).await?;
    let mut ended = Vec::new();
    for candidate in due {
        let now = app.clock.now();
        let mut tx = app.db.begin_write().await?;
        actor.confirm(&mut tx).await?;
        let today = app.calendar.date_at(now);
        let still_due = Employee::leavers_due(&mut tx, today, Some(candidate.employee_id)).await?;
        let Some(leaver) = still_due.into_iter().next() else {
            tx.rollback().await?;
            continue;
        };
        match end_access(
            &mut tx,
            actor,
            leaver.user_id,
            last_day_passed(&leaver),
            now,
        )
        .await?
        {
            Some(_) => {
                tx.commit().await?;
                ended.push(leaver);
            }
            None => tx.rollback().await?,
        }
    }
    Ok(ended)
}

/// How "Offboard" went.
#[derive(Debug)]
pub enum Offboard {
    /// The last day is recorded; `access_ended` when it was already over, so the account (if
    /// any) was disabled and its sessions ended in the same transaction.
    Offboarded {
        name: String,
        last_day: NaiveDate,
        access_ended: bool,
    },
    /// The last day was refused (the message says why); nothing was written.
    Invalid(String),
    NoSuchEmployee,
}

/// The record the Offboard page is about (`None`: no such employee).
pub async fn leaver_to_be(app: &App, employee: EmployeeId) -> AppResult<Option<Employee>> {
    Ok(Employee::find(&mut *app.db.read().await?, employee).await?)
}

/// Offboards someone (HR): records their last day and that they leave, with the record's event,
/// then settles their access like any saved record — at once when the day is already over,
/// otherwise the midnight sweep after it ends it.
pub async fn offboard(
    app: &App,
    actor: &Actor,
    employee: EmployeeId,
    last_day: &str,
) -> AppResult<Offboard> {
    let mut tx = begin_hr_write(&app.db).await?;
    actor.confirm(&mut tx).await?;
    let Some(before) = Employee::find(&mut tx, employee).await? else {
        tx.rollback().await?;
        return Ok(Offboard::NoSuchEmployee);
    };
    let last_day = match parse_last_day(last_day, before.start_date) {
        Ok(day) => day,
        Err(message) => {
            tx.rollback().await?;
            return Ok(Offboard::Invalid(message));
        }
    };
    Employee::set_last_day(&mut tx, employee, last_day).await?;
    let Some(after) = Employee::find(&mut tx, employee).await? else {
        tx.rollback().await?;
        return Ok(Offboard::NoSuchEmployee);
    };
    let changes = before.changes_to(&after);
    let now = app.clock.now();
    if !changes.is_empty() {
        let event =
            super::people::employee_event(actor, EventKind::EmployeeUpdated, employee, &after.name)
                .detail(format!("offboarded: {}", changes.join("; ")));
        audit::record(&mut tx, now, event).await?;
    }
    let disabled_before = Employee::linked_account(&mut tx, employee)
        .await?
        .is_some_and(|a| a.disabled);
    settle_access(&mut tx, app, actor, employee, now).await?;
    let access_ended = !disabled_before
        && Employee::linked_account(&mut tx, employee)
            .await?
            .is_some_and(|a| a.disabled);
    tx.commit().await?;
    app.company.invalidate();
    Ok(Offboard::Offboarded {
        name: after.name,
        last_day,
        access_ended,
    })
}

/// Where a record's account stands, as its profile shows administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    None,
    /// Invited: no password chosen yet.
    Invited,
    Active,
    Disabled,
    /// Refused sign-in for now after too many failed attempts.
    Locked,
}

/// The account of a record and how many of its sessions are live.
#[derive(Debug, Clone)]
pub struct AccessStatus {
    pub state: AccountState,
    pub account: Option<LinkedAccount>,
    pub live_sessions: i64,
}

/// The account belonging to `employee` and its state.
pub async fn access_status(app: &App, employee: EmployeeId) -> AppResult<AccessStatus> {
    let mut conn = app.db.read().await?;
    let Some(account) = Employee::linked_account(&mut conn, employee).await? else {
        return Ok(AccessStatus {
            state: AccountState::None,
            account: None,
            live_sessions: 0,
        });
    };
    let now = app.clock.now();
    let live = app.limits.live_at(now);
    let live_sessions = session::count_for_user(&mut conn, account.user_id, live).await?;
    let locked = app
        .throttle
        .locked_until(&mut conn, &[account.email.as_str()], now)
        .await?
        .first()
        .is_some_and(Option::is_some);
    let state = if account.disabled {
        AccountState::Disabled
    } else if !account.has_password {
        AccountState::Invited
    } else if locked {
        AccountState::Locked
    } else {
        AccountState::Active
    };
    Ok(AccessStatus {
        state,
        account: Some(account),
        live_sessions,
    })
}

/// How "Give access" went.
#[derive(Debug)]
pub enum GiveAccess {
    /// An invitation went to the record's work e-mail.
    Invited(Email),
    /// The person's disabled account works again (a rehire).
    Enabled,
    AlreadyActive,
    /// Their last day is over: change the record first (status back to active for a rehire).
    LeftTheCompany(Option<NaiveDate>),
    /// The invitation was refused (an address that reads like another, say).
    Refused(super::accounts::AccountRefusal),
    /// An account with that address exists and belongs to another record.
    EmailTaken,
    NoSuchEmployee,
}

/// Gives the person of `employee` access: an invitation to their work e-mail when they have no
/// account, their account enabled again when it was disabled.
pub async fn give_access(app: &App, actor: &Actor, employee: EmployeeId) -> AppResult<GiveAccess> {
    let mut tx = begin_hr_write(&app.db).await?;
    actor.confirm(&mut tx).await?;
    let outcome = give_access_in(&mut tx, app, actor, employee).await?;
    match outcome {
        GiveAccess::Invited(_) => {
            tx.commit().await?;
            app.mail_queued();
        }
        GiveAccess::Enabled => tx.commit().await?,
        _ => tx.rollback().await?,
    }
    Ok(outcome)
}

async fn give_access_in(
    tx: &mut sqlx::AnyConnection,
    app: &App,
    actor: &Actor,
    employee: EmployeeId,
) -> AppResult<GiveAccess> {
    let Some(record) = Employee::find(tx, employee).await? else {
        return Ok(GiveAccess::NoSuchEmployee);
    };
    let email = Email::from_stored(record.email.clone())?;
    if let Some(left_on) = app.last_day_over(tx, &email).await? {
        return Ok(GiveAccess::LeftTheCompany(left_on));
    }
    match Employee::linked_account(tx, employee).await? {
        Some(account) if account.disabled => {
            if User::set_disabled(tx, account.user_id, false).await? != AccountChange::Changed {
                return Ok(GiveAccess::AlreadyActive);
            }
            let event = actor
                .event(EventKind::UserEnabled)
                .subject(account.user_id)
                .detail(format!("access given again to {}", record.name));
            audit::record(tx, app.clock.now(), event).await?;
            Ok(GiveAccess::Enabled)
        }
        Some(_) => Ok(GiveAccess::AlreadyActive),
        None => Ok(match invite_employee(tx, app, actor, employee).await? {
            InviteOutcome::Invited(email) => GiveAccess::Invited(email),
            InviteOutcome::HasAccount => GiveAccess::AlreadyActive,
            InviteOutcome::LeftTheCompany(day) => GiveAccess::LeftTheCompany(day),
            InviteOutcome::Refused(refusal) => GiveAccess::Refused(refusal),
            InviteOutcome::EmailTaken => GiveAccess::EmailTaken,
            InviteOutcome::NoSuchEmployee => GiveAccess::NoSuchEmployee,
        }),
    }
}

/// How inviting a record's person went.
#[derive(Debug)]
pub enum InviteOutcome {
    /// An employee account was created, linked, and its invitation queued in the outbox.
    Invited(Email),
    HasAccount,
    LeftTheCompany(Option<NaiveDate>),
    Refused(super::accounts::AccountRefusal),
    EmailTaken,
    NoSuchEmployee,
}

/// Invites the person of `employee` inside the caller's transaction (HR's "Give access", the
/// import's "invite new people"): an employee account for their work e-mail, linked to the
/// record, and its invitation queued. The caller commits, then calls `app.mail_queued()`.
pub async fn invite_employee(
    conn: &mut sqlx::AnyConnection,
    app: &App,
    actor: &Actor,
    employee: EmployeeId,
) -> AppResult<InviteOutcome> {
    let Some(record) = Employee::find(conn, employee).await? else {
        return Ok(InviteOutcome::NoSuchEmployee);
    };
    if Employee::linked_account(conn, employee).await?.is_some() {
        return Ok(InviteOutcome::HasAccount);
    }
    let email = Email::from_stored(record.email)?;
    let identity = (record.name, email.clone(), Role::Employee);
    Ok(
        match recovery::invite_in(app, conn, actor, &identity, Delivery::Mail).await? {
            Invitation::Created(_) => InviteOutcome::Invited(email),
            Invitation::Invalid(super::accounts::AccountRefusal::LeftTheCompany(day)) => {
                InviteOutcome::LeftTheCompany(day)
            }
            Invitation::Invalid(refusal) => InviteOutcome::Refused(refusal),
            Invitation::EmailTaken => InviteOutcome::EmailTaken,
        },
    )
}

/// Why ending someone's access by hand was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndAccessRefusal {
    /// A reason is required (1..=300 characters, one line): it is what the audit trail keeps.
    Reason,
    /// Administrators end their own access by leaving, not from their own profile.
    OwnAccount,
}

/// How "End access now" went.
#[derive(Debug)]
pub enum EndAccess {
    Ended { name: String, sessions: u64 },
    AlreadyEnded,
    NoAccount,
    Refused(EndAccessRefusal),
    NoSuchEmployee,
}

/// Ends the access of `employee`'s account at once, with a reason (a dismissal): the same
/// transaction the end of a last day runs, with the reason on record.
pub async fn end_access_now(
    app: &App,
    actor: &Actor,
    employee: EmployeeId,
    reason: &str,
) -> AppResult<EndAccess> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Ok(EndAccess::Refused(EndAccessRefusal::Reason));
    }
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(record) = Employee::find(&mut tx, employee).await? else {
        tx.rollback().await?;
        return Ok(EndAccess::NoSuchEmployee);
    };
    let Some(account) = Employee::linked_account(&mut tx, employee).await? else {
        tx.rollback().await?;
        return Ok(EndAccess::NoAccount);
    };
    if actor.user_id() == Some(account.user_id) {
        tx.rollback().await?;
        return Ok(EndAccess::Refused(EndAccessRefusal::OwnAccount));
    }
    let why = format!("ended by hand: {reason}");
    match end_access(&mut tx, actor, account.user_id, why, now).await? {
        Some(sessions) => {
            tx.commit().await?;
            Ok(EndAccess::Ended {
                name: record.name,
                sessions,
            })
        }
        None => {
            tx.rollback().await?;
            Ok(EndAccess::AlreadyEnded)
        }
    }
}
