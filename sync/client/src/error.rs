//! What can go wrong on the device side of sync.

/// Everything the client can refuse or fail at. Whether a failure is worth
/// retrying later is [`Error::is_transient`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The local store failed or refused (disk, key, a bad change…).
    #[error(transparent)]
    Store(#[from] xaso_sync_store::Error),
    /// The sync core refused a message (bad frame, protocol version…).
    #[error(transparent)]
    Core(#[from] xaso_sync_core::Error),
    /// A certificate, key or TLS setting is unusable.
    #[error(transparent)]
    Tls(#[from] xaso_sync_tls::TlsError),
    /// The device's private key could not be written as PKCS#8.
    #[error("cannot encode the device key: {0}")]
    Key(#[source] p256::pkcs8::Error),
    /// The certificate request (PKCS#10) could not be built or encoded.
    #[error("cannot make the certificate request: {0}")]
    CertificateRequest(#[source] x509_cert::builder::Error),
    /// The connection or the HTTP exchange failed.
    #[error("network: {0}")]
    Network(#[source] reqwest::Error),
    /// The hub's reply is not what the protocol allows (too large, cut short).
    #[error("the hub's reply is not valid: {0}")]
    BadReply(&'static str),
    /// The hub answered with an error status.
    #[error("hub refused the request: HTTP {status}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Hub's message.
        message: String,
    },
    /// No bytes moved for too long.
    #[error("the link stalled: no data moved for {0} s")]
    Stalled(u64),
    /// The caller cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The saved identity has no commune (it was not made by enrolment).
    #[error("the device identity has no commune")]
    NoCommune,
    /// The identity file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The identity file is not valid JSON of an identity.
    #[error("the identity file is not valid: {0}")]
    IdentityFormat(#[source] serde_json::Error),
}

impl Error {
    /// A failure of the link or of the hub that a later attempt may not meet
    /// (the sync loop retries these with backoff); everything else needs a
    /// person (a revoked device, a full disk, a wrong key) and is still
    /// retried, but logged as such.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network(_) | Error::Stalled(_) | Error::BadReply(_) => true,
            Error::Refused { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The core's cause, wherever it was raised (directly, or by the store).
    pub fn core(&self) -> Option<&xaso_sync_core::Error> {
        match self {
            Error::Core(e) => Some(e),
            Error::Store(e) => e.core(),
            _ => None,
        }
    }
}
