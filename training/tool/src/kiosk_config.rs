//! A kiosk's lessons configuration (the file given to `xaso-kiosk --lessons`), read the way
//! the kiosk reads it (`kiosk/app/src/lessons/config.rs`): unknown keys are refused, every
//! pack key must be a 32-byte ed25519 public key in hex.
//!
//! ```toml
//! province = "79"
//! commune_name = "Xã Tân Thới Nhì"
//!
//! [[pack_keys]]
//! key_id = "p79-lessons-2026"
//! public_key = "…64 hex digits…"
//!
//! [certificate]                  # optional; not needed to check a pack
//! kid = "p79-cert-2026"
//! key_file = "certificate.key"
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use xaso_training::pack::TrustedKey;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    province: String,
    #[serde(default)]
    #[allow(dead_code)]
    commune_name: Option<String>,
    #[serde(default)]
    pack_keys: Vec<PackKey>,
    #[serde(default)]
    #[allow(dead_code)]
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
#[allow(dead_code)]
struct CertificateKey {
    kid: String,
    key_file: PathBuf,
}

/// What a pack is checked against.
pub struct KioskKeys {
    pub province: String,
    pub trusted: Vec<TrustedKey>,
}

/// Reads the configuration at `path`.
pub fn load(path: &Path) -> Result<KioskKeys> {
    let what = || format!("lessons configuration {}", path.display());
    let text = std::fs::read_to_string(path).with_context(what)?;
    let file: File = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}", e.message().to_owned()))
        .with_context(what)?;
    let trusted = file
        .pack_keys
        .iter()
        .map(|k| TrustedKey::from_hex(&k.key_id, &k.public_key))
        .collect::<Result<Vec<_>, _>>()
        .with_context(what)?;
    Ok(KioskKeys {
        province: file.province,
        trusted,
    })
}
