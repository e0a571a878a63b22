//! Logout tokens (OpenID Connect Back-Channel Logout 1.0): a signed JWT the provider posts when a
//! person's session there ends. Verified with `jsonwebtoken` against the provider's keys:
//! signature (an asymmetric algorithm only), `iss`, `aud`, `iat`, `exp` when present, the
//! back-channel `events` claim, `sid` and/or `sub`, no `nonce` (which would make it an ID token),
//! and a `jti` — whose reuse the caller refuses.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::provider::Metadata;
use super::Provider;

const BACK_CHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token is fresh for this long after its `iat` (and so its `jti` is kept this long).
pub const LOGOUT_TOKEN_SECONDS: i64 = 10 * 60;
const IAT_SKEW: i64 = 60;

/// Whom a verified logout token signs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutOrder {
    pub subject: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    /// Until when its `jti` must be remembered.
    pub remember_until: i64,
}

/// Why a logout token was refused (answered with 400; the reason goes to the log only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLogoutToken {
    #[error("not a signed JWT: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    #[error("no key of the provider has this token's key id")]
    UnknownKey,
    #[error("rejected: {0}")]
    Rejected(String),
    #[error("not a back-channel logout token (no logout event)")]
    NotALogout,
    #[error("carries a nonce, so it is no logout token")]
    HasNonce,
    #[error("names neither a subject nor a session")]
    NamesNobody,
    #[error("has no jti")]
    NoJti,
    #[error("issued outside the accepted window")]
    Stale,
    #[error("the provider has not been discovered yet")]
    NoProvider,
    #[error("its jti was used before (a replay)")]
    Replayed,
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    jti: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    events: Option<serde_json::Map<String, serde_json::Value>>,
    nonce: Option<serde_json::Value>,
}

/// The signature algorithms a provider may sign with; HMAC (keyed with the client secret) and
/// `none` are refused.
const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl Provider {
    /// Verifies a logout token, refetching the provider's keys once for an unknown key id.
    pub async fn verify_logout_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<LogoutOrder, BadLogoutToken> {
        let metadata = self.known_metadata().ok_or(BadLogoutToken::NoProvider)?;
        match self.check_logout_token(&metadata, token, now) {
            Err(BadLogoutToken::UnknownKey) => {
                let renewed = self
                    .refetch_keys()
                    .await
                    .ok_or(BadLogoutToken::UnknownKey)?;
                self.check_logout_token(&renewed, token, now)
            }
            checked => checked,
        }
    }

    fn check_logout_token(
        &self,
        metadata: &Metadata,
        token: &str,
        now: i64,
    ) -> Result<LogoutOrder, BadLogoutToken> {
        let header =
            decode_header(token).map_err(|error| BadLogoutToken::Malformed(error.to_string()))?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err(BadLogoutToken::Algorithm(header.alg));
        }
        if header
            .typ
            .as_deref()
            .is_some_and(|typ| !typ.eq_ignore_ascii_case("logout+jwt") && typ != "JWT")
        {
            return Err(BadLogoutToken::NotALogout);
        }
        let keys: JwkSet = serde_json::to_value(metadata.jwks())
            .and_then(serde_json::from_value)
            .map_err(|error| BadLogoutToken::Malformed(error.to_string()))?;
        let key = match header.kid.as_deref() {
            Some(kid) => keys.find(kid),
            // Without a key id, only a provider with a single key can be meant.
            None if keys.keys.len() == 1 => keys.keys.first(),
            None => None,
        }
        .ok_or(BadLogoutToken::UnknownKey)?;
        let key = DecodingKey::from_jwk(key)
            .map_err(|error| BadLogoutToken::Rejected(error.to_string()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.issuer()]);
        validation.set_audience(&[self.client_id()]);
        validation.set_required_spec_claims(&["iss", "aud", "iat"]);
        validation.leeway = 60;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|error| BadLogoutToken::Rejected(error.to_string()))?
            .claims;
        let is_logout = claims
            .events
            .as_ref()
            .and_then(|events| events.get(BACK_CHANNEL_EVENT))
            .is_some_and(serde_json::Value::is_object);
        if !is_logout {
            return Err(BadLogoutToken::NotALogout);
        }
        if claims.nonce.is_some() {
            return Err(BadLogoutToken::HasNonce);
        }
        if claims.sub.is_none() && claims.sid.is_none() {
            return Err(BadLogoutToken::NamesNobody);
        }
        let jti = claims
            .jti
            .filter(|jti| !jti.is_empty() && jti.len() <= 256)
            .ok_or(BadLogoutToken::NoJti)?;
        if claims.iat > now + IAT_SKEW || claims.iat < now - LOGOUT_TOKEN_SECONDS {
            return Err(BadLogoutToken::Stale);
        }
        Ok(LogoutOrder {
            subject: claims.sub,
            sid: claims.sid,
            jti,
            remember_until: claims.iat + LOGOUT_TOKEN_SECONDS + IAT_SKEW,
        })
    }
}
