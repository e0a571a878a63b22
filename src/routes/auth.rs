//! Signing in with a password (and the code step after it, for an account with two-factor)
//! and signing out; the login page, which a refused passkey sign-in shows again too.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, Either, Route, State};
use rocket_dyn_templates::{context, Template};

use super::two_factor::CodeFields;
use crate::app::error::AppResult;
use crate::app::sessions;
use crate::app::sign_in::code::{self, CodeAttempt, CodeStep};
use crate::app::sign_in::password::{self, SignIn, SignInAttempt};
use crate::app::sign_in::single_sign_on;
use crate::app::sign_in::{PendingToken, SignedIn};
use crate::app::App;
use crate::audit::Origin;
use crate::auth::CurrentSession;
use crate::secret::Secret;
use crate::sso::ProviderStatus;
use crate::users::password::Password;
use crate::web::cookies::{PendingLoginCookie, SessionCookie, SignInCookies};
use crate::web::guards::forms::csrf_protected;
use crate::web::guards::{CsrfProtected, FormSecret, PublicForm, SessionForm};
use crate::web::next::safe_next;
use crate::web::page::{self, Layout};
use crate::web::page::{Notice, NoticeRedirect};
use crate::web::refusals::SSO_UNREACHABLE;

/// The login form (its `Debug` redacts the password).
#[derive(Debug, FromForm)]
pub struct LoginFields {
    #[field(default = "")]
    email: String,
    password: Password,
    #[field(default = false)]
    remember: bool,
    #[field(default = "")]
    next: String,
    csrf_token: Secret<String>,
}

csrf_protected!(LoginFields);

const GENERIC_FAILURE: &str = "The e-mail address or password is incorrect.";

/// The login page, filled in as posted (never the password), with a message if any.
fn login_form(
    status: Status,
    layout: Layout,
    secret: &FormSecret,
    fields: &LoginFields,
    error: Option<&str>,
    app: &App,
) -> (Status, Template) {
    (
        status,
        Template::render(
            "login.html",
            context! {
                layout,
                csrf_token: secret.csrf_token(),
                email: &fields.email,
                // After a refusal the address is already there: the cursor goes to the password.
                focus_password: error.is_some() && !fields.email.trim().is_empty(),
                next: safe_next(&fields.next).unwrap_or(""),
                remember: fields.remember,
                error,
                passkeys: app.passkeys.is_available(),
                sso: sso_button(app),
            },
        ),
    )
}

/// What the login page shows of single sign-on: the button, whether it leads, and why it cannot
/// work right now when the provider did not answer.
fn sso_button(app: &App) -> Option<SsoButton<'_>> {
    let provider = app.sso.as_ref()?;
    Some(SsoButton {
        button: provider.button(),
        only: provider.only(),
        unavailable: (provider.status() == ProviderStatus::Unreachable).then_some(SSO_UNREACHABLE),
    })
}

#[derive(serde::Serialize)]
struct SsoButton<'a> {
    button: &'a str,
    only: bool,
    unavailable: Option<&'static str>,
}

/// The login form. Shown even to a signed-in browser (to switch accounts): signing in again
/// replaces that browser's session rather than reusing it.
#[get("/login?<next>")]
fn login_page(
    next: Option<&str>,
    signed_in: Option<&CurrentSession>,
    secret: FormSecret,
    flash: Option<Notice>,
    app: &State<App>,
) -> (Status, Template) {
    let layout = match signed_in {
        Some(current) => Layout::signed_in(current, flash),
        None => Layout::anonymous(flash),
    };
    login_form(Status::Ok, layout, &secret, &blank(next), None, app)
}

/// The login form as first shown, leading on to `next`.
fn blank(next: Option<&str>) -> LoginFields {
    LoginFields {
        email: String::new(),
        password: Password::new(String::new()),
        remember: false,
        next: next.unwrap_or("").to_string(),
        csrf_token: Secret::new(String::new()),
    }
}

/// The login page again after a sign-in that did not happen (a passkey refused), saying why.
pub(super) fn login_refused(
    app: &App,
    secret: &FormSecret,
    next: &str,
    message: &str,
) -> (Status, Template) {
    let layout = Layout::anonymous(None);
    let fields = blank(Some(next));
    login_form(
        Status::Unauthorized,
        layout,
        secret,
        &fields,
        Some(message),
        app,
    )
}

#[post("/login", data = "<form>")]
async fn login(
    form: PublicForm<LoginFields>,
    secret: FormSecret,
    origin: Origin,
    cookies: SignInCookies<'_>,
    pending: PendingLoginCookie<'_>,
    app: &State<App>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    let fields = form.0;
    let again = |status: Status, message: &str| {
        let layout = Layout::anonymous(None);
        Ok(Either::Right(login_form(
            status,
            layout,
            &secret,
            &fields,
            Some(message),
            app,
        )))
    };
    if fields.email.trim().is_empty() || fields.password.is_empty() {
        let message = "Please enter your e-mail address and your password.";
        return again(Status::UnprocessableEntity, message);
    }
    // Whatever session this browser had is replaced, never upgraded (fixation).
    let attempt = SignInAttempt {
        email: &fields.email,
        password: &fields.password,
        remember: fields.remember,
        replacing: cookies.replacing(),
        device_tokens: cookies.device_tokens(),
    };
    match password::sign_in(app, attempt, &origin).await? {
        SignIn::SignedIn(signed_in) => Ok(Either::Left(enter(*signed_in, &cookies, &fields.next))),
        SignIn::CodeNeeded(token) => Ok(Either::Left(to_code_step(&pending, token, &fields.next))),
        SignIn::Refused => again(Status::Unauthorized, GENERIC_FAILURE),
        SignIn::UseSingleSignOn => again(
            Status::Forbidden,
            "This portal signs you in through your company's identity provider: use the single \
             sign-on button.",
        ),
    }
}

