//! `/team`: the signed-in person's reports, direct and further down.

use super::App;
use crate::app::error::AppResult;
use crate::auth::CurrentUser;
use crate::hr::team::Team;
use crate::hr::Employee;

/// The viewer's team; empty when their account has no record or nobody reports to them. It
/// carries work details only (`Employee`): the profile is where a manager sees private ones.
pub async fn team(app: &App, viewer: &CurrentUser) -> AppResult<Team> {
    let mut conn = app.db.read().await?;
    let Some(me) = Employee::for_user(&mut conn, viewer.id).await? else {
        return Ok(Team::default());
    };
    let below = Employee::everyone_below(&mut conn, me.id).await?;
    Ok(Team::of(me.id, below))
}
