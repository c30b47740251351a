//! Received changes as records: grouping, checking, and building the
//! documents of new records ahead of a write.

use std::collections::HashMap;

use automerge::{AutoCommit, Change};

use crate::protocol::{Entry, Origin};
use crate::{Error, Partition};

/// Record ids are 1–200 characters, none of them a control character.
pub fn validate_record_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > 200 || id.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidRecordId);
    }
    Ok(())
}

/// Entries grouped by record, records in order of first appearance, each
/// record's entries in their original order.
pub fn by_record<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
) -> Vec<(&'a str, Vec<&'a Entry>)> {
    let mut groups: Vec<(&str, Vec<&Entry>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for entry in entries {
        let id = entry.record_id.as_str();
        let slot = *index.entry(id).or_insert_with(|| {
            groups.push((id, Vec::new()));
            groups.len() - 1
        });
        if let Some((_, list)) = groups.get_mut(slot) {
            list.push(entry);
        }
    }
    groups
}

/// Parse a received change and check it was made by the origin it claims.
pub fn parse_change(entry: &Entry) -> Result<Change, Error> {
    let change = Change::from_bytes(entry.change.clone()).map_err(|_| Error::BadChange)?;
    if change.actor_id().to_bytes() != entry.origin.0.as_slice() {
        return Err(Error::BadChange);
    }
    Ok(change)
}

/// Documents of new records built ahead of a write, where the CPU work
/// (parsing, applying and saving Automerge changes) can run in parallel and
/// outside the store's lock — the hub does this for every exchange before it
/// queues the exchange for its single writer. Only records whose changes
/// all parse, come from their stated origin and have no missing dependency
/// are prepared; anything else takes the ordinary path in the writer.
#[derive(Debug, Default)]
pub struct Prepared {
    docs: HashMap<(String, String), PreparedDoc>,
}

#[derive(Debug)]
struct PreparedDoc {
    /// (origin, seq) of the changes the document was built from, in order.
    built_from: Vec<(Origin, u64)>,
    bytes: Vec<u8>,
}

impl Prepared {
    /// Prepare the documents `entries` would create in `partition`.
    pub fn add(&mut self, partition: &Partition, entries: &[Entry]) {
        for (record_id, list) in by_record(entries) {
            let list = list.as_slice();
            let mut doc = AutoCommit::new();
            let built = list
                .iter()
                .try_for_each(|entry| -> Result<(), Error> {
                    doc.apply_changes([parse_change(entry)?])?;
                    Ok(())
                })
                .is_ok();
            if !built || !doc.get_missing_deps(&[]).is_empty() {
                continue;
            }
            self.docs.insert(
                (partition.as_str().to_owned(), record_id.to_owned()),
                PreparedDoc {
                    built_from: list.iter().map(|e| (e.origin.clone(), e.seq)).collect(),
                    bytes: doc.save_nocompress(),
                },
            );
        }
    }

    /// Number of documents prepared and not yet used.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Nothing prepared (or everything used).
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The prepared bytes of a new record, taken out, if they were built
    /// from exactly the changes `applied` (same origins and sequence numbers,
    /// same order); otherwise `None` and the caller builds the document itself.
    pub fn take_if_built_from(
        &mut self,
        partition: &str,
        record_id: &str,
        applied: &[&Entry],
    ) -> Option<Vec<u8>> {
        let key = (partition.to_owned(), record_id.to_owned());
        let same = self.docs.get(&key).is_some_and(|doc| {
            doc.built_from.len() == applied.len()
                && doc
                    .built_from
                    .iter()
                    .zip(applied)
                    .all(|((origin, seq), e)| *origin == e.origin && *seq == e.seq)
        });
        if same {
            self.docs.remove(&key).map(|doc| doc.bytes)
        } else {
            None
        }
    }
}
