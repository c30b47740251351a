//! Verifying a signed result document without poppler: the byte ranges, the CMS signature,
//! the PAdES signing-certificate binding and the chain to the trusted CA.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::{rfc4519, rfc5911, rfc5912};
use der::asn1::{GeneralizedTime, OctetString, UtcTime};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use jiff::Timestamp;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use crate::sign::SigningCertificateV2;

/// What a valid signature says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signer's common name (the officer's name).
    pub signer_name: String,
    /// The signing time of the signed attributes.
    pub signing_time: Timestamp,
    /// The SHA-256 of the signed bytes, hex.
    pub signed_sha256: String,
}

/// Why a document does not verify; one variant per cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the document is not a readable PDF")]
    NotPdf,
    #[error("the document has no signature")]
    NotSigned,
    #[error("the document has more than one signature")]
    SeveralSignatures,
    #[error("the signature's byte range is malformed")]
    BadByteRange,
    #[error("the signature does not cover the whole document")]
    NotWholeDocument,
    #[error("the signature value is not a CMS SignedData")]
    BadCms,
    #[error("the signature uses an algorithm other than ECDSA P-256 with SHA-256")]
    UnsupportedAlgorithm,
    #[error("a signed attribute is missing or malformed: {0}")]
    BadAttribute(&'static str),
    #[error("the document was changed after it was signed")]
    DigestMismatch,
    #[error("the signer's certificate is not in the signature")]
    SignerCertificateMissing,
    #[error("the signing-certificate attribute names another certificate")]
    SigningCertificateMismatch,
    #[error("the signature value does not match")]
    BadSignature,
    #[error("the trusted CA certificate cannot be read")]
    BadTrustedCa,
    #[error("the signer's certificate was not issued by the trusted CA")]
    UntrustedSigner,
    #[error("the signer's certificate was not valid at the signing time")]
    CertificateNotValidAtSigningTime,
}

/// The signer's common name.
pub(crate) fn common_name(cert: &Certificate) -> Option<String> {
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == rfc4519::CN {
                if let Ok(s) = der::asn1::Utf8StringRef::try_from(&atv.value) {
                    return Some(s.as_str().to_owned());
                }
                if let Ok(s) = der::asn1::PrintableStringRef::try_from(&atv.value) {
                    return Some(s.as_str().to_owned());
                }
            }
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The signature dictionary's byte range, from the parsed document.
fn byte_range(pdf: &[u8]) -> Result<[usize; 4], VerifyError> {
    let doc = lopdf::Document::load_mem(pdf).map_err(|_| VerifyError::NotPdf)?;
    let mut found = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else {
            continue;
        };
        let is_sig = dict
            .get(b"Type")
            .and_then(lopdf::Object::as_name)
            .is_ok_and(|n| n == b"Sig");
        if is_sig || dict.has(b"ByteRange") {
            found.push(
                dict.get(b"ByteRange")
                    .map_err(|_| VerifyError::BadByteRange)?,
            );
        }
    }
    let range = match found.as_slice() {
        [] => return Err(VerifyError::NotSigned),
        [one] => one.as_array().map_err(|_| VerifyError::BadByteRange)?,
        _ => return Err(VerifyError::SeveralSignatures),
    };
    let numbers: Vec<usize> = range
        .iter()
        .map(|o| {
            o.as_i64()
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(VerifyError::BadByteRange)
        })
        .collect::<Result<_, _>>()?;
    <[usize; 4]>::try_from(numbers).map_err(|_| VerifyError::BadByteRange)
}

fn attribute<'a>(
    info: &'a SignerInfo,
    oid: der::oid::ObjectIdentifier,
    what: &'static str,
) -> Result<&'a der::Any, VerifyError> {
    info.signed_attrs
        .as_ref()
        .and_then(|attrs| attrs.iter().find(|a| a.oid == oid))
        .and_then(|a| a.values.iter().next())
        .ok_or(VerifyError::BadAttribute(what))
}

fn time_of(any: &der::Any) -> Result<Timestamp, VerifyError> {
    let bad = || VerifyError::BadAttribute("signing-time");
    let unix = match any.tag() {
        Tag::UtcTime => any
            .decode_as::<UtcTime>()
            .map_err(|_| bad())?
            .to_unix_duration(),
        Tag::GeneralizedTime => any
            .decode_as::<GeneralizedTime>()
            .map_err(|_| bad())?
            .to_unix_duration(),
        _ => return Err(bad()),
    };
    let secs = i64::try_from(unix.as_secs()).map_err(|_| bad())?;
    Timestamp::from_second(secs).map_err(|_| bad())
}

fn verifying_key(cert: &Certificate) -> Result<VerifyingKey, VerifyError> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != rfc5912::ID_EC_PUBLIC_KEY {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
        .map_err(|_| VerifyError::UnsupportedAlgorithm)
}

