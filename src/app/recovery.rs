//! Use cases for getting back in: the self-service reset, links an administrator sends or the
//! operator prints, invitations, a password set by someone else, unlocking a throttled account,
//! and the person's own security log.
//!
//! A link is only ever shown once — in the message, or on the operator's screen — and stored as
//! its SHA-256. Using a link sets the password, ends **every** session of the account and kills
//! the link, in one transaction with its event and the "your password changed" message.

use super::accounts::AccountRefusal;
use super::recent_factors::{self, RecentFactor};
use super::{AccountRef, Actor, App};
use crate::app::accounts::NewAccountForm;
use crate::app::error::{AppError, AppResult};
use crate::audit::{self, Event, EventKind, EventRecord, Origin};
use crate::auth::session;
use crate::auth::CurrentSession;
use crate::mail::messages;
use crate::secret::Secret;
use crate::token::looks_like_token;
use crate::users::links::{self, LinkPurpose, MintedLink};
use crate::users::password::{check_new_password, Password};
use crate::users::{normalize_email, CreateUserError, Email, NewUser, Role, User, NO_PASSWORD};

/// The path of a link's page for `token` (the message makes it absolute with `public_url`).
pub fn link_path(token: &str) -> String {
    format!("/password/reset/{token}")
}

impl App {
    fn link_ttl(&self, purpose: LinkPurpose) -> i64 {
        match purpose {
            LinkPurpose::Reset => self.recovery.reset_ttl,
            LinkPurpose::Invitation => self.recovery.invitation_ttl,
        }
    }

    /// The message that carries a link of `purpose` to `user`.
    fn link_letter(&self, user: &User, purpose: LinkPurpose, token: &str) -> crate::mail::Letter {
        let settings = &self.mail.settings;
        let link = settings.link(&link_path(token));
        let ttl = self.link_ttl(purpose);
        match purpose {
            LinkPurpose::Reset => messages::reset_link(settings, user, &link, ttl),
            LinkPurpose::Invitation => messages::invitation(settings, user, &link, ttl),
        }
    }
}

/// The link an account without a password needs is an invitation; anyone else's is a reset.
fn purpose_for(user: &User) -> LinkPurpose {
    if user.has_password() {
        LinkPurpose::Reset
    } else {
        LinkPurpose::Invitation
    }
}

/// Handles "I forgot my password" for a typed address. The request itself does the same work
/// whatever the address: it counts the request, mints a link (random token and its hash), and
/// hands the rest to a background task — the lookup, and for a real, enabled account with a
/// password that has not asked too often, storing the link and queueing its message — so neither
/// the answer nor its timing says whether the account exists. Too many requests from one client
/// are a 429.
pub async fn request_reset(app: &App, typed_email: &str, origin: &Origin) -> AppResult<()> {
    let email = normalize_email(typed_email);
    let minted = app.recovery.mint();
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let attempt = app
        .recovery
        .requests
        .register_attempt(&mut tx, &email, origin.ip.as_deref(), now)
        .await?;
    tx.commit().await?;
    if let Some(retry_after) = attempt.ip_wait {
        let scope = app.recovery.requests.scope;
        return Err(AppError::Throttled { retry_after, scope });
    }
    if attempt.repeat {
        // The account's limit refused an earlier request in this window, which was audited; this
        // one is only counted (the purge writes the count), so a flood writes no row each.
        let kind = EventKind::PasswordResetRequested;
        app.refusals.note(kind, Some(typed_email), origin, now);
        return Ok(());
    }
    let request = ResetRequest {
        email,
        event: Event::new(EventKind::PasswordResetRequested, origin).email(typed_email),
        over_limit: attempt.account_wait.is_some(),
        minted,
    };
    let app = app.clone();
    rocket::tokio::spawn(async move {
        if let Err(error) = answer_reset_request(&app, request).await {
            rocket::warn!("a password reset request could not be completed: {error}");
        }
    });
    Ok(())
}

/// A counted reset request, answered in the background.
struct ResetRequest {
    email: String,
    event: Event,
    over_limit: bool,
    minted: MintedLink,
}

