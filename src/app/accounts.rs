//! Use cases around accounts: create, disable, enable, change role — each with the end of the
//! account's sessions and its event in the same transaction — and the users and audit listings.

use super::{AccountRef, Actor, App};
use crate::app::error::AppResult;
use crate::audit::{self, EventFilter, EventKind, EventRecord};
use crate::auth::session;
use crate::secret::Secret;
use crate::users::devices::KnownDevice;
use crate::users::email::InvalidEmail;
use crate::users::links;
use crate::users::password::{check_new_password, Password, PasswordPolicyError};
use crate::users::{parse_name, AccountChange, CreateUserError, Email, NewUser, Role, User};

/// The new-account form as posted.
#[derive(Debug)]
pub struct NewAccountForm<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub password: &'a Password,
    pub confirmation: &'a Password,
    /// The password is the administrator's choice: the person must replace it at first sign-in.
    pub must_change: bool,
}

impl NewAccountForm<'_> {
    /// Checks who the account is for: name, address and role.
    pub(crate) fn check_identity(
        name: &str,
        email: &str,
        role: &str,
    ) -> Result<(String, Email, Role), AccountRefusal> {
        let name = parse_name(name).map_err(AccountRefusal::Name)?;
        let email = Email::parse(email).map_err(AccountRefusal::Email)?;
        let role = Role::parse(role).ok_or(AccountRefusal::NoRole)?;
        Ok((name, email, role))
    }

    /// Checks every field; the first problem is the refusal.
    pub(crate) fn check(&self) -> Result<(String, Email, Role), AccountRefusal> {
        let (name, email, role) = Self::check_identity(self.name, self.email, self.role)?;
        check_new_password(self.password, self.confirmation, email.as_str())
            .map_err(AccountRefusal::Password)?;
        Ok((name, email, role))
    }
}

/// Why a form that names an account or sets its password was refused (a new account, an
/// invitation, the first-run set-up, a password set by an administrator or through a link);
/// nothing was written. Worded by `web::refusals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRefusal {
    /// The name breaks a rule; the rule's own sentence.
    Name(&'static str),
    Email(InvalidEmail),
    NoRole,
    Password(PasswordPolicyError),
    /// Another account's or employee's address reads the same.
    LooksLike(Email),
    /// The first account must be an administrator.
    FirstAccountIsAdmin,
    /// The address is a leaver's whose last day is over (`None`: a day nobody recorded).
    LeftTheCompany(Option<chrono::NaiveDate>),
}

/// How creating an account went.
#[derive(Debug)]
pub enum CreateAccount {
    Created(User),
    /// Nothing was written.
    Invalid(AccountRefusal),
    EmailTaken,
}

/// Creates an account (administrators on /admin/users, the operator with `user add`).
pub async fn create_account(
    app: &App,
    actor: &Actor,
    form: NewAccountForm<'_>,
) -> AppResult<CreateAccount> {
    let (name, email, role) = match form.check() {
        Ok(valid) => valid,
        Err(message) => return Ok(CreateAccount::Invalid(message)),
    };
    // Hashed before the transaction opens: no connection is held across argon2.
    let hash = app.passwords.hash(form.password.expose()).await?;
    let new = NewUser {
        email: &email,
        name: &name,
        role,
        password_hash: Secret::new(&hash),
        must_change_password: form.must_change,
    };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    if let Some(left_on) = app.last_day_over(&mut tx, &email).await? {
        tx.rollback().await?;
        return Ok(CreateAccount::Invalid(AccountRefusal::LeftTheCompany(
            left_on,
        )));
    }
    let user = match User::create(&mut tx, &new, None, now).await {
        Ok(user) => user,
        Err(CreateUserError::EmailTaken) => {
            tx.rollback().await?;
            return Ok(CreateAccount::EmailTaken);
        }
        Err(CreateUserError::LooksLike(existing)) => {
            tx.rollback().await?;
            return Ok(CreateAccount::Invalid(AccountRefusal::LooksLike(existing)));
        }
        Err(CreateUserError::Database(e)) => return Err(e.into()),
    };
    let event = actor
        .event(EventKind::UserCreated)
        .subject(user.id)
        .detail(format!("role {}", role.as_str()));
    audit::record(&mut tx, now, event).await?;
    tx.commit().await?;
    Ok(CreateAccount::Created(user))
}

