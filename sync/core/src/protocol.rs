//! The sync protocol as a sans-IO state machine.
//!
//! Nothing here opens a socket, starts a thread or reads a clock. The caller
//! moves bytes; this module decides what to say. Storage is reached through
//! the small [`ChangeLog`] trait, which [`crate::Store`] implements.
//!
//! # Model
//!
//! Every store keeps, for each partition, a log of Automerge changes keyed by
//! `(origin, seq)`: the device that made the change and that device's running
//! count of changes in the partition. A store always holds, for each origin, a
//! whole prefix `1..=n`, so what it holds is described exactly by a
//! [`Vector`] `origin → n` (a version vector, like Morango's or CouchDB's
//! `_changes` cursors).
//!
//! # One exchange
//!
//! 1. The client sends a [`SyncRequest`]: for each partition its vector
//!    (`have`) and the changes beyond what the hub last confirmed (usually the
//!    hub lacks exactly those; sending them optimistically saves a round trip).
//! 2. The hub ([`answer`]) applies the pushed changes durably, then answers
//!    each partition with either [`AnswerBody::UpToDate`] or its own vector
//!    and the changes the client lacks (paged by size, in causal order).
//! 3. The client ([`ClientSession::handle_reply`]) applies them durably and
//!    records the hub's vector. If the vectors differ (a page was cut at the
//!    size limit, or the hub refused a gap), it sends another request.
//!
//! "Nothing changed" is one round trip: a request with vectors, a reply of
//! `UpToDate` markers. The hub keeps no per-client state: every request
//! carries the client's vector, so a duplicate or replayed message changes
//! nothing (changes already held are skipped by `(origin, seq)`), and a
//! connection cut at any byte just means the next request starts from what
//! is durably stored on each side.
//!
//! # Wire format
//!
//! Messages travel as frames ([`crate::frame`]): a small versioned header and
//! the message in `postcard`, zstd-compressed when that helps.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Error, Partition};

/// Protocol version carried in every frame.
pub const PROTOCOL_VERSION: u8 = 1;
/// Frame kind of a [`SyncRequest`].
pub const KIND_REQUEST: u8 = 1;
/// Frame kind of a [`SyncReply`].
pub const KIND_REPLY: u8 = 2;
/// Largest payload accepted (after decompression).
pub const MAX_PAYLOAD: usize = 64 * 1024 * 1024;
/// Default size of one page of changes in a reply or request.
pub const DEFAULT_PAGE_BYTES: u32 = 2 * 1024 * 1024;

/// The device that made a change (its Automerge actor id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin(pub Vec<u8>);

impl Origin {
    /// Hex form, as shown to officers in conflicts.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

/// A version vector: for each origin, the highest sequence number held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vector(pub BTreeMap<Origin, u64>);

impl Vector {
    /// Sequence held for `origin` (0 if none).
    pub fn get(&self, origin: &Origin) -> u64 {
        self.0.get(origin).copied().unwrap_or(0)
    }
    /// Set the sequence for `origin`.
    pub fn set(&mut self, origin: Origin, seq: u64) {
        if seq == 0 {
            self.0.remove(&origin);
        } else {
            self.0.insert(origin, seq);
        }
    }
    /// True if this vector holds everything `other` holds.
    pub fn dominates(&self, other: &Vector) -> bool {
        other.0.iter().all(|(origin, &seq)| self.get(origin) >= seq)
    }
    /// True if both hold the same changes.
    pub fn same_as(&self, other: &Vector) -> bool {
        self.dominates(other) && other.dominates(self)
    }
    /// Total number of changes described.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// One change of the log: which record it belongs to and the Automerge change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Device that made the change.
    pub origin: Origin,
    /// That device's sequence number in the partition.
    pub seq: u64,
    /// Record (document) the change belongs to.
    pub record_id: String,
    /// The Automerge change, as encoded by Automerge.
    pub change: Vec<u8>,
}

impl Entry {
    /// About what the entry costs in a page (its bytes plus framing), for
    /// the page budgets of both sides.
    pub fn page_cost(&self) -> usize {
        self.change.len() + self.record_id.len() + 24
    }
}

/// The client's state and pushed changes for one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Partition name.
    pub partition: Partition,
    /// Client's vector before this request is applied anywhere.
    pub have: Vector,
    /// Changes the client believes the hub lacks.
    pub entries: Vec<Entry>,
}

