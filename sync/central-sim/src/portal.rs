//! What the portal does with an `/api` request once it is let through: no sockets, no
//! clock, no randomness (the misbehaviour is the server's), so it is tested on its own.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use xaso_central::mapping::Source;
use xaso_central::wire::{
    self, ApiReply, ApiRequest, EarlierResult, EarlierResultsQuery, ListOnline, OnlineDossier,
};
use xaso_central::{Mapping, Service, schema, time};

/// A refusal: the data does not pass the platform's schema.
pub const BAD_DATA: &str = "01";
/// A refusal: a new dossier (`isUpdating` false) under a code already held with other
/// content.
pub const EXISTS: &str = "02";
/// A refusal: progress of a dossier the platform does not know.
pub const UNKNOWN_DOSSIER: &str = "03";
/// A refusal: no such service.
pub const UNKNOWN_SERVICE: &str = "04";

/// What the simulator holds and has counted, for tests and the demo (`GET /sim/state`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `MaHoSo` → the `DongBoHoSoMC` data held (the latest accepted update).
    pub dossiers: BTreeMap<String, Value>,
    /// `DongBoHoSoMC` packets with `isUpdating` true that replaced a held dossier.
    pub dossier_updates: u64,
    /// `MaHoSo` → its `CapNhatTienDoHoSoMC` items in arrival order (duplicates not
    /// repeated).
    pub progress: BTreeMap<String, Vec<Value>>,
    /// Packets identical to one already accepted: acknowledged, not stored again.
    pub duplicates: u64,
    /// `/api` answers with an `error_code` other than `00` and `401`.
    pub refused: u64,
    /// `/api` and `/auth` requests answered HTTP 503 by `fail_rate` or `down`.
    pub injected_failures: u64,
    /// `/api` requests whose work was done but whose answer was lost (HTTP 502).
    pub dropped_acks: u64,
    /// `/api` requests held for the configured stall.
    pub stalls: u64,
    /// Sessions given out by `/auth`.
    pub sessions_issued: u64,
    /// Every `LayKetQuaCongDan` call: (`SoDinhDanh`, `MaTTHC`).
    pub earlier_result_calls: Vec<(String, String)>,
    /// `LayDanhSachHoSoTrucTuyen` calls.
    pub online_list_calls: u64,
}

/// The platform's holdings.
#[derive(Debug)]
pub(crate) struct Portal {
    mapping: Mapping,
    dossier_code: String,
    progress_code: String,
    /// Digests of the packets accepted so far.
    seen: HashSet<[u8; 32]>,
    online: BTreeMap<String, OnlineDossier>,
    results: BTreeMap<String, Vec<EarlierResult>>,
    pub(crate) snap: Snapshot,
}

/// The name of the field of `service` that holds the dossier's code.
fn code_field(mapping: &Mapping, service: Service) -> String {
    mapping
        .fields(service)
        .iter()
        .find(|f| f.source == Source::TrackingCode)
        .map_or_else(|| "MaHoSo".to_owned(), |f| f.name.clone())
}

