//! `/account/details`: the signed-in person edits their own phone, personal e-mail, home address
//! and emergency contact. Without a linked employee record the page says so (200), rather than
//! refusing.

use std::collections::BTreeMap;

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::app::error::AppResult;
use crate::app::own_details::{self, OwnDetails, OwnDetailsSave};
use crate::app::App;
use crate::auth::{CurrentSession, CurrentUser};
use crate::hr::employee::{PrivateDetails, PrivateDraft};
use crate::hr::{display_date, InvalidEmployee};
use crate::secret::Secret;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::SessionForm;
use crate::web::page::{self, Layout, Notice, NoticeRedirect};

/// The four fields the person edits, as typed (re-shown after a refused submission).
#[derive(Debug, Default, Serialize)]
struct Draft {
    personal_email: String,
    phone: String,
    home_address: String,
    emergency_contact: String,
}

impl Draft {
    fn of(private: &PrivateDetails) -> Draft {
        Draft {
            personal_email: private.personal_email.clone().unwrap_or_default(),
            phone: private.phone.clone().unwrap_or_default(),
            home_address: private.home_address.clone().unwrap_or_default(),
            emergency_contact: private.emergency_contact.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, FromForm)]
pub struct OwnDetailsFields {
    #[field(default = "")]
    personal_email: String,
    #[field(default = "")]
    phone: String,
    #[field(default = "")]
    home_address: String,
    #[field(default = "")]
    emergency_contact: String,
    csrf_token: Secret<String>,
}

csrf_protected!(OwnDetailsFields);

impl OwnDetailsFields {
    fn draft(&self) -> PrivateDraft<'_> {
        PrivateDraft {
            personal_email: &self.personal_email,
            phone: &self.phone,
            birth_date: None,
            home_address: &self.home_address,
            emergency_contact: &self.emergency_contact,
        }
    }

    fn into_draft(self) -> Draft {
        Draft {
            personal_email: self.personal_email,
            phone: self.phone,
            home_address: self.home_address,
            emergency_contact: self.emergency_contact,
        }
    }
}

/// The page: the form with `draft` (or the stored values) and its errors, or the no-record note.
async fn details_page(
    status: Status,
    current: &CurrentSession,
    app: &App,
    flash: Option<Notice>,
    draft: Option<Draft>,
    errors: BTreeMap<&'static str, String>,
) -> AppResult<(Status, Template)> {
    let own = own_details::own_details(app, current).await?;
    let (name, born, draft) = match own {
        Some(OwnDetails { employee, private }) => (
            Some(employee.name),
            private.birth_date.map(display_date),
            Some(draft.unwrap_or_else(|| Draft::of(&private))),
        ),
        None => (None, None, None),
    };
    Ok((
        status,
        Template::render(
            "account_details.html",
            context! {
                layout: Layout::signed_in(current, flash),
                csrf_token: current.csrf_token(),
                name,
                born,
                draft,
                errors,
            },
        ),
    ))
}

#[get("/account/details")]
async fn details(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<(Status, Template)> {
    details_page(Status::Ok, &user.session, app, flash, None, BTreeMap::new()).await
}

#[post("/account/details", data = "<form>")]
async fn save_details(
    form: SessionForm<OwnDetailsFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let (session, fields, origin) = form.into_parts();
    let message =
        match own_details::save_own_details(app, &session, fields.draft(), &origin).await? {
            OwnDetailsSave::Saved => "Your details were saved.",
            OwnDetailsSave::Unchanged => "Nothing changed.",
            OwnDetailsSave::NoRecord => "There is no employee record for your account.",
            OwnDetailsSave::Invalid(InvalidEmployee(errors)) => {
                let status = Status::UnprocessableEntity;
                let draft = Some(fields.into_draft());
                let page = details_page(status, &session, app, None, draft, errors).await?;
                return Ok(Either::Right(page));
            }
        };
    Ok(Either::Left(page::done(uri!(details), message)))
}

pub fn routes() -> Vec<Route> {
    routes![details, save_details]
}
