//! Signing: a PAdES signature appended to the rendered PDF as an incremental update.
//!
//! The update adds a signature dictionary (`/Filter /Adobe.PPKLite /SubFilter
//! /ETSI.CAdES.detached`, `/ByteRange`, `/Contents`), an invisible signature widget on the
//! first page, and the catalog's `/AcroForm` (`/SigFlags 3`). It is written by lopdf with a
//! fixed-width `/ByteRange` and a `/Contents` placeholder; the ranges are then filled in, the
//! SHA-256 of the bytes they cover is signed in a CMS SignedData built by the RustCrypto `cms`
//! crate, and its DER goes into the placeholder. The bytes before the update are not touched.

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, DecodePem, Encode, Sequence};
use jiff::Timestamp;
use lopdf::{Dictionary, Document, IncrementalDocument, Object, StringFormat};
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::DocumentError;

/// Room reserved for the CMS SignedData in `/Contents`, in bytes (two P-256 certificates
/// and the signed attributes take about 1.5 KB).
pub const CONTENTS_CAPACITY: usize = 8192;

/// The `/ByteRange` placeholder: four numbers, each as wide as any real offset will be.
const BYTE_RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// Who signs: the officer's P-256 key, their certificate and the certificate of the CA that
/// issued it (the commune hub's).
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    certificate: Certificate,
    ca: Certificate,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field(
                "subject",
                &self.certificate.tbs_certificate.subject.to_string(),
            )
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from its key and the DER of its certificate and of the CA's certificate.
    /// The certificate must be for this key and issued by this CA (by name).
    pub fn new(
        key: SigningKey,
        certificate_der: &[u8],
        ca_der: &[u8],
    ) -> Result<Signer, DocumentError> {
        let certificate =
            Certificate::from_der(certificate_der).map_err(DocumentError::Certificate)?;
        let ca = Certificate::from_der(ca_der).map_err(DocumentError::Certificate)?;
        Signer::checked(key, certificate, ca)
    }

    /// A signer from PEM: the key as PKCS#8 (`PRIVATE KEY`), the two certificates.
    pub fn from_pem(
        key_pem: &str,
        certificate_pem: &str,
        ca_pem: &str,
    ) -> Result<Signer, DocumentError> {
        let key = SigningKey::from_pkcs8_pem(key_pem).map_err(|_| DocumentError::Key)?;
        let certificate =
            Certificate::from_pem(certificate_pem).map_err(DocumentError::Certificate)?;
        let ca = Certificate::from_pem(ca_pem).map_err(DocumentError::Certificate)?;
        Signer::checked(key, certificate, ca)
    }

    fn checked(
        key: SigningKey,
        certificate: Certificate,
        ca: Certificate,
    ) -> Result<Signer, DocumentError> {
        let public = p256::PublicKey::from(key.verifying_key());
        let certified = p256::PublicKey::from_sec1_bytes(
            certificate
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        )
        .map_err(|_| DocumentError::KeyMismatch)?;
        if public != certified {
            return Err(DocumentError::KeyMismatch);
        }
        if certificate.tbs_certificate.issuer != ca.tbs_certificate.subject {
            return Err(DocumentError::NotIssuedByCa);
        }
        Ok(Signer {
            key,
            certificate,
            ca,
        })
    }

    /// The signer's common name (the officer's name on the certificate).
    pub fn name(&self) -> Option<String> {
        crate::verify::common_name(&self.certificate)
    }
}

/// ESSCertIDv2 (RFC 5035), the hash algorithm left at its default, SHA-256.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct EssCertIdV2 {
    pub cert_hash: OctetString,
    pub issuer_serial: Option<IssuerSerial>,
}

/// IssuerSerial (RFC 5035).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// SigningCertificateV2 (RFC 5035): the certificate the signer means, bound into the
/// signed attributes (PAdES requires it).
#[derive(Clone, Debug, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

fn attribute(oid: der::oid::ObjectIdentifier, value: Any) -> Result<Attribute, DocumentError> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(DocumentError::Cms)?;
    Ok(Attribute { oid, values })
}

