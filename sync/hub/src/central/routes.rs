//! `GET /v1/central/status` and `POST /v1/central/retry`: the outbox as the officers of a
//! commune see it, and their way to send a refused packet again after a fix. Officer
//! devices only; each sees and retries only its own communes' packets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use xaso_sync_core::access::Role;
use xaso_sync_core::central::{CentralStatus, RetryReply, RetryRequest};

use crate::routes::{HttpError, PeerCert, authenticate, internal};
use crate::{Hub, HubError};

fn officer(hub: &Hub, cert: Option<String>) -> Result<Vec<String>, HttpError> {
    let device = authenticate(hub, cert)?;
    if device.role != Role::Officer {
        return Err(HttpError(
            StatusCode::FORBIDDEN,
            "only an officer's device sees the outbox".into(),
        ));
    }
    Ok(device.communes)
}

pub(crate) async fn status_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
) -> Result<Json<CentralStatus>, HttpError> {
    let communes = officer(&hub, cert)?;
    let hub2 = hub.clone();
    let status = tokio::task::spawn_blocking(move || match hub2.central() {
        None => Ok(CentralStatus::default()),
        Some(shared) => shared.status(Some(&communes), jiff::Timestamp::now()),
    })
    .await
    .map_err(|e| internal(&HubError::Task(e)))?
    .map_err(|e| internal(&e))?;
    Ok(Json(status))
}

pub(crate) async fn retry_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    Json(request): Json<RetryRequest>,
) -> Result<Json<RetryReply>, HttpError> {
    let communes = officer(&hub, cert)?;
    let hub2 = hub.clone();
    let retried = tokio::task::spawn_blocking(move || match hub2.central() {
        None => Ok(0),
        Some(shared) => shared.retry(&hub2, request.key.as_deref(), Some(&communes)),
    })
    .await
    .map_err(|e| internal(&HubError::Task(e)))?
    .map_err(|e| internal(&e))?;
    Ok(Json(RetryReply { retried }))
}
