//! Typed application settings, read from Rocket's figment (Rocket.toml + `ROCKET_*` env).

use crate::secret::Secret;
use std::path::PathBuf;

use rocket::figment::Figment;
use serde::Deserialize;

/// Every setting the application itself reads. Rocket's own settings (address, port, secret_key,
/// limits) stay in Rocket's `Config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AppConfig {
    /// Folder for the SQLite file and the generated secret key.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; when unset, the SQLite file `<data_dir>/hr-portal.db`.
    pub database_url: Option<String>,
    /// Seconds a session may stay unused before it ends.
    pub session_idle_timeout: i64,
    /// Seconds after sign-in a session ends however active it is.
    pub session_absolute_timeout: i64,
    /// Idle limit for "keep me signed in" sessions.
    pub remember_idle_timeout: i64,
    /// Absolute limit for "keep me signed in" sessions.
    pub remember_absolute_timeout: i64,
    /// Mark cookies `Secure` (and name the session cookie `__Host-…`). `None`: on in release builds.
    pub secure_cookies: Option<bool>,
    /// Seconds between background purges of expired sessions.
    pub purge_interval: u64,
    /// Failed logins allowed per account within `throttle_window` before 429.
    pub login_failures_per_account: i64,
    /// Failed logins allowed per client IP within `throttle_window` before 429.
    pub login_failures_per_ip: i64,
    /// Length of a throttling window in seconds.
    pub throttle_window: i64,
    /// Concurrent argon2 computations; 0 means half the CPU cores (at least one).
    pub password_hash_concurrency: usize,
    /// Milliseconds a login waits for a hashing slot before it is answered 503.
    pub password_hash_queue_timeout_ms: u64,
    /// Maximum pooled database connections.
    pub database_max_connections: u32,
    /// Milliseconds a request waits for the database (a pooled connection, or SQLite's write
    /// lock) before it is answered 503 with `Retry-After`. Short on purpose: when the database is
    /// gone, every answer and /healthz come back within about this long instead of piling up.
    pub database_timeout_ms: u64,
    /// PostgreSQL only: milliseconds an instance's cache lease lasts after each renewal. A
    /// revocation waits at most this long for an instance that stopped answering (crashed,
    /// paused, cut off); shorter means more renewals (four per lease).
    pub cache_lease_ms: u64,
    /// Days audit events are kept; the purge deletes older ones.
    pub audit_retention_days: i64,
    /// Header a trusted reverse proxy sets to the client address (e.g. `X-Real-IP`). Unset: the
    /// socket peer address is used and any such header is ignored, so clients cannot forge it.
    pub proxy_ip_header: Option<String>,
    /// How mail leaves: `file` writes `.eml` files under `<data_dir>/outbox/`, `smtp` sends to
    /// `smtp_url`.
    pub mail_transport: MailTransportKind,
    /// `smtp://host:port`, `smtps://host:port` or `smtp://host:port?tls=required`, credentials in
    /// the URL (`smtp://user:pass@host`). Never logged.
    /// May carry credentials: never printed.
    pub smtp_url: Option<Secret<String>>,
    /// The sender of every message, e.g. `HR Portal <hr@example.com>`.
    pub mail_from: String,
    /// The base of every link in a message (scheme, host and port people open).
    pub public_url: String,
    /// Seconds a password-reset link stays valid.
    pub password_reset_ttl: i64,
    /// Seconds an invitation link stays valid.
    pub invitation_ttl: i64,
    /// Seconds before the first retry of a message that could not be delivered; each further
    /// retry waits twice as long, up to an hour.
    pub mail_retry_delay: i64,
    /// Delivery attempts before a message is given up and shown to admins as failed.
    pub mail_max_attempts: i64,
    /// Password-reset requests allowed per address (account) and per client IP within
    /// `throttle_window`.
    pub reset_requests_per_account: i64,
    pub reset_requests_per_ip: i64,
    /// Administrators without two-factor sign-in can open only /account/two-factor (and sign
    /// out) until they have set it up.
    pub require_two_factor_for_admins: bool,
    /// The company's time zone (an IANA name such as `Europe/Berlin`): a last day ends at
    /// midnight there, and "today" on pages is its date.
    pub time_zone: String,
    /// `host:port` of the Prometheus listener (e.g. `127.0.0.1:9464`); unset: no listener. Never
    /// the public port: it is a listener of its own.
    pub metrics_address: Option<String>,
    /// `text` (the default, for people) or `json` (one object per line, for log collectors).
    pub log_format: String,
    /// Seconds between scheduled backups of a SQLite database; 0 (the default): none.
    pub backup_every: u64,
    /// Folder of the scheduled backups; unset: `<data_dir>/backups`.
    pub backup_dir: Option<PathBuf>,
    /// Scheduled backups kept; older ones are deleted after each new one.
    pub backup_keep: usize,
    /// The OpenID Provider's issuer URL (discovery is read from
    /// `{issuer}/.well-known/openid-configuration`). Unset: no single sign-on anywhere.
    pub oidc_issuer: Option<String>,
    /// The portal's client id at the provider.
    pub oidc_client_id: Option<String>,
    /// The portal's client secret at the provider. Never printed.
    pub oidc_client_secret: Option<Secret<String>>,
    /// The label of the single sign-on button.
    pub oidc_button: String,
    /// Scopes asked for, space-separated (`openid` is always asked).
    pub oidc_scopes: String,
    /// People without the admin role cannot use passwords; the login page leads with SSO.
    pub sso_only: bool,
    /// After a single sign-on, people with an authenticator app also give its code (off: the
    /// provider's sign-in is the whole sign-in).
    pub sso_second_factor: bool,
}