/// On to the code step, the pending sign-in's token in its cookie and `next` kept.
pub(super) fn to_code_step(
    pending: &PendingLoginCookie<'_>,
    token: PendingToken,
    next: &str,
) -> Redirect {
    pending.set(token.0.into_exposed());
    let code_step = match safe_next(next) {
        Some(next) => uri!(code_page(next = Some(next))).to_string(),
        None => uri!(code_page(next = None::<&str>)).to_string(),
    };
    Redirect::to(code_step)
}

/// After the last factor: the session cookie (kept across browser restarts for "keep me signed
/// in"), the device token if this browser is new to the account, and the way in — the password
/// page for a held account, else where the person was going.
pub(super) fn enter(signed_in: SignedIn, cookies: &SignInCookies<'_>, next: &str) -> Redirect {
    let SignedIn { issued, new_device } = signed_in;
    let held = issued.session.must_change_password;
    cookies
        .session
        .set_session(issued.token.into_exposed(), issued.session.remember);
    match new_device {
        Some(made) => cookies.devices.add(made.token.into_exposed()),
        None => cookies.devices.refresh(),
    }
    let destination = match held {
        true => "/account/password",
        false => safe_next(next).unwrap_or("/dashboard"),
    };
    Redirect::to(destination.to_string())
}

/// The sign-out button's form: open to every session, also one held for a password change.
#[derive(Debug, FromForm)]
pub struct SignOutFields {
    csrf_token: Secret<String>,
}

impl CsrfProtected for SignOutFields {
    const OPEN_DURING_PASSWORD_HOLD: bool = true;
    const OPEN_DURING_TWO_FACTOR_HOLD: bool = true;

    fn csrf_token(&self) -> &str {
        self.csrf_token.expose()
    }
}

#[post("/logout", data = "<form>")]
async fn logout(
    form: SessionForm<SignOutFields>,
    cookie: SessionCookie<'_>,
    app: &State<App>,
) -> AppResult<Either<Redirect, NoticeRedirect>> {
    // A single sign-on session signs out at the provider too (RP-initiated logout).
    let at_provider = single_sign_on::end_session_url(app, form.session.session.id).await?;
    sessions::sign_out(app, &form.session, &form.origin).await?;
    cookie.clear();
    Ok(match at_provider {
        Some(url) => Either::Left(Redirect::to(url)),
        None => Either::Right(page::done(uri!(login_page(_)), "You have been signed out.")),
    })
}

fn code_form(
    status: Status,
    secret: &FormSecret,
    next: &str,
    error: Option<&str>,
    expired: bool,
) -> (Status, Template) {
    (
        status,
        Template::render(
            "login_two_factor.html",
            context! {
                layout: Layout::anonymous(None),
                csrf_token: secret.csrf_token(),
                next: safe_next(next).unwrap_or(""),
                error,
                expired,
            },
        ),
    )
}

const EXPIRED: &str =
    "This sign-in is no longer open (it expired after five minutes, was already used, or the account changed). Please sign in again.";

/// The code step of a sign-in: open only to a browser whose password step just passed.
#[get("/login/two-factor?<next>")]
async fn code_page(
    next: Option<&str>,
    pending: PendingLoginCookie<'_>,
    secret: FormSecret,
    app: &State<App>,
) -> AppResult<(Status, Template)> {
    let next = next.unwrap_or("");
    if code::pending_is_open(app, pending.token().as_deref()).await? {
        Ok(code_form(Status::Ok, &secret, next, None, false))
    } else {
        pending.clear();
        Ok(code_form(
            Status::Unauthorized,
            &secret,
            next,
            Some(EXPIRED),
            true,
        ))
    }
}

#[post("/login/two-factor", data = "<form>")]
async fn submit_code(
    form: PublicForm<CodeFields>,
    secret: FormSecret,
    origin: Origin,
    cookies: SignInCookies<'_>,
    pending: PendingLoginCookie<'_>,
    app: &State<App>,
) -> AppResult<Either<Redirect, (Status, Template)>> {
    let fields = form.0;
    let pending_token = pending.token();
    let attempt = CodeAttempt {
        pending: pending_token.as_deref().map(Secret::new),
        code: Secret::new(fields.code.expose()),
        replacing: cookies.replacing(),
        device_tokens: cookies.device_tokens(),
    };
    match code::complete_sign_in(app, attempt, &origin).await? {
        CodeStep::SignedIn(signed_in) => {
            pending.clear();
            let entered = enter(*signed_in, &cookies, &fields.next);
            Ok(Either::Left(entered))
        }
        CodeStep::WrongCode => {
            let message = "That code is not right. Enter the current 6-digit code from your authenticator app, or one of your unused recovery codes.";
            let page = code_form(
                Status::Unauthorized,
                &secret,
                &fields.next,
                Some(message),
                false,
            );
            Ok(Either::Right(page))
        }
        CodeStep::Expired => {
            pending.clear();
            let page = code_form(
                Status::Unauthorized,
                &secret,
                &fields.next,
                Some(EXPIRED),
                true,
            );
            Ok(Either::Right(page))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![login_page, login, code_page, submit_code, logout]
}
