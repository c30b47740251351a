//! The resident's counter at the commune hub, behind a port: a dossier handed in at another
//! kiosk is looked up and supplemented there (see `xaso_sync_core::counter`). The shell asks
//! it only when this kiosk does not hold the dossier and the card read now verified.

use xaso_services::Dossier;
use xaso_sync_client::{Identity, SyncClient};
use xaso_sync_core::counter::{DossierLookup, SupplementPage, SupplementRequest};

/// Why the counter could not answer.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    /// No hub is configured: only dossiers of this kiosk can be found.
    #[error("this kiosk has no link to the commune hub")]
    NoHub,
    #[error(transparent)]
    Hub(#[from] xaso_sync_client::Error),
    #[error("the hub's answer is not a dossier: {0}")]
    NotADossier(#[from] serde_json::Error),
    #[error("cannot start the request: {0}")]
    Runtime(#[from] std::io::Error),
}

/// A page to hand in: which paper, the JPEG.
pub struct Page {
    pub paper: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

pub trait Counter {
    /// The dossier with `code` if the card holder `id_number` is its applicant.
    fn lookup(&self, code: &str, id_number: &str) -> Result<Option<Dossier>, CounterError>;
    /// Hand in `pages` for it; the dossier as it is now.
    fn supplement(
        &self,
        code: &str,
        id_number: &str,
        pages: Vec<Page>,
    ) -> Result<Option<Dossier>, CounterError>;
}

/// A kiosk without a hub.
pub struct NoCounter;

impl Counter for NoCounter {
    fn lookup(&self, _: &str, _: &str) -> Result<Option<Dossier>, CounterError> {
        Err(CounterError::NoHub)
    }
    fn supplement(&self, _: &str, _: &str, _: Vec<Page>) -> Result<Option<Dossier>, CounterError> {
        Err(CounterError::NoHub)
    }
}

/// The counter over the kiosk's mutual-TLS link to its hub. Each call waits for the answer
/// (bounded by the client's liveness limit).
pub struct HubCounter {
    client: SyncClient,
}

impl HubCounter {
    pub fn new(hub_url: &str, identity: &Identity) -> Result<HubCounter, CounterError> {
        Ok(HubCounter {
            client: SyncClient::new(hub_url, identity)?
                .with_liveness(std::time::Duration::from_secs(20)),
        })
    }

    fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> Result<T, CounterError> {
        Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(f))
    }
}

impl Counter for HubCounter {
    fn lookup(&self, code: &str, id_number: &str) -> Result<Option<Dossier>, CounterError> {
        let request = DossierLookup {
            tracking_code: code.to_owned(),
            id_number: id_number.to_owned(),
        };
        let found = self.block_on(self.client.counter_lookup(&request))??;
        Ok(found
            .map(|f| serde_json::from_value(f.dossier))
            .transpose()?)
    }

    fn supplement(
        &self,
        code: &str,
        id_number: &str,
        pages: Vec<Page>,
    ) -> Result<Option<Dossier>, CounterError> {
        let request = SupplementRequest {
            tracking_code: code.to_owned(),
            id_number: id_number.to_owned(),
            pages: pages
                .into_iter()
                .map(|p| SupplementPage {
                    paper: p.paper,
                    media_type: p.media_type,
                    bytes: p.bytes,
                })
                .collect(),
        };
        let found = self.block_on(self.client.counter_supplement(&request))??;
        Ok(found
            .map(|f| serde_json::from_value(f.dossier))
            .transpose()?)
    }
}