/// Client → hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// One offer per partition the client holds or wants.
    pub offers: Vec<Offer>,
    /// Ask the hub to include readable partitions the client did not list.
    pub discover: bool,
    /// Largest page of changes the client wants in the reply.
    pub max_reply_bytes: u32,
}

/// The hub's answer for one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerBody {
    /// The hub holds exactly what the client said it holds.
    UpToDate,
    /// The hub's vector and (a page of) the changes the client lacks.
    Changes {
        /// The hub's vector after applying the client's push.
        hub_have: Vector,
        /// Changes the client lacks, in causal order.
        entries: Vec<Entry>,
        /// More changes remain beyond this page.
        more: bool,
    },
}

/// The hub's answer for one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Partition name.
    pub partition: Partition,
    /// What the hub says.
    pub body: AnswerBody,
}

/// Hub → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReply {
    /// One answer per offered partition, plus discovered ones.
    pub answers: Vec<Answer>,
}

/// Result of [`ChangeLog::apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Changes newly applied.
    pub applied: u64,
    /// Changes already held (harmless replays).
    pub duplicates: u64,
    /// Changes refused because an earlier change of their origin is missing.
    pub refused: u64,
    /// The store's vector for the partition afterwards.
    pub vector: Vector,
}

/// The storage a protocol peer needs: a change log per partition with its
/// vector, and the vectors a peer confirmed. The SQLCipher store
/// (`xaso-sync-store`) implements it; so can any other backend (a hub's
/// PostgreSQL database, a bundle file, memory in tests). Its errors are the
/// backend's own, able to carry this crate's [`Error`].
pub trait ChangeLog {
    /// The backend's error.
    type Error: From<Error>;
    /// Partitions held.
    fn partitions(&self) -> Result<Vec<Partition>, Self::Error>;
    /// Partitions named `prefix` or refining it (`prefix/…`): a commune
    /// code gives the commune and all its refinements; a full partition name
    /// gives that partition and its refinements.
    fn partitions_under(&self, prefix: &str) -> Result<Vec<Partition>, Self::Error> {
        Ok(self
            .partitions()?
            .into_iter()
            .filter(|p| p.is_under(prefix))
            .collect())
    }
    /// Vector held for a partition.
    fn vector(&self, partition: &Partition) -> Result<Vector, Self::Error>;
    /// Changes a holder of `after` lacks, causal order, about `budget` bytes
    /// (at least one entry); flag: more remain.
    fn entries_after(
        &self,
        partition: &Partition,
        after: &Vector,
        budget: usize,
    ) -> Result<(Vec<Entry>, bool), Self::Error>;
    /// Apply changes durably (skipping duplicates, refusing gaps), optionally
    /// recording a peer's vector in the same transaction.
    fn apply(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
    ) -> Result<ApplyOutcome, Self::Error>;
    /// Last vector a peer confirmed.
    fn peer_vector(&self, peer: &str, partition: &Partition) -> Result<Vector, Self::Error>;
    /// Record a peer's vector.
    fn set_peer_vector(
        &mut self,
        peer: &str,
        partition: &Partition,
        vector: &Vector,
    ) -> Result<(), Self::Error>;
}

/// The hub's side of one exchange: apply what the client pushed, then say
/// what the client lacks. `may_access` must already have been checked for
/// every offered partition by the caller (see [`check_access`]); it is used
/// here to filter discovered partitions.
pub fn answer<L: ChangeLog>(
    log: &mut L,
    request: &SyncRequest,
    may_access: impl Fn(&Partition) -> bool,
    max_page_bytes: u32,
) -> Result<SyncReply, L::Error> {
    answer_scoped(log, request, may_access, None, max_page_bytes)
}

