//! /admin/users: one page of accounts, and the new-account and invitation forms under it.

use crate::auth::grants::{ManageAccess, ManageAccounts};
use crate::auth::{CurrentUser, Require};
use crate::web::guards::{StaffForm, SudoForm};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::accounts::{self, CreateAccount, NewAccountForm};
use crate::app::error::AppResult;
use crate::app::recovery::{self, Delivery, Invitation, InvitationForm};
use crate::app::sign_in::single_sign_on;
use crate::app::App;
use crate::app::{passkeys, two_factor};
use crate::ids::UserId;
use crate::secret::Secret;
use crate::text::search_term;
use crate::users::password::Password;
use crate::users::{AccountColumn, AccountOrder, Role};
use crate::web::guards::forms::csrf_protected;
use crate::web::page::{self, page_window, Layout, Notice, NoticeRedirect};
use crate::web::refusals::Wording;
use crate::web::table::{page_size, SortHeader, TableLinks, PAGE_SIZES};
use crate::web::views::{Moment, SelectOption};

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
    /// Has signed in through the company's identity provider.
    single_sign_on: bool,
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

/// Where the new-account and invitation forms lead: on to the users page saying what was done,
/// or the users page again with `refused_form` (the form as it was sent) saying what was wrong.
async fn answer_form(
    admin: &CurrentUser,
    app: &App,
    answer: Result<String, (Status, String)>,
    refused_form: impl FnOnce(String) -> UserForms,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    match answer {
        Ok(done) => Ok(Either::Left(page::done(
            uri!(users_page(_, _, _, _, _)),
            done,
        ))),
        Err((status, error)) => {
            let forms = refused_form(error);
            let page = users_listing(admin, app, Listing::default(), None, forms).await?;
            Ok(Either::Right((status, page)))
        }
    }
}

/// The two forms under the users table.
#[derive(Debug, Default, Serialize)]
struct UserForms {
    new_user: AccountDraft,
    invitation: AccountDraft,
}

/// What the users table shows: the search, the order, the page size and the page.
#[derive(Debug, Default)]
struct Listing {
    query: String,
    order: AccountOrder,
    size: i64,
    page: Option<i64>,
}

impl Listing {
    /// The links every header, page and size keeps.
    fn links(&self) -> TableLinks {
        TableLinks::new(
            "/admin/users",
            self.order.column.as_str(),
            self.order.descending,
        )
        .filter("q", &self.query)
        .page_size(self.size)
    }
}

/// The users page: one page of accounts plus the new-account and invitation forms.
async fn users_listing(
    admin: &CurrentUser,
    app: &App,
    listing: Listing,
    flash: Option<Notice>,
    forms: UserForms,
) -> AppResult<Template> {
    let current = &admin.session;
    let size = if listing.size > 0 {
        listing.size
    } else {
        PAGE_SIZES[0]
    };
    let listing = Listing { size, ..listing };
    let query = listing.query.as_str();
    let (page, offset) = page_window(listing.page, size);
    let (users, total) = accounts::users_page(app, query, listing.order, size, offset).await?;
    let locks = recovery::locked_until(app, &users).await?;
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let with_two_factor = two_factor::enabled_among(app, &ids).await?;
    let with_sso = single_sign_on::linked_among(app, &ids).await?;
    let passkey_counts: std::collections::HashMap<UserId, i64> = passkeys::counts_among(app, &ids)
        .await?
        .into_iter()
        .collect();
    let now = app.clock.now();
    let rows: Vec<UserRow> = users
        .into_iter()
        .zip(locks)
        .map(|(u, locked_until)| UserRow {
            is_self: u.id == admin.id,
            invited: !u.has_password() && !with_sso.contains(&u.id),
            single_sign_on: with_sso.contains(&u.id),
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
            headers: user_headers(&listing.links()),
            pagination: listing.links().pagination(page, size, total),
            roles,
            forms,
        },
    ))
}

/// The columns: name, e-mail and creation sort (e-mails are stored folded, so they order alike
/// on both databases); role, status and actions do not.
fn user_headers(links: &TableLinks) -> Vec<SortHeader> {
    vec![
        links.header(AccountColumn::Name.as_str(), "Name"),
        links.header(AccountColumn::Email.as_str(), "E-mail"),
        links.plain("Role"),
        links.plain("Status"),
        links.header(AccountColumn::Created.as_str(), "Created"),
    ]
}

#[get("/admin/users?<q>&<sort>&<dir>&<size>&<page>")]
#[allow(clippy::too_many_arguments)]
pub(super) async fn users_page(
    admin: Require<ManageAccess>,
    q: Option<&str>,
    sort: Option<&str>,
    dir: Option<&str>,
    size: Option<&str>,
    page: Option<i64>,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<Template> {
    let listing = Listing {
        query: search_term(q),
        order: AccountOrder::parse(sort, dir),
        size: page_size(size)?,
        page,
    };
    users_listing(&admin.0, app, listing, flash, UserForms::default()).await
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
    csrf_token: Secret<String>,
}

csrf_protected!(NewUserFields);

#[post("/admin/users", data = "<form>")]
async fn create_user(
    form: SudoForm<ManageAccounts, NewUserFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let SudoForm(StaffForm {
        staff: admin,
        actor,
        form: fields,
    }) = form;
    let new = NewAccountForm {
        name: &fields.name,
        email: &fields.email,
        role: &fields.role,
        password: &fields.password,
        confirmation: &fields.password_confirm,
        must_change: fields.must_change,
    };
    let answer = match accounts::create_account(app, &actor, new).await? {
        CreateAccount::Created(user) => Ok(format!("Account for {} created.", user.name)),
        CreateAccount::Invalid(refusal) => Err((Status::UnprocessableEntity, refusal.wording())),
        CreateAccount::EmailTaken => Err((Status::Conflict, EMAIL_TAKEN.to_string())),
    };
    answer_form(&admin.0, app, answer, |error| UserForms {
        new_user: AccountDraft::as_sent(fields.name, fields.email, fields.role, error),
        ..UserForms::default()
    })
    .await
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
    csrf_token: Secret<String>,
}

csrf_protected!(InvitationFields);

#[post("/admin/users/invite", data = "<form>")]
async fn invite_user(
    form: StaffForm<ManageAccounts, InvitationFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let (admin, actor, fields) = (form.staff, form.actor, form.form);
    let invitation = InvitationForm {
        name: &fields.name,
        email: &fields.email,
        role: &fields.role,
    };
    let answer = match recovery::invite(app, &actor, invitation, Delivery::Mail).await? {
        Invitation::Created(issued) => Ok(format!(
            "{} is invited: the link to choose a password is on its way to {}.",
            issued.user.name, issued.user.email
        )),
        Invitation::Invalid(refusal) => Err((Status::UnprocessableEntity, refusal.wording())),
        Invitation::EmailTaken => Err((Status::Conflict, EMAIL_TAKEN.to_string())),
    };
    answer_form(&admin.0, app, answer, |error| UserForms {
        invitation: AccountDraft::as_sent(fields.name, fields.email, fields.role, error),
        ..UserForms::default()
    })
    .await
}

pub(super) fn routes() -> Vec<Route> {
    routes![users_page, create_user, invite_user]
}
