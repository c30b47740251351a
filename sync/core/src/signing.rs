//! An officer's document-signing certificate from the commune hub's CA: the officer's
//! tablet makes a P-256 key for the person (not the device's TLS key), sends a PKCS#10
//! request for it with the officer's display name, and gets back a certificate for signing
//! result documents (keyUsage digitalSignature and nonRepudiation, extended key usage
//! emailProtection — what NSS, hence poppler's `pdfsig`, accepts for a document signer —,
//! valid one year, CN = the officer's name) and the CA certificate to put beside it in the
//! signature. Only a device enrolled as `officer` may ask.

use serde::{Deserialize, Serialize};

/// Longest officer display name the hub accepts, in characters.
pub const MAX_OFFICER_NAME: usize = 100;

/// `POST /v1/signing-certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningCertificateRequest {
    /// A PKCS#10 certificate request (PEM) for the officer's signing key.
    pub csr_pem: String,
    /// The officer's name as it is to appear on the certificate and in signatures.
    pub officer_name: String,
}

/// The answer: the officer's certificate and the CA's, both PEM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningCertificate {
    pub certificate_pem: String,
    pub ca_pem: String,
}
