//! The metrics listener: Prometheus text on `metrics_address`, a listener of its own (a second
//! Rocket server with this one route), so the figures are never served on the public port and a
//! firewall or the proxy need not know about them.

use rocket::http::ContentType;
use rocket::{get, routes, Orbit, Rocket, State};

use crate::app::error::AppResult;
use crate::app::{observe, App};
use crate::config::AppConfig;

/// The OpenMetrics text type, which Prometheus reads.
fn openmetrics() -> ContentType {
    ContentType::new("application", "openmetrics-text")
        .with_params([("version", "1.0.0"), ("charset", "utf-8")])
}

#[get("/metrics")]
async fn metrics(app: &State<App>) -> AppResult<(ContentType, String)> {
    Ok((openmetrics(), observe::scrape(app).await?))
}

/// Starts the listener when `metrics_address` is set; it stops with the main server. Its address
/// was tried at ignition (see `lib.rs`), so a port in use stops the launch instead of failing here.
pub fn start_listener(rocket: &Rocket<Orbit>) {
    let (Some(app), Some(config)) = (rocket.state::<App>().cloned(), rocket.state::<AppConfig>())
    else {
        return;
    };
    let Ok(Some(address)) = config.metrics_address() else {
        return;
    };
    // The main server's settings (log level above all: Rocket's logger level is process-wide),
    // on the metrics address, leaving Ctrl-C to the main server.
    let figment = rocket
        .figment()
        .clone()
        .merge(("address", address.ip()))
        .merge(("port", address.port()))
        .merge(("shutdown.ctrlc", false));
    let server = rocket::custom(figment)
        .manage(app)
        .mount("/", routes![metrics]);
    let main_shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        let ignited = match server.ignite().await {
            Ok(ignited) => ignited,
            Err(error) => {
                rocket::error!("the metrics listener did not start: {error}");
                return;
            }
        };
        let own_shutdown = ignited.shutdown();
        rocket::tokio::spawn(async move {
            main_shutdown.await;
            own_shutdown.notify();
        });
        if let Err(error) = ignited.launch().await {
            rocket::error!("the metrics listener stopped: {error}");
        }
    });
}

/// Fails when `address` cannot be listened on now (taken, not ours): checked at ignition so the
/// launch stops with a line naming the setting.
pub fn try_address(address: std::net::SocketAddr) -> Result<(), String> {
    std::net::TcpListener::bind(address)
        .map(drop)
        .map_err(|error| format!("setting `metrics_address`: cannot listen on {address}: {error}"))
}
