//! The admin area: every session, every account, the audit trail. `AdminUser` guards each route.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::accounts::{self, AccountAction, AccountOutcome, CreateAccount, NewAccountForm};
use crate::app::mail;
use crate::app::recovery::{self, Delivery, Invitation, InvitationForm, ResetLink, Unlock};
use crate::app::sessions::{self, Revoke};
use crate::app::{passkeys, two_factor};
use crate::app::{AccountRef, Actor, App};
use crate::audit::{EventFilter, EventKind};
use crate::auth::guard::{SessionCookie, SessionForm};
use crate::auth::AdminUser;
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::mail::outbox::QueuedMessage;
use crate::text::search_term;
use crate::users::links::LinkPurpose;
use crate::users::password::Password;
use crate::users::{Role, User};
use crate::web::handle::{Handle, NotAHandle};
use crate::web::page::{self, page_window, Layout, Pagination};
use crate::web::page::{Notice, NoticeRedirect};
use crate::web::views::{EventRow, Moment, SelectOption, SessionRow};

use super::CsrfOnly;

const SESSIONS_PER_PAGE: i64 = 50;
const USERS_PER_PAGE: i64 = 50;
const EVENTS_PER_PAGE: i64 = 100;
const MESSAGES_PER_PAGE: i64 = 50;

#[get("/admin/sessions?<email>&<page>")]
async fn sessions_page(
    admin: AdminUser,
    email: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let filter = search_term(email);
    let (page, offset) = page_window(page, SESSIONS_PER_PAGE);
    let (counts, rows) = sessions::all_sessions(app, &filter, SESSIONS_PER_PAGE, offset).await?;
    Ok(Template::render(
        "admin_sessions.html",
        context! {
            layout: Layout::signed_in(current, flash),
            csrf_token: current.csrf_token(),
            filter: &filter,
            counts,
            pagination: Pagination::new(page, SESSIONS_PER_PAGE, counts.live_sessions)
                .with_query("email", &filter),
            sessions: SessionRow::rows(rows, current, app.clock.now()),
        },
    ))
}

/// Whether the admin's own session ended with a change (then their cookie goes too, and they
/// land on the login page).
fn after_ending(own_session_ended: bool, cookie: &SessionCookie<'_>) -> bool {
    if own_session_ended {
        cookie.clear();
    }
    own_session_ended
}

#[post("/admin/sessions/<handle>/revoke", data = "<form>")]
async fn revoke_session(
    admin: AdminUser,
    handle: Result<Handle<'_>, NotAHandle>,
    form: SessionForm<CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let handle = handle?.as_str();
    let here = uri!(sessions_page(_, _));
    match sessions::revoke(app, &Actor::admin(&admin, form.origin), handle).await? {
        Revoke::AlreadyEnded => Ok(page::done(here, "That session had already ended.")),
        Revoke::Revoked { own_session } if after_ending(own_session, &cookie) => Ok(page::done(
            uri!("/login"),
            "You revoked your own session and are signed out.",
        )),
        Revoke::Revoked { .. } => Ok(page::done(here, "The session has been revoked.")),
    }
}

#[post("/admin/users/<user_id>/sessions/revoke", data = "<form>")]
async fn force_logout(
    admin: AdminUser,
    user_id: UserId,
    form: SessionForm<CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let actor = Actor::admin(&admin, form.origin);
    let Some(out) = sessions::force_logout(app, &actor, AccountRef::Id(user_id)).await? else {
        return Err(AppError::NotFound);
    };
    let done = format!(
        "{} was signed out everywhere ({} session(s)).",
        out.user.name, out.ended
    );
    let own = "All your sessions were signed out.";
    let back = uri!(sessions_page(_, _));
    Ok(after_ending_all(
        &admin, &out.user, &cookie, own, back, done,
    ))
}

