//! What comes from the platform: dossiers submitted online for the commune, and a
//! citizen's earlier results.

use base64::Engine;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use xaso_services::{
    Action, Actor, Applicant, AttachmentRef, Catalog, Channel, Consent, Dossier, ProcedureCode,
    Role, Submitter,
};

use crate::error::InboundError;
use crate::mapping::Mapping;
use crate::time;
use crate::wire::{EarlierResult, OnlineDossier};

/// The `paper` of an attachment that is an earlier result fetched from the platform.
pub const EARLIER_RESULT_PAPER: &str = "earlier-result";

/// The actor id of the resident who submitted online (they are not at any device of ours).
pub const ONLINE_ACTOR: &str = "national-portal";

/// The record id of the dossier that came in online as `code`: the same for the same code,
/// so pulling it twice writes it once. Characters outside `[A-Za-z0-9-_.]` become `_`, and
/// a digest keeps two codes that differ only there apart.
pub fn online_record_id(code: &str) -> String {
    let clean: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean == code {
        format!("dossier-online-{clean}")
    } else {
        let digest = hex::encode(&Sha256::digest(code.as_bytes())[..4]);
        format!("dossier-online-{clean}-{digest}")
    }
}

/// A dossier submitted online, as a dossier of ours: channel online, submitted by the
/// resident at the time the platform received it, its code the platform's. Form values are
/// kept only for fields the procedure has.
pub fn online_dossier(
    online: &OnlineDossier,
    commune: &str,
    mapping: &Mapping,
    catalog: &Catalog,
) -> Result<Dossier, InboundError> {
    let code = online.ma_ho_so.trim();
    if code.is_empty() {
        return Err(InboundError::NoCode);
    }
    if online.ma_don_vi != commune {
        return Err(InboundError::OtherCommune {
            expected: commune.to_owned(),
            found: online.ma_don_vi.clone(),
        });
    }
    let procedure = mapping
        .procedure_by_code(&online.ma_tthc)
        .and_then(|p| catalog.procedure(p))
        .ok_or_else(|| InboundError::UnknownProcedure(online.ma_tthc.clone()))?;
    let at = time::parse(&online.ngay_tiep_nhan).ok_or_else(|| InboundError::BadDate {
        field: "NgayTiepNhan",
        value: online.ngay_tiep_nhan.clone(),
    })?;
    let applicant = Applicant {
        id_number: online.so_dinh_danh.clone(),
        full_name: online.chu_ho_so.clone(),
        submitter: Submitter::Oneself,
        card_verified: false,
    };
    let id = online_record_id(code)
        .trim_start_matches("dossier-")
        .to_owned();
    let mut dossier = Dossier::new(
        id,
        ProcedureCode(procedure.code.0.clone()),
        applicant,
        Channel::Online,
        at,
    );
    dossier.external_code = Some(code.to_owned());
    dossier.online_commune = xaso_services::tracking::CommuneCode::new(commune).ok();
    dossier.values = online
        .thong_tin
        .iter()
        .filter(|(k, _)| procedure.field(k).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    dossier.consent = Some(Consent {
        given_at: at,
        text_version: "national-portal".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let actor = Actor::new(Role::Resident, ONLINE_ACTOR);
    // A fresh draft with consent and a code: submitting cannot be refused.
    dossier
        .apply(Action::Submit, actor, None, at)
        .map_err(|_| InboundError::NoCode)?;
    Ok(dossier)
}

/// An earlier result as the bytes to store and the reference to add to the dossier.
pub fn earlier_result(result: &EarlierResult) -> Result<(Vec<u8>, AttachmentRef), InboundError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(result.noi_dung.trim())
        .map_err(|_| InboundError::BadDocument)?;
    let reference = AttachmentRef {
        paper: EARLIER_RESULT_PAPER.into(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        media_type: "application/pdf".into(),
        bytes: bytes.len() as u64,
    };
    Ok((bytes, reference))
}

/// The time an earlier result was issued, if the platform wrote a valid date.
pub fn issued_at(result: &EarlierResult) -> Option<Timestamp> {
    time::parse(&result.ngay_cap)
}
