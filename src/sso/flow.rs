//! The authorization code flow: [`Provider::start`] sends the browser to the provider with a
//! PKCE (S256) challenge, a state and a nonce, which the portal keeps in a short-lived private
//! cookie ([`Flow`]); [`Provider::finish`] checks the state, exchanges the code with the
//! verifier and checks the ID token (signature through the provider's keys, `iss`, `aud`, `azp`,
//! `exp`, `iat`, the nonce) and `email_verified`.

use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreIdToken};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, CsrfToken, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, Scope, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::provider::Metadata;
use super::{Provider, Unreachable};
use crate::secret::Secret;

/// Seconds a started sign-in may take at the provider before its callback is refused.
pub const FLOW_SECONDS: i64 = 10 * 60;
/// How far an ID token's `iat` may lie in the future (clock skew) or the past.
const IAT_SKEW: i64 = 60;
const IAT_MAX_AGE: i64 = FLOW_SECONDS;

/// What the portal remembers of a started sign-in, in the browser's private (encrypted and
/// authenticated) flow cookie: never in the URL. Not `Debug`: it holds the PKCE verifier.
#[derive(Clone, Serialize, Deserialize)]
pub struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    /// Where the person was going (already checked by the open-redirect rules).
    pub next: String,
    /// "Keep me signed in", as ticked on the login page.
    pub remember: bool,
    pub started_at: i64,
}

/// A started sign-in: where to send the browser, and what to keep.
pub struct Started {
    pub authorize_url: String,
    pub flow: Flow,
}

/// Who the provider says signed in.
#[derive(Debug)]
pub struct Identity {
    pub subject: String,
    /// As the provider sent it (normalized by the caller).
    pub email: String,
    pub name: Option<String>,
    /// The provider's session id, which back-channel logout names.
    pub sid: Option<String>,
    /// The ID token, for `id_token_hint` at sign-out.
    pub id_token: Secret<String>,
}

/// Why a callback did not sign anyone in (worded for people in `web::refusals`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowRefusal {
    #[error("no sign-in was started in this browser, or it took longer than ten minutes")]
    NoFlow,
    #[error("the state does not match the sign-in this browser started")]
    StateMismatch,
    #[error("the identity provider refused: {0}")]
    ProviderSaidNo(String),
    #[error("the code was refused at the token endpoint: {0}")]
    CodeRefused(String),
    #[error("the ID token is not valid: {0}")]
    BadIdToken(String),
    #[error("the identity provider sent no verified e-mail address")]
    EmailNotVerified,
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
}

/// What came back to the callback.
#[derive(Debug)]
pub struct Returned<'a> {
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// The provider's `error` (the person cancelled, consent refused…).
    pub error: Option<&'a str>,
    /// The `iss` a provider following RFC 9207 adds, which must be this provider's (a browser
    /// sent back from another provider is refused: the mix-up attack).
    pub issuer: Option<&'a str>,
}

