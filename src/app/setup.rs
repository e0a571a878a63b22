//! The first run: creating the first administrator with the one-time token printed on the
//! console, and signing them in.

use super::accounts::{AccountRefusal, NewAccountForm};
use super::App;
use crate::app::error::{AppError, AppResult};
use crate::audit::{self, Event, EventKind, Origin};
use crate::auth::session::{self, IssuedSession, SessionOrigin};
use crate::secret::Secret;
use crate::users::{NewUser, Role, User};

/// The first-run form as posted: the printed token and the first administrator's account.
#[derive(Debug)]
pub struct SetupForm<'a> {
    pub token: Secret<&'a str>,
    pub account: NewAccountForm<'a>,
}

/// How the first-run set-up went.
#[derive(Debug)]
pub enum Setup {
    /// The first administrator exists; `session` signs them in (absent only if they were
    /// disabled in the instant between).
    Done {
        session: Option<IssuedSession>,
    },
    Invalid(AccountRefusal),
}

/// Whether first-run set-up is open for the holder of `token` (only while no account exists).
pub async fn setup_is_open(app: &App, token: &str) -> AppResult<bool> {
    let users = User::count(&mut *app.db.read().await?).await?;
    Ok(users == 0 && app.setup.matches(token))
}

/// Creates the first administrator and signs them in. A closed set-up is a 404.
pub async fn complete_setup(app: &App, form: SetupForm<'_>, origin: &Origin) -> AppResult<Setup> {
    if !setup_is_open(app, form.token.expose()).await? {
        return Err(AppError::NotFound);
    }
    let (name, email) = match form.account.check() {
        Ok((name, email, Role::Admin)) => (name, email),
        Ok(_) => return Ok(Setup::Invalid(AccountRefusal::FirstAccountIsAdmin)),
        Err(message) => return Ok(Setup::Invalid(message)),
    };
    let hash = app.passwords.hash(form.account.password.expose()).await?;
    let new = NewUser {
        email: &email,
        name: &name,
        role: Role::Admin,
        password_hash: Secret::new(&hash),
        must_change_password: false,
    };
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    // Checked again atomically: a concurrent set-up or CLI user makes this a 404.
    let Some(user) = User::create_first_admin(&mut tx, &new, now).await? else {
        tx.rollback().await?;
        return Err(AppError::NotFound);
    };
    let session_origin = SessionOrigin {
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        remember: false,
        single_sign_on: None,
    };
    let issued = session::create(&mut tx, &user, &session_origin, None, &app.limits, now).await?;
    let mut event = Event::new(EventKind::SetupCompleted, origin)
        .actor(user.id)
        .subject(user.id);
    if let Some(issued) = &issued {
        event = event.session(&issued.session.handle);
    }
    audit::record(&mut tx, now, event).await?;
    tx.commit().await?;
    app.setup.consume();
    Ok(Setup::Done { session: issued })
}
