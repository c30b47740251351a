//! The hub and the provincial / national platforms: the outbox that tells them every
//! dossier and every step exactly once, dossiers submitted online that come to the commune,
//! and earlier results fetched with the person's consent.
//!
//! The rules are pure, in `xaso-central` (mapping, packets, delivery policy); this module is
//! the shell: [`outbox`] stores packets durably, [`portal`] talks HTTPS to a platform behind
//! the [`Platform`] trait, and [`Central::step`] drives one round at a given time (the
//! running hub calls it in a loop with the clock; tests call it with their own clock).
//!
//! One round:
//! 1. **Take in** the hub's change feed since the outbox's cursor: every dossier record of
//!    a connected commune gives its packets (deterministic, keyed); new keys are stored and
//!    the cursor moves in the same transaction. Dossiers whose person agreed to earlier
//!    results being fetched are noted in that transaction too.
//! 2. **Pull** online dossiers of each commune (every `pull_every`): each becomes a dossier
//!    of channel online in `<commune>/online`, keyed by the platform's code, once.
//! 3. **Fetch** earlier results for the noted dossiers and attach them.
//! 4. **Deliver**: each dossier's oldest undelivered packet, several dossiers at a time,
//!    within the rate limit, as the [`Scheduler`] allows; an acknowledgement marks it
//!    delivered, a refusal puts it in dead letter (the dossier's later packets wait), a
//!    failure backs off.

pub mod outbox;
pub mod portal;
pub mod routes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use rand::Rng;
use serde::Deserialize;
use xaso_central::inbound::{earlier_result, online_dossier, online_record_id};
use xaso_central::{Mapping, Next, Outcome, Policy, Scheduler};
use xaso_services::calendar::Holidays;
use xaso_services::{Catalog, Dossier};
use xaso_sync_core::Partition;
use xaso_sync_core::central::CentralStatus;
use xaso_sync_store::DatabaseKey;

pub use outbox::{Counts, DeadLetter, OutboxDb};
pub use portal::{NationalPortal, Platform, PlatformError, PortalConfig};

use crate::{Hub, HubError};

/// How many changed records one take-in reads at a time.
const FEED_PAGE: usize = 512;
/// How many heads one delivery round looks at.
const HEADS: usize = 2048;

/// What can go wrong setting the connection up.
#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    #[error("the central configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the central configuration is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    #[error(transparent)]
    Mapping(#[from] xaso_central::MappingError),
    #[error("the catalog: {0}")]
    Catalog(#[from] xaso_services::CatalogError),
    #[error("commune `{0}` is not a 5-digit commune code")]
    Commune(String),
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// The connection's settings (`xaso-hub serve --central FILE`, TOML).
#[derive(Debug, Clone)]
pub struct CentralConfig {
    pub portal: PortalConfig,
    /// The communes this hub reports for (`MaDonVi`).
    pub communes: Vec<String>,
    /// A province's own mapping file (TOML text); the bundled one when `None`.
    pub mapping: Option<String>,
    /// Packets per second at most (0: no limit).
    pub rate_per_second: f64,
    /// Dossiers sent to at the same time.
    pub parallel: usize,
    /// How often online dossiers are pulled.
    pub pull_every: Duration,
    pub policy: Policy,
}

#[derive(Deserialize)]
struct ConfigFile {
    base_url: String,
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    communes: Vec<String>,
    #[serde(default)]
    mapping: Option<PathBuf>,
    #[serde(default = "default_rate")]
    rate_per_second: f64,
    #[serde(default = "default_parallel")]
    parallel: usize,
    #[serde(default = "default_pull")]
    pull_every_secs: u64,
    #[serde(default = "default_timeout")]
    timeout_secs: u64,
}

fn default_rate() -> f64 {
    50.0
}
fn default_parallel() -> usize {
    8
}
fn default_pull() -> u64 {
    300
}
fn default_timeout() -> u64 {
    30
}

fn read(path: &Path) -> Result<String, CentralError> {
    std::fs::read_to_string(path).map_err(|source| CentralError::Read {
        path: path.to_owned(),
        source,
    })
}

impl CentralConfig {
    /// Read a configuration file; relative paths in it are relative to its directory.
    ///
    /// ```toml
    /// base_url = "https://dichvucong.example.gov.vn/integration"
    /// username = "xa-79001"
    /// password_file = "portal.password"
    /// ca_file = "portal-ca.pem"          # the platform's CA; the system's when absent
    /// communes = ["79001"]
    /// mapping = "national-portal.toml"   # the bundled mapping when absent
    /// rate_per_second = 50
    /// parallel = 8
    /// pull_every_secs = 300
    /// timeout_secs = 30
    /// ```
    pub fn load(path: &Path) -> Result<CentralConfig, CentralError> {
        let file: ConfigFile = toml::from_str(&read(path)?)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let password = match (file.password, file.password_file) {
            (_, Some(p)) => read(&dir.join(p))?.trim().to_owned(),
            (Some(p), None) => p,
            (None, None) => String::new(),
        };
        let ca_pem = file.ca_file.map(|p| read(&dir.join(p))).transpose()?;
        let mapping = file.mapping.map(|p| read(&dir.join(p))).transpose()?;
        for c in &file.communes {
            if c.len() != 5 || !c.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CentralError::Commune(c.clone()));
            }
        }
        Ok(CentralConfig {
            portal: PortalConfig {
                base_url: file.base_url.trim_end_matches('/').to_owned(),
                username: file.username,
                password,
                ca_pem,
                timeout: Duration::from_secs(file.timeout_secs.max(1)),
            },
            communes: file.communes,
            mapping,
            rate_per_second: file.rate_per_second,
            parallel: file.parallel.max(1),
            pull_every: Duration::from_secs(file.pull_every_secs.max(1)),
            policy: Policy::default(),
        })
    }
}

