//! The hub's TLS server configuration: TLS 1.3 only, client certificates
//! from the hub's own CA (verified once, then remembered: see
//! `xaso-sync-tls`), session resumption held by the hub.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use xaso_sync_tls::{DeviceCertVerifier, KnownCerts, TlsError, provider, roots};

use crate::registry::Authority;

/// TLS sessions the hub remembers for resumption (about 1 KiB each).
pub const RESUMABLE_SESSIONS: usize = 16_384;

/// The server configuration for `authority`, remembering verified device
/// certificates in `known_certs`.
pub fn server_config(
    authority: &Authority,
    known_certs: Arc<KnownCerts>,
) -> Result<rustls::ServerConfig, TlsError> {
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots(&authority.ca_cert_pem)?),
        provider(),
    )
    .allow_unauthenticated()
    .build()?;
    let verifier = Arc::new(DeviceCertVerifier {
        inner: verifier,
        known: known_certs,
    });
    // Only the hub's own certificate: every device already holds the CA
    // (given with the enrolment code), so sending it again would only cost
    // bytes on a 2G link in every full handshake.
    let chain = vec![CertificateDer::from_pem_slice(
        authority.server_cert_pem.as_bytes(),
    )?];
    let key = PrivateKeyDer::from_pem_slice(authority.server_key_pem.as_bytes())?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Session resumption: a device that reconnects (the link came back, the
    // kiosk restarted its client) resumes without exchanging and verifying
    // certificates again — fewer bytes on 2G, less CPU on both sides. The
    // session (with the client's certificate) stays in the hub's memory and
    // the device gets only its id (tens of bytes, where a self-contained
    // ticket would carry the certificate over the slow link); every request
    // is still checked against the registry, so revocation applies to resumed
    // sessions too. A hub restart means one full handshake per device.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(RESUMABLE_SESSIONS);
    config.send_tls13_tickets = 1;
    Ok(config)
}
