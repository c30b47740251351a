//! # Xã Số sync TLS
//!
//! TLS pieces shared by the hub (`xaso-hub`) and its devices
//! (`xaso-sync-client`): the crypto provider, certificate validity, and two
//! certificate verifiers that do not re-verify a certificate chain already
//! known to be good. Both sides speak TLS 1.3 only.
//!
//! A full TLS 1.3 handshake with certificates both ways costs each side two
//! ECDSA verifications: the peer's certificate against its issuer, and the
//! peer's handshake signature (proof that it holds the key). The first one
//! only depends on the certificate, so:
//! - the hub remembers the device certificates it issued (at enrolment) or
//!   has verified since, by SHA-256 of their exact bytes, with their validity;
//! - a device remembers the hub certificate it was given at enrolment.
//!
//! A remembered certificate, presented inside its validity period, skips the
//! chain check; anything else takes the ordinary WebPKI verification. The
//! handshake signature is verified in every full handshake, so a remembered
//! certificate is of no use without its private key. Revocation is not a
//! matter of the chain: the hub checks its registry on every request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;

/// Why a certificate, key or TLS configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM text holds no certificate or key of the expected kind.
    #[error("PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// A certificate's DER does not parse.
    #[error("unreadable certificate: {0}")]
    Certificate(#[from] x509_cert::der::Error),
    /// rustls refused a certificate, key or configuration.
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// A certificate verifier could not be built from the roots given.
    #[error("certificate verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// A root store holding exactly the hub CA of `ca_pem`.
pub fn roots(ca_pem: &str) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes())?)?;
    Ok(roots)
}

/// SHA-256 of a certificate's DER, in hex: how the hub's registry names a
/// device certificate.
pub fn cert_sha256_hex(der: &[u8]) -> String {
    hex::encode(fingerprint(der))
}

/// The crypto provider used everywhere (ring), with the TLS 1.3 suites that
/// hash with SHA-256 first: the handshake's transcript and key schedule then
/// use SHA-256, which current x86 and ARMv8 processors compute in hardware
/// (SHA-384 they do not).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring::cipher_suite::{
        TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        TLS13_AES_128_GCM_SHA256,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS13_AES_256_GCM_SHA384,
    ];
    Arc::new(provider)
}

/// When a certificate is valid, in seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    not_before: u64,
    not_after: u64,
}

impl Validity {
    /// The validity period written in the DER certificate `der`.
    pub fn of(der: &[u8]) -> Result<Validity, TlsError> {
        let cert = x509_cert::Certificate::from_der(der)?;
        let validity = &cert.tbs_certificate.validity;
        Ok(Validity {
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
        })
    }

    /// Is `now` inside the validity period?
    pub fn contains(&self, now: UnixTime) -> bool {
        (self.not_before..=self.not_after).contains(&now.as_secs())
    }
}

fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// Device certificates the hub knows to chain to its own CA: those it issued
/// and those it has verified since it started. Only certificates of the
/// hub's own CA get in, so there are at most as many as devices enrolled.
#[derive(Debug, Default)]
pub struct KnownCerts {
    certs: RwLock<HashMap<[u8; 32], Validity>>,
}

impl KnownCerts {
    /// Remember `der` as chaining to the hub's CA.
    pub fn insert(&self, der: &[u8], validity: Validity) {
        if let Ok(mut certs) = self.certs.write() {
            certs.insert(fingerprint(der), validity);
        }
    }

