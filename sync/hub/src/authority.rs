//! The hub's certificate authority (rcgen): the CA and server certificate
//! made on first start, device certificates issued at enrolment, and the
//! one-time enrolment codes.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use sha2::{Digest, Sha256};
use xaso_sync_tls::{Validity, cert_sha256_hex};

use crate::error::{EnrolmentRefused, HubError};
use crate::registry::{Authority, Grant, Issued};

const YEAR: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Create the CA and the server certificate for `server_names`.
pub fn create(server_names: &[String]) -> Result<Authority, HubError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Xã Số commune hub CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = time_now();
    ca_params.not_after = time_now() + 20 * YEAR;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);
    let server_key = KeyPair::generate()?;
    let mut server_params = CertificateParams::new(server_names.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Xã Số commune hub");
    server_params.distinguished_name = dn;
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = time_now();
    server_params.not_after = time_now() + 5 * YEAR;
    let server_cert = server_params.signed_by(&server_key, &issuer)?;
    Ok(Authority {
        ca_cert_pem: ca_cert.pem(),
        ca_key_pem: ca_key.serialize_pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
        server_names: server_names.to_vec(),
    })
}

/// A new device id: `dev-` and 16 random hex digits.
pub fn new_device_id() -> Result<String, HubError> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| HubError::Random)?;
    Ok(format!("dev-{}", hex::encode(bytes)))
}

/// Sign the device's certificate request: the certificate names the device
/// id, its role and its communes, is valid for five years and may only
/// authenticate a TLS client. Returns it and its validity.
pub fn issue(
    authority: &Authority,
    csr_pem: &str,
    device_id: String,
    grant: &Grant,
) -> Result<(Issued, Validity), HubError> {
    let csr =
        CertificateSigningRequestParams::from_pem(csr_pem).map_err(EnrolmentRefused::BadRequest)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, device_id.as_str());
    dn.push(DnType::OrganizationalUnitName, grant.role.as_str());
    dn.push(
        DnType::OrganizationName,
        format!("communes:{}", grant.communes.join(",")),
    );
    params.distinguished_name = dn;
    params.not_before = time_now();
    params.not_after = time_now() + 5 * YEAR;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let ca_key = KeyPair::from_pem(&authority.ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(&authority.ca_cert_pem, ca_key)?;
    let cert = params.signed_by(&csr.public_key, &issuer)?;
    let validity = Validity::of(cert.der())?;
    Ok((
        Issued {
            device_id,
            cert_pem: cert.pem(),
            cert_sha256: cert_sha256_hex(cert.der()),
        },
        validity,
    ))
}

/// A new one-time enrolment code, `XXXXX-XXXXX` from an alphabet without
/// look-alikes (no 0/O, 1/I).
pub fn new_code() -> Result<String, HubError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 10];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw)
        .map_err(|_| HubError::Random)?;
    let chars: String = raw
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Ok(format!("{}-{}", &chars[..5], &chars[5..]))
}

/// What the registry keeps of a code: the SHA-256 of its letters and digits,
/// upper case (so `abcde-fghij`, `ABCDEFGHIJ` and `ABCDE FGHIJ` are one code).
pub fn code_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(normalized.as_bytes()))
}
