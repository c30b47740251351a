//! The wire of the national portal's integration style (as public one-stop systems
//! implement it): `POST {base}/auth` for a session, then `POST {base}/api` with
//! `Authorization: Bearer <session>` for every service. `error_code` `"00"` is success,
//! `"401"` (or HTTP 401) means the session is gone, anything else is a refusal with
//! `message`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Success.
pub const OK: &str = "00";
/// The session expired or is unknown: sign in again.
pub const SESSION_EXPIRED: &str = "401";

/// Service: dossiers submitted online for a commune since a time.
pub const LIST_ONLINE: &str = "LayDanhSachHoSoTrucTuyen";
/// Service: a citizen's earlier results for a procedure.
pub const EARLIER_RESULTS: &str = "LayKetQuaCongDan";

/// `POST {base}/auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub username: String,
    pub password: String,
}

/// The answer to [`AuthRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthReply {
    pub error_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST {base}/api`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRequest {
    pub service: String,
    #[serde(rename = "isUpdating")]
    pub is_updating: bool,
    pub data: Vec<serde_json::Value>,
}

/// The answer to [`ApiRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiReply {
    pub error_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl ApiReply {
    /// Success with `data`.
    pub fn ok(data: Option<serde_json::Value>) -> ApiReply {
        ApiReply {
            error_code: OK.into(),
            message: None,
            data,
        }
    }

    /// A refusal.
    pub fn refused(code: &str, message: impl Into<String>) -> ApiReply {
        ApiReply {
            error_code: code.into(),
            message: Some(message.into()),
            data: None,
        }
    }
}

/// The `data` item of [`LIST_ONLINE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListOnline {
    pub ma_don_vi: String,
    /// `yyyyMMddHHmmss`.
    pub tu_thoi_diem: String,
}

/// A dossier submitted online, as [`LIST_ONLINE`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OnlineDossier {
    pub ma_ho_so: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    pub ma_don_vi: String,
    /// `yyyyMMddHHmmss`.
    pub ngay_tiep_nhan: String,
    pub chu_ho_so: String,
    pub so_dinh_danh: String,
    /// The form's values, by the catalog's field ids.
    #[serde(default)]
    pub thong_tin: BTreeMap<String, String>,
}

/// The `data` item of [`EARLIER_RESULTS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierResultsQuery {
    #[serde(rename = "SoDinhDanh")]
    pub so_dinh_danh: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
}

/// One earlier result, as [`EARLIER_RESULTS`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EarlierResult {
    /// The dossier it was the result of.
    pub ma_ho_so: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    /// The document's name ("Trích lục khai sinh"…).
    pub ten_giay_to: String,
    /// `yyyyMMddHHmmss`.
    pub ngay_cap: String,
    /// The document, a PDF, base64.
    pub noi_dung: String,
}
