//! The operator's command line: `hr-portal [serve]`, `user …`, `sessions …`, `employees …`,
//! `demo`, `backup`, `restore` (the last two in [`backup`]).

pub mod backup;
mod staff_import;

use std::io::{BufRead, IsTerminal};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use rocket::figment::Figment;

use crate::app::accounts::{self, AccountAction, AccountOutcome, CreateAccount, NewAccountForm};
use crate::app::recovery::{
    self, Delivery, Invitation, InvitationForm, IssuedLink, ResetLink, SetPassword, Unlock,
};
use crate::app::sign_in::single_sign_on::{self, Unlink};
use crate::app::{
    demo, housekeeping, lifecycle, sessions, two_factor, AccountRef, Actor, App, HashingCapacity,
};
use crate::auth::session::SessionSummary;
use crate::clock::{format_timestamp, Clock};
use crate::config::AppConfig;
use crate::users::device;
use crate::users::links::LinkPurpose;
use crate::users::password::Password;
use crate::users::{normalize_email, parse_name, Email, Role};
use crate::web::refusals::{left_the_company, Wording};

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
    /// Employee records and their access.
    #[command(subcommand)]
    Employees(EmployeesCommand),
    /// Fill an empty database with a demo company and print its sign-in accounts.
    Demo {
        /// Seed for the generated company (the same seed gives the same people).
        #[arg(long, default_value_t = crate::hr::demo::DEMO_SEED)]
        seed: u64,
    },
    /// Copy the SQLite database to FILE while servers run (PostgreSQL: use pg_dump).
    Backup {
        file: std::path::PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the SQLite database with the backup FILE (every server must be stopped).
    Restore { file: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from stdin (first line) when piped, else prompted twice.
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// employee (the default), hr, security, auditor or admin.
        #[arg(long)]
        role: Option<String>,
        /// The same as `--role admin`.
        #[arg(long, conflicts_with = "role")]
        admin: bool,
    },
    /// Change an account's role (employee, hr, security, auditor, admin); ends its sessions.
    Role { email: String, role: String },
    /// List every account.
    List,
    /// Disable an account and end all its sessions.
    Disable { email: String },
    /// Enable a disabled account.
    Enable { email: String },
    /// Print a one-time password-reset link for an account (an invitation link, if it has no
    /// password yet). The link is shown only here: pass it on yourself.
    ResetLink { email: String },
    /// Create an account without a password and print the invitation link that sets it.
    Invite {
        email: String,
        #[arg(long)]
        name: String,
        /// employee (the default), hr, security, auditor or admin.
        #[arg(long)]
        role: Option<String>,
        /// The same as `--role admin`.
        #[arg(long, conflicts_with = "role")]
        admin: bool,
    },
    /// Set an account's password (read like `user add`) and end all its sessions.
    SetPassword {
        email: String,
        /// The person must choose their own password at their next sign-in.
        #[arg(long)]
        must_change: bool,
    },
    /// Clear an account's failed sign-in count, so its owner can try again now.
    Unlock { email: String },
    /// Remove an account's second factor (a lost phone) and end all its sessions: the password
    /// alone signs in until a new authenticator is set up.
    ResetTwoFactor { email: String },
    /// Forget the identity-provider subject stored at the account's first single sign-on (the
    /// person has a new identity there); the next single sign-on binds afresh.
    UnlinkSso { email: String },
}

#[derive(Debug, Subcommand)]
pub enum EmployeesCommand {
    /// End the access of every leaver whose last day is over (the server does this by itself
    /// at midnight in the company's time zone; this is for cron and for checking).
    OffboardDue,
    /// Import a staff list (CSV with the directory export's columns): people matched by work
    /// e-mail are updated, new ones created, all in one transaction.
    Import {
        file: std::path::PathBuf,
        /// Check the file and print what it would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Invite every person the import creates to an account (by e-mail, through the outbox).
        #[arg(long)]
        invite: bool,
    },
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

/// The application as the command line uses it: the same settings and use cases as the server.
async fn open(figment: &Figment) -> anyhow::Result<App> {
    let config = AppConfig::from_figment(figment)?;
    let figment = crate::secret_key::with_secret_key(figment, &config)?;
    let secret = crate::secret_key::configured(&figment).unwrap_or_default();
    let hashing = HashingCapacity::command_line();
    // The command line caches nothing; after its writes it waits for the servers like one.
    let participation = crate::cache::Participation::Writer;
    App::start(&config, &secret, Clock::default(), hashing, participation).await
}

fn no_account(email: &str) -> anyhow::Error {
    anyhow!("no account with e-mail {}", normalize_email(email))
}

/// Reads the new password: first line of stdin when piped, two hidden prompts on a terminal.
fn read_password() -> anyhow::Result<(Password, Password)> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        Ok((Password::new(first), Password::new(second)))
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        // Only the line ending is removed: passwords are never trimmed.
        let password = line
            .strip_suffix('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .unwrap_or(&line)
            .to_string();
        Ok((Password::new(password.clone()), Password::new(password)))
    }
}

