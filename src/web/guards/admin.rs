//! A change posted from an administration page: the person (whose role grants `G`), the
//! CSRF-checked form, and the [`Actor`] the use case re-confirms inside its transaction.

use rocket::data::{self, Data, FromData};
use rocket::form::FromForm;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::Request;

use super::forms::{CsrfProtected, SessionForm};
use crate::app::Actor;
use crate::auth::{Grant, Require};

/// The person whose role grants `$grant`, checked before a data guard reads the body: anonymous
/// posts forward (to the sign-in redirect), anyone else ends the guard with 403.
macro_rules! staff_or_return {
    ($request:expr, $data:expr, $grant:ty) => {
        match $request.guard::<$crate::auth::Require<$grant>>().await {
            rocket::outcome::Outcome::Success(staff) => staff,
            rocket::outcome::Outcome::Forward(status) => {
                return rocket::outcome::Outcome::Forward(($data, status))
            }
            rocket::outcome::Outcome::Error(error) => return rocket::outcome::Outcome::Error(error),
        }
    };
}
pub(crate) use staff_or_return;

#[derive(Debug)]
pub struct StaffForm<G: Grant, T> {
    pub staff: Require<G>,
    pub actor: Actor,
    pub form: T,
}

#[rocket::async_trait]
impl<'r, G: Grant, T: FromForm<'r> + CsrfProtected + Send + 'r> FromData<'r> for StaffForm<G, T> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        let staff = staff_or_return!(request, data, G);
        let posted = try_outcome!(SessionForm::<T>::from_data(request, data).await);
        let actor = Actor::staff(&staff.0, G::PERMISSION, posted.origin);
        Outcome::Success(StaffForm {
            staff,
            actor,
            form: posted.form,
        })
    }
}