/// Stores and mails the link when the account deserves one; audits the request either way.
async fn answer_reset_request(app: &App, request: ResetRequest) -> AppResult<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let user = User::find_by_email(&mut tx, &request.email).await?;
    let mut event = request.event;
    let mut queued = false;
    match user {
        None => event = event.detail("no such account"),
        Some(user) if request.over_limit => {
            let detail = "too many requests for this account: no link sent";
            event = event.subject(user.id).detail(detail);
        }
        // An invitation is re-sent by an administrator, not replaced by anyone who knows the address.
        Some(user) if !user.has_password() => {
            event = event
                .subject(user.id)
                .detail("invitation pending: no link sent");
        }
        Some(user) => {
            let purpose = LinkPurpose::Reset;
            let ttl = app.link_ttl(purpose);
            if request
                .minted
                .store(&mut tx, user.id, purpose, now, ttl)
                .await?
            {
                let letter = app.link_letter(&user, purpose, request.minted.token());
                app.queue_mail(&mut tx, &user, letter, now).await?;
                event = event.subject(user.id).detail("link sent by e-mail");
                queued = true;
            } else {
                event = event
                    .subject(user.id)
                    .detail("account disabled: no link sent");
            }
        }
    }
    audit::record(&mut tx, now, event).await?;
    tx.commit().await?;
    if queued {
        app.mail_queued();
    }
    Ok(())
}

/// Whom a working link is for, for its page.
#[derive(Debug)]
pub struct LinkHolder {
    pub name: String,
    pub email: String,
    pub purpose: LinkPurpose,
    /// A reset's page offers to remove these (second factors added in the last 24 hours).
    pub recent_factors: Vec<RecentFactor>,
}

/// The account a link opens, if it still works (alive, unused, account enabled).
pub async fn open_link(app: &App, token: &str) -> AppResult<Option<LinkHolder>> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    let mut conn = app.db.read().await?;
    let now = app.clock.now();
    let Some(open) = links::find_open(&mut conn, token, now).await? else {
        return Ok(None);
    };
    let recent_factors = match open.purpose {
        LinkPurpose::Reset => recent_factors::list(&mut conn, open.user.id, now).await?,
        LinkPurpose::Invitation => Vec::new(),
    };
    Ok(Some(LinkHolder {
        name: open.user.name,
        email: open.user.email.as_str().to_string(),
        purpose: open.purpose,
        recent_factors,
    }))
}

/// How using a link went.
#[derive(Debug)]
pub enum LinkUse {
    /// The password is set, every session ended, the link dead.
    PasswordSet { purpose: LinkPurpose, ended: u64 },
    /// Nothing changed: the password does not meet the policy. `holder` is whom the link is
    /// for, to show the form again.
    Refused {
        problem: AccountRefusal,
        holder: LinkHolder,
    },
    /// Expired, used, forged, or its account disabled: one answer for all.
    Invalid,
}

/// Sets a password through a link (a reset or an invitation). With `remove_recent`, a reset
/// also removes the second factors added in the last 24 hours (see `recent_factors`).
pub async fn use_link(
    app: &App,
    token: &str,
    new: &Password,
    confirmation: &Password,
    remove_recent: bool,
    origin: &Origin,
) -> AppResult<LinkUse> {
    let Some(holder) = open_link(app, token).await? else {
        return Ok(LinkUse::Invalid);
    };
    if let Err(problem) = check_new_password(new, confirmation, &holder.email) {
        let problem = AccountRefusal::Password(problem);
        return Ok(LinkUse::Refused { problem, holder });
    }
    let hash = app.passwords.hash(new.expose()).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    // Checked again inside the change: used, expired or disabled meanwhile means no change.
    let Some((user_id, purpose)) = links::consume(&mut tx, token, now).await? else {
        tx.rollback().await?;
        return Ok(LinkUse::Invalid);
    };
    let user = match User::find_by_id(&mut tx, user_id).await? {
        Some(user) if !user.disabled => user,
        _ => {
            tx.rollback().await?;
            return Ok(LinkUse::Invalid);
        }
    };
    super::password::replace(&mut tx, user.id, &hash, false, now).await?;
    if purpose == LinkPurpose::Reset && remove_recent {
        recent_factors::remove(&mut tx, &user, origin, now).await?;
    }
    let ended = session::delete_for_user(&mut tx, user.id, None).await?;
    // Whoever proved they hold the mailbox is no longer locked out by failed guesses.
    app.throttle
        .clear_account(&mut tx, user.email.as_str())
        .await?;
    let kind = match purpose {
        LinkPurpose::Reset => EventKind::PasswordReset,
        LinkPurpose::Invitation => EventKind::InvitationAccepted,
    };
    let event = Event::new(kind, origin)
        .actor(user.id)
        .subject(user.id)
        .detail(format!("{ended} session(s) ended"));
    audit::record(&mut tx, now, event).await?;
    if purpose == LinkPurpose::Reset {
        let settings = &app.mail.settings;
        let letter = messages::password_changed(settings, &user, "with a reset link", now);
        app.queue_mail(&mut tx, &user, letter, now).await?;
    }
    tx.commit().await?;
    if purpose == LinkPurpose::Reset {
        app.mail_queued();
    }
    Ok(LinkUse::PasswordSet { purpose, ended })
}

