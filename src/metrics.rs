//! What the process counts for Prometheus: one registry per application, encoded as text on the
//! metrics listener (`metrics_address`, see `web::metrics`).
//!
//! Every label value comes from a short fixed list (route templates, status classes, sign-in
//! outcomes), never from a raw path or an e-mail address: each distinct label set is a time series
//! Prometheus keeps for good, so a value a client chooses would let anyone grow it without bound.
//! Figures that live in the database (live sessions, the outbox) are read at scrape time into the
//! gauges here by the application layer, so a scrape shows the database's truth, shared by every
//! instance.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// A request as counted: its route template (`/employees/<id>`, or `unmatched`), method and status
/// class (`2xx` … `5xx`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: &'static str,
    pub status: &'static str,
}

/// The route part of a duration.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // the label values Prometheus shows, as they are written
pub enum SignInOutcome {
    /// Password right, session started.
    ok,
    /// Unknown account, wrong password or disabled account (one answer for all, one count).
    wrong_password,
    /// Refused by the failure limit before anything was checked.
    throttled,
    /// Password right, the code step is next.
    second_factor_needed,
    /// The code step signed the person in.
    second_factor,
    /// A wrong, reused or expired code.
    second_factor_refused,
    /// Signed in with a passkey.
    passkey,
    /// A passkey sign-in refused.
    passkey_refused,
    /// Signed in through the company's identity provider.
    sso,
    /// A single sign-on refused (unknown person, bad token, state or code).
    sso_refused,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: SignInOutcome,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// The status classes, in the order of `RouteSeries::requests`' inner arrays.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// The HTTP methods a request can carry, in the order of `RouteSeries::requests`.
const METHODS: [&str; 9] = [
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "TRACE", "CONNECT", "PATCH",
];

/// The series of one route template, found once per request by its template and then updated
/// without allocating: the families above are keyed by owned label `String`s, so asking them
/// directly would build (and hash) three strings per request. The counters and histogram here
/// are clones of the families' own (they share one atomic), so the families still encode them.
#[derive(Debug)]
struct RouteSeries {
    duration: Histogram,
    /// By method and status class; a cell is filled on its first request, so a scrape lists
    /// only the combinations that happened (as the families alone did).
    requests: [[OnceLock<Counter>; STATUS_CLASSES.len()]; METHODS.len()],
}

/// Every series the application exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Whether requests are counted at all: without a listener nobody reads them, and the
    /// benchmark's "without" column must not pay for them.
    count_requests: bool,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// The per-route shortcut into `requests` and `durations` (see `RouteSeries`). Route
    /// templates are a fixed set (plus `unmatched`), so it stops growing after warm-up.
    routes: RwLock<HashMap<Box<str>, RouteSeries>>,
    sign_ins: Family<OutcomeLabels, Counter>,
    session_cache: Family<ResultLabels, Counter>,
    database_unavailable: Counter,
    mail_failures: Counter,
    /// Read at scrape time (see the module comment).
    pub live_sessions: Gauge,
    pub outbox_depth: Gauge,
    pub outbox_oldest_age: Gauge,
    pub pool_connections: Gauge,
    pub pool_idle: Gauge,
    pub session_cache_in_use: Gauge,
    pub backups_failed: Counter,
    pub last_backup_at: Gauge<f64, AtomicU64>,
}

/// Request durations from 1 ms to about 16 s, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(true)
    }
}

impl Metrics {
    /// Every series; requests are counted only when `count_requests`.
    pub fn new(count_requests: bool) -> Self {
        let mut registry = Registry::with_prefix("hr_portal");
        let metrics = Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            routes: RwLock::default(),
            sign_ins: Family::default(),
            session_cache: Family::default(),
            database_unavailable: Counter::default(),
            mail_failures: Counter::default(),
            live_sessions: Gauge::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
            session_cache_in_use: Gauge::default(),
            backups_failed: Counter::default(),
            last_backup_at: Gauge::default(),
            registry: Registry::default(),
            count_requests,
        };
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status class",
            metrics.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response, by route template",
            prometheus_client::registry::Unit::Seconds,
            metrics.durations.clone(),
        );
        registry.register(
            "sign_ins",
            "Sign-in attempts by outcome",
            metrics.sign_ins.clone(),
        );
        registry.register(
            "session_cache_lookups",
            "Session lookups answered from memory (hit) or the database (miss)",
            metrics.session_cache.clone(),
        );
        for (name, help, counter) in [
            (
                "database_unavailable",
                "Requests answered 503 because the database could not be reached in time \
                 (pool wait timed out, connection lost, write lock held too long)",
                &metrics.database_unavailable,
            ),
            (
                "mail_failures",
                "Delivery attempts that failed (each retry counts)",
                &metrics.mail_failures,
            ),
            (
                "backups_failed",
                "Scheduled backups that failed",
                &metrics.backups_failed,
            ),
        ] {
            registry.register(name, help, counter.clone());
        }
        for (name, help, gauge) in [
            (
                "live_sessions",
                "Sessions that are still valid",
                &metrics.live_sessions,
            ),
            (
                "outbox_depth",
                "Messages waiting for delivery",
                &metrics.outbox_depth,
            ),
            (
                "database_pool_connections",
                "Open database connections of this process",
                &metrics.pool_connections,
            ),
            (
                "database_pool_idle",
                "Open database connections not in use",
                &metrics.pool_idle,
            ),
            (
                "session_cache_in_use",
                "1 while this process may answer from its caches (0: no cache, or on PostgreSQL \
                 its listener is catching up or its lease lapsed)",
                &metrics.session_cache_in_use,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        registry.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest message waiting for delivery (0 when none waits)",
            prometheus_client::registry::Unit::Seconds,
            metrics.outbox_oldest_age.clone(),
        );
        registry.register(
            "last_backup_timestamp_seconds",
            "When the last scheduled backup finished (unix seconds; 0 before the first)",
            metrics.last_backup_at.clone(),
        );
        registry.register(
            "build",
            "The running version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts one answered request: after the first request of a route, a lookup of its
    /// template under a read lock and two atomic updates, nothing allocated.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        if !self.count_requests {
            return;
        }
        // The method's own name, so the labels stay `&'static str`; any other is not counted.
        let Some(method_index) = METHODS.iter().position(|known| *known == method) else {
            return;
        };
        let method = METHODS[method_index];
        let class = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            _ => 4,
        };
        let record = |series: &RouteSeries| {
            series.requests[method_index][class]
                .get_or_init(|| {
                    self.requests
                        .get_or_create(&RequestLabels {
                            route: route.to_string(),
                            method,
                            status: STATUS_CLASSES[class],
                        })
                        .clone()
                })
                .inc();
            series.duration.observe(took.as_secs_f64());
        };
        // A poisoned lock only means a panic elsewhere while it was held; the map is still whole.
        if let Some(series) = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
        {
            record(series);
            return;
        }
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        let series = routes.entry(route.into()).or_insert_with(|| RouteSeries {
            duration: self
                .durations
                .get_or_create(&RouteLabels {
                    route: route.to_string(),
                })
                .clone(),
            requests: Default::default(),
        });
        record(series);
    }

    pub fn sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn session_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.session_cache
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    pub fn database_unavailable(&self) {
        self.database_unavailable.inc();
    }

    pub fn mail_failed(&self, count: u64) {
        self.mail_failures.inc_by(count);
    }

    /// The registry in the OpenMetrics text format (which Prometheus reads).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
