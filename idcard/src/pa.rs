//! Passive authentication (ICAO 9303-11 §5.1): EF.SOD is a CMS SignedData over the
//! LDSSecurityObject (the data-group hashes), signed by a document signer (DS) whose
//! certificate is issued by a country signing CA (CSCA) from the configured trust store.
//!
//! The result is a [`PassiveAuth`]: verified, or not verified with every reason found.
//! Data from an unverified card stays usable but is marked.

use crate::error::ParseError;
use crate::tlv;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::OctetString;
use der::{Decode, Encode, Sequence};
use serde::Serialize;
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;
use x509_cert::Certificate;

/// id-icao-mrtd-security-ldsSecurityObject
pub const ID_LDS_SECURITY_OBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.1");
/// id-icao-cscaMasterList
pub const ID_CSCA_MASTER_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.2");

/// `DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER, dataGroupHashValue OCTET STRING }`
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct DataGroupHash {
    pub data_group_number: u8,
    pub data_group_hash_value: OctetString,
}

/// `LDSSecurityObject` (versions 0 and 1).
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct LdsSecurityObject {
    pub version: u8,
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub data_group_hash_values: Vec<DataGroupHash>,
    #[asn1(optional = "true")]
    pub lds_version_info: Option<der::Any>,
}

/// Why passive authentication did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum PaFailure {
    #[error("EF.SOD is malformed: {0}")]
    SodMalformed(String),
    #[error("EF.SOD holds no document signer certificate")]
    NoSignerCertificate,
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("the signed content digest does not match")]
    ContentDigestMismatch,
    #[error("the signature on EF.SOD is not valid")]
    BadSodSignature,
    #[error("the document signer is not issued by a known CSCA ({0})")]
    UnknownCsca(String),
    #[error("the document signer certificate signature is not valid")]
    BadCertificateSignature,
    #[error("no CSCA certificates are configured")]
    NoTrustAnchors,
    #[error("data group {0} does not match its signed hash (tampered or damaged)")]
    DataGroupHashMismatch(u8),
    #[error("data group {0} is not covered by EF.SOD")]
    DataGroupNotInSod(u8),
}

/// The result of passive authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassiveAuth {
    pub verified: bool,
    pub failures: Vec<PaFailure>,
    /// Data groups whose hash matched.
    pub data_groups_ok: Vec<u8>,
    /// Subject of the document signer certificate (not personal data).
    pub signer: Option<String>,
    /// Subject of the CSCA that issued it.
    pub csca: Option<String>,
}

impl PassiveAuth {
    fn failed(f: PaFailure) -> Self {
        PassiveAuth {
            verified: false,
            failures: vec![f],
            data_groups_ok: vec![],
            signer: None,
            csca: None,
        }
    }

    /// One line: "verified" or "not verified: reasons".
    pub fn summary(&self) -> String {
        if self.verified {
            "verified".into()
        } else {
            let r: Vec<String> = self.failures.iter().map(ToString::to_string).collect();
            format!("not verified: {}", r.join("; "))
        }
    }
}

/// A parsed EF.SOD.
#[derive(Debug, Clone)]
pub struct Sod {
    pub signed_data: SignedData,
    pub lds: LdsSecurityObject,
    econtent: Vec<u8>,
    raw_signed_attrs: Option<Vec<u8>>,
}

/// The first SignerInfo's signed attributes as encoded, re-tagged as SET (0x31).
fn raw_signed_attrs(content_info: &[u8]) -> Result<Option<Vec<u8>>, ParseError> {
    let (ci, _) = tlv::expect(content_info, 0x30)?;
    let (_, rest) = tlv::expect(ci, 0x06)?;
    let (explicit, _) = tlv::expect(rest, 0xA0)?;
    let (sd, _) = tlv::expect(explicit, 0x30)?;
    let signer_infos = tlv::parse_all(sd)?
        .into_iter()
        .last()
        .ok_or(ParseError::Truncated("SignedData"))?;
    if signer_infos.tag != 0x31 {
        return Err(ParseError::UnexpectedTag {
            expected: 0x31,
            found: signer_infos.tag,
        });
    }
    let (si, _) = tlv::expect(signer_infos.value, 0x30)?;
    let mut rest = si;
    while !rest.is_empty() {
        let (t, r) = tlv::parse(rest)?;
        if t.tag == 0xA0 {
            let mut raw = rest[..rest.len() - r.len()].to_vec();
            raw[0] = 0x31;
            return Ok(Some(raw));
        }
        rest = r;
    }
    Ok(None)
}

