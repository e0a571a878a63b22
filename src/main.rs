//! `hr-portal`: serve the dashboard (default) or run an operator command.
//!
//! A failure that a person can fix — a short password, a taken e-mail address, a port already in
//! use — ends with one line on stderr and exit code 1 (clap answers usage errors with 2). Only
//! panics, which are bugs, print a backtrace.

use std::io::ErrorKind as IoErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use hr_portal::cli::{self, Cli, Command};
use rocket::error::ErrorKind;
use rocket::figment::Figment;

#[rocket::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The same settings as the server: Rocket.toml plus ROCKET_* environment variables.
    let figment = rocket::Config::figment();
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(figment).await,
        Command::User(command) => cli::run_user(&figment, command).await,
        Command::Sessions(command) => cli::run_sessions(&figment, command).await,
        Command::Employees(command) => cli::run_employees(&figment, command).await,
        Command::Demo { seed } => cli::run_demo(&figment, seed).await,
        Command::Backup { file, force } => cli::backup::run_backup(&figment, &file, force).await,
        Command::Restore { file } => cli::backup::run_restore(&figment, &file).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Returning the error from `main` instead would print it with a backtrace whenever
            // RUST_BACKTRACE is set.
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn serve(figment: Figment) -> anyhow::Result<()> {
    // Held until the server has stopped: dropping it writes the log lines still buffered.
    let _logs = install_logging(&figment)?;
    let Err(error) = hr_portal::rocket(figment.clone()).launch().await else {
        return Ok(());
    };
    // `kind()` marks the error as seen; an unseen `rocket::Error` panics when dropped.
    match error.kind() {
        ErrorKind::Bind(cause) => {
            let address = match (
                figment.extract_inner::<IpAddr>("address"),
                figment.extract_inner::<u16>("port"),
            ) {
                (Ok(ip), Ok(port)) => SocketAddr::new(ip, port).to_string(),
                _ => "the configured address".to_string(),
            };
            let hint = match cause.kind() {
                IoErrorKind::AddrInUse => {
                    "another program is using that port; choose another with ROCKET_PORT \
                     (or `port` in Rocket.toml)"
                }
                IoErrorKind::PermissionDenied => {
                    "ports below 1024 need privileges; choose another with ROCKET_PORT \
                     (or `port` in Rocket.toml)"
                }
                _ => {
                    "check ROCKET_ADDRESS and ROCKET_PORT (or `address` and `port` in Rocket.toml)"
                }
            };
            anyhow::bail!("cannot listen on {address}: {cause}; {hint}")
        }
        // The fairing that failed has logged its reason above (Rocket's log).
        ErrorKind::FailedFairings(_) => {
            anyhow::bail!("the server did not start; the log above says why")
        }
        kind => anyhow::bail!("the server did not start: {kind}"),
    }
}

/// Request lines and the app's messages as `log_format` says, unless `log_level = "off"`. A
/// bad `log_format` stops here, before anything starts, with the setting's name.
fn install_logging(figment: &Figment) -> anyhow::Result<Option<hr_portal::logs::LogGuard>> {
    let json = hr_portal::config::AppConfig::from_figment(figment)?.json_logs()?;
    let level = figment
        .extract_inner::<rocket::config::LogLevel>("log_level")
        .unwrap_or(rocket::config::LogLevel::Normal);
    if level == rocket::config::LogLevel::Off {
        return Ok(None);
    }
    Ok(Some(hr_portal::logs::install(json)?))
}

/// The cause chain on one line, `outer: inner: …`. Some errors (sqlx's among them) already repeat
/// their source in their own message; such a source is not written twice.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
