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
//! - [`org_chart`]: the part of the reporting tree a page shows, and the chart's search
//! - [`import`]: a staff list previewed, kept, and applied in one transaction
//! - [`own_details`]: a person's own private details; [`team`]: a manager's reports
//! - [`recovery`]: reset links, invitations, set-password, unlock, one's own activity
//! - [`two_factor`]: enrolling, the code step of a sign-in, the admin reset, known devices
//! - [`passkeys`]: registering, naming and removing passkeys, and signing in with one
//! - [`mail`]: delivering the outbox (the background task's one use case)

pub mod access_review;
pub mod accounts;
pub mod actor;
pub mod backup;
pub mod caches;
pub mod demo;
pub mod devices;
pub mod error;
pub mod exports;
pub mod housekeeping;
pub mod import;
pub mod lifecycle;
pub mod mail;
pub mod observe;
pub mod org_chart;
pub mod own_details;
pub mod passkeys;
pub mod password;
pub mod people;
pub mod recent_factors;
pub mod recovery;
pub mod sessions;
pub mod setup;
pub mod sign_in;
pub mod step_up;
pub mod team;
pub mod two_factor;

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rocket::tokio::sync::Notify;

pub use actor::Actor;
use caches::{
    CompanyFiguresCache, CompanyFragment, DashboardCache, SecurityFiguresCache, SessionCache,
};

use crate::app::error::AppResult;
use crate::audit::{self, Event};
use crate::auth::refusals::RefusalTally;
use crate::auth::relying_party::RelyingParty;
use crate::auth::session::SessionLimits;
use crate::auth::throttle::{ThrottlePolicy, ThrottleScope};
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::config::AppConfig;
use crate::db::Db;
use crate::mail::{Letter, MailSettings, Transport};
use crate::sealed::Sealer;
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
    /// The company's days: when a last day ends, what "today" is.
    pub calendar: Calendar,
    pub limits: SessionLimits,
    /// Sessions kept in memory under the database's write generation.
    pub session_cache: SessionCache,
    pub throttle: ThrottlePolicy,
    /// Refusals past the first of their window, counted until the purge writes them.
    pub refusals: RefusalTally,
    /// Days the audit trail keeps an event.
    pub audit_retention_days: i64,
    pub passwords: PasswordService,
    pub company: CompanyFiguresCache,
    /// Whole dashboards kept in memory under the write generation.
    pub dashboards: DashboardCache,
    /// The administrators' dashboard figures, shared for a few seconds.
    pub security_figures: SecurityFiguresCache,
    /// The dashboard's company part as HTML, once per version of the figures.
    pub company_fragment: CompanyFragment,
    pub setup: SetupToken,
    pub mail: MailService,
    pub recovery: RecoveryPolicy,
    pub two_factor: TwoFactorPolicy,
    /// Passkeys: the WebAuthn relying party built from `public_url` (or why there is none).
    pub passkeys: RelyingParty,
    /// What the metrics listener exports (counted here, read by `web::metrics`).
    pub metrics: crate::metrics::Metrics,
    /// The company's OpenID Provider, when single sign-on is configured.
    pub sso: Option<crate::sso::Provider>,
    /// Seals the ID tokens kept for `id_token_hint` at sign-out.
    pub sso_sealer: Sealer,
}

/// What two-factor sign-in needs: the key that seals TOTP secrets and the admin rule.
#[derive(Debug)]
pub struct TwoFactorPolicy {
    pub sealer: Sealer,
    /// Seals the step-up's proofs of presence (a key of their own: one key per purpose).
    pub proofs: Sealer,
    pub required_for_admins: bool,
}

/// Everything about mail a use case or the delivery task needs.
#[derive(Debug)]
pub struct MailService {
    pub settings: MailSettings,
    pub transport: Transport,
    /// Seals message bodies at rest (they may carry a link).
    pub sealer: Sealer,
    /// Wakes the delivery task when a message was queued, so it leaves at once.
    pub queued: Notify,
    pub retry_delay: i64,
    pub max_attempts: i64,
}

/// Link lifetimes and the limit on reset requests.
#[derive(Debug)]
pub struct RecoveryPolicy {
    pub reset_ttl: i64,
    pub invitation_ttl: i64,
    pub requests: ThrottlePolicy,
    /// Link tokens minted: a reset request mints one whether or not the account exists, and tests
    /// count them to prove both cost the same.
    minted: AtomicU64,
}