fn der_err(what: &'static str) -> impl Fn(der::Error) -> ParseError {
    move |e| ParseError::Der {
        what,
        detail: e.to_string(),
    }
}

impl Sod {
    pub fn parse(b: &[u8]) -> Result<Sod, ParseError> {
        let (v, _) = tlv::expect(b, 0x77)?;
        let ci = ContentInfo::from_der(v).map_err(der_err("EF.SOD ContentInfo"))?;
        if ci.content_type != rfc5911::ID_SIGNED_DATA {
            return Err(ParseError::Invalid("EF.SOD content type"));
        }
        let signed_data: SignedData = ci
            .content
            .decode_as()
            .map_err(der_err("EF.SOD SignedData"))?;
        let eci = &signed_data.encap_content_info;
        if eci.econtent_type != ID_LDS_SECURITY_OBJECT {
            return Err(ParseError::Invalid("EF.SOD encapsulated content type"));
        }
        let econtent = eci
            .econtent
            .as_ref()
            .ok_or(ParseError::Invalid("EF.SOD without content"))?
            .decode_as::<OctetString>()
            .map_err(der_err("EF.SOD content"))?
            .into_bytes();
        let lds = LdsSecurityObject::from_der(&econtent).map_err(der_err("LDSSecurityObject"))?;
        let raw_signed_attrs = raw_signed_attrs(v)?;
        Ok(Sod {
            signed_data,
            lds,
            econtent,
            raw_signed_attrs,
        })
    }

    /// The signed hash of data group `n`.
    pub fn hash_of(&self, n: u8) -> Option<&[u8]> {
        self.lds
            .data_group_hash_values
            .iter()
            .find(|h| h.data_group_number == n)
            .map(|h| h.data_group_hash_value.as_bytes())
    }

    pub fn data_groups(&self) -> Vec<u8> {
        self.lds
            .data_group_hash_values
            .iter()
            .map(|h| h.data_group_number)
            .collect()
    }
}

/// Hash `data` with the algorithm `oid`.
pub fn digest(oid: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, PaFailure> {
    Ok(match *oid {
        rfc5912::ID_SHA_1 => sha1::Sha1::digest(data).to_vec(),
        rfc5912::ID_SHA_224 => sha2::Sha224::digest(data).to_vec(),
        rfc5912::ID_SHA_256 => sha2::Sha256::digest(data).to_vec(),
        rfc5912::ID_SHA_384 => sha2::Sha384::digest(data).to_vec(),
        rfc5912::ID_SHA_512 => sha2::Sha512::digest(data).to_vec(),
        other => return Err(PaFailure::UnsupportedAlgorithm(other.to_string())),
    })
}

/// The hash a signature algorithm uses (`hint` for algorithms that do not name one).
fn signature_hash(
    alg: &AlgorithmIdentifierOwned,
    hint: &ObjectIdentifier,
) -> Result<ObjectIdentifier, PaFailure> {
    Ok(match alg.oid {
        rfc5912::ECDSA_WITH_SHA_224 | rfc5912::SHA_224_WITH_RSA_ENCRYPTION => rfc5912::ID_SHA_224,
        rfc5912::ECDSA_WITH_SHA_256 | rfc5912::SHA_256_WITH_RSA_ENCRYPTION => rfc5912::ID_SHA_256,
        rfc5912::ECDSA_WITH_SHA_384 | rfc5912::SHA_384_WITH_RSA_ENCRYPTION => rfc5912::ID_SHA_384,
        rfc5912::ECDSA_WITH_SHA_512 | rfc5912::SHA_512_WITH_RSA_ENCRYPTION => rfc5912::ID_SHA_512,
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION => rfc5912::ID_SHA_1,
        rfc5912::RSA_ENCRYPTION | rfc5912::ID_EC_PUBLIC_KEY => *hint,
        rfc5912::ID_RSASSA_PSS => {
            let params = alg
                .parameters
                .as_ref()
                .ok_or(PaFailure::UnsupportedAlgorithm(
                    "RSASSA-PSS without parameters".into(),
                ))?;
            let p: rsa::pkcs1::RsaPssParams<'_> = params.decode_as().map_err(|e| {
                PaFailure::UnsupportedAlgorithm(format!("RSASSA-PSS parameters: {e}"))
            })?;
            p.hash.oid
        }
        other => return Err(PaFailure::UnsupportedAlgorithm(other.to_string())),
    })
}

