//! Database pool set-up, embedded migrations and the fairing that provides both.
//!
//! Backend choice: the app talks to SQLite and PostgreSQL through sqlx's `Any` driver. One code
//! path serves both (every query uses `$n` placeholders, integer unix timestamps and integer flags,
//! which both engines store and decode alike), so a feature can never silently be SQLite-only.
//! The price — no compile-time checked queries, no chrono/bool decoding — is paid once in the
//! schema conventions; the migrations are per backend because DDL differs.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};

pub mod backup;

use crate::cache::{Bracket, FileGeneration, Generation, LeaseSettings, Participation, Peers};
use crate::config::AppConfig;
use crate::private_files::{private_database_file, private_dir};

/// The shortest PostgreSQL `lock_timeout`: administrative changes queue on one lock, and a short
/// queue of them must not be refused.
const LOCK_TIMEOUT_FLOOR_MS: u64 = 5_000;

/// The shortest wait for SQLite's write lock (`busy_timeout`). Another writer holding it is load,
/// not an outage: sixteen instances signing people in at once on a busy machine wait longer than a
/// second for their turn, and must not be refused. (Connections still fail fast.)
const WRITE_LOCK_WAIT_FLOOR_MS: u64 = 5_000;

/// Bytes SQLite's WAL file is truncated to after a checkpoint.
const WAL_SIZE_LIMIT: u64 = 16 * 1024 * 1024;

