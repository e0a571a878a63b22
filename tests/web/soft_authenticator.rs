//! A software passkey for the ceremony tests: a P-256 key pair that answers the server's WebAuthn
//! options the way a browser and a platform authenticator would (attestation "none", user
//! present and verified, a discoverable credential that returns its user handle). Each field a
//! test may want to get wrong — the origin, the relying party, the counter — is a plain field.

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;

pub struct SoftAuthenticator {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the server gave at registration (kept, as a resident key keeps it).
    pub user_handle: Option<Vec<u8>>,
    /// The signature counter: raised before every answer, unless a test sets it back.
    pub counter: u32,
    /// The page's origin the browser reports (a phishing page's would differ).
    pub origin: String,
    /// The relying-party id whose hash the authenticator signs.
    pub rp_id: String,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url from the server")
}

/// Minimal CBOR: what a COSE key and an attestation object need.
mod cbor {
    fn head(major: u8, len: usize, out: &mut Vec<u8>) {
        let major = major << 5;
        match len {
            0..=23 => out.push(major | len as u8),
            24..=255 => out.extend([major | 24, len as u8]),
            _ => {
                out.push(major | 25);
                out.extend((len as u16).to_be_bytes());
            }
        }
    }

    pub fn map(entries: usize, out: &mut Vec<u8>) {
        head(5, entries, out);
    }

    pub fn int(value: i64, out: &mut Vec<u8>) {
        match value {
            0.. => head(0, value.unsigned_abs() as usize, out),
            _ => head(1, (-1 - value).unsigned_abs() as usize, out),
        }
    }

    pub fn bytes(value: &[u8], out: &mut Vec<u8>) {
        head(2, value.len(), out);
        out.extend_from_slice(value);
    }

    pub fn text(value: &str, out: &mut Vec<u8>) {
        head(3, value.len(), out);
        out.extend_from_slice(value.as_bytes());
    }
}

impl SoftAuthenticator {
    /// A new authenticator for the test app's relying party (`public_url` http://localhost:8000).
    pub fn new() -> SoftAuthenticator {
        let key = loop {
            let secret: [u8; 32] = rand::random();
            if let Ok(key) = SigningKey::from_slice(&secret) {
                break key;
            }
        };
        SoftAuthenticator {
            key,
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: None,
            counter: 0,
            origin: "http://localhost:8000".to_string(),
            rp_id: "localhost".to_string(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("a challenge");
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn authenticator_data(&mut self, flags: u8) -> Vec<u8> {
        self.counter += 1;
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_sec1_point(false);
        let mut out = Vec::new();
        cbor::map(5, &mut out);
        cbor::int(1, &mut out); // kty: EC2
        cbor::int(2, &mut out);
        cbor::int(3, &mut out); // alg: ES256
        cbor::int(-7, &mut out);
        cbor::int(-1, &mut out); // crv: P-256
        cbor::int(1, &mut out);
        cbor::int(-2, &mut out);
        cbor::bytes(point.x().expect("x").as_slice(), &mut out);
        cbor::int(-3, &mut out);
        cbor::bytes(point.y().expect("y").as_slice(), &mut out);
        out
    }

    /// Answers the options of `POST /account/passkeys/challenge`: the credential JSON to post.
    pub fn register(&mut self, options: &Value) -> String {
        let user_id = options["publicKey"]["user"]["id"]
            .as_str()
            .expect("user id");
        self.user_handle = Some(unb64(user_id));
        let client_data = self.client_data("webauthn.create", options);
        let mut auth_data =
            self.authenticator_data(USER_PRESENT | USER_VERIFIED | ATTESTED_CREDENTIAL);
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        let mut attestation = Vec::new();
        cbor::map(3, &mut attestation);
        cbor::text("fmt", &mut attestation);
        cbor::text("none", &mut attestation);
        cbor::text("attStmt", &mut attestation);
        cbor::map(0, &mut attestation);
        cbor::text("authData", &mut attestation);
        cbor::bytes(&auth_data, &mut attestation);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
            },
            "extensions": { "credProps": { "rk": true } },
        })
        .to_string()
    }

    /// Answers the options of `POST /login/passkey/challenge`: the credential JSON to post.
    pub fn sign_in(&mut self, options: &Value) -> String {
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.authenticator_data(USER_PRESENT | USER_VERIFIED);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        let user_handle = self.user_handle.as_deref().map(b64);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": user_handle,
            },
            "extensions": {},
        })
        .to_string()
    }
}
