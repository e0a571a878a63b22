//! `hr-portal backup FILE` and `hr-portal restore FILE`: the operator's copies of a SQLite
//! database. They need no running server and start none: they work on the file the settings name.

use std::path::Path;

use rocket::figment::Figment;

use crate::app::backup;
use crate::clock::Clock;
use crate::config::AppConfig;

/// What the secret key protects, said after every backup: the copy is useless for those without it.
fn key_reminder(config: &AppConfig) -> String {
    format!(
        "The secret key is not in the backup. Keep {} (or your ROCKET_SECRET_KEY) with it: \
         without the key, two-factor secrets and queued mail in the copy cannot be read, \
         and everyone signs in again.",
        config.secret_key_path().display()
    )
}

pub async fn run_backup(figment: &Figment, file: &Path, force: bool) -> anyhow::Result<()> {
    let config = AppConfig::from_figment(figment)?;
    let contents = backup::back_up(&config, file, force).await?;
    println!(
        "backed up {} accounts, {} employees to {}",
        contents.accounts,
        contents.employees,
        file.display()
    );
    eprintln!("{}", key_reminder(&config));
    Ok(())
}

pub async fn run_restore(figment: &Figment, file: &Path) -> anyhow::Result<()> {
    let config = AppConfig::from_figment(figment)?;
    let restored = backup::restore(&config, file, Clock::default().now()).await?;
    println!(
        "restored {} accounts, {} employees from {}",
        restored.contents.accounts,
        restored.contents.employees,
        file.display()
    );
    if let Some(kept) = &restored.kept {
        println!("The database it replaced is kept as {}", kept.display());
    }
    Ok(())
}
