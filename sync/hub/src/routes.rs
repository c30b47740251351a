//! The HTTP routes (axum): enrolment, sync, attachments, health, metrics.
//!
//! - `POST /v1/enrol`: JSON [`EnrolRequest`] → [`EnrolResponse`]; a refused
//!   code is `403`, a failure of the hub `500`.
//! - `POST /v1/sync`: one protocol exchange. `401` without a valid,
//!   unrevoked certificate; `403` if any partition is outside the device's
//!   scope (nothing is written); `400` for input the protocol refuses.
//! - `POST /v1/blobs/status`: JSON [`StatusRequest`] → what the hub holds of
//!   each blob ([`StatusReply`]).
//! - `PUT /v1/blobs/{sha256}/{partition}`: upload bytes of a blob from
//!   `Upload-Offset` (declared size `Upload-Length`). The body is committed as
//!   it arrives, every [`FLUSH_BYTES`](blob::FLUSH_BYTES) and when it ends or
//!   breaks, so a cut upload resumes from what arrived; the blob becomes
//!   visible only when its SHA-256 verifies (`422` and discarded otherwise;
//!   `409` with the held offset if the upload starts beyond it). JSON
//!   [`UploadReply`].
//! - `GET /v1/blobs/{sha256}/{partition}`: the bytes of a verified blob from
//!   `Range: bytes=N-` (`404` if the hub lacks it).
//!
//! - `POST /v1/counter/lookup`, `POST /v1/counter/supplement`: a kiosk looks up and
//!   supplements a dossier handed in at another device, for the card's holder
//!   ([`crate::counter`]): `404` for an unknown code or another person's dossier alike,
//!   `403` for a device outside the commune or not a kiosk/helper, `409` when the dossier
//!   does not wait for a supplement.
//! - `POST /v1/signing-certificate`: an officer's device gets a document-signing certificate
//!   for the officer's key ([`crate::signing`]): `403` for any other role, `400` for an
//!   unusable request or name.
//!
//! Blob endpoints use the same device check as `/v1/sync`: `401` without a
//! valid certificate, `403` (and nothing written or read) for a partition
//! the device may not read (status, download) or write (upload) — a kiosk uploads only to
//! its own submissions partition and downloads from it and its commune's public partition. The partition in the path arrives percent-escaped
//! segment by segment and must obey the partition grammar.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use xaso_sync_core::blob::{self, BlobHash, Held, StatusReply, StatusRequest, UploadReply};
use xaso_sync_core::enrol::{EnrolRequest, EnrolResponse};
use xaso_sync_core::{Device, Partition, protocol};

use crate::backend::BlobBackend;
use crate::{Hub, HubError};

/// The SHA-256 of the client certificate of a connection, if it sent one.
#[derive(Clone)]
pub struct PeerCert(pub Option<String>);

/// An error response: status and a short text.
pub struct HttpError(pub StatusCode, pub String);

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

