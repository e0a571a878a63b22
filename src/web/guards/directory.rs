//! Who is reading the directory, and whether they may filter it by status: "on leave" is
//! need-to-know, and so are the leavers, so `?status=` other than the default is open only to
//! those who may see private details (`visibility::sees_leave`); anyone else gets a 403 that
//! says why — never a list that would tell them who is on leave.

use rocket::http::Status;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};

use super::refusal::Refusal;
use crate::auth::CurrentUser;
use crate::hr::employee::visibility::sees_leave;
use crate::hr::DirectoryStatus;

/// The signed-in reader of `/employees` (and its CSV), with the status filter they may use.
#[derive(Debug, Clone)]
pub struct DirectoryReader {
    pub user: CurrentUser,
    /// The `?status=` filter, already allowed for this reader.
    pub status: DirectoryStatus,
    /// Whether this reader may learn who is on leave.
    pub sees_leave: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for DirectoryReader {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let user = try_outcome!(request.guard::<CurrentUser>().await);
        let sees_leave = sees_leave(user.role);
        let raw = request
            .query_value::<&str>("status")
            .and_then(Result::ok)
            .map(str::trim)
            .filter(|raw| !raw.is_empty());
        // Refused before it is parsed: an unknown value must not be told from a known one.
        if raw.is_some_and(|raw| raw != DirectoryStatus::Current.as_str()) && !sees_leave {
            request.local_cache(|| Refusal::StatusFilter);
            return Outcome::Error((Status::Forbidden, ()));
        }
        match DirectoryStatus::parse(raw) {
            Ok(status) => Outcome::Success(DirectoryReader {
                user,
                status,
                sees_leave,
            }),
            Err(_) => {
                request.local_cache(|| Refusal::UnknownStatus);
                Outcome::Error((Status::BadRequest, ()))
            }
        }
    }
}