/// [`answer`], with discovery limited to the partitions under `scopes`
/// (partition-name prefixes, see [`ChangeLog::partitions_under`]): a hub
/// serving many communes and many kiosks then never scans what the device
/// may not see anyway.
pub fn answer_scoped<L: ChangeLog>(
    log: &mut L,
    request: &SyncRequest,
    may_access: impl Fn(&Partition) -> bool,
    scopes: Option<&[String]>,
    max_page_bytes: u32,
) -> Result<SyncReply, L::Error> {
    let mut budget = request.max_reply_bytes.min(max_page_bytes) as usize;
    let mut answers = Vec::with_capacity(request.offers.len());
    let mut offered = BTreeSet::new();
    for offer in &request.offers {
        offered.insert(offer.partition.clone());
        let hub_have = if offer.entries.is_empty() {
            log.vector(&offer.partition)?
        } else {
            log.apply(&offer.partition, &offer.entries, None)?.vector
        };
        let body = answer_partition(log, &offer.partition, &offer.have, hub_have, &mut budget)?;
        answers.push(Answer {
            partition: offer.partition.clone(),
            body,
        });
    }
    if request.discover {
        let candidates = match scopes {
            None => log.partitions()?,
            Some(scopes) => {
                let mut all = BTreeSet::new();
                for scope in scopes {
                    all.extend(log.partitions_under(scope)?);
                }
                all.into_iter().collect()
            }
        };
        for partition in candidates {
            if offered.contains(&partition) || !may_access(&partition) {
                continue;
            }
            let hub_have = log.vector(&partition)?;
            let body =
                answer_partition(log, &partition, &Vector::default(), hub_have, &mut budget)?;
            answers.push(Answer { partition, body });
        }
    }
    Ok(SyncReply { answers })
}

fn answer_partition<L: ChangeLog>(
    log: &L,
    partition: &Partition,
    client_have: &Vector,
    hub_have: Vector,
    budget: &mut usize,
) -> Result<AnswerBody, L::Error> {
    if hub_have.same_as(client_have) {
        return Ok(AnswerBody::UpToDate);
    }
    if client_have.dominates(&hub_have) {
        // The hub lacks something (a refused gap): tell the client where it stands.
        return Ok(AnswerBody::Changes {
            hub_have,
            entries: Vec::new(),
            more: false,
        });
    }
    if *budget == 0 {
        return Ok(AnswerBody::Changes {
            hub_have,
            entries: Vec::new(),
            more: true,
        });
    }
    let (entries, more) = log.entries_after(partition, client_have, *budget)?;
    let used: usize = entries.iter().map(Entry::page_cost).sum();
    *budget = budget.saturating_sub(used);
    Ok(AnswerBody::Changes {
        hub_have,
        entries,
        more,
    })
}

/// Every offered partition must pass `may_access`; otherwise the whole
/// request is refused before anything is written.
pub fn check_access(
    request: &SyncRequest,
    may_access: impl Fn(&Partition) -> bool,
) -> Result<(), Error> {
    check_read_write(request, &may_access, &may_access)
}

/// Every offered partition must pass `may_read`, and every offer that pushes
/// changes `may_write` (a device reads a partition it may not change);
/// otherwise the whole request is refused before anything is written.
pub fn check_read_write(
    request: &SyncRequest,
    may_read: impl Fn(&Partition) -> bool,
    may_write: impl Fn(&Partition) -> bool,
) -> Result<(), Error> {
    let refused = request
        .offers
        .iter()
        .find(|o| !may_read(&o.partition) || (!o.entries.is_empty() && !may_write(&o.partition)));
    match refused {
        Some(offer) => Err(Error::Forbidden(offer.partition.clone())),
        None => Ok(()),
    }
}

/// Counters of one sync session, for progress reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Requests sent.
    pub rounds: u32,
    /// Changes pushed (including ones the hub already had).
    pub entries_sent: u64,
    /// Changes received and newly applied.
    pub entries_applied: u64,
    /// Changes received that were already held.
    pub duplicates: u64,
}

/// The client's side: call [`poll_request`](Self::poll_request), send the
/// request, feed the reply to [`handle_reply`](Self::handle_reply); repeat
/// until `poll_request` returns `None`. If the transport fails, drop the
/// session and start a new one later: all progress is already durable.
#[derive(Debug)]
pub struct ClientSession {
    peer: String,
    wanted: BTreeSet<Partition>,
    sent: BTreeMap<Partition, Vector>,
    pending: bool,
    awaiting_reply: bool,
    done: bool,
    idle_rounds: u32,
    page_bytes: u32,
    stats: SessionStats,
}

