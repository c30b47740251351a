//! Enrolment: a one-time code and the device's own key become an [`Identity`].
//!
//! The device makes its key pair (ECDSA P-256) and a PKCS#10 certificate
//! request here; the private key never leaves the device. The hub checks the
//! code and answers with a certificate bound to a role and communes.

use std::str::FromStr;
use std::time::Duration;

use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use x509_cert::builder::{Builder, RequestBuilder};
use x509_cert::der::EncodePem;
use x509_cert::name::Name;
use xaso_sync_core::enrol::{EnrolRequest, EnrolResponse};
use xaso_sync_tls::{TlsError, provider, roots};

use crate::{Error, Identity, accepted};

/// A fresh key pair and a certificate request for it: `(key PEM, CSR PEM)`.
pub fn key_and_request() -> Result<(String, String), Error> {
    key_and_request_named("CN=xaso-device")
}

/// A fresh P-256 key and a PKCS#10 request for it with the placeholder subject `subject`
/// (the hub sets the real one): `(key PEM (PKCS#8), CSR PEM)`.
pub(crate) fn key_and_request_named(subject: &str) -> Result<(String, String), Error> {
    let key = SigningKey::random(&mut rand_core::OsRng);
    let subject = Name::from_str(subject)
        .map_err(|e| Error::CertificateRequest(x509_cert::builder::Error::Asn1(e)))?;
    let csr = RequestBuilder::new(subject, &key)
        .and_then(|builder| builder.build::<DerSignature>())
        .map_err(Error::CertificateRequest)?;
    let csr_pem = csr
        .to_pem(LineEnding::LF)
        .map_err(|e| Error::CertificateRequest(x509_cert::builder::Error::Asn1(e)))?;
    let key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(Error::Key)?;
    Ok((key_pem.to_string(), csr_pem))
}

/// Enrol this device with the hub at `hub_url`, trusting only `ca_pem`.
pub async fn enrol(hub_url: &str, ca_pem: &str, code: &str) -> Result<Identity, Error> {
    let (key_pem, csr_pem) = key_and_request()?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(TlsError::from)?
        .with_root_certificates(roots(ca_pem)?)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .http1_only()
        .connect_timeout(Duration::from_secs(60))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(Error::Network)?;
    let response = http
        .post(format!("{}/v1/enrol", hub_url.trim_end_matches('/')))
        .json(&EnrolRequest {
            code: code.to_owned(),
            csr_pem,
        })
        .send()
        .await
        .map_err(Error::Network)?;
    let response = accepted(response).await?;
    let answer: EnrolResponse = response.json().await.map_err(Error::Network)?;
    Ok(Identity {
        device_id: answer.device_id,
        role: answer.role,
        communes: answer.communes,
        cert_pem: answer.cert_pem,
        key_pem,
        ca_pem: answer.ca_pem,
        device_number: Some(answer.device_number),
        hub_cert_pem: answer.hub_cert_pem,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    use x509_cert::der::DecodePem;

    #[test]
    fn the_device_key_and_request_are_well_formed_and_match() {
        let (key_pem, csr_pem) = key_and_request().unwrap();
        // rustls takes the key as it is written to the identity file.
        assert!(PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).is_ok());
        let csr = x509_cert::request::CertReq::from_pem(csr_pem.as_bytes()).unwrap();
        assert_eq!(csr.info.subject.to_string(), "CN=xaso-device");
        // The request carries the public key of the key written.
        let der = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let info = p256::pkcs8::PrivateKeyInfo::try_from(der.secret_der()).unwrap();
        let key = p256::SecretKey::from_sec1_der(info.private_key).unwrap();
        let public = key.public_key().to_sec1_bytes();
        assert_eq!(
            csr.info.public_key.subject_public_key.raw_bytes(),
            public.as_ref()
        );
    }
}