/// Single sign-on as configured (see [`AppConfig::single_sign_on`]).
#[derive(Debug, Clone)]
pub struct SingleSignOn {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    pub button: String,
    /// The scopes besides `openid`.
    pub scopes: Vec<String>,
    pub only: bool,
    /// Ask the portal's own second factor after a single sign-on too.
    pub second_factor: bool,
}

/// Which mail transport delivers the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    File,
    Smtp,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            data_dir: PathBuf::from("data"),
            database_url: None,
            session_idle_timeout: 1800,
            session_absolute_timeout: 43_200,
            remember_idle_timeout: 7 * 86_400,
            remember_absolute_timeout: 30 * 86_400,
            secure_cookies: None,
            purge_interval: 300,
            login_failures_per_account: 5,
            login_failures_per_ip: 50,
            throttle_window: 900,
            password_hash_concurrency: 0,
            password_hash_queue_timeout_ms: 5_000,
            database_max_connections: 16,
            database_timeout_ms: 1_000,
            cache_lease_ms: 5_000,
            audit_retention_days: 365,
            proxy_ip_header: None,
            mail_transport: MailTransportKind::File,
            smtp_url: None,
            mail_from: "HR Portal <hr-portal@localhost>".to_string(),
            public_url: "http://localhost:8000".to_string(),
            password_reset_ttl: 1800,
            invitation_ttl: 7 * 86_400,
            mail_retry_delay: 30,
            mail_max_attempts: 10,
            reset_requests_per_account: 3,
            reset_requests_per_ip: 20,
            require_two_factor_for_admins: false,
            time_zone: "UTC".to_string(),
            metrics_address: None,
            log_format: "text".to_string(),
            backup_every: 0,
            backup_dir: None,
            backup_keep: 7,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_button: "Sign in with single sign-on".to_string(),
            oidc_scopes: "openid email profile".to_string(),
            sso_only: false,
            sso_second_factor: false,
        }
    }
}