/// What is being changed about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Disable,
    Enable,
    Role(Role),
}

/// How an account change went.
#[derive(Debug)]
pub enum AccountOutcome {
    /// Changed; `ended` sessions were signed out with it. `user` is the account as it was.
    Changed {
        user: User,
        ended: u64,
    },
    /// Already so: nothing written, no event.
    Unchanged(User),
    NoSuchUser,
    WouldLeaveNoAdmin,
    /// Enabling a leaver whose last day is over: their record must change first (a rehire).
    LeftTheCompany(Option<chrono::NaiveDate>),
}

/// Disables, enables or changes the role of an account. Disabling or a role change ends every
/// session of the account (new rights apply from a fresh sign-in) in the same transaction as the
/// change and its event. The last enabled administrator cannot be disabled or demoted.
pub async fn change_account(
    app: &App,
    actor: &Actor,
    target: AccountRef<'_>,
    action: AccountAction,
) -> AppResult<AccountOutcome> {
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(user) = target.load(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(AccountOutcome::NoSuchUser);
    };
    if action == AccountAction::Enable {
        if let Some(left_on) = app.last_day_over(&mut tx, &user.email).await? {
            tx.rollback().await?;
            return Ok(AccountOutcome::LeftTheCompany(left_on));
        }
    }
    let change = match action {
        AccountAction::Disable => User::set_disabled(&mut tx, user.id, true).await?,
        AccountAction::Enable => User::set_disabled(&mut tx, user.id, false).await?,
        AccountAction::Role(role) => User::set_role(&mut tx, user.id, role).await?,
    };
    match change {
        AccountChange::Changed => {}
        AccountChange::Unchanged => {
            tx.rollback().await?;
            return Ok(AccountOutcome::Unchanged(user));
        }
        AccountChange::NoSuchUser => {
            tx.rollback().await?;
            return Ok(AccountOutcome::NoSuchUser);
        }
        AccountChange::WouldLeaveNoAdmin => {
            tx.rollback().await?;
            return Ok(AccountOutcome::WouldLeaveNoAdmin);
        }
    }
    let ended = match action {
        AccountAction::Disable | AccountAction::Role(_) => {
            session::delete_for_user(&mut tx, user.id, None).await?
        }
        AccountAction::Enable => 0,
    };
    if action == AccountAction::Disable {
        // A disabled account's links and trusted browsers must not outlive the decision.
        links::delete_for_user(&mut tx, user.id).await?;
        KnownDevice::delete_for_user(&mut tx, user.id).await?;
    }
    let kind = match action {
        AccountAction::Disable => EventKind::UserDisabled,
        AccountAction::Enable => EventKind::UserEnabled,
        AccountAction::Role(_) => EventKind::RoleChanged,
    };
    let mut event = actor
        .event(kind)
        .subject(user.id)
        .detail(format!("{ended} session(s) ended"));
    if let AccountAction::Role(role) = action {
        event = event.detail(format!("{} → {}", user.role.as_str(), role.as_str()));
    }
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(AccountOutcome::Changed { user, ended })
}

/// One page of accounts matching `search` (name or e-mail) and how many match.
pub async fn users_page(
    app: &App,
    search: &str,
    order: crate::users::AccountOrder,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<User>, i64)> {
    Ok(User::list(&mut *app.db.read().await?, search, order, limit, offset).await?)
}

/// One account, for a page about it (`None`: no such account).
pub async fn account(app: &App, user_id: crate::ids::UserId) -> AppResult<Option<User>> {
    let mut conn = app.db.read().await?;
    Ok(AccountRef::Id(user_id).load(&mut conn).await?)
}

/// Every account, for the command line.
pub async fn all_users(app: &App) -> AppResult<Vec<User>> {
    Ok(User::all(&mut *app.db.read().await?).await?)
}

/// One page of the audit trail, newest first, and how many events match.
pub async fn audit_page(
    app: &App,
    filter: &EventFilter,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<EventRecord>, i64)> {
    Ok(EventRecord::page(&mut *app.db.read().await?, filter, limit, offset).await?)
}
