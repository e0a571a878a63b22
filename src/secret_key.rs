//! Rocket's `secret_key` (it encrypts the private session cookie). When the settings give none,
//! one is generated on first start and kept in `<data_dir>/secret.key` (mode 0600), so a restart
//! never logs anyone out.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use rocket::figment::Figment;

use crate::config::AppConfig;

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("cannot read or create the secret key file {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret key file {0} does not hold a base64 key of 64 bytes; delete it to generate a new one")]
    Malformed(String),
}

/// The secret key the settings give (Rocket's `secret_key`), if any.
pub fn configured(figment: &Figment) -> Option<String> {
    figment
        .find_value("secret_key")
        .ok()
        .and_then(|v| v.into_string())
        .filter(|k| !k.trim().is_empty())
}

/// The settings with a secret key: as given, or the one kept in `<data_dir>/secret.key`
/// (created on first use). The server and the CLI both go through here, so both derive the
/// same keys from it.
pub fn with_secret_key(figment: &Figment, config: &AppConfig) -> Result<Figment, SecretKeyError> {
    if configured(figment).is_some() {
        return Ok(figment.clone());
    }
    let key = load_or_create(&config.secret_key_path())?;
    Ok(figment.clone().merge(("secret_key", key)))
}

/// Loads the key from `path`, creating it (and its folder) when missing. Returns base64 text.
pub fn load_or_create(path: &Path) -> Result<String, SecretKeyError> {
    let io = |source| SecretKeyError::Io {
        path: path.display().to_string(),
        source,
    };
    match fs::read_to_string(path) {
        Ok(text) => {
            let key = text.trim().to_string();
            match STANDARD.decode(&key) {
                Ok(bytes) if bytes.len() == 64 => Ok(key),
                _ => Err(SecretKeyError::Malformed(path.display().to_string())),
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                crate::private_files::private_dir(parent).map_err(io)?;
            }
            let mut bytes = [0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let key = STANDARD.encode(bytes);
            // Written whole to a private temporary file, then linked into place: an instance
            // starting at the same moment sees either no file or a complete one, never half.
            let temporary = path.with_extension(format!("key.tmp-{}", std::process::id()));
            let mut options = crate::private_files::private_file_options();
            options.write(true).create(true).truncate(true);
            let mut file = options.open(&temporary).map_err(io)?;
            file.write_all(key.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            drop(file);
            let linked = fs::hard_link(&temporary, path);
            let _ = fs::remove_file(&temporary);
            match linked {
                Ok(()) => Ok(key),
                // Another instance or process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
                Err(e) => Err(io(e)),
            }
        }
        Err(error) => Err(io(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("secret.key");
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        assert_eq!(first, second);
        assert_eq!(STANDARD.decode(&first).unwrap().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(SecretKeyError::Malformed(_))
        ));
    }
}
