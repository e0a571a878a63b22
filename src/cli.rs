//! The operator's command line: `hr-portal [serve]`, `user …`, `sessions …`, `demo`.

use std::io::{BufRead, IsTerminal};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use rocket::figment::Figment;

use crate::audit::{AuditLog, Event, EventKind};
use crate::auth::account_change::{self, AccountAction};
use crate::auth::{SessionLimits, SessionStore};
use crate::clock::{format_timestamp, Clock};
use crate::config::AppConfig;
use crate::db::Db;
use crate::users::password::{check_new_password, PasswordService};
use crate::users::{normalize_email, parse_email, parse_name, NewUser, Role, User};
use crate::web::device;

#[derive(Debug, Parser)]
#[command(
    name = "hr-portal",
    version,
    about = "HR dashboard with server-side sessions"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect and end sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Fill an empty database with a demo company and print its sign-in accounts.
    Demo {
        /// Seed for the generated company (the same seed gives the same people).
        #[arg(long, default_value_t = crate::hr::demo::DEMO_SEED)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from stdin (first line) when piped, else prompted twice.
    Add {
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin: bool,
    },
    /// List every account.
    List,
    /// Disable an account and end all its sessions.
    Disable { email: String },
    /// Enable a disabled account.
    Enable { email: String },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List live sessions.
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// End every session of a user (force logout).
    Revoke {
        #[arg(long)]
        user: String,
    },
    /// Delete expired sessions now.
    Purge,
}

struct CliContext {
    config: AppConfig,
    db: Db,
    clock: Clock,
}

async fn open(figment: &Figment) -> anyhow::Result<CliContext> {
    let config = AppConfig::from_figment(figment)?;
    let db = Db::connect(&config).await?;
    Ok(CliContext {
        config,
        db,
        clock: Clock::default(),
    })
}

fn store(ctx: &CliContext) -> SessionStore {
    SessionStore::new(
        ctx.db.clone(),
        ctx.clock.clone(),
        SessionLimits::from_config(&ctx.config),
    )
}

async fn find_user(db: &Db, email: &str) -> anyhow::Result<User> {
    User::find_by_email(db, &normalize_email(email))
        .await?
        .ok_or_else(|| anyhow!("no account with e-mail {}", normalize_email(email)))
}

/// Reads the new password: first line of stdin when piped, two hidden prompts on a terminal.
fn read_password() -> anyhow::Result<(String, String)> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        Ok((first, second))
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        // Only the line ending is removed: passwords are never trimmed.
        let password = line
            .strip_suffix('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .unwrap_or(&line)
            .to_string();
        Ok((password.clone(), password))
    }
}

pub async fn run_user(figment: &Figment, command: UserCommand) -> anyhow::Result<()> {
    let ctx = open(figment).await?;
    let audit = AuditLog::new(ctx.db.clone(), ctx.clock.clone());
    match command {
        UserCommand::Add { email, name, admin } => {
            let email = parse_email(&email).map_err(|e| anyhow!("{e}"))?;
            let name = parse_name(&name).map_err(|e| anyhow!("{e}"))?;
            let (password, confirmation) = read_password()?;
            check_new_password(&password, &confirmation, &email).map_err(|e| anyhow!("{e}"))?;
            let passwords = PasswordService::new(1, std::time::Duration::from_secs(60))?;
            let hash = passwords.hash(&password).await?;
            let role = if admin { Role::Admin } else { Role::Employee };
            let new = NewUser {
                email: &email,
                name: &name,
                role,
                password_hash: &hash,
            };
            let user = User::create(&ctx.db, &new, ctx.clock.now())
                .await
                .with_context(|| format!("cannot create {email}"))?;
            audit
                .record(
                    Event::from_cli(EventKind::UserCreated)
                        .subject(user.id)
                        .detail(format!("role {}", role.as_str())),
                )
                .await?;
            println!(
                "Created {} <{}> ({}).",
                user.name,
                user.email,
                role.as_str()
            );
        }
        UserCommand::List => {
            let users = User::all(&ctx.db).await?;
            if users.is_empty() {
                println!("No accounts yet.");
            }
            for user in users {
                println!(
                    "{:>5}  {:<32}  {:<28}  {:<8}  {}",
                    user.id,
                    user.email,
                    user.name,
                    user.role.as_str(),
                    if user.disabled { "disabled" } else { "enabled" }
                );
            }
        }
        UserCommand::Disable { email } => {
            let user = find_user(&ctx.db, &email).await?;
            let mut tx = ctx.db.pool.begin().await?;
            let (outcome, ended) =
                account_change::apply_in(&mut tx, user.id, AccountAction::Disable).await?;
            if outcome == crate::users::AccountChange::WouldLeaveNoAdmin {
                bail!("refusing to disable the last enabled administrator");
            }
            tx.commit().await?;
            audit
                .record(
                    Event::from_cli(EventKind::UserDisabled)
                        .subject(user.id)
                        .detail(format!("{ended} session(s) ended")),
                )
                .await?;
            println!("Disabled {} and ended {ended} session(s).", user.email);
        }
        UserCommand::Enable { email } => {
            let user = find_user(&ctx.db, &email).await?;
            let mut tx = ctx.db.pool.begin().await?;
            account_change::apply_in(&mut tx, user.id, AccountAction::Enable).await?;
            tx.commit().await?;
            audit
                .record(Event::from_cli(EventKind::UserEnabled).subject(user.id))
                .await?;
            println!("Enabled {}.", user.email);
        }
    }
    Ok(())
}

