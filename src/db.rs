//! Database pool set-up, embedded migrations and the fairing that provides both.
//!
//! Backend choice: the app talks to SQLite and PostgreSQL through sqlx's `Any` driver. One code
//! path serves both (every query uses `$n` placeholders, integer unix timestamps and integer flags,
//! which both engines store and decode alike), so a feature can never silently be SQLite-only.
//! The price — no compile-time checked queries, no chrono/bool decoding — is paid once in the
//! schema conventions; the migrations are per backend because DDL differs.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Transaction};

use crate::config::AppConfig;

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
    #[error("cannot create the database folder {path}")]
    DatabaseDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Opens (creating if needed) the configured database and applies pending migrations.
    pub async fn connect(config: &AppConfig) -> Result<Db, DbError> {
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
            std::fs::create_dir_all(&config.data_dir).map_err(|source| DbError::DataDir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
            url = create_if_missing(&url)?;
        }
        // Statement logging would write e-mail addresses and session lookups to the console.
        let options = AnyConnectOptions::from_str(&url)
            .map_err(DbError::Connect)?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(config.database_max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; NORMAL is durable in WAL
                        // except for the last commits on power loss; busy_timeout makes writers
                        // queue instead of failing with "database is locked".
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
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
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}

/// `$first, $first+1, …` for `count` values of an `IN (…)` list: numbered placeholders that both
/// engines read (only their count varies; every value is bound).
pub fn numbered_placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// Whether a statement failed on a UNIQUE constraint (both engines report it alike).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
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
        let folder = options.get_filename().parent().unwrap_or(Path::new(""));
        if !folder.as_os_str().is_empty() {
            std::fs::create_dir_all(folder).map_err(|source| DbError::DatabaseDir {
                path: folder.display().to_string(),
                source,
            })?;
        }
    }
    Ok(url)
}
