//! Files and folders only the service's own user may read: the data directory, the database, its
//! WAL and shared-memory files, the secret key and the mail outbox. They hold password hashes,
//! CSRF secrets, HR records, IP addresses and reset links, so nothing is left to the umask.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::path::Path;

/// Owner read/write/search only.
pub const PRIVATE_DIR_MODE: u32 = 0o700;
/// Owner read/write only.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as a private folder, and makes an existing one private:
/// a folder that already existed would otherwise keep whatever mode it was made with.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        return Ok(()); // the current folder: not ours to change
    }
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR_MODE);
    }
    builder.create(dir)?;
    restrict_if_owned(dir, PRIVATE_DIR_MODE)
}

/// [`restrict`], except that a path the service may not change (another user's folder or file,
/// e.g. a data folder an operator prepared) is left as it is, with a warning: refusing to start
/// over it would turn a hardening step into an outage.
fn restrict_if_owned(path: &Path, mode: u32) -> io::Result<()> {
    match restrict(path, mode) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            rocket::warn!(
                "{} is not the service's own, so its mode was left as is ({error}); make it \
                 {mode:o}",
                path.display()
            );
            Ok(())
        }
        other => other,
    }
}

/// Options that create a file readable by the owner only (the mode applies when it is created).
pub fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_FILE_MODE);
    }
    options
}

/// Sets `path`'s mode (no-op off Unix).
pub fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Makes a SQLite database file private before SQLite opens it: created empty with mode 0600
/// when missing (an empty file is an empty database), restricted when it exists. SQLite gives
/// the `-wal` and `-shm` files it creates the database file's mode; ones left over from an older
/// run are restricted here too.
pub fn private_database_file(file: &Path) -> io::Result<()> {
    match private_file_options()
        .write(true)
        .create_new(true)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            restrict_if_owned(file, PRIVATE_FILE_MODE)?;
            for suffix in ["-wal", "-shm", "-journal"] {
                let mut companion = file.as_os_str().to_owned();
                companion.push(suffix);
                match restrict_if_owned(Path::new(&companion), PRIVATE_FILE_MODE) {
                    Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                    _ => {}
                }
            }
            Ok(())
        }
        Err(error) => Err(error),
    }
}
