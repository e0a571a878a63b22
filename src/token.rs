//! Random tokens and their stored form: the primitives both accounts and sessions build on.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 bytes from the OS CSPRNG, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Length of a public handle (sessions, devices, passkeys): 22 base64url characters, 132 bits.
pub const HANDLE_LEN: usize = 22;

/// A random public handle: what pages show and post to name a session, device or passkey
/// without revealing anything that opens it.
pub fn random_handle() -> String {
    let mut token = random_token();
    token.truncate(HANDLE_LEN);
    token
}

/// Whether a posted handle has the exact shape of the ones we issue; anything else names
/// nothing and never reaches the database.
pub fn is_handle(value: &str) -> bool {
    is_base64url_of_len(value, HANDLE_LEN)
}

/// What the database stores for a token: SHA-256, base64url. A stolen table opens no session.
pub fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Whether a cookie value has the exact shape of a token we issue; anything else is ignored
/// without touching the database.
pub fn looks_like_token(value: &str) -> bool {
    is_base64url_of_len(value, 43)
}

/// Exactly `len` characters of the unpadded base64url alphabet — the shape of every random value
/// this app hands out (tokens, session handles).
pub fn is_base64url_of_len(value: &str, len: usize) -> bool {
    value.len() == len
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert!(looks_like_token(&a));
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&format!("{}!", &a[..42])));
        assert_ne!(hash_token(&a), a);
        assert_eq!(hash_token(&a), hash_token(&a));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