/// What the hub's routes and tools need of the connection (not tied to a platform type).
pub(crate) struct Shared {
    db: Mutex<OutboxDb>,
    scheduler: Mutex<Scheduler>,
    catalog: Catalog,
    mapping: Mutex<Mapping>,
    communes: Vec<String>,
    last_delivered: Mutex<Option<i64>>,
    last_pull: Mutex<Option<i64>>,
    /// An officer retried an online dossier the mapping could not take: pull at once.
    pull_again: Mutex<bool>,
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, HubError> {
    m.lock().map_err(|_| HubError::LockPoisoned("central"))
}

impl Shared {
    /// The outbox as the officers of `communes` see it (all communes when `None`).
    pub(crate) fn status(
        &self,
        communes: Option<&[String]>,
        now: Timestamp,
    ) -> Result<CentralStatus, HubError> {
        let db = lock(&self.db)?;
        let scheduler = lock(&self.scheduler)?;
        let mut dead = db.dead_letters(communes)?;
        dead.extend(db.inbound_refusals(communes)?);
        Ok(CentralStatus {
            connected: true,
            counts: db.counts(communes)?,
            dead,
            last_failure: scheduler.last_failure().map(str::to_owned),
            paused_until: scheduler.open_until(now).map(|t| t.as_millisecond()),
            last_delivered: *lock(&self.last_delivered)?,
            last_pull: *lock(&self.last_pull)?,
        })
    }