/// RFC 5652: UTCTime for 1950–2049, GeneralizedTime otherwise.
fn signing_time(time: Timestamp) -> Result<Attribute, DocumentError> {
    let secs = u64::try_from(time.as_second()).map_err(|_| DocumentError::Time)?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|_| DocumentError::Time)?;
    let value = if (1950..2050).contains(&dt.year()) {
        Any::encode_from(&UtcTime::from_date_time(dt).map_err(DocumentError::Cms)?)
    } else {
        Any::encode_from(&GeneralizedTime::from_date_time(dt))
    }
    .map_err(DocumentError::Cms)?;
    attribute(rfc5911::ID_SIGNING_TIME, value)
}

fn signing_certificate(cert: &Certificate) -> Result<Attribute, DocumentError> {
    let der = cert.to_der().map_err(DocumentError::Cms)?;
    let v2 = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(&der).to_vec())
                .map_err(DocumentError::Cms)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate.issuer.clone(),
                )],
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    attribute(
        rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
        Any::encode_from(&v2).map_err(DocumentError::Cms)?,
    )
}

/// The detached CMS SignedData over a document whose signed bytes hash to `digest`.
fn signed_data(signer: &Signer, digest: &[u8], time: Timestamp) -> Result<Vec<u8>, DocumentError> {
    let content = EncapsulatedContentInfo {
        econtent_type: rfc5911::ID_DATA,
        econtent: None,
    };
    let sha256 = AlgorithmIdentifierOwned {
        oid: rfc5912::ID_SHA_256,
        parameters: None,
    };
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: signer.certificate.tbs_certificate.issuer.clone(),
        serial_number: signer.certificate.tbs_certificate.serial_number.clone(),
    });
    // The builder adds content-type and message-digest itself.
    let mut info = SignerInfoBuilder::new(&signer.key, sid, sha256.clone(), &content, Some(digest))
        .map_err(DocumentError::CmsBuild)?;
    info.add_signed_attribute(signing_time(time)?)
        .map_err(DocumentError::CmsBuild)?;
    info.add_signed_attribute(signing_certificate(&signer.certificate)?)
        .map_err(DocumentError::CmsBuild)?;
    let mut builder = SignedDataBuilder::new(&content);
    builder
        .add_digest_algorithm(sha256)
        .map_err(DocumentError::CmsBuild)?
        .add_certificate(CertificateChoices::Certificate(signer.certificate.clone()))
        .map_err(DocumentError::CmsBuild)?
        .add_certificate(CertificateChoices::Certificate(signer.ca.clone()))
        .map_err(DocumentError::CmsBuild)?
        .add_signer_info::<_, DerSignature>(info)
        .map_err(DocumentError::CmsBuild)?;
    builder
        .build()
        .map_err(DocumentError::CmsBuild)?
        .to_der()
        .map_err(DocumentError::Cms)
}

