//! The officer's signing key on the tablet: made here (P-256), certified once by the commune
//! hub's CA (`POST /v1/signing-certificate`, only for officer devices), kept in the tablet's
//! encrypted PIN file beside the person's PIN record, never synced. With it the tablet signs
//! the result documents of the dossiers the officer approves ([`xaso_documents`]).

use rusqlite::{OptionalExtension, params};
use xaso_documents::Signer;
use xaso_sync_client::{Identity, SyncClient};
use xaso_sync_core::signing::SigningCertificateRequest;

use super::pins::{PinStore, PinStoreError};

const MIGRATION: &str = "CREATE TABLE IF NOT EXISTS signing_keys (
    person TEXT PRIMARY KEY, key_pem TEXT NOT NULL, certificate_pem TEXT NOT NULL,
    ca_pem TEXT NOT NULL) WITHOUT ROWID;";

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Store(#[from] PinStoreError),
    #[error("signing key store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the commune hub did not certify the key: {0}")]
    Hub(#[from] xaso_sync_client::Error),
    #[error("cannot reach the hub: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("the key or certificate is unusable: {0}")]
    Document(#[from] xaso_documents::DocumentError),
}

/// Where the tablet asks for certificates.
#[derive(Clone)]
pub struct SigningSetup {
    pub hub_url: String,
    pub identity: Identity,
}

impl PinStore {
    /// The person's signer, if this tablet holds a certified key for them.
    pub fn signer(&self, person: &str) -> Result<Option<Signer>, SigningError> {
        self.conn().execute_batch(MIGRATION)?;
        let row: Option<(String, String, String)> = self
            .conn()
            .query_row(
                "SELECT key_pem, certificate_pem, ca_pem FROM signing_keys WHERE person = ?1",
                [person],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row
            .map(|(key, cert, ca)| Signer::from_pem(&key, &cert, &ca))
            .transpose()?)
    }

    /// Makes a key for the person, has the hub certify it under `name`, keeps both, and
    /// returns the signer.
    pub fn certify(
        &self,
        person: &str,
        name: &str,
        setup: &SigningSetup,
    ) -> Result<Signer, SigningError> {
        self.conn().execute_batch(MIGRATION)?;
        let (key_pem, csr_pem) = xaso_sync_client::signing_key_and_request()?;
        let client = SyncClient::new(&setup.hub_url, &setup.identity)?
            .with_liveness(std::time::Duration::from_secs(20));
        let certified = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(client.signing_certificate(&SigningCertificateRequest {
                csr_pem,
                officer_name: name.to_owned(),
            }))?;
        let signer = Signer::from_pem(&key_pem, &certified.certificate_pem, &certified.ca_pem)?;
        self.conn().execute(
            "INSERT INTO signing_keys (person, key_pem, certificate_pem, ca_pem) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(person) DO UPDATE SET key_pem = excluded.key_pem,
               certificate_pem = excluded.certificate_pem, ca_pem = excluded.ca_pem",
            params![person, key_pem, certified.certificate_pem, certified.ca_pem],
        )?;
        tracing::info!("a signing certificate was issued for an officer of this tablet");
        Ok(signer)
    }
}
