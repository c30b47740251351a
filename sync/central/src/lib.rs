//! # Xã Số and the provincial and national platforms (pure)
//!
//! A dossier is done only when the provincial one-stop system and the national
//! public-service portal know it and its progress. This crate holds everything about that
//! conversation that is not I/O; the hub's `central` module is the shell that sends, stores
//! and schedules, and `xaso-central-sim` plays the platform in tests and the demo.
//!
//! - [`mapping`]: the catalog's mapping to the portal (`services/data/national-portal.toml`,
//!   or a province's own file): procedure, channel and status codes, each packet field by
//!   field. Checked against the catalog as a whole.
//! - [`packet`]: a dossier's packets — the dossier (`DongBoHoSoMC`) and one progress packet
//!   (`CapNhatTienDoHoSoMC`) per reported audit entry — deterministic, each with a stable
//!   key, so a retried packet is byte for byte the first.
//! - [`schema`]: what the platform accepts, field by field (the simulator's check, and the
//!   hub's before sending).
//! - [`outbox`]: delivery rules — backoff with jitter, circuit breaker, dead letter,
//!   sign-in again — as a state machine driven with the time.
//! - [`inbound`]: dossiers submitted online become dossiers of ours exactly once (keyed by
//!   the platform's code); earlier results become attachments.
//! - [`wire`]: the portal's JSON (`/auth`, `/api`, `error_code`).
//! - [`time`]: `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh.

pub mod error;
pub mod inbound;
pub mod mapping;
pub mod outbox;
pub mod packet;
pub mod schema;
pub mod time;
pub mod wire;

pub use error::{InboundError, MappingError, PacketError};
pub use mapping::{Mapping, Service};
pub use outbox::{Next, Outcome, Policy, Scheduler};
pub use packet::{Packet, packets, platform_code};
