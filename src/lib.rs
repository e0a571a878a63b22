//! hr-portal: a server-rendered HR dashboard built around server-side sessions.
//!
//! [`rocket`] is the one place the application is assembled; `main.rs` and the tests both use it.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod hr;
pub mod routes;
pub mod secret_key;
pub mod setup_token;
pub mod token;
pub mod users;
pub mod web;

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::audit::AuditLog;
use crate::auth::guard::CookiePolicy;
use crate::auth::throttle::{LoginThrottle, ThrottlePolicy};
use crate::auth::{SessionLimits, SessionStore};
use crate::clock::Clock;
use crate::config::AppConfig;
use crate::db::Db;
use crate::setup_token::SetupToken;
use crate::users::password::PasswordService;
use crate::users::User;

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
                    match build_services(&rocket, clock).await {
                        Ok(services) => Ok(services.manage(rocket)),
                        Err(problem) => {
                            rocket::error!("{problem:#}");
                            Err(rocket)
                        }
                    }
                })
            },
        ))
        .attach(AdHoc::on_liftoff(
            "Set-up link and session purge",
            |rocket| {
                Box::pin(async move {
                    announce_setup_link(rocket);
                    start_purge_task(rocket);
                })
            },
        ))
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
    if let Err(error) = std::fs::create_dir_all(&template_dir) {
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
    let key_is_set = figment
        .find_value("secret_key")
        .ok()
        .and_then(|v| v.into_string())
        .is_some_and(|k| !k.trim().is_empty());
    if !key_is_set {
        match secret_key::load_or_create(&config.secret_key_path()) {
            Ok(key) => figment = figment.merge(("secret_key", key)),
            Err(error) => return (figment, Some(error.to_string())),
        }
    }
    (figment, None)
}

/// Everything the routes take from managed state.
struct Services {
    config: AppConfig,
    db: Db,
    clock: Clock,
    sessions: SessionStore,
    throttle: LoginThrottle,
    audit: AuditLog,
    passwords: PasswordService,
    cookies: CookiePolicy,
    setup: SetupToken,
}

impl Services {
    fn manage(self, rocket: Rocket<Build>) -> Rocket<Build> {
        rocket
            .manage(self.config)
            .manage(self.db)
            .manage(self.clock)
            .manage(self.sessions)
            .manage(self.throttle)
            .manage(self.audit)
            .manage(self.passwords)
            .manage(self.cookies)
            .manage(self.setup)
            .manage(hr::CompanyFiguresCache::default())
    }
}

async fn build_services(rocket: &Rocket<Build>, clock: Clock) -> anyhow::Result<Services> {
    let config = AppConfig::from_figment(rocket.figment())?;
    let db = Db::connect(&config).await?;
    let limits = SessionLimits::from_config(&config);
    let sessions = SessionStore::new(db.clone(), clock.clone(), limits);
    let throttle = LoginThrottle::new(
        db.clone(),
        clock.clone(),
        ThrottlePolicy {
            per_account: config.login_failures_per_account,
            per_ip: config.login_failures_per_ip,
            window: config.throttle_window,
        },
    );
    let audit = AuditLog::new(db.clone(), clock.clone());
    let concurrency = config.password_hash_concurrency;
    let queue_timeout = Duration::from_millis(config.password_hash_queue_timeout_ms);
    let passwords = rocket::tokio::task::spawn_blocking(move || {
        PasswordService::new(concurrency, queue_timeout)
    })
    .await??;
    let cookies = CookiePolicy {
        secure: config.secure_cookies(),
        remember_max_age: config.remember_absolute_timeout,
    };
    let setup = if User::count(&db).await? == 0 {
        SetupToken::issue()
    } else {
        SetupToken::closed()
    };
    Ok(Services {
        config,
        db,
        clock,
        sessions,
        throttle,
        audit,
        passwords,
        cookies,
        setup,
    })
}

fn announce_setup_link(rocket: &Rocket<rocket::Orbit>) {
    let Some(token) = rocket.state::<SetupToken>().and_then(SetupToken::peek) else {
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

fn start_purge_task(rocket: &Rocket<rocket::Orbit>) {
    let (Some(sessions), Some(throttle), Some(config)) = (
        rocket.state::<SessionStore>().cloned(),
        rocket.state::<LoginThrottle>().cloned(),
        rocket.state::<AppConfig>(),
    ) else {
        return;
    };
    let interval = Duration::from_secs(config.purge_interval.max(1));
    let mut shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        loop {
            rocket::tokio::select! {
                _ = rocket::tokio::time::sleep(interval) => {}
                _ = &mut shutdown => return,
            }
            match sessions.purge_expired().await {
                Ok(0) => {}
                Ok(n) => rocket::info!("purged {n} expired session(s)"),
                Err(error) => rocket::warn!("session purge failed: {error}"),
            }
            if let Err(error) = throttle.purge_stale().await {
                rocket::warn!("throttle purge failed: {error}");
            }
        }
    });
}
