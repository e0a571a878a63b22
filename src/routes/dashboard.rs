//! The front door and the signed-in home page.

use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::{context, Template};

use crate::auth::{CurrentSession, CurrentUser, SessionStore};
use crate::error::AppResult;
use crate::web::page::{when, Layout};

/// `/`: the dashboard for a signed-in person, the login page for everyone else.
#[get("/")]
fn index(signed_in: Option<&CurrentSession>) -> Redirect {
    match signed_in {
        Some(_) => Redirect::to("/dashboard"),
        None => Redirect::to("/login"),
    }
}

#[get("/dashboard")]
async fn dashboard(
    user: CurrentUser,
    sessions: &State<SessionStore>,
    flash: Option<FlashMessage<'_>>,
) -> AppResult<Template> {
    let own_sessions = sessions.list_for_user(user.id).await?;
    let session = &user.session.session;
    Ok(Template::render(
        "dashboard",
        context! {
            layout: Layout::signed_in(&user.session, flash),
            name: &user.name,
            email: &user.email,
            role: user.role.label(),
            is_admin: user.is_admin(),
            session_started: when(session.created_at),
            session_expires: when(session.expires_at),
            remembered: session.remember,
            session_count: own_sessions.len(),
        },
    ))
}

pub fn routes() -> Vec<Route> {
    routes![index, dashboard]
}