/// Where an administrator lands after a change that ended every session of `user`: the login
/// page when `user` was themselves (their cookie goes too, with `own` as the message), else `back`
/// with `message`.
fn after_ending_all(
    admin: &AdminUser,
    user: &User,
    cookie: &SessionCookie<'_>,
    own: &str,
    back: rocket::http::uri::Origin<'static>,
    message: String,
) -> NoticeRedirect {
    if after_ending(user.id == admin.0.id, cookie) {
        return page::done(uri!("/login"), own);
    }
    page::done(back, message)
}

/// An account as the users table shows it.
#[derive(Debug, Serialize)]
struct UserRow {
    id: UserId,
    name: String,
    email: String,
    role: &'static str,
    role_label: &'static str,
    disabled: bool,
    /// Invited, and the invitation not used yet: no password.
    invited: bool,
    must_change_password: bool,
    /// Signs in with a second factor.
    two_factor: bool,
    /// How many passkeys the account has registered.
    passkeys: i64,
    /// Refused sign-in after too many failures, until then.
    locked_until: Option<Moment>,
    created: Moment,
    is_self: bool,
}

/// An account form as typed (new account or invitation), shown again after a refusal.
#[derive(Debug, Serialize)]
struct AccountDraft {
    name: String,
    email: String,
    role: String,
    error: Option<String>,
}

impl Default for AccountDraft {
    fn default() -> Self {
        AccountDraft {
            name: String::new(),
            email: String::new(),
            role: Role::Employee.as_str().into(),
            error: None,
        }
    }
}

impl AccountDraft {
    /// A form as it was sent, with what was wrong with it.
    fn as_sent(name: String, email: String, role: String, error: String) -> AccountDraft {
        AccountDraft {
            name,
            email,
            role,
            error: Some(error),
        }
    }
}

const EMAIL_TAKEN: &str = "An account with that e-mail address already exists.";

/// The users page again after a refused form, that form filled in as it was sent.
async fn refused(
    admin: &AdminUser,
    app: &App,
    status: Status,
    forms: UserForms,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let page = users_listing(admin, app, "", None, None, forms).await?;
    Ok(Either::Right((status, page)))
}

/// The two forms under the users table.
#[derive(Debug, Default, Serialize)]
struct UserForms {
    new_user: AccountDraft,
    invitation: AccountDraft,
}

/// The users page: one page of accounts plus the new-account and invitation forms.
async fn users_listing(
    admin: &AdminUser,
    app: &App,
    query: &str,
    page: Option<i64>,
    flash: Option<Notice>,
    forms: UserForms,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let (page, offset) = page_window(page, USERS_PER_PAGE);
    let (users, total) = accounts::users_page(app, query, USERS_PER_PAGE, offset).await?;
    let locks = recovery::locked_until(app, &users).await?;
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let with_two_factor = two_factor::enabled_among(app, &ids).await?;
    let passkey_counts: std::collections::HashMap<UserId, i64> = passkeys::counts_among(app, &ids)
        .await?
        .into_iter()
        .collect();
    let now = app.clock.now();
    let rows: Vec<UserRow> = users
        .into_iter()
        .zip(locks)
        .map(|(u, locked_until)| UserRow {
            is_self: u.id == admin.0.id,
            invited: !u.has_password(),
            id: u.id,
            name: u.name,
            email: u.email.to_string(),
            role: u.role.as_str(),
            role_label: u.role.label(),
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            two_factor: with_two_factor.contains(&u.id),
            passkeys: passkey_counts.get(&u.id).copied().unwrap_or(0),
            locked_until: locked_until.map(|until| Moment::at(until, now)),
            created: Moment::at(u.created_at, now),
        })
        .collect();
    let roles: Vec<SelectOption> = Role::ALL
        .into_iter()
        .map(|r| SelectOption::new(r.as_str(), r.label(), false))
        .collect();
    Ok(Template::render(
        "admin_users.html",
        context! {
            layout: Layout::signed_in(current, flash),
            csrf_token: current.csrf_token(),
            query,
            users: rows,
            pagination: Pagination::new(page, USERS_PER_PAGE, total).with_query("q", query),
            roles,
            forms,
        },
    ))
}

#[get("/admin/users?<q>&<page>")]
async fn users_page(
    admin: AdminUser,
    q: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let forms = UserForms::default();
    users_listing(&admin, app, &search_term(q), page, flash, forms).await
}

