//! The lessons part of a device's configuration: which keys content packs must be signed
//! with, and the province's certificate key this device signs with (if any).
//!
//! ```toml
//! province = "79"
//! commune_name = "Xã Tân Thới Nhì"
//!
//! [[pack_keys]]
//! key_id = "p79-2026"
//! public_key = "…64 hex digits…"
//!
//! [certificate]              # optional: without it this device issues no certificate
//! kid = "p79-kiosk-7"
//! key_file = "certificate.key"   # 64 hex digits (the ed25519 seed), readable by the owner only
//! ```

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::Deserialize;
use xaso_training::pack::TrustedKey;

use super::{Issuer, LessonsConfig};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("lessons configuration {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    province: String,
    #[serde(default)]
    commune_name: Option<String>,
    #[serde(default)]
    pack_keys: Vec<PackKey>,
    #[serde(default)]
    certificate: Option<CertificateKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackKey {
    key_id: String,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateKey {
    kid: String,
    key_file: PathBuf,
}

/// Reads the configuration at `path` (relative key files are next to it).
pub fn load(
    path: &Path,
    install: Option<PathBuf>,
    commune_name: &str,
) -> Result<LessonsConfig, ConfigError> {
    let bad = |reason: String| ConfigError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let file: File = toml::from_str(&text).map_err(|e| bad(e.message().to_owned()))?;
    let trusted = file
        .pack_keys
        .iter()
        .map(|k| TrustedKey::from_hex(&k.key_id, &k.public_key))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let issuer = match file.certificate {
        None => None,
        Some(c) => {
            let key_path = path.parent().unwrap_or(Path::new(".")).join(&c.key_file);
            Some(Issuer {
                kid: c.kid,
                key: read_key(&key_path).map_err(bad)?,
                province: file.province.clone(),
            })
        }
    };
    Ok(LessonsConfig {
        shelf: None,
        trusted,
        install,
        issuer,
        commune_name: file.commune_name.unwrap_or_else(|| commune_name.to_owned()),
    })
}

/// An ed25519 seed in hex, in a file only its owner may read.
fn read_key(path: &Path) -> Result<SigningKey, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} must be readable by its owner only (chmod 600)",
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{}: not 64 hex digits", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}
