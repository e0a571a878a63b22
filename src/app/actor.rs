//! Who performs a change: an administrator in a browser, or the operator at the command line.

use crate::app::error::{AppError, AppResult};
use crate::audit::{Event, EventKind, Origin};
use crate::auth::session;
use crate::auth::CurrentUser;
use crate::db::{lock_for_transaction, WriteLock};
use crate::ids::{SessionId, UserId};
use crate::users::{Permission, User};

/// The author of an administrative change, carried into its transaction and its audit event.
#[derive(Debug, Clone)]
pub struct Actor {
    kind: ActorKind,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum ActorKind {
    /// Signed in through `session`; authorized by the `Require` guard for `permission` and
    /// re-confirmed inside each transaction.
    Staff {
        user_id: UserId,
        session_id: SessionId,
        session_handle: String,
        permission: Permission,
    },
    /// The operator, who already holds the database.
    CommandLine,
    /// The application itself, on its schedule (the end of a last day): no account, no browser.
    Schedule,
}

impl Actor {
    /// A person acting from an administration page under `permission` (which their role had
    /// when the guard let them in, and must still have inside the transaction).
    pub fn staff(user: &CurrentUser, permission: Permission, origin: Origin) -> Actor {
        let session = &user.session.session;
        Actor {
            kind: ActorKind::Staff {
                user_id: session.user_id,
                session_id: session.id,
                session_handle: session.handle.clone(),
                permission,
            },
            origin,
        }
    }

    pub fn command_line() -> Actor {
        Actor {
            kind: ActorKind::CommandLine,
            origin: Origin::command_line(),
        }
    }

    pub fn schedule() -> Actor {
        Actor {
            kind: ActorKind::Schedule,
            origin: Origin::default(),
        }
    }

    /// The acting account, if a person in a browser.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.kind {
            ActorKind::Staff { user_id, .. } => Some(*user_id),
            ActorKind::CommandLine | ActorKind::Schedule => None,
        }
    }

    /// Whether `handle` is the session this actor acts through.
    pub fn acts_through(&self, handle: &str) -> bool {
        matches!(&self.kind, ActorKind::Staff { session_handle, .. } if session_handle == handle)
    }

    /// An event of `kind` by this actor, from where they are.
    pub fn event(&self, kind: EventKind) -> Event {
        let event = Event::new(kind, &self.origin);
        match self.user_id() {
            Some(id) => event.actor(id),
            None => event,
        }
    }

    /// Re-checks, inside the change's write transaction and before the change, that an admin's
    /// session still exists and that they are still an enabled admin — closing the window in
    /// which an admin demoted or signed out while a request was in flight could still act. Both
    /// checks are writes that change nothing: on SQLite the transaction already holds the write
    /// lock, on PostgreSQL they lock the session and user rows, so a concurrent revocation or
    /// demotion waits for this transaction instead of slipping past it.
    ///
    /// Every administrative change, from a browser or the command line, first takes the one
    /// admin-changes lock ([`WriteLock::AdminChanges`]): with it, two admins acting at once queue
    /// instead of locking each other's rows in opposite orders (a PostgreSQL deadlock).
    pub async fn confirm(&self, conn: &mut sqlx::AnyConnection) -> AppResult<()> {
        lock_for_transaction(conn, WriteLock::AdminChanges).await?;
        let ActorKind::Staff {
            user_id,
            session_id,
            permission,
            ..
        } = &self.kind
        else {
            return Ok(());
        };
        if session::lock_if_present(conn, *session_id).await?
            && User::lock_if_enabled_with(conn, *user_id, *permission).await?
        {
            Ok(())
        } else {
            Err(AppError::NoLongerAllowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::session::{SessionLimits, SessionOrigin};
    use crate::config::AppConfig;
    use crate::db::Db;
    use crate::users::{Email, NewUser, Role};

    async fn confirmed(db: &Db, actor: &Actor) -> bool {
        let mut tx = db.begin_write().await.unwrap();
        let confirmed = actor.confirm(&mut tx).await.is_ok();
        tx.rollback().await.unwrap();
        confirmed
    }

    #[rocket::async_test]
    async fn an_admin_demoted_or_signed_out_mid_request_is_no_longer_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let config = AppConfig {
            data_dir: dir.path().to_path_buf(),
            ..AppConfig::default()
        };
        let db = Db::connect(&config, crate::cache::Participation::Instance)
            .await
            .unwrap();
        let mut conn = db.read().await.unwrap();
        let email = Email::parse("root@example.com").unwrap();
        let new = NewUser {
            email: &email,
            name: "Root",
            role: Role::Admin,
            password_hash: crate::secret::Secret::new("$argon2id$not-a-real-hash"),
            must_change_password: false,
        };
        let user = User::create(&mut conn, &new, None, 0).await.unwrap();
        let limits = SessionLimits::from_config(&config);
        let origin = SessionOrigin::default();
        let issued = session::create(&mut conn, &user, &origin, None, &limits, 0)
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        let actor = Actor {
            kind: ActorKind::Staff {
                user_id: user.id,
                session_id: issued.session.id,
                session_handle: issued.session.handle.clone(),
                permission: Permission::ManageAccounts,
            },
            origin: Origin::default(),
        };
        assert!(confirmed(&db, &actor).await);

        sqlx::query("UPDATE users SET role = 'employee'")
            .execute(&db.pool)
            .await
            .unwrap();
        assert!(!confirmed(&db, &actor).await, "demoted meanwhile");

        sqlx::query("UPDATE users SET role = 'admin'")
            .execute(&db.pool)
            .await
            .unwrap();
        assert!(confirmed(&db, &actor).await);
        let mut conn = db.read().await.unwrap();
        session::delete_by_token(&mut conn, issued.token.expose())
            .await
            .unwrap();
        drop(conn);
        assert!(!confirmed(&db, &actor).await, "signed out meanwhile");
        assert!(
            confirmed(&db, &Actor::command_line()).await,
            "the operator needs no session"
        );
    }
}