/// Who gets a link an administrator or the operator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Mailed to the person (the admin page).
    Mail,
    /// Printed for the operator to pass on (the CLI, for when mail is down). The only copy.
    Operator,
}

impl Delivery {
    fn detail(self) -> &'static str {
        match self {
            Delivery::Mail => "link sent by e-mail",
            Delivery::Operator => "link shown to the operator",
        }
    }
}

/// A link that was made.
#[derive(Debug)]
pub struct IssuedLink {
    pub user: User,
    pub purpose: LinkPurpose,
    /// The absolute link, for [`Delivery::Operator`] only.
    pub shown: Option<Secret<String>>,
}

/// Stores `minted` for `user`, mails it or hands it back, and writes the event — inside `tx`.
/// `None` when the account was disabled meanwhile (nothing stored).
async fn issue_link(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    event: Event,
    user: User,
    minted: MintedLink,
    delivery: Delivery,
) -> AppResult<Option<IssuedLink>> {
    let now = app.clock.now();
    let purpose = purpose_for(&user);
    if !minted
        .store(tx, user.id, purpose, now, app.link_ttl(purpose))
        .await?
    {
        return Ok(None);
    }
    let shown = match delivery {
        Delivery::Mail => {
            let letter = app.link_letter(&user, purpose, minted.token());
            app.queue_mail(tx, &user, letter, now).await?;
            None
        }
        Delivery::Operator => Some(app.mail.settings.link(&link_path(minted.token()))),
    };
    let event = event.subject(user.id).detail(format!(
        "{}; valid {} s",
        delivery.detail(),
        app.link_ttl(purpose)
    ));
    audit::record(tx, now, event).await?;
    Ok(Some(IssuedLink {
        user,
        purpose,
        shown: shown.map(Secret::new),
    }))
}

/// How making a reset link went.
#[derive(Debug)]
pub enum ResetLink {
    Issued(IssuedLink),
    NoSuchUser,
    /// A disabled account gets no link: enable it first.
    Disabled,
}

/// Makes a reset link (an invitation, for an account that has no password yet) for an account.
pub async fn reset_link(
    app: &App,
    actor: &Actor,
    target: AccountRef<'_>,
    delivery: Delivery,
) -> AppResult<ResetLink> {
    let minted = app.recovery.mint();
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let user = match target.load(&mut tx).await? {
        None => return Ok(ResetLink::NoSuchUser),
        Some(user) if user.disabled => return Ok(ResetLink::Disabled),
        Some(user) => user,
    };
    let event = actor.event(EventKind::PasswordResetLinkCreated);
    let Some(issued) = issue_link(app, &mut tx, event, user, minted, delivery).await? else {
        return Ok(ResetLink::Disabled);
    };
    tx.commit().await?;
    if delivery == Delivery::Mail {
        app.mail_queued();
    }
    Ok(ResetLink::Issued(issued))
}

/// The invitation form as posted: who, and with which role. No password: they choose it.
#[derive(Debug)]
pub struct InvitationForm<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
}

/// How an invitation went.
#[derive(Debug)]
pub enum Invitation {
    Created(IssuedLink),
    Invalid(AccountRefusal),
    EmailTaken,
}

/// Creates an account without a usable password and an invitation link that sets it.
pub async fn invite(
    app: &App,
    actor: &Actor,
    form: InvitationForm<'_>,
    delivery: Delivery,
) -> AppResult<Invitation> {
    let identity = match NewAccountForm::check_identity(form.name, form.email, form.role) {
        Ok(valid) => valid,
        Err(message) => return Ok(Invitation::Invalid(message)),
    };
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let invitation = invite_in(app, &mut tx, actor, &identity, delivery).await?;
    if !matches!(invitation, Invitation::Created(_)) {
        tx.rollback().await?;
        return Ok(invitation);
    }
    tx.commit().await?;
    if delivery == Delivery::Mail {
        app.mail_queued();
    }
    Ok(invitation)
}

