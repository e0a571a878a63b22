//! The provider as discovered: its metadata and keys, fetched at start-up and again when they
//! may have changed, and whether it answered the last time it was asked.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    reqwest, AdditionalProviderMetadata, ClientId, ClientSecret, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, ProviderMetadata, RedirectUrl,
};
use serde::{Deserialize, Serialize};

use crate::config::SingleSignOn;

/// How long one request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);
/// Metadata older than this is fetched again before a sign-in starts (which also tells whether
/// the provider can be reached at all before the browser is sent there).
const METADATA_FRESH_FOR: Duration = Duration::from_secs(60);
/// After a failed attempt, the next request waits this long before asking again (so a provider
/// outage costs one timeout per interval, not one per visitor).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);
/// Least time between two key refetches for an unknown key id (a forged token naming a made-up
/// key must not turn every request into a fetch).
const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(1);

/// The discovery fields `openidconnect`'s core metadata leaves out: where RP-initiated logout
/// goes, and whether back-channel logout is offered.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct LogoutMetadata {
    pub end_session_endpoint: Option<EndSessionUrl>,
    pub backchannel_logout_supported: Option<bool>,
}

impl AdditionalProviderMetadata for LogoutMetadata {}

pub type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The client as built from discovery: authorization endpoint set, token endpoint maybe.
pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider could not be reached (or answered nonsense); the text is for logs and admins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the identity provider cannot be reached: {0}")]
pub struct Unreachable(pub String);

/// What the login page says about single sign-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    /// The last contact worked.
    Ready,
    /// The last attempt failed (or none has worked yet).
    Unreachable,
}

#[derive(Default)]
struct Known {
    metadata: Option<Arc<Metadata>>,
    fetched_at: Option<Instant>,
    failed_at: Option<Instant>,
    keys_fetched_at: Option<Instant>,
}

/// The company's OpenID Provider, as configured and as last discovered.
pub struct Provider {
    pub settings: SingleSignOn,
    issuer: IssuerUrl,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    known: RwLock<Known>,
    /// One discovery at a time: visitors arriving together wait for the same answer.
    fetching: rocket::tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Provider({})", self.settings.issuer)
    }
}

impl Provider {
    /// The provider for `settings`, with the portal's callback under `public_url`. Nothing is
    /// fetched yet: see [`Provider::discover`].
    pub fn new(settings: SingleSignOn, public_url: &str) -> anyhow::Result<Provider> {
        let issuer = IssuerUrl::new(settings.issuer.clone())
            .map_err(|error| anyhow::anyhow!("setting `oidc_issuer`: {error}"))?;
        let callback = format!("{}/login/sso/callback", public_url.trim_end_matches('/'));
        let redirect_uri = RedirectUrl::new(callback)
            .map_err(|error| anyhow::anyhow!("setting `public_url`: {error}"))?;
        // Never follow a redirect (the token endpoint must answer itself: following one could
        // send the code and secret somewhere else).
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()?;
        Ok(Provider {
            settings,
            issuer,
            redirect_uri,
            http,
            known: RwLock::new(Known::default()),
            fetching: rocket::tokio::sync::Mutex::new(()),
        })
    }

    pub fn button(&self) -> &str {
        &self.settings.button
    }

    /// Only administrators may use passwords.
    pub fn only(&self) -> bool {
        self.settings.only
    }

    pub fn redirect_uri(&self) -> &str {
        self.redirect_uri.as_str()
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn known(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn known_mut(&self) -> std::sync::RwLockWriteGuard<'_, Known> {
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the provider answered the last time it was asked.
    pub fn status(&self) -> ProviderStatus {
        let known = self.known();
        match (known.metadata.is_some(), known.failed_at) {
            (true, None) => ProviderStatus::Ready,
            _ => ProviderStatus::Unreachable,
        }
    }

    /// Whether discovery has worked at least once (the background retries stop then).
    pub fn discovered(&self) -> bool {
        self.known().metadata.is_some()
    }

    /// Fetches the discovery document and keys now.
    pub async fn discover(&self) -> Result<Arc<Metadata>, Unreachable> {
        let _one_at_a_time = self.fetching.lock().await;
        let fetched = Metadata::discover_async(self.issuer.clone(), &self.http).await;
        let mut known = self.known_mut();
        let now = Instant::now();
        match fetched {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                known.metadata = Some(metadata.clone());
                known.fetched_at = Some(now);
                known.failed_at = None;
                Ok(metadata)
            }
            Err(error) => {
                known.failed_at = Some(now);
                Err(Unreachable(one_line(&error)))
            }
        }
    }

    /// The metadata, fetched again when it is older than a minute (so a sign-in never sends a
    /// browser to a provider that is down without saying so).
    pub async fn fresh_metadata(&self) -> Result<Arc<Metadata>, Unreachable> {
        {
            let known = self.known();
            if let (Some(metadata), Some(at)) = (&known.metadata, known.fetched_at) {
                if at.elapsed() < METADATA_FRESH_FOR && known.failed_at.is_none() {
                    return Ok(metadata.clone());
                }
            }
            if known
                .failed_at
                .is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE)
            {
                return Err(Unreachable("it did not answer a moment ago".into()));
            }
        }
        self.discover().await
    }

    /// The metadata as known, without asking the provider (the callback and logout tokens:
    /// their keys are refetched only for an unknown key id).
    pub fn known_metadata(&self) -> Option<Arc<Metadata>> {
        self.known().metadata.clone()
    }

    /// Fetches the key set again, when a token names a key id the known set lacks (the provider
    /// rotated its keys). At most once per second (discovery does not count: a rotation right
    /// after it is still seen); `None` when not fetched.
    pub async fn refetch_keys(&self) -> Option<Arc<Metadata>> {
        let metadata = {
            let mut known = self.known_mut();
            if known
                .keys_fetched_at
                .is_some_and(|at| at.elapsed() < KEY_REFETCH_INTERVAL)
            {
                return None;
            }
            known.keys_fetched_at = Some(Instant::now());
            known.metadata.clone()?
        };
        let keys = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .ok()?;
        let renewed = Arc::new(metadata.as_ref().clone().set_jwks(keys));
        self.known_mut().metadata = Some(renewed.clone());
        Some(renewed)
    }

    /// The OpenID client for `metadata`, with the portal's id, secret and callback.
    pub(super) fn client(&self, metadata: &Metadata) -> Client {
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .map(|secret| ClientSecret::new(secret.expose().clone()));
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            secret,
        )
        .set_redirect_uri(self.redirect_uri.clone())
    }

    /// The provider's end-session URL with `id_token_hint`, `post_logout_redirect_uri` and
    /// `client_id` (RP-initiated logout); `None` when it offers none.
    pub fn end_session_url(&self, id_token: &str, after: &str) -> Option<String> {
        let metadata = self.known_metadata()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()?;
        let mut url = endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("post_logout_redirect_uri", after)
            .append_pair("client_id", &self.settings.client_id);
        Some(url.to_string())
    }

    pub fn client_id(&self) -> &str {
        &self.settings.client_id
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }
}

/// An error and its causes on one line (for the log and the admin's eyes; never a secret: the
/// requests carry the client secret only in headers, which errors do not print).
fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
