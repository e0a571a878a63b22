//! The write generation of a SQLite database: a counter in a small file beside it, which
//! lets a process keep loaded sessions in memory and still see every revocation at once — made
//! by this process, another instance on the same host, or the command line.
//!
//! Writers follow a seqlock discipline around each commit (see [`FileGeneration::bracket`]): under an
//! exclusive lock on the file, make the counter odd, commit, make it even, unlock. Readers read the
//! counter with one `pread` (and a `stat` of its path, which must still name the same file)
//! **before** they read the database, and tag what they cache with it; a cached value is used
//! only while the counter still equals its tag. So once a commit has
//! returned, the counter differs from every tag read before it, and nothing loaded before the
//! commit is served again. A writer that dies between its bumps leaves the counter odd, which
//! turns every cache off (never stale) until the next writer completes.
//!
//! In-memory and read-only SQLite get no file: [`FileGeneration::read`] is always `None` and
//! nothing is cached. (PostgreSQL has its own protocol: `super::peers`.)
//!
//! The counter belongs to the database **file**, not to a spelling of its path: every process
//! finds it beside the canonical path (symlinks, `.` and `..` resolved), and proves it holds the
//! database's own counter — the file carries the random id stored in the database (checked at
//! open and on every read), and each read compares the device and inode of the open file with
//! those the path names now. A counter deleted, renamed, recreated, replaced (also through a hard
//! link) or stamped for another database turns this process's caches off — never stale — and its
//! writes then bump whatever counter the path names, so the processes that use it see them.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rocket::tokio::sync::Mutex;

use crate::private_files::private_file_options;

/// How long a writer waits for another process's bracket (a few file writes and one commit)
/// before it gives up on the counter and leaves it odd — caches off, never stale.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The counter file of one database, or none (caching off).
#[derive(Debug)]
pub struct FileGeneration {
    counter: Option<CounterFile>,
    /// The path no longer names the file this process opened (deleted, renamed, replaced): caches
    /// stay off in this process for good (its tags came from the old file), and its writes bump
    /// the file the path names now.
    lost: AtomicBool,
}

/// The counter's bytes: the value (u64, little-endian), then the database's id.
const VALUE_LEN: usize = 8;
const ID_LEN: usize = 16;
const FILE_LEN: usize = VALUE_LEN + ID_LEN;

#[derive(Debug)]
struct CounterFile {
    file: File,
    path: PathBuf,
    /// The database's id (from its `database_identity` row), which the file must carry.
    id: [u8; ID_LEN],
    /// Device and inode of the open file, compared with the path's on every read.
    identity: (u64, u64),
    /// The value and the inode's change time at the last read. Every write changes the value;
    /// a change time that moved on while the value did not means the inode was touched some
    /// other way (renamed away and back around another process's write, linked): see `read`.
    last_read: std::sync::Mutex<Option<(u64, (i64, i64))>>,
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
    target: Target<'a>,
    generation: &'a FileGeneration,
    odd: u64,
    _writers: rocket::tokio::sync::MutexGuard<'a, ()>,
}

impl FileGeneration {
    /// No counter: every read goes to the database.
    pub fn off() -> Self {
        FileGeneration {
            counter: None,
            lost: AtomicBool::new(false),
        }
    }

