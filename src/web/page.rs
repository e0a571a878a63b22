//! What every page shares: the layout context (who is signed in, the logout form's CSRF token,
//! the flash message), the error page and flash redirects (pagination: `web::table`).

use rocket::http::uri::Reference;
use rocket::http::Status;
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self as response, Redirect, Responder};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::auth::CurrentSession;
use crate::users::{Permission, Role};
use crate::web::cookies::{CookieKind, CookiePolicy};
use crate::web::guards::{Refusal, SessionLookup};

// Pagination lives with the other table links; pages have always found it here.
pub use crate::web::table::{page_window, Pagination};

/// The signed-in person as the top bar shows them.
#[derive(Debug, Serialize)]
pub struct LayoutUser {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    /// Which administration pages their role opens: the menu lists exactly those.
    pub can: Can,
}

/// What a role opens, for menus and buttons (the guards decide; this only hides what they refuse).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Can {
    pub edit_people: bool,
    pub manage_access: bool,
    pub read_audit: bool,
    pub manage_accounts: bool,
    /// Any administration page at all.
    pub administer: bool,
}

impl Can {
    pub fn of(role: Role) -> Can {
        Can {
            edit_people: role.may(Permission::EditPeople),
            manage_access: role.may(Permission::ManageAccess),
            read_audit: role.may(Permission::ReadAudit),
            manage_accounts: role.may(Permission::ManageAccounts),
            administer: role.administers(),
        }
    }
}

/// A flash message carried over a redirect.
#[derive(Debug, Serialize)]
pub struct FlashView {
    pub kind: String,
    pub message: String,
}

/// Context every template receives as `layout`.
#[derive(Debug, Serialize)]
pub struct Layout {
    pub user: Option<LayoutUser>,
    /// Masked CSRF token for the sign-out form in the top bar.
    pub csrf_token: Option<String>,
    pub flash: Option<FlashView>,
}

impl Layout {
    pub fn anonymous(flash: Option<Notice>) -> Layout {
        Layout {
            user: None,
            csrf_token: None,
            flash: flash.map(flash_view),
        }
    }

    pub fn signed_in(current: &CurrentSession, flash: Option<Notice>) -> Layout {
        let session = &current.session;
        Layout {
            user: Some(LayoutUser {
                name: session.user_name.clone(),
                email: session.user_email.to_string(),
                role: session.user_role.label(),
                can: Can::of(session.user_role),
            }),
            csrf_token: Some(current.csrf_token()),
            flash: flash.map(flash_view),
        }
    }
}

fn flash_view(notice: Notice) -> FlashView {
    FlashView {
        kind: notice.kind.as_str().to_string(),
        message: notice.message,
    }
}

/// How a one-time message reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Success,
    Warning,
    Error,
}

impl NoticeKind {
    fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Success => "success",
            NoticeKind::Warning => "warning",
            NoticeKind::Error => "error",
        }
    }

    fn parse(value: &str) -> Option<NoticeKind> {
        [NoticeKind::Success, NoticeKind::Warning, NoticeKind::Error]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// The one-time message a redirect left for the page it leads to (a request guard that reads and
/// removes it). It travels in a private cookie — encrypted and authenticated, HttpOnly, `Secure`
/// and `__Host-` when cookies are — so no script, and no cookie planted from a sibling domain,
/// can read or forge the message a page shows. (Rocket's own flash cookie is none of those.)
#[derive(Debug)]
pub struct Notice {
    kind: NoticeKind,
    message: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Notice {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Notice, ()> {
        let Some(policy) = request.rocket().state::<CookiePolicy>() else {
            return request::Outcome::Forward(Status::InternalServerError);
        };
        let cookies = request.cookies();
        let Some(cookie) = cookies.get_private(policy.name(CookieKind::Notice)) else {
            return request::Outcome::Forward(Status::NotFound);
        };
        policy.clear(cookies, CookieKind::Notice);
        let notice = cookie.value().split_once(':').and_then(|(kind, message)| {
            Some(Notice {
                kind: NoticeKind::parse(kind)?,
                message: message.to_string(),
            })
        });
        match notice {
            Some(notice) => request::Outcome::Success(notice),
            None => request::Outcome::Forward(Status::NotFound),
        }
    }
}

/// A redirect (303) that leaves a [`Notice`] for the next page.
#[derive(Debug)]
pub struct NoticeRedirect {
    to: Redirect,
    kind: NoticeKind,
    message: String,
}

impl<'r> Responder<'r, 'static> for NoticeRedirect {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        if let Some(policy) = request.rocket().state::<CookiePolicy>() {
            let value = format!("{}:{}", self.kind.as_str(), self.message);
            request
                .cookies()
                .add_private(policy.cookie(CookieKind::Notice, value));
        }
        self.to.respond_to(request)
    }
}

