//! How the simulator behaves, and how it misbehaves.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The simulator's behaviour; change it at run time with `Simulator::set_config` or
/// `POST /sim/config`. In JSON the durations are whole milliseconds (`stall_ms`,
/// `latency_min_ms`, `latency_max_ms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// The account `/auth` accepts.
    pub username: String,
    pub password: String,
    /// Share of `/api` requests answered HTTP 503 before anything is done.
    pub fail_rate: f64,
    /// Share of `/api` requests whose work is done and stored, then the answer is lost
    /// (HTTP 502).
    pub drop_ack_rate: f64,
    /// Share of `/api` requests held for [`SimConfig::stall`] before being processed
    /// normally (the work is done even if the client gave up waiting).
    pub stall_rate: f64,
    #[serde(rename = "stall_ms", with = "millis")]
    pub stall: Duration,
    /// A random delay in `latency_min..=latency_max` before every `/auth` and `/api`
    /// request.
    #[serde(rename = "latency_min_ms", with = "millis")]
    pub latency_min: Duration,
    #[serde(rename = "latency_max_ms", with = "millis")]
    pub latency_max: Duration,
    /// Every `/auth` and `/api` request answered HTTP 503.
    pub down: bool,
    /// A session expires after this many `/api` calls (`None`: never).
    pub session_ttl: Option<u32>,
    /// Seeds the random choices (rates and latency); setting a configuration starts the
    /// sequence again from this seed.
    pub seed: u64,
}

impl Default for SimConfig {
    /// Username `xaso`, password `xaso-sim`, no misbehaviour, stall 5 s, seed 1.
    fn default() -> SimConfig {
        SimConfig {
            username: "xaso".into(),
            password: "xaso-sim".into(),
            fail_rate: 0.0,
            drop_ack_rate: 0.0,
            stall_rate: 0.0,
            stall: Duration::from_secs(5),
            latency_min: Duration::ZERO,
            latency_max: Duration::ZERO,
            down: false,
            session_ttl: None,
            seed: 1,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