mod roles;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared connection pool, managed by Rocket and cloned into every domain call.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The write generation every committing write moves on (a counter file beside a SQLite
    /// file, the instances' protocol on PostgreSQL, off for in-memory SQLite): what in-memory
    /// caches are checked against.
    pub generation: Arc<Generation>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create or restrict the database file in {path}")]
    DatabaseDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot open the generation counter beside the database")]
    Generation(#[source] std::io::Error),
    #[error(transparent)]
    Peers(#[from] crate::cache::peers::PeersError),
}

impl Db {
    /// Opens (creating if needed) the configured database and applies pending migrations. On
    /// PostgreSQL a server (`Participation::Instance`) also joins the other instances: it caches,
    /// so it must hear every write.
    pub async fn connect(config: &AppConfig, participation: Participation) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let mut url = config.database_url();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        if backend == Backend::Sqlite {
            private_dir(&config.data_dir).map_err(|source| DbError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
            url = create_if_missing(&url)?;
        }
        let timeout = Duration::from_millis(config.database_timeout_ms);
        let session_settings = match backend {
            Backend::Sqlite => format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; \
                 PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};",
                config.database_timeout_ms.max(WRITE_LOCK_WAIT_FLOOR_MS)
            ),
            Backend::Postgres => format!(
                "SET lock_timeout = {}",
                config.database_timeout_ms.max(LOCK_TIMEOUT_FLOOR_MS)
            ),
        };
        // Statement logging would write e-mail addresses and session lookups to the console.
        let options = AnyConnectOptions::from_str(&url)
            .map_err(DbError::Connect)?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(config.database_max_connections)
            // A request waits this long for a connection, then is answered 503: when the database
            // is gone, answers come back within about a second instead of piling up.
            .acquire_timeout(timeout)
            .after_connect(move |conn, _meta| {
                let settings = session_settings.clone();
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        // A request never waits on a row or advisory lock for longer than this:
                        // past it, 503 and "try again" rather than a request hanging.
                        conn.execute(settings.as_str()).await?;
                    }
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; NORMAL is durable in WAL
                        // except for the last commits on power loss; busy_timeout makes writers
                        // queue (at least 5 s) instead of failing at once with
                        // "database is locked"; journal_size_limit gives the WAL file back after
                        // each checkpoint, so a burst of writes does not leave it large for good.
                        conn.execute(settings.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        let mut db = Db {
            pool,
            backend,
            generation: Arc::new(Generation::off()),
        };
        db.migrate().await?;
        // After migrating: a database that cannot be opened is reported as such, and the
        // database's own id (which the counter file must carry) exists.
        if backend == Backend::Sqlite {
            let id: String = sqlx::query_scalar("SELECT id FROM database_identity")
                .fetch_one(&db.pool)
                .await
                .map_err(DbError::Connect)?;
            db.generation = Arc::new(generation_beside(&url, &id)?);
        }
        if backend == Backend::Postgres {
            let settings = LeaseSettings {
                lease: Duration::from_millis(config.cache_lease_ms),
            };
            let peers = Peers::join(&url, db.pool.clone(), participation, settings).await?;
            db.generation = Arc::new(Generation::Peers(peers));
        }
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => {
                SQLITE_MIGRATIONS.run(&self.pool).await?;
                roles::widen_role_check(&self.pool)
                    .await
                    .map_err(DbError::Connect)?;
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// A pooled connection for reads; every query function takes `&mut AnyConnection`, so the
    /// same function serves this and a transaction.
    pub async fn read(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// A write transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock up front: a deferred
    /// transaction that read first could not upgrade once another connection had written, and
    /// would fail instead of waiting for `busy_timeout`. PostgreSQL locks rows as they are written.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }?;
        Ok(WriteTx {
            tx,
            generation: Arc::clone(&self.generation),
        })
    }
}

/// A write transaction whose commit bumps the write generation (see [`crate::cache::generation`]), so
/// no in-memory cache serves what was loaded before it. Every write to sessions, accounts and
/// people goes through one, which is what makes the session cache exact.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    generation: Arc<Generation>,
}

impl WriteTx {
    /// Commits and moves the write generation on. SQLite: inside the counter's bracket (odd,
    /// commit, even); when the counter cannot be made odd the transaction is rolled back and
    /// nothing changes. PostgreSQL: the generation announced with the commit, then returns once
    /// every live instance has acknowledged it — an error after the commit means the change is
    /// saved but may not be seen everywhere yet (answered 503, as an outage).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        match &*self.generation {
            Generation::File(file) => commit_in_bracket(self.tx, file).await,
            Generation::Peers(peers) => {
                let generation = peers.publish(&mut self.tx).await?;
                self.tx.commit().await?;
                peers.settle(generation).await
            }
        }
    }

    /// Undoes the transaction (nothing was committed: no cache is affected).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }

    /// Commits without bumping the generation: only for transactions that write nothing any
    /// cache holds — audit events, throttle counters, the outbox. Under a flood of failed sign-ins
    /// the cached sessions of everyone else stay warm.
    pub async fn commit_leaving_caches_valid(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

async fn commit_in_bracket(
    tx: Transaction<'static, Any>,
    generation: &FileGeneration,
) -> Result<(), sqlx::Error> {
    let bracket = generation.bracket().await.map_err(sqlx::Error::Io)?;
    let committed = tx.commit().await;
    if let Bracket::Open(open) = bracket {
        open.close();
    }
    committed
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A kind of write that must run one at a time across every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteLock {
    /// Every administrative change (browser or command line). Each one locks the acting admin's
    /// rows and then, for a role or disable change, every admin row; two of them taking those in
    /// different orders deadlocked on PostgreSQL. Taken first, this lock is the one order.
    AdminChanges,
    /// Creating the first account or the demo company: "only while the table is empty" is a
    /// check-then-insert that READ COMMITTED lets two transactions pass at once.
    FirstRun,
}

impl WriteLock {
    /// The advisory-lock key (arbitrary constants, spelled so they are recognisable in
    /// `pg_locks`).
    fn key(self) -> i64 {
        match self {
            WriteLock::AdminChanges => 0x6872_0001,
            WriteLock::FirstRun => 0x6872_0002,
        }
    }
}

/// Takes `lock` until the caller's transaction ends. On PostgreSQL a transaction-scoped advisory
/// lock, released by commit or rollback (never leaked by an early return); on SQLite nothing is
/// needed: a write transaction (`BEGIN IMMEDIATE`) already holds the one database write lock.
pub async fn lock_for_transaction(
    conn: &mut sqlx::AnyConnection,
    lock: WriteLock,
) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(lock.key())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `$first, $first+1, …` for `count` values of an `IN (…)` list: numbered placeholders that both
/// engines read (only their count varies; every value is bound).
pub fn numbered_placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which of `user_ids` the statement `select_in` — one selecting a user id, ending in `IN` — finds:
/// one query for a page of accounts. `select_in` is always the app's own text, never input.
pub async fn user_ids_among(
    conn: &mut sqlx::AnyConnection,
    select_in: &'static str,
    user_ids: &[crate::ids::UserId],
) -> Result<Vec<crate::ids::UserId>, sqlx::Error> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{select_in} ({})", numbered_placeholders(1, user_ids.len()));
    let mut query = sqlx::query_scalar::<_, crate::ids::UserId>(&sql);
    for id in user_ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut *conn).await
}

/// Deletes every row of `table` that belongs to the account (its `user_id`); how many. `table`
/// is always one of the app's own names, never input.
pub async fn delete_rows_of_user(
    conn: &mut sqlx::AnyConnection,
    table: &'static str,
    user_id: crate::ids::UserId,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Whether an error means "the database cannot be reached or is locked right now", not "this
/// request is wrong": no connection within the timeout, the server gone or shutting down, too many
/// connections, or SQLite's write lock held past the timeout. Those are answered 503 with
/// `Retry-After`; everything else stays a 500.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs of a lost or refused connection (class 08), a server shutting down
/// (57P01–57P03), out of connections (53300) or a lock not granted within `lock_timeout` (55P03);
/// SQLite's BUSY (5) and LOCKED (6) families.
fn unavailable_code(code: &str) -> bool {
    if code.len() == 5 {
        // A PostgreSQL SQLSTATE (always five characters; some are all digits, like 42501).
        return code.starts_with("08")
            || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "55P03");
    }
    // A SQLite result code: its primary code is the low byte of the extended one.
    code.parse::<u32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6))
}