/// A setting that cannot work as given.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid settings: {0}")]
    Figment(#[from] Box<rocket::figment::Error>),
    #[error("setting `{0}` must be a positive number of seconds")]
    NotPositive(&'static str),
    #[error("setting `{0}` must be at least 1")]
    TooSmall(&'static str),
    #[error("setting `{0}`: {1}")]
    Invalid(&'static str, String),
}

impl AppConfig {
    /// Reads and checks the settings; a nonsensical value stops the launch with a clear message.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let config: AppConfig = figment.extract().map_err(Box::new)?;
        for (name, value) in [
            ("session_idle_timeout", config.session_idle_timeout),
            ("session_absolute_timeout", config.session_absolute_timeout),
            ("remember_idle_timeout", config.remember_idle_timeout),
            (
                "remember_absolute_timeout",
                config.remember_absolute_timeout,
            ),
            ("throttle_window", config.throttle_window),
            ("password_reset_ttl", config.password_reset_ttl),
            ("invitation_ttl", config.invitation_ttl),
            ("mail_retry_delay", config.mail_retry_delay),
            ("audit_retention_days", config.audit_retention_days),
        ] {
            if value <= 0 {
                return Err(ConfigError::NotPositive(name));
            }
        }
        for (name, value) in [
            (
                "login_failures_per_account",
                config.login_failures_per_account,
            ),
            ("login_failures_per_ip", config.login_failures_per_ip),
            ("mail_max_attempts", config.mail_max_attempts),
            (
                "reset_requests_per_account",
                config.reset_requests_per_account,
            ),
            ("reset_requests_per_ip", config.reset_requests_per_ip),
            (
                "database_max_connections",
                i64::from(config.database_max_connections),
            ),
            (
                "database_timeout_ms",
                i64::try_from(config.database_timeout_ms).unwrap_or(i64::MAX),
            ),
        ] {
            if value < 1 {
                return Err(ConfigError::TooSmall(name));
            }
        }
        // Upper bounds: beyond them a value is a mistake (and would overflow a computation).
        for (name, value, most) in [
            ("audit_retention_days", config.audit_retention_days, 36_500),
            (
                "cache_lease_ms",
                i64::try_from(config.cache_lease_ms).unwrap_or(i64::MAX),
                60_000,
            ),
            (
                "database_timeout_ms",
                i64::try_from(config.database_timeout_ms).unwrap_or(i64::MAX),
                600_000,
            ),
        ] {
            if value > most {
                return Err(ConfigError::Invalid(name, format!("at most {most}")));
            }
        }
        // Renewed four times per lease: shorter would be a query every few milliseconds.
        if config.cache_lease_ms < 200 {
            return Err(ConfigError::Invalid(
                "cache_lease_ms",
                "at least 200".into(),
            ));
        }
        config.company_time_zone()?;
        config.metrics_address()?;
        config.json_logs()?;
        config.single_sign_on()?;
        if config.backup_every > 0 && config.backup_keep < 1 {
            return Err(ConfigError::TooSmall("backup_keep"));
        }
        Ok(config)
    }

    /// The company's time zone; an unknown name stops the launch.
    pub fn company_time_zone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.time_zone.trim().parse().map_err(|_| {
            ConfigError::Invalid(
                "time_zone",
                format!(
                    "{:?} is not an IANA time zone name (such as UTC or Europe/Berlin)",
                    self.time_zone
                ),
            )
        })
    }

    /// Where the metrics listener listens, if anywhere.
    pub fn metrics_address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let Some(address) = self.metrics_address.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if address.is_empty() {
            return Ok(None);
        }
        address.parse().map(Some).map_err(|_| {
            ConfigError::Invalid(
                "metrics_address",
                format!("{address:?} is not an address with a port (such as 127.0.0.1:9464)"),
            )
        })
    }

    /// Whether log lines are JSON objects (`log_format = "json"`) or text (`"text"`).
    pub fn json_logs(&self) -> Result<bool, ConfigError> {
        match self.log_format.trim() {
            "text" | "" => Ok(false),
            "json" => Ok(true),
            other => Err(ConfigError::Invalid(
                "log_format",
                format!("{other:?} is neither \"text\" nor \"json\""),
            )),
        }
    }

    /// The single sign-on settings, when an issuer is set; an issuer without a client id, a
    /// malformed issuer, or `sso_only` without an issuer stops the launch.
    pub fn single_sign_on(&self) -> Result<Option<SingleSignOn>, ConfigError> {
        let issuer = self.oidc_issuer.as_deref().map(str::trim).unwrap_or("");
        if issuer.is_empty() {
            if self.sso_only {
                return Err(ConfigError::Invalid(
                    "sso_only",
                    "needs `oidc_issuer` (there is no single sign-on to lead with)".into(),
                ));
            }
            return Ok(None);
        }
        let parsed = url::Url::parse(issuer).map_err(|error| {
            ConfigError::Invalid("oidc_issuer", format!("{issuer:?} is not a URL: {error}"))
        })?;
        // Plain http only on this machine's loopback (a provider beside the portal, or tests):
        // anywhere else tokens and the client secret would cross the network in the clear.
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
        if !scheme_ok || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ConfigError::Invalid(
                "oidc_issuer",
                format!("{issuer:?} must be an https:// URL without a query"),
            ));
        }
        let client_id = self.oidc_client_id.as_deref().map(str::trim).unwrap_or("");
        if client_id.is_empty() {
            return Err(ConfigError::Invalid(
                "oidc_client_id",
                "is needed when `oidc_issuer` is set".into(),
            ));
        }
        let mut scopes: Vec<String> = self
            .oidc_scopes
            .split_whitespace()
            .filter(|scope| *scope != "openid")
            .map(str::to_string)
            .collect();
        if !scopes.iter().any(|scope| scope == "email") {
            // The portal finds people by their e-mail address: without it nobody gets in.
            scopes.push("email".to_string());
        }
        let button = match self.oidc_button.trim() {
            "" => "Sign in with single sign-on",
            label => label,
        };
        Ok(Some(SingleSignOn {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret: self.oidc_client_secret.clone(),
            button: button.to_string(),
            scopes,
            only: self.sso_only,
            second_factor: self.sso_second_factor,
        }))
    }

    /// Folder of the scheduled backups.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("backups"))
    }

    /// Whether cookies carry `Secure`: explicit setting, else on in release builds only.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(!cfg!(debug_assertions))
    }

    /// The database to open: the explicit URL or the SQLite file inside `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("hr-portal.db").display()
            ),
        }
    }

    /// Folder the file transport writes messages into.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Path of the persisted Rocket secret key.
    pub fn secret_key_path(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(key: &str, value: i64) -> Result<AppConfig, ConfigError> {
        AppConfig::from_figment(&Figment::new().merge((key, value)))
    }

    #[test]
    fn values_beyond_sense_stop_the_launch() {
        assert!(with("audit_retention_days", 365).is_ok());
        assert!(matches!(
            with("audit_retention_days", i64::MAX),
            Err(ConfigError::Invalid("audit_retention_days", _))
        ));
        assert!(matches!(
            with("audit_retention_days", 0),
            Err(ConfigError::NotPositive("audit_retention_days"))
        ));
        assert!(matches!(
            with("database_timeout_ms", 3_000_000_000),
            Err(ConfigError::Invalid("database_timeout_ms", _))
        ));
    }

    #[test]
    fn the_time_zone_must_be_an_iana_name() {
        let zone = |name: &str| AppConfig::from_figment(&Figment::new().merge(("time_zone", name)));
        assert_eq!(
            zone("Europe/Berlin").unwrap().company_time_zone().unwrap(),
            chrono_tz::Europe::Berlin
        );
        assert!(matches!(
            zone("Mars/Olympus_Mons"),
            Err(ConfigError::Invalid("time_zone", _))
        ));
    }
}
