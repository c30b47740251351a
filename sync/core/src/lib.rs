//! # Xã Số sync core
//!
//! Officers and kiosks work for days without a link, then get minutes of 2G
//! or satellite. The sync engine keeps what they enter safe and gets it to the
//! commune hub exactly once, merged with what others changed meanwhile. This
//! crate is its pure heart: it never opens a socket or a file, never starts a
//! thread and never reads a clock. The I/O lives in thin shells around it —
//! the SQLCipher store (`xaso-sync-store`), the device client
//! (`xaso-sync-client`) and the hub (`xaso-hub`).
//!
//! ## Model
//!
//! - Data is split into [`Partition`]s: a commune code, optionally refined
//!   (`79001/kiosk/<device>`). Access control ([`access`]) and sync work per
//!   partition.
//! - A record (dossier, rating, training progress…) is one Automerge document;
//!   [`mapping`] is the one mapping between `serde` values and documents, so
//!   concurrent edits of different fields merge and concurrent edits of one
//!   field become a [`Conflict`] for an officer to resolve.
//! - Every change is logged under `(partition, origin, seq)`; what a store
//!   holds of a partition is a [`Vector`] (origin → highest seq, always a
//!   whole prefix).
//!
//! ## Driving the protocol
//!
//! [`protocol`] is the sync exchange as a state machine over a storage trait,
//! [`ChangeLog`]: the client side is [`protocol::ClientSession`] — call
//! `poll_request`, send the request as a [frame](frame::encode_frame), feed the
//! decoded reply to `handle_reply`, repeat until `poll_request` says `None`.
//! The hub side is one function, [`protocol::answer_scoped`]. The caller moves
//! the bytes; if the transport breaks, it drops the session and starts a new
//! one later: everything already applied is durable in the backend.
//!
//! ```
//! # fn demo<L: xaso_sync_core::ChangeLog>(device: &mut L, hub: &mut L)
//! # -> Result<(), L::Error> {
//! use xaso_sync_core::protocol::{self, ClientSession};
//! let mut session = ClientSession::new("hub", []);
//! while let Some(request) = session.poll_request(device)? {
//!     // (here a real client encodes the request, posts it, decodes the reply)
//!     let reply = protocol::answer(hub, &request, |_| true, protocol::DEFAULT_PAGE_BYTES)?;
//!     session.handle_reply(device, reply)?;
//! }
//! # Ok(()) }
//! ```
//!
//! Attachments ([`blob`]) move separately from records, resumably: the rules
//! (`plan_push`, `plan_pull`, `accept_chunk`, `Incoming`) are here, the
//! storage behind [`blob::BlobStore`].
//!
//! ## Invariants
//!
//! - No I/O, no clock, no randomness in this crate.
//! - A store's vector always describes a whole prefix of each origin's
//!   changes, so "what do you lack" is answered exactly, and replays are
//!   harmless.
//! - Every [`Partition`] obeys its grammar (no `.`/`..`, no empty segments, a
//!   5-digit commune code first): it is safe in a path.
//! - Decoders check sizes before they allocate and answer bad input with a
//!   typed [`Error`], never a panic.

pub mod access;
pub mod blob;
pub mod central;
pub mod changes;
pub mod counter;
pub mod enrol;
mod error;
pub mod frame;
pub mod mapping;
mod partition;
pub mod protocol;
pub mod signing;

pub use access::{Device, Role};
pub use blob::{BlobHash, BlobInfo, BlobStore, Held};
pub use error::{DecodeError, EncodeError, Error};
pub use mapping::{Conflict, ConflictValue, PathSegment};
pub use partition::{
    LEARNING_SEGMENT, MAX_PARTITION_LEN, MAX_SEGMENT_LEN, PUBLIC_SEGMENT, Partition,
};
pub use protocol::{ApplyOutcome, ChangeLog, Entry, Origin, Vector};