impl RecoveryPolicy {
    pub(crate) fn mint(&self) -> crate::users::links::MintedLink {
        self.minted.fetch_add(1, Ordering::Relaxed);
        crate::users::links::MintedLink::mint()
    }

    pub fn links_minted(&self) -> u64 {
        self.minted.load(Ordering::Relaxed)
    }
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
    /// Connects to the database (applying migrations; joining the other instances as
    /// `participation` says) and starts the hashing threads.
    /// `secret_key` is the application's secret (as configured or kept in `secret.key`); the keys
    /// that seal values at rest are derived from it.
    pub async fn start(
        config: &AppConfig,
        secret_key: &str,
        clock: Clock,
        hashing: HashingCapacity,
        participation: crate::cache::Participation,
    ) -> anyhow::Result<App> {
        let settings = MailSettings::from_config(config)?;
        let passkeys = RelyingParty::from_public_url(&settings.public_url);
        let mail = MailService {
            settings,
            transport: Transport::from_config(config)?,
            sealer: Sealer::derive(secret_key.as_bytes(), "hr-portal outbox v1"),
            queued: Notify::new(),
            retry_delay: config.mail_retry_delay,
            max_attempts: config.mail_max_attempts,
        };
        let calendar = Calendar::new(config.company_time_zone()?);
        let sso = match config.single_sign_on()? {
            Some(settings) => Some(crate::sso::Provider::new(
                settings,
                &mail.settings.public_url,
            )?),
            None => None,
        };
        let db = Db::connect(config, participation).await?;
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
                scope: ThrottleScope::SignIn,
                per_account: config.login_failures_per_account,
                per_ip: config.login_failures_per_ip,
                window: config.throttle_window,
            },
            refusals: RefusalTally::default(),
            session_cache: SessionCache::default(),
            audit_retention_days: config.audit_retention_days,
            db,
            clock,
            calendar,
            passwords,
            company: CompanyFiguresCache::default(),
            dashboards: DashboardCache::default(),
            security_figures: SecurityFiguresCache::default(),
            company_fragment: CompanyFragment::default(),
            setup,
            mail,
            recovery: RecoveryPolicy {
                reset_ttl: config.password_reset_ttl,
                invitation_ttl: config.invitation_ttl,
                requests: ThrottlePolicy {
                    scope: ThrottleScope::ResetRequest,
                    per_account: config.reset_requests_per_account,
                    per_ip: config.reset_requests_per_ip,
                    window: config.throttle_window,
                },
                minted: AtomicU64::new(0),
            },
            two_factor: TwoFactorPolicy {
                sealer: Sealer::derive(secret_key.as_bytes(), "hr-portal totp secret v1"),
                proofs: Sealer::derive(secret_key.as_bytes(), "hr-portal step-up proof v1"),
                required_for_admins: config.require_two_factor_for_admins,
            },
            passkeys,
            metrics: crate::metrics::Metrics::new(matches!(config.metrics_address(), Ok(Some(_)))),
            sso,
            sso_sealer: Sealer::derive(secret_key.as_bytes(), "hr-portal sso id token v1"),
        })))
    }

    /// The last day of the person with the work e-mail `email` when it is over (`Some(None)`:
    /// they left on a day nobody recorded): such a person gets no account and no access back.
    pub(crate) async fn last_day_over(
        &self,
        conn: &mut sqlx::AnyConnection,
        email: &crate::users::Email,
    ) -> Result<Option<Option<chrono::NaiveDate>>, sqlx::Error> {
        crate::hr::Employee::gone_before(conn, email.as_str(), self.today()).await
    }

    /// The company's date now.
    pub fn today(&self) -> chrono::NaiveDate {
        self.calendar.date_at(self.clock.now())
    }

    /// Queues `letter` in the caller's transaction; it leaves once that commits (see
    /// [`App::mail_queued`]).
    async fn queue_mail(
        &self,
        conn: &mut sqlx::AnyConnection,
        user: &User,
        letter: Letter,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        crate::mail::outbox::enqueue(conn, &self.mail.sealer, Some(user.id), &letter, now).await
    }

    /// Tells the delivery task a message is waiting (after the commit that queued it).
    pub(crate) fn mail_queued(&self) {
        self.mail.queued.notify_one();
    }

    /// Writes an event that is the whole change (a refused sign-in), in its own transaction.
    async fn record_alone(&self, event: Event) -> AppResult<()> {
        let mut tx = self.db.begin_write().await?;
        audit::record(&mut tx, self.clock.now(), event).await?;
        // An audit event alone changes nothing a cache holds.
        tx.commit_leaving_caches_valid().await?;
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
