//! The device secret: 32 random bytes in a hex file of mode 0600, from which
//! every encrypted database of the device takes its key.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::Error;

/// Length of the device secret and of database keys, in bytes.
pub const KEY_LEN: usize = 32;

/// A database key (SQLCipher raw key). Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct DatabaseKey([u8; KEY_LEN]);

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(…)")
    }
}

impl Drop for DatabaseKey {
    fn drop(&mut self) {
        // Volatile-free zeroing is enough here: the key also lives in
        // SQLCipher's memory for as long as the connection is open.
        self.0.fill(0);
    }
}

impl DatabaseKey {
    /// The device secret in `path` itself (the record store and the hub's
    /// databases use it as it is).
    pub fn from_key_file(path: &Path) -> Result<DatabaseKey, Error> {
        read_key_file(path).map(DatabaseKey)
    }

    /// A key for another database of the same device, derived from this one
    /// as SHA-256(`purpose` ‖ hex of this key), so no two files share a key.
    pub fn derive(&self, purpose: &str) -> DatabaseKey {
        let mut hasher = Sha256::new();
        hasher.update(purpose.as_bytes());
        hasher.update(hex::encode(self.0).as_bytes());
        DatabaseKey(hasher.finalize().into())
    }

    /// The SQLCipher `PRAGMA key` literal: `"x'…'"`.
    pub(crate) fn pragma_literal(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }

    /// The blob literal SQLCipher's `ATTACH … KEY` takes: `x'…'`.
    pub(crate) fn attach_literal(&self) -> String {
        format!("x'{}'", hex::encode(self.0))
    }
}

/// Create a new random device secret (32 bytes, hex) at `path` with mode 0600.
/// Fails if the file already exists, so a key is never overwritten.
pub fn create_key_file(path: &Path) -> Result<(), Error> {
    let mut key = [0u8; KEY_LEN];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| Error::Random)?;
    let key_file = |source| Error::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(key_file)?;
    file.write_all(hex::encode(key).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(key_file)?;
    key.fill(0);
    Ok(())
}

/// Create the key file unless it exists.
pub fn ensure_key_file(path: &Path) -> Result<(), Error> {
    if path.exists() {
        Ok(())
    } else {
        create_key_file(path)
    }
}

/// Read a device secret (32 bytes, hex) from `path`, refusing a file that
/// anyone but its owner may read.
pub fn read_key_file(path: &Path) -> Result<[u8; KEY_LEN], Error> {
    let key_file = |source| Error::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mode = std::fs::metadata(path)
        .map_err(key_file)?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    let text = std::fs::read_to_string(path).map_err(key_file)?;
    let invalid = || Error::KeyFileInvalid {
        path: path.to_owned(),
    };
    let bytes = hex::decode(text.trim()).map_err(|_| invalid())?;
    bytes.try_into().map_err(|_| invalid())
}
