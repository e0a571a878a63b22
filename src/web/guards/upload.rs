//! A staff list posted from the import page: a multipart body (fields `csrf_token`, `file` and
//! the `invite` checkbox) from HR or an administrator, CSRF-checked like every other change.
//!
//! Every other body is capped at the form limit (32 KiB, `with_bounded_bodies` in `lib.rs`), on
//! purpose; this one guard reads its body under a cap of its own — the file's 5 MB and room for
//! the multipart framing — and parses it with `multer` (the parser Rocket's own forms use), so
//! no global limit is raised for it.

use rocket::data::{Data, FromData, ToByteUnit};
use rocket::futures::stream;
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;

use super::forms::csrf_checked_origin;
use crate::app::Actor;
use crate::auth::grants::EditPeople;
use crate::auth::{Grant, Require};
use crate::hr::import::MAX_FILE_BYTES;
use crate::secret::Secret;

/// The most a staff-list body may be: the file and 64 KiB for the other fields and framing.
/// A larger body is refused with 413 before it is parsed; a file just under the cap is still
/// measured on its own by the import (which answers 413 too).
const BODY_LIMIT: usize = MAX_FILE_BYTES + 64 * 1024;

#[derive(Debug)]
pub struct StaffListUpload {
    pub admin: Require<EditPeople>,
    pub actor: Actor,
    /// The file's bytes as sent (empty when no file was chosen).
    pub file: Vec<u8>,
    pub invite: bool,
}

/// The fields of the upload form.
#[derive(Default)]
struct Parts {
    csrf_token: Secret<String>,
    file: Vec<u8>,
    invite: bool,
}

async fn read_parts(body: Vec<u8>, boundary: String) -> Result<Parts, multer::Error> {
    let body =
        stream::once(async move { Ok::<_, std::io::Error>(multer::bytes::Bytes::from(body)) });
    let mut multipart = multer::Multipart::new(body, boundary);
    let mut parts = Parts::default();
    while let Some(field) = multipart.next_field().await? {
        match field.name() {
            Some("csrf_token") => parts.csrf_token = Secret::new(field.text().await?),
            Some("file") => parts.file = field.bytes().await?.to_vec(),
            Some("invite") => parts.invite = field.text().await? == "true",
            // Fields the form does not have are skipped, as Rocket's forms skip them.
            _ => {}
        }
    }
    Ok(parts)
}

#[rocket::async_trait]
impl<'r> FromData<'r> for StaffListUpload {
    type Error = ();

    async fn from_data(
        request: &'r Request<'_>,
        data: Data<'r>,
    ) -> rocket::data::Outcome<'r, Self, ()> {
        // Anyone whose role may not edit people is turned away before the body is read: anonymous posts
        // forward (to the sign-in redirect), others get 403.
        let admin = match request.guard::<Require<EditPeople>>().await {
            Outcome::Success(admin) => admin,
            Outcome::Forward(status) => return Outcome::Forward((data, status)),
            Outcome::Error(error) => return Outcome::Error(error),
        };
        let boundary = request
            .content_type()
            .filter(|ct| ct.is_form_data())
            .and_then(|ct| ct.param("boundary"))
            .map(str::to_string);
        // Any other body cannot carry the form's token: refused like every post without one.
        let Some(boundary) = boundary else {
            return match csrf_checked_origin(request, &admin.0.session, "").await {
                Ok(_) => Outcome::Error((Status::UnsupportedMediaType, ())),
                Err(status) => Outcome::Error((status, ())),
            };
        };
        let body = match data.open(BODY_LIMIT.bytes()).into_bytes().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => return Outcome::Error((Status::PayloadTooLarge, ())),
            Err(_) => return Outcome::Error((Status::BadRequest, ())),
        };
        let Ok(parts) = read_parts(body, boundary).await else {
            return Outcome::Error((Status::BadRequest, ()));
        };
        let token = parts.csrf_token.expose();
        let origin = match csrf_checked_origin(request, &admin.0.session, token).await {
            Ok(origin) => origin,
            Err(status) => return Outcome::Error((status, ())),
        };
        let actor = Actor::staff(&admin.0, EditPeople::PERMISSION, origin);
        Outcome::Success(StaffListUpload {
            admin,
            actor,
            file: parts.file,
            invite: parts.invite,
        })
    }
}