/// Verify `sig` over `message` with the public key `spki`.
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest_hint: &ObjectIdentifier,
    message: &[u8],
    sig: &[u8],
    failure: PaFailure,
) -> Result<(), PaFailure> {
    use signature::hazmat::PrehashVerifier;
    let hash_oid = signature_hash(alg, digest_hint)?;
    let hash = digest(&hash_oid, message)?;
    let key = spki.subject_public_key.raw_bytes();
    match spki.algorithm.oid {
        rfc5912::ID_EC_PUBLIC_KEY => {
            let curve: Option<ObjectIdentifier> = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok());
            let ok = match curve {
                Some(rfc5912::SECP_256_R_1) => {
                    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map_err(|_| failure.clone())?;
                    let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| failure.clone())?;
                    vk.verify_prehash(&hash, &s).is_ok()
                }
                Some(rfc5912::SECP_384_R_1) => {
                    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map_err(|_| failure.clone())?;
                    let s = p384::ecdsa::Signature::from_der(sig).map_err(|_| failure.clone())?;
                    vk.verify_prehash(&hash, &s).is_ok()
                }
                Some(other) => {
                    return Err(PaFailure::UnsupportedAlgorithm(format!("curve {other}")));
                }
                None => {
                    return Err(PaFailure::UnsupportedAlgorithm(
                        "explicit EC parameters".into(),
                    ));
                }
            };
            if ok { Ok(()) } else { Err(failure) }
        }
        rfc5912::RSA_ENCRYPTION => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let pk = rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|_| failure.clone())?;
            let r = if alg.oid == rfc5912::ID_RSASSA_PSS {
                match hash_oid {
                    rfc5912::ID_SHA_1 => pk.verify(rsa::Pss::new::<sha1::Sha1>(), &hash, sig),
                    rfc5912::ID_SHA_256 => pk.verify(rsa::Pss::new::<sha2::Sha256>(), &hash, sig),
                    rfc5912::ID_SHA_384 => pk.verify(rsa::Pss::new::<sha2::Sha384>(), &hash, sig),
                    rfc5912::ID_SHA_512 => pk.verify(rsa::Pss::new::<sha2::Sha512>(), &hash, sig),
                    other => return Err(PaFailure::UnsupportedAlgorithm(other.to_string())),
                }
            } else {
                match hash_oid {
                    rfc5912::ID_SHA_1 => {
                        pk.verify(rsa::Pkcs1v15Sign::new::<sha1::Sha1>(), &hash, sig)
                    }
                    rfc5912::ID_SHA_224 => {
                        pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha224>(), &hash, sig)
                    }
                    rfc5912::ID_SHA_256 => {
                        pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hash, sig)
                    }
                    rfc5912::ID_SHA_384 => {
                        pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), &hash, sig)
                    }
                    rfc5912::ID_SHA_512 => {
                        pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), &hash, sig)
                    }
                    other => return Err(PaFailure::UnsupportedAlgorithm(other.to_string())),
                }
            };
            r.map_err(|_| failure)
        }
        other => Err(PaFailure::UnsupportedAlgorithm(format!("key {other}"))),
    }
}

/// CSCA certificates trusted for passive authentication.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    cscas: Vec<Certificate>,
}

/// Errors loading a trust store.
#[derive(Debug, Error)]
pub enum TrustStoreError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("not a certificate, PEM bundle or ICAO master list: {0}")]
    Format(String),
}

impl TrustStore {
    pub fn new() -> Self {
        TrustStore::default()
    }

    pub fn from_certificates(cscas: Vec<Certificate>) -> Self {
        TrustStore { cscas }
    }

    pub fn len(&self) -> usize {
        self.cscas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cscas.is_empty()
    }

    pub fn add(&mut self, cert: Certificate) {
        self.cscas.push(cert);
    }

