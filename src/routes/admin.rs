//! The admin area: every session, every account, the audit trail. `AdminUser` guards each route.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::audit::{AuditLog, Event, EventFilter, EventKind};
use crate::auth::account_change::{self, AccountAction};
use crate::auth::guard::{CookiePolicy, CsrfProtected, SessionForm};
use crate::auth::session::is_handle;
use crate::auth::{AdminUser, ClientInfo, SessionStore};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::users::password::{check_new_password, PasswordService};
use crate::users::{parse_email, parse_name, AccountChange, CreateUserError, NewUser, Role, User};
use crate::web::device;
use crate::web::page::{self, page_window, when, Layout, Pagination};

use super::account::SessionRow;
use super::CsrfOnly;

const SESSIONS_PER_PAGE: i64 = 50;
const USERS_PER_PAGE: i64 = 50;
const EVENTS_PER_PAGE: i64 = 100;

/// Search terms arrive from query strings: bound their size and drop control characters (NUL
/// would be a database error on PostgreSQL) before they reach SQL.
fn search_term(raw: Option<&str>) -> String {
    raw.unwrap_or("")
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect()
}

#[get("/admin/sessions?<email>&<page>")]
async fn sessions_page(
    admin: AdminUser,
    email: Option<&str>,
    page: Option<i64>,
    sessions: &State<SessionStore>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let filter = search_term(email);
    let (page, offset) = page_window(page, SESSIONS_PER_PAGE);
    let counts = sessions.counts(&filter).await?;
    let rows: Vec<SessionRow> = sessions
        .list_all(&filter, SESSIONS_PER_PAGE, offset)
        .await?
        .into_iter()
        .map(|s| SessionRow::from_summary(s, current))
        .collect();
    Ok(Template::render(
        "admin_sessions.html",
        context! {
            layout: Layout::signed_in(current, flash),
            csrf_token: current.csrf_token(),
            filter,
            counts,
            pagination: Pagination::new(page, SESSIONS_PER_PAGE, counts.live_sessions),
            sessions: rows,
        },
    ))
}

#[post("/admin/sessions/<handle>/revoke", data = "<form>")]
async fn revoke_session(
    admin: AdminUser,
    handle: &str,
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    if !is_handle(handle) {
        return Err(AppError::NotFound);
    }
    let current = &form.session.session;
    let mut tx = admin.begin_confirmed(db).await?;
    let revoked = SessionStore::revoke_by_handle_in(&mut tx, handle).await?;
    tx.commit().await?;
    let Some(owner) = revoked else {
        return Ok(page::done(
            "/admin/sessions",
            "That session had already ended.",
        ));
    };
    audit
        .record(
            Event::new(EventKind::SessionRevoked, &client)
                .actor(current.user_id)
                .subject(owner)
                .session(handle)
                .detail("by an administrator"),
        )
        .await?;
    if handle == current.handle {
        policy.clear_session(cookies);
        return Ok(page::done(
            "/login",
            "You revoked your own session and are signed out.",
        ));
    }
    Ok(page::done(
        "/admin/sessions",
        "The session has been revoked.",
    ))
}

#[post("/admin/users/<user_id>/sessions/revoke", data = "<form>")]
async fn force_logout(
    admin: AdminUser,
    user_id: i64,
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    let current = &form.session.session;
    let Some(user) = User::find_by_id(db, user_id).await? else {
        return Err(AppError::NotFound);
    };
    let mut tx = admin.begin_confirmed(db).await?;
    let ended = SessionStore::revoke_all_for_user_in(&mut tx, user.id).await?;
    tx.commit().await?;
    audit
        .record(
            Event::new(EventKind::UserForceLoggedOut, &client)
                .actor(current.user_id)
                .subject(user.id)
                .detail(format!("{ended} session(s) ended")),
        )
        .await?;
    if user.id == current.user_id {
        policy.clear_session(cookies);
        return Ok(page::done("/login", "All your sessions were signed out."));
    }
    Ok(page::done(
        "/admin/sessions",
        format!(
            "{} was signed out everywhere ({ended} session(s)).",
            user.name
        ),
    ))
}

/// An account as the users table shows it.
#[derive(Debug, Serialize)]
struct UserRow {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    role_label: &'static str,
    disabled: bool,
    created: String,
    is_self: bool,
}

#[derive(Debug, Default, Serialize)]
struct NewUserDraft {
    name: String,
    email: String,
    role: String,
}

