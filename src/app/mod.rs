//! The application layer: one function per use case, shared by the web handlers and the CLI.
//!
//! Each state-changing use case opens one transaction, re-checks inside it what must still hold
//! (an admin still an admin, a session still alive — see [`Actor`]), changes state, writes its
//! audit event **in that same transaction**, commits, and returns an outcome enum for the caller
//! to render. Handlers parse → call one function here → render; nothing in `routes/` or `cli.rs`
//! touches SQL, the pool or the audit log directly.
//!
//! - [`sessions`]: sign in and out, revoke, force logout, password change, purge, first-run set-up
//! - [`accounts`]: create, disable, enable, change role; the users and audit listings
//! - [`people`]: employees and departments, the directory, profiles, the dashboard, the demo

pub mod accounts;
pub mod actor;
pub mod people;
pub mod sessions;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

pub use actor::Actor;

use crate::audit::{self, Event};
use crate::auth::session::SessionLimits;
use crate::auth::throttle::ThrottlePolicy;
use crate::clock::Clock;
use crate::config::AppConfig;
use crate::db::Db;
use crate::error::AppResult;
use crate::hr::CompanyFiguresCache;
use crate::setup_token::SetupToken;
use crate::users::password::PasswordService;
use crate::users::User;

/// Which account a use case acts on: the web names it by id, the command line by e-mail.
#[derive(Debug, Clone, Copy)]
pub enum AccountRef<'a> {
    Id(crate::ids::UserId),
    Email(&'a str),
}

impl AccountRef<'_> {
    async fn load(self, conn: &mut sqlx::AnyConnection) -> Result<Option<User>, sqlx::Error> {
        match self {
            AccountRef::Id(id) => User::find_by_id(conn, id).await,
            AccountRef::Email(typed) => {
                User::find_by_email(conn, &crate::users::normalize_email(typed)).await
            }
        }
    }
}

/// What every use case works with. Managed by Rocket; the CLI builds its own.
pub struct Services {
    pub db: Db,
    pub clock: Clock,
    pub limits: SessionLimits,
    pub throttle: ThrottlePolicy,
    pub passwords: PasswordService,
    pub company: CompanyFiguresCache,
    pub setup: SetupToken,
}

/// The application: cheap to clone (one `Arc`), so background tasks can hold it.
#[derive(Clone)]
pub struct App(Arc<Services>);

impl Deref for App {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// How many argon2 computations may run at once, and how long one may wait for a slot.
#[derive(Debug, Clone, Copy)]
pub struct HashingCapacity {
    pub concurrency: usize,
    pub queue_timeout: Duration,
}

impl HashingCapacity {
    /// The server's: from the settings.
    pub fn from_config(config: &AppConfig) -> Self {
        HashingCapacity {
            concurrency: config.password_hash_concurrency,
            queue_timeout: Duration::from_millis(config.password_hash_queue_timeout_ms),
        }
    }

    /// The command line's: one at a time, and it may wait.
    pub fn command_line() -> Self {
        HashingCapacity {
            concurrency: 1,
            queue_timeout: Duration::from_secs(60),
        }
    }
}

impl App {
    /// Connects to the database (applying migrations) and starts the hashing threads.
    pub async fn start(
        config: &AppConfig,
        clock: Clock,
        hashing: HashingCapacity,
    ) -> anyhow::Result<App> {
        let db = Db::connect(config).await?;
        // Building the service computes its dummy hash: keep that off the async workers.
        let passwords = rocket::tokio::task::spawn_blocking(move || {
            PasswordService::new(hashing.concurrency, hashing.queue_timeout)
        })
        .await??;
        let setup = if User::count(&mut *db.read().await?).await? == 0 {
            SetupToken::issue()
        } else {
            SetupToken::closed()
        };
        Ok(App(Arc::new(Services {
            limits: SessionLimits::from_config(config),
            throttle: ThrottlePolicy {
                per_account: config.login_failures_per_account,
                per_ip: config.login_failures_per_ip,
                window: config.throttle_window,
            },
            db,
            clock,
            passwords,
            company: CompanyFiguresCache::default(),
            setup,
        })))
    }

    /// Writes an event that is the whole change (a refused sign-in), in its own transaction.
    async fn record_alone(&self, event: Event) -> AppResult<()> {
        let mut tx = self.db.begin_write().await?;
        audit::record(&mut tx, self.clock.now(), event).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Whether the database answers (the health check).
pub async fn check_database(app: &App) -> AppResult<()> {
    sqlx::query("SELECT 1")
        .execute(&mut *app.db.read().await?)
        .await?;
    Ok(())
}
