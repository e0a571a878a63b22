//! One wrapper for every value that must never reach a log, a page or a panic message: tokens,
//! password hashes, codes, keys, credentials. Its `Debug` prints `[redacted]`, so a type holding
//! one can simply derive `Debug`; reading the value is an explicit `expose()`, so every use of a
//! secret stands out in review.

use serde::Deserialize;

#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value itself, for the one place that needs it (hashing, a cookie, a comparison).
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Secret<T> {
        Secret(value)
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Login {
        email: &'static str,
        password: Secret<&'static str>,
    }

    #[test]
    fn a_derived_debug_never_prints_the_secret() {
        let login = Login {
            email: "ada@example.com",
            password: Secret::new("correct horse battery"),
        };
        let printed = format!("{login:?}");
        assert!(printed.contains("ada@example.com"));
        assert!(printed.contains("[redacted]"));
        assert!(!printed.contains("horse"));
    }
}
