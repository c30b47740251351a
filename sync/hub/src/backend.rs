//! Where the hub keeps records and attachments, behind two small traits: the
//! writer's group commit ([`RecordBackend`]) and the attachment transfers
//! ([`BlobBackend`]). The SQLite implementations are [`SqliteRecords`] and
//! [`SqliteBlobs`] (both on `hub.db`, an SQLCipher [`Store`]); another
//! database adds an implementation of each, nothing else.

use std::any::Any;

use xaso_sync_core::Partition;
use xaso_sync_core::access::Device;
use xaso_sync_core::blob::{BlobHash, BlobStore, Held};
use xaso_sync_core::changes::Prepared;
use xaso_sync_core::protocol::{self, SyncReply, SyncRequest};
use xaso_sync_store::{ChangedRecord, Store, WithPrepared};

use crate::error::HubError;

/// One sync exchange, decoded and checked, ready for the writer.
#[derive(Debug)]
pub struct Exchange {
    /// The device that sent it (its scope is already checked for every offer).
    pub device: Device,
    /// Where discovery looks for this device ([`Device::discovery_scopes`]).
    pub scopes: Vec<String>,
    /// Documents of new records, built before queueing (may be empty).
    pub prepared: Prepared,
    /// The request.
    pub request: SyncRequest,
}

/// The records side of a hub database.
pub trait RecordBackend: Send + 'static {
    /// Answer `exchanges` as [`protocol::answer_scoped`] does, all in one
    /// transaction (group commit): nothing is durable, and no reply may be
    /// sent, before this returns `Ok`. One exchange's failure is its own
    /// (its writes are undone, the others go on); an `Err` means nothing of
    /// the group was committed.
    fn answer_group(
        &mut self,
        exchanges: &mut [Exchange],
        page_bytes: u32,
    ) -> Result<Vec<Result<SyncReply, HubError>>, HubError>;

    /// A record as JSON (winning values where fields conflict), if held.
    fn get_json(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Option<serde_json::Value>, HubError>;

    /// Write a record as the hub itself (the roster, reference data): durable when it
    /// returns, and synced to the devices that read the partition like any change.
    fn put_json(
        &mut self,
        partition: &Partition,
        record_id: &str,
        value: &serde_json::Value,
    ) -> Result<(), HubError>;

    /// Records written after feed position `after` (oldest first, at most `limit`, each
    /// record once at its latest write): what the outbox to the platforms follows.
    fn changed_since(&self, after: u64, limit: usize) -> Result<Vec<ChangedRecord>, HubError>;

    /// Store an attachment as the hub itself (pages a resident hands in at another kiosk)
    /// with its index record, so it syncs like any attachment: durable when it returns.
    fn put_blob(&mut self, partition: &Partition, bytes: &[u8]) -> Result<BlobHash, HubError>;

    /// The backend as `Any`, for tools and tests that inspect a known backend.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// The attachments side of a hub database: the sync core's [`BlobStore`].
pub trait BlobBackend: BlobStore<Error = HubError> + Send + 'static {}

impl<T: BlobStore<Error = HubError> + Send + 'static> BlobBackend for T {}

/// Records in an SQLCipher [`Store`] (`hub.db`).
#[derive(Debug)]
pub struct SqliteRecords(pub Store);

impl RecordBackend for SqliteRecords {
    fn answer_group(
        &mut self,
        exchanges: &mut [Exchange],
        page_bytes: u32,
    ) -> Result<Vec<Result<SyncReply, HubError>>, HubError> {
        Ok(self.0.group(|store| {
            exchanges
                .iter_mut()
                .map(|x| {
                    let mut log = WithPrepared {
                        store: &mut *store,
                        prepared: &mut x.prepared,
                    };
                    protocol::answer_scoped(
                        &mut log,
                        &x.request,
                        |p| x.device.may_read(p),
                        Some(&x.scopes),
                        page_bytes,
                    )
                    .map_err(HubError::from)
                })
                .collect()
        })?)
    }

    fn get_json(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Option<serde_json::Value>, HubError> {
        Ok(self.0.get_json(partition, record_id)?)
    }

    fn put_json(
        &mut self,
        partition: &Partition,
        record_id: &str,
        value: &serde_json::Value,
    ) -> Result<(), HubError> {
        self.0.put(partition, record_id, value)?;
        Ok(())
    }

    fn put_blob(&mut self, partition: &Partition, bytes: &[u8]) -> Result<BlobHash, HubError> {
        Ok(self.0.put_blob(partition, bytes)?)
    }

    fn changed_since(&self, after: u64, limit: usize) -> Result<Vec<ChangedRecord>, HubError> {
        Ok(self.0.records_changed_since(after, limit)?)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Attachments in an SQLCipher [`Store`] (a second connection to `hub.db`,
/// so uploads and downloads do not queue behind the writer's group commits).
#[derive(Debug)]
pub struct SqliteBlobs(pub Store);

impl BlobStore for SqliteBlobs {
    type Error = HubError;
    fn held(&self, partition: &Partition, hash: &BlobHash) -> Result<Held, HubError> {
        Ok(self.0.blob_held(partition, hash)?)
    }
    fn append_chunk(
        &mut self,
        partition: &Partition,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Held, HubError> {
        Ok(self
            .0
            .append_blob_chunk(partition, hash, size, offset, bytes)?)
    }
    fn blob_range(
        &self,
        partition: &Partition,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, HubError> {
        Ok(self.0.blob_range(partition, hash, offset, len)?)
    }
}