/// Checks the signature of `pdf` and that its signer's certificate was issued by the CA whose
/// certificate is `trusted_ca_der`.
pub fn verify(pdf: &[u8], trusted_ca_der: &[u8]) -> Result<Verified, VerifyError> {
    let [start, first_len, second, second_len] = byte_range(pdf)?;
    if start != 0 || first_len >= second || second > pdf.len() {
        return Err(VerifyError::BadByteRange);
    }
    if second.checked_add(second_len) != Some(pdf.len()) {
        return Err(VerifyError::NotWholeDocument);
    }
    // The gap between the ranges is exactly the `/Contents` hex string.
    let gap = &pdf[first_len..second];
    let hex = gap
        .strip_prefix(b"<")
        .and_then(|g| g.strip_suffix(b">"))
        .ok_or(VerifyError::BadByteRange)?;
    if find(
        &pdf[..first_len],
        b"/Contents",
        first_len.saturating_sub(32),
    )
    .is_none()
    {
        return Err(VerifyError::BadByteRange);
    }
    let cms = hex::decode(hex).map_err(|_| VerifyError::BadCms)?;
    let mut reader = SliceReader::new(&cms).map_err(|_| VerifyError::BadCms)?;
    let info: ContentInfo = reader.decode().map_err(|_| VerifyError::BadCms)?;
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(VerifyError::BadCms);
    }
    let signed: SignedData = info.content.decode_as().map_err(|_| VerifyError::BadCms)?;
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(VerifyError::BadCms);
    };
    if signer.digest_alg.oid != rfc5912::ID_SHA_256
        || signer.signature_algorithm.oid != rfc5912::ECDSA_WITH_SHA_256
    {
        return Err(VerifyError::UnsupportedAlgorithm);
    }

    // The document's digest, as the signed attributes state it.
    let mut hasher = Sha256::new();
    hasher.update(&pdf[..first_len]);
    hasher.update(&pdf[second..]);
    let digest = hasher.finalize();
    let stated = attribute(signer, rfc5911::ID_MESSAGE_DIGEST, "message-digest")?
        .decode_as::<OctetString>()
        .map_err(|_| VerifyError::BadAttribute("message-digest"))?;
    if stated.as_bytes() != digest.as_slice() {
        return Err(VerifyError::DigestMismatch);
    }
    let content_type = attribute(signer, rfc5911::ID_CONTENT_TYPE, "content-type")?
        .decode_as::<der::oid::ObjectIdentifier>()
        .map_err(|_| VerifyError::BadAttribute("content-type"))?;
    if content_type != rfc5911::ID_DATA {
        return Err(VerifyError::BadAttribute("content-type"));
    }
    let signing_time = time_of(attribute(signer, rfc5911::ID_SIGNING_TIME, "signing-time")?)?;

    // The signer's certificate, by issuer and serial number.
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
        return Err(VerifyError::SignerCertificateMissing);
    };
    let cert = signed
        .certificates
        .as_ref()
        .into_iter()
        .flat_map(|set| set.0.iter())
        .find_map(|c| match c {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate.issuer == sid.issuer
                    && c.tbs_certificate.serial_number == sid.serial_number =>
            {
                Some(c)
            }
            _ => None,
        })
        .ok_or(VerifyError::SignerCertificateMissing)?;
    let cert_der = cert.to_der().map_err(|_| VerifyError::BadCms)?;
    let bound: SigningCertificateV2 = attribute(
        signer,
        rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        "signing-certificate-v2",
    )?
    .decode_as()
    .map_err(|_| VerifyError::BadAttribute("signing-certificate-v2"))?;
    let cert_hash = Sha256::digest(&cert_der);
    if bound.certs.first().map(|c| c.cert_hash.as_bytes()) != Some(cert_hash.as_slice()) {
        return Err(VerifyError::SigningCertificateMismatch);
    }

    // The signature over the DER of the signed attributes (a SET).
    let attrs_der = signer
        .signed_attrs
        .as_ref()
        .ok_or(VerifyError::BadAttribute("signed attributes"))?
        .to_der()
        .map_err(|_| VerifyError::BadCms)?;
    let signature = DerSignature::from_bytes(signer.signature.as_bytes())
        .map_err(|_| VerifyError::BadSignature)?;
    verifying_key(cert)?
        .verify(&attrs_der, &signature)
        .map_err(|_| VerifyError::BadSignature)?;

    // The chain: the signer's certificate signed by the trusted CA.
    let ca = Certificate::from_der(trusted_ca_der).map_err(|_| VerifyError::BadTrustedCa)?;
    if cert.tbs_certificate.issuer != ca.tbs_certificate.subject {
        return Err(VerifyError::UntrustedSigner);
    }
    if cert.signature_algorithm.oid != rfc5912::ECDSA_WITH_SHA_256 {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|_| VerifyError::UntrustedSigner)?;
    let cert_signature = DerSignature::from_bytes(cert.signature.raw_bytes())
        .map_err(|_| VerifyError::UntrustedSigner)?;
    verifying_key(&ca)
        .map_err(|_| VerifyError::BadTrustedCa)?
        .verify(&tbs, &cert_signature)
        .map_err(|_| VerifyError::UntrustedSigner)?;
    let validity = &cert.tbs_certificate.validity;
    let at = std::time::Duration::from_secs(
        u64::try_from(signing_time.as_second())
            .map_err(|_| VerifyError::CertificateNotValidAtSigningTime)?,
    );
    if at < validity.not_before.to_unix_duration() || at > validity.not_after.to_unix_duration() {
        return Err(VerifyError::CertificateNotValidAtSigningTime);
    }

    Ok(Verified {
        signer_name: common_name(cert).unwrap_or_default(),
        signing_time,
        signed_sha256: hex::encode(digest),
    })
}
