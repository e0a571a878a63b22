//! A change posted from an administration page: the person (whose role grants `G`), the
//! CSRF-checked form, and the [`Actor`] the use case re-confirms inside its transaction.

use rocket::data::{self, Data, FromData};
use rocket::form::FromForm;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::Request;

use super::forms::{CsrfProtected, SessionForm};
use crate::app::Actor;
use crate::auth::{Grant, Require};

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
        // Anyone whose role lacks the permission is turned away before the body is read:
        // anonymous posts forward (to the sign-in redirect), others get 403.
        let staff = match request.guard::<Require<G>>().await {
            Outcome::Success(staff) => staff,
            Outcome::Forward(status) => return Outcome::Forward((data, status)),
            Outcome::Error(error) => return Outcome::Error(error),
        };
        let posted = try_outcome!(SessionForm::<T>::from_data(request, data).await);
        let actor = Actor::staff(&staff.0, G::PERMISSION, posted.origin);
        Outcome::Success(StaffForm {
            staff,
            actor,
            form: posted.form,
        })
    }
}
