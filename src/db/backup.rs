//! Copies of a SQLite database: taken online, checked, and put back.
//!
//! A backup is `VACUUM INTO` a new private file: SQLite reads the database inside one read
//! transaction, so the copy is a consistent snapshot while servers keep writing (WAL lets the
//! writers go on), and it comes out compacted. It is written under a temporary name, switched to
//! the rollback journal (one self-contained file), checked, synced and only then renamed, so a
//! crash never leaves a half-written file under the name the operator asked for.
//!
//! A restore copies the file into the data folder first and checks the copy: a file that is not
//! an hr-portal database, is damaged or comes from a newer version is refused before the live
//! database is touched. Servers hold [`ServerLock`] (shared) for as long as they run; a restore
//! takes it exclusively, so it refuses while any server runs on the file and no server can start
//! in the middle of one.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::cache::{Bracket, FileGeneration};
use crate::config::AppConfig;
use crate::private_files::private_file_options;

/// Why a backup or restore did not happen. Each message is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is PostgreSQL: back it up with pg_dump \
         (docs/operations.md#backup-and-restore shows how)"
    )]
    PostgresBackup,
    #[error(
        "the database is PostgreSQL: restore it with pg_restore \
         (docs/operations.md#backup-and-restore shows how)"
    )]
    PostgresRestore,
    #[error("the database is in memory: there is no file to back up or restore")]
    InMemory,
    #[error("there is no database at {0} to back up")]
    NoDatabase(String),
    #[error("cannot write {path}: the folder {folder} does not exist")]
    NoFolder { path: String, folder: String },
    #[error("{0} already exists; add --force to replace it")]
    Exists(String),
    #[error("cannot read {0}: no such file")]
    Missing(String),
    #[error("{0} is not an hr-portal database")]
    NotPortal(String),
    #[error("{path} is damaged: {detail}")]
    Damaged { path: String, detail: String },
    #[error(
        "{path} comes from a newer hr-portal (database level {theirs}; this version knows up to \
         {ours}): upgrade hr-portal before restoring it"
    )]
    Newer {
        path: String,
        theirs: i64,
        ours: i64,
    },
    #[error(
        "a server is running on {database} (it holds {lock}); stop every server on this \
         database before restoring"
    )]
    ServerRunning { database: String, lock: String },
    #[error("a restore of {0} is in progress; start the server when it has finished")]
    RestoreInProgress(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// What a checked copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    pub accounts: i64,
    pub employees: i64,
}

/// Which way the caller is going, for the PostgreSQL refusal's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Backup,
    Restore,
}

/// The SQLite file the settings name.
pub fn database_file(config: &AppConfig, direction: Direction) -> Result<PathBuf, BackupError> {
    let url = config.database_url();
    if !url.starts_with("sqlite:") {
        return Err(match direction {
            Direction::Backup => BackupError::PostgresBackup,
            Direction::Restore => BackupError::PostgresRestore,
        });
    }
    let file = SqliteConnectOptions::from_str(&url)?
        .get_filename()
        .to_path_buf();
    let in_memory =
        file.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory");
    if in_memory {
        return Err(BackupError::InMemory);
    }
    Ok(file)
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Where the copy may go: an existing folder, and no file in the way unless `force`.
fn check_target(target: &Path, force: bool) -> Result<(), BackupError> {
    let folder = match target.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(BackupError::NoFolder {
            path: target.display().to_string(),
            folder: folder.display().to_string(),
        });
    }
    if !force && target.exists() {
        return Err(BackupError::Exists(target.display().to_string()));
    }
    Ok(())
}

