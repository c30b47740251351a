//! The hub's outbox to the provincial and national platforms, as an officer's tablet sees
//! it (see [`xaso_sync_core::central`]).

use xaso_sync_core::central::{CentralStatus, RetryReply, RetryRequest};

use crate::{Error, SyncClient};

impl SyncClient {
    /// The outbox of this officer's communes: what waits, what was refused and why.
    /// Devices that are not an officer's get [`Error::Refused`] with status 403.
    pub async fn central_status(&self) -> Result<CentralStatus, Error> {
        self.get_json("/v1/central/status").await
    }

    /// Send refused packets again after a fix: one by key, or all of this officer's
    /// communes. Returns how many are back in line.
    pub async fn central_retry(&self, key: Option<&str>) -> Result<u64, Error> {
        let reply: Option<RetryReply> = self
            .post_json(
                "/v1/central/retry",
                &RetryRequest {
                    key: key.map(str::to_owned),
                },
                false,
            )
            .await?;
        Ok(reply.map_or(0, |r| r.retried))
    }
}
