//! Signed content packs: how lessons travel to kiosks.
//!
//! ```text
//! "XSPACK1\n"                 8 bytes
//! header length               4 bytes, big-endian
//! header                      JSON: format, province, version, created, key id,
//!                             payload length and SHA-256
//! payload                     zlib of a CBOR map: path → bytes (the files of training/modules)
//! signature                   64 bytes: ed25519 over everything before it
//! ```
//!
//! [`open`] checks, in this order and before anything is decompressed: the frame, that the
//! key is one of the province's trusted keys, the signature (`verify_strict`), the payload's
//! length and digest, that the version is newer than the installed one; then it
//! decompresses with a size limit and checks the content as a whole
//! ([`Library::from_files`]). Any failure is a [`PackError`] and the caller keeps the pack
//! it has. Nothing here reads a clock: a pack's validity never depends on the device's time.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::content::{ContentError, Library};

const MAGIC: &[u8; 8] = b"XSPACK1\n";
const FORMAT: u32 = 1;
/// Largest header accepted.
const MAX_HEADER: usize = 16 * 1024;
/// Largest decompressed content accepted.
pub const MAX_CONTENT: usize = 64 * 1024 * 1024;

/// What a pack says about itself (signed with the content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackHeader {
    pub format: u32,
    /// The province that signed it (its code).
    pub province: String,
    /// Increases with every pack a province publishes.
    pub version: u64,
    /// Day of publication (shown, never used to decide).
    pub created: jiff::civil::Date,
    /// Which of the province's keys signed it.
    pub key_id: String,
    pub payload_len: u64,
    pub payload_sha256: String,
}

/// A key a device trusts for packs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key_id: String,
    pub key: VerifyingKey,
}

impl TrustedKey {
    /// From the key id and the 32-byte public key in hex (as device configuration holds it).
    pub fn from_hex(key_id: &str, hex_key: &str) -> Result<TrustedKey, PackError> {
        let bytes: [u8; 32] = hex::decode(hex_key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| PackError::BadTrustedKey(key_id.to_owned()))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| PackError::BadTrustedKey(key_id.to_owned()))?;
        Ok(TrustedKey {
            key_id: key_id.to_owned(),
            key,
        })
    }
}

/// Why a pack was refused; the installed pack stays.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("not a lesson pack (wrong start)")]
    NotAPack,
    #[error("the pack is cut short or has bytes after its signature")]
    Truncated,
    #[error("the pack's header is not valid: {0}")]
    Header(String),
    #[error("pack format {0} is not known to this version of the kiosk")]
    Format(u32),
    #[error("the pack is signed with key `{0}`, which is not one of this province's keys")]
    UnknownKey(String),
    #[error("the pack's signature does not verify: it was changed or signed by someone else")]
    Signature,
    #[error("the pack's content does not match its signed digest")]
    Digest,
    #[error("pack version {candidate} is not newer than the installed version {installed}")]
    NotNewer { candidate: u64, installed: u64 },
    #[error("the pack's content cannot be unpacked: {0}")]
    Payload(String),
    #[error("the pack's lessons are not valid: {0}")]
    Content(#[from] ContentError),
    #[error("trusted key `{0}` in the device configuration is not a 32-byte ed25519 key in hex")]
    BadTrustedKey(String),
}

/// A verified pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub header: PackHeader,
    pub library: Library,
}