    /// The counter beside the SQLite database `database` (`<canonical path>-generation`),
    /// created (owner-only) when missing, and stamped with `database_id` (the database's random
    /// id, hex) when it carries no id or another one — the database is the authority, and a
    /// process holding the counter under another id sees the change on its next read.
    pub fn beside(database: &Path, database_id: &str) -> io::Result<Self> {
        let id = parse_id(database_id)?;
        let path = counter_path(database)?;
        let file = open_counter(&path)?;
        let identity = identity_of(&file.metadata()?);
        let counter = CounterFile {
            file,
            path,
            id,
            identity,
            last_read: std::sync::Mutex::new(None),
            writers: Mutex::new(()),
        };
        counter.lock_file_blocking()?;
        let stamped = counter.stamp_if_foreign();
        counter.unlock_file();
        stamped?;
        Ok(FileGeneration {
            counter: Some(counter),
            lost: AtomicBool::new(false),
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
        if self.lost.load(Ordering::Acquire) {
            return None;
        }
        let value = match counter.load_checked() {
            Ok(Some(value)) if value % 2 == 0 => value,
            // Odd (a writer between its bumps), or the file carries another database's id (or
            // none: truncated): off for this read; the next writer stamps it again.
            Ok(_) => return None,
            Err(error) => {
                rocket::warn!("cannot read {}: {error}", counter.path.display());
                return None;
            }
        };
        // Read after the value: a counter swapped before a writer used the new one is seen here.
        let Some(changed) = counter.change_time_if_still_at_path() else {
            self.lose(counter);
            return None;
        };
        if !counter.note_read(value, changed) {
            self.lose(counter);
            return None;
        }
        Some(value)
    }

    /// The path no longer names this process's counter: caches off here for good.
    fn lose(&self, counter: &CounterFile) {
        if !self.lost.swap(true, Ordering::AcqRel) {
            rocket::warn!(
                "{} was deleted, renamed or replaced while in use: in-memory caches are off in \
                 this process until it restarts",
                counter.path.display()
            );
        }
    }

    /// Makes the counter odd before a commit. An error means the counter could not be made odd:
    /// the caller must not commit (a commit the counter does not cover could leave a stale cache).
    pub async fn bracket(&self) -> io::Result<Bracket<'_>> {
        let Some(counter) = self.counter.as_ref() else {
            return Ok(Bracket::Off);
        };
        let writers = counter.writers.lock().await;
        // A process whose counter was lost bumps the one the path names now, so the processes
        // that opened it see this write.
        let target = match self.lost.load(Ordering::Acquire) {
            false => Target::Own(counter),
            true => Target::Current(counter.reopen()?),
        };
        let odd = target.get().open_bracket().await?;
        Ok(Bracket::Open(OpenBracket {
            target,
            generation: self,
            odd,
            _writers: writers,
        }))
    }
}

/// The counter a bracket bumps: this process's own, or (once it was lost) the one the path names.
enum Target<'a> {
    Own(&'a CounterFile),
    Current(CounterFile),
}

impl Target<'_> {
    fn get(&self) -> &CounterFile {
        match self {
            Target::Own(counter) => counter,
            Target::Current(counter) => counter,
        }
    }
}

/// `<canonical database path>-generation`: every spelling of the database's path (a symlink,
/// `./`, `..`, a relative path) leads to the same counter.
fn counter_path(database: &Path) -> io::Result<PathBuf> {
    let mut name = std::fs::canonicalize(database)?.into_os_string();
    name.push("-generation");
    Ok(PathBuf::from(name))
}

fn open_counter(path: &Path) -> io::Result<File> {
    private_file_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn identity_of(metadata: &std::fs::Metadata) -> (u64, u64) {
    (metadata.dev(), metadata.ino())
}

fn parse_id(hex: &str) -> io::Result<[u8; ID_LEN]> {
    let invalid = || io::Error::new(io::ErrorKind::InvalidData, "malformed database id");
    if hex.len() != ID_LEN * 2 || !hex.is_ascii() {
        return Err(invalid());
    }
    let mut id = [0u8; ID_LEN];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
    }
    Ok(id)
}

impl OpenBracket<'_> {
    /// After the commit (or its failure): the counter even again, one past the odd value, and the
    /// lock released. If the write fails the counter stays odd: caches off, never stale. If the
    /// path names another file by now (the counter was swapped during the commit), that one is
    /// bumped too, and this process's caches go off.
    pub fn close(self) {
        let counter = self.target.get();
        if let Err(error) = counter.store(self.odd + 1) {
            rocket::warn!(
                "cannot write {}: in-memory caches stay off until the next write ({error})",
                counter.path.display()
            );
        }
        counter.unlock_file();
        if counter.change_time_if_still_at_path().is_none() {
            if let Some(own) = self.generation.counter.as_ref() {
                self.generation.lose(own);
            }
            if let Err(error) = counter.reopen().and_then(|current| current.bump_blocking()) {
                rocket::warn!("cannot bump {}: {error}", counter.path.display());
            }
        }
    }
}

