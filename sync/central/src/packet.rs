//! A dossier's packets: what the platform must know of it, derived from the dossier alone.
//!
//! The first packet is the dossier as submitted (`DongBoHoSoMC`, `isUpdating` false); each
//! later audit entry whose state the mapping reports is one progress packet
//! (`CapNhatTienDoHoSoMC`); a supplement also re-sends the dossier (`isUpdating` true). A
//! dossier that came in online is already known to the platform: only its progress is sent.
//!
//! Packets are deterministic: every value comes from the dossier and its audit entries
//! (times are the entries' times, never the moment of sending), so the packet built again
//! after a crash, a retry or a restart is byte for byte the one built first. Each packet has
//! a key that names it for the outbox: the dossier's code and a digest of the audit entry it
//! stands for, so entries merged from another device in any order keep their keys.

use jiff::Timestamp;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::{Action, AuditEntry, Catalog, Channel, Dossier, DossierState};

use crate::error::PacketError;
use crate::mapping::{Mapping, Service, Source};
use crate::time;
use crate::wire::ApiRequest;

/// One packet for the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Names the packet for the outbox: `<code>#dossier`, `<code>#<entry digest>`, or
    /// `<code>#dossier-<entry digest>` for a re-sent dossier.
    pub key: String,
    /// The dossier's code on the platform (`MaHoSo`).
    pub code: String,
    pub service: Service,
    pub is_updating: bool,
    /// The `data` item.
    pub data: Value,
}

impl Packet {
    /// The request body, as sent: deterministic bytes.
    pub fn body(&self) -> Vec<u8> {
        let request = ApiRequest {
            service: self.service.name().into(),
            is_updating: self.is_updating,
            data: vec![self.data.clone()],
        };
        serde_json::to_vec(&request).unwrap_or_default()
    }
}

/// The dossier's code on the platform: our tracking code, or the platform's own code of a
/// dossier that came in online.
pub fn platform_code(dossier: &Dossier) -> Option<String> {
    dossier.code()
}

/// A digest naming one audit entry: the same entry gives the same digest on every device.
fn entry_digest(entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(entry.at.as_millisecond().to_be_bytes());
    h.update(format!("{:?}", entry.action).as_bytes());
    h.update([0]);
    h.update(entry.actor.id.as_bytes());
    h.update([0]);
    h.update(entry.actor.device.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    h.update(entry.based_on.unwrap_or(u32::MAX).to_be_bytes());
    hex::encode(&h.finalize()[..8])
}

struct Ctx<'a> {
    dossier: &'a Dossier,
    code: &'a str,
    procedure_code: &'a str,
    commune: &'a str,
    received: Timestamp,
    due: String,
}

/// Every packet of `dossier` (of commune `commune`), in the order the platform must get
/// them. An empty list for a dossier not yet submitted.
pub fn packets(
    dossier: &Dossier,
    commune: &str,
    mapping: &Mapping,
    catalog: &Catalog,
    holidays: &Holidays,
) -> Result<Vec<Packet>, PacketError> {
    let audit = dossier.audit();
    let Some(submit_at) = audit.iter().position(|e| e.action == Action::Submit) else {
        return Ok(Vec::new());
    };
    let code = platform_code(dossier).ok_or(PacketError::NoCode)?;
    let procedure = catalog
        .procedure(&dossier.procedure.0)
        .ok_or_else(|| PacketError::UnknownProcedure(dossier.procedure.0.clone()))?;
    let procedure_code = mapping
        .procedure_code(&dossier.procedure.0)
        .ok_or_else(|| PacketError::ProcedureUnmapped(dossier.procedure.0.clone()))?;
    let received = audit[submit_at].at;
    let due =
        time::format_due(holidays.due_date(vietnam_date(received), procedure.processing_days));
    let ctx = Ctx {
        dossier,
        code: &code,
        procedure_code,
        commune,
        received,
        due,
    };
    let mut out = Vec::new();
    if dossier.channel != Channel::Online {
        out.push(Packet {
            key: format!("{code}#dossier"),
            code: code.clone(),
            service: Service::Dossier,
            is_updating: false,
            data: fill(&ctx, mapping, Service::Dossier, &audit[submit_at], None)?,
        });
    }
    for (i, entry) in audit.iter().enumerate().skip(submit_at + 1) {
        if mapping.state_code(entry.to).is_none() {
            continue;
        }
        let digest = entry_digest(entry);
        let previous = &audit[i - 1];
        out.push(Packet {
            key: format!("{code}#{digest}"),
            code: code.clone(),
            service: Service::Progress,
            is_updating: false,
            data: fill(&ctx, mapping, Service::Progress, entry, Some(previous))?,
        });
        if entry.action == Action::Supplement && dossier.channel != Channel::Online {
            out.push(Packet {
                key: format!("{code}#dossier-{digest}"),
                code: code.clone(),
                service: Service::Dossier,
                is_updating: true,
                data: fill(&ctx, mapping, Service::Dossier, entry, None)?,
            });
        }
    }
    Ok(out)
}

fn state_code(mapping: &Mapping, state: DossierState) -> Result<Value, PacketError> {
    mapping
        .state_code(state)
        .map(Value::from)
        .ok_or(PacketError::StateUnmapped(state.key()))
}

/// The `data` item of `service` as of `entry` (`previous`: the entry before it).
fn fill(
    ctx: &Ctx<'_>,
    mapping: &Mapping,
    service: Service,
    entry: &AuditEntry,
    previous: Option<&AuditEntry>,
) -> Result<Value, PacketError> {
    let d = ctx.dossier;
    let mut data = Map::new();
    for field in mapping.fields(service) {
        let value = match &field.source {
            Source::TrackingCode => Value::from(ctx.code),
            Source::Procedure => Value::from(ctx.procedure_code),
            Source::Commune => Value::from(ctx.commune),
            Source::State | Source::StepState => state_code(mapping, entry.to)?,
            Source::ReceivedAt => Value::from(time::format(ctx.received)),
            Source::DueAt => Value::from(ctx.due.as_str()),
            Source::ApplicantName => Value::from(d.applicant.full_name.as_str()),
            Source::ApplicantId => Value::from(d.applicant.id_number.as_str()),
            Source::Channel => Value::from(mapping.channel_code(d.channel).unwrap_or(1)),
            Source::Actor => Value::from(entry.actor.id.as_str()),
            Source::At => Value::from(time::format(entry.at)),
            Source::Content => {
                let text = mapping.progress_text(entry.action);
                Value::from(match &entry.reason {
                    Some(reason) => format!("{text}: {reason}"),
                    None => text,
                })
            }
            Source::StepStartedAt => Value::from(time::format(previous.map_or(entry.at, |p| p.at))),
            Source::Value(id) => Value::from(d.values.get(id).cloned().unwrap_or_default()),
        };
        data.insert(field.name.clone(), value);
    }
    Ok(Value::Object(data))
}
