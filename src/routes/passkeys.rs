//! Passkeys: /account/passkeys (add, rename, remove) and "Sign in with a passkey" on the login
//! page. Each ceremony is two posts: the challenge (answered as JSON to `static/passkeys.js`,
//! which hands it to the browser's WebAuthn prompt) and the browser's answer (an ordinary form
//! post that ends in a page or a redirect).

use rocket::form::FromForm;
use rocket::http::{ContentType, Status};
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use super::CsrfOnly;
use crate::app::error::{AppError, AppResult};
use crate::app::passkeys::{self, Confirmation, PasskeyChange, Registration};
use crate::app::sign_in::passkey::{self as passkey_sign_in, Begun, PasskeyAttempt, PasskeyStep};
use crate::app::App;
use crate::audit::Origin;
use crate::auth::CurrentSession;
use crate::secret::Secret;
use crate::users::password::Password;
use crate::web::cookies::SignInCookies;
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::{FormSecret, PublicForm, SessionForm};
use crate::web::handle::{Handle, NotAHandle};
use crate::web::page::{self, Layout};
use crate::web::page::{Notice, NoticeRedirect};
use crate::web::refusals::Wording;
use crate::web::views::Moment;

/// Asking for a registration challenge: the new passkey's name, and the password (and a code)
/// when the sign-in is not fresh.
#[derive(Debug, FromForm)]
pub struct ChallengeFields {
    #[field(default = "")]
    name: String,
    password: Password,
    code: Secret<String>,
    csrf_token: Secret<String>,
}

/// The browser's answer to a challenge: the ceremony's token and the credential as JSON.
#[derive(Debug, FromForm)]
pub struct AnswerFields {
    ceremony: Secret<String>,
    #[field(default = "")]
    credential: String,
    #[field(default = false)]
    remember: bool,
    #[field(default = "")]
    next: String,
    csrf_token: Secret<String>,
}

#[derive(Debug, FromForm)]
pub struct RenameFields {
    #[field(default = "")]
    name: String,
    csrf_token: Secret<String>,
}

/// Removing a passkey: the password (and a code) when the sign-in is not fresh.
#[derive(Debug, FromForm)]
pub struct RemoveFields {
    password: Password,
    code: Secret<String>,
    csrf_token: Secret<String>,
}

csrf_protected!(ChallengeFields, AnswerFields, RenameFields, RemoveFields);

/// One passkey as the page lists it.
#[derive(Debug, Serialize)]
struct PasskeyRow {
    handle: String,
    name: String,
    created: Moment,
    last_used: Option<Moment>,
}

async fn account_page(
    status: Status,
    current: &CurrentSession,
    app: &App,
    flash: Option<Notice>,
    error: Option<&str>,
) -> AppResult<(Status, Template)> {
    let page = passkeys::page(app, current).await?;
    let now = app.clock.now();
    let rows: Vec<PasskeyRow> = page
        .passkeys
        .into_iter()
        .map(|p| PasskeyRow {
            handle: p.handle,
            name: p.name,
            created: Moment::at(p.created_at, now),
            last_used: p.last_used_at.map(|at| Moment::at(at, now)),
        })
        .collect();
    Ok((
        status,
        Template::render(
            "account_passkeys.html",
            context! {
                layout: Layout::signed_in(current, flash),
                csrf_token: current.csrf_token(),
                passkeys: rows,
                unavailable: page.unavailable,
                step_up: page.step_up,
                error,
            },
        ),
    ))
}

/// The person's passkeys, and the form that adds one.
#[get("/account/passkeys")]
async fn account_passkeys(
    current: &CurrentSession,
    app: &State<App>,
    flash: Option<Notice>,
) -> AppResult<(Status, Template)> {
    account_page(Status::Ok, current, app, flash, None).await
}

/// A challenge as JSON for the script, or why there is none (`{"error": …}`, 4xx).
fn challenge_json<R: Wording>(begun: Begun<R>) -> (Status, (ContentType, String)) {
    match begun {
        Begun::Challenge(challenge) => {
            let body = format!(
                "{{\"ceremony\":{},\"options\":{}}}",
                serde_json::Value::String(challenge.ceremony.into_exposed()),
                challenge.options
            );
            (Status::Ok, (ContentType::JSON, body))
        }
        Begun::Refused(why) => {
            let body = serde_json::json!({ "error": why.wording() }).to_string();
            (Status::UnprocessableEntity, (ContentType::JSON, body))
        }
    }
}