async fn users_listing(
    admin: &AdminUser,
    db: &Db,
    query: &str,
    page: Option<i64>,
    flash: Option<FlashMessage<'_>>,
    status: Status,
    draft: NewUserDraft,
    error: Option<String>,
) -> AppResult<(Status, Template)> {
    let current = &admin.0.session;
    let (page, offset) = page_window(page, USERS_PER_PAGE);
    let (users, total) = User::list(db, query, USERS_PER_PAGE, offset).await?;
    let rows: Vec<UserRow> = users
        .into_iter()
        .map(|u| UserRow {
            is_self: u.id == admin.0.id,
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role.as_str(),
            role_label: u.role.label(),
            disabled: u.disabled,
            created: when(u.created_at),
        })
        .collect();
    Ok((
        status,
        Template::render(
            "admin_users.html",
            context! {
                layout: Layout::signed_in(current, flash),
                csrf_token: current.csrf_token(),
                query,
                users: rows,
                pagination: Pagination::new(page, USERS_PER_PAGE, total),
                draft,
                error,
            },
        ),
    ))
}

#[get("/admin/users?<q>&<page>")]
async fn users_page(
    admin: AdminUser,
    q: Option<&str>,
    page: Option<i64>,
    db: &State<Db>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<(Status, Template)> {
    let query = search_term(q);
    users_listing(
        &admin,
        db,
        &query,
        page,
        flash,
        Status::Ok,
        NewUserDraft {
            role: "employee".into(),
            ..NewUserDraft::default()
        },
        None,
    )
    .await
}

/// No `Debug`: it holds passwords.
#[derive(FromForm)]
pub struct NewUserFields {
    #[field(default = "")]
    name: String,
    #[field(default = "")]
    email: String,
    #[field(default = "")]
    role: String,
    #[field(default = "")]
    password: String,
    #[field(default = "")]
    password_confirm: String,
    #[field(default = "")]
    csrf_token: String,
}

impl CsrfProtected for NewUserFields {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/admin/users", data = "<form>")]
async fn create_user(
    admin: AdminUser,
    form: SessionForm<NewUserFields>,
    client: ClientInfo,
    db: &State<Db>,
    passwords: &State<PasswordService>,
    audit: &State<AuditLog>,
    clock: &State<Clock>,
) -> AppResult<Either<Flash<Redirect>, (Status, Template)>> {
    let fields = form.form;
    let draft = NewUserDraft {
        name: fields.name.clone(),
        email: fields.email.clone(),
        role: fields.role.clone(),
    };
    let checked = (|| {
        let name = parse_name(&fields.name).map_err(str::to_string)?;
        let email = parse_email(&fields.email).map_err(|e| e.to_string())?;
        let role = Role::parse(&fields.role).ok_or("Please choose a role.")?;
        check_new_password(&fields.password, &fields.password_confirm, &email)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((name, email, role))
    })();
    let (name, email, role) = match checked {
        Ok(valid) => valid,
        Err(message) => {
            return users_listing(
                &admin,
                db,
                "",
                None,
                None,
                Status::UnprocessableEntity,
                draft,
                Some(message),
            )
            .await
            .map(Either::Right)
        }
    };
    let hash = passwords.hash(&fields.password).await?;
    let new = NewUser {
        email: &email,
        name: &name,
        role,
        password_hash: &hash,
    };
    let mut tx = admin.begin_confirmed(db).await?;
    let created = User::create_in(&mut tx, &new, clock.now()).await;
    let user = match created {
        Ok(user) => {
            tx.commit().await?;
            user
        }
        Err(CreateUserError::EmailTaken) => {
            // Roll back now: the listing below must not run while this transaction holds a lock.
            tx.rollback().await?;
            return users_listing(
                &admin,
                db,
                "",
                None,
                None,
                Status::Conflict,
                draft,
                Some("An account with that e-mail address already exists.".into()),
            )
            .await
            .map(Either::Right);
        }
        Err(CreateUserError::Database(e)) => return Err(e.into()),
    };
    audit
        .record(
            Event::new(EventKind::UserCreated, &client)
                .actor(admin.0.id)
                .subject(user.id)
                .detail(format!("role {}", user.role.as_str())),
        )
        .await?;
    Ok(Either::Left(page::done(
        "/admin/users",
        format!("Account for {} created.", user.name),
    )))
}

async fn apply_account_action(
    admin: &AdminUser,
    user_id: i64,
    action: AccountAction,
    client: &ClientInfo,
    cookies: &CookieJar<'_>,
    db: &Db,
    audit: &AuditLog,
    policy: &CookiePolicy,
) -> AppResult<Flash<Redirect>> {
    let Some(user) = User::find_by_id(db, user_id).await? else {
        return Err(AppError::NotFound);
    };
    let mut tx = admin.begin_confirmed(db).await?;
    let (outcome, ended) = account_change::apply_in(&mut tx, user_id, action).await?;
    tx.commit().await?;
    match outcome {
        AccountChange::NoSuchUser => return Err(AppError::NotFound),
        AccountChange::WouldLeaveNoAdmin => {
            return Ok(page::failed(
                "/admin/users",
                "That would leave no enabled administrator; promote someone else first.",
            ))
        }
        AccountChange::Unchanged => {
            return Ok(page::done("/admin/users", "Nothing to change."));
        }
        AccountChange::Changed => {}
    }
    let (kind, message) = match action {
        AccountAction::Disable => (
            EventKind::UserDisabled,
            format!("{} is disabled and was signed out everywhere.", user.name),
        ),
        AccountAction::Enable => (EventKind::UserEnabled, format!("{} is enabled.", user.name)),
        AccountAction::Role(role) => (
            EventKind::RoleChanged,
            format!(
                "{} is now {}; they must sign in again.",
                user.name,
                role.label().to_lowercase()
            ),
        ),
    };
    let mut event = Event::new(kind, client)
        .actor(admin.0.id)
        .subject(user.id)
        .detail(format!("{ended} session(s) ended"));
    if let AccountAction::Role(role) = action {
        event = event.detail(format!("{} → {}", user.role.as_str(), role.as_str()));
    }
    audit.record(event).await?;
    if user.id == admin.0.id && ended > 0 {
        policy.clear_session(cookies);
        return Ok(page::done("/login", message));
    }
    Ok(page::done("/admin/users", message))
}

#[post("/admin/users/<user_id>/disable", data = "<form>")]
async fn disable_user(
    admin: AdminUser,
    user_id: i64,
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    let action = AccountAction::Disable;
    apply_account_action(&admin, user_id, action, &client, cookies, db, audit, policy).await
}

#[post("/admin/users/<user_id>/enable", data = "<form>")]
async fn enable_user(
    admin: AdminUser,
    user_id: i64,
    form: SessionForm<CsrfOnly>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    let _ = form;
    let action = AccountAction::Enable;
    apply_account_action(&admin, user_id, action, &client, cookies, db, audit, policy).await
}

#[derive(Debug, FromForm)]
pub struct RoleFields {
    #[field(default = "")]
    role: String,
    #[field(default = "")]
    csrf_token: String,
}

impl CsrfProtected for RoleFields {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/admin/users/<user_id>/role", data = "<form>")]
async fn change_role(
    admin: AdminUser,
    user_id: i64,
    form: SessionForm<RoleFields>,
    client: ClientInfo,
    cookies: &CookieJar<'_>,
    db: &State<Db>,
    audit: &State<AuditLog>,
    policy: &State<CookiePolicy>,
) -> AppResult<Flash<Redirect>> {
    let Some(role) = Role::parse(&form.form.role) else {
        return Err(AppError::BadRequest("Unknown role.".into()));
    };
    let action = AccountAction::Role(role);
    apply_account_action(&admin, user_id, action, &client, cookies, db, audit, policy).await
}

/// An audit event as the audit table shows it.
#[derive(Debug, Serialize)]
struct EventRow {
    at: String,
    kind: String,
    label: &'static str,
    actor: String,
    subject: String,
    email: String,
    session: String,
    ip: String,
    device: String,
    detail: String,
}

#[derive(Debug, Serialize)]
struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[get("/admin/audit?<user>&<kind>&<page>")]
async fn audit_page(
    admin: AdminUser,
    user: Option<&str>,
    kind: Option<&str>,
    page: Option<i64>,
    audit: &State<AuditLog>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<Template> {
    let current = &admin.0.session;
    let filter = EventFilter {
        user: search_term(user),
        kind: kind.and_then(EventKind::parse),
    };
    let (page, offset) = page_window(page, EVENTS_PER_PAGE);
    let (events, total) = audit.list(&filter, EVENTS_PER_PAGE, offset).await?;
    let dash = || "—".to_string();
    let rows: Vec<EventRow> = events
        .into_iter()
        .map(|e| EventRow {
            at: when(e.at),
            label: EventKind::parse(&e.kind).map_or("Other", EventKind::label),
            kind: e.kind,
            actor: e.actor_email.unwrap_or_else(dash),
            subject: e.subject_email.unwrap_or_else(dash),
            email: e.email.unwrap_or_default(),
            session: e
                .session_handle
                .map(|h| h.chars().take(8).collect())
                .unwrap_or_default(),
            ip: e.ip.unwrap_or_else(dash),
            device: device::describe(e.user_agent.as_deref()),
            detail: e.detail.unwrap_or_default(),
        })
        .collect();
    let kinds: Vec<KindOption> = EventKind::ALL
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: k.label(),
            selected: filter.kind == Some(k),
        })
        .collect();
    Ok(Template::render(
        "admin_audit.html",
        context! {
            layout: Layout::signed_in(current, flash),
            user_filter: &filter.user,
            kind_filter: filter.kind.map_or("", EventKind::as_str),
            kinds,
            events: rows,
            pagination: Pagination::new(page, EVENTS_PER_PAGE, total),
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
        disable_user,
        enable_user,
        change_role,
        audit_page
    ]
}