/// Takes a consistent copy of the live database `database` into `target` and checks it.
pub async fn back_up(database: &Path, target: &Path, force: bool) -> Result<Contents, BackupError> {
    check_target(target, force)?;
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.display().to_string()));
    }
    let partial = beside(target, &format!(".partial-{}", std::process::id()));
    let copied = copy_into(database, &partial).await;
    let checked = match copied {
        Ok(()) => check(&partial).await,
        Err(error) => Err(error),
    };
    match checked {
        Ok(contents) => {
            publish(&partial, target)?;
            Ok(contents)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// `VACUUM INTO` an empty file created private (SQLite keeps the mode of a file that exists).
async fn copy_into(database: &Path, partial: &Path) -> Result<(), BackupError> {
    private_file_options()
        .write(true)
        .create_new(true)
        .open(partial)
        .map_err(io_error("cannot create", partial))?;
    let mut conn = open(database, false).await?;
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(partial.display().to_string())
        .execute(&mut conn)
        .await;
    conn.close().await?;
    copied?;
    Ok(())
}

/// Opens `file` (never creating it). Busy waits are long: a backup queues behind a writer.
async fn open(
    file: &Path,
    switch_to_rollback_journal: bool,
) -> Result<SqliteConnection, BackupError> {
    let mut options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30))
        .disable_statement_logging();
    if switch_to_rollback_journal {
        options = options.journal_mode(sqlx::sqlite::SqliteJournalMode::Delete);
    }
    Ok(options.connect().await?)
}

/// Checks that `file` is a whole hr-portal database this version can open, and counts it.
/// The file becomes a single self-contained file (rollback journal), which is how copies travel.
pub async fn check(file: &Path) -> Result<Contents, BackupError> {
    let shown = || file.display().to_string();
    if !file.is_file() {
        return Err(BackupError::Missing(shown()));
    }
    let not_portal = |_| BackupError::NotPortal(shown());
    let mut conn = open(file, true)
        .await
        .map_err(|error| classify(error, file))?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|error| classify(BackupError::Database(error), file))?;
    if verdict != ["ok"] {
        return Err(BackupError::Damaged {
            path: shown(),
            detail: verdict.join("; "),
        });
    }
    let level: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .map_err(not_portal)?;
    sqlx::query_scalar::<_, String>("SELECT id FROM database_identity")
        .fetch_one(&mut conn)
        .await
        .map_err(not_portal)?;
    let ours = super::SQLITE_MIGRATIONS
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0);
    if level > ours {
        return Err(BackupError::Newer {
            path: shown(),
            theirs: level,
            ours,
        });
    }
    let accounts = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut conn)
        .await
        .map_err(not_portal)?;
    let employees = sqlx::query_scalar("SELECT COUNT(*) FROM employees")
        .fetch_one(&mut conn)
        .await
        .map_err(not_portal)?;
    conn.close().await?;
    Ok(Contents {
        accounts,
        employees,
    })
}

/// SQLite's "not a database" (26) and "corrupt" (11) as the operator's words.
fn classify(error: BackupError, file: &Path) -> BackupError {
    let BackupError::Database(sqlx::Error::Database(db)) = &error else {
        return error;
    };
    let code = db.code().and_then(|code| code.parse::<u32>().ok());
    match code.map(|code| code & 0xff) {
        Some(26) => BackupError::NotPortal(file.display().to_string()),
        Some(11) => BackupError::Damaged {
            path: file.display().to_string(),
            detail: db.message().to_string(),
        },
        _ => error,
    }
}

/// Syncs `partial`, renames it to `target` and syncs the folder, so the name appears only with
/// the whole file behind it.
fn publish(partial: &Path, target: &Path) -> Result<(), BackupError> {
    File::open(partial)
        .and_then(|file| file.sync_all())
        .map_err(io_error("cannot sync", partial))?;
    std::fs::rename(partial, target).map_err(io_error("cannot rename to", target))?;
    sync_folder_of(target)
}

fn sync_folder_of(path: &Path) -> Result<(), BackupError> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("cannot sync", folder))
}

/// The lock every server holds (shared) on its SQLite file while it runs.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
}

fn lock_path(database: &Path) -> PathBuf {
    beside(database, "-server.lock")
}

fn open_lock(database: &Path) -> Result<File, BackupError> {
    let path = lock_path(database);
    private_file_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error("cannot open", &path))
}