/// Whether a statement failed on a UNIQUE constraint (both engines report it alike).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The write generation of a SQLite database: a counter file beside it, or none for an in-memory
/// database (one process, nothing to share) and a read-only one (it never writes, and must not
/// create files).
fn generation_beside(url: &str, database_id: &str) -> Result<Generation, DbError> {
    let options = SqliteConnectOptions::from_str(url).map_err(DbError::Connect)?;
    let file = options.get_filename();
    // sqlx names an in-memory database `file:sqlx-in-memory-N`, and keeps the flag private.
    let in_memory =
        file.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory");
    if in_memory || url.contains("mode=ro") {
        return Ok(Generation::off());
    }
    FileGeneration::beside(file, database_id)
        .map(Generation::File)
        .map_err(DbError::Generation)
}

/// Makes a SQLite URL open its file the way the built-in default does: created when missing,
/// together with its folder. SQLite's own default (`mode=rw`) refuses a missing file with the
/// unhelpful "unable to open database file (code 14)", which is what a URL copied from the README
/// (`sqlite:///srv/hr/hr.db`) used to meet on a fresh machine. A `mode` the URL names is kept
/// (`ro` and `rw` stay strict, `memory` touches no disk), and so is the rest of its query.
fn create_if_missing(url: &str) -> Result<String, DbError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, query) = match rest.split_once('?') {
        Some((database, query)) => (database, Some(query)),
        None => (rest, None),
    };
    if database.is_empty() || database == ":memory:" {
        return Ok(url.to_string());
    }
    let mode = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("mode="));
    let url = match (mode, query) {
        (Some(_), _) => url.to_string(),
        (None, None) => format!("{url}?mode=rwc"),
        (None, Some("")) => format!("{url}mode=rwc"),
        (None, Some(_)) => format!("{url}&mode=rwc"),
    };
    if matches!(mode, None | Some("rwc")) {
        // sqlx's own parser names the file (percent-decoded), so the folder is the one it opens.
        let options = SqliteConnectOptions::from_str(&url).map_err(DbError::Connect)?;
        let file = options.get_filename();
        let folder = file.parent().unwrap_or(Path::new(""));
        let in_folder = |source| DbError::DatabaseDir {
            path: folder.display().to_string(),
            source,
        };
        if !folder.as_os_str().is_empty() && !folder.exists() {
            private_dir(folder).map_err(in_folder)?;
        }
        private_database_file(file).map_err(in_folder)?;
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::unavailable_code;

    #[test]
    fn only_outage_codes_read_as_unavailable() {
        for outage in ["08006", "57P01", "53300", "55P03", "5", "517", "6", "262"] {
            assert!(unavailable_code(outage), "{outage}");
        }
        // All-digit PostgreSQL SQLSTATEs are faults, not outages, whatever their low byte.
        for fault in ["42501", "22021", "22022", "23505", "1555", "19"] {
            assert!(!unavailable_code(fault), "{fault}");
        }
    }
}
