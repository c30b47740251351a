//! The resident's counter at the hub (see [`xaso_sync_core::counter`]): a kiosk looks up,
//! and supplements, a dossier handed in at another device.

use xaso_sync_core::counter::{DossierFound, DossierLookup, SupplementRequest};

use crate::{Error, SyncClient};

impl SyncClient {
    /// The dossier with this tracking code if the card's holder is its applicant;
    /// `None` for an unknown code and another person's dossier alike.
    pub async fn counter_lookup(
        &self,
        lookup: &DossierLookup,
    ) -> Result<Option<DossierFound>, Error> {
        self.counter_post("/v1/counter/lookup", lookup).await
    }

    /// Hand in supplement pages for the card holder's dossier; the dossier as it is now.
    /// `None` as for [`counter_lookup`](Self::counter_lookup); a dossier that does not
    /// wait for a supplement is [`Error::Refused`] with status 409.
    pub async fn counter_supplement(
        &self,
        request: &SupplementRequest,
    ) -> Result<Option<DossierFound>, Error> {
        self.counter_post("/v1/counter/supplement", request).await
    }

    async fn counter_post<T: serde::Serialize>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Option<DossierFound>, Error> {
        self.post_json(path, body, true).await
    }
}
