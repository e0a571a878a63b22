//! A real OpenID Provider for the single sign-on tests: panva's `oidc-provider` (OpenID
//! Certified) from npm, run by Node with `tests/tools-src/oidc/provider.mjs`.
//!
//! `.ci/run` installs the package into the git-ignored `tests/tools` (like axe-core). Without
//! Node or the package the tests that need the provider say why once and do nothing; under
//! `CI=true` they fail instead.
//!
//! The provider has one client (the portal), a list of accounts, its development login screen
//! (any password; the login name is the account's `sub`) and consent screen, PKCE (S256)
//! required, back-channel and RP-initiated logout on, and ID tokens signed with RS256. A few
//! test-only hooks on the same port mint logout tokens and rotate the signing key.
//!
//! Everything here is blocking (std `TcpStream`). In a `rocket::async_test` that is fine: the
//! test body runs on its own thread and an app launched with `tokio::spawn` on the runtime's
//! worker, so it still answers the provider's back-channel call while the test waits.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tempfile::TempDir;
use url::Url;

use crate::helpers::say_once_uncaptured;
use crate::mail_support::free_port;

/// The portal as a client registered at the provider.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Where the provider POSTs logout tokens; registered with `backchannel_logout_session_required`.
    pub backchannel_logout_uri: Option<String>,
    /// Any further client metadata (RFC 7591 names), merged into the registration.
    pub extra: serde_json::Map<String, Value>,
}

impl ClientConfig {
    /// The portal served at `public_url` (e.g. `http://127.0.0.1:8123`): its callback,
    /// its login page after sign-out, and its back-channel logout endpoint.
    #[allow(dead_code)] // for the SSO tests
    pub fn for_portal(public_url: &str) -> ClientConfig {
        let base = public_url.trim_end_matches('/');
        ClientConfig {
            client_id: "hr-portal".to_string(),
            client_secret: "a-client-secret-only-the-tests-know-0123456789".to_string(),
            redirect_uris: vec![format!("{base}/login/sso/callback")],
            post_logout_redirect_uris: vec![format!("{base}/login")],
            backchannel_logout_uri: Some(format!("{base}/login/sso/backchannel-logout")),
            extra: serde_json::Map::new(),
        }
    }

    fn to_json(&self) -> Value {
        let mut client = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": self.redirect_uris,
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
            "backchannel_logout_session_required": true,
        });
        let object = client.as_object_mut().expect("an object");
        if let Some(uri) = &self.backchannel_logout_uri {
            object.insert("backchannel_logout_uri".into(), json!(uri));
        }
        object.extend(self.extra.clone());
        client
    }
}

/// A person known to the provider. At its login screen the test types `sub`.
#[derive(Debug, Clone)]
pub struct Account {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
}

impl Account {
    /// An account whose e-mail address the provider vouches for.
    pub fn new(sub: &str, email: &str) -> Account {
        Account {
            sub: sub.to_string(),
            email: email.to_string(),
            email_verified: true,
        }
    }
}

/// A running `oidc-provider` on `127.0.0.1:port`; killed when dropped.
pub struct OidcProvider {
    /// `http://127.0.0.1:PORT`, exactly as in its discovery document and tokens.
    pub issuer: String,
    pub port: u16,
    pub client: ClientConfig,
    pub accounts: Vec<Account>,
    child: Option<Child>,
    /// The configuration handed to provider.mjs, kept to start it again on the same port.
    config: Value,
    /// Holds the signing keys (so a restart keeps them) and the process's output.
    dir: TempDir,
    /// One cookie jar (one "browser" at the provider) per person signed in, the latest last.
    browsers: Mutex<Vec<(String, CookieJar)>>,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools-src/oidc/provider.mjs")
}

/// Node's major version, if `node` runs.
fn node_major() -> Option<u32> {
    let output = Command::new("node").arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout);
    version
        .trim()
        .strip_prefix('v')?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// Whether the provider can run here; says once why not. Under `CI=true` its absence is a
