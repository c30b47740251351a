//! The province's secret keys: an ed25519 seed as 64 hex digits in a file only its owner may
//! read — the format `xaso-kiosk` reads its certificate key from (`[certificate] key_file`).
//!
//! A new key's seed comes from the operating system's random source. The file is written to
//! a temporary file beside it (created with mode 0600), synced, and linked into place only
//! if no file of that name exists: a key is never overwritten and never seen half-written.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ed25519_dalek::SigningKey;
use rand::TryRngCore;
use zeroize::Zeroizing;

use crate::Outcome;
use crate::ids::check_key_id;
use crate::output::{dir_of, sync_dir};

/// `keygen`: a new key in `out`, then its id and public key on standard output.
pub fn keygen(out: &Path, kid: Option<&str>) -> Result<Outcome> {
    let kid = kid_for(out, kid)?;
    if out.exists() {
        bail!(
            "{} already exists: a key is never overwritten (choose another file name)",
            out.display()
        );
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng
        .try_fill_bytes(seed.as_mut())
        .context("the operating system gave no random bytes for the key")?;
    let key = SigningKey::from_bytes(&seed);
    write_new(out, &seed)?;
    print_public(&kid, &key)?;
    let _ = writeln!(
        std::io::stderr().lock(),
        "xaso-lessons: the secret key is in {} (readable by its owner only); keep it secret \
         and give kiosks and officers the public key (a certificate key also goes to the \
         kiosks that sign certificates with it)",
        out.display()
    );
    Ok(Outcome::Done)
}

/// `public-key`: the id and public key of an existing key file.
pub fn show_public(file: &Path, kid: Option<&str>) -> Result<Outcome> {
    let kid = kid_for(file, kid)?;
    let key = read(file)?;
    print_public(&kid, &key)?;
    Ok(Outcome::Done)
}

fn print_public(kid: &str, key: &SigningKey) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "kid\t{kid}")?;
    writeln!(
        out,
        "public_key\t{}",
        hex::encode(key.verifying_key().as_bytes())
    )?;
    Ok(())
}

/// The key id given, else the file's name without its extension; checked.
fn kid_for(file: &Path, kid: Option<&str>) -> Result<String> {
    let kid = match kid {
        Some(k) => k.to_owned(),
        None => file
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_owned)
            .with_context(|| format!("give --kid: {} names no key id", file.display()))?,
    };
    check_key_id(&kid)?;
    Ok(kid)
}

/// Writes the seed to a new file `path` with mode 0600.
fn write_new(path: &Path, seed: &[u8; 32]) -> Result<()> {
    let dir = dir_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".xaso-key-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict a new file in {}", dir.display()))?;
    }
    let text = Zeroizing::new(format!("{}\n", hex::encode(seed)));
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a new file in {}", dir.display()))?;
    tmp.persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot create {}", path.display()))?;
    sync_dir(dir)
}

/// Reads a key file; refuses one that others than its owner may read.
pub fn read(path: &Path) -> Result<SigningKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read the key {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "the key {} must be readable by its owner only (chmod 600 {})",
                path.display(),
                path.display()
            );
        }
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the key {}", path.display()))?,
    );
    let bytes = Zeroizing::new(hex::decode(text.trim()).unwrap_or_default());
    let seed: &[u8; 32] = bytes
        .as_slice()
        .try_into()
        .ok()
        .with_context(|| format!("the key {} is not 64 hex digits", path.display()))?;
    Ok(SigningKey::from_bytes(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_kid_is_the_file_name() {
        assert_eq!(
            kid_for(Path::new("keys/p79-cert-2026.key"), None).ok(),
            Some("p79-cert-2026".to_owned())
        );
        assert_eq!(
            kid_for(Path::new("x.key"), Some("given")).ok(),
            Some("given".to_owned())
        );
    }
}
