//! Two-factor sign-in: setting up an authenticator on /account/two-factor (and turning it off,
//! new recovery codes), and the code step of a sign-in on /login/two-factor.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::app::error::AppResult;
use crate::app::step_up;
use crate::app::two_factor::{self, Confirmation, Confirmed, Presence, Revealed, TwoFactorStatus};
use crate::app::App;
use crate::auth::current::Hold;
use crate::auth::CurrentSession;
use crate::clock::format_timestamp;
use crate::secret::Secret;
use crate::users::password::Password;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::{CsrfProtected, SessionForEnrolment, SessionForm};
use crate::web::page::{self, Layout};
use crate::web::page::{Notice, NoticeRedirect};
use crate::web::refusals::Wording;

/// A form with a code (the sign-in's second step, `routes::auth`; it may be a recovery code).
#[derive(Debug, FromForm)]
pub struct CodeFields {
    pub(super) code: Secret<String>,
    #[field(default = "")]
    pub(super) next: String,
    csrf_token: Secret<String>,
}

impl CsrfProtected for CodeFields {
    const OPEN_DURING_TWO_FACTOR_HOLD: bool = true;

    fn csrf_token(&self) -> &str {
        self.csrf_token.expose()
    }
}

/// Enrolling: the code of the new secret; and, when the sign-in is older than ten minutes, the
/// proof of presence the page carries (or the password, and a code, to get one). Posted with the
/// password and no code, it asks to see a secret.
#[derive(Debug, FromForm)]
pub struct EnrolFields {
    code: Secret<String>,
    password: Password,
    proof: Secret<String>,
    csrf_token: Secret<String>,
}

impl CsrfProtected for EnrolFields {
    const OPEN_DURING_TWO_FACTOR_HOLD: bool = true;

    fn csrf_token(&self) -> &str {
        self.csrf_token.expose()
    }
}

/// A change that needs the password and a current code.
#[derive(Debug, FromForm)]
pub struct PasswordAndCode {
    password: Password,
    code: Secret<String>,
    csrf_token: Secret<String>,
}

csrf_protected!(PasswordAndCode);

/// What the account page shows besides the state: an error, or recovery codes shown this once.
#[derive(Default)]
struct PageExtras {
    error: Option<String>,
    recovery_codes: Option<Vec<String>>,
    /// The proof of presence a late enrolment carries from its first post to its second.
    proof: Option<String>,
}

async fn account_page(
    status: Status,
    current: &CurrentSession,
    app: &App,
    flash: Option<Notice>,
    extras: PageExtras,
) -> AppResult<(Status, Template)> {
    let proof = extras
        .proof
        .filter(|proof| step_up::holds_presence_proof(app, current, proof));
    let state = two_factor::status(app, current, proof.is_some()).await?;
    let hold = Hold::of_session(&current.session, app.two_factor.required_for_admins);
    let step_up_first = match &state {
        TwoFactorStatus::StepUpFirst(needed) => Some(*needed),
        _ => None,
    };
    let (on, since, codes_left, enrolment) = match &state {
        TwoFactorStatus::On {
            since,
            recovery_codes_left,
        } => (
            true,
            Some(format_timestamp(*since)),
            *recovery_codes_left,
            None,
        ),
        TwoFactorStatus::Enrolling(enrolment) => (false, None, 0, Some(enrolment)),
        TwoFactorStatus::StepUpFirst(_) => (false, None, 0, None),
    };
    // Just switched on in this request: the hold lifts with the next one.
    let held = hold == Some(Hold::TwoFactorEnrolment) && !on;
    Ok((
        status,
        Template::render(
            "account_two_factor.html",
            context! {
                layout: Layout::signed_in(current, flash),
                csrf_token: current.csrf_token(),
                on,
                since,
                codes_left,
                secret: enrolment.map(|e| e.base32.expose().clone()),
                qr_svg: enrolment.map(|e| e.qr_svg.expose().clone()),
                account: enrolment.map(|e| e.account.clone()),
                held,
                step_up_first,
                proof,
                error: extras.error,
                recovery_codes: extras.recovery_codes,
            },
        ),
    ))
}

