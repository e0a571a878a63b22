//! Where to send someone after they sign in: only back to a page of this site.

/// A local path to return to after sign-in, or `None` for anything that could leave the site
/// (`//host`, `/\host`, schemes, control characters).
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2048
        && next.is_ascii()
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        // Must also be a URI Rocket can put in a Location header (else the redirect is a 500).
        && rocket::http::uri::Origin::parse(next).is_ok();
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_accepted_as_next() {
        assert_eq!(safe_next("/dashboard"), Some("/dashboard"));
        assert_eq!(safe_next("/employees?page=2"), Some("/employees?page=2"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "",
            "/ok\nLocation: x",
            "/a b",
            "javascript:alert(1)",
            "/\u{e9}",
            "/a<b",
            "/a\"b",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?} must be refused");
        }
    }
}
