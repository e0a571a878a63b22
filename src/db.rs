//! Database pool set-up, embedded migrations and the fairing that provides both.
//!
//! Backend choice: the app talks to SQLite and PostgreSQL through sqlx's `Any` driver. One code
//! path serves both (every query uses `$n` placeholders, integer unix timestamps and integer flags,
//! which both engines store and decode alike), so a feature can never silently be SQLite-only.
//! The price — no compile-time checked queries, no chrono/bool decoding — is paid once in the
//! schema conventions; the migrations are per backend because DDL differs.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};

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
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply database migrations")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Opens (creating if needed) the configured database and applies pending migrations.
    pub async fn connect(config: &AppConfig) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let url = config.database_url();
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
}

/// `%folded%` for `LIKE … ESCAPE '\'`, with the term's own `%`, `_` and `\` escaped, so a search
/// for `50%` or `a_b` means exactly that. The caller folds the term like the column it matches.
pub fn like_contains(folded: &str) -> String {
    let mut pattern = String::with_capacity(folded.len() + 2);
    pattern.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