/// The invitation inside the caller's transaction (the form's, or HR's "give access" and the
/// import's): the account, linked to its person's record, its link and its event. Someone whose
/// last day is over gets no account. The caller commits, and then tells the mail task.
pub(super) async fn invite_in(
    app: &App,
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    (name, email, role): &(String, Email, Role),
    delivery: Delivery,
) -> AppResult<Invitation> {
    if let Some(left_on) = app.last_day_over(tx, email).await? {
        return Ok(Invitation::Invalid(AccountRefusal::LeftTheCompany(left_on)));
    }
    let minted = app.recovery.mint();
    let new = NewUser {
        email,
        name,
        role: *role,
        password_hash: Secret::new(NO_PASSWORD),
        must_change_password: false,
    };
    let user = match User::create(tx, &new, None, app.clock.now()).await {
        Ok(user) => user,
        Err(CreateUserError::EmailTaken) => return Ok(Invitation::EmailTaken),
        Err(CreateUserError::LooksLike(existing)) => {
            return Ok(Invitation::Invalid(AccountRefusal::LooksLike(existing)))
        }
        Err(CreateUserError::Database(e)) => return Err(e.into()),
    };
    let event = actor
        .event(EventKind::UserInvited)
        .detail(format!("role {}", role.as_str()));
    let Some(issued) = issue_link(app, tx, event, user, minted, delivery).await? else {
        return Err(AppError::NotFound); // created enabled in this very transaction
    };
    Ok(Invitation::Created(issued))
}

/// How setting someone's password went.
#[derive(Debug)]
pub enum SetPassword {
    Set { user: User, ended: u64 },
    Invalid(AccountRefusal),
    NoSuchUser,
}

/// Sets an account's password (the operator), ending every session of the account and every
/// link; `must_change` holds the person on the password page until they choose their own.
pub async fn set_password(
    app: &App,
    actor: &Actor,
    target: AccountRef<'_>,
    password: (&Password, &Password),
    must_change: bool,
) -> AppResult<SetPassword> {
    let Some(user) = target.load(&mut *app.db.read().await?).await? else {
        return Ok(SetPassword::NoSuchUser);
    };
    if let Err(problem) = check_new_password(password.0, password.1, user.email.as_str()) {
        return Ok(SetPassword::Invalid(AccountRefusal::Password(problem)));
    }
    let hash = app.passwords.hash(password.0.expose()).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(user) = AccountRef::Id(user.id).load(&mut tx).await? else {
        return Ok(SetPassword::NoSuchUser);
    };
    super::password::replace(&mut tx, user.id, &hash, must_change, now).await?;
    let ended = session::delete_for_user(&mut tx, user.id, None).await?;
    let mut event = actor
        .event(EventKind::PasswordSet)
        .subject(user.id)
        .detail(format!("{ended} session(s) ended"));
    if must_change {
        event = event.detail("must be changed at the next sign-in");
    }
    audit::record(&mut tx, now, event).await?;
    let how = "set by an administrator";
    let letter = messages::password_changed(&app.mail.settings, &user, how, now);
    app.queue_mail(&mut tx, &user, letter, now).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(SetPassword::Set { user, ended })
}

/// How an unlock went.
#[derive(Debug)]
pub enum Unlock {
    Unlocked(User),
    /// No failed attempts were counted against the account: nothing written.
    NotLocked(User),
    NoSuchUser,
}

/// Clears the failed-sign-in and reset-request counters of an account.
pub async fn unlock(app: &App, actor: &Actor, target: AccountRef<'_>) -> AppResult<Unlock> {
    let mut tx = app.db.begin_write().await?;
    actor.confirm(&mut tx).await?;
    let Some(user) = target.load(&mut tx).await? else {
        return Ok(Unlock::NoSuchUser);
    };
    let email = user.email.as_str();
    let sign_in = app.throttle.clear_account(&mut tx, email).await?;
    let requests = app.recovery.requests.clear_account(&mut tx, email).await?;
    if !(sign_in || requests) {
        return Ok(Unlock::NotLocked(user));
    }
    let event = actor.event(EventKind::AccountUnlocked).subject(user.id);
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(Unlock::Unlocked(user))
}

/// Until when each account is refused sign-in, for the accounts on an admin page.
pub async fn locked_until(app: &App, users: &[User]) -> AppResult<Vec<Option<i64>>> {
    let emails: Vec<&str> = users.iter().map(|user| user.email.as_str()).collect();
    let mut conn = app.db.read().await?;
    let now = app.clock.now();
    Ok(app.throttle.locked_until(&mut conn, &emails, now).await?)
}

/// One page of the signed-in person's own events — everything that concerns their account,
/// whoever did it — newest first, and how many there are.
pub async fn own_activity(
    app: &App,
    current: &CurrentSession,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<EventRecord>, i64)> {
    let mut conn = app.db.read().await?;
    let user = current.session.user_id;
    Ok(EventRecord::page_about(&mut conn, user, limit, offset).await?)
}