/// The first half of adding a passkey: a challenge for this session.
#[post("/account/passkeys/challenge", data = "<form>")]
async fn registration_challenge(
    form: SessionForm<ChallengeFields>,
    app: &State<App>,
) -> AppResult<(Status, (ContentType, String))> {
    let (session, fields, origin) = form.into_parts();
    let confirmation = Confirmation {
        password: &fields.password,
        code: Secret::new(fields.code.expose()),
    };
    let begun =
        passkeys::begin_registration(app, &session, &fields.name, &confirmation, &origin).await?;
    Ok(challenge_json(begun))
}

/// The second half: the browser's answer. Stored, or the page again with why not.
#[post("/account/passkeys", data = "<form>")]
async fn register(
    form: SessionForm<AnswerFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let (session, fields, origin) = form.into_parts();
    let done = passkeys::finish_registration(
        app,
        &session,
        fields.ceremony.expose(),
        &fields.credential,
        &origin,
    )
    .await?;
    match done {
        Registration::Added { name } => Ok(Either::Left(page::done(
            uri!(account_passkeys),
            format!("The passkey “{name}” was added. You can now sign in with it."),
        ))),
        Registration::Refused(why) => refused(&session, app, &why.wording()).await,
    }
}

/// The page again, 422, saying why nothing changed.
async fn refused(
    session: &CurrentSession,
    app: &App,
    why: &str,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let status = Status::UnprocessableEntity;
    let page = account_page(status, session, app, None, Some(why)).await?;
    Ok(Either::Right(page))
}

/// After a rename or a removal: back to the list, or the page again with why not.
async fn after_change(
    change: PasskeyChange,
    done: &str,
    session: &CurrentSession,
    app: &App,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    match change {
        PasskeyChange::Done { name } => Ok(Either::Left(page::done(
            uri!(account_passkeys),
            format!("The passkey “{name}” {done}."),
        ))),
        PasskeyChange::NotFound => Err(AppError::NotFound),
        PasskeyChange::Refused(why) => refused(session, app, &why.wording()).await,
    }
}

#[post("/account/passkeys/<handle>/rename", data = "<form>")]
async fn rename(
    handle: Result<Handle<'_>, NotAHandle>,
    form: SessionForm<RenameFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let handle = handle?.as_str();
    let (session, name) = (&form.session, &form.form.name);
    let change = passkeys::rename(app, session, handle, name, &form.origin).await?;
    after_change(change, "was renamed", session, app).await
}

#[post("/account/passkeys/<handle>/remove", data = "<form>")]
async fn remove(
    handle: Result<Handle<'_>, NotAHandle>,
    form: SessionForm<RemoveFields>,
    app: &State<App>,
) -> AppResult<Either<NoticeRedirect, (Status, Template)>> {
    let handle = handle?.as_str();
    let confirmation = Confirmation {
        password: &form.form.password,
        code: Secret::new(form.form.code.expose()),
    };
    let session = &form.session;
    let change = passkeys::remove(app, session, handle, &confirmation, &form.origin).await?;
    let done = "was removed and no longer signs you in";
    after_change(change, done, session, app).await
}

/// The first half of signing in with a passkey: a challenge any registered passkey may answer.
#[post("/login/passkey/challenge", data = "<form>")]
async fn sign_in_challenge(
    form: PublicForm<CsrfOnly>,
    origin: Origin,
    app: &State<App>,
) -> AppResult<(Status, (ContentType, String))> {
    let _ = form;
    Ok(challenge_json(
        passkey_sign_in::begin_sign_in(app, &origin).await?,
    ))
}

/// The second half: the browser's answer. The session starts exactly as after a password.
#[post("/login/passkey", data = "<form>")]
async fn sign_in(
    form: PublicForm<AnswerFields>,
    secret: FormSecret,
    origin: Origin,
    cookies: SignInCookies<'_>,
    app: &State<App>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    let fields = form.0;
    let attempt = PasskeyAttempt {
        ceremony: Secret::new(fields.ceremony.expose()),
        credential: &fields.credential,
        remember: fields.remember,
        replacing: cookies.replacing(),
        device_tokens: cookies.device_tokens(),
    };
    match passkey_sign_in::finish_sign_in(app, attempt, &origin).await? {
        PasskeyStep::SignedIn(signed_in) => Ok(Either::Left(super::auth::enter(
            *signed_in,
            &cookies,
            &fields.next,
        ))),
        PasskeyStep::Refused(refusal) => Ok(Either::Right(super::auth::login_refused(
            app,
            &secret,
            &fields.next,
            &refusal.wording(),
        ))),
    }
}

pub fn routes() -> Vec<Route> {
    routes![
        account_passkeys,
        registration_challenge,
        register,
        rename,
        remove,
        sign_in_challenge,
        sign_in
    ]
}
