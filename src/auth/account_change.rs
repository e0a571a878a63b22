//! Changing whether an account may sign in, and with which rights — and ending its sessions in
//! the same transaction, so the new state and the sign-out land together. Shared by the admin
//! pages and the command line.

use super::session::SessionStore;
use crate::users::{AccountChange, Role, User};

/// What is being changed about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Disable,
    Enable,
    Role(Role),
}

/// Applies `action` to `user_id` inside the caller's transaction. Disabling or a role change
/// revokes every session of the account (new rights apply from a fresh sign-in). Returns the
/// outcome and how many sessions ended.
pub async fn apply_in(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    action: AccountAction,
) -> Result<(AccountChange, u64), sqlx::Error> {
    let outcome = match action {
        AccountAction::Disable => User::set_disabled(conn, user_id, true).await?,
        AccountAction::Enable => User::set_disabled(conn, user_id, false).await?,
        AccountAction::Role(role) => User::set_role(conn, user_id, role).await?,
    };
    let ended = match (outcome, action) {
        (AccountChange::Changed, AccountAction::Disable | AccountAction::Role(_)) => {
            SessionStore::revoke_all_for_user_in(conn, user_id).await?
        }
        _ => 0,
    };
    Ok((outcome, ended))
}