pub(crate) fn internal(e: &HubError) -> HttpError {
    tracing::error!(error = %e, "request failed inside the hub");
    HttpError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Every route of the hub, with `hub` as state.
pub fn router(hub: Hub) -> Router {
    Router::new()
        .route("/v1/enrol", post(enrol_handler))
        .route("/v1/sync", post(sync_handler))
        .route("/v1/blobs/status", post(blob_status_handler))
        .route(
            "/v1/blobs/{hash}/{*partition}",
            get(blob_get_handler).put(blob_put_handler),
        )
        .route("/v1/counter/lookup", post(crate::counter::lookup_handler))
        .route(
            "/v1/counter/supplement",
            post(crate::counter::supplement_handler),
        )
        .route(
            "/v1/signing-certificate",
            post(crate::signing::signing_certificate_handler),
        )
        .route(
            "/v1/central/status",
            get(crate::central::routes::status_handler),
        )
        .route(
            "/v1/central/retry",
            post(crate::central::routes::retry_handler),
        )
        .route("/v1/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics_handler))
        .layer(DefaultBodyLimit::max(protocol::MAX_PAYLOAD))
        .with_state(hub)
}

async fn enrol_handler(
    State(hub): State<Hub>,
    Json(request): Json<EnrolRequest>,
) -> Result<Json<EnrolResponse>, HttpError> {
    let hub2 = hub.clone();
    let result = tokio::task::spawn_blocking(move || hub2.enrol(&request))
        .await
        .map_err(|e| internal(&HubError::Task(e)))?;
    let metrics = &hub.inner.metrics;
    match result {
        Ok(response) => {
            metrics.enrolments.inc();
            Ok(Json(response))
        }
        Err(HubError::Enrolment(refusal)) => {
            metrics.enrolments_refused.inc();
            tracing::info!(reason = %refusal, "enrolment refused");
            Err(HttpError(StatusCode::FORBIDDEN, refusal.to_string()))
        }
        Err(e) => {
            metrics.enrolments_refused.inc();
            Err(internal(&e))
        }
    }
}

/// The enrolled, unrevoked device presenting `cert`, or `401`.
pub(crate) fn authenticate(hub: &Hub, cert: Option<String>) -> Result<Device, HttpError> {
    let metrics = &hub.inner.metrics;
    let Some(cert) = cert else {
        metrics.sync_unauthenticated.inc();
        return Err(HttpError(
            StatusCode::UNAUTHORIZED,
            "a device certificate is required".into(),
        ));
    };
    match hub.device_by_cert(&cert) {
        Ok(Some(device)) if !device.revoked => Ok(device),
        Ok(Some(device)) => {
            metrics.sync_unauthenticated.inc();
            tracing::info!(device = %device.device_id, "revoked device refused");
            Err(HttpError(
                StatusCode::UNAUTHORIZED,
                "this device has been revoked".into(),
            ))
        }
        Ok(None) => {
            metrics.sync_unauthenticated.inc();
            Err(HttpError(
                StatusCode::UNAUTHORIZED,
                "unknown device certificate".into(),
            ))
        }
        Err(e) => Err(internal(&e)),
    }
}

async fn sync_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    body: bytes::Bytes,
) -> Result<Response, HttpError> {
    let started = Instant::now();
    let metrics = &hub.inner.metrics;
    let device = authenticate(&hub, cert)?;
    metrics.bytes_in.inc_by(body.len() as u64);
    let result = hub.sync(device, body).await;
    metrics
        .sync_duration
        .observe(started.elapsed().as_secs_f64());
    match result {
        Ok(reply) => {
            metrics.sync_requests.inc();
            metrics.bytes_out.inc_by(reply.len() as u64);
            Ok(([(header::CONTENT_TYPE, "application/x-xaso-sync")], reply).into_response())
        }
        Err(HubError::Core(xaso_sync_core::Error::Forbidden(partition))) => {
            metrics.sync_forbidden.inc();
            tracing::warn!(partition = %partition, "sync refused: partition outside the device's scope");
            Err(HttpError(
                StatusCode::FORBIDDEN,
                format!("partition {partition} is outside this device's scope"),
            ))
        }
        Err(e) if e.is_bad_request() => {
            metrics.sync_errors.inc();
            Err(HttpError(StatusCode::BAD_REQUEST, e.to_string()))
        }
        Err(e) => {
            metrics.sync_errors.inc();
            Err(internal(&e))
        }
    }
}

/// Run `f` on the hub's attachment backend, off the async threads.
async fn with_blobs<R: Send + 'static>(
    hub: &Hub,
    f: impl FnOnce(&mut dyn BlobBackend) -> Result<R, HubError> + Send + 'static,
) -> Result<R, HubError> {
    let blobs = hub.inner.blobs.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = blobs
            .lock()
            .map_err(|_| HubError::LockPoisoned("attachment store"))?;
        f(guard.as_mut())
    })
    .await?
}

/// What a blob request does to its partition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The device, if it may read (or write) `partition`; `403` (counted) otherwise.
fn scoped(
    hub: &Hub,
    cert: Option<String>,
    partition: &Partition,
    access: Access,
) -> Result<Device, HttpError> {
    let device = authenticate(hub, cert)?;
    let allowed = match access {
        Access::Read => device.may_read(partition),
        Access::Write => device.may_write(partition),
    };
    if allowed {
        return Ok(device);
    }
    hub.inner.metrics.blob_forbidden.inc();
    tracing::warn!(device = %device.device_id, partition = %partition, "blob request refused: partition outside the device's scope");
    Err(HttpError(
        StatusCode::FORBIDDEN,
        format!("partition {partition} is outside this device's scope"),
    ))
}

