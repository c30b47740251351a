//! Learning records in the commune's learning partition: one progress record per learner
//! (merged with what is stored on every save, so answers synced in from another kiosk are
//! kept) and one record per class.

use xaso_sync_core::Partition;
use xaso_sync_store::Store;
use xaso_training::class::{self, Class};
use xaso_training::progress::{self, Progress};

use crate::store::StoreError;

pub fn partition(commune: &str) -> Result<Partition, StoreError> {
    Ok(Partition::learning(commune)?)
}

/// A learner's stored progress (`None` when they never learned in this commune).
pub fn load_progress(
    store: &Store,
    commune: &str,
    learner: &str,
) -> Result<Option<Progress>, StoreError> {
    Ok(store.get::<Progress>(&partition(commune)?, &progress::record_id(learner))?)
}

/// Saves `progress` merged with the stored record; returns what was written.
pub fn save_progress(
    store: &mut Store,
    commune: &str,
    progress: &Progress,
) -> Result<Progress, StoreError> {
    let p = partition(commune)?;
    let id = progress::record_id(&progress.learner);
    let mut merged = store
        .get::<Progress>(&p, &id)?
        .unwrap_or_else(|| Progress::new(&progress.learner));
    merged.merge(progress);
    store.put(&p, &id, &merged)?;
    Ok(merged)
}

/// Every progress record of the commune.
pub fn all_progress(store: &Store, commune: &str) -> Result<Vec<Progress>, StoreError> {
    let p = partition(commune)?;
    let mut out = Vec::new();
    for id in store.list(&p)? {
        if id.starts_with("learner-")
            && let Some(progress) = store.get::<Progress>(&p, &id)?
        {
            out.push(progress);
        }
    }
    Ok(out)
}

pub fn save_class(store: &mut Store, commune: &str, class: &Class) -> Result<(), StoreError> {
    store.put(&partition(commune)?, &class::record_id(&class.id), class)?;
    Ok(())
}

pub fn classes(store: &Store, commune: &str) -> Result<Vec<Class>, StoreError> {
    let p = partition(commune)?;
    let mut out = Vec::new();
    for id in store.list(&p)? {
        if id.starts_with("class-")
            && let Some(c) = store.get::<Class>(&p, &id)?
        {
            out.push(c);
        }
    }
    Ok(out)
}
