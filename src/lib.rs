//! hr-portal: a server-rendered HR dashboard built around server-side sessions.
//!
//! [`rocket`] is the one place the application is assembled; `main.rs` and the tests both use it.

pub mod app;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod hr;
pub mod ids;
pub mod logs;
pub mod mail;
pub mod metrics;
pub mod private_files;
pub mod routes;
pub mod sealed;
pub mod secret;
pub mod secret_key;
pub mod setup_token;
pub mod sso;
pub mod text;
pub mod token;
pub mod users;
pub mod web;

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::app::{App, HashingCapacity};
use crate::cache::Participation;
use crate::clock::Clock;
use crate::config::AppConfig;
use crate::web::cookies::CookiePolicy;

/// The application with the wall clock.
pub fn rocket(figment: Figment) -> Rocket<Build> {
    rocket_with_clock(figment, Clock::default())
}

/// The application with a given clock (tests move it to expire sessions and throttles).
pub fn rocket_with_clock(figment: Figment, clock: Clock) -> Rocket<Build> {
    let (figment, startup_problem) = prepare_figment(figment);
    rocket::custom(figment)
        .attach(AdHoc::try_on_ignite(
            "Application services",
            move |rocket| {
                Box::pin(async move {
                    if let Some(problem) = startup_problem {
                        rocket::error!("{problem}");
                        return Err(rocket);
                    }
                    let config = AppConfig::from_figment(rocket.figment());
                    let secret = secret_key::configured(rocket.figment()).unwrap_or_default();
                    let started = match config {
                        Ok(config) => {
                            let hashing = HashingCapacity::from_config(&config);
                            App::start(&config, &secret, clock, hashing, Participation::Instance)
                                .await
                                .map(|app| (app, config))
                        }
                        Err(error) => Err(error.into()),
                    };
                    let started = started.and_then(|(app, config)| {
                        let lock = operations_ready(&config)?;
                        Ok((app, config, lock))
                    });
                    match started {
                        Ok((app, config, lock)) => {
                            Ok(manage_services(rocket, app, config).manage(lock))
                        }
                        Err(problem) => {
                            rocket::error!("{problem:#}");
                            Err(rocket)
                        }
                    }
                })
            },
        ))
        .attach(AdHoc::on_liftoff(
            "Set-up link, session purge, leavers' access and mail delivery",
            |rocket| {
                Box::pin(async move {
                    announce_setup_link(rocket);
                    start_purge_task(rocket);
                    start_offboarding_task(rocket);
                    start_delivery_task(rocket);
                    start_discovery_task(rocket);
                })
            },
        ))
        .attach(AdHoc::on_liftoff(
            "Metrics listener and scheduled backups",
            |rocket| {
                Box::pin(async move {
                    web::metrics::start_listener(rocket);
                    start_backup_task(rocket);
                })
            },
        ))
        .attach(web::request_log::RequestLog)
        .attach(Template::try_custom(|engines| {
            web::assets::register_templates(&mut engines.tera)?;
            Ok(())
        }))
        .attach(web::headers::SecurityHeaders)
        .mount("/", routes::all())
        .mount("/", web::assets::routes())
        .register("/", web::catchers::catchers())
}

/// Fills in what the settings leave open: the persisted secret key, the template folder and
/// whether a proxy header may name the client address. Problems are reported at ignition.
fn prepare_figment(figment: Figment) -> (Figment, Option<String>) {
    let config = match AppConfig::from_figment(&figment) {
        Ok(config) => config,
        Err(error) => return (figment, Some(error.to_string())),
    };
    // The pages are embedded in the binary (web::assets); Rocket's template fairing still wants
    // an existing folder to scan, so it gets an empty one inside data_dir.
    let template_dir = config.data_dir.join("templates");
    let private = private_files::private_dir(&config.data_dir);
    if let Err(error) = private.and_then(|()| std::fs::create_dir_all(&template_dir)) {
        let problem = format!("cannot create {}: {error}", template_dir.display());
        return (figment, Some(problem));
    }
    let mut figment = figment.join(("template_dir", template_dir));
    // Only a configured proxy header may name the client; otherwise the socket peer counts.
    figment = figment.merge((
        "ip_header",
        match &config.proxy_ip_header {
            Some(header) => rocket::figment::value::Value::from(header.clone()),
            None => rocket::figment::value::Value::from(false),
        },
    ));
    figment = with_bounded_bodies(figment);
    match secret_key::with_secret_key(&figment, &config) {
        Ok(with_key) => (with_key, None),
        Err(error) => (figment, Some(error.to_string())),
    }
}

