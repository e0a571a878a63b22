//! Re-authentication for dangerous acts (GitHub's "sudo mode", Laravel's `password.confirm`):
//! changing a role, resetting someone's second factor, setting a password, applying an import,
//! ending every session of an account. A sign-in within the last ten minutes is proof enough;
//! otherwise the request is held and a page asks for the password (and a current code where the
//! account has an authenticator app). That page posts the held request again — the same action,
//! the same fields, plus what was typed — so the act carries on where it stopped. The typed
//! password is a throttled guess like any sign-in (see `app::step_up`).

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{FromForm, ValueField};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::State;

use super::admin::StaffForm;
use super::forms::{csrf_checked_origin, CsrfProtected};
use super::refusal::Refusal;
use crate::app::step_up::{self, Confirmation, PresenceRefusal, StepUp};
use crate::app::{Actor, App};
use crate::auth::{Grant, Require};
use crate::secret::Secret;
use crate::users::password::Password;
use crate::web::refusals::Wording;

/// The fields the confirmation page adds to the held request.
const PASSWORD_FIELD: &str = "sudo_password";
const CODE_FIELD: &str = "sudo_code";

/// A dangerous act's form: a [`StaffForm`] whose person signed in within the last ten minutes or
/// has just confirmed it is them.
#[derive(Debug)]
pub struct SudoForm<G: Grant, T>(pub StaffForm<G, T>);

/// A request held until the person confirms it is them: where it goes, what it carried, and
/// what the page must ask. The 401 catcher renders it.
#[derive(Debug, Clone, Default)]
pub struct HeldRequest {
    pub action: String,
    /// Every posted field but the confirmation's own, in order.
    pub fields: Vec<(String, String)>,
    pub code_needed: bool,
    /// Why the last confirmation was refused, if one was tried.
    pub error: Option<String>,
}

/// The posted fields, percent-decoded, kept for the request so the form can borrow from them.
struct PostedFields(Vec<(String, String)>);

fn decode_pairs(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// `T` from decoded fields, leniently (fields `T` does not name, such as the confirmation's own,
/// are ignored), as Rocket's form guard would parse it.
fn parse_fields<'r, T: FromForm<'r>>(fields: &'r [(String, String)]) -> Option<T> {
    let mut context = T::init(rocket::form::Options::Lenient);
    for (name, value) in fields {
        T::push_value(
            &mut context,
            ValueField::from((name.as_str(), value.as_str())),
        );
    }
    T::finalize(context).ok()
}

#[rocket::async_trait]
impl<'r, G: Grant, T: FromForm<'r> + CsrfProtected + Send + 'r> FromData<'r> for SudoForm<G, T> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        let staff = match request.guard::<Require<G>>().await {
            Outcome::Success(staff) => staff,
            Outcome::Forward(status) => return Outcome::Forward((data, status)),
            Outcome::Error(error) => return Outcome::Error(error),
        };
        let limit = request.limits().get("form").unwrap_or(32.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => return Outcome::Error((Status::PayloadTooLarge, ())),
            Err(_) => return Outcome::Error((Status::BadRequest, ())),
        };
        // Decoded once; the form borrows its values from the request-local copy.
        let fields: &'r [(String, String)] =
            &request.local_cache(|| PostedFields(decode_pairs(&body))).0;
        let Some(form) = parse_fields::<T>(fields) else {
            return Outcome::Error((Status::UnprocessableEntity, ()));
        };
        let session = staff.0.session.clone();
        let origin = match csrf_checked_origin(request, &session, form.csrf_token()).await {
            Ok(origin) => origin,
            Err(status) => return Outcome::Error((status, ())),
        };
        let Some(app) = request.guard::<&State<App>>().await.succeeded() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let typed = |name: &str| {
            fields
                .iter()
                .find(|(field, _)| field == name)
                .map_or("", |(_, value)| value.as_str())
        };
        let step = step_up::step_up(app, &session);
        let error = if step == StepUp::Nothing {
            None
        } else if typed(PASSWORD_FIELD).is_empty() {
            Some(None)
        } else {
            let password = Password::new(typed(PASSWORD_FIELD).to_string());
            let confirmation = Confirmation {
                password: &password,
                code: Secret::new(typed(CODE_FIELD)),
            };
            match step_up::confirm_presence(app, &session, &confirmation, &origin).await {
                Ok(Ok(())) => None,
                Ok(Err(refusal)) => Some(Some(refusal)),
                Err(_) => return Outcome::Error((Status::ServiceUnavailable, ())),
            }
        };
        if let Some(refused) = error {
            hold(request, fields.to_vec(), step, refused);
            return Outcome::Error((Status::Unauthorized, ()));
        }
        let actor = Actor::staff(&staff.0, G::PERMISSION, origin);
        Outcome::Success(SudoForm(StaffForm { staff, actor, form }))
    }
}

/// Keeps the request for the confirmation page (the 401 catcher renders it).
fn hold(
    request: &Request<'_>,
    fields: Vec<(String, String)>,
    step: StepUp,
    refused: Option<PresenceRefusal>,
) {
    let held = HeldRequest {
        action: request.uri().path().to_string(),
        fields: fields
            .into_iter()
            .filter(|(name, _)| name != PASSWORD_FIELD && name != CODE_FIELD)
            .collect(),
        code_needed: step == StepUp::PasswordAndCode,
        error: refused.map(|refusal| refusal.wording()),
    };
    request.local_cache(|| Refusal::ConfirmationNeeded);
    request.local_cache(|| Some(held));
}

/// The request a [`SudoForm`] held, if it held one.
pub fn held_request<'r>(request: &'r Request<'_>) -> Option<&'r HeldRequest> {
    request.local_cache(|| None::<HeldRequest>).as_ref()
}
