//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of
//! drift either way) and recovery codes: the arithmetic only, no storage.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
/// Steps accepted on either side of now: a phone whose clock is 30 s off still works.
const DRIFT_STEPS: i64 = 1;
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Characters of a recovery code (base32: 16 × 5 = 80 random bits).
const RECOVERY_CODE_CHARS: usize = 16;
/// Longest code input looked at; anything longer is refused unread.
pub const MAX_CODE_INPUT: usize = 64;

/// A TOTP shared secret.
#[derive(Clone, Debug)]
pub struct TotpSecret(crate::secret::Secret<Vec<u8>>);

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        TotpSecret(bytes.into())
    }

    /// The form an authenticator app accepts when typed: RFC 4648 base32 without padding.
    pub fn base32(&self) -> String {
        match Secret::Raw(self.0.expose().clone()).to_encoded() {
            Secret::Encoded(text) => text,
            Secret::Raw(_) => unreachable!("to_encoded always encodes"),
        }
    }

    /// The sealed-at-rest form's plaintext (base64url of the bytes).
    pub fn to_stored(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.expose())
    }

    pub fn from_stored(text: &str) -> Option<TotpSecret> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        (bytes.len() >= 16).then_some(TotpSecret(bytes.into()))
    }

    fn totp(&self) -> TOTP {
        TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECONDS,
            self.0.expose().clone(),
        )
        .expect("a 160-bit secret and 6 digits are valid RFC 6238 parameters")
    }

    /// The code an authenticator shows at unix time `at`.
    pub fn code_at(&self, at: i64) -> String {
        self.totp().generate(at.max(0).unsigned_abs())
    }

    /// The step of `code` if it is the code for `now` or one step either side, and that step is
    /// later than `after` (the last step accepted: a code is good once). Compared in constant time.
    pub fn matching_step(&self, code: &str, now: i64, after: i64) -> Option<i64> {
        let totp = self.totp();
        let current = now.max(0) / i64::try_from(STEP_SECONDS).unwrap_or(i64::MAX);
        (current - DRIFT_STEPS..=current + DRIFT_STEPS)
            .filter(|step| *step > after && *step >= 0)
            .find(|step| {
                let expected = totp.generate(step.unsigned_abs() * STEP_SECONDS);
                crate::token::constant_time_eq(expected.as_bytes(), code.as_bytes())
            })
    }

    /// The `otpauth://` URI an authenticator app scans.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> String {
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent_encode(issuer),
            percent_encode(account),
            self.base32(),
            percent_encode(issuer),
        )
    }

    /// The provisioning URI as a QR code, drawn here as inline SVG (no script, no outside service).
    pub fn qr_svg(&self, issuer: &str, account: &str) -> String {
        let uri = self.provisioning_uri(issuer, account);
        match QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M) {
            Ok(code) => {
                let drawn = code
                    .render::<svg::Color<'_>>()
                    .min_dimensions(200, 200)
                    .quiet_zone(true)
                    .build();
                // Inline in HTML: no XML declaration before the <svg> element.
                match drawn.find("<svg") {
                    Some(start) => drawn[start..].to_string(),
                    None => String::new(),
                }
            }
            // Only an absurdly long account name could overflow a QR code; the text secret remains.
            Err(_) => String::new(),
        }
    }
}

/// Everything but RFC 3986's unreserved characters, percent-encoded (for the URI's label).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a typed second-step code looks like, before anything is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedCode {
    /// Six digits (spaces ignored): an authenticator code.
    Totp(String),
    /// Sixteen base32 characters (spaces and dashes ignored, any case): a recovery code.
    Recovery(String),
    /// Neither: refused without a lookup.
    Malformed,
}

impl TypedCode {
    pub fn parse(input: &str) -> TypedCode {
        if input.len() > MAX_CODE_INPUT {
            return TypedCode::Malformed;
        }
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.len() == DIGITS && compact.bytes().all(|b| b.is_ascii_digit()) {
            return TypedCode::Totp(compact);
        }
        let lower = compact.to_ascii_lowercase();
        if lower.len() == RECOVERY_CODE_CHARS && lower.bytes().all(is_base32_lower) {
            return TypedCode::Recovery(lower);
        }
        TypedCode::Malformed
    }
}

fn is_base32_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)
}

/// Ten fresh recovery codes, as shown once: `abcd-efgh-ijkl-mnop`.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_CODE_CHARS];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| ALPHABET[(*b & 31) as usize] as char)
                .collect();
            chars
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// What is stored for a recovery code: SHA-256 of its compact form.
pub fn recovery_code_hash(code: &str) -> Option<String> {
    match TypedCode::parse(code) {
        TypedCode::Recovery(compact) => Some(crate::token::hash_token(&compact)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 → 94287082 (8 digits);
        // its last six digits are the 6-digit code.
        let secret = TotpSecret(b"12345678901234567890".to_vec().into());
        assert_eq!(secret.code_at(59), "287082");
        assert_eq!(secret.code_at(1_111_111_109), "081804");
    }

    #[test]
    fn a_code_is_good_for_one_step_either_side_and_only_once() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_000;
        let step = now / 30;
        let code = secret.code_at(now);
        assert_eq!(secret.matching_step(&code, now, 0), Some(step));
        assert_eq!(secret.matching_step(&code, now + 30, 0), Some(step));
        assert_eq!(secret.matching_step(&code, now - 30, 0), Some(step));
        assert_eq!(secret.matching_step(&code, now + 90, 0), None);
        assert_eq!(secret.matching_step(&code, now, step), None);
        assert_eq!(secret.matching_step("000000x", now, 0), None);
    }

    #[test]
    fn typed_codes_are_told_apart_before_any_lookup() {
        assert_eq!(
            TypedCode::parse(" 123 456 "),
            TypedCode::Totp("123456".into())
        );
        assert_eq!(
            TypedCode::parse("ABCD-EFGH-2345-6723"),
            TypedCode::Recovery("abcdefgh23456723".into())
        );
        assert_eq!(TypedCode::parse("12345"), TypedCode::Malformed);
        assert_eq!(TypedCode::parse("12345a"), TypedCode::Malformed);
        assert_eq!(TypedCode::parse(&"1".repeat(10_000)), TypedCode::Malformed);
        assert_eq!(TypedCode::parse(""), TypedCode::Malformed);
    }

    #[test]
    fn recovery_codes_are_distinct_and_parse_back() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        for code in &codes {
            assert_eq!(code.len(), 19);
            assert!(recovery_code_hash(code).is_some());
            assert_eq!(
                recovery_code_hash(code),
                recovery_code_hash(&code.to_uppercase().replace('-', " "))
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn the_secret_round_trips_and_draws_a_qr_code() {
        let secret = TotpSecret::generate();
        let back = TotpSecret::from_stored(&secret.to_stored()).unwrap();
        assert_eq!(back.base32(), secret.base32());
        assert_eq!(secret.base32().len(), 32);
        let uri = secret.provisioning_uri("HR Portal", "dana@example.com");
        assert!(uri.starts_with("otpauth://totp/HR%20Portal:dana%40example.com?secret="));
        assert!(secret
            .qr_svg("HR Portal", "dana@example.com")
            .starts_with("<svg"));
    }
}