    /// Add certificates from bytes: PEM (one or more certificates), an ICAO CSCA master
    /// list (CMS SignedData), or one DER certificate. Returns how many were added.
    /// The master list's own signature is not checked: the file is operator configuration.
    pub fn add_bytes(&mut self, b: &[u8]) -> Result<usize, TrustStoreError> {
        let fmt = |e: der::Error| TrustStoreError::Format(e.to_string());
        if let Ok(text) = std::str::from_utf8(b)
            && text.contains("-----BEGIN CERTIFICATE-----")
        {
            let certs = Certificate::load_pem_chain(b).map_err(fmt)?;
            let n = certs.len();
            self.cscas.extend(certs);
            return Ok(n);
        }
        if let Ok(c) = Certificate::from_der(b) {
            self.cscas.push(c);
            return Ok(1);
        }
        let ci = ContentInfo::from_der(b).map_err(fmt)?;
        let sd: SignedData = ci.content.decode_as().map_err(fmt)?;
        if sd.encap_content_info.econtent_type != ID_CSCA_MASTER_LIST {
            return Err(TrustStoreError::Format(
                "CMS content is not a CSCA master list".into(),
            ));
        }
        let content = sd
            .encap_content_info
            .econtent
            .as_ref()
            .ok_or_else(|| TrustStoreError::Format("empty master list".into()))?
            .decode_as::<OctetString>()
            .map_err(fmt)?;
        let perr = |e: ParseError| TrustStoreError::Format(e.to_string());
        let (seq, _) = tlv::expect(content.as_bytes(), 0x30).map_err(perr)?;
        let (_, rest) = tlv::expect(seq, 0x02).map_err(perr)?;
        let (mut set, _) = tlv::expect(rest, 0x31).map_err(perr)?;
        let mut n = 0;
        while !set.is_empty() {
            let (_, r) = tlv::parse(set).map_err(perr)?;
            let raw = &set[..set.len() - r.len()];
            self.cscas.push(Certificate::from_der(raw).map_err(fmt)?);
            n += 1;
            set = r;
        }
        Ok(n)
    }

    pub fn add_file(&mut self, path: &Path) -> Result<usize, TrustStoreError> {
        let b = std::fs::read(path).map_err(|source| TrustStoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.add_bytes(&b)
    }

    fn issuers_of(&self, cert: &Certificate) -> impl Iterator<Item = &Certificate> {
        let issuer = cert.tbs_certificate.issuer.to_der().unwrap_or_default();
        self.cscas
            .iter()
            .filter(move |c| c.tbs_certificate.subject.to_der().unwrap_or_default() == issuer)
    }
}

fn signer_certificate(sd: &SignedData) -> Result<&Certificate, PaFailure> {
    let si = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or(PaFailure::SodMalformed("no signer info".into()))?;
    let certs = sd
        .certificates
        .as_ref()
        .ok_or(PaFailure::NoSignerCertificate)?;
    certs
        .0
        .iter()
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .find(|c| match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.issuer == c.tbs_certificate.issuer
                    && ias.serial_number == c.tbs_certificate.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(_) => true,
        })
        .ok_or(PaFailure::NoSignerCertificate)
}