/// Builds a pack from content files, signed by `key` (the province's publishing tool).
/// The content is checked first: an invalid set is never signed.
pub fn build(
    files: &BTreeMap<String, Vec<u8>>,
    province: &str,
    version: u64,
    created: jiff::civil::Date,
    key_id: &str,
    key: &SigningKey,
) -> Result<Vec<u8>, PackError> {
    Library::from_files(files)?;
    let map: BTreeMap<&str, ciborium::Value> = files
        .iter()
        .map(|(k, v)| (k.as_str(), ciborium::Value::Bytes(v.clone())))
        .collect();
    let mut cbor = Vec::new();
    ciborium::into_writer(&map, &mut cbor).map_err(|e| PackError::Payload(e.to_string()))?;
    let payload = miniz_oxide::deflate::compress_to_vec_zlib(&cbor, 9);
    let header = PackHeader {
        format: FORMAT,
        province: province.to_owned(),
        version,
        created,
        key_id: key_id.to_owned(),
        payload_len: payload.len() as u64,
        payload_sha256: hex::encode(Sha256::digest(&payload)),
    };
    let header = serde_json::to_vec(&header).map_err(|e| PackError::Header(e.to_string()))?;
    let header_len =
        u32::try_from(header.len()).map_err(|_| PackError::Header("too long".into()))?;
    let mut out = Vec::with_capacity(payload.len() + header.len() + 80);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&header_len.to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&payload);
    let signature = key.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}

/// Reads a pack's header without trusting it (to show what a file claims to be).
pub fn peek(bytes: &[u8]) -> Result<PackHeader, PackError> {
    Ok(frame(bytes)?.header)
}

struct Frame<'a> {
    header: PackHeader,
    signed: &'a [u8],
    payload: &'a [u8],
    signature: Signature,
}

fn frame(bytes: &[u8]) -> Result<Frame<'_>, PackError> {
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or(PackError::NotAPack)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or(PackError::Truncated)?;
    let header_len = u32::from_be_bytes(*len) as usize;
    if header_len > MAX_HEADER {
        return Err(PackError::Header("too long".into()));
    }
    let header_bytes = rest.get(..header_len).ok_or(PackError::Truncated)?;
    let header: PackHeader =
        serde_json::from_slice(header_bytes).map_err(|e| PackError::Header(e.to_string()))?;
    if header.format != FORMAT {
        return Err(PackError::Format(header.format));
    }
    let payload_start = MAGIC.len() + 4 + header_len;
    let payload_len = usize::try_from(header.payload_len).map_err(|_| PackError::Truncated)?;
    let payload_end = payload_start
        .checked_add(payload_len)
        .ok_or(PackError::Truncated)?;
    if bytes.len() != payload_end + Signature::BYTE_SIZE {
        return Err(PackError::Truncated);
    }
    let signature_bytes: [u8; Signature::BYTE_SIZE] = bytes[payload_end..]
        .try_into()
        .map_err(|_| PackError::Truncated)?;
    Ok(Frame {
        header,
        signed: &bytes[..payload_end],
        payload: &bytes[payload_start..payload_end],
        signature: Signature::from_bytes(&signature_bytes),
    })
}

/// Verifies a pack against the province's keys and the installed version (`None` when no
/// pack is installed), and checks its content.
pub fn open(
    bytes: &[u8],
    trusted: &[TrustedKey],
    installed: Option<u64>,
) -> Result<Pack, PackError> {
    let frame = frame(bytes)?;
    let key = trusted
        .iter()
        .find(|k| k.key_id == frame.header.key_id)
        .ok_or_else(|| PackError::UnknownKey(frame.header.key_id.clone()))?;
    key.key
        .verify_strict(frame.signed, &frame.signature)
        .map_err(|_| PackError::Signature)?;
    if hex::encode(Sha256::digest(frame.payload)) != frame.header.payload_sha256 {
        return Err(PackError::Digest);
    }
    if let Some(installed) = installed
        && frame.header.version <= installed
    {
        return Err(PackError::NotNewer {
            candidate: frame.header.version,
            installed,
        });
    }
    let cbor = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(frame.payload, MAX_CONTENT)
        .map_err(|e| PackError::Payload(format!("{:?}", e.status)))?;
    let map: BTreeMap<String, ciborium::Value> =
        ciborium::from_reader(cbor.as_slice()).map_err(|e| PackError::Payload(e.to_string()))?;
    let mut files = BTreeMap::new();
    for (path, value) in map {
        let ciborium::Value::Bytes(bytes) = value else {
            return Err(PackError::Payload(format!("{path} is not bytes")));
        };
        files.insert(path, bytes);
    }
    let library = Library::from_files(&files)?;
    Ok(Pack {
        header: frame.header,
        library,
    })
}
