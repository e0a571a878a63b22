//! A person's own private details at `/account/details`: their phone, personal e-mail, home
//! address and emergency contact (the date of birth is HR's to set). One transaction with its
//! audit row, the person as actor, the fields named but never their values.

use super::sessions::own_event;
use super::App;
use crate::app::error::AppResult;
use crate::audit::{self, EventKind, Origin};
use crate::auth::CurrentSession;
use crate::hr::employee::{PrivateDetails, PrivateDraft};
use crate::hr::{begin_hr_write, Employee, InvalidEmployee};

/// The person's record and its private details; `None` when their account has no record.
pub struct OwnDetails {
    pub employee: Employee,
    pub private: PrivateDetails,
}

pub async fn own_details(app: &App, current: &CurrentSession) -> AppResult<Option<OwnDetails>> {
    let mut conn = app.db.read().await?;
    let Some(employee) = Employee::for_user(&mut conn, current.session.user_id).await? else {
        return Ok(None);
    };
    let private = PrivateDetails::for_employee(&mut conn, employee.id)
        .await?
        .unwrap_or_default();
    Ok(Some(OwnDetails { employee, private }))
}

/// How saving one's own details went.
#[derive(Debug)]
pub enum OwnDetailsSave {
    Saved,
    /// Nothing differed: nothing written, no event.
    Unchanged,
    /// Nothing was written; per-field messages for the form.
    Invalid(InvalidEmployee),
    /// The account has no employee record (any more).
    NoRecord,
}

/// Saves the person's own details. `draft.birth_date` is ignored: the stored date is kept.
pub async fn save_own_details(
    app: &App,
    current: &CurrentSession,
    draft: PrivateDraft<'_>,
    origin: &Origin,
) -> AppResult<OwnDetailsSave> {
    let mut tx = begin_hr_write(&app.db).await?;
    let Some(employee) = Employee::for_user(&mut tx, current.session.user_id).await? else {
        tx.rollback().await?;
        return Ok(OwnDetailsSave::NoRecord);
    };
    let before = PrivateDetails::for_employee(&mut tx, employee.id)
        .await?
        .unwrap_or_default();
    let own = PrivateDraft {
        birth_date: None,
        ..draft
    };
    let after = match own.validate(app.today(), before.birth_date) {
        Ok(after) => after,
        Err(invalid) => {
            tx.rollback().await?;
            return Ok(OwnDetailsSave::Invalid(invalid));
        }
    };
    let Some(changes) = PrivateDetails::describe_changes(&before.changed_fields(&after)) else {
        tx.rollback().await?;
        return Ok(OwnDetailsSave::Unchanged);
    };
    after.save(&mut tx, employee.id).await?;
    let event = own_event(current, EventKind::OwnDetailsChanged, origin)
        .detail(format!("employee #{} {}", employee.id, employee.name))
        .detail(changes);
    audit::record(&mut tx, app.clock.now(), event).await?;
    tx.commit().await?;
    Ok(OwnDetailsSave::Saved)
}
