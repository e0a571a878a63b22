//! E-mail addresses in the one form they are stored and compared in.

use unicode_normalization::UnicodeNormalization;

/// Longest address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Trimmed, Unicode NFC, lowercase: `" Ádá@Example.COM "` and its decomposed twin are one account.
/// Control characters (NUL among them, which PostgreSQL refuses in text) are dropped: no address
/// contains them, and typed input must never turn into a database error.
pub fn normalize_email(raw: &str) -> String {
    raw.trim()
        .nfc()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .to_lowercase()
}

/// An e-mail address in its stored form: normalized and checked. The only ways to build one are
/// [`Email::parse`] (typed input) and [`Email::from_stored`] (a row, checked the same way), so
/// holding an `Email` means holding a valid, normalized address.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Normalizes and checks typed input. Invisible characters are refused here, in input only:
    /// a stored address is never re-judged (see [`super::lookalike`]).
    pub fn parse(raw: &str) -> Result<Email, InvalidEmail> {
        if super::lookalike::has_invisible(raw) {
            return Err(InvalidEmail::Invisible);
        }
        parse_email(&map_domain(raw)?).map(Email)
    }

    /// A stored address; one that is not in normalized form is corruption, reported as a decode
    /// error rather than silently accepted.
    pub fn from_stored(stored: String) -> Result<Email, sqlx::Error> {
        match parse_email(&stored) {
            Ok(email) if email == stored => Ok(Email(email)),
            _ => Err(sqlx::Error::Decode(
                format!("stored e-mail address {stored:?} is not in normalized form").into(),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Typed input with its domain mapped the way mail software resolves it (UTS-46, as IDNA does):
/// `larkspur。example` (U+3002 ideographic full stop) and fullwidth letters become the
/// `larkspur.example` they resolve to, so the address is stored — and compared — as the one it
/// reaches; a trailing `。` becomes a trailing dot, which the shape check refuses. A domain UTS-46
/// refuses (bad Punycode, disallowed characters) is not an address. Only typed input is mapped:
/// stored rows are never re-judged.
fn map_domain(raw: &str) -> Result<String, InvalidEmail> {
    let email = normalize_email(raw);
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Ok(email);
    };
    let (mapped, checked) = idna::domain_to_unicode(domain);
    if checked.is_err() {
        return Err(InvalidEmail::Shape);
    }
    Ok(format!("{local}@{mapped}"))
}

/// Normalizes and checks the rough shape of an address; returns the stored form.
fn parse_email(raw: &str) -> Result<String, InvalidEmail> {
    let email = normalize_email(raw);
    if email.is_empty() {
        return Err(InvalidEmail::Missing);
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(InvalidEmail::TooLong);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(InvalidEmail::Shape);
    };
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@';
    if local.is_empty()
        || domain.is_empty()
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().filter(|c| *c == '@').count() != 1
        || local.chars().any(bad_char)
        || domain.chars().any(bad_char)
    {
        return Err(InvalidEmail::Shape);
    }
    Ok(email)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("Please enter an e-mail address.")]
    Missing,
    #[error("That e-mail address is too long.")]
    TooLong,
    #[error("That does not look like an e-mail address.")]
    Shape,
    #[error("The e-mail address contains invisible characters (such as a zero-width space); type it again without them.")]
    Invisible,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_variants_of_one_address_normalize_alike() {
        let composed = "J\u{00D6}RG@Example.com";
        let decomposed = "  jo\u{0308}rg@EXAMPLE.COM\t";
        assert_eq!(normalize_email(composed), normalize_email(decomposed));
        assert_eq!(normalize_email(composed), "j\u{00F6}rg@example.com");
    }

    #[test]
    fn domains_are_mapped_as_mail_resolves_them() {
        let mapped = |raw: &str| Email::parse(raw).map(|e| e.as_str().to_string());
        assert_eq!(
            mapped("sam.okafor@larkspur\u{3002}example"),
            Ok("sam.okafor@larkspur.example".to_string())
        );
        assert_eq!(
            mapped("sam.okafor@ＬＡＲＫＳＰＵＲ.example"),
            Ok("sam.okafor@larkspur.example".to_string())
        );
        assert_eq!(
            mapped("sam.okafor@larkspur.example\u{3002}"),
            Err(InvalidEmail::Shape)
        );
        assert_eq!(mapped("a@xn--zz.example"), Err(InvalidEmail::Shape));
        assert_eq!(
            mapped("zoë@bücher.example"),
            Ok("zoë@bücher.example".to_string())
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        assert!(Email::from_stored("Ada@Example.com".into()).is_err());
        assert_eq!(parse_email("   "), Err(InvalidEmail::Missing));
        assert_eq!(parse_email("no-at-sign"), Err(InvalidEmail::Shape));
        assert_eq!(parse_email("a@b@c"), Err(InvalidEmail::Shape));
        assert_eq!(parse_email("a b@c.d"), Err(InvalidEmail::Shape));
        assert_eq!(parse_email("@c.d"), Err(InvalidEmail::Shape));
        assert_eq!(
            parse_email(&format!("{}@x.y", "a".repeat(300))),
            Err(InvalidEmail::TooLong)
        );
        assert_eq!(
            parse_email(" Ada@Example.COM "),
            Ok("ada@example.com".into())
        );
    }
}
