//! Certificates a learner can show anywhere and an officer's device verifies offline.
//!
//! The credential is the EU digital COVID certificate's encoding: CWT claims (RFC 8392) in a
//! COSE_Sign1 (RFC 9052, EdDSA with the province's ed25519 key), zlib, base45 (RFC 9285),
//! and the prefix `XSC1:` — short enough for a QR code a phone or tablet camera reads.
//!
//! ```text
//! claims   1 (iss)  the province code
//!          6 (iat)  when it was issued (seconds since 1970)
//!       -260        { 1: { "v": 1, "id", "n" name, "t" track, "d" date, "c" commune } }
//! ```
//!
//! Verification needs only a [`TrustList`]: the province's keys, each with the days it may
//! sign. Keys rotate with overlap (a new key starts signing before the old one stops, and a
//! certificate stays valid after its key stops signing). A trust list older than
//! [`TRUST_LIST_WARN_DAYS`] gives a warning, not a refusal (verifiers of the EU certificate
//! refused everything once their list was two days old). Any changed byte fails.

use coset::{
    CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana,
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The prefix of every credential.
pub const PREFIX: &str = "XSC1:";
/// A trust list older than this many days is shown with a warning.
pub const TRUST_LIST_WARN_DAYS: i64 = 30;
const CLAIM_ISS: i64 = 1;
const CLAIM_IAT: i64 = 6;
const CLAIM_CERT: i64 = -260;
const MAX_INFLATED: usize = 16 * 1024;

/// What a certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Unique id (the issuing device's id and a number).
    pub id: String,
    /// The learner's name as on the chip card.
    pub name: String,
    /// Track id.
    pub track: String,
    /// Day the track was finished.
    pub date: Date,
    /// Commune code where it was issued.
    pub commune: String,
    /// Province code of the issuer.
    pub province: String,
    /// When it was signed, seconds since 1970.
    pub issued_at: i64,
}

/// A key allowed to sign certificates, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerKey {
    pub kid: String,
    pub province: String,
    /// ed25519 public key, hex.
    pub public_key: String,
    /// First day it may sign.
    pub valid_from: Date,
    /// Last day it may sign (`None`: still in use).
    #[serde(default)]
    pub valid_until: Option<Date>,
}

/// The keys a verifier trusts, as the province publishes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// Day the list was published.
    pub issued: Date,
    pub keys: Vec<IssuerKey>,
}

impl TrustList {
    pub fn from_toml(text: &str) -> Result<TrustList, CertificateError> {
        toml::from_str(text).map_err(|e| CertificateError::TrustList(e.message().to_owned()))
    }
}

/// Why a certificate could not be issued or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("this is not a Xã Số certificate code")]
    NotACertificate,
    #[error("the code is damaged (it cannot be decoded)")]
    Damaged,
    #[error(
        "the signature does not match: the certificate was changed or not issued by the province"
    )]
    Signature,
    #[error("signed with key `{kid}`, which the trust list does not hold{}", if *.stale { " (the trust list is old: update it)" } else { "" })]
    UnknownKey { kid: String, stale: bool },
    #[error("key `{kid}` was not allowed to sign on {date}")]
    KeyNotValid { kid: String, date: Date },
    #[error("the trust list is not valid: {0}")]
    TrustList(String),
    #[error("cannot encode the certificate: {0}")]
    Encode(String),
}

/// A warning shown beside a verified certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The trust list is this many days old.
    TrustListOld { days: i64 },
}

/// A verified certificate and what to say beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub certificate: Certificate,
    pub kid: String,
    pub warnings: Vec<Warning>,
}

/// Issues the credential for `certificate`, signed with `key` (id `kid`).
pub fn issue(
    certificate: &Certificate,
    kid: &str,
    key: &SigningKey,
) -> Result<String, CertificateError> {
    use ciborium::Value;
    let text = |s: &str| Value::Text(s.to_owned());
    let body = Value::Map(vec![
        (text("v"), Value::Integer(1.into())),
        (text("id"), text(&certificate.id)),
        (text("n"), text(&certificate.name)),
        (text("t"), text(&certificate.track)),
        (text("d"), text(&certificate.date.to_string())),
        (text("c"), text(&certificate.commune)),
    ]);
    let claims = Value::Map(vec![
        (
            Value::Integer(CLAIM_ISS.into()),
            text(&certificate.province),
        ),
        (
            Value::Integer(CLAIM_IAT.into()),
            Value::Integer(certificate.issued_at.into()),
        ),
        (
            Value::Integer(CLAIM_CERT.into()),
            Value::Map(vec![(Value::Integer(1.into()), body)]),
        ),
    ]);
    let mut payload = Vec::new();
    ciborium::into_writer(&claims, &mut payload)
        .map_err(|e| CertificateError::Encode(e.to_string()))?;
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.as_bytes().to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |data| key.sign(data).to_bytes().to_vec())
        .build();
    let cose = sign1
        .to_tagged_vec()
        .map_err(|e| CertificateError::Encode(e.to_string()))?;
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9);
    Ok(format!("{PREFIX}{}", base45::encode(compressed)))
}