/// failure, never a skip.
pub fn oidc_provider_available() -> bool {
    let reason = match node_major() {
        None => {
            Some("the OpenID Connect tests need Node.js (`node`; .ci/run installs it)".to_string())
        }
        Some(major) if major < 18 => Some(format!(
            "the OpenID Connect tests need Node.js 18 or newer for oidc-provider 8, found {major}"
        )),
        Some(_)
            if !tools_dir()
                .join("node_modules/oidc-provider/package.json")
                .is_file() =>
        {
            Some(format!(
                "the OpenID Connect tests need oidc-provider in {} \
             (npm install --prefix tests/tools oidc-provider@8; .ci/run does)",
                tools_dir().display()
            ))
        }
        Some(_) => None,
    };
    match reason {
        None => true,
        Some(reason) if under_ci() => panic!("CI=true and {reason}"),
        Some(reason) => {
            say_once_uncaptured(&format!("skipped: {reason}"));
            false
        }
    }
}

impl OidcProvider {
    /// Starts a provider on a free loopback port with this client and these people, and waits
    /// until it listens. `None` (after saying why) when Node or the npm package is missing;
    /// under `CI=true` that is a failure instead.
    pub fn start(client: ClientConfig, accounts: &[Account]) -> Option<OidcProvider> {
        if !oidc_provider_available() {
            return None;
        }
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().expect("a directory for the provider");
        let config = json!({
            "port": port,
            "issuer": issuer,
            "tools_dir": tools_dir(),
            "keys_file": dir.path().join("keys.json"),
            "client": client.to_json(),
            "accounts": accounts_json(accounts),
        });
        let mut provider = OidcProvider {
            issuer,
            port,
            client,
            accounts: accounts.to_vec(),
            child: None,
            config,
            dir,
            browsers: Mutex::new(Vec::new()),
        };
        provider.start_again();
        Some(provider)
    }

    /// Starts the stopped provider again on the same port, with the same client, people and
    /// signing keys. Its sessions, grants and codes are gone (they lived in its memory), as are
    /// the provider cookies kept by [`Self::sign_in_at_provider`].
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the provider is already running");
        self.browsers.lock().expect("cookie jars").clear();
        let log_path = self.log_path();
        let log = File::create(&log_path).expect("the provider's log");
        let child = Command::new("node")
            .arg(script())
            .arg(self.config.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the provider's log"))
            .stderr(log)
            .spawn()
            .expect("node runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.log().lines().any(|line| line.starts_with("READY ")) {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!("the OpenID Provider exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID Provider did not start on {} in 30 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the provider (its port then refuses connections: "the provider is down").
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("provider.log")
    }

    /// Everything the provider printed so far (its warnings, and errors such as a failed
    /// back-channel call): worth showing when a test fails.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// An absolute URL at the provider for `path` (`/jwks`, `/session/end`, …).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    fn get_json(&self, path: &str) -> Value {
        let response = exchange("GET", &self.url(path), &[], b"")
            .unwrap_or_else(|e| panic!("GET {path} at the provider: {e}"));
        assert_eq!(response.status, 200, "GET {path}: {}", response.body);
        serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {}", response.body))
    }

    /// Replaces the people the provider knows (say, with an e-mail address changed at the
    /// provider); sessions already open at the provider stay as they are. Kept across
    /// [`Self::start_again`].
    pub fn set_accounts(&mut self, accounts: &[Account]) {
        let list = accounts_json(accounts);
        let response = exchange(
            "POST",
            &self.url("/test/accounts"),
            &[("Content-Type", "application/json")],
            list.to_string().as_bytes(),
        )
        .unwrap_or_else(|e| panic!("set the provider's accounts: {e}"));
        assert_eq!(response.status, 200, "set accounts: {}", response.body);
        self.config["accounts"] = list;
        self.accounts = accounts.to_vec();
    }

    /// Registers the client anew (say, once the portal's port is known, when the portal must
    /// start after the provider to read its discovery document). Kept across
    /// [`Self::start_again`].
    pub fn set_client(&mut self, client: ClientConfig) {
        let registration = client.to_json();
        let response = exchange(
            "POST",
            &self.url("/test/client"),
            &[("Content-Type", "application/json")],
            registration.to_string().as_bytes(),
        )
        .unwrap_or_else(|e| panic!("register the client at the provider: {e}"));
        assert_eq!(response.status, 200, "set client: {}", response.body);
        self.config["client"] = registration;
        self.client = client;
    }