/// A PDF date in Viet Nam's time, e.g. `D:20260105093000+07'00'`.
fn pdf_date(time: Timestamp) -> String {
    let t = time
        .to_zoned_datetime(xaso_services::calendar::vietnam_time_zone())
        .datetime();
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+07'00'",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Signs `pdf` (as [`crate::render`] writes it) for `signer` at `time`: the same bytes with
/// the signature appended as an incremental update.
pub fn sign(pdf: &[u8], signer: &Signer, time: Timestamp) -> Result<Vec<u8>, DocumentError> {
    let prev = Document::load_mem(pdf).map_err(DocumentError::Pdf)?;
    let root_id = prev
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(DocumentError::Pdf)?;
    let page_id = *prev
        .get_pages()
        .values()
        .next()
        .ok_or(DocumentError::NoPage)?;
    if prev.catalog().map_err(DocumentError::Pdf)?.has(b"AcroForm") {
        return Err(DocumentError::AlreadyHasForm);
    }
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), prev);
    let doc = &mut update.new_document;

    let mut sig = Dictionary::new();
    sig.set("Type", Object::Name(b"Sig".to_vec()));
    sig.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    sig.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    sig.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
            Object::Integer(BYTE_RANGE_PLACEHOLDER),
        ]),
    );
    sig.set(
        "Contents",
        Object::String(vec![0; CONTENTS_CAPACITY], StringFormat::Hexadecimal),
    );
    sig.set(
        "M",
        Object::String(pdf_date(time).into_bytes(), StringFormat::Literal),
    );
    if let Some(name) = signer.name() {
        sig.set("Name", Object::string_literal(name));
    }
    let sig_id = doc.add_object(Object::Dictionary(sig));

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set(
        "Rect",
        Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
    );
    widget.set("T", Object::string_literal("Signature1"));
    widget.set("V", Object::Reference(sig_id));
    // Print + Locked.
    widget.set("F", Object::Integer(132));
    widget.set("P", Object::Reference(page_id));
    let widget_id = doc.add_object(Object::Dictionary(widget));

    update
        .opt_clone_object_to_new_document(page_id)
        .map_err(DocumentError::Pdf)?;
    let annots = match update
        .get_prev_documents()
        .get_dictionary(page_id)
        .and_then(|p| p.get(b"Annots"))
    {
        Ok(Object::Array(a)) => a.clone(),
        Ok(Object::Reference(r)) => update
            .get_prev_documents()
            .get_object(*r)
            .and_then(Object::as_array)
            .map_err(DocumentError::Pdf)?
            .clone(),
        _ => Vec::new(),
    };
    let mut annots = annots;
    annots.push(Object::Reference(widget_id));
    update
        .new_document
        .get_dictionary_mut(page_id)
        .map_err(DocumentError::Pdf)?
        .set("Annots", Object::Array(annots));

    update
        .opt_clone_object_to_new_document(root_id)
        .map_err(DocumentError::Pdf)?;
    let mut form = Dictionary::new();
    form.set("Fields", Object::Array(vec![Object::Reference(widget_id)]));
    form.set("SigFlags", Object::Integer(3));
    update
        .new_document
        .get_dictionary_mut(root_id)
        .map_err(DocumentError::Pdf)?
        .set("AcroForm", Object::Dictionary(form));

    let mut out = Vec::with_capacity(pdf.len() + 2 * CONTENTS_CAPACITY + 2048);
    update.save_to(&mut out).map_err(DocumentError::Update)?;

    // Fill in the byte ranges around the `/Contents` hex string.
    let start = pdf.len();
    // The page's `/Contents` is a reference; the signature's is the run of zeros.
    let zeros = vec![b'0'; 2 * CONTENTS_CAPACITY];
    let open = find(&out, &zeros, start)
        .and_then(|p| p.checked_sub(1))
        .ok_or(DocumentError::Placeholder)?;
    let close = open + 1 + 2 * CONTENTS_CAPACITY;
    if out.get(open) != Some(&b'<') || out.get(close) != Some(&b'>') {
        return Err(DocumentError::Placeholder);
    }
    let after = close + 1;
    let br = find(&out, b"/ByteRange", start).ok_or(DocumentError::Placeholder)?;
    let br_open = find(&out, b"[", br).ok_or(DocumentError::Placeholder)?;
    let br_close = find(&out, b"]", br_open).ok_or(DocumentError::Placeholder)?;
    let ranges = format!("0 {} {} {}", open, after, out.len() - after);
    let slot = out
        .get_mut(br_open + 1..br_close)
        .ok_or(DocumentError::Placeholder)?;
    if ranges.len() > slot.len() {
        return Err(DocumentError::Placeholder);
    }
    slot.fill(b' ');
    slot[..ranges.len()].copy_from_slice(ranges.as_bytes());

    let mut hasher = Sha256::new();
    hasher.update(&out[..open]);
    hasher.update(&out[after..]);
    let digest = hasher.finalize();
    let cms = signed_data(signer, &digest, time)?;
    if cms.len() > CONTENTS_CAPACITY {
        return Err(DocumentError::SignatureTooLarge(cms.len()));
    }
    let hex = hex::encode_upper(&cms);
    out[open + 1..open + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(out)
}