/// The new-account form (its `Debug` redacts the passwords).
#[derive(Debug, FromForm)]
pub struct NewUserFields {
    #[field(default = "")]
    name: String,
    #[field(default = "")]
    email: String,
    #[field(default = "")]
    role: String,
    password: Password,
    password_confirm: Password,
    /// Hold the person on the password page until they choose their own.
    #[field(default = false)]
    must_change: bool,
    #[field(default = "")]
    csrf_token: String,
}

csrf_protected!(NewUserFields);

#[post("/admin/users", data = "<form>")]
async fn create_user(
    admin: AdminUser,
    form: SessionForm<NewUserFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let SessionForm {
        form: fields,
        origin,
        ..
    } = form;
    let new = NewAccountForm {
        name: &fields.name,
        email: &fields.email,
        role: &fields.role,
        password: &fields.password,
        confirmation: &fields.password_confirm,
        must_change: fields.must_change,
    };
    let (status, error) =
        match accounts::create_account(app, &Actor::admin(&admin, origin), new).await? {
            CreateAccount::Created(user) => {
                let message = format!("Account for {} created.", user.name);
                return Ok(Either::Left(page::done(uri!(users_page(_, _)), message)));
            }
            CreateAccount::Invalid(message) => (Status::UnprocessableEntity, message),
            CreateAccount::EmailTaken => (Status::Conflict, EMAIL_TAKEN.to_string()),
        };
    let forms = UserForms {
        new_user: AccountDraft::as_sent(fields.name, fields.email, fields.role, error),
        ..UserForms::default()
    };
    refused(&admin, app, status, forms).await
}

/// The invitation form: who, with which role; they choose their password through the link.
#[derive(Debug, FromForm)]
pub struct InvitationFields {
    #[field(default = "")]
    name: String,
    #[field(default = "")]
    email: String,
    #[field(default = "")]
    role: String,
    #[field(default = "")]
    csrf_token: String,
}

csrf_protected!(InvitationFields);

#[post("/admin/users/invite", data = "<form>")]
async fn invite_user(
    admin: AdminUser,
    form: SessionForm<InvitationFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let SessionForm {
        form: fields,
        origin,
        ..
    } = form;
    let invitation = InvitationForm {
        name: &fields.name,
        email: &fields.email,
        role: &fields.role,
    };
    let actor = Actor::admin(&admin, origin);
    let (status, error) = match recovery::invite(app, &actor, invitation, Delivery::Mail).await? {
        Invitation::Created(issued) => {
            let message = format!(
                "{} is invited: the link to choose a password is on its way to {}.",
                issued.user.name, issued.user.email
            );
            return Ok(Either::Left(page::done(uri!(users_page(_, _)), message)));
        }
        Invitation::Invalid(message) => (Status::UnprocessableEntity, message),
        Invitation::EmailTaken => (Status::Conflict, EMAIL_TAKEN.to_string()),
    };
    let forms = UserForms {
        invitation: AccountDraft::as_sent(fields.name, fields.email, fields.role, error),
        ..UserForms::default()
    };
    refused(&admin, app, status, forms).await
}

/// Mails a reset link (an invitation again, if the account has no password yet).
#[post("/admin/users/<user_id>/reset-link", data = "<form>")]
async fn send_reset_link(
    admin: AdminUser,
    user_id: UserId,
    form: SessionForm<CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let actor = Actor::admin(&admin, form.origin);
    let here = uri!(users_page(_, _));
    let target = AccountRef::Id(user_id);
    match recovery::reset_link(app, &actor, target, Delivery::Mail).await? {
        ResetLink::NoSuchUser => Err(AppError::NotFound),
        ResetLink::Disabled => Ok(page::failed(
            here,
            "That account is disabled; enable it before sending a link.",
        )),
        ResetLink::Issued(issued) => {
            let what = match issued.purpose {
                LinkPurpose::Reset => "A password reset link",
                LinkPurpose::Invitation => "A new invitation link",
            };
            let message = format!("{what} is on its way to {}.", issued.user.email);
            Ok(page::done(here, message))
        }
    }
}