/// The role a command names (`--admin` is `--role admin`); an unknown name is one line, exit 1.
fn chosen_role(named: Option<&str>, admin: bool) -> anyhow::Result<Role> {
    match (named, admin) {
        (_, true) => Ok(Role::Admin),
        (None, false) => Ok(Role::Employee),
        (Some(name), false) => Role::parse(name.trim()).ok_or_else(|| {
            let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            anyhow!("unknown role {name:?}: choose one of {}", known.join(", "))
        }),
    }
}

/// Disables or enables an account from the command line, through the same use case as the web.
async fn change_account(app: &App, email: &str, action: AccountAction) -> anyhow::Result<()> {
    let actor = Actor::command_line();
    let target = AccountRef::Email(email);
    match accounts::change_account(app, &actor, target, action).await? {
        AccountOutcome::NoSuchUser => Err(no_account(email)),
        AccountOutcome::WouldLeaveNoAdmin => match action {
            AccountAction::Role(_) => bail!("refusing to demote the last enabled administrator"),
            _ => bail!("refusing to disable the last enabled administrator"),
        },
        AccountOutcome::LeftTheCompany(left_on) => bail!("{}", left_the_company(left_on)),
        AccountOutcome::Unchanged(user) => {
            println!("Nothing to change: {} is already so.", user.email);
            Ok(())
        }
        AccountOutcome::Changed { user, ended } => {
            match action {
                AccountAction::Disable => {
                    println!("Disabled {} and ended {ended} session(s).", user.email);
                }
                AccountAction::Enable => println!("Enabled {}.", user.email),
                AccountAction::Role(role) => {
                    println!("{} is now {}.", user.email, role.as_str());
                }
            }
            Ok(())
        }
    }
}

pub async fn run_user(figment: &Figment, command: UserCommand) -> anyhow::Result<()> {
    let app = open(figment).await?;
    match command {
        UserCommand::Add {
            email,
            name,
            role,
            admin,
        } => {
            // A mistyped address or name is reported before anyone types a password.
            Email::parse(&email).map_err(|e| anyhow!("{e}"))?;
            parse_name(&name).map_err(|e| anyhow!("{e}"))?;
            let role = chosen_role(role.as_deref(), admin)?;
            let (password, confirmation) = read_password()?;
            let form = NewAccountForm {
                name: &name,
                email: &email,
                role: role.as_str(),
                password: &password,
                confirmation: &confirmation,
                must_change: false,
            };
            match accounts::create_account(&app, &Actor::command_line(), form).await? {
                CreateAccount::Created(user) => println!(
                    "Created {} <{}> ({}).",
                    user.name,
                    user.email,
                    role.as_str()
                ),
                CreateAccount::Invalid(refusal) => bail!("{}", refusal.wording()),
                CreateAccount::EmailTaken => bail!(
                    "cannot create {}: an account with that e-mail address already exists",
                    normalize_email(&email)
                ),
            }
        }
        UserCommand::List => {
            let users = accounts::all_users(&app).await?;
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
            change_account(&app, &email, AccountAction::Disable).await?;
        }
        UserCommand::Enable { email } => {
            change_account(&app, &email, AccountAction::Enable).await?;
        }
        UserCommand::Role { email, role } => {
            let role = chosen_role(Some(&role), false)?;
            change_account(&app, &email, AccountAction::Role(role)).await?;
        }
        recovery_command => run_recovery(&app, recovery_command).await?,
    }
    Ok(())
}