/// After this many rounds without progress a session gives up.
const MAX_IDLE_ROUNDS: u32 = 3;

impl ClientSession {
    /// A session with the peer named `peer` (a stable label, e.g. "hub"),
    /// syncing the partitions the store holds plus `wanted`.
    pub fn new(peer: &str, wanted: impl IntoIterator<Item = Partition>) -> Self {
        ClientSession {
            peer: peer.to_owned(),
            wanted: wanted.into_iter().collect(),
            sent: BTreeMap::new(),
            pending: true,
            awaiting_reply: false,
            done: false,
            idle_rounds: 0,
            page_bytes: DEFAULT_PAGE_BYTES,
            stats: SessionStats::default(),
        }
    }

    /// Use pages of about `bytes` in both directions.
    pub fn with_page_bytes(mut self, bytes: u32) -> Self {
        self.page_bytes = bytes.max(1024);
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// True once both sides hold the same changes.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next request to send, or `None` when the session is finished.
    pub fn poll_request<L: ChangeLog>(&mut self, log: &L) -> Result<Option<SyncRequest>, L::Error> {
        if self.done || !self.pending {
            return Ok(None);
        }
        let mut partitions: BTreeSet<Partition> = log.partitions()?.into_iter().collect();
        partitions.extend(self.wanted.iter().cloned());
        let mut budget = self.page_bytes as usize;
        let mut offers = Vec::with_capacity(partitions.len());
        self.sent.clear();
        for partition in partitions {
            let have = log.vector(&partition)?;
            let known = log.peer_vector(&self.peer, &partition)?;
            let entries = if known.dominates(&have) || budget == 0 {
                Vec::new()
            } else {
                let (entries, _more) = log.entries_after(&partition, &known, budget)?;
                let used: usize = entries.iter().map(Entry::page_cost).sum();
                budget = budget.saturating_sub(used);
                entries
            };
            self.stats.entries_sent += entries.len() as u64;
            self.sent.insert(partition.clone(), have.clone());
            offers.push(Offer {
                partition,
                have,
                entries,
            });
        }
        self.stats.rounds += 1;
        self.pending = false;
        self.awaiting_reply = true;
        Ok(Some(SyncRequest {
            offers,
            discover: true,
            max_reply_bytes: self.page_bytes,
        }))
    }

    /// Apply the hub's reply durably and decide whether another round is needed.
    pub fn handle_reply<L: ChangeLog>(
        &mut self,
        log: &mut L,
        reply: SyncReply,
    ) -> Result<(), L::Error> {
        if !self.awaiting_reply {
            return Err(Error::UnexpectedReply.into());
        }
        self.awaiting_reply = false;
        let mut again = false;
        let mut progressed = false;
        for answer in reply.answers {
            let partition = answer.partition;
            self.wanted.insert(partition.clone());
            match answer.body {
                AnswerBody::UpToDate => {
                    let Some(have) = self.sent.get(&partition) else {
                        continue;
                    };
                    let before = log.peer_vector(&self.peer, &partition)?;
                    if !before.same_as(have) {
                        log.set_peer_vector(&self.peer, &partition, have)?;
                        progressed = true;
                    }
                }
                AnswerBody::Changes {
                    hub_have,
                    entries,
                    more,
                } => {
                    let before = log.peer_vector(&self.peer, &partition)?;
                    let outcome = log.apply(&partition, &entries, Some((&self.peer, &hub_have)))?;
                    self.stats.entries_applied += outcome.applied;
                    self.stats.duplicates += outcome.duplicates;
                    if outcome.applied > 0 || !before.same_as(&hub_have) {
                        progressed = true;
                    }
                    if more || !outcome.vector.same_as(&hub_have) {
                        again = true;
                    }
                }
            }
        }
        // Anything still unpushed (the request was capped at a page)?
        for (partition, have) in &self.sent {
            let known = log.peer_vector(&self.peer, partition)?;
            if !known.dominates(have) {
                again = true;
            }
        }
        if again {
            self.idle_rounds = if progressed { 0 } else { self.idle_rounds + 1 };
            if self.idle_rounds >= MAX_IDLE_ROUNDS {
                return Err(Error::NoProgress.into());
            }
            self.pending = true;
        } else {
            self.done = true;
        }
        Ok(())
    }
}