impl ServerLock {
    /// Taken at launch; refused only while a restore runs. Several servers share it.
    pub fn take(database: &Path) -> Result<ServerLock, BackupError> {
        let file = open_lock(database)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(ServerLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::RestoreInProgress(
                database.display().to_string(),
            )),
            Err(std::fs::TryLockError::Error(source)) => Err(BackupError::Io {
                what: "cannot lock",
                path: lock_path(database).display().to_string(),
                source,
            }),
        }
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub contents: Contents,
    /// Where the database that was replaced now is (none when there was none).
    pub kept: Option<PathBuf>,
}

/// Replaces the database `database` with the copy `source`, keeping the old one as
/// `<name>.before-restore-<stamp>`. Refused while a server runs, and before anything is touched
/// when the copy does not check out.
pub async fn restore(database: &Path, source: &Path, stamp: &str) -> Result<Restored, BackupError> {
    if !source.is_file() {
        return Err(BackupError::Missing(source.display().to_string()));
    }
    // Restoring into a fresh data folder: create it as the server would (private).
    if let Some(folder) = database
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        crate::private_files::private_dir(folder).map_err(io_error("cannot create", folder))?;
    }
    let lock = open_lock_for_restore(database)?;
    let staged = beside(database, &format!(".restoring-{}", std::process::id()));
    let checked = stage(source, &staged).await;
    let contents = match checked {
        Ok(contents) => contents,
        Err(error) => {
            let _ = std::fs::remove_file(&staged);
            return Err(error);
        }
    };
    let kept = set_aside(database, stamp).await?;
    publish(&staged, database)?;
    bump_generation(database).await?;
    drop(lock);
    Ok(Restored { contents, kept })
}

/// The exclusive side of [`ServerLock`].
fn open_lock_for_restore(database: &Path) -> Result<File, BackupError> {
    let file = open_lock(database)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::ServerRunning {
            database: database.display().to_string(),
            lock: lock_path(database).display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(BackupError::Io {
            what: "cannot lock",
            path: lock_path(database).display().to_string(),
            source,
        }),
    }
}

/// A private copy of `source` beside the database, checked.
async fn stage(source: &Path, staged: &Path) -> Result<Contents, BackupError> {
    let mut from = File::open(source).map_err(io_error("cannot read", source))?;
    let mut to = private_file_options()
        .write(true)
        .create_new(true)
        .open(staged)
        .map_err(io_error("cannot create", staged))?;
    io::copy(&mut from, &mut to).map_err(io_error("cannot copy to", staged))?;
    drop(to);
    check(staged).await.map_err(|error| match error {
        // Name the operator's file, not the staging copy.
        BackupError::NotPortal(_) => BackupError::NotPortal(source.display().to_string()),
        BackupError::Damaged { detail, .. } => BackupError::Damaged {
            path: source.display().to_string(),
            detail,
        },
        BackupError::Newer { theirs, ours, .. } => BackupError::Newer {
            path: source.display().to_string(),
            theirs,
            ours,
        },
        other => other,
    })
}

/// Moves the current database (its last commits checkpointed into it first) to
/// `<name>.before-restore-<stamp>`, with any WAL files beside it.
async fn set_aside(database: &Path, stamp: &str) -> Result<Option<PathBuf>, BackupError> {
    if !database.is_file() {
        return Ok(None);
    }
    let mut conn = open(database, false).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let kept = beside(database, &format!(".before-restore-{stamp}"));
    std::fs::rename(database, &kept).map_err(io_error("cannot rename", database))?;
    for suffix in ["-wal", "-shm"] {
        let companion = beside(database, suffix);
        if companion.exists() {
            std::fs::rename(&companion, beside(&kept, suffix))
                .map_err(io_error("cannot rename", &companion))?;
        }
    }
    Ok(Some(kept))
}

/// Moves the write generation on, so no process serves anything it cached from the old file.
async fn bump_generation(database: &Path) -> Result<(), BackupError> {
    let mut conn = open(database, false).await?;
    let id: String = sqlx::query_scalar("SELECT id FROM database_identity")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    let generation = FileGeneration::beside(database, &id)
        .map_err(io_error("cannot bump the counter of", database))?;
    let bracket = generation
        .bracket()
        .await
        .map_err(io_error("cannot bump the counter of", database))?;
    if let Bracket::Open(open) = bracket {
        open.close();
    }
    Ok(())
}
