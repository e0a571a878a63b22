//! Sealing values that must rest in the database readable only by the application: AES-256-GCM
//! under a key derived (HKDF-SHA256) from the application's secret key, one key per purpose, so
//! a copy of the database alone opens nothing — the same promise the token hashes make.
//!
//! A sealed value is base64url(nonce ‖ ciphertext ‖ tag) with a fresh random 96-bit nonce. The
//! caller binds it to its context (e.g. the recipient of a message) as associated data, so a
//! sealed value moved to another row does not open there.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const NONCE_LEN: usize = 12;

/// A sealed value that does not open: altered, moved, or sealed under another secret key.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened (altered, or sealed under another secret key)")]
pub struct Unsealable;

/// Seals and opens values for one purpose.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key redacted>)")
    }
}

impl Sealer {
    /// The sealer for `purpose` (a fixed label, e.g. `"hr-portal outbox v1"`) under `secret_key`.
    pub fn derive(secret_key: &[u8], purpose: &str) -> Sealer {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret_key)
            .expand(purpose.as_bytes(), &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Sealer {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("AES-GCM encryption of an in-memory message cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<String, Unsealable> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| Unsealable)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| Unsealable)?;
        String::from_utf8(plaintext).map_err(|_| Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_purpose_and_context() {
        let sealer = Sealer::derive(b"secret one", "outbox");
        let sealed = sealer.seal("the reset link", "dana@example.com");
        assert!(!sealed.contains("reset"));
        assert_eq!(
            sealer.open(&sealed, "dana@example.com").unwrap(),
            "the reset link"
        );
        assert!(sealer.open(&sealed, "eve@example.com").is_err());
        assert!(Sealer::derive(b"secret two", "outbox")
            .open(&sealed, "dana@example.com")
            .is_err());
        assert!(Sealer::derive(b"secret one", "totp")
            .open(&sealed, "dana@example.com")
            .is_err());
        assert!(sealer.open("garbage", "dana@example.com").is_err());
        assert_ne!(sealer.seal("same", "c"), sealer.seal("same", "c"));
    }
}