    /// Put dead letters back in line (one by key, or all of `communes`), each built again
    /// from its dossier as it is now and the mapping as it is now. Returns how many.
    pub(crate) fn retry(
        &self,
        hub: &Hub,
        key: Option<&str>,
        communes: Option<&[String]>,
    ) -> Result<u64, HubError> {
        let mut retried = 0;
        // online dossiers the mapping could not take: pulled again at the next pull
        let inbound: Vec<String> = lock(&self.db)?
            .inbound_refusals(communes)?
            .into_iter()
            .filter(|d| key.is_none_or(|k| k == d.key))
            .map(|d| d.key)
            .collect();
        for key in inbound {
            if lock(&self.db)?.retry_inbound(&key)? {
                retried += 1;
                *lock(&self.pull_again)? = true;
            }
        }
        let keys: Vec<String> = {
            let db = lock(&self.db)?;
            db.dead_letters(communes)?
                .into_iter()
                .filter(|d| key.is_none_or(|k| k == d.key))
                .map(|d| d.key)
                .collect()
        };
        let mapping = lock(&self.mapping)?.clone();
        for key in keys {
            let origin = lock(&self.db)?.origin_of(&key)?;
            let mut body = None;
            let mut code = None;
            if let Some((commune, partition, record_id)) = origin {
                let partition = Partition::new(partition)?;
                let json = hub.records()?.get_json(&partition, &record_id)?;
                if let Some(dossier) = json.and_then(|j| serde_json::from_value::<Dossier>(j).ok())
                    && let Ok(packets) = xaso_central::packets(
                        &dossier,
                        &commune,
                        &mapping,
                        &self.catalog,
                        Holidays::bundled(),
                    )
                    && let Some(p) = packets.into_iter().find(|p| p.key == key)
                {
                    body = Some(p.body());
                    code = Some(p.code);
                }
            }
            if lock(&self.db)?.retry(&key, body.as_deref())? {
                retried += 1;
                if let Some(code) = code {
                    lock(&self.scheduler)?.reset(&code);
                }
            }
        }
        if retried > 0 {
            tracing::info!(retried, "dead letters back in line");
        }
        Ok(retried)
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Packets newly taken into the outbox.
    pub taken_in: u64,
    /// Online dossiers written as new dossiers.
    pub pulled: u64,
    /// Earlier results attached.
    pub attached: u64,
    pub delivered: u64,
    pub failed: u64,
    pub dead: u64,
}

/// The connection of a hub to one platform.
pub struct Central<P: Platform> {
    hub: Hub,
    platform: Arc<P>,
    shared: Arc<Shared>,
    config: CentralConfig,
    next_pull: Mutex<Option<Timestamp>>,
    next_slot: tokio::sync::Mutex<tokio::time::Instant>,
}

impl<P: Platform> std::fmt::Debug for Central<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Central")
            .field("communes", &self.config.communes)
            .finish_non_exhaustive()
    }
}

impl<P: Platform> Central<P> {
    /// Connect `hub` to `platform`: opens `outbox.db` in the hub's directory (with the hub's
    /// key) and makes the outbox's status visible to officers.
    pub fn new(hub: &Hub, platform: P, config: CentralConfig) -> Result<Central<P>, CentralError> {
        let catalog = Catalog::bundled()?;
        let mapping = match &config.mapping {
            Some(text) => Mapping::parse(text, &catalog)?,
            None => Mapping::bundled(&catalog)?,
        };
        let dir = &hub.inner.config.dir;
        let key = DatabaseKey::from_key_file(&dir.join("hub.key")).map_err(HubError::from)?;
        let db = OutboxDb::open(&dir.join("outbox.db"), &key)?;
        let shared = Arc::new(Shared {
            db: Mutex::new(db),
            scheduler: Mutex::new(Scheduler::new(config.policy.clone())),
            catalog,
            mapping: Mutex::new(mapping),
            communes: config.communes.clone(),
            last_delivered: Mutex::new(None),
            last_pull: Mutex::new(None),
            pull_again: Mutex::new(false),
        });
        hub.attach_central(shared.clone());
        Ok(Central {
            hub: hub.clone(),
            platform: Arc::new(platform),
            shared,
            config,
            next_pull: Mutex::new(None),
            next_slot: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        })
    }

    /// Use another mapping from now on (a province corrected it); dead letters built with
    /// the old one are built again when retried.
    pub fn set_mapping(&self, text: &str) -> Result<(), CentralError> {
        let mapping = Mapping::parse(text, &self.shared.catalog)?;
        *lock(&self.shared.mapping)? = mapping;
        Ok(())
    }

    /// The outbox's status (all communes).
    pub fn status(&self, now: Timestamp) -> Result<CentralStatus, HubError> {
        self.shared.status(None, now)
    }

    /// Retry dead letters (one by key, or all).
    pub fn retry(&self, key: Option<&str>) -> Result<u64, HubError> {
        self.shared.retry(&self.hub, key, None)
    }

    /// One round at time `now` (see the module documentation).
    pub async fn step(&self, now: Timestamp) -> Result<Round, HubError> {
        let mut round = Round {
            taken_in: self.take_in(now).await?,
            ..Round::default()
        };
        let again = std::mem::take(&mut *lock(&self.shared.pull_again)?);
        let pull_due = again || lock(&self.next_pull)?.is_none_or(|t| t <= now);
        if pull_due {
            round.pulled = self.pull(now).await?;
            let next = now
                .checked_add(
                    jiff::SignedDuration::try_from(self.config.pull_every).unwrap_or_default(),
                )
                .unwrap_or(now);
            *lock(&self.next_pull)? = Some(next);
            // a pull writes dossiers: take them in this round
            if round.pulled > 0 {
                round.taken_in += self.take_in(now).await?;
            }
        }
        round.attached = self.fetch_earlier(now).await?;
        if round.attached > 0 {
            round.taken_in += self.take_in(now).await?;
        }
        self.deliver(now, &mut round).await?;
        Ok(round)
    }