/// The person's two-factor settings; while it is off, the secret to add to an authenticator app
/// (as text and as a QR code) and the form that confirms it.
#[get("/account/two-factor")]
async fn account_two_factor(
    session: SessionForEnrolment,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<(Status, Template)> {
    account_page(Status::Ok, &session.0, app, flash, PageExtras::default()).await
}

/// Confirms the enrolment with a current code; the answer shows the recovery codes, once. A late
/// sign-in's first post (the password, no code) asks to see a secret.
#[post("/account/two-factor", data = "<form>")]
async fn confirm_two_factor(
    form: SessionForm<EnrolFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let current = &form.session;
    let fields = &form.form;
    let confirmation = step_up::Confirmation {
        password: &fields.password,
        code: Secret::new(fields.code.expose()),
    };
    if fields.code.expose().trim().is_empty() && !fields.password.is_empty() {
        let (status, extras) =
            match two_factor::reveal(app, current, &confirmation, &form.origin).await? {
                Revealed::Secret { proof } => (
                    Status::Ok,
                    PageExtras {
                        proof: Some(proof.into_exposed()),
                        ..PageExtras::default()
                    },
                ),
                Revealed::Refused(why) => (
                    Status::UnprocessableEntity,
                    PageExtras {
                        error: Some(why.wording()),
                        ..PageExtras::default()
                    },
                ),
            };
        return Ok(Either::Right(
            account_page(status, current, app, None, extras).await?,
        ));
    }
    let presence = Presence {
        proof: Secret::new(fields.proof.expose()),
        confirmation,
    };
    match two_factor::confirm(app, current, fields.code.expose(), presence, &form.origin).await? {
        Confirmation::On { recovery_codes } => {
            let extras = PageExtras {
                recovery_codes: Some(recovery_codes.into_exposed()),
                ..PageExtras::default()
            };
            // The hold (if any) lifts with the next request, which reloads the session.
            let page = account_page(Status::Ok, current, app, None, extras).await?;
            Ok(Either::Right(page))
        }
        Confirmation::WrongCode => {
            let extras = PageExtras {
                error: Some(WRONG_CODE.to_string()),
                proof: Some(fields.proof.expose().clone()),
                ..PageExtras::default()
            };
            let status = Status::UnprocessableEntity;
            Ok(Either::Right(
                account_page(status, current, app, None, extras).await?,
            ))
        }
        Confirmation::AlreadyOn => Ok(Either::Left(page::done(
            uri!(account_two_factor),
            "Two-factor sign-in is already on.",
        ))),
        Confirmation::StepUpNeeded(why) => {
            let extras = PageExtras {
                error: Some(why.wording()),
                ..PageExtras::default()
            };
            let status = Status::UnprocessableEntity;
            Ok(Either::Right(
                account_page(status, current, app, None, extras).await?,
            ))
        }
    }
}

const WRONG_CODE: &str =
    "That code is not right. Enter the 6-digit code your authenticator app shows now.";

/// Turns two-factor off: the password and a current code (or a recovery code).
#[post("/account/two-factor/disable", data = "<form>")]
async fn disable_two_factor(
    form: SessionForm<PasswordAndCode>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let (session, fields, origin) = form.into_parts();
    match two_factor::turn_off(
        app,
        &session,
        &fields.password,
        fields.code.expose(),
        &origin,
    )
    .await?
    {
        Confirmed::Done(()) => Ok(Either::Left(page::done(
            uri!(account_two_factor),
            "Two-factor sign-in is off. Your password alone now signs you in.",
        ))),
        Confirmed::Refused(message) => {
            let extras = PageExtras {
                error: Some(message.wording()),
                ..PageExtras::default()
            };
            let status = Status::UnprocessableEntity;
            Ok(Either::Right(
                account_page(status, &session, app, None, extras).await?,
            ))
        }
    }
}

/// Replaces the recovery codes (the password and a current code); shows the new ones once.
#[post("/account/two-factor/recovery-codes", data = "<form>")]
async fn renew_recovery_codes(
    form: SessionForm<PasswordAndCode>,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let (session, fields, origin) = form.into_parts();
    let renewed = two_factor::renew_recovery_codes(
        app,
        &session,
        &fields.password,
        fields.code.expose(),
        &origin,
    )
    .await?;
    let (status, extras) = match renewed {
        Confirmed::Done(codes) => (
            Status::Ok,
            PageExtras {
                recovery_codes: Some(codes.into_exposed()),
                ..PageExtras::default()
            },
        ),
        Confirmed::Refused(message) => (
            Status::UnprocessableEntity,
            PageExtras {
                error: Some(message.wording()),
                ..PageExtras::default()
            },
        ),
    };
    account_page(status, &session, app, None, extras).await
}

pub fn routes() -> Vec<Route> {
    routes![
        account_two_factor,
        confirm_two_factor,
        disable_two_factor,
        renew_recovery_codes
    ]
}