impl CounterFile {
    /// The value, if the file carries this database's id (`None`: another id, or none).
    fn load_checked(&self) -> io::Result<Option<u64>> {
        let mut bytes = [0u8; FILE_LEN];
        let read = read_up_to(&self.file, &mut bytes)?;
        if read < FILE_LEN || bytes[VALUE_LEN..] != self.id {
            return Ok(None);
        }
        Ok(Some(u64::from_le_bytes(
            bytes[..VALUE_LEN].try_into().expect("eight bytes"),
        )))
    }

    /// Under the file lock: a file without this database's id gets it, and its value moves past
    /// anything a holder under another id could have tagged (they see the new id and go off).
    fn stamp_if_foreign(&self) -> io::Result<()> {
        let mut bytes = [0u8; FILE_LEN];
        let read = read_up_to(&self.file, &mut bytes)?;
        if read == FILE_LEN && bytes[VALUE_LEN..] == self.id {
            return Ok(());
        }
        let value = self.load()?;
        self.file.write_all_at(&self.id, VALUE_LEN as u64)?;
        self.store((value | 1) + 1)
    }

    /// Whether the path still names the file this handle has open (same device and inode).
    /// The inode's change time, if the path still names this process's counter.
    fn change_time_if_still_at_path(&self) -> Option<(i64, i64)> {
        let now = std::fs::metadata(&self.path).ok()?;
        (identity_of(&now) == self.identity).then(|| (now.ctime(), now.ctime_nsec()))
    }

    /// Records a read; false when the inode changed later than the last read without its value
    /// changing — the counter was renamed away and back (another process may have bumped a
    /// counter at the path meanwhile, which this one never saw) or linked. (A read whose change
    /// time is older than the last one raced a write and proves nothing either way.)
    fn note_read(&self, value: u64, changed: (i64, i64)) -> bool {
        let Ok(mut last) = self.last_read.lock() else {
            return false;
        };
        match *last {
            Some((seen, at)) if changed > at && value == seen => false,
            Some((_, at)) if changed < at => true,
            _ => {
                *last = Some((value, changed));
                true
            }
        }
    }

    /// The counter the path names now (created when missing), for this database.
    fn reopen(&self) -> io::Result<CounterFile> {
        let file = open_counter(&self.path)?;
        let identity = identity_of(&file.metadata()?);
        Ok(CounterFile {
            file,
            path: self.path.clone(),
            id: self.id,
            identity,
            last_read: std::sync::Mutex::new(None),
            writers: Mutex::new(()),
        })
    }

    /// Makes the counter odd under the file lock (stamping this database's id when the file
    /// lacks it); the odd value.
    async fn open_bracket(&self) -> io::Result<u64> {
        self.lock_file().await?;
        let opened = self
            .stamp_if_foreign()
            .and_then(|()| self.load())
            .and_then(|value| {
                // From even v to v + 1; from an odd value a dead writer left, past it.
                let odd = (value | 1) + if value % 2 == 0 { 0 } else { 2 };
                self.store(odd).map(|()| odd)
            });
        if opened.is_err() {
            self.unlock_file();
        }
        opened
    }

    /// A whole bump (odd, then even) at once, for a counter no commit is inside.
    fn bump_blocking(&self) -> io::Result<()> {
        self.lock_file_blocking()?;
        let bumped = self
            .stamp_if_foreign()
            .and_then(|()| self.load())
            .and_then(|value| self.store((value | 1) + 1));
        self.unlock_file();
        bumped
    }

    /// The exclusive `flock`, waited for (at open, and after a commit: one bracket's time).
    fn lock_file_blocking(&self) -> io::Result<()> {
        self.file.lock()
    }

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

/// Reads from the start of `file` until `buffer` is full or the file ends; how many bytes.
fn read_up_to(file: &File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut read = 0;
    while read < buffer.len() {
        match file.read_at(&mut buffer[read..], read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter_in(dir: &tempfile::TempDir) -> FileGeneration {
        let database = dir.path().join("hr.db");
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&database)
            .unwrap();
        FileGeneration::beside(&database, "00112233445566778899aabbccddeeff").expect("counter file")
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
        assert_eq!(FileGeneration::off().read(), None);
        assert!(!FileGeneration::off().is_on());
    }
}
