//! Backups of a SQLite database: on demand (`hr-portal backup`), on a schedule (`backup_every`,
//! kept `backup_keep` deep in `backup_dir`), and restoring one (`hr-portal restore`). The file
//! work is `db::backup`'s; this is where the settings, the names and the retention live.

use std::path::{Path, PathBuf};

use crate::config::AppConfig;
use crate::db::backup::{self, BackupError, Contents, Direction, Restored, ServerLock};

/// Copies the configured database into `target` (see [`backup::back_up`]).
pub async fn back_up(
    config: &AppConfig,
    target: &Path,
    force: bool,
) -> Result<Contents, BackupError> {
    let database = backup::database_file(config, Direction::Backup)?;
    backup::back_up(&database, target, force).await
}

/// Puts the copy `source` in place of the configured database (see [`backup::restore`]).
pub async fn restore(config: &AppConfig, source: &Path, now: i64) -> Result<Restored, BackupError> {
    let database = backup::database_file(config, Direction::Restore)?;
    backup::restore(&database, source, &stamp(now)).await
}

/// The lock a server holds on its SQLite file while it runs; none on PostgreSQL or in memory,
/// where there is no file to restore over.
pub fn hold_server_lock(config: &AppConfig) -> Result<Option<ServerLock>, BackupError> {
    match backup::database_file(config, Direction::Restore) {
        Ok(database) => ServerLock::take(&database).map(Some),
        Err(BackupError::PostgresRestore | BackupError::InMemory) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Whether `backup_every` can work: scheduled backups are of a SQLite file. Checked at launch, so
/// a schedule that could never run stops it instead of failing every interval.
pub fn check_schedule(config: &AppConfig) -> Result<(), BackupError> {
    if config.backup_every > 0 {
        backup::database_file(config, Direction::Backup)?;
    }
    Ok(())
}

/// `20261206T150226Z`: sorts as it reads, and says UTC.
fn stamp(now: i64) -> String {
    chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

const SCHEDULED_PREFIX: &str = "hr-portal-";
const SCHEDULED_SUFFIX: &str = ".db";

/// One scheduled backup: `<backup_dir>/hr-portal-<stamp>.db`, then all but the newest
/// `backup_keep` scheduled backups deleted. Only files with exactly that form of name are ever
/// deleted, so other files in the folder are safe.
pub async fn scheduled(config: &AppConfig, now: i64) -> Result<(PathBuf, Contents), BackupError> {
    let folder = config.backup_dir();
    crate::private_files::private_dir(&folder).map_err(|source| BackupError::Io {
        what: "cannot create",
        path: folder.display().to_string(),
        source,
    })?;
    let target = folder.join(format!(
        "{SCHEDULED_PREFIX}{}{SCHEDULED_SUFFIX}",
        stamp(now)
    ));
    let contents = back_up(config, &target, false).await?;
    prune(&folder, config.backup_keep)?;
    Ok((target, contents))
}

/// Deletes the oldest scheduled backups beyond `keep`.
fn prune(folder: &Path, keep: usize) -> Result<(), BackupError> {
    let listing = std::fs::read_dir(folder).map_err(|source| BackupError::Io {
        what: "cannot list",
        path: folder.display().to_string(),
        source,
    })?;
    let mut scheduled: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_scheduled_name(path))
        .collect();
    // The stamp sorts by time, so the name order is the age order.
    scheduled.sort();
    let excess = scheduled.len().saturating_sub(keep);
    for old in &scheduled[..excess] {
        std::fs::remove_file(old).map_err(|source| BackupError::Io {
            what: "cannot delete",
            path: old.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

fn is_scheduled_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let Some(middle) = name
        .strip_prefix(SCHEDULED_PREFIX)
        .and_then(|rest| rest.strip_suffix(SCHEDULED_SUFFIX))
    else {
        return false;
    };
    chrono::NaiveDateTime::parse_from_str(middle, "%Y%m%dT%H%M%SZ").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stamped_names_count_as_scheduled_backups() {
        assert!(is_scheduled_name(Path::new(
            "/b/hr-portal-20261206T150226Z.db"
        )));
        assert!(!is_scheduled_name(Path::new("/b/hr-portal-keep-me.db")));
        assert!(!is_scheduled_name(Path::new(
            "/b/hr-portal-20261206T150226Z.db.partial-7"
        )));
        assert_eq!(stamp(0), "19700101T000000Z");
    }
}
