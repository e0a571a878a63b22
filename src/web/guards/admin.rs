//! An administrator's change, posted from an admin page: the administrator, the CSRF-checked
//! form, and the [`Actor`] the use case re-confirms inside its transaction.

use rocket::data::{self, Data, FromData};
use rocket::form::FromForm;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::Request;

use super::forms::{CsrfProtected, SessionForm};
use crate::app::Actor;
use crate::auth::AdminUser;

#[derive(Debug)]
pub struct AdminForm<T> {
    pub admin: AdminUser,
    pub actor: Actor,
    pub form: T,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected + Send + 'r> FromData<'r> for AdminForm<T> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        // Anyone not an administrator is turned away before the body is read: anonymous posts
        // forward (to the sign-in redirect), others get 403.
        let admin = match request.guard::<AdminUser>().await {
            Outcome::Success(admin) => admin,
            Outcome::Forward(status) => return Outcome::Forward((data, status)),
            Outcome::Error(error) => return Outcome::Error(error),
        };
        let posted = try_outcome!(SessionForm::<T>::from_data(request, data).await);
        let actor = Actor::admin(&admin, posted.origin);
        Outcome::Success(AdminForm {
            admin,
            actor,
            form: posted.form,
        })
    }
}
