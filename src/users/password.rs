//! argon2id hashing and verification, kept off the async workers and bounded in concurrency.
//!
//! Each argon2id computation takes ~19 MiB and ~20 ms of a core. Running it on Rocket's async
//! workers would stall every page; running unboundedly many would let a login flood exhaust memory
//! and starve page requests of CPU. So hashing runs on a small set of dedicated threads (by default
//! half the cores, at least one, so pages always keep a core during a login storm), a semaphore
//! admits one job per thread, and a login that cannot get a slot within a bounded wait is shed
//! with 503. Dedicated threads (rather than tokio's growing blocking pool) also bound how many
//! malloc arenas ever hold a 19 MiB block, which keeps resident memory flat under load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rocket::tokio::sync::{oneshot, Semaphore};

use crate::secret::Secret;

/// Shortest and longest accepted passwords, in Unicode scalar values (never trimmed).
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("no hashing slot became free in time")]
    Busy,
    #[error("the hashing thread stopped")]
    WorkerGone,
    #[error("argon2: {0}")]
    Argon(String),
}

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash used weaker or different parameters than today's; re-hash it.
    pub needs_rehash: bool,
}

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("The password must be at least {MIN_PASSWORD_CHARS} characters long.")]
    TooShort,
    #[error("The password must be at most {MAX_PASSWORD_CHARS} characters long.")]
    TooLong,
    #[error("That password is one of the most commonly used ones; please choose another.")]
    TooCommon,
    #[error("The password must not be your e-mail address.")]
    SameAsEmail,
    #[error("The two passwords do not match.")]
    Mismatch,
}

/// A password as typed: never trimmed, and its `Debug` never shows it, so a form or command
/// that holds one can derive `Debug` without putting the password in a log line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Password(Secret<String>);

impl Password {
    pub fn new(password: String) -> Password {
        Password(Secret::new(password))
    }

    /// The characters themselves, for hashing and checking only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// Longer than any password we store: refused without spending a hash on it.
    pub fn is_over_limit(&self) -> bool {
        self.expose().chars().count() > MAX_PASSWORD_CHARS
    }
}

/// Checks a password someone wants to set (not one they sign in with).
pub fn check_new_password(
    password: &Password,
    confirmation: &Password,
    email: &str,
) -> Result<(), PasswordPolicyError> {
    let (password, confirmation) = (password.expose(), confirmation.expose());
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooLong);
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err(PasswordPolicyError::TooCommon);
    }
    if !email.is_empty() && lowered == email.to_lowercase() {
        return Err(PasswordPolicyError::SameAsEmail);
    }
    if password != confirmation {
        return Err(PasswordPolicyError::Mismatch);
    }
    Ok(())
}

/// Frequently breached passwords long enough to pass the length rule (lowercase).
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123123123123",
    "111111111111",
    "000000000000",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "password123!",
    "qwertyuiopas",
    "qwerty123456",
    "qwertyuiop123",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "welcome123456",
    "administrator",
    "admin1234567",
    "changeme1234",
    "abcdefghijkl",
    "abc123abc123",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "monkey123456",
    "dragon123456",
    "zaq12wsxcde3",
    "passw0rd1234",
    "p@ssw0rd1234",
    "correcthorsebatterystaple",
];

/// Hashes and verifies passwords with argon2id (m=19456 KiB, t=2, p=1, the OWASP baseline).
#[derive(Clone)]
pub struct PasswordService {
    slots: Arc<Semaphore>,
    jobs: mpsc::Sender<Job>,
    queue_timeout: Duration,
    dummy_hash: Arc<str>,
    verifications: Arc<AtomicU64>,
}

impl std::fmt::Debug for PasswordService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordService")
            .field("free_slots", &self.slots.available_permits())
            .field("queue_timeout", &self.queue_timeout)
            .finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Argon(e.to_string()))
}

fn verify_now(stored: &str, password: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        // An unreadable stored hash can never match; still pay for a comparable amount of work
        // so the answer does not stand out.
        let _ = hash_now(password);
        return Verification {
            matches: false,
            needs_rehash: false,
        };
    };
    let matches = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    let current = argon2();
    let wanted = current.params();
    let same_cost = Params::try_from(&parsed).is_ok_and(|p| {
        (p.m_cost(), p.t_cost(), p.p_cost()) == (wanted.m_cost(), wanted.t_cost(), wanted.p_cost())
    });
    let needs_rehash = matches && (parsed.algorithm.as_str() != "argon2id" || !same_cost);
    Verification {
        matches,
        needs_rehash,
    }
}

