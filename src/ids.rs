//! Typed row ids. A user id cannot be passed where a session or employee id is expected: the
//! compiler refuses the mix-up that a bare `i64` would let through.

/// Defines one id type: an `i64` newtype that binds, decodes, prints and serializes as the number
/// (`web::params` makes it a path segment).
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            /// Only positive numbers name a row; `0` and negatives parse as an error.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let id: i64 = s.trim().parse()?;
                if id > 0 {
                    Ok($name(id))
                } else {
                    // `"0x".parse::<i64>()` is the cheapest way to build a ParseIntError.
                    "0x".parse::<i64>().map($name)
                }
            }
        }
    };
}

id_type!(
    /// An account (`users.id`).
    UserId
);
id_type!(
    /// A session row (`sessions.id`); never shown — pages use the session's public handle.
    SessionId
);
id_type!(
    /// An employee record (`employees.id`).
    EmployeeId
);
id_type!(
    /// A department (`departments.id`).
    DepartmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_numbers_are_ids() {
        assert_eq!("42".parse::<UserId>(), Ok(UserId(42)));
        assert!("0".parse::<UserId>().is_err());
        assert!("-3".parse::<EmployeeId>().is_err());
        assert!("4x".parse::<SessionId>().is_err());
    }
}
id_type!(
    /// A browser known to have signed in to an account (`known_devices.id`).
    DeviceId
);
id_type!(
    /// A registered passkey (`passkeys.id`); pages use its public handle.
    PasskeyId
);
