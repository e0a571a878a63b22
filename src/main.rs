//! `hr-portal`: serve the dashboard (default) or run an operator command.

use clap::Parser;
use hr_portal::cli::{self, Cli, Command};

#[rocket::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The same settings as the server: Rocket.toml plus ROCKET_* environment variables.
    let figment = rocket::Config::figment();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            hr_portal::rocket(figment).launch().await?;
        }
        Command::User(command) => cli::run_user(&figment, command).await?,
        Command::Sessions(command) => cli::run_sessions(&figment, command).await?,
        Command::Demo { seed } => cli::run_demo(&figment, seed).await?,
    }
    Ok(())
}