/// A unit of hashing work for the dedicated threads.
type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` hashing threads fed from one queue; they end when the service is dropped.
fn start_workers(count: usize) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..count {
        let receiver = Arc::clone(&receiver);
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{index}"))
            .spawn(move || loop {
                let job = match receiver.lock() {
                    Ok(queue) => queue.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return, // every sender dropped: the service is gone
                }
            });
        if let Err(error) = spawned {
            rocket::error!("cannot start a password hashing thread: {error}");
        }
    }
    sender
}

/// Default hashing concurrency: half the cores, at least one.
fn default_concurrency() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores / 2).max(1)
}

impl PasswordService {
    /// `concurrency` 0 means the default: half the CPU cores, at least one.
    pub fn new(concurrency: usize, queue_timeout: Duration) -> Result<Self, HashError> {
        let slots = if concurrency == 0 {
            default_concurrency()
        } else {
            concurrency
        };
        // A hash of a random secret nobody knows: unknown e-mails are verified against it so they
        // cost exactly what a wrong password costs.
        let secret = crate::token::random_token();
        let dummy_hash: Arc<str> = hash_now(&secret)?.into();
        Ok(PasswordService {
            slots: Arc::new(Semaphore::new(slots)),
            jobs: start_workers(slots),
            queue_timeout,
            dummy_hash,
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit =
            rocket::tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned())
                .await
                .map_err(|_| HashError::Busy)?
                .map_err(|_| HashError::Busy)?;
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
            drop(permit);
        });
        self.jobs.send(job).map_err(|_| HashError::WorkerGone)?;
        answer.await.map_err(|_| HashError::WorkerGone)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run_blocking(move || hash_now(&password)).await?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no account,
    /// so that both cases do the same work. Exactly one argon2 verification per call.
    pub async fn verify(
        &self,
        stored: Option<&str>,
        password: &str,
    ) -> Result<Verification, HashError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let outcome = self
            .run_blocking(move || verify_now(&hash, &password))
            .await?;
        Ok(Verification {
            matches: outcome.matches && known,
            needs_rehash: outcome.needs_rehash && known,
        })
    }

    /// How many verifications ran since start; tests use it to prove equal work per answer.
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str, confirmation: &str, email: &str) -> Result<(), PasswordPolicyError> {
        check_new_password(
            &Password::new(password.into()),
            &Password::new(confirmation.into()),
            email,
        )
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::new("hunter2hunter2".into());
        assert_eq!(format!("{password:?}"), "Password([redacted])");
    }

    #[test]
    fn new_passwords_follow_the_policy() {
        let email = "ada@example.com";
        assert_eq!(
            check("short", "short", email),
            Err(PasswordPolicyError::TooShort)
        );
        let long = "x".repeat(129);
        assert_eq!(
            check(&long, &long, email),
            Err(PasswordPolicyError::TooLong)
        );
        assert_eq!(
            check("Password1234", "Password1234", email),
            Err(PasswordPolicyError::TooCommon)
        );
        assert_eq!(
            check("ada@example.com", "ada@example.com", email),
            Err(PasswordPolicyError::SameAsEmail)
        );
        assert_eq!(
            check("a fine long one", "a fine long two", email),
            Err(PasswordPolicyError::Mismatch)
        );
        // Unicode counts in characters, and spaces are kept.
        assert_eq!(
            check(" ünïcödé pässwörd ", " ünïcödé pässwörd ", email),
            Ok(())
        );
        assert_eq!(
            check(
                "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑",
                "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑",
                email
            ),
            Ok(())
        );
    }

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let hash = hash_now("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_now(&hash, "correct horse battery").matches);
        assert!(!verify_now(&hash, "correct horse batterY").matches);
        assert!(!verify_now(&hash, "correct horse battery ").matches);
        // A fresh random salt each time: the same password never hashes alike.
        assert_ne!(hash, hash_now("correct horse battery").unwrap());
    }

    #[rocket::async_test]
    async fn a_full_hashing_queue_answers_busy_instead_of_waiting_forever() {
        let service = PasswordService::new(1, Duration::from_millis(20)).unwrap();
        // Occupy the only slot, as a login flood would.
        let _held = service.slots.clone().acquire_owned().await.unwrap();
        let outcome = service.verify(None, "some password here").await;
        assert!(matches!(outcome, Err(HashError::Busy)));
    }

    #[rocket::async_test]
    async fn unknown_accounts_cost_one_verification_and_never_match() {
        let service = PasswordService::new(1, Duration::from_secs(5)).unwrap();
        let outcome = service.verify(None, "anything at all").await.unwrap();
        assert!(!outcome.matches && !outcome.needs_rehash);
        assert_eq!(service.verification_count(), 1);
    }

    #[test]
    fn hashes_with_old_parameters_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8_192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let old = weak
            .hash_password(b"an old password here", &salt)
            .unwrap()
            .to_string();
        let outcome = verify_now(&old, "an old password here");
        assert!(outcome.matches && outcome.needs_rehash);
        let current = hash_now("a current password").unwrap();
        assert!(!verify_now(&current, "a current password").needs_rehash);
    }
}
