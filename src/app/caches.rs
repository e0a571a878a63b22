//! Every cache the application keeps, each with the rule that keeps it exact (the machinery is in
//! `crate::cache`). [`App`](super::App) owns one of each.
//!
//! | cache | kept under | invalidated by |
//! |---|---|---|
//! | [`SessionCache`] | the write generation | every committing write (logout, revocation, disable, role, password, two-factor, sign-in) |
//! | [`DashboardCache`] | the write generation | the same; plus a 30 s age limit for sessions that time out without a write |
//! | [`CompanyFiguresCache`] | 15 s | an employee change on this instance clears it at once |
//! | [`SecurityFiguresCache`] | 5 s | nothing: counts that link to live admin pages, never a decision |
//! | [`CompanyFragment`] | the figures' `Arc` | a new version of the company figures |
//!
//! The write generation is a counter file on SQLite and the instances' acknowledged protocol on
//! PostgreSQL (`crate::cache::peers`). Nothing is cached on in-memory SQLite, nor by the command
//! line, except the two timed figures.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use sqlx::AnyConnection;

use super::people::{Dashboard, SecurityFigures};
use crate::auth::session::ActiveSession;
use crate::cache::{Derived, GenerationCache, TimedSlot};
use crate::hr::CompanyFigures;
use crate::ids::UserId;

/// Most sessions kept in memory.
const SESSIONS_KEPT: usize = 50_000;

/// Sessions loaded by earlier requests, by the SHA-256 of their cookie token (the key the
/// database uses too), used only while the write generation still equals the one read before
/// they were loaded: every commit that could end a session or change what one carries moves it
/// on, here or in any other instance, before that commit returns, so an entry can never outlive
/// the change. Entries
/// keep their timestamps, so the idle and absolute limits are still checked on every request.
#[derive(Debug)]
pub struct SessionCache(GenerationCache<String, ActiveSession>);

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache(GenerationCache::with_capacity(SESSIONS_KEPT))
    }
}

impl SessionCache {
    /// The session cached under `token_hash` at `generation`.
    pub fn get(&self, token_hash: &str, generation: u64) -> Option<ActiveSession> {
        self.0.get(token_hash, generation)
    }

    /// Keeps `session`, loaded after the counter read `generation`.
    pub fn put(&self, token_hash: String, generation: u64, session: ActiveSession) {
        self.0.put(token_hash, generation, session);
    }

    /// Records that the session's `last_seen_at` was written as `at`. The entry stays valid: the
    /// activity time changes no one's rights, so that write bumps no generation, and a kept
    /// activity time is never later than the row's.
    pub fn seen(&self, token_hash: &str, at: i64) {
        self.0.update(token_hash, |session| {
            session.last_seen_at = session.last_seen_at.max(at);
        });
    }

    /// How many requests were answered from memory.
    pub fn hits(&self) -> u64 {
        self.0.hits()
    }
}

/// Most dashboards kept in memory (one per person and day).
const DASHBOARDS_KEPT: usize = 10_000;

/// Dashboards by person and day, valid under the write generation they were loaded at: a page view then costs no database round trip until something is written. Every
/// figure on it — the company's, the person's record, their sessions, new-device notices —
/// changes only through a write transaction, which bumps the generation. (Sessions that merely
/// time out change the count without a write; the cache's thirty-second age limit bounds that.)
#[derive(Debug)]
pub struct DashboardCache(GenerationCache<(UserId, NaiveDate), Dashboard>);

impl Default for DashboardCache {
    fn default() -> Self {
        DashboardCache(GenerationCache::with_capacity(DASHBOARDS_KEPT))
    }
}

impl DashboardCache {
    pub fn get(&self, key: &(UserId, NaiveDate), generation: u64) -> Option<Dashboard> {
        self.0.get(key, generation)
    }

    pub fn put(&self, key: (UserId, NaiveDate), generation: u64, dashboard: Dashboard) {
        self.0.put(key, generation, dashboard);
    }

    /// How many dashboards were served from memory.
    pub fn hits(&self) -> u64 {
        self.0.hits()
    }
}

/// How long the company-wide dashboard figures are reused before being read again.
pub const COMPANY_FIGURES_TTL: Duration = Duration::from_secs(15);

/// The company-wide dashboard figures, shared by every dashboard view for a few seconds: they are
/// the same for everyone, cost four queries, and a few seconds of staleness is harmless for them.
/// Employee edits on this instance clear it at once; edits elsewhere (another instance, the CLI)
/// show within `COMPANY_FIGURES_TTL`. Nothing about sessions or permissions is ever cached here.
#[derive(Debug)]
pub struct CompanyFiguresCache(TimedSlot<Arc<CompanyFigures>>);

impl Default for CompanyFiguresCache {
    fn default() -> Self {
        CompanyFiguresCache(TimedSlot::new(COMPANY_FIGURES_TTL))
    }
}

impl CompanyFiguresCache {
    /// The figures for `today`, from the cache while fresh.
    pub async fn get(
        &self,
        conn: &mut AnyConnection,
        today: NaiveDate,
    ) -> Result<Arc<CompanyFigures>, sqlx::Error> {
        if let Some(figures) = self.0.get_if(|figures| figures.today == today) {
            return Ok(figures);
        }
        let figures = Arc::new(CompanyFigures::load(conn, today).await?);
        self.0.set(Arc::clone(&figures));
        Ok(figures)
    }

    /// Forgets the cached figures (after an employee was added or changed here).
    pub fn invalidate(&self) {
        self.0.clear();
    }
}

/// How long the administrators' figures are shared between dashboard views.
const SECURITY_FIGURES_TTL: Duration = Duration::from_secs(5);

/// The administrators' figures, shared by their dashboards for a few seconds. Failed sign-ins and
/// locked accounts change without bumping the write generation (audit events and throttle
/// counters), so the generation cannot keep them; they are counts that point to the admin pages
/// (which read live), never an input to a decision, so five seconds of age is harmless.
#[derive(Debug)]
pub struct SecurityFiguresCache(TimedSlot<SecurityFigures>);

impl Default for SecurityFiguresCache {
    fn default() -> Self {
        SecurityFiguresCache(TimedSlot::new(SECURITY_FIGURES_TTL))
    }
}

impl SecurityFiguresCache {
    pub fn get(&self) -> Option<SecurityFigures> {
        self.0.get_if(|_| true)
    }

    pub fn set(&self, figures: SecurityFigures) {
        self.0.set(figures);
    }
}

/// The company part of the dashboard as HTML, rendered once per version of the figures: the
/// figures are shared (`Arc`) while they stay the same — under the write generation or the
/// company cache — so their page is too.
pub type CompanyFragment = Derived<CompanyFigures, str>;