    /// The discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> Value {
        self.get_json("/.well-known/openid-configuration")
    }

    /// The public keys the provider publishes now (`jwks_uri`).
    pub fn jwks(&self) -> Value {
        self.get_json("/jwks")
    }

    /// Replaces the signing key with a new one under a new `kid` (the only key from now on, so
    /// the relying party must fetch the JWKS again to verify anything new); returns that kid.
    pub fn rotate_keys(&self) -> String {
        let response = exchange("POST", &self.url("/test/rotate-keys"), &[], b"")
            .unwrap_or_else(|e| panic!("rotate the provider's keys: {e}"));
        assert_eq!(response.status, 200, "rotate keys: {}", response.body);
        response.body
    }

    /// A signed logout token (a JWT with `typ: logout+jwt`). Every claim defaults to a valid
    /// back-channel logout token for the configured client (`iss`, `aud`, `iat`, `exp`, a fresh
    /// `jti`, the back-channel `events` claim); `claims` adds to or overrides them — give at
    /// least `sub` and/or `sid`. A claim set to `null` is left out. Not claims but controls:
    /// `"sign_with": "stranger"` signs with a key the provider never published (under the
    /// provider's current `kid`, so only the signature is wrong), `"kid"` and `"typ"` set
    /// those header fields (`null` leaves them out).
    pub fn logout_token(&self, claims: Value) -> String {
        let response = exchange(
            "POST",
            &self.url("/test/logout-token"),
            &[("Content-Type", "application/json")],
            claims.to_string().as_bytes(),
        )
        .unwrap_or_else(|e| panic!("mint a logout token: {e}"));
        assert_eq!(response.status, 200, "logout token: {}", response.body);
        response.body
    }

    /// What each back-channel logout call the provider made answered, oldest first:
    /// `{ok, client_id, sub, sid, error?}`.
    pub fn backchannel_log(&self) -> Vec<Value> {
        match self.get_json("/test/backchannel-log") {
            Value::Array(entries) => entries,
            other => panic!("back-channel log: {other}"),
        }
    }

    /// Signs `sub` in at the provider as a browser would: follows `authorize_url` (where the
    /// portal's `/login/sso` redirected to), types `sub` at the development login (any
    /// password), consents, and returns the absolute URL the provider finally redirects to —
    /// the portal's `/login/sso/callback?code=…&state=…&iss=…` (or `?error=…`).
    ///
    /// Each person has their own provider cookies, kept for later sign-ins (then the provider
    /// may skip its login and consent, as a real one does) and for the sign-out helpers.
    pub fn sign_in_at_provider(&self, authorize_url: &str, sub: &str) -> String {
        // The development login takes any name, and the provider then fails with a bare 500
        // for a name findAccount does not know: say what is wrong instead.
        assert!(
            self.accounts.iter().any(|a| a.sub == sub),
            "{sub:?} is not among the accounts the provider was started with: {:?}",
            self.accounts
        );
        let mut jar = self.take_jar(sub);
        let location = self.browse(&mut jar, "GET", authorize_url, "", Some(sub));
        self.keep_jar(sub, jar);
        location
    }

    /// Provider-initiated sign-out of the person signed in last: the provider's own
    /// end-session page and its "Yes, sign me out" confirmation, which makes the provider POST
    /// a logout token to the client's back-channel URI before it answers. Returns the URL the
    /// flow ended at (the provider's sign-out success page).
    pub fn sign_out_at_provider(&self) -> String {
        let sub = self.last_signed_in();
        self.sign_out_person_at_provider(&sub)
    }

    /// [`Self::sign_out_at_provider`] for the provider session of `sub`.
    pub fn sign_out_person_at_provider(&self, sub: &str) -> String {
        let end_session = self.url("/session/end");
        self.follow_logout_at_provider_as(sub, &end_session)
    }

    /// RP-initiated logout of the person signed in last: follows `end_session_url` (where the
    /// portal's sign-out redirected to: `end_session_endpoint?id_token_hint=…&
    /// post_logout_redirect_uri=…`), confirms, and returns where the provider sends the browser
    /// at the end (the `post_logout_redirect_uri`, when the portal sent a registered one).
    pub fn follow_logout_at_provider(&self, end_session_url: &str) -> String {
        let sub = self.last_signed_in();
        self.follow_logout_at_provider_as(&sub, end_session_url)
    }

    fn follow_logout_at_provider_as(&self, sub: &str, end_session_url: &str) -> String {
        let mut jar = self.take_jar(sub);
        let location = self.browse(&mut jar, "GET", end_session_url, "", None);
        self.keep_jar(sub, jar);
        location
    }

    fn last_signed_in(&self) -> String {
        let browsers = self.browsers.lock().expect("cookie jars");
        let (sub, _) = browsers
            .last()
            .expect("nobody signed in at the provider yet (sign_in_at_provider)");
        sub.clone()
    }

    fn take_jar(&self, sub: &str) -> CookieJar {
        let mut browsers = self.browsers.lock().expect("cookie jars");
        match browsers.iter().position(|(who, _)| who == sub) {
            Some(index) => browsers.remove(index).1,
            None => CookieJar::default(),
        }
    }

    fn keep_jar(&self, sub: &str, jar: CookieJar) {
        self.browsers
            .lock()
            .expect("cookie jars")
            .push((sub.to_string(), jar));
    }

    /// Follows redirects and fills in the provider's pages (login, consent, logout
    /// confirmation, self-submitting forms) until a redirect leaves the provider (returned) or
    /// a page without a form is reached (its URL is returned).
    fn browse(
        &self,
        jar: &mut CookieJar,
        method: &str,
        url: &str,
        body: &str,
        login: Option<&str>,
    ) -> String {
        let (mut method, mut url, mut body) =
            (method.to_string(), url.to_string(), body.to_string());
        let mut logins = 0;
        for _ in 0..20 {
            if !url.starts_with(&format!("{}/", self.issuer)) {
                return url;
            }
            let cookies = jar.header();
            let mut headers = vec![("Cookie", cookies.as_str())];
            if method == "POST" {
                headers.push(("Content-Type", "application/x-www-form-urlencoded"));
            }
            let response = exchange(&method, &url, &headers, body.as_bytes())
                .unwrap_or_else(|e| panic!("{method} {url} at the provider: {e}"));
            jar.store(&response);
            if (300..400).contains(&response.status) {
                let location = response
                    .header("location")
                    .unwrap_or_else(|| panic!("{method} {url}: redirect without a location"));
                url = Url::parse(&url)
                    .and_then(|base| base.join(location))
                    .expect("a redirect URL")
                    .to_string();
                (method, body) = ("GET".to_string(), String::new());
                continue;
            }
            assert_eq!(
                response.status,
                200,
                "{method} {url} at the provider:\n{}\n{}",
                response.body,
                self.log()
            );
            let Some(form) = Form::first_in(&response.body) else {
                return url;
            };
            let mut fields = form.hidden;
            match fields
                .iter()
                .find(|(k, _)| k == "prompt")
                .map(|(_, v)| v.as_str())
            {
                Some("login") => {
                    logins += 1;
                    let sub = login.expect("the provider asks for a login in a sign-out flow");
                    assert!(
                        logins == 1,
                        "the provider asked for a login again: it does not know {sub:?} \
                         (not among the accounts it was started with?)\n{}",
                        self.log()
                    );
                    fields.push(("login".into(), sub.into()));
                    fields.push(("password".into(), "any password will do".into()));
                }
                Some("consent") => {}
                _ if form.id.as_deref() == Some("op.logoutForm") => {
                    fields.push(("logout".into(), "yes".into()));
                }
                // A self-submitting form (e.g. the end-session confirmation when the session
                // has no account): posted as it is.
                _ => {}
            }
            url = Url::parse(&url)
                .and_then(|base| base.join(&form.action))
                .expect("a form action")
                .to_string();
            method = "POST".to_string();
            body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish();
        }
        panic!("the provider's pages went on for 20 steps (last at {url})");
    }
}

