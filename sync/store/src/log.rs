//! The store seen by the sync core: [`ChangeLog`] for the store itself and
//! for the store with documents prepared ahead of the write.

use xaso_sync_core::changes::Prepared;
use xaso_sync_core::{ApplyOutcome, ChangeLog, Entry, Partition, Vector};

use crate::{Error, Store};

/// A store seen through [`ChangeLog`] with prepared documents at hand.
pub struct WithPrepared<'a> {
    /// The store written to.
    pub store: &'a mut Store,
    /// Documents prepared for this exchange (used ones are taken out).
    pub prepared: &'a mut Prepared,
}

impl ChangeLog for WithPrepared<'_> {
    type Error = Error;
    fn partitions(&self) -> Result<Vec<Partition>, Error> {
        self.store.partitions()
    }
    fn partitions_under(&self, prefix: &str) -> Result<Vec<Partition>, Error> {
        self.store.partitions_under(prefix)
    }
    fn vector(&self, partition: &Partition) -> Result<Vector, Error> {
        self.store.vector(partition)
    }
    fn entries_after(
        &self,
        partition: &Partition,
        after: &Vector,
        budget: usize,
    ) -> Result<(Vec<Entry>, bool), Error> {
        self.store.entries_after(partition, after, budget)
    }
    fn apply(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
    ) -> Result<ApplyOutcome, Error> {
        self.store
            .apply_entries_prepared(partition, entries, peer, Some(&mut *self.prepared))
    }
    fn peer_vector(&self, peer: &str, partition: &Partition) -> Result<Vector, Error> {
        self.store.peer_vector(peer, partition)
    }
    fn set_peer_vector(
        &mut self,
        peer: &str,
        partition: &Partition,
        vector: &Vector,
    ) -> Result<(), Error> {
        self.store.set_peer_vector(peer, partition, vector)
    }
}

impl ChangeLog for Store {
    type Error = Error;
    fn partitions(&self) -> Result<Vec<Partition>, Error> {
        Store::partitions(self)
    }
    fn partitions_under(&self, prefix: &str) -> Result<Vec<Partition>, Error> {
        Store::partitions_under(self, prefix)
    }
    fn vector(&self, partition: &Partition) -> Result<Vector, Error> {
        Store::vector(self, partition)
    }
    fn entries_after(
        &self,
        partition: &Partition,
        after: &Vector,
        budget: usize,
    ) -> Result<(Vec<Entry>, bool), Error> {
        Store::entries_after(self, partition, after, budget)
    }
    fn apply(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
    ) -> Result<ApplyOutcome, Error> {
        self.apply_entries(partition, entries, peer)
    }
    fn peer_vector(&self, peer: &str, partition: &Partition) -> Result<Vector, Error> {
        Store::peer_vector(self, peer, partition)
    }
    fn set_peer_vector(
        &mut self,
        peer: &str,
        partition: &Partition,
        vector: &Vector,
    ) -> Result<(), Error> {
        Store::set_peer_vector(self, peer, partition, vector)
    }
}