/// Removes someone's second factor (a lost phone): their sessions end, they are mailed, and the
/// password alone signs them in until they set up a new authenticator.
#[post("/admin/users/<user_id>/reset-two-factor", data = "<form>")]
async fn reset_two_factor(
    admin: AdminUser,
    user_id: UserId,
    form: SessionForm<CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let actor = Actor::admin(&admin, form.origin);
    let Some(reset) = two_factor::reset(app, &actor, AccountRef::Id(user_id)).await? else {
        return Err(AppError::NotFound);
    };
    let done = format!(
        "{}: {}; {} session(s) signed out.",
        reset.user.name,
        reset.summary(),
        reset.ended
    );
    let own = "Your two-factor sign-in was reset and your sessions were signed out.";
    let back = uri!(users_page(_, _));
    Ok(after_ending_all(
        &admin,
        &reset.user,
        &cookie,
        own,
        back,
        done,
    ))
}

/// Clears an account's failed sign-in count, so its owner can try again now.
#[post("/admin/users/<user_id>/unlock", data = "<form>")]
async fn unlock_user(
    admin: AdminUser,
    user_id: UserId,
    form: SessionForm<CsrfOnly>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let actor = Actor::admin(&admin, form.origin);
    let here = uri!(users_page(_, _));
    match recovery::unlock(app, &actor, AccountRef::Id(user_id)).await? {
        Unlock::NoSuchUser => Err(AppError::NotFound),
        Unlock::NotLocked(user) => Ok(page::done(
            here,
            format!("{} had no failed sign-ins to clear.", user.name),
        )),
        Unlock::Unlocked(user) => Ok(page::done(
            here,
            format!("{} can sign in again.", user.name),
        )),
    }
}

/// Applies an account action and says how it went.
async fn change_account(
    admin: &AdminUser,
    user_id: UserId,
    action: AccountAction,
    actor: Actor,
    cookie: &SessionCookie<'_>,
    app: &App,
) -> AppResult<NoticeRedirect> {
    let here = uri!(users_page(_, _));
    let (user, ended) =
        match accounts::change_account(app, &actor, AccountRef::Id(user_id), action).await? {
            AccountOutcome::NoSuchUser => return Err(AppError::NotFound),
            AccountOutcome::WouldLeaveNoAdmin => {
                return Ok(page::failed(
                    here,
                    "That would leave no enabled administrator; promote someone else first.",
                ))
            }
            AccountOutcome::Unchanged(_) => return Ok(page::done(here, "Nothing to change.")),
            AccountOutcome::Changed { user, ended } => (user, ended),
        };
    let message = match action {
        AccountAction::Disable => {
            format!("{} is disabled and was signed out everywhere.", user.name)
        }
        AccountAction::Enable => format!("{} is enabled.", user.name),
        AccountAction::Role(role) => format!(
            "{} is now {}; they must sign in again.",
            user.name,
            role.label().to_lowercase()
        ),
    };
    if after_ending(user.id == admin.0.id && ended > 0, cookie) {
        return Ok(page::done(uri!("/login"), message));
    }
    Ok(page::done(here, message))
}

/// `/admin/users/<id>/disable` and `/admin/users/<id>/enable`. The last segment is read here,
/// not by a `FromParam` type: a failed parameter would forward with 422, and that would replace
/// the 401 (→ sign-in redirect) an anonymous POST to `/role` forwards with.
#[post("/admin/users/<user_id>/<access>", data = "<form>", rank = 2)]
async fn switch_access(
    admin: AdminUser,
    user_id: UserId,
    access: &str,
    form: SessionForm<CsrfOnly>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let action = match access {
        "disable" => AccountAction::Disable,
        "enable" => AccountAction::Enable,
        _ => return Err(AppError::NotFound),
    };
    let actor = Actor::admin(&admin, form.origin);
    change_account(&admin, user_id, action, actor, &cookie, app).await
}

