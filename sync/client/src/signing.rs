//! An officer's document-signing certificate from the commune hub (see
//! [`xaso_sync_core::signing`]): a fresh P-256 key for the person, a PKCS#10 request for
//! it, and the hub's answer.

use xaso_sync_core::signing::{SigningCertificate, SigningCertificateRequest};

use crate::{Error, SyncClient};

/// A fresh signing key and a certificate request for it: `(key PEM (PKCS#8), CSR PEM)`.
/// The hub sets the certificate's subject from the officer's name; the request's subject
/// is a placeholder.
pub fn signing_key_and_request() -> Result<(String, String), Error> {
    crate::enrol::key_and_request_named("CN=xaso-document-signer")
}

impl SyncClient {
    /// Ask the hub to certify the signing key of `request` for the officer named in it.
    /// A device that is not an officer's is [`Error::Refused`] with status 403.
    pub async fn signing_certificate(
        &self,
        request: &SigningCertificateRequest,
    ) -> Result<SigningCertificate, Error> {
        self.post_json("/v1/signing-certificate", request, false)
            .await?
            .ok_or(Error::Refused {
                status: 404,
                message: String::new(),
            })
    }
}