pub async fn run_sessions(figment: &Figment, command: SessionsCommand) -> anyhow::Result<()> {
    let ctx = open(figment).await?;
    let sessions = store(&ctx);
    match command {
        SessionsCommand::List { user } => {
            let mut printed = 0usize;
            let mut print = |s: &crate::auth::session::SessionSummary| {
                printed += 1;
                println!(
                    "{:<22}  {:<32}  {:<24}  {:<15}  started {}  last seen {}",
                    s.handle,
                    s.user_email,
                    device::describe(s.user_agent.as_deref()),
                    s.ip.as_deref().unwrap_or("-"),
                    format_timestamp(s.created_at),
                    format_timestamp(s.last_seen_at)
                );
            };
            match user {
                Some(email) => {
                    let user = find_user(&ctx.db, &email).await?;
                    sessions
                        .list_for_user(user.id)
                        .await?
                        .iter()
                        .for_each(&mut print);
                }
                None => {
                    // Page through everything, newest activity first.
                    const PAGE: i64 = 1_000;
                    let mut offset = 0;
                    loop {
                        let page = sessions.list_all("", PAGE, offset).await?;
                        page.iter().for_each(&mut print);
                        if (page.len() as i64) < PAGE {
                            break;
                        }
                        offset += PAGE;
                    }
                }
            }
            if printed == 0 {
                println!("No live sessions.");
            }
        }
        SessionsCommand::Revoke { user } => {
            let user = find_user(&ctx.db, &user).await?;
            let ended = sessions.revoke_all_for_user(user.id).await?;
            AuditLog::new(ctx.db.clone(), ctx.clock.clone())
                .record(
                    Event::from_cli(EventKind::UserForceLoggedOut)
                        .subject(user.id)
                        .detail(format!("{ended} session(s) ended")),
                )
                .await?;
            println!("Ended {ended} session(s) of {}.", user.email);
        }
        SessionsCommand::Purge => {
            let purged = sessions.purge_expired().await?;
            println!("Purged {purged} expired session(s).");
        }
    }
    Ok(())
}

/// `hr-portal demo`: the demo company plus two accounts whose generated passwords are printed
/// once — this is their only copy (the database keeps argon2id hashes).
pub async fn run_demo(figment: &Figment, seed: u64) -> anyhow::Result<()> {
    let ctx = open(figment).await?;
    let passwords = PasswordService::new(1, std::time::Duration::from_secs(60))?;
    let now = ctx.clock.now();
    let report = crate::hr::demo::fill(&ctx.db, &passwords, seed, crate::hr::date_of(now), now)
        .await
        .context("cannot fill the demo company")?;
    let audit = AuditLog::new(ctx.db.clone(), ctx.clock.clone());
    for account in &report.accounts {
        if let Some(user) = User::find_by_email(&ctx.db, &account.email).await? {
            audit
                .record(
                    Event::from_cli(EventKind::UserCreated)
                        .subject(user.id)
                        .detail(format!("demo account, role {}", account.role.as_str())),
                )
                .await?;
        }
    }
    println!(
        "Filled the demo company: {} employees in {} departments.",
        report.employees, report.departments
    );
    println!("Demo accounts (the passwords are shown only now):");
    for account in &report.accounts {
        println!(
            "  {:<9} {:<34} password: {}   ({}, {})",
            account.role.as_str(),
            account.email,
            account.password,
            account.name,
            account.title
        );
    }
    Ok(())
}
