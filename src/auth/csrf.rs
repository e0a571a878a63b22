//! Synchronizer CSRF tokens.
//!
//! Each session row carries a random secret; before a login exists, a private cookie carries one.
//! Forms embed the secret *masked* with a fresh one-time pad (pad ‖ pad⊕secret), so the token in
//! the page changes on every render and compression side channels (BREACH) learn nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use super::constant_time_eq;

/// Renders `secret` (a 43-character base64url value) as a masked form token.
pub fn masked_token(secret: &str) -> String {
    let secret = secret.as_bytes();
    let mut pad = vec![0u8; secret.len()];
    rand::rngs::OsRng.fill_bytes(&mut pad);
    let mut out = pad.clone();
    out.extend(pad.iter().zip(secret).map(|(p, s)| p ^ s));
    URL_SAFE_NO_PAD.encode(out)
}

/// Whether a posted token unmasks to `secret`.
pub fn token_matches(secret: &str, posted: &str) -> bool {
    if posted.len() > 256 {
        return false;
    }
    let Ok(raw) = URL_SAFE_NO_PAD.decode(posted.as_bytes()) else {
        return false;
    };
    let secret = secret.as_bytes();
    if raw.len() != secret.len() * 2 || secret.is_empty() {
        return false;
    }
    let (pad, masked) = raw.split_at(secret.len());
    let unmasked: Vec<u8> = pad.iter().zip(masked).map(|(p, m)| p ^ m).collect();
    constant_time_eq(&unmasked, secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::random_token;

    #[test]
    fn a_masked_token_verifies_against_its_secret_only() {
        let secret = random_token();
        let token = masked_token(&secret);
        assert!(token_matches(&secret, &token));
        assert_ne!(
            token,
            masked_token(&secret),
            "every render is masked afresh"
        );
        assert!(!token_matches(&random_token(), &token));
        assert!(!token_matches(&secret, ""));
        assert!(!token_matches(&secret, "not base64 ✓"));
        assert!(
            !token_matches(&secret, &secret),
            "the bare secret is not a token"
        );
    }
}
