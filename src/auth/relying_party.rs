//! The WebAuthn relying party: this app as passkeys know it. Its id is the host name of
//! `public_url` and the only origin it accepts is `public_url` itself, so a passkey made here
//! answers nowhere else and an answer collected by another site is refused here.

use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// The name authenticators show beside the account.
const RP_NAME: &str = "HR Portal";

/// Passkeys for this deployment, or why there are none.
pub struct RelyingParty {
    webauthn: Result<Webauthn, String>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("available", &self.webauthn.is_ok())
            .finish()
    }
}

impl RelyingParty {
    /// From `public_url` (already checked to be an http(s) URL by the mail settings). An IP
    /// address cannot be a WebAuthn relying-party id: such a deployment has no passkeys, and the
    /// pages say to open the app by name.
    pub fn from_public_url(public_url: &str) -> RelyingParty {
        RelyingParty {
            webauthn: build(public_url),
        }
    }

    /// The configured relying party, or the sentence that says why passkeys are off.
    pub fn webauthn(&self) -> Result<&Webauthn, &str> {
        self.webauthn.as_ref().map_err(String::as_str)
    }

    pub fn is_available(&self) -> bool {
        self.webauthn.is_ok()
    }
}

fn build(public_url: &str) -> Result<Webauthn, String> {
    let origin = Url::parse(public_url).map_err(|e| format!("public_url is not a URL: {e}"))?;
    let host = match origin.host() {
        Some(url::Host::Domain(name)) => name.to_string(),
        Some(_) => {
            return Err(format!(
                "Passkeys need the app to be reached by a name, not an IP address: set \
                 public_url to a name (for local use http://localhost:{}).",
                origin.port_or_known_default().unwrap_or(8000)
            ))
        }
        None => return Err("public_url has no host".to_string()),
    };
    WebauthnBuilder::new(&host, &origin)
        .and_then(|builder| {
            builder
                .rp_name(RP_NAME)
                .timeout(std::time::Duration::from_secs(
                    crate::auth::passkey_ceremony::CEREMONY_SECONDS as u64,
                ))
                .build()
        })
        .map_err(|e| format!("public_url cannot be a relying party: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_makes_a_relying_party_and_an_ip_address_does_not() {
        assert!(RelyingParty::from_public_url("http://localhost:8000").is_available());
        assert!(RelyingParty::from_public_url("https://hr.example.com").is_available());
        let by_address = RelyingParty::from_public_url("http://127.0.0.1:8000");
        let why = by_address.webauthn().unwrap_err();
        assert!(why.contains("http://localhost:8000"), "{why}");
        assert!(!RelyingParty::from_public_url("http://[::1]:8000").is_available());
    }
}