/// Verifies a credential offline against `trust`, on day `today` (for the trust list's age).
pub fn verify(code: &str, trust: &TrustList, today: Date) -> Result<Verified, CertificateError> {
    let encoded = code
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(CertificateError::NotACertificate)?;
    let compressed = base45::decode(encoded).map_err(|_| CertificateError::Damaged)?;
    let cose = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, MAX_INFLATED)
        .map_err(|_| CertificateError::Damaged)?;
    let sign1 = CoseSign1::from_tagged_slice(&cose)
        .or_else(|_| CoseSign1::from_slice(&cose))
        .map_err(|_| CertificateError::Damaged)?;
    if sign1.protected.header.alg
        != Some(coset::RegisteredLabelWithPrivate::Assigned(
            iana::Algorithm::EdDSA,
        ))
    {
        return Err(CertificateError::Signature);
    }
    let kid = String::from_utf8(sign1.protected.header.key_id.clone())
        .map_err(|_| CertificateError::Damaged)?;
    let age = (today - trust.issued).get_days() as i64;
    let stale = age > TRUST_LIST_WARN_DAYS;
    let issuer = trust
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(CertificateError::UnknownKey {
            kid: kid.clone(),
            stale,
        })?;
    let public: [u8; 32] = hex::decode(&issuer.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            CertificateError::TrustList(format!("key `{kid}` is not a 32-byte hex key"))
        })?;
    let public = VerifyingKey::from_bytes(&public)
        .map_err(|_| CertificateError::TrustList(format!("key `{kid}` is not an ed25519 key")))?;
    sign1
        .verify_signature(b"", |signature, data| {
            let signature = Signature::from_slice(signature).map_err(|_| ())?;
            public.verify_strict(data, &signature).map_err(|_| ())
        })
        .map_err(|()| CertificateError::Signature)?;
    let payload = sign1.payload.as_deref().ok_or(CertificateError::Damaged)?;
    let certificate = claims(payload)?;
    let signed_on = jiff::Timestamp::from_second(certificate.issued_at)
        .map_err(|_| CertificateError::Damaged)?
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .date();
    let in_window =
        signed_on >= issuer.valid_from && issuer.valid_until.is_none_or(|u| signed_on <= u);
    if !in_window || certificate.province != issuer.province {
        return Err(CertificateError::KeyNotValid {
            kid,
            date: signed_on,
        });
    }
    let warnings = if stale {
        vec![Warning::TrustListOld { days: age }]
    } else {
        Vec::new()
    };
    Ok(Verified {
        certificate,
        kid,
        warnings,
    })
}

fn claims(payload: &[u8]) -> Result<Certificate, CertificateError> {
    use ciborium::Value;
    let value: Value = ciborium::from_reader(payload).map_err(|_| CertificateError::Damaged)?;
    let Value::Map(claims) = value else {
        return Err(CertificateError::Damaged);
    };
    let claim = |label: i64| {
        claims
            .iter()
            .find(|(k, _)| {
                k.as_integer()
                    .is_some_and(|i| i128::from(i) == i128::from(label))
            })
            .map(|(_, v)| v)
    };
    let province = claim(CLAIM_ISS)
        .and_then(Value::as_text)
        .ok_or(CertificateError::Damaged)?;
    let issued_at = claim(CLAIM_IAT)
        .and_then(Value::as_integer)
        .and_then(|i| i64::try_from(i).ok())
        .ok_or(CertificateError::Damaged)?;
    let body = claim(CLAIM_CERT)
        .and_then(Value::as_map)
        .and_then(|m| m.iter().find(|(k, _)| k.as_integer() == Some(1.into())))
        .and_then(|(_, v)| v.as_map())
        .ok_or(CertificateError::Damaged)?;
    let field = |name: &str| {
        body.iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .and_then(|(_, v)| v.as_text())
            .map(str::to_owned)
            .ok_or(CertificateError::Damaged)
    };
    Ok(Certificate {
        id: field("id")?,
        name: field("n")?,
        track: field("t")?,
        date: field("d")?.parse().map_err(|_| CertificateError::Damaged)?,
        commune: field("c")?,
        province: province.to_owned(),
        issued_at,
    })
}