#[derive(Debug, FromForm)]
pub struct RoleFields {
    #[field(default = "")]
    role: String,
    #[field(default = "")]
    csrf_token: String,
}

csrf_protected!(RoleFields);

#[post("/admin/users/<user_id>/role", data = "<form>")]
async fn change_role(
    admin: AdminUser,
    user_id: UserId,
    form: SessionForm<RoleFields>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<NoticeRedirect> {
    let Some(role) = Role::parse(&form.form.role) else {
        return Err(AppError::BadRequest("Unknown role.".into()));
    };
    let actor = Actor::admin(&admin, form.origin);
    change_account(
        &admin,
        user_id,
        AccountAction::Role(role),
        actor,
        &cookie,
        app,
    )
    .await
}

#[get("/admin/mail?<page>")]
async fn mail_page(
    admin: AdminUser,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let (page, offset) = page_window(page, MESSAGES_PER_PAGE);
    let (messages, counts) = mail::undelivered(app, MESSAGES_PER_PAGE, offset).await?;
    let now = app.clock.now();
    let rows: Vec<MessageRow> = messages
        .into_iter()
        .map(|m| MessageRow::new(m, now))
        .collect();
    Ok(Template::render(
        "admin_mail.html",
        context! {
            layout: Layout::signed_in(current, flash),
            counts,
            messages: rows,
            pagination: Pagination::new(page, MESSAGES_PER_PAGE, counts.waiting + counts.failed),
        },
    ))
}

/// A message that has not been delivered, as the mail page shows it.
#[derive(Debug, Serialize)]
struct MessageRow {
    recipient: String,
    subject: String,
    queued: Moment,
    attempts: i64,
    failed: bool,
    next_attempt: Moment,
    last_error: String,
}

impl MessageRow {
    fn new(m: QueuedMessage, now: i64) -> Self {
        MessageRow {
            recipient: m.recipient,
            subject: m.subject,
            queued: Moment::at(m.created_at, now),
            attempts: m.attempts,
            failed: m.failed_at.is_some(),
            next_attempt: Moment::at(m.next_attempt_at, now),
            last_error: m.last_error.unwrap_or_default(),
        }
    }
}

#[get("/admin/audit?<user>&<kind>&<page>")]
async fn audit_page(
    admin: AdminUser,
    user: Option<&str>,
    kind: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let filter = EventFilter {
        user: search_term(user),
        kind: kind.and_then(EventKind::parse),
    };
    let (page, offset) = page_window(page, EVENTS_PER_PAGE);
    let (events, total) = accounts::audit_page(app, &filter, EVENTS_PER_PAGE, offset).await?;
    let full_page = events.len() as i64 == EVENTS_PER_PAGE;
    let now = app.clock.now();
    let rows: Vec<EventRow> = events.into_iter().map(|e| EventRow::new(e, now)).collect();
    let mut pagination = Pagination::new(page, EVENTS_PER_PAGE, total);
    if total > crate::audit::COUNT_CAP && full_page {
        // The count stops at the cap; the trail goes on as long as pages come back full.
        pagination.next = Some(page + 1);
    }
    let kinds: Vec<SelectOption> = EventKind::ALL
        .iter()
        .map(|k| SelectOption::new(k.as_str(), k.label(), filter.kind == Some(*k)))
        .collect();
    let kind_filter = filter.kind.map_or("", EventKind::as_str);
    Ok(Template::render(
        "admin_audit.html",
        context! {
            layout: Layout::signed_in(current, flash),
            user_filter: &filter.user,
            kind_filter,
            kinds,
            events: rows,
            count_cap: crate::audit::COUNT_CAP,
            pagination: pagination
                .with_query("user", &filter.user)
                .with_query("kind", kind_filter),
        },
    ))
}

pub fn routes() -> Vec<Route> {
    routes![
        sessions_page,
        revoke_session,
        force_logout,
        users_page,
        create_user,
        invite_user,
        send_reset_link,
        unlock_user,
        reset_two_factor,
        switch_access,
        change_role,
        audit_page,
        mail_page
    ]
}