/// Caps every body kind Rocket reads (multipart forms and their fields, files, JSON, strings) at
/// the form limit: otherwise a multipart body could carry 2 MiB where the same URL-encoded form
/// is refused at 32 KiB. Limits already smaller stay as they are.
fn with_bounded_bodies(figment: Figment) -> Figment {
    use rocket::data::{ByteUnit, ToByteUnit};
    let configured = figment
        .extract::<rocket::Config>()
        .unwrap_or_default()
        .limits;
    let form = configured.get("form").unwrap_or(32.kibibytes());
    let mut figment = figment;
    for kind in ["data-form", "file", "json", "msgpack", "string", "bytes"] {
        let limit: ByteUnit = configured.get(kind).map_or(form, |limit| limit.min(form));
        let key = format!("limits.{kind}");
        figment = figment.merge(rocket::figment::providers::Serialized::global(
            &key,
            limit.as_u64(),
        ));
    }
    figment
}

/// What operations need before the server may start: the lock that keeps a restore away while
/// it runs (SQLite files), and a metrics address that can be listened on.
fn operations_ready(config: &AppConfig) -> anyhow::Result<Option<db::backup::ServerLock>> {
    let lock = app::backup::hold_server_lock(config)?;
    app::backup::check_schedule(config)
        .map_err(|error| anyhow::anyhow!("setting `backup_every`: {error}"))?;
    if let Some(address) = config.metrics_address()? {
        web::metrics::try_address(address).map_err(anyhow::Error::msg)?;
    }
    Ok(lock)
}

/// Backs the SQLite database up every `backup_every` seconds into `backup_dir`, keeping the newest
/// `backup_keep` (the same copy `hr-portal backup` takes).
fn start_backup_task(rocket: &Rocket<rocket::Orbit>) {
    let (Some(app), Some(config)) = (rocket.state::<App>().cloned(), rocket.state::<AppConfig>())
    else {
        return;
    };
    if config.backup_every == 0 {
        return;
    }
    let config = config.clone();
    let every = Duration::from_secs(config.backup_every);
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        loop {
            rocket::tokio::select! {
                _ = rocket::tokio::time::sleep(every) => {}
                _ = &mut shutdown => return,
            }
            let now = app.clock.now();
            match app::backup::scheduled(&config, now).await {
                Ok((file, contents)) => {
                    app.metrics.last_backup_at.set(now as f64);
                    rocket::info!(
                        "backed up {} accounts, {} employees to {}",
                        contents.accounts,
                        contents.employees,
                        file.display()
                    );
                }
                Err(error) => {
                    app.metrics.backups_failed.inc();
                    rocket::warn!("scheduled backup failed: {error}");
                }
            }
        }
    });
}

/// Everything the routes take from managed state: the application, the cookie policy and the
/// settings.
fn manage_services(rocket: Rocket<Build>, app: App, config: AppConfig) -> Rocket<Build> {
    let cookies = CookiePolicy {
        secure: config.secure_cookies(),
        remember_max_age: config.remember_absolute_timeout,
    };
    let policy = web::headers::ContentSecurityPolicy::for_provider(
        app.sso.as_ref().map(|provider| provider.issuer()),
    );
    rocket
        .manage(app)
        .manage(cookies)
        .manage(config)
        .manage(policy)
}

fn announce_setup_link(rocket: &Rocket<rocket::Orbit>) {
    let Some(token) = rocket.state::<App>().and_then(|app| app.setup.peek()) else {
        return;
    };
    let config = rocket.config();
    // The one deliberate console print of a secret: the operator needs this link to begin.
    println!(
        "\nNo account exists yet. Create the first administrator here (one-time link):\n  \
         http://{}:{}/setup?token={token}\n",
        config.address, config.port
    );
}

