//! Attachments: push and pull blobs, resumably (the rules are
//! `xaso_sync_core::blob`).

use std::sync::atomic::Ordering;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use xaso_sync_core::Partition;
use xaso_sync_core::blob::{
    self, BlobHash, Held, StatusReply, StatusRequest, Transfer, UploadReply,
};
use xaso_sync_store::Store;

use crate::{CancellationToken, Error, HUB_PEER, Progress, SyncClient, accepted};

/// Upload bodies are handed to the connection in pieces of this size, so
/// progress and cancellation are fine-grained on slow links.
const UPLOAD_CHUNK: usize = 4 * 1024;

/// What is escaped in a URL path segment: everything but letters, digits and
/// `-`, `_`, `.`, `~` (RFC 3986 unreserved characters).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The path of a blob of `partition` on the hub: `/v1/blobs/<sha256>/<segments…>`,
/// each segment of the partition percent-escaped.
pub fn blob_path(partition: &Partition, hash: &BlobHash) -> String {
    let mut path = format!("/v1/blobs/{hash}");
    for segment in partition.segments() {
        path.push('/');
        path.extend(utf8_percent_encode(segment, SEGMENT));
    }
    path
}

fn reset_blob_progress(progress: &Progress) {
    progress.0.blob_bytes_done.store(0, Ordering::Relaxed);
    progress.0.blob_bytes_total.store(0, Ordering::Relaxed);
}

/// What one blob transfer ([`SyncClient::push_blobs`] / [`SyncClient::pull_blobs`]) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobReport {
    /// Blobs that reached the hub whole and verified in this run.
    pub uploaded: u64,
    /// Blobs received whole and verified in this run.
    pub downloaded: u64,
    /// Blob bytes sent (request bodies), including any lost in a cut.
    pub bytes_sent: u64,
    /// Blob bytes received.
    pub bytes_received: u64,
    /// Transfers that resumed from a durable offset above zero.
    pub resumed: u64,
    /// Bytes not sent again thanks to resuming (the sum of those offsets).
    pub bytes_skipped: u64,
    /// Blobs named by the index that the hub does not hold yet.
    pub unavailable: u64,
}

impl BlobReport {
    fn add(&mut self, other: &BlobReport) {
        self.uploaded += other.uploaded;
        self.downloaded += other.downloaded;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.resumed += other.resumed;
        self.bytes_skipped += other.bytes_skipped;
        self.unavailable += other.unavailable;
    }
}

/// Attachments: push and pull blobs (see [`crate::blob`]).
impl SyncClient {
    fn blob_url(&self, partition: &Partition, hash: &BlobHash) -> String {
        format!("{}{}", self.base, blob_path(partition, hash))
    }