fn accounts_json(accounts: &[Account]) -> Value {
    accounts
        .iter()
        .map(|a| json!({"sub": a.sub, "email": a.email, "email_verified": a.email_verified}))
        .collect()
}

/// The claims of a JWT (its payload), unverified: for checking what a token says.
pub fn jwt_claims(jwt: &str) -> Value {
    jwt_part(jwt, 1)
}

/// The protected header of a JWT (`alg`, `kid`, `typ`), unverified.
pub fn jwt_header(jwt: &str) -> Value {
    jwt_part(jwt, 0)
}

fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {jwt}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {jwt}"))
}

/// The first `<form>` of a page: its action, id and hidden inputs. The provider's pages are
/// its own fixed templates, so a small attribute scan reads them reliably.
struct Form {
    action: String,
    id: Option<String>,
    hidden: Vec<(String, String)>,
}

impl Form {
    fn first_in(html: &str) -> Option<Form> {
        let start = html.find("<form")?;
        let rest = &html[start..];
        let tag_end = rest.find('>')?;
        let tag = &rest[..tag_end];
        let body = &rest[tag_end..rest.find("</form>").unwrap_or(rest.len())];
        let hidden = body
            .split("<input")
            .skip(1)
            .filter_map(|input| {
                let input = &input[..input.find('>').unwrap_or(input.len())];
                (attribute(input, "type").as_deref() == Some("hidden"))
                    .then(|| Some((attribute(input, "name")?, attribute(input, "value")?)))
                    .flatten()
            })
            .collect();
        Some(Form {
            action: attribute(tag, "action")?,
            id: attribute(tag, "id"),
            hidden,
        })
    }
}