    /// Pull online dossiers at the next round, whatever the interval says.
    pub fn pull_now(&self) -> Result<(), HubError> {
        *lock(&self.next_pull)? = None;
        Ok(())
    }

    /// Run rounds until the task is dropped: after a round that moved something, the next at
    /// once; otherwise after a second.
    pub async fn run(self) {
        loop {
            let now = Timestamp::now();
            let busy = match self.step(now).await {
                Ok(round) => {
                    if round != Round::default() {
                        tracing::info!(
                            taken_in = round.taken_in,
                            pulled = round.pulled,
                            attached = round.attached,
                            delivered = round.delivered,
                            failed = round.failed,
                            dead = round.dead,
                            "central round"
                        );
                    }
                    round.delivered > 0 || round.taken_in > 0
                }
                Err(e) => {
                    tracing::error!(error = %e, "central round failed");
                    false
                }
            };
            if !busy {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Hub, &Shared) -> Result<R, HubError> + Send + 'static,
    ) -> Result<R, HubError> {
        let hub = self.hub.clone();
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || f(&hub, &shared)).await?
    }

    /// Step 1 alone: the change feed into the outbox; how many packets are new.
    pub async fn take_in(&self, now: Timestamp) -> Result<u64, HubError> {
        self.blocking(move |hub, shared| {
            let mut total = 0;
            loop {
                let cursor = lock(&shared.db)?.feed_cursor()?;
                let changed = hub.records()?.changed_since(cursor, FEED_PAGE)?;
                let Some(last) = changed.last().map(|c| c.seq) else {
                    return Ok(total);
                };
                let mapping = lock(&shared.mapping)?.clone();
                let mut batch = Vec::new();
                let mut fetches = Vec::new();
                for c in &changed {
                    let commune = c.partition.commune();
                    if !c.record_id.starts_with("dossier-")
                        || !shared.communes.iter().any(|x| x == commune)
                    {
                        continue;
                    }
                    let json = hub.records()?.get_json(&c.partition, &c.record_id)?;
                    let Some(dossier) =
                        json.and_then(|j| serde_json::from_value::<Dossier>(j).ok())
                    else {
                        continue;
                    };
                    if dossier.consent.as_ref().is_some_and(|c| c.fetch_earlier_results)
                        && !dossier.state().is_final()
                    {
                        fetches.push((c.partition.to_string(), c.record_id.clone()));
                    }
                    match xaso_central::packets(
                        &dossier,
                        commune,
                        &mapping,
                        &shared.catalog,
                        Holidays::bundled(),
                    ) {
                        Ok(packets) if !packets.is_empty() => batch.push((c, packets)),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(record = %c.record_id, error = %e, "no packets for a dossier")
                        }
                    }
                }
                let origins: Vec<_> = batch
                    .iter()
                    .map(|(c, packets)| {
                        (
                            outbox::Origin {
                                commune: c.partition.commune(),
                                partition: c.partition.as_str(),
                                record_id: &c.record_id,
                            },
                            packets.clone(),
                        )
                    })
                    .collect();
                total += lock(&shared.db)?.take_in(&origins, &fetches, last, now.as_millisecond())?;
            }
        })
        .await
    }

    /// Step 2: online dossiers of each commune become dossiers of ours, once each.
    async fn pull(&self, now: Timestamp) -> Result<u64, HubError> {
        let mut written = 0;
        for commune in &self.config.communes {
            let since = lock(&self.shared.db)?
                .pull_cursor(commune)?
                .unwrap_or_else(|| "20000101000000".into());
            let online = match self.platform.online_since(commune, &since).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::info!(commune, error = %e, "online dossiers not pulled");
                    continue;
                }
            };
            let commune = commune.clone();
            written += self
                .blocking(move |hub, shared| {
                    let partition = Partition::new(format!("{commune}/online"))?;
                    let mapping = lock(&shared.mapping)?.clone();
                    let mut written = 0;
                    let mut cursor = since;
                    for o in &online {
                        if o.ngay_tiep_nhan > cursor
                            && xaso_central::time::parse(&o.ngay_tiep_nhan).is_some()
                        {
                            cursor.clone_from(&o.ngay_tiep_nhan);
                        }
                        let record = online_record_id(&o.ma_ho_so);
                        let mut records = hub.records()?;
                        if records.get_json(&partition, &record)?.is_some() {
                            continue;
                        }
                        match online_dossier(o, &commune, &mapping, &shared.catalog) {
                            Ok(dossier) => {
                                let json = serde_json::to_value(&dossier)
                                    .map_err(|e| HubError::Core(xaso_sync_core::Error::Serialize(e)))?;
                                records.put_json(&partition, &record, &json)?;
                                drop(records);
                                lock(&shared.db)?.inbound_taken(&commune, &o.ma_ho_so)?;
                                written += 1;
                            }
                            Err(e) => {
                                // officers see it with the refused packets, and retry it once
                                // the mapping is corrected
                                drop(records);
                                tracing::warn!(code = %o.ma_ho_so, error = %e, "online dossier not taken");
                                lock(&shared.db)?.inbound_refused(
                                    &commune,
                                    &o.ma_ho_so,
                                    &o.ngay_tiep_nhan,
                                    &e.to_string(),
                                    now.as_millisecond(),
                                )?;
                            }
                        }
                    }
                    lock(&shared.db)?.set_pull_cursor(&commune, &cursor)?;
                    *lock(&shared.last_pull)? = Some(now.as_millisecond());
                    Ok(written)
                })
                .await?;
        }
        Ok(written)
    }

    /// Step 3: earlier results for dossiers whose person agreed.
    async fn fetch_earlier(&self, now: Timestamp) -> Result<u64, HubError> {
        let due = lock(&self.shared.db)?.fetches_due()?;
        let mut attached = 0;
        for (partition, record) in due {
            let p = Partition::new(partition.clone())?;
            let dossier: Option<Dossier> = {
                let json = self.hub.records()?.get_json(&p, &record)?;
                json.and_then(|j| serde_json::from_value(j).ok())
            };
            let Some(dossier) = dossier else { continue };
            if !dossier
                .consent
                .as_ref()
                .is_some_and(|c| c.fetch_earlier_results)
            {
                continue;
            }
            let Some(code) = lock(&self.shared.mapping)?
                .procedure_code(&dossier.procedure.0)
                .map(str::to_owned)
            else {
                continue;
            };
            let results = match self
                .platform
                .earlier_results(&dossier.applicant.id_number, &code)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::info!(record = %record, error = %e, "earlier results not fetched yet");
                    continue;
                }
            };
            attached += self
                .blocking(move |hub, shared| {
                    let mut records = hub.records()?;
                    // read again: the dossier may have changed while the platform answered
                    let Some(mut dossier) = records
                        .get_json(&p, &record)?
                        .and_then(|j| serde_json::from_value::<Dossier>(j).ok())
                    else {
                        return Ok(0);
                    };
                    let mut added = 0;
                    for r in &results {
                        let Ok((bytes, reference)) = earlier_result(r) else {
                            tracing::warn!(record = %record, "an earlier result is not readable");
                            continue;
                        };
                        records.put_blob(&p, &bytes)?;
                        if !dossier
                            .attachments
                            .iter()
                            .any(|a| a.sha256 == reference.sha256)
                        {
                            dossier.attachments.push(reference);
                            added += 1;
                        }
                    }
                    if added > 0 {
                        let json = serde_json::to_value(&dossier)
                            .map_err(|e| HubError::Core(xaso_sync_core::Error::Serialize(e)))?;
                        records.put_json(&p, &record, &json)?;
                    }
                    drop(records);
                    lock(&shared.db)?.fetch_done(&partition, &record, now.as_millisecond())?;
                    Ok(added)
                })
                .await?;
        }
        Ok(attached)
    }

    /// Wait for the rate limit's next slot.
    async fn slot(&self) {
        if self.config.rate_per_second <= 0.0 {
            return;
        }
        let gap = Duration::from_secs_f64(1.0 / self.config.rate_per_second);
        let at = {
            let mut next = self.next_slot.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Step 4: deliver what may go at `now`.
    async fn deliver(&self, now: Timestamp, round: &mut Round) -> Result<(), HubError> {
        use futures_util::StreamExt;
        loop {
            let heads = lock(&self.shared.db)?.heads(HEADS)?;
            let go: Vec<outbox::Head> = {
                let mut scheduler = lock(&self.shared.scheduler)?;
                heads
                    .into_iter()
                    .filter(|head| scheduler.begin(&head.code, now))
                    .collect()
            };
            if go.is_empty() {
                return Ok(());
            }
            // `parallel` dossiers at a time; once the breaker opens, the rest wait
            let results: Vec<(outbox::Head, Option<Outcome>)> = futures_util::stream::iter(go)
                .map(|head| async move {
                    if lock(&self.shared.scheduler).is_ok_and(|s| s.open_until(now).is_some()) {
                        return (head, None);
                    }
                    self.slot().await;
                    let outcome = self.platform.send(head.body.clone()).await;
                    (head, Some(outcome))
                })
                .buffer_unordered(self.config.parallel)
                .collect()
                .await;
            let mut verdicts = Vec::with_capacity(results.len());
            {
                let mut scheduler = lock(&self.shared.scheduler)?;
                for (head, outcome) in &results {
                    let Some(outcome) = outcome else { continue };
                    let jitter: f64 = rand::rng().random();
                    let verdict = match scheduler.record(&head.code, outcome, now, jitter) {
                        Next::Delivered => {
                            self.hub.inner.metrics.outbox_delivered.inc();
                            round.delivered += 1;
                            outbox::Verdict::Delivered
                        }
                        Next::DeadLetter { code, message } => {
                            tracing::warn!(key = %head.key, error_code = %code, "packet refused: dead letter");
                            self.hub.inner.metrics.outbox_dead.inc();
                            round.dead += 1;
                            outbox::Verdict::Dead { code, message }
                        }
                        Next::RetryAt(_) => {
                            self.hub.inner.metrics.outbox_failures.inc();
                            round.failed += 1;
                            match outcome {
                                Outcome::Failed { reason } => outbox::Verdict::Failed {
                                    reason: reason.clone(),
                                },
                                _ => outbox::Verdict::Failed {
                                    reason: "the platform does not accept the session".into(),
                                },
                            }
                        }
                        // signed out: the same packet goes again in this loop (a new session
                        // is made on the next send); the scheduler stops that after three
                        Next::SignInAgain => continue,
                    };
                    verdicts.push((head.id, verdict));
                }
            }
            // one transaction (one fsync) for the whole batch: a packet marked delivered a
            // moment late is at worst sent again, and the platform keeps the first copy
            let delivered_any = verdicts
                .iter()
                .any(|(_, v)| matches!(v, outbox::Verdict::Delivered));
            lock(&self.shared.db)?.record(&verdicts, now.as_millisecond())?;
            if delivered_any {
                *lock(&self.shared.last_delivered)? = Some(now.as_millisecond());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_connection_file_reads_its_secrets_and_trust_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("portal.password"), "s3cret\n").unwrap();
        std::fs::write(dir.path().join("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        let path = dir.path().join("central.toml");
        std::fs::write(
            &path,
            "base_url = \"https://portal.example/integration/\"\nusername = \"xa-79001\"\n\
             password_file = \"portal.password\"\nca_file = \"ca.pem\"\ncommunes = [\"79001\"]\n\
             rate_per_second = 5\n",
        )
        .unwrap();
        let c = CentralConfig::load(&path).unwrap();
        assert_eq!(c.portal.base_url, "https://portal.example/integration");
        assert_eq!(c.portal.password, "s3cret");
        assert!(c.portal.ca_pem.unwrap().starts_with("-----BEGIN"));
        assert_eq!(c.communes, ["79001"]);
        assert_eq!((c.rate_per_second, c.parallel), (5.0, 8));
        assert_eq!(c.pull_every, Duration::from_secs(300));

        std::fs::write(
            &path,
            "base_url = \"https://x\"\nusername = \"u\"\ncommunes = [\"7900\"]\n",
        )
        .unwrap();
        assert!(matches!(CentralConfig::load(&path), Err(CentralError::Commune(c)) if c == "7900"));
        std::fs::write(
            &path,
            "base_url = \"https://x\"\nusername = \"u\"\npassword_file = \"missing\"\ncommunes = []\n",
        )
        .unwrap();
        assert!(matches!(
            CentralConfig::load(&path),
            Err(CentralError::Read { .. })
        ));
    }
}