    /// Push, then pull: after [`sync_once`](Self::sync_once), this moves the
    /// attachments both ways. Each is resumable: call it again after an error.
    pub async fn sync_blobs(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<BlobReport, Error> {
        let mut report = self.push_blobs(store, progress, cancel).await?;
        report.add(&self.pull_blobs(store, progress, cancel).await?);
        Ok(report)
    }

    /// Upload every blob of this store's partitions that the hub does not
    /// hold yet, each from the hub's durable offset. Blobs the hub confirmed
    /// are remembered and not asked about again. Progress counts bytes
    /// ([`ProgressSnapshot::blob_bytes_done`] of `blob_bytes_total`).
    pub async fn push_blobs(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<BlobReport, Error> {
        reset_blob_progress(progress);
        let mut report = BlobReport::default();
        for partition in store.partitions()? {
            let local = store.blobs_unconfirmed(HUB_PEER, &partition)?;
            for batch in local.chunks(blob::MAX_STATUS_HASHES) {
                let status = self
                    .blob_status(
                        &StatusRequest {
                            partition: partition.clone(),
                            hashes: batch.iter().map(|b| b.hash).collect(),
                        },
                        progress,
                        cancel,
                    )
                    .await?;
                let plan = blob::plan_push(batch, &status);
                store.confirm_blobs(HUB_PEER, &partition, &plan.confirmed)?;
                let total: u64 = plan.uploads.iter().map(Transfer::remaining).sum();
                progress
                    .0
                    .blob_bytes_total
                    .fetch_add(total, Ordering::Relaxed);
                for transfer in plan.uploads {
                    if cancel.is_cancelled() {
                        return Err(Error::Cancelled);
                    }
                    self.push_one(store, &partition, transfer, progress, cancel, &mut report)
                        .await?;
                }
            }
        }
        tracing::info!(
            uploaded = report.uploaded,
            bytes = report.bytes_sent,
            resumed = report.resumed,
            "blobs pushed"
        );
        Ok(report)
    }

    async fn push_one(
        &self,
        store: &mut Store,
        partition: &Partition,
        mut transfer: Transfer,
        progress: &Progress,
        cancel: &CancellationToken,
        report: &mut BlobReport,
    ) -> Result<(), Error> {
        let Some(bytes) = store.blob(partition, &transfer.hash)? else {
            return Ok(());
        };
        // A 409 says where the hub really stands (another upload moved it):
        // go on from there, a few times at most.
        for _ in 0..3 {
            if transfer.offset > 0 {
                report.resumed += 1;
                report.bytes_skipped += transfer.offset;
            }
            let body = bytes
                .get(transfer.offset as usize..)
                .unwrap_or_default()
                .to_vec();
            let sent_before = progress.0.bytes_sent.load(Ordering::Relaxed);
            let outcome = self
                .upload_blob(
                    partition,
                    &transfer.hash,
                    transfer.size,
                    transfer.offset,
                    body,
                    progress,
                    cancel,
                )
                .await;
            report.bytes_sent += progress.0.bytes_sent.load(Ordering::Relaxed) - sent_before;
            match outcome {
                Ok(held) if held.is_complete() => {
                    report.uploaded += 1;
                    store.confirm_blobs(HUB_PEER, partition, &[transfer.hash])?;
                    return Ok(());
                }
                Ok(held) => transfer.offset = held.offset(),
                Err(Error::Core(xaso_sync_core::Error::BlobGap { held })) => transfer.offset = held,
                Err(e) => return Err(e),
            }
        }
        Err(xaso_sync_core::Error::NoProgress.into())
    }

    /// Download every blob that the index of this store's partitions names
    /// and the store lacks, when the hub holds it; each resumes from what
    /// the store already holds durably and becomes visible only once its
    /// SHA-256 verifies.
    pub async fn pull_blobs(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<BlobReport, Error> {
        reset_blob_progress(progress);
        let mut report = BlobReport::default();
        for partition in store.partitions()? {
            let missing = store.missing_blobs(&partition)?;
            for batch in missing.chunks(blob::MAX_STATUS_HASHES) {
                let wanted = batch
                    .iter()
                    .map(|info| Ok((*info, store.blob_held(&partition, &info.hash)?)))
                    .collect::<Result<Vec<_>, Error>>()?;
                let status = self
                    .blob_status(
                        &StatusRequest {
                            partition: partition.clone(),
                            hashes: batch.iter().map(|b| b.hash).collect(),
                        },
                        progress,
                        cancel,
                    )
                    .await?;
                let plan = blob::plan_pull(&wanted, &status);
                report.unavailable += plan.unavailable.len() as u64;
                let total: u64 = plan.downloads.iter().map(Transfer::remaining).sum();
                progress
                    .0
                    .blob_bytes_total
                    .fetch_add(total, Ordering::Relaxed);
                for transfer in plan.downloads {
                    if cancel.is_cancelled() {
                        return Err(Error::Cancelled);
                    }
                    if transfer.offset > 0 {
                        report.resumed += 1;
                        report.bytes_skipped += transfer.offset;
                    }
                    let received_before = progress.0.bytes_received.load(Ordering::Relaxed);
                    let outcome = self
                        .download_blob(store, &partition, transfer, progress, cancel)
                        .await;
                    report.bytes_received +=
                        progress.0.bytes_received.load(Ordering::Relaxed) - received_before;
                    let held = outcome?;
                    if !held.is_complete() {
                        return Err(Error::BadReply("the hub sent less of a blob than it holds"));
                    }
                    report.downloaded += 1;
                    store.confirm_blobs(HUB_PEER, &partition, &[transfer.hash])?;
                }
            }
        }
        tracing::info!(
            downloaded = report.downloaded,
            bytes = report.bytes_received,
            resumed = report.resumed,
            unavailable = report.unavailable,
            "blobs pulled"
        );
        Ok(report)
    }

    /// Ask the hub what it holds of some blobs of one partition.
    pub async fn blob_status(
        &self,
        request: &StatusRequest,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<StatusReply, Error> {
        let body = serde_json::to_vec(request).map_err(xaso_sync_core::Error::Serialize)?;
        let len = body.len() as u64;
        let transfer = async {
            progress.0.bytes_sent.fetch_add(len, Ordering::Relaxed);
            let response = self
                .http
                .post(format!("{}/v1/blobs/status", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(Error::Network)?;
            let bytes = accepted(response)
                .await?
                .bytes()
                .await
                .map_err(Error::Network)?;
            progress
                .0
                .bytes_received
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            serde_json::from_slice(&bytes).map_err(|e| xaso_sync_core::Error::Deserialize(e).into())
        };
        self.guarded(len, progress, cancel, transfer).await
    }

    /// Send `bytes` as the part of blob `hash` (declared `size` bytes) that
    /// starts at `offset`, in one streamed request. Returns what the hub
    /// holds afterwards; [`Error::BlobGap`] if it holds less than
    /// `offset`. [`push_blobs`](Self::push_blobs) uses it; tools and tests
    /// may send any bytes with it.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_blob(
        &self,
        partition: &Partition,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        bytes: Vec<u8>,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<Held, Error> {
        let len = bytes.len() as u64;
        let chunks: Vec<bytes::Bytes> = bytes::Bytes::from(bytes)
            .chunks(UPLOAD_CHUNK)
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        let counter = progress.clone();
        let stream = futures_util::stream::iter(chunks.into_iter().map(move |chunk| {
            let n = chunk.len() as u64;
            counter.0.bytes_sent.fetch_add(n, Ordering::Relaxed);
            counter.0.blob_bytes_done.fetch_add(n, Ordering::Relaxed);
            Ok::<_, std::io::Error>(chunk)
        }));
        let transfer = async {
            let response = self
                .http
                .put(self.blob_url(partition, hash))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, len)
                .header("upload-offset", offset)
                .header("upload-length", size)
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
                .map_err(Error::Network)?;
            if response.status() == reqwest::StatusCode::CONFLICT {
                let reply: UploadReply = response.json().await.map_err(Error::Network)?;
                return Err(xaso_sync_core::Error::BlobGap {
                    held: reply.held.offset(),
                }
                .into());
            }
            let reply: UploadReply = accepted(response)
                .await?
                .json()
                .await
                .map_err(Error::Network)?;
            Ok(reply.held)
        };
        self.guarded(len.min(64 * 1024), progress, cancel, transfer)
            .await
    }

    /// Fetch the rest of one blob from `transfer.offset` into `store`,
    /// committing what arrives every [`blob::FLUSH_BYTES`] (and what arrived
    /// before a break), so a cut resumes from there. Returns what the store
    /// holds afterwards (complete only if the hash verified).
    pub async fn download_blob(
        &self,
        store: &mut Store,
        partition: &Partition,
        transfer: Transfer,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<Held, Error> {
        let url = self.blob_url(partition, &transfer.hash);
        let transfer_future = async {
            let response = self
                .http
                .get(url)
                .header(
                    reqwest::header::RANGE,
                    format!("bytes={}-", transfer.offset),
                )
                .send()
                .await
                .map_err(Error::Network)?;
            let mut response = accepted(response).await?;
            let mut incoming = blob::Incoming::new(transfer.offset);
            let mut held = store.blob_held(partition, &transfer.hash)?;
            let broken = loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let n = chunk.len() as u64;
                        progress.0.bytes_received.fetch_add(n, Ordering::Relaxed);
                        progress.0.blob_bytes_done.fetch_add(n, Ordering::Relaxed);
                        if incoming.next_offset() + n > transfer.size {
                            break Some(xaso_sync_core::Error::BadChunk.into());
                        }
                        if let Some((at, piece)) = incoming.push(&chunk) {
                            held = store.append_blob_chunk(
                                partition,
                                &transfer.hash,
                                transfer.size,
                                at,
                                &piece,
                            )?;
                        }
                    }
                    Ok(None) => break None,
                    Err(e) => break Some(Error::Network(e)),
                }
            };
            // What arrived before a break is good (TLS authenticated it): keep it.
            if let Some((at, piece)) = incoming.finish() {
                held = store.append_blob_chunk(
                    partition,
                    &transfer.hash,
                    transfer.size,
                    at,
                    &piece,
                )?;
            } else if transfer.size == 0 {
                held = store.append_blob_chunk(partition, &transfer.hash, 0, 0, &[])?;
            }
            match broken {
                Some(e) => Err(e),
                None => Ok(held),
            }
        };
        self.guarded(0, progress, cancel, transfer_future).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blob_paths_escape_every_segment_of_the_partition() {
        let hash = BlobHash::of(b"page");
        let partition = Partition::new("79001/kiosk/dev-0a_1").unwrap();
        assert_eq!(
            blob_path(&partition, &hash),
            format!("/v1/blobs/{hash}/79001/kiosk/dev-0a_1")
        );
        // What the grammar keeps out would be escaped anyway, one segment at a
        // time: no character of a segment can change the path's structure.
        let escaped: String = utf8_percent_encode("../a/b%c d?#", SEGMENT).collect();
        assert_eq!(escaped, "..%2Fa%2Fb%25c%20d%3F%23");
    }
}