/// Check the SOD signature (content digest and signer signature); returns the DS cert.
fn check_sod_signature(sod: &Sod) -> Result<&Certificate, PaFailure> {
    let sd = &sod.signed_data;
    let si = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or(PaFailure::SodMalformed("no signer info".into()))?;
    let ds = signer_certificate(sd)?;
    let digest_oid = si.digest_alg.oid;
    let content_digest = digest(&digest_oid, &sod.econtent)?;
    let signed = match &si.signed_attrs {
        Some(attrs) => {
            let md = attrs
                .iter()
                .find(|a| a.oid == rfc5911::ID_MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .ok_or(PaFailure::SodMalformed(
                    "no message digest attribute".into(),
                ))?;
            if md.as_bytes() != content_digest.as_slice() {
                return Err(PaFailure::ContentDigestMismatch);
            }
            // Sign over the attributes exactly as the card encoded them (the DER decoder
            // sorts SET OF, and some issuers do not).
            match &sod.raw_signed_attrs {
                Some(raw) => raw.clone(),
                None => attrs
                    .to_der()
                    .map_err(|e| PaFailure::SodMalformed(e.to_string()))?,
            }
        }
        None => sod.econtent.clone(),
    };
    verify_signature(
        &ds.tbs_certificate.subject_public_key_info,
        &si.signature_algorithm,
        &digest_oid,
        &signed,
        si.signature.as_bytes(),
        PaFailure::BadSodSignature,
    )?;
    Ok(ds)
}

/// Verify EF.SOD against the trust store and check the hash of every data group read.
/// `data_groups` maps the data group number to the file's bytes as read.
pub fn verify<B: AsRef<[u8]>>(
    sod_bytes: &[u8],
    data_groups: &BTreeMap<u8, B>,
    trust: &TrustStore,
) -> PassiveAuth {
    let sod = match Sod::parse(sod_bytes) {
        Ok(s) => s,
        Err(e) => return PassiveAuth::failed(PaFailure::SodMalformed(e.to_string())),
    };
    let mut pa = PassiveAuth {
        verified: false,
        failures: vec![],
        data_groups_ok: vec![],
        signer: None,
        csca: None,
    };
    match check_sod_signature(&sod) {
        Ok(ds) => {
            pa.signer = Some(ds.tbs_certificate.subject.to_string());
            if trust.is_empty() {
                pa.failures.push(PaFailure::NoTrustAnchors);
            } else {
                let mut found_issuer = false;
                let mut ok = None;
                for csca in trust.issuers_of(ds) {
                    found_issuer = true;
                    let tbs = ds.tbs_certificate.to_der().unwrap_or_default();
                    if verify_signature(
                        &csca.tbs_certificate.subject_public_key_info,
                        &ds.signature_algorithm,
                        &rfc5912::ID_SHA_256,
                        &tbs,
                        ds.signature.raw_bytes(),
                        PaFailure::BadCertificateSignature,
                    )
                    .is_ok()
                    {
                        ok = Some(csca.tbs_certificate.subject.to_string());
                        break;
                    }
                }
                match (found_issuer, ok) {
                    (_, Some(csca)) => pa.csca = Some(csca),
                    (true, None) => pa.failures.push(PaFailure::BadCertificateSignature),
                    (false, None) => pa.failures.push(PaFailure::UnknownCsca(
                        ds.tbs_certificate.issuer.to_string(),
                    )),
                }
            }
        }
        Err(f) => pa.failures.push(f),
    }
    let hash_oid = sod.lds.hash_algorithm.oid;
    for (n, bytes) in data_groups {
        match (sod.hash_of(*n), digest(&hash_oid, bytes.as_ref())) {
            (None, _) => pa.failures.push(PaFailure::DataGroupNotInSod(*n)),
            (_, Err(f)) => {
                pa.failures.push(f);
                break;
            }
            (Some(expected), Ok(h)) if expected == h.as_slice() => pa.data_groups_ok.push(*n),
            (Some(_), Ok(_)) => pa.failures.push(PaFailure::DataGroupHashMismatch(*n)),
        }
    }
    pa.verified = pa.failures.is_empty();
    pa
}

#[cfg(test)]
mod tests {
    use super::*;
    use signature::{RandomizedSigner, SignatureEncoding, Signer};
    use spki::EncodePublicKey;

    fn spki_of<K: EncodePublicKey>(k: &K) -> SubjectPublicKeyInfoOwned {
        SubjectPublicKeyInfoOwned::from_der(k.to_public_key_der().unwrap().as_bytes()).unwrap()
    }

    fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        }
    }

    #[test]
    fn rsa_pkcs1_pss_and_p384_signatures() {
        let msg = b"signed attributes";
        let bad = PaFailure::BadSodSignature;
        let check =
            |spki: &SubjectPublicKeyInfoOwned, a: &AlgorithmIdentifierOwned, m: &[u8], s: &[u8]| {
                verify_signature(
                    spki,
                    a,
                    &rfc5912::ID_SHA_256,
                    m,
                    s,
                    PaFailure::BadSodSignature,
                )
            };
        let mut rng = rsa::rand_core::OsRng;
        let sk = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let spki = spki_of(&sk.to_public_key());
        let s = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(sk.clone())
            .sign(msg)
            .to_vec();
        assert_eq!(
            check(&spki, &alg(rfc5912::SHA_256_WITH_RSA_ENCRYPTION), msg, &s),
            Ok(())
        );
        assert_eq!(
            check(&spki, &alg(rfc5912::RSA_ENCRYPTION), msg, &s),
            Ok(()),
            "digest from the hint"
        );
        assert_eq!(
            check(
                &spki,
                &alg(rfc5912::SHA_256_WITH_RSA_ENCRYPTION),
                b"other",
                &s
            ),
            Err(bad.clone())
        );

        let s = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(sk)
            .sign_with_rng(&mut rng, msg)
            .to_vec();
        let params =
            der::Any::encode_from(&rsa::pkcs1::RsaPssParams::new::<sha2::Sha256>(32)).unwrap();
        let pss = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_RSASSA_PSS,
            parameters: Some(params),
        };
        assert_eq!(check(&spki, &pss, msg, &s), Ok(()));
        assert_eq!(check(&spki, &pss, b"other", &s), Err(bad.clone()));

        let k = p384::ecdsa::SigningKey::from_bytes(&[7u8; 48].into()).unwrap();
        let s: p384::ecdsa::DerSignature = k.sign(msg);
        let spki = spki_of(k.verifying_key());
        let a = alg(rfc5912::ECDSA_WITH_SHA_384);
        assert_eq!(
            verify_signature(
                &spki,
                &a,
                &rfc5912::ID_SHA_256,
                msg,
                s.as_bytes(),
                bad.clone()
            ),
            Ok(())
        );
        assert_eq!(
            verify_signature(
                &spki,
                &a,
                &rfc5912::ID_SHA_256,
                b"x",
                s.as_bytes(),
                bad.clone()
            ),
            Err(bad)
        );
    }
}
