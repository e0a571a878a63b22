//! The person's known devices: the new-sign-in notices on the dashboard and forgetting a
//! trusted browser.

use super::sessions::own_event;
use super::App;
use crate::app::error::AppResult;
use crate::audit::{self, EventKind, Origin};
use crate::auth::CurrentSession;
use crate::users::devices::KnownDevice;

/// Dismisses the new-sign-in notices (the person has seen them). Not audited: it changes only
/// what the dashboard shows.
pub async fn dismiss_notices(app: &App, current: &CurrentSession) -> AppResult<u64> {
    let mut tx = app.db.begin_write().await?;
    let dismissed = KnownDevice::acknowledge_all(&mut tx, current.session.user_id).await?;
    tx.commit().await?;
    Ok(dismissed)
}

/// Forgets one of the person's trusted devices: its next sign-in counts as new (throttled with
/// everyone else's and announced by mail). Whether it was theirs.
pub async fn forget_device(
    app: &App,
    current: &CurrentSession,
    handle: &str,
    origin: &Origin,
) -> AppResult<bool> {
    let mut tx = app.db.begin_write().await?;
    let user_id = current.session.user_id;
    let Some(device) = KnownDevice::delete_own(&mut tx, user_id, handle).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let described = crate::users::device::describe(device.user_agent.as_deref());
    let event = own_event(current, EventKind::DeviceForgotten, origin).detail(described);
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(true)
}
