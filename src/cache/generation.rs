//! The database's write generation: a counter in a small file beside the SQLite file, which
//! lets a process keep loaded sessions in memory and still see every revocation at once — made
//! by this process, another instance on the same host, or the command line.
//!
//! Writers follow a seqlock discipline around each commit (see [`Generation::bracket`]): under an
//! exclusive lock on the file, make the counter odd, commit, make it even, unlock. Readers read the
//! counter with one `pread` **before** they read the database, and tag what they cache with it; a
//! cached value is used only while the counter still equals its tag. So once a commit has
//! returned, the counter differs from every tag read before it, and nothing loaded before the
//! commit is served again. A writer that dies between its bumps leaves the counter odd, which
//! turns every cache off (never stale) until the next writer completes.
//!
//! PostgreSQL (several hosts) and in-memory SQLite get no file: [`Generation::read`] is always
//! `None` and nothing is cached.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rocket::tokio::sync::Mutex;

use crate::private_files::private_file_options;

/// How long a writer waits for another process's bracket (a few file writes and one commit)
/// before it gives up on the counter and leaves it odd — caches off, never stale.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The counter file of one database, or none (caching off).
#[derive(Debug)]
pub struct Generation {
    counter: Option<CounterFile>,
}

#[derive(Debug)]
struct CounterFile {
    file: File,
    path: PathBuf,
    /// `flock` serializes processes, not tasks of one process (they share the open file), so
    /// this process's writers also queue here.
    writers: Mutex<()>,
}

/// What a writer found when it tried to make the counter odd.
pub enum Bracket<'a> {
    /// The counter is odd (caches off) until [`OpenBracket::close`].
    Open(OpenBracket<'a>),
    /// No counter file: nothing to do.
    Off,
}

/// A writer between its two bumps, holding the file lock.
pub struct OpenBracket<'a> {
    counter: &'a CounterFile,
    odd: u64,
    _writers: rocket::tokio::sync::MutexGuard<'a, ()>,
}

impl Generation {
    /// No counter: every read goes to the database.
    pub fn off() -> Self {
        Generation { counter: None }
    }

    /// The counter beside the SQLite database `database` (`<database>-generation`), created
    /// (owner-only) when missing.
    pub fn beside(database: &Path) -> io::Result<Self> {
        let mut name = database.as_os_str().to_owned();
        name.push("-generation");
        let path = PathBuf::from(name);
        let file = private_file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        Ok(Generation {
            counter: Some(CounterFile {
                file,
                path,
                writers: Mutex::new(()),
            }),
        })
    }

    /// The counter file, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.counter.as_ref().map(|counter| counter.path.as_path())
    }

    /// Whether values may be cached at all on this database.
    pub fn is_on(&self) -> bool {
        self.counter.is_some()
    }

    /// The counter, when caches may be used: `None` with no file, while a writer is between its
    /// bumps (odd), or when the file cannot be read.
    pub fn read(&self) -> Option<u64> {
        let counter = self.counter.as_ref()?;
        match counter.load() {
            Ok(value) if value % 2 == 0 => Some(value),
            Ok(_) => None,
            Err(error) => {
                rocket::warn!("cannot read {}: {error}", counter.path.display());
                None
            }
        }
    }

    /// Makes the counter odd before a commit. An error means the counter could not be made odd:
    /// the caller must not commit (a commit the counter does not cover could leave a stale cache).
    pub async fn bracket(&self) -> io::Result<Bracket<'_>> {
        let Some(counter) = self.counter.as_ref() else {
            return Ok(Bracket::Off);
        };
        let writers = counter.writers.lock().await;
        counter.lock_file().await?;
        let opened = counter.load().and_then(|value| {
            // From even v to v + 1; from an odd value a dead writer left, past it.
            let odd = (value | 1) + if value % 2 == 0 { 0 } else { 2 };
            counter.store(odd).map(|()| odd)
        });
        match opened {
            Ok(odd) => Ok(Bracket::Open(OpenBracket {
                counter,
                odd,
                _writers: writers,
            })),
            Err(error) => {
                counter.unlock_file();
                Err(error)
            }
        }
    }
}

impl OpenBracket<'_> {
    /// After the commit (or its failure): the counter even again, one past the odd value, and the
    /// lock released. If the write fails the counter stays odd: caches off, never stale.
    pub fn close(self) {
        if let Err(error) = self.counter.store(self.odd + 1) {
            rocket::warn!(
                "cannot write {}: in-memory caches stay off until the next write ({error})",
                self.counter.path.display()
            );
        }
        self.counter.unlock_file();
    }
}

impl CounterFile {
    fn load(&self) -> io::Result<u64> {
        let mut bytes = [0u8; 8];
        match self.file.read_exact_at(&mut bytes, 0) {
            Ok(()) => Ok(u64::from_le_bytes(bytes)),
            // A new, empty file: generation zero.
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(error) => Err(error),
        }
    }

    fn store(&self, value: u64) -> io::Result<()> {
        self.file.write_all_at(&value.to_le_bytes(), 0)
    }

    /// The exclusive `flock`, polled: the holder is another process inside its bracket, which
    /// lasts one commit. (Polling keeps the async worker free, where a blocking lock would not.)
    async fn lock_file(&self) -> io::Result<()> {
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match self.file.try_lock() {
                Ok(()) => return Ok(()),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    rocket::tokio::time::sleep(Duration::from_micros(200)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("{} stayed locked", self.path.display()),
                    ))
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(error),
            }
        }
    }

    fn unlock_file(&self) {
        if let Err(error) = self.file.unlock() {
            rocket::warn!("cannot unlock {}: {error}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter_in(dir: &tempfile::TempDir) -> Generation {
        Generation::beside(&dir.path().join("hr.db")).expect("counter file")
    }

    #[rocket::async_test]
    async fn a_bracket_makes_the_counter_odd_then_even_and_new() {
        let dir = tempfile::tempdir().unwrap();
        let generation = counter_in(&dir);
        let before = generation.read().expect("a new counter is usable");
        let Bracket::Open(open) = generation.bracket().await.unwrap() else {
            panic!("a file-backed counter opens a bracket");
        };
        assert_eq!(generation.read(), None, "caches are off between the bumps");
        open.close();
        let after = generation.read().expect("even again");
        assert!(after > before);
    }

    #[rocket::async_test]
    async fn a_writer_that_died_between_its_bumps_leaves_caches_off_until_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let generation = counter_in(&dir);
        let Bracket::Open(open) = generation.bracket().await.unwrap() else {
            panic!("bracket");
        };
        std::mem::forget(open); // the process died here: no second bump
        generation.counter.as_ref().unwrap().unlock_file(); // the kernel drops a dead process's lock
        assert_eq!(generation.read(), None);
        let another = counter_in(&dir);
        assert_eq!(another.read(), None, "every process sees it");
        let Bracket::Open(open) = another.bracket().await.unwrap() else {
            panic!("bracket");
        };
        open.close();
        assert!(
            generation.read().is_some(),
            "the next writer turns caches back on"
        );
    }

    #[test]
    fn postgres_and_memory_databases_cache_nothing() {
        assert_eq!(Generation::off().read(), None);
        assert!(!Generation::off().is_on());
    }
}