/// The value of `name="…"` in a tag's text, HTML entities undone.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The provider's cookies of one browser. All of them go with every request: oidc-provider
/// scopes its interaction cookies by path, but their names differ, and a flow only ever needs
/// the latest of each.
#[derive(Debug, Default)]
struct CookieJar(Vec<(String, String)>);

impl CookieJar {
    fn store(&mut self, response: &Response) {
        for set_cookie in response.headers_named("set-cookie") {
            let Some((name, value)) = set_cookie.split(';').next().and_then(|p| p.split_once('='))
            else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            self.0.retain(|(n, _)| *n != name);
            // Koa deletes a cookie by setting it empty, expiring in 1970.
            let expired = set_cookie
                .to_ascii_lowercase()
                .contains("expires=thu, 01 jan 1970");
            if !value.is_empty() && !expired {
                self.0.push((name, value));
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// An HTTP response, headers with lower-case names.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn headers_named<'r>(&'r self, name: &'r str) -> impl Iterator<Item = &'r str> + 'r {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 exchange over a fresh connection (`Connection: close`), plain HTTP only; a
/// chunked body is put back together. `Err` when nothing listens (the provider is down).
pub fn exchange(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let parsed = Url::parse(url).map_err(|e| invalid(format!("{url}: {e}")))?;
    if parsed.scheme() != "http" {
        return Err(invalid(format!("{url}: plain http only")));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid(format!("{url}: no host")))?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut target = parsed.path().to_string();
    if let Some(query) = parsed.query() {
        target = format!("{target}?{query}");
    }
    let mut stream = TcpStream::connect((host, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n");
    if method != "GET" || !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{method} {url}: not an HTTP response"),
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    //! The harness proves itself before the portal relies on it.

    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use sha2::Digest;

    use super::*;

    const CALLBACK: &str = "http://127.0.0.1:1/login/sso/callback";

    fn client(backchannel_port: u16) -> ClientConfig {
        ClientConfig {
            client_id: "hr-portal".into(),
            client_secret: SECRET.into(),
            redirect_uris: vec![CALLBACK.into()],
            post_logout_redirect_uris: vec!["http://127.0.0.1:1/login".into()],
            backchannel_logout_uri: Some(format!(
                "http://127.0.0.1:{backchannel_port}/login/sso/backchannel-logout"
            )),
            extra: serde_json::Map::new(),
        }
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn query_param(url: &str, name: &str) -> Option<String> {
        Url::parse(url)
            .ok()?
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A relying party's back-channel endpoint on loopback: answers each POST with 200 and
    /// hands over its body.
    fn backchannel_endpoint() -> (u16, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                if sender
                    .send(String::from_utf8_lossy(&body).into_owned())
                    .is_err()
                {
                    return;
                }
            }
        });
        (port, receiver)
    }

    const SECRET: &str = "the-test-client-secret-which-is-long-enough";

    /// What a relying party keeps between its redirect to the provider and the callback.
    struct Authorization {
        url: String,
        verifier: String,
        state: String,
        nonce: String,
    }

    /// An authorization request as the portal's `/login/sso` will build it: code flow, PKCE
    /// S256, state and nonce, `openid email`.
    fn authorization(provider: &OidcProvider) -> Authorization {
        let verifier = b64(&rand::random::<[u8; 32]>());
        let challenge = b64(&sha2::Sha256::digest(verifier.as_bytes()));
        let state = b64(&rand::random::<[u8; 16]>());
        let nonce = b64(&rand::random::<[u8; 16]>());
        let endpoint = provider.discovery()["authorization_endpoint"].clone();
        let mut url = Url::parse(endpoint.as_str().expect("an authorization endpoint"))
            .expect("an authorization URL");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "hr-portal")
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("scope", "openid email")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Authorization {
            url: url.into(),
            verifier,
            state,
            nonce,
        }
    }

    /// Redeems `code` at the token endpoint (client_secret_basic) with this PKCE verifier.
    fn redeem(provider: &OidcProvider, code: &str, verifier: &str) -> Response {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("hr-portal:{SECRET}"));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("code_verifier", verifier)
            .finish();
        let endpoint = provider.discovery()["token_endpoint"].clone();
        exchange(
            "POST",
            endpoint.as_str().expect("a token endpoint"),
            &[
                ("Authorization", &format!("Basic {basic}")),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
        .expect("the token endpoint answers")
    }

    /// Signs `sub` in through the whole code flow; returns the ID token.
    fn signed_in(provider: &OidcProvider, sub: &str) -> String {
        let request = authorization(provider);
        let location = provider.sign_in_at_provider(&request.url, sub);
        assert_eq!(query_param(&location, "state"), Some(request.state));
        let code = query_param(&location, "code").expect("a code in the callback");
        let tokens = redeem(provider, &code, &request.verifier);
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        let tokens: Value = serde_json::from_str(&tokens.body).expect("JSON tokens");
        tokens["id_token"]
            .as_str()
            .expect("an id_token")
            .to_string()
    }

    /// The `logout_token` field of a back-channel POST's form body.
    fn logout_token_in(posted: &str) -> String {
        url::form_urlencoded::parse(posted.as_bytes())
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no logout_token field in {posted:?}"))
    }

    #[test]
    fn signs_in_with_pkce_and_issues_an_id_token() {
        let Some(mut provider) =
            OidcProvider::start(client(1), &[Account::new("ada-sub", "ada@example.com")])
        else {
            return;
        };

        let discovery = provider.discovery();
        assert_eq!(discovery["issuer"], json!(provider.issuer));
        assert!(
            discovery["code_challenge_methods_supported"]
                .as_array()
                .is_some_and(|methods| methods.contains(&json!("S256"))),
            "{discovery}"
        );
        assert_eq!(discovery["backchannel_logout_supported"], json!(true));
        assert_eq!(
            discovery["backchannel_logout_session_supported"],
            json!(true)
        );

        let request = authorization(&provider);
        // Its pages load nothing from off the machine (its built-in ones import a web font),
        // so a browser test at the provider sends no traffic beyond loopback.
        let mut jar = CookieJar::default();
        let redirect = exchange("GET", &request.url, &[], b"").expect("the provider answers");
        jar.store(&redirect);
        let login_page = exchange(
            "GET",
            &provider.url(redirect.header("location").expect("to the login page")),
            &[("Cookie", &jar.header())],
            b"",
        )
        .expect("the login page");
        assert!(
            login_page.body.contains("name=\"login\""),
            "{}",
            login_page.body
        );
        assert!(!login_page.body.contains("https://"), "{}", login_page.body);

        let location = provider.sign_in_at_provider(&request.url, "ada-sub");
        assert!(location.starts_with(CALLBACK), "{location}");
        assert_eq!(query_param(&location, "state"), Some(request.state.clone()));
        let code = query_param(&location, "code").expect("a code in the callback");

        // The code is worth an ID token only with the right PKCE verifier.
        let wrong = redeem(&provider, &code, &b64(&rand::random::<[u8; 32]>()));
        assert_eq!(wrong.status, 400, "{}", wrong.body);
        let tokens = redeem(&provider, &code, &request.verifier);
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        let tokens: Value = serde_json::from_str(&tokens.body).expect("JSON tokens");
        let id_token = tokens["id_token"].as_str().expect("an id_token");

        let header = jwt_header(id_token);
        assert_eq!(header["alg"], json!("RS256"));
        let published = provider.jwks();
        assert_eq!(published["keys"][0]["kid"], header["kid"], "{published}");
        let claims = jwt_claims(id_token);
        assert_eq!(claims["iss"], json!(provider.issuer));
        assert_eq!(claims["aud"], json!("hr-portal"));
        assert_eq!(claims["sub"], json!("ada-sub"));
        assert_eq!(claims["nonce"], json!(request.nonce));
        assert_eq!(claims["email"], json!("ada@example.com"));
        assert_eq!(claims["email_verified"], json!(true));
        assert!(claims["sid"].is_string(), "{claims}");

        // Signed in at the provider already: the next sign-in goes straight back with a code.
        let again = authorization(&provider);
        let location = provider.sign_in_at_provider(&again.url, "ada-sub");
        assert_eq!(query_param(&location, "state"), Some(again.state));
        assert!(query_param(&location, "code").is_some(), "{location}");

        // An e-mail address changed at the provider shows in the next ID token.
        provider.set_accounts(&[Account::new("ada-sub", "ada.lovelace@example.com")]);
        let changed = jwt_claims(&signed_in(&provider, "ada-sub"));
        assert_eq!(changed["email"], json!("ada.lovelace@example.com"));

        // After a key rotation the provider session goes on, and new ID tokens carry the new kid.
        let kid = provider.rotate_keys();
        let rotated = signed_in(&provider, "ada-sub");
        assert_eq!(jwt_header(&rotated)["kid"], json!(kid));
    }

    #[test]
    fn signing_out_at_the_provider_or_through_the_portal_calls_the_back_channel() {
        let Some(mut provider) =
            OidcProvider::start(client(1), &[Account::new("ada-sub", "ada@example.com")])
        else {
            return;
        };
        // The relying party's port known only now, as with a portal started after the provider.
        let (rp_port, logout_posts) = backchannel_endpoint();
        provider.set_client(client(rp_port));
        let next_logout_token = || {
            let posted = logout_posts
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no back-channel logout arrived:\n{}", provider.log()));
            logout_token_in(&posted)
        };

        // Provider-initiated: the provider POSTs a logout token to the loopback RP before its
        // confirmation page answers.
        let sid = jwt_claims(&signed_in(&provider, "ada-sub"))["sid"].clone();
        let ended_at = provider.sign_out_at_provider();
        assert!(
            ended_at.starts_with(&provider.url("/session/end")),
            "{ended_at}"
        );
        // The provider's own account of the call first: it says why when the call failed.
        let log = provider.backchannel_log();
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0]["ok"], json!(true), "{log:?}\n{}", provider.log());
        assert_eq!(log[0]["sid"], sid, "{log:?}");
        let logout_token = next_logout_token();
        assert_eq!(jwt_header(&logout_token)["typ"], json!("logout+jwt"));
        let logout = jwt_claims(&logout_token);
        assert_eq!(logout["iss"], json!(provider.issuer));
        assert_eq!(logout["aud"], json!("hr-portal"));
        assert_eq!(logout["sub"], json!("ada-sub"));
        assert_eq!(logout["sid"], sid);
        assert!(logout["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
        assert!(logout.get("nonce").is_none(), "{logout}");

        // RP-initiated: the portal sends the browser to end_session_endpoint with the ID token
        // as a hint; the provider confirms, tells the back channel, and sends the browser back.
        let id_token = signed_in(&provider, "ada-sub");
        let mut end_session = Url::parse(
            provider.discovery()["end_session_endpoint"]
                .as_str()
                .expect("an end_session_endpoint"),
        )
        .expect("an end-session URL");
        end_session
            .query_pairs_mut()
            .append_pair("id_token_hint", &id_token)
            .append_pair("post_logout_redirect_uri", "http://127.0.0.1:1/login")
            .append_pair("state", "after-logout");
        let back = provider.follow_logout_at_provider(end_session.as_str());
        assert!(back.starts_with("http://127.0.0.1:1/login"), "{back}");
        assert_eq!(query_param(&back, "state").as_deref(), Some("after-logout"));
        assert_eq!(
            jwt_claims(&next_logout_token())["sid"],
            jwt_claims(&id_token)["sid"]
        );
    }

    #[test]
    fn mints_logout_tokens_rotates_keys_and_starts_again_on_the_same_port() {
        let Some(mut provider) = OidcProvider::start(client(1), &[]) else {
            return;
        };
        assert_eq!(provider.client.client_id, "hr-portal");

        let token = provider.logout_token(json!({"sub": "ada-sub", "sid": "s-1"}));
        let header = jwt_header(&token);
        assert_eq!(header["typ"], json!("logout+jwt"));
        let first_kid = provider.jwks()["keys"][0]["kid"].clone();
        assert_eq!(header["kid"], first_kid);
        let claims = jwt_claims(&token);
        assert_eq!(claims["iss"], json!(provider.issuer));
        assert_eq!(claims["aud"], json!("hr-portal"));
        assert_eq!(claims["sub"], json!("ada-sub"));
        assert_eq!(claims["sid"], json!("s-1"));
        assert!(claims["jti"].is_string() && claims["iat"].is_number());
        assert!(claims.get("nonce").is_none());

        let odd = provider.logout_token(json!({
            "sub": "ada-sub", "nonce": "n", "aud": "someone-else", "events": null,
            "sign_with": "stranger",
        }));
        let odd_claims = jwt_claims(&odd);
        assert_eq!(odd_claims["nonce"], json!("n"));
        assert_eq!(odd_claims["aud"], json!("someone-else"));
        assert!(odd_claims.get("events").is_none(), "{odd_claims}");
        assert!(odd_claims.get("sign_with").is_none(), "{odd_claims}");
        assert_eq!(
            jwt_header(&odd)["kid"],
            first_kid,
            "a stranger signs under the real kid"
        );
        let signature = |jwt: &str| jwt.rsplit('.').next().unwrap_or_default().to_string();
        let same_by_stranger = provider.logout_token(json!({
            "sub": "ada-sub", "sid": "s-1", "jti": "j", "iat": 1, "exp": 2, "sign_with": "stranger",
        }));
        let same_by_provider = provider.logout_token(json!({
            "sub": "ada-sub", "sid": "s-1", "jti": "j", "iat": 1, "exp": 2,
        }));
        assert_ne!(signature(&same_by_stranger), signature(&same_by_provider));

        let new_kid = provider.rotate_keys();
        let keys = provider.jwks()["keys"].clone();
        assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
        assert_eq!(keys[0]["kid"], json!(new_kid));
        assert_ne!(json!(new_kid), first_kid);
        assert_eq!(
            jwt_header(&provider.logout_token(json!({"sub": "ada-sub"})))["kid"],
            json!(new_kid)
        );

        provider.stop();
        assert!(
            exchange("GET", &provider.url("/jwks"), &[], b"").is_err(),
            "a stopped provider refuses connections"
        );
        provider.start_again();
        assert_eq!(
            provider.jwks()["keys"][0]["kid"],
            json!(new_kid),
            "the keys outlive a restart"
        );
    }
}