    /// Forget the certificate whose SHA-256 is `sha256_hex` (a revoked device:
    /// its next handshake verifies the chain again, then the registry refuses it).
    pub fn forget_hex(&self, sha256_hex: &str) {
        let Ok(bytes) = hex::decode(sha256_hex) else {
            return;
        };
        let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            return;
        };
        if let Ok(mut certs) = self.certs.write() {
            certs.remove(&key);
        }
    }

    fn known(&self, der: &[u8], now: UnixTime) -> bool {
        self.certs
            .read()
            .ok()
            .and_then(|certs| certs.get(&fingerprint(der)).copied())
            .is_some_and(|validity| validity.contains(now))
    }

    /// Number of certificates remembered.
    pub fn len(&self) -> usize {
        self.certs.read().map(|c| c.len()).unwrap_or(0)
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The hub's check of device certificates: a known certificate inside its
/// validity skips the chain check; any other goes through `inner` (WebPKI
/// against the hub's CA) and is remembered if it passes.
#[derive(Debug)]
pub struct DeviceCertVerifier {
    /// The WebPKI verifier against the hub's CA.
    pub inner: Arc<dyn ClientCertVerifier>,
    /// Certificates known to chain to the CA.
    pub known: Arc<KnownCerts>,
}

impl ClientCertVerifier for DeviceCertVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.known.known(end_entity, now) {
            return Ok(ClientCertVerified::assertion());
        }
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if let Ok(validity) = Validity::of(end_entity) {
            self.known.insert(end_entity, validity);
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A device's check of the hub certificate: the exact certificate it was
/// given at enrolment, inside its validity, skips the chain check (and the
/// name check: the pinned certificate is the hub's identity, wherever the
/// hub is reached); any other goes through `inner` (WebPKI against the hub's CA).
#[derive(Debug)]
pub struct HubCertVerifier {
    /// The WebPKI verifier against the hub's CA.
    pub inner: Arc<dyn ServerCertVerifier>,
    /// The hub certificate given at enrolment (DER) and its validity.
    pub pinned: Option<(Vec<u8>, Validity)>,
}

impl ServerCertVerifier for HubCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some((der, validity)) = &self.pinned
            && der.as_slice() == end_entity.as_ref()
            && validity.contains(now)
        {
            return Ok(ServerCertVerified::assertion());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    use std::time::Duration;

    struct Ca {
        cert: CertificateDer<'static>,
        issuer: Issuer<'static, KeyPair>,
    }

    fn ca() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let cert = params.self_signed(&key).unwrap();
        Ca {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    fn leaf(ca: &Ca, names: &[&str], usage: ExtendedKeyUsagePurpose) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![usage];
        params.not_before = time::OffsetDateTime::now_utc() - Duration::from_secs(60);
        params.not_after = time::OffsetDateTime::now_utc() + Duration::from_secs(3600);
        params.signed_by(&key, &ca.issuer).unwrap().der().clone()
    }

    fn device_verifier(ca: &Ca) -> DeviceCertVerifier {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert.clone()).unwrap();
        DeviceCertVerifier {
            inner: rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .unwrap(),
            known: Arc::new(KnownCerts::default()),
        }
    }

    fn hub_verifier(ca: &Ca, pinned: Option<&CertificateDer<'_>>) -> HubCertVerifier {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert.clone()).unwrap();
        HubCertVerifier {
            inner: rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .unwrap(),
            pinned: pinned.map(|der| (der.to_vec(), Validity::of(der).unwrap())),
        }
    }

    /// Past the one-hour validity of the test certificates.
    fn in_an_hour_and_a_half() -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(UnixTime::now().as_secs() + 5400))
    }

    #[test]
    fn the_hub_remembers_device_certificates_that_chain_to_its_ca_and_only_those() {
        let ours = ca();
        let theirs = ca();
        let verifier = device_verifier(&ours);
        let now = UnixTime::now();
        let good = leaf(&ours, &["dev-1"], ExtendedKeyUsagePurpose::ClientAuth);
        let foreign = leaf(&theirs, &["dev-2"], ExtendedKeyUsagePurpose::ClientAuth);
        // A certificate of another CA is refused and not remembered.
        assert!(verifier.verify_client_cert(&foreign, &[], now).is_err());
        assert_eq!(verifier.known.len(), 0);
        // One of ours passes the chain check and is remembered from then on.
        assert!(verifier.verify_client_cert(&good, &[], now).is_ok());
        assert_eq!(verifier.known.len(), 1);
        assert!(verifier.known.known(&good, now));
        // Remembered certificates skip the chain check (shown with a foreign
        // one put in by hand — the hub only ever puts in its own)…
        verifier
            .known
            .insert(&foreign, Validity::of(&foreign).unwrap());
        assert!(verifier.verify_client_cert(&foreign, &[], now).is_ok());
        // …but only inside their validity: afterwards the chain check applies
        // again, and refuses the expired certificate.
        let later = in_an_hour_and_a_half();
        assert!(!verifier.known.known(&good, later));
        assert!(verifier.verify_client_cert(&good, &[], later).is_err());
        // A revoked device's certificate is forgotten.
        verifier
            .known
            .forget_hex(&hex::encode(fingerprint(&foreign)));
        assert!(verifier.verify_client_cert(&foreign, &[], now).is_err());
        verifier.known.forget_hex("not hex");
        verifier.known.forget_hex("abcd");
        assert!(verifier.known.known(&good, now));
    }

    #[test]
    fn a_device_trusts_exactly_the_hub_certificate_of_its_enrolment_while_valid() {
        let ours = ca();
        let theirs = ca();
        let name = ServerName::try_from("hub.xa.local").unwrap();
        let now = UnixTime::now();
        let hub = leaf(
            &ours,
            &["hub.xa.local"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let other = leaf(
            &ours,
            &["hub.xa.local"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let impostor = leaf(
            &theirs,
            &["hub.xa.local"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        // Nothing pinned: the ordinary chain and name check.
        let plain = hub_verifier(&ours, None);
        assert!(plain.verify_server_cert(&hub, &[], &name, &[], now).is_ok());
        assert!(
            plain
                .verify_server_cert(&impostor, &[], &name, &[], now)
                .is_err()
        );
        let wrong_name = ServerName::try_from("elsewhere.local").unwrap();
        assert!(
            plain
                .verify_server_cert(&hub, &[], &wrong_name, &[], now)
                .is_err()
        );
        // Pinned: the same certificate needs no chain (shown with a CA the
        // verifier does not trust), wherever the hub is reached…
        let pinned = hub_verifier(&theirs, Some(&hub));
        assert!(
            pinned
                .verify_server_cert(&hub, &[], &name, &[], now)
                .is_ok()
        );
        assert!(
            pinned
                .verify_server_cert(&hub, &[], &wrong_name, &[], now)
                .is_ok()
        );
        // …any other certificate takes the chain check (here: refused)…
        assert!(
            pinned
                .verify_server_cert(&other, &[], &name, &[], now)
                .is_err()
        );
        // …and so does the pinned one once it has expired.
        let later = in_an_hour_and_a_half();
        assert!(
            pinned
                .verify_server_cert(&hub, &[], &name, &[], later)
                .is_err()
        );
        // A hub that renewed its certificate (same CA) is still reached.
        let renewed = hub_verifier(&ours, Some(&hub));
        assert!(
            renewed
                .verify_server_cert(&other, &[], &name, &[], now)
                .is_ok()
        );
    }

    #[test]
    fn handshakes_prefer_suites_that_hash_with_sha256() {
        use rustls::CipherSuite::*;
        let suites: Vec<_> = provider().cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(
            suites,
            [
                TLS13_AES_128_GCM_SHA256,
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS13_AES_256_GCM_SHA384
            ]
        );
    }
}