/// Drains the outbox: at once when a use case queued a message, when a retry falls due, and at
/// least every few seconds (another instance or the CLI may have queued one).
fn start_delivery_task(rocket: &Rocket<rocket::Orbit>) {
    const LONGEST_NAP: i64 = 5;
    let Some(app) = rocket.state::<App>().cloned() else {
        return;
    };
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        loop {
            let nap = match app::mail::deliver_due(&app).await {
                Ok(round) => round
                    .next_due_at
                    .map_or(LONGEST_NAP, |due| due - app.clock.now())
                    .clamp(0, LONGEST_NAP),
                Err(error) => {
                    rocket::warn!("mail delivery failed: {error}");
                    LONGEST_NAP
                }
            };
            let nap = Duration::from_secs(nap.unsigned_abs()).max(Duration::from_millis(200));
            rocket::tokio::select! {
                _ = rocket::tokio::time::sleep(nap) => {}
                _ = app.mail.queued.notified() => {}
                _ = &mut shutdown => return,
            }
        }
    });
}

/// Ends leavers' access when their last day is over: right after each midnight in the company's
/// time zone, and at least every purge interval (for records saved with a past last day by an
/// import or another instance while this one slept, and after a clock change). Every instance
/// runs it; the first to disable an account ends its access, the others find nothing to do.
fn start_offboarding_task(rocket: &Rocket<rocket::Orbit>) {
    let (Some(app), Some(config)) = (rocket.state::<App>().cloned(), rocket.state::<AppConfig>())
    else {
        return;
    };
    let interval = config.purge_interval.max(1);
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        let actor = app::Actor::schedule();
        loop {
            let now = app.clock.now();
            let midnight = app.calendar.end_of(app.calendar.date_at(now));
            let until_midnight = u64::try_from(midnight.saturating_sub(now)).unwrap_or(0);
            let wait = Duration::from_secs(until_midnight.clamp(1, interval));
            rocket::tokio::select! {
                _ = rocket::tokio::time::sleep(wait) => {}
                _ = &mut shutdown => return,
            }
            match app::lifecycle::offboard_due(&app, &actor).await {
                Ok(ended) if ended.is_empty() => {}
                Ok(ended) => rocket::info!("ended the access of {} leaver(s)", ended.len()),
                Err(error) => rocket::warn!("ending leavers' access failed: {error}"),
            }
        }
    });
}

/// Discovers the identity provider at start-up and keeps its metadata fresh: on failure one
/// warning line, then retries after 1, 2, 4… up to 60 seconds; once found, again every five
/// minutes (so the login page knows when it went away, and keys and endpoints follow changes).
fn start_discovery_task(rocket: &Rocket<rocket::Orbit>) {
    let Some(app) = rocket.state::<App>().cloned() else {
        return;
    };
    if app.sso.is_none() {
        return;
    }
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        let Some(provider) = app.sso.as_ref() else {
            return;
        };
        let mut backoff = 1;
        let mut was_reachable = None;
        loop {
            let wait = match provider.discover().await {
                Ok(_) => {
                    if was_reachable != Some(true) {
                        rocket::info!("single sign-on: {} discovered", provider.issuer());
                    }
                    was_reachable = Some(true);
                    backoff = 1;
                    300
                }
                Err(error) => {
                    if was_reachable != Some(false) {
                        rocket::warn!("single sign-on: {error} (retrying in the background)");
                    }
                    was_reachable = Some(false);
                    let wait = backoff;
                    backoff = (backoff * 2).min(60);
                    wait
                }
            };
            rocket::tokio::select! {
                _ = rocket::tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = &mut shutdown => return,
            }
        }
    });
}

fn start_purge_task(rocket: &Rocket<rocket::Orbit>) {
    let (Some(app), Some(config)) = (rocket.state::<App>().cloned(), rocket.state::<AppConfig>())
    else {
        return;
    };
    let interval = Duration::from_secs(config.purge_interval.max(1));
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        loop {
            rocket::tokio::select! {
                _ = rocket::tokio::time::sleep(interval) => {}
                _ = &mut shutdown => {
                    // Refusals counted since the last purge go on record before the process ends.
                    let now = app.clock.now();
                    if let Err(error) = app::housekeeping::write_tallied_refusals(&app, now).await {
                        rocket::warn!("tallied refusals could not be written: {error}");
                    }
                    return;
                }
            }
            match app::housekeeping::purge_expired(&app).await {
                Ok(0) => {}
                Ok(n) => rocket::info!("purged {n} expired session(s)"),
                Err(error) => rocket::warn!("session purge failed: {error}"),
            }
        }
    });
}
