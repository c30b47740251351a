//! The resident's counter at the hub: a kiosk looks up, and supplements, a dossier that
//! was handed in at another device (see [`xaso_sync_core::counter`]).
//!
//! The tracking code names the commune and the minting device's number, hence the
//! partition; the ID number from the resident's verified card must be the applicant's,
//! otherwise the answer is the same "not found" as for an unknown code (no way to probe
//! whose codes exist). Only kiosks and helper tablets of that commune ask; the resident's
//! ID number is never logged.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, response::IntoResponse};
use xaso_services::{Actor, AttachmentRef, Dossier, Role, TrackingCode};
use xaso_sync_core::Partition;
use xaso_sync_core::access::{Device, Role as DeviceRole};
use xaso_sync_core::counter::{DossierFound, DossierLookup, SupplementRequest};

use crate::routes::{HttpError, PeerCert, authenticate, internal};
use crate::{Hub, HubError};

/// Most pages one supplement may carry.
pub const MAX_SUPPLEMENT_PAGES: usize = 20;

/// Why the counter refused.
#[derive(Debug, thiserror::Error)]
pub enum CounterRefusal {
    /// Unknown code, or not this person's dossier (the same answer on purpose).
    #[error("no such dossier for this card")]
    NotFound,
    /// The device may not ask for this commune (an officer uses sync instead).
    #[error("this device may not use the counter for this commune")]
    NotAllowed,
    /// The dossier does not wait for a supplement (or takes no such paper).
    #[error("the dossier refuses this: {0}")]
    Refused(String),
    /// The request itself is unusable (no pages, too many).
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl From<CounterRefusal> for HttpError {
    fn from(r: CounterRefusal) -> Self {
        let status = match r {
            CounterRefusal::NotFound => StatusCode::NOT_FOUND,
            CounterRefusal::NotAllowed => StatusCode::FORBIDDEN,
            CounterRefusal::Refused(_) => StatusCode::CONFLICT,
            CounterRefusal::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        HttpError(status, r.to_string())
    }
}

/// A failure of the counter: the resident's request refused, or the hub failed.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error(transparent)]
    Refused(#[from] CounterRefusal),
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<CounterError> for HttpError {
    fn from(e: CounterError) -> Self {
        match e {
            CounterError::Refused(r) => r.into(),
            CounterError::Hub(h) => internal(&h),
        }
    }
}

fn dossier_record(code: &TrackingCode) -> String {
    format!("dossier-{code}")
}

impl Hub {
    /// Where the dossier with `code` lives, if `device` may ask for its commune.
    fn locate(&self, device: &Device, code: &str) -> Result<(Partition, String), CounterError> {
        let code = TrackingCode::parse(code).map_err(|_| CounterRefusal::NotFound)?;
        let commune = code.commune().as_str();
        if !matches!(device.role, DeviceRole::Kiosk | DeviceRole::Helper)
            || !device.communes.iter().any(|c| c == commune)
        {
            return Err(CounterRefusal::NotAllowed.into());
        }
        let minter = self
            .inner
            .registry
            .device_by_number(commune, code.device())?
            .ok_or(CounterRefusal::NotFound)?;
        let partition =
            Partition::submissions(commune, &minter).map_err(|_| CounterRefusal::NotFound)?;
        Ok((partition, dossier_record(&code)))
    }

    /// The dossier `lookup` names, if its applicant is the card's holder.
    pub fn counter_lookup(
        &self,
        device: &Device,
        lookup: &DossierLookup,
    ) -> Result<DossierFound, CounterError> {
        let (partition, record_id) = self.locate(device, &lookup.tracking_code)?;
        let (dossier, _) = self.applicants_dossier(&partition, &record_id, &lookup.id_number)?;
        Ok(DossierFound {
            partition: partition.to_string(),
            record_id,
            dossier,
        })
    }

    fn applicants_dossier(
        &self,
        partition: &Partition,
        record_id: &str,
        id_number: &str,
    ) -> Result<(serde_json::Value, Dossier), CounterError> {
        let json = self
            .records()?
            .get_json(partition, record_id)?
            .ok_or(CounterRefusal::NotFound)?;
        let dossier: Dossier =
            serde_json::from_value(json.clone()).map_err(|_| CounterRefusal::NotFound)?;
        if dossier.applicant.id_number != id_number {
            return Err(CounterRefusal::NotFound.into());
        }
        Ok((json, dossier))
    }

    /// Add the pages of `request` to the dossier and take the supplement step, as the
    /// resident at `device`. Durable when it returns; syncs to the kiosk that holds the
    /// dossier and to the officers.
    pub fn counter_supplement(
        &self,
        device: &Device,
        request: &SupplementRequest,
        now: jiff::Timestamp,
    ) -> Result<DossierFound, CounterError> {
        if request.pages.is_empty() || request.pages.len() > MAX_SUPPLEMENT_PAGES {
            return Err(CounterRefusal::BadRequest(format!(
                "a supplement carries 1 to {MAX_SUPPLEMENT_PAGES} pages"
            ))
            .into());
        }
        let (partition, record_id) = self.locate(device, &request.tracking_code)?;
        // Read, change and write under one lock: no other hub write interleaves.
        let mut records = self.records()?;
        let json = records
            .get_json(&partition, &record_id)?
            .ok_or(CounterRefusal::NotFound)?;
        let mut dossier: Dossier =
            serde_json::from_value(json).map_err(|_| CounterRefusal::NotFound)?;
        if dossier.applicant.id_number != request.id_number {
            return Err(CounterRefusal::NotFound.into());
        }
        let actor = Actor::on_device(
            Role::Resident,
            format!("kiosk:{}", device.device_id),
            device.device_id.clone(),
        );
        let pages: Vec<AttachmentRef> = request
            .pages
            .iter()
            .map(|p| AttachmentRef {
                paper: p.paper.clone(),
                sha256: xaso_sync_core::BlobHash::of(&p.bytes).to_hex(),
                media_type: p.media_type.clone(),
                bytes: p.bytes.len() as u64,
            })
            .collect();
        // Check the step first: a refused supplement stores nothing.
        dossier
            .supplement(pages, actor, now)
            .map_err(|e| CounterRefusal::Refused(e.to_string()))?;
        for page in &request.pages {
            records.put_blob(&partition, &page.bytes)?;
        }
        let json = serde_json::to_value(&dossier)
            .map_err(|e| HubError::Core(xaso_sync_core::Error::Serialize(e)))?;
        records.put_json(&partition, &record_id, &json)?;
        tracing::info!(device = %device.device_id, pages = request.pages.len(), "supplement taken at the counter");
        Ok(DossierFound {
            partition: partition.to_string(),
            record_id,
            dossier: json,
        })
    }
}

pub(crate) async fn lookup_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    Json(lookup): Json<DossierLookup>,
) -> Result<impl IntoResponse, HttpError> {
    let device = authenticate(&hub, cert)?;
    let hub2 = hub.clone();
    let found = tokio::task::spawn_blocking(move || hub2.counter_lookup(&device, &lookup))
        .await
        .map_err(|e| internal(&HubError::Task(e)))??;
    Ok(Json(found))
}

pub(crate) async fn supplement_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    Json(request): Json<SupplementRequest>,
) -> Result<impl IntoResponse, HttpError> {
    let device = authenticate(&hub, cert)?;
    let hub2 = hub.clone();
    let found = tokio::task::spawn_blocking(move || {
        hub2.counter_supplement(&device, &request, jiff::Timestamp::now())
    })
    .await
    .map_err(|e| internal(&HubError::Task(e)))??;
    Ok(Json(found))
}