/// The `user` commands that help someone back in: links, invitations, passwords, unlocking.
async fn run_recovery(app: &App, command: UserCommand) -> anyhow::Result<()> {
    let actor = Actor::command_line();
    match command {
        UserCommand::ResetLink { email } => {
            let target = AccountRef::Email(&email);
            match recovery::reset_link(app, &actor, target, Delivery::Operator).await? {
                ResetLink::NoSuchUser => return Err(no_account(&email)),
                ResetLink::Disabled => {
                    bail!("{} is disabled; enable it first", normalize_email(&email))
                }
                ResetLink::Issued(issued) => print_link(&issued),
            }
        }
        UserCommand::Invite {
            email,
            name,
            role,
            admin,
        } => {
            let role = chosen_role(role.as_deref(), admin)?;
            let form = InvitationForm {
                name: &name,
                email: &email,
                role: role.as_str(),
            };
            match recovery::invite(app, &actor, form, Delivery::Operator).await? {
                Invitation::Created(issued) => print_link(&issued),
                Invitation::Invalid(refusal) => bail!("{}", refusal.wording()),
                Invitation::EmailTaken => bail!(
                    "cannot invite {}: an account with that e-mail address already exists",
                    normalize_email(&email)
                ),
            }
        }
        UserCommand::SetPassword { email, must_change } => {
            let (password, confirmation) = read_password()?;
            let target = AccountRef::Email(&email);
            let typed = (&password, &confirmation);
            match recovery::set_password(app, &actor, target, typed, must_change).await? {
                SetPassword::NoSuchUser => return Err(no_account(&email)),
                SetPassword::Invalid(refusal) => bail!("{}", refusal.wording()),
                SetPassword::Set { user, ended } => {
                    let held = match must_change {
                        true => "; they must choose their own at the next sign-in",
                        false => "",
                    };
                    println!(
                        "Password of {} set; {ended} session(s) ended{held}.",
                        user.email
                    );
                }
            }
        }
        UserCommand::Unlock { email } => {
            match recovery::unlock(app, &actor, AccountRef::Email(&email)).await? {
                Unlock::NoSuchUser => return Err(no_account(&email)),
                Unlock::NotLocked(user) => {
                    println!("{} had no failed sign-ins to clear.", user.email);
                }
                Unlock::Unlocked(user) => {
                    println!("Unlocked {}: they can sign in again.", user.email);
                }
            }
        }
        UserCommand::UnlinkSso { email } => {
            match single_sign_on::unlink(app, &actor, AccountRef::Email(&email)).await? {
                Unlink::NoSuchUser => return Err(no_account(&email)),
                Unlink::NotLinked(user) => {
                    println!("{} has no single sign-on link to remove.", user.email);
                }
                Unlink::Unlinked(user) => println!(
                    "{}: single sign-on link removed; the next single sign-on links afresh.",
                    user.email
                ),
            }
        }
        UserCommand::ResetTwoFactor { email } => {
            let Some(reset) = two_factor::reset(app, &actor, AccountRef::Email(&email)).await?
            else {
                return Err(no_account(&email));
            };
            println!(
                "{}: {}; {} session(s) ended.",
                reset.user.email,
                reset.summary(),
                reset.ended
            );
        }
        other => bail!("not a recovery command: {other:?}"),
    }
    Ok(())
}

/// The link on stdout (for scripts), what it is on stderr (for the person).
fn print_link(issued: &IssuedLink) {
    let what = match issued.purpose {
        LinkPurpose::Reset => "Password reset link",
        LinkPurpose::Invitation => "Invitation link",
    };
    eprintln!(
        "{what} for {} (it works once; this is the only copy):",
        issued.user.email
    );
    if let Some(link) = &issued.shown {
        println!("{}", link.expose());
    }
}

fn print_session(s: &SessionSummary) {
    println!(
        "{:<22}  {:<32}  {:<24}  {:<15}  started {}  last seen {}",
        s.handle,
        s.user_email,
        device::describe(s.user_agent.as_deref()),
        s.ip.as_deref().unwrap_or("-"),
        format_timestamp(s.created_at),
        format_timestamp(s.last_seen_at)
    );
}

pub async fn run_sessions(figment: &Figment, command: SessionsCommand) -> anyhow::Result<()> {
    let app = open(figment).await?;
    match command {
        SessionsCommand::List { user } => {
            let mut printed = 0usize;
            match user {
                Some(email) => {
                    let target = AccountRef::Email(&email);
                    let Some((_, rows)) = sessions::sessions_of(&app, target).await? else {
                        return Err(no_account(&email));
                    };
                    rows.iter().for_each(print_session);
                    printed += rows.len();
                }
                None => {
                    // Page through everything, newest activity first.
                    const PAGE: i64 = 1_000;
                    let mut offset = 0;
                    loop {
                        let (_, page) = sessions::all_sessions(&app, "", PAGE, offset).await?;
                        page.iter().for_each(print_session);
                        printed += page.len();
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
            let actor = Actor::command_line();
            let target = AccountRef::Email(&user);
            let Some(out) = sessions::force_logout(&app, &actor, target).await? else {
                return Err(no_account(&user));
            };
            println!("Ended {} session(s) of {}.", out.ended, out.user.email);
        }
        SessionsCommand::Purge => {
            let purged = housekeeping::purge_expired(&app).await?;
            println!("Purged {purged} expired session(s).");
        }
    }
    Ok(())
}

pub async fn run_employees(figment: &Figment, command: EmployeesCommand) -> anyhow::Result<()> {
    let app = open(figment).await?;
    match command {
        EmployeesCommand::OffboardDue => {
            let ended = lifecycle::offboard_due(&app, &Actor::command_line()).await?;
            for leaver in &ended {
                let last_day = leaver
                    .left_on
                    .map_or_else(|| "not recorded".to_string(), crate::hr::format_date);
                println!("Ended the access of {} (last day {last_day}).", leaver.name);
            }
            println!("{} leaver(s) lost access.", ended.len());
        }
        EmployeesCommand::Import {
            file,
            dry_run,
            invite,
        } => staff_import::run_import(&app, &file, dry_run, invite).await?,
    }
    Ok(())
}

/// `hr-portal demo`: the demo company plus two accounts whose generated passwords are printed
/// once — this is their only copy (the database keeps argon2id hashes).
pub async fn run_demo(figment: &Figment, seed: u64) -> anyhow::Result<()> {
    let app = open(figment).await?;
    let report = demo::fill(&app, seed, app.today())
        .await
        .context("cannot fill the demo company")?;
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
            account.password.expose(),
            account.name,
            account.title
        );
    }
    Ok(())
}
