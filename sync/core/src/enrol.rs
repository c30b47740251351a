//! Enrolment on the wire: what a device sends with its one-time code and
//! what the hub answers (`POST /v1/enrol`, JSON).

use serde::{Deserialize, Serialize};

use crate::access::Role;

/// Device numbers a commune can give out (the tracking code's two base-32
/// characters: 0–1023).
pub const DEVICE_NUMBERS: u16 = 1024;

/// Enrolment request body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code shown on the hub.
    pub code: String,
    /// PKCS#10 request for the device's own key (the key never leaves the device).
    pub csr_pem: String,
}

/// Enrolment answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// Device id.
    pub device_id: String,
    /// Role bound to the certificate.
    pub role: Role,
    /// Communes bound to the certificate.
    pub communes: Vec<String>,
    /// The device certificate.
    pub cert_pem: String,
    /// The hub CA certificate.
    pub ca_pem: String,
    /// The hub's own (server) certificate: the device may trust exactly this
    /// certificate without checking its chain again on every connection.
    #[serde(default)]
    pub hub_cert_pem: Option<String>,
    /// The device's number within its communes (0–1023), part of every
    /// tracking code it mints; never given to another device of those communes.
    pub device_number: u16,
}