fn notice<U: TryInto<Reference<'static>>>(
    to: U,
    kind: NoticeKind,
    message: impl Into<String>,
) -> NoticeRedirect {
    NoticeRedirect {
        to: Redirect::to(to),
        kind,
        message: message.into(),
    }
}

/// A redirect (303) carrying a success message; `to` is usually a `uri!` of the target route.
pub fn done<U: TryInto<Reference<'static>>>(to: U, message: impl Into<String>) -> NoticeRedirect {
    notice(to, NoticeKind::Success, message)
}

/// A redirect (303) carrying a warning.
pub fn warn<U: TryInto<Reference<'static>>>(to: U, message: impl Into<String>) -> NoticeRedirect {
    notice(to, NoticeKind::Warning, message)
}

/// A redirect (303) carrying an error message.
pub fn failed<U: TryInto<Reference<'static>>>(to: U, message: impl Into<String>) -> NoticeRedirect {
    notice(to, NoticeKind::Error, message)
}

/// Friendly title for a status.
fn title_for(status: Status) -> &'static str {
    match status.code {
        400 => "Bad request",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        413 => "Too large",
        415 => "Unsupported form",
        422 => "Invalid form",
        429 => "Too many attempts",
        503 => "Busy",
        500..=599 => "Something went wrong",
        _ => "Request refused",
    }
}

/// The error page, in the site's layout, for `status` with `message`.
pub fn error_page(request: &Request<'_>, status: Status, message: &str) -> Template {
    let layout = match SessionLookup::cached(request) {
        Some(current) => Layout::signed_in(current, None),
        None => Layout::anonymous(None),
    };
    Template::render(
        "error.html",
        context! {
            layout,
            status: status.code,
            title: title_for(status),
            message,
        },
    )
}

/// The default message of a catcher page for `status`.
pub fn default_message(request: &Request<'_>, status: Status) -> &'static str {
    match status.code {
        400 if *request.local_cache(|| Refusal::None) == Refusal::UnknownStatus => {
            "The directory filters by current staff, active, on leave, leaving, left or everyone."
        }
        400 => "The request could not be understood. Please go back and try again.",
        403 if *request.local_cache(|| Refusal::None) == Refusal::Csrf => {
            "This form has expired or did not come from this site. Go back, reload the page and try again."
        }
        403 if *request.local_cache(|| Refusal::None) == Refusal::StatusFilter => {
            "Only HR can filter the directory by status. The directory lists everyone with the company today."
        }
        403 => "You do not have permission to open this page.",
        404 => "That page or item does not exist.",
        413 => "What you sent is too large.",
        422 => "The form was incomplete or contained invalid values. Please go back and try again.",
        415 => "This page accepts only the form it shows, sent the way the page sends it.",
        429 => "Too many requests. Please wait a little and try again.",
        // A refusal of what the client sent is never "our side" going wrong.
        401..=499 => "The request was refused. Please go back and try again.",
        503 => "The service is temporarily unavailable. Please try again in a moment.",
        _ => "Something went wrong on our side. Please try again.",
    }
}
