//! Officers' document-signing certificates (see [`xaso_sync_core::signing`]):
//! `POST /v1/signing-certificate`.
//!
//! Only a device enrolled as `officer` may ask (kiosks, helpers and provincial devices get
//! `403`). The hub's CA signs the officer's PKCS#10 request: CN = the officer's display name,
//! O = the device's communes, keyUsage digitalSignature + nonRepudiation (contentCommitment),
//! extended key usage emailProtection (NSS checks a PDF signer as an e-mail signer, so this
//! is what poppler's `pdfsig` accepts), valid one year. The request's own subject is
//! ignored. The officer's name is personal data: it is never logged.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use rcgen::{
    CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose,
};
use xaso_sync_core::access::{Device, Role};
use xaso_sync_core::signing::{MAX_OFFICER_NAME, SigningCertificate, SigningCertificateRequest};

use crate::routes::{HttpError, PeerCert, authenticate, internal};
use crate::{Hub, HubError};

/// How long a signing certificate is valid.
pub const SIGNING_CERTIFICATE_DAYS: i64 = 365;

/// Why the hub refused to issue a signing certificate.
#[derive(Debug, thiserror::Error)]
pub enum SigningRefusal {
    /// Only officers sign result documents.
    #[error("only an officer's device may ask for a signing certificate")]
    NotOfficer,
    /// The name is empty, too long or holds control characters.
    #[error("the officer's name must be 1 to {MAX_OFFICER_NAME} printable characters")]
    BadName,
    /// The PKCS#10 request cannot be read or its signature is wrong.
    #[error("the certificate request is unusable: {0}")]
    BadRequest(#[source] rcgen::Error),
}

/// A failure of the route: refused, or the hub failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Refused(#[from] SigningRefusal),
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<SigningError> for HttpError {
    fn from(e: SigningError) -> Self {
        match e {
            SigningError::Refused(r) => {
                let status = match r {
                    SigningRefusal::NotOfficer => StatusCode::FORBIDDEN,
                    SigningRefusal::BadName | SigningRefusal::BadRequest(_) => {
                        StatusCode::BAD_REQUEST
                    }
                };
                HttpError(status, r.to_string())
            }
            SigningError::Hub(h) => internal(&h),
        }
    }
}

impl Hub {
    /// Issues `device`'s officer a signing certificate for the key of `request`.
    pub fn issue_signing_certificate(
        &self,
        device: &Device,
        request: &SigningCertificateRequest,
    ) -> Result<SigningCertificate, SigningError> {
        if device.role != Role::Officer {
            return Err(SigningRefusal::NotOfficer.into());
        }
        let name = request.officer_name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_OFFICER_NAME
            || name.chars().any(char::is_control)
        {
            return Err(SigningRefusal::BadName.into());
        }
        let csr = CertificateSigningRequestParams::from_pem(&request.csr_pem)
            .map_err(SigningRefusal::BadRequest)?;
        let authority = &self.inner.authority;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(
            DnType::OrganizationName,
            format!("communes:{}", device.communes.join(",")),
        );
        params.distinguished_name = dn;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now;
        params.not_after = now + time::Duration::days(SIGNING_CERTIFICATE_DAYS);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
        params.use_authority_key_identifier_extension = true;
        let ca_key = KeyPair::from_pem(&authority.ca_key_pem).map_err(HubError::Authority)?;
        let issuer = Issuer::from_ca_cert_pem(&authority.ca_cert_pem, ca_key)
            .map_err(HubError::Authority)?;
        let cert = params
            .signed_by(&csr.public_key, &issuer)
            .map_err(HubError::Authority)?;
        tracing::info!(device = %device.device_id, "signing certificate issued");
        Ok(SigningCertificate {
            certificate_pem: cert.pem(),
            ca_pem: authority.ca_cert_pem.clone(),
        })
    }
}

pub(crate) async fn signing_certificate_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    Json(request): Json<SigningCertificateRequest>,
) -> Result<Json<SigningCertificate>, HttpError> {
    let device = authenticate(&hub, cert)?;
    let hub2 = hub.clone();
    let issued =
        tokio::task::spawn_blocking(move || hub2.issue_signing_certificate(&device, &request))
            .await
            .map_err(|e| internal(&HubError::Task(e)))??;
    Ok(Json(issued))
}