fn blob_target(hash: &str, partition: &str) -> Result<(BlobHash, Partition), HttpError> {
    let bad = |e: xaso_sync_core::Error| HttpError(StatusCode::BAD_REQUEST, e.to_string());
    Ok((
        hash.parse().map_err(bad)?,
        Partition::new(partition).map_err(bad)?,
    ))
}

/// The response for a failed attachment request: the device's fault is
/// `4xx` (counted as refused), the hub's `500`.
fn blob_error(hub: &Hub, e: &HubError) -> HttpError {
    use xaso_sync_core::Error as E;
    let status = match e.core() {
        Some(E::BlobHashMismatch) => StatusCode::UNPROCESSABLE_ENTITY,
        Some(E::BlobTooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
        Some(
            E::BadChunk | E::InvalidBlobHash(_) | E::InvalidPartition(_) | E::TooManyHashes { .. },
        ) => StatusCode::BAD_REQUEST,
        _ => return internal(e),
    };
    hub.inner.metrics.blob_refused.inc();
    HttpError(status, e.to_string())
}

fn header_u64(headers: &axum::http::HeaderMap, name: &str) -> Result<u64, HttpError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            HttpError(
                StatusCode::BAD_REQUEST,
                format!("header {name} is required"),
            )
        })
}

async fn blob_status_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    Json(request): Json<StatusRequest>,
) -> Result<Json<StatusReply>, HttpError> {
    scoped(&hub, cert, &request.partition, Access::Read)?;
    with_blobs(&hub, move |store| blob::answer_status(store, &request))
        .await
        .map(Json)
        .map_err(|e| blob_error(&hub, &e))
}