/// `value` as JSON with every object's keys sorted (whatever serde_json's map order).
fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(&Value::String(key.clone()), out);
                out.push(b':');
                if let Some(v) = map.get(key) {
                    canonical(v, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(v, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

/// A packet's identity: SHA-256 of the service, `isUpdating` and the item as canonical JSON.
pub(crate) fn identity(service: &str, is_updating: bool, item: &Value) -> [u8; 32] {
    let mut bytes = Vec::new();
    canonical(item, &mut bytes);
    let mut h = Sha256::new();
    h.update(service.as_bytes());
    h.update([0, u8::from(is_updating), 0]);
    h.update(&bytes);
    h.finalize().into()
}

impl Portal {
    pub(crate) fn new(mapping: Mapping) -> Portal {
        Portal {
            dossier_code: code_field(&mapping, Service::Dossier),
            progress_code: code_field(&mapping, Service::Progress),
            mapping,
            seen: HashSet::new(),
            online: BTreeMap::new(),
            results: BTreeMap::new(),
            snap: Snapshot::default(),
        }
    }

    pub(crate) fn add_online(&mut self, dossiers: Vec<OnlineDossier>) {
        for d in dossiers {
            self.online.insert(d.ma_ho_so.clone(), d);
        }
    }

    pub(crate) fn add_results(&mut self, so_dinh_danh: &str, results: Vec<EarlierResult>) {
        self.results
            .entry(so_dinh_danh.to_owned())
            .or_default()
            .extend(results);
    }

    /// The answer to `request`, its effects applied. Items of `data` are taken in order;
    /// the first refused one ends the request (the items before it stay accepted).
    pub(crate) fn handle(&mut self, request: &ApiRequest) -> ApiReply {
        let reply = self.answer(request);
        if reply.error_code != wire::OK {
            self.snap.refused += 1;
        }
        reply
    }

    fn answer(&mut self, request: &ApiRequest) -> ApiReply {
        let name = request.service.as_str();
        if let Some(service) = Service::from_name(name) {
            if request.data.is_empty() {
                return ApiReply::refused(BAD_DATA, "data: empty");
            }
            for item in &request.data {
                let reply = self.packet(service, request.is_updating, item);
                if reply.error_code != wire::OK {
                    return reply;
                }
            }
            return ApiReply::ok(None);
        }
        match name {
            wire::LIST_ONLINE => self.list_online(&request.data),
            wire::EARLIER_RESULTS => self.earlier_results(&request.data),
            _ => ApiReply::refused(UNKNOWN_SERVICE, "Dịch vụ không tồn tại"),
        }
    }

    fn packet(&mut self, service: Service, is_updating: bool, item: &Value) -> ApiReply {
        let problems = schema::check(&self.mapping, service, item);
        if !problems.is_empty() {
            return ApiReply::refused(BAD_DATA, schema::describe(&problems));
        }
        let digest = identity(service.name(), is_updating, item);
        if self.seen.contains(&digest) {
            self.snap.duplicates += 1;
            return ApiReply::ok(None);
        }
        let field = match service {
            Service::Dossier => &self.dossier_code,
            Service::Progress => &self.progress_code,
        };
        // The schema check made sure the code is there and is text.
        let code = item
            .get(field.as_str())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match service {
            Service::Dossier => match self.snap.dossiers.get(&code) {
                Some(held) if held == item => self.snap.duplicates += 1,
                Some(_) if !is_updating => {
                    return ApiReply::refused(EXISTS, "Hồ sơ đã tồn tại");
                }
                Some(_) => {
                    self.snap.dossier_updates += 1;
                    self.snap.dossiers.insert(code, item.clone());
                }
                None => {
                    self.snap.dossiers.insert(code, item.clone());
                }
            },
            Service::Progress => {
                if !self.snap.dossiers.contains_key(&code) && !self.online.contains_key(&code) {
                    return ApiReply::refused(UNKNOWN_DOSSIER, "Hồ sơ chưa được đồng bộ");
                }
                self.snap
                    .progress
                    .entry(code)
                    .or_default()
                    .push(item.clone());
            }
        }
        self.seen.insert(digest);
        ApiReply::ok(None)
    }

    fn list_online(&mut self, data: &[Value]) -> ApiReply {
        self.snap.online_list_calls += 1;
        let Some(query) = data
            .first()
            .and_then(|v| serde_json::from_value::<ListOnline>(v.clone()).ok())
        else {
            return ApiReply::refused(BAD_DATA, "MaDonVi, TuThoiDiem: missing");
        };
        let Some(since) = time::parse(&query.tu_thoi_diem) else {
            return ApiReply::refused(BAD_DATA, "TuThoiDiem: not yyyyMMddHHmmss");
        };
        let mut found: Vec<&OnlineDossier> = self
            .online
            .values()
            .filter(|d| d.ma_don_vi == query.ma_don_vi)
            .filter(|d| time::parse(&d.ngay_tiep_nhan).is_some_and(|at| at >= since))
            .collect();
        found.sort_by(|a, b| {
            (&a.ngay_tiep_nhan, &a.ma_ho_so).cmp(&(&b.ngay_tiep_nhan, &b.ma_ho_so))
        });
        ApiReply::ok(Some(serde_json::to_value(found).unwrap_or_default()))
    }

    fn earlier_results(&mut self, data: &[Value]) -> ApiReply {
        let Some(query) = data
            .first()
            .and_then(|v| serde_json::from_value::<EarlierResultsQuery>(v.clone()).ok())
        else {
            return ApiReply::refused(BAD_DATA, "SoDinhDanh, MaTTHC: missing");
        };
        self.snap
            .earlier_result_calls
            .push((query.so_dinh_danh.clone(), query.ma_tthc.clone()));
        let found: Vec<&EarlierResult> = self
            .results
            .get(&query.so_dinh_danh)
            .into_iter()
            .flatten()
            .filter(|r| query.ma_tthc.is_empty() || r.ma_tthc == query.ma_tthc)
            .collect();
        ApiReply::ok(Some(serde_json::to_value(found).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn identity_ignores_key_order_but_not_values_or_flags() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":"x","x":[1,2]}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":[1,2],"y":"x"},"b":1}"#).unwrap();
        let c = json!({"a": {"x": [2, 1], "y": "x"}, "b": 1});
        assert_eq!(identity("S", false, &a), identity("S", false, &b));
        assert_ne!(identity("S", false, &a), identity("S", true, &a));
        assert_ne!(identity("S", false, &a), identity("T", false, &a));
        assert_ne!(identity("S", false, &a), identity("S", false, &c));
        let mut out = Vec::new();
        canonical(&json!({"z": "Đ\"", "a": null}), &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":null,"z":"Đ\""}"#);
    }
}