impl Provider {
    /// Starts a sign-in: the provider's metadata is fetched again when stale (an unreachable
    /// provider is said so here, before the browser is sent away).
    pub async fn start(
        &self,
        next: String,
        remember: bool,
        now: i64,
    ) -> Result<Started, Unreachable> {
        let metadata = self.fresh_metadata().await?;
        let client = self.client(&metadata);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            authorize_url: url.to_string(),
            flow: Flow {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                next,
                remember,
                started_at: now,
            },
        })
    }

    /// Finishes a sign-in: the state first (before anything is sent anywhere), then the code
    /// exchange and the ID token's checks.
    pub async fn finish(
        &self,
        flow: Option<&Flow>,
        returned: &Returned<'_>,
        now: i64,
    ) -> Result<Identity, FlowRefusal> {
        let flow = flow
            .filter(|flow| (0..=FLOW_SECONDS).contains(&(now - flow.started_at)))
            .ok_or(FlowRefusal::NoFlow)?;
        let state_matches = returned
            .state
            .is_some_and(|state| constant_time_eq(state, &flow.state));
        if !state_matches {
            return Err(FlowRefusal::StateMismatch);
        }
        if returned
            .issuer
            .is_some_and(|issuer| issuer != self.issuer())
        {
            return Err(FlowRefusal::StateMismatch);
        }
        if let Some(error) = returned.error {
            return Err(FlowRefusal::ProviderSaidNo(printable(error)));
        }
        let code = returned
            .code
            .filter(|code| !code.is_empty())
            .ok_or_else(|| FlowRefusal::CodeRefused("no code".into()))?;
        let metadata = match self.known_metadata() {
            Some(metadata) => metadata,
            None => self.fresh_metadata().await?,
        };
        let client = self.client(&metadata);
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|error| FlowRefusal::CodeRefused(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()));
        let tokens = exchange
            .request_async(self.http())
            .await
            .map_err(|error| FlowRefusal::CodeRefused(oauth_error(&error)))?;
        // The access token is not used: the portal needs only who signed in.
        let _ = tokens.access_token();
        let id_token = tokens
            .id_token()
            .ok_or_else(|| FlowRefusal::BadIdToken("none in the token response".into()))?;
        self.check_id_token(&metadata, id_token, &flow.nonce, now)
            .await
    }

    /// Checks an ID token as the callback does (for a token already in hand: the tests hand it
    /// tokens the provider signed with claims of their choosing).
    pub async fn verify_id_token(
        &self,
        raw: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Identity, FlowRefusal> {
        let id_token: CoreIdToken = raw
            .parse()
            .map_err(|error: serde_json::Error| FlowRefusal::BadIdToken(error.to_string()))?;
        let metadata = match self.known_metadata() {
            Some(metadata) => metadata,
            None => self.fresh_metadata().await?,
        };
        self.check_id_token(&metadata, &id_token, nonce, now).await
    }

    /// [`Self::identify`], once more with freshly fetched keys when the token names a key id the
    /// known set lacks (the provider rotated its keys since discovery).
    async fn check_id_token(
        &self,
        metadata: &Metadata,
        id_token: &CoreIdToken,
        nonce: &str,
        now: i64,
    ) -> Result<Identity, FlowRefusal> {
        let nonce = Nonce::new(nonce.to_string());
        match self.identify(metadata, id_token, &nonce, now) {
            Err(FlowRefusal::BadIdToken(why)) if why == NO_MATCHING_KEY => {
                let renewed = self
                    .refetch_keys()
                    .await
                    .ok_or(FlowRefusal::BadIdToken(why))?;
                self.identify(&renewed, id_token, &nonce, now)
            }
            checked => checked,
        }
    }

    fn identify(
        &self,
        metadata: &Metadata,
        id_token: &CoreIdToken,
        nonce: &Nonce,
        now: i64,
    ) -> Result<Identity, FlowRefusal> {
        let client = self.client(metadata);
        let verifier = client
            .id_token_verifier()
            .set_issue_time_verifier_fn(move |issued| {
                let issued = issued.timestamp();
                if issued > now + IAT_SKEW {
                    Err(format!("issued in the future ({issued})"))
                } else if issued < now - IAT_MAX_AGE {
                    Err(format!("issued too long ago ({issued})"))
                } else {
                    Ok(())
                }
            });
        let claims = id_token.claims(&verifier, nonce).map_err(|error| {
            FlowRefusal::BadIdToken(match error {
                ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                ) => NO_MATCHING_KEY.to_string(),
                other => other.to_string(),
            })
        })?;
        let email = claims
            .email()
            .map(|email| email.as_str().to_string())
            .ok_or(FlowRefusal::EmailNotVerified)?;
        let raw = id_token.to_string();
        // Entra ID never sends `email_verified`; it says the same with `xms_edov`.
        let verified = claims.email_verified() == Some(true)
            || verified_payload_flag(&raw, "xms_edov") == Some(true);
        if !verified {
            return Err(FlowRefusal::EmailNotVerified);
        }
        let name = claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.as_str().to_string());
        Ok(Identity {
            subject: claims.subject().as_str().to_string(),
            email,
            name,
            sid: verified_payload_claim(&raw, "sid"),
            id_token: Secret::new(raw),
        })
    }
}

const NO_MATCHING_KEY: &str = "no key of the provider matches the token's key id";

/// A claim of a token whose signature was verified already (`openidconnect`'s core claims have
/// no `sid` and no `xms_edov`).
fn verified_payload(token: &str, name: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let mut claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(claims.get_mut(name)?.take())
}

fn verified_payload_claim(token: &str, name: &str) -> Option<String> {
    verified_payload(token, name)?.as_str().map(str::to_string)
}

/// A boolean claim, also as the string "true"/"false" some providers send.
fn verified_payload_flag(token: &str, name: &str) -> Option<bool> {
    match verified_payload(token, name)? {
        serde_json::Value::Bool(flag) => Some(flag),
        serde_json::Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn oauth_error(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    if let Some(source) = error.source() {
        text.push_str(": ");
        text.push_str(&source.to_string());
    }
    printable(&text)
}

/// Text from the provider, cut short and without control characters, for the audit trail.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}