async fn blob_get_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    axum::extract::Path((hash, partition)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Result<Response, HttpError> {
    let (hash, partition) = blob_target(&hash, &partition)?;
    let device = scoped(&hub, cert, &partition, Access::Read)?;
    let offset = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .map(|v| v.parse::<u64>())
        .transpose()
        .map_err(|_| HttpError(StatusCode::BAD_REQUEST, "Range must be bytes=N-".into()))?
        .unwrap_or(0);
    let found = with_blobs(&hub, move |store| {
        let Held::Complete { size } = store.held(&partition, &hash)? else {
            return Ok(None);
        };
        Ok(store
            .blob_range(&partition, &hash, offset, size)?
            .map(|bytes| (size, bytes)))
    })
    .await
    .map_err(|e| blob_error(&hub, &e))?;
    let Some((size, bytes)) = found else {
        return Err(HttpError(StatusCode::NOT_FOUND, "blob not held".into()));
    };
    hub.inner.metrics.blob_bytes_out.inc_by(bytes.len() as u64);
    tracing::info!(device = %device.device_id, offset, bytes = bytes.len(), "blob sent");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::HeaderName::from_static("upload-length"),
                size.to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn blob_put_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    axum::extract::Path((hash, partition)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (hash, partition, device, size, offset) =
        match check_put(&hub, cert, &hash, &partition, &headers) {
            Ok(checked) => checked,
            Err(e) => {
                // Nothing of the body is kept, let alone written; it is read
                // and dropped only so the refusal reaches the device intact
                // (an unread body makes the connection close with a reset).
                discard(body.into_data_stream(), blob::MAX_BLOB_BYTES).await;
                return refused(e);
            }
        };
    // The body is read in its own task: if the connection breaks, the
    // handler is dropped but the task still commits what arrived.
    let receiving = tokio::spawn(receive_upload(
        hub.clone(),
        partition.clone(),
        hash,
        size,
        offset,
        body.into_data_stream(),
    ));
    let outcome = match receiving.await {
        Ok(outcome) => outcome,
        Err(e) => return refused(internal(&HubError::Task(e))),
    };
    match outcome {
        Ok(held) => {
            if held.is_complete() {
                tracing::info!(device = %device.device_id, partition = %partition, size, "blob received");
            }
            Json(UploadReply { held }).into_response()
        }
        Err(UploadError::Hub(e)) => match e.core() {
            Some(xaso_sync_core::Error::BlobGap { held }) => (
                StatusCode::CONFLICT,
                Json(UploadReply {
                    held: Held::Partial { held: *held, size },
                }),
            )
                .into_response(),
            _ => refused(blob_error(&hub, &e)),
        },
        // The device's link broke: what arrived is committed; nobody is
        // left to read a reply, but say what happened.
        Err(UploadError::Broken(e)) => refused(HttpError(
            StatusCode::BAD_REQUEST,
            format!("the upload broke off: {e}"),
        )),
    }
}

/// A refused upload's response; the connection is not reused after it.
fn refused(error: HttpError) -> Response {
    let mut response = error.into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Read and drop up to `limit` bytes of a body.
async fn discard(
    mut stream: impl futures_util::Stream<Item = Result<bytes::Bytes, axum::Error>> + Unpin,
    limit: u64,
) {
    use futures_util::StreamExt;
    let mut read = 0u64;
    while read <= limit {
        match stream.next().await {
            Some(Ok(bytes)) => read += bytes.len() as u64,
            _ => return,
        }
    }
}

/// Scope and headers of an upload, checked before any byte of it is read.
fn check_put(
    hub: &Hub,
    cert: Option<String>,
    hash: &str,
    partition: &str,
    headers: &axum::http::HeaderMap,
) -> Result<(BlobHash, Partition, Device, u64, u64), HttpError> {
    let (hash, partition) = blob_target(hash, partition)?;
    let device = scoped(hub, cert, &partition, Access::Write)?;
    let offset = header_u64(headers, "upload-offset")?;
    let size = header_u64(headers, "upload-length")?;
    if size > blob::MAX_BLOB_BYTES {
        return Err(blob_error(
            hub,
            &HubError::Core(xaso_sync_core::Error::BlobTooLarge {
                size,
                max: blob::MAX_BLOB_BYTES,
            }),
        ));
    }
    Ok((hash, partition, device, size, offset))
}

/// Why an upload ended early.
#[derive(Debug)]
pub(crate) enum UploadError {
    /// The device's body stream broke (its link): everything that arrived
    /// before the break was committed.
    Broken(axum::Error),
    /// The hub refused the bytes (past the declared size, a gap, a hash that
    /// does not verify) or failed to store them (an internal failure, never
    /// taken for a broken link).
    Hub(HubError),
}

/// Commit an upload's body as it arrives (see [`blob::Incoming`]); on a
/// broken stream, commit what arrived, then report the break. After a
/// refusal or an internal failure nothing more is written, and the rest of
/// the body is read and dropped so the answer reaches the device.
pub(crate) async fn receive_upload(
    hub: Hub,
    partition: Partition,
    hash: BlobHash,
    size: u64,
    offset: u64,
    mut stream: impl futures_util::Stream<Item = Result<bytes::Bytes, axum::Error>>
    + Unpin
    + Send
    + 'static,
) -> Result<Held, UploadError> {
    use futures_util::StreamExt;
    let mut incoming = blob::Incoming::new(offset);
    let mut held = None;
    let mut broken = None;
    loop {
        match stream.next().await {
            Some(Ok(bytes)) => {
                if incoming.next_offset() + bytes.len() as u64 > size {
                    discard(stream, blob::MAX_BLOB_BYTES).await;
                    return Err(UploadError::Hub(xaso_sync_core::Error::BadChunk.into()));
                }
                hub.inner.metrics.blob_bytes_in.inc_by(bytes.len() as u64);
                if let Some((at, piece)) = incoming.push(&bytes) {
                    match commit_piece(&hub, &partition, hash, size, at, piece).await {
                        Ok(now) => held = Some(now),
                        Err(e) => {
                            discard(stream, blob::MAX_BLOB_BYTES).await;
                            return Err(UploadError::Hub(e));
                        }
                    }
                }
            }
            Some(Err(e)) => {
                broken = Some(e);
                break;
            }
            None => break,
        }
    }
    // What arrived is good (TLS authenticated it), broken stream or not: keep it.
    if let Some((at, piece)) = incoming.finish() {
        held = Some(
            commit_piece(&hub, &partition, hash, size, at, piece)
                .await
                .map_err(UploadError::Hub)?,
        );
    }
    if let Some(e) = broken {
        return Err(UploadError::Broken(e));
    }
    match held {
        Some(held) => Ok(held),
        // An empty body: commit nothing, say where the blob stands (an empty
        // blob completes here).
        None => commit_piece(&hub, &partition, hash, size, offset, Vec::new())
            .await
            .map_err(UploadError::Hub),
    }
}

async fn commit_piece(
    hub: &Hub,
    partition: &Partition,
    hash: BlobHash,
    size: u64,
    offset: u64,
    piece: Vec<u8>,
) -> Result<Held, HubError> {
    let partition = partition.clone();
    let (before, after) = with_blobs(hub, move |store| {
        let before = store.held(&partition, &hash)?;
        let after = store.append_chunk(&partition, &hash, size, offset, &piece)?;
        Ok((before, after))
    })
    .await?;
    if after.is_complete() && !before.is_complete() {
        hub.inner.metrics.blobs_completed.inc();
    }
    Ok(after)
}

async fn metrics_handler(State(hub): State<Hub>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        hub.metrics_text(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use xaso_sync_core::Role;
    use xaso_sync_core::blob::BlobStore;
    use xaso_sync_store::{DatabaseKey, Store};

    use super::*;
    use crate::{Backends, HubConfig, SqliteBlobs, SqliteRecords, SqliteRegistry};

    /// An attachment store whose writes fail inside the hub (as a poisoned
    /// lock or a broken disk would), counting the attempts.
    struct FailingBlobs {
        appends: Arc<AtomicUsize>,
    }

    impl BlobStore for FailingBlobs {
        type Error = HubError;
        fn held(&self, _: &Partition, _: &BlobHash) -> Result<Held, HubError> {
            Ok(Held::Nothing)
        }
        fn append_chunk(
            &mut self,
            _: &Partition,
            _: &BlobHash,
            _: u64,
            _: u64,
            _: &[u8],
        ) -> Result<Held, HubError> {
            self.appends.fetch_add(1, Ordering::SeqCst);
            Err(HubError::LockPoisoned("attachment store"))
        }
        fn blob_range(
            &self,
            _: &Partition,
            _: &BlobHash,
            _: u64,
            _: u64,
        ) -> Result<Option<Vec<u8>>, HubError> {
            Ok(None)
        }
    }

    fn hub_with(dir: &std::path::Path, blobs: Box<dyn crate::BlobBackend>) -> Hub {
        let config = HubConfig::new(dir);
        std::fs::create_dir_all(dir).unwrap();
        let key_path = dir.join("hub.key");
        xaso_sync_store::ensure_key_file(&key_path).unwrap();
        let key = DatabaseKey::from_key_file(&key_path).unwrap();
        Hub::with_backends(
            config,
            Backends {
                records: Box::new(SqliteRecords(Store::open_in_memory().unwrap())),
                blobs,
                registry: Box::new(SqliteRegistry::open(&dir.join("registry.db"), &key).unwrap()),
            },
        )
        .unwrap()
    }

    #[tokio::test]
    async fn an_internal_failure_during_an_upload_is_not_taken_for_a_broken_link() {
        let dir = tempfile::tempdir().unwrap();
        let appends = Arc::new(AtomicUsize::new(0));
        let hub = hub_with(
            dir.path(),
            Box::new(FailingBlobs {
                appends: appends.clone(),
            }),
        );
        let bytes = xaso_sync_testkit::sample::page(1, 3 * blob::FLUSH_BYTES);
        let hash = BlobHash::of(&bytes);
        // The body arrives in three pieces; the hub fails to store the first.
        let read = Arc::new(AtomicUsize::new(0));
        let pieces: Vec<Result<bytes::Bytes, axum::Error>> = bytes
            .chunks(blob::FLUSH_BYTES)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        let counted = read.clone();
        let stream =
            futures_util::StreamExt::inspect(futures_util::stream::iter(pieces), move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
            });
        let outcome = receive_upload(
            hub.clone(),
            Partition::new("79001").unwrap(),
            hash,
            bytes.len() as u64,
            0,
            Box::pin(stream),
        )
        .await;
        // A typed internal failure, not a broken upload stream…
        let Err(UploadError::Hub(e)) = outcome else {
            panic!("expected the hub's own failure, got {outcome:?}");
        };
        assert!(matches!(e, HubError::LockPoisoned(_)), "{e}");
        // …so nothing more is written after it, the rest of the body is read
        // and dropped (the 500 reaches the device instead of a reset), and it
        // is answered as the hub's fault, not counted as a refused upload.
        assert_eq!(appends.load(Ordering::SeqCst), 1);
        assert_eq!(read.load(Ordering::SeqCst), 3);
        assert_eq!(blob_error(&hub, &e).0, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(hub.inner.metrics.blob_refused.get(), 0);
    }

    #[tokio::test]
    async fn a_broken_upload_stream_keeps_what_arrived_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let hub = hub_with(dir.path(), Box::new(SqliteBlobs(store)));
        let bytes = xaso_sync_testkit::sample::page(2, 2 * blob::FLUSH_BYTES);
        let hash = BlobHash::of(&bytes);
        let partition = Partition::new("79001").unwrap();
        let pieces: Vec<Result<bytes::Bytes, axum::Error>> = vec![
            Ok(bytes::Bytes::copy_from_slice(&bytes[..1000])),
            Err(axum::Error::new(std::io::Error::other("link cut"))),
        ];
        let outcome = receive_upload(
            hub.clone(),
            partition.clone(),
            hash,
            bytes.len() as u64,
            0,
            futures_util::stream::iter(pieces),
        )
        .await;
        assert!(
            matches!(outcome, Err(UploadError::Broken(_))),
            "{outcome:?}"
        );
        let held = with_blobs(&hub, move |s| s.held(&partition, &hash))
            .await
            .unwrap();
        assert_eq!(
            held,
            Held::Partial {
                held: 1000,
                size: bytes.len() as u64
            }
        );
    }

    #[tokio::test]
    async fn a_blob_path_that_climbs_out_of_its_partition_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let hub = crate::Hub::open(HubConfig::new(dir.path().join("hub"))).unwrap();
        // An officer of commune 79001, enrolled as any device is.
        let code = hub
            .create_enrolment_code(
                Role::Officer,
                &["79001"],
                std::time::Duration::from_secs(60),
            )
            .unwrap();
        let (_key, csr_pem) = xaso_sync_client::key_and_request().unwrap();
        let enrolled = hub.enrol(&EnrolRequest { code, csr_pem }).unwrap();
        let der: rustls::pki_types::CertificateDer<'_> =
            rustls::pki_types::pem::PemObject::from_pem_slice(enrolled.cert_pem.as_bytes())
                .unwrap();
        let cert = xaso_sync_tls::cert_sha256_hex(&der);
        let body = b"a page".to_vec();
        let hash = BlobHash::of(&body);
        let put = |path: String| {
            Request::put(path)
                .header("upload-offset", "0")
                .header("upload-length", body.len().to_string())
                .body(Body::from(body.clone()))
                .unwrap()
        };
        let app = router(hub.clone()).layer(Extension(PeerCert(Some(cert))));
        // Percent-escaped dots reach the handler as "79001/../79002": once a
        // valid partition of commune 79001, now refused by the grammar.
        for path in [
            format!("/v1/blobs/{hash}/79001/%2E%2E/79002"),
            format!("/v1/blobs/{hash}/79001/%2E/x"),
            format!("/v1/blobs/{hash}/79001//x"),
            format!("/v1/blobs/{hash}/79001/kiosk%2F..%2Fx"),
        ] {
            let response = app.clone().oneshot(put(path.clone())).await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        }
        assert!(
            hub.with_store(|s| s.partitions().unwrap())
                .unwrap()
                .is_empty(),
            "nothing was written"
        );
        // The same upload to the commune itself is accepted.
        let response = app
            .clone()
            .oneshot(put(format!("/v1/blobs/{hash}/79001")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
