//! The thin shell of the officer's tablet: it applies each [`OfficerInput`] to the pure
//! pieces of `xaso-kiosk-core` — [`SignIn`] and the dossier [`Desk`] — and performs what they
//! ask: the roster and PIN lookups, writes to the record store, the signed result, sync —
//! and checks a learner's certificate ([`super::certificates`]) with today's date. It never
//! draws; [`super::present`] does, from the state it exposes.

use std::path::PathBuf;
use std::time::Instant;

use jiff::Timestamp;
use xaso_i18n::{Lang, Translations};
use xaso_kiosk_core::CardEvent;
use xaso_kiosk_core::officer::{
    ConflictChoice, Desk, DeskEffect, DeskInput, DeskRefusal, FieldConflict,
};
use xaso_kiosk_core::signin::{PinPolicy, RosterEntry, SignIn, SignInEffect};
use xaso_kiosk_core::telex::TelexEntry;
use xaso_services::roster::{ROSTER_RECORD, Roster, StaffRole, person_key};
use xaso_services::{Action, Actor, AttachmentRef, Catalog, Dossier, ResultDocument, Role};
use xaso_sync_core::{Partition, PathSegment};
use xaso_sync_store::Store;
use xaso_training::Library;
use xaso_training::certificate::TrustList;

use super::certificates::{CertificateCheck, PictureProblem};
use super::charts::{ChartsKey, MonthCharts};
use super::link::{LinkStatus, OfficerLink};
use super::pins::PinStore;
use super::queue::QueueView;
use crate::card_reader::CardReader;
use crate::clock::Clock;
use crate::qr_pictures::QrPictures;
use xaso_queue::QueueIndex;

/// The officer's screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficerView {
    SignIn,
    Queue,
    Dossier,
    Sync,
    Dashboard,
    Certificates,
}

/// What the on-screen keyboard types into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    Nothing,
    Search,
    Reason,
}

/// Everything that can happen on the officer's tablet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficerInput {
    Tick,
    /// Demo and tests: place this synthetic person's card on the reader.
    PlaceCard(String),
    RemoveCard,
    Card(CardEvent),
    Digit(char),
    PinBackspace,
    PinOk,
    SignOut,
    StillHere,
    Open(OfficerView),
    StartSearch,
    StartReason,
    Key(char),
    Backspace,
    ClearText,
    KeyboardDone,
    /// Open the dossier `partition` + `record` (the queue row's id, `partition|record`).
    OpenDossier(String),
    Desk(DeskInput),
    SyncNow,
    /// Send a packet the public-service portal refused again (`Some(key)`), or all of them.
    RetryCentral(Option<String>),
    /// A keyboard-wedge scanner typed a certificate's QR code and Enter.
    CertificateText(String),
    /// "Read the newest picture" of a certificate's QR code.
    CertificatePicture,
}

/// What the officer's tablet is made of.
pub struct OfficerParts {
    /// The record store (`records.db`, `device.key`) and the PIN file live here.
    pub store_dir: PathBuf,
    pub commune: String,
    pub device_id: String,
    pub translations: Translations,
    pub catalog: Catalog,
    pub clock: Box<dyn Clock>,
    pub card: Box<dyn CardReader>,
    pub link: OfficerLink,
    pub policy: PinPolicy,
    /// The commune's name as the result documents print it (`Xã Tân Thới Nhì`).
    pub commune_name: String,
    /// The officer's title under their signature (`CÔNG CHỨC TƯ PHÁP - HỘ TỊCH`).
    pub officer_title: String,
    /// Where signing keys are certified; `None`: this tablet cannot sign results.
    pub signing: Option<super::signing::SigningSetup>,
    /// The province's keys learners' certificates are checked against (`--trust-list`);
    /// `None`: this tablet cannot check certificates, and its page says why.
    pub trust_list: Option<TrustList>,
    /// The lessons whose track titles name a checked certificate's track.
    pub library: Library,
    /// Where pictures of a certificate's QR code arrive (the newest is read).
    pub qr_pictures: Box<dyn QrPictures>,
}

#[derive(Debug, thiserror::Error)]
pub enum OfficerError {
    #[error(transparent)]
    Store(#[from] xaso_sync_store::Error),
    #[error(transparent)]
    Pins(#[from] super::pins::PinStoreError),
    #[error(transparent)]
    Queue(#[from] xaso_queue::Error),
    #[error("cannot create the store directory: {0}")]
    Io(#[from] std::io::Error),
}

/// The dossier open at the desk and where it lives.
struct Open {
    partition: Partition,
    record: String,
    desk: Desk,
}

pub struct OfficerShell {
    p: OfficerParts,
    store: Store,
    pins: PinStore,
    sign_in: SignIn,
    view: OfficerView,
    typing: Typing,
    search: TelexEntry,
    reason: TelexEntry,
    index: QueueIndex,
    queue: QueueView,
    open: Option<Open>,
    /// The last refusal or failure at the desk, as a translation key.
    notice: Option<String>,
    link: LinkStatus,
    /// The roster key of the person signing in (never their ID number).
    person_key: Option<String>,
    /// What waits to sync, counted at each refresh and store write (not on every redraw).
    waiting: Waiting,
    /// The dashboard's charts of the month, drawn again only when the store changed.
    charts: Option<MonthCharts>,
    /// The last certificate checked on the certificates page (or why no code was read).
    certificate: Option<Result<CertificateCheck, PictureProblem>>,
}

impl OfficerShell {
    pub fn new(parts: OfficerParts) -> Result<OfficerShell, OfficerError> {
        std::fs::create_dir_all(&parts.store_dir)?;
        let key = parts.store_dir.join("device.key");
        xaso_sync_store::ensure_key_file(&key)?;
        let store = Store::open(&parts.store_dir.join("records.db"), &key)?;
        let pins = PinStore::open(&parts.store_dir.join("pins.db"), &key)?;
        let index = QueueIndex::open_for_device(&parts.store_dir.join("queue.db"), &key)?;
        let sign_in = SignIn::new(parts.policy, parts.clock.now());
        let link = parts.link.status();
        Ok(OfficerShell {
            p: parts,
            store,
            pins,
            sign_in,
            view: OfficerView::SignIn,
            typing: Typing::Nothing,
            search: TelexEntry::default(),
            reason: TelexEntry::default(),
            index,
            queue: QueueView::default(),
            open: None,
            notice: None,
            link,
            person_key: None,
            waiting: Waiting::default(),
            charts: None,
            certificate: None,
        })
    }

    // ----- reading -----

    pub fn view(&self) -> OfficerView {
        self.view
    }
    pub fn typing(&self) -> Typing {
        self.typing
    }
    pub fn sign_in(&self) -> &SignIn {
        &self.sign_in
    }
    pub fn person(&self) -> Option<&RosterEntry> {
        self.sign_in.person()
    }
    pub fn queue(&self) -> &QueueView {
        &self.queue
    }
    pub fn search_text(&self) -> String {
        self.search.text()
    }
    pub fn reason_text(&self) -> String {
        self.reason.text()
    }
    pub fn desk(&self) -> Option<&Desk> {
        self.open.as_ref().map(|o| &o.desk)
    }
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }
    pub fn link(&self) -> &LinkStatus {
        &self.link
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn translations(&self) -> &Translations {
        &self.p.translations
    }
    pub fn catalog(&self) -> &Catalog {
        &self.p.catalog
    }
    pub fn card_reader(&self) -> &dyn CardReader {
        self.p.card.as_ref()
    }
    pub fn commune(&self) -> &str {
        &self.p.commune
    }
    pub fn now(&self) -> Instant {
        self.p.clock.now()
    }
    pub fn today(&self) -> jiff::civil::Date {
        self.p.clock.today()
    }
    pub fn lang(&self) -> Lang {
        Lang::Vi
    }
    pub fn idle_countdown(&self) -> Option<u64> {
        self.sign_in.idle_countdown(self.p.clock.now())
    }

    /// The province's keys certificates are checked against, if this tablet has them.
    pub fn trust_list(&self) -> Option<&TrustList> {
        self.p.trust_list.as_ref()
    }

    /// The last certificate checked (or why no code was read from the picture).
    pub fn certificate(&self) -> Option<&Result<CertificateCheck, PictureProblem>> {
        self.certificate.as_ref()
    }

    /// The commune's name as this tablet's documents print it.
    pub fn commune_name(&self) -> &str {
        &self.p.commune_name
    }

    /// The dashboard's charts of the month, as last drawn.
    pub fn charts(&self) -> Option<&MonthCharts> {
        self.charts.as_ref()
    }

    /// What waits to go to (or come from) the hub, as last counted.
    pub fn waiting(&self) -> Waiting {
        self.waiting
    }

    /// The partition of the dossier open at the desk.
    pub fn open_partition(&self) -> Option<&Partition> {
        self.open.as_ref().map(|o| &o.partition)
    }

    /// Counts what waits: local dossier changes not yet confirmed by the hub, files to
    /// upload, files to download.
    fn count_waiting(&self) -> Waiting {
        let mut w = Waiting::default();
        let own = self.store.origin();
        let Ok(partitions) = self.store.partitions_under(&self.p.commune) else {
            return w;
        };
        for p in partitions {
            let mine = self.store.vector(&p).map(|v| v.get(&own)).unwrap_or(0);
            let confirmed = self
                .store
                .peer_vector(xaso_sync_client::HUB_PEER, &p)
                .map(|v| v.get(&own))
                .unwrap_or(0);
            w.changes += mine.saturating_sub(confirmed);
            w.uploads += self
                .store
                .blobs_unconfirmed(xaso_sync_client::HUB_PEER, &p)
                .map_or(0, |b| b.len() as u64);
            w.downloads += self.store.missing_blobs(&p).map_or(0, |b| b.len() as u64);
        }
        w
    }

    // ----- inputs -----

    pub fn apply(&mut self, input: OfficerInput) {
        let now = self.p.clock.now();
        let at = self.p.clock.timestamp();
        if !matches!(input, OfficerInput::Tick | OfficerInput::Card(_)) {
            self.sign_in.touch(now);
        }
        match input {
            OfficerInput::Tick => {
                for e in self.p.card.poll() {
                    self.card(e);
                }
                let was_open = self.sign_in.is_open();
                self.sign_in.tick(now, at);
                if was_open && !self.sign_in.is_open() {
                    // Locked while left alone: nothing of the dossier stays on screen.
                    self.typing = Typing::Nothing;
                    self.view = OfficerView::SignIn;
                }
                let before = self.link.syncs;
                self.link = self.p.link.status();
                if self.link.syncs != before && self.sign_in.is_open() {
                    self.refresh();
                }
            }
            OfficerInput::PlaceCard(id) => {
                for e in self.p.card.place(&id) {
                    self.card(e);
                }
            }
            OfficerInput::RemoveCard => {
                for e in self.p.card.remove() {
                    self.card(e);
                }
            }
            OfficerInput::Card(e) => self.card(e),
            OfficerInput::Digit(d) => self.sign_in.digit(d),
            OfficerInput::PinBackspace => self.sign_in.backspace(),
            OfficerInput::PinOk => {
                let salt = uuid::Uuid::new_v4();
                let effects = self.sign_in.submit(salt.as_bytes(), now, at);
                self.sign_in_effects(effects);
            }
            OfficerInput::SignOut => {
                let effects = self.sign_in.sign_out();
                self.sign_in_effects(effects);
            }
            OfficerInput::StillHere => {}
            _ if !self.sign_in.is_open() => {}
            OfficerInput::Open(view) => {
                if view != OfficerView::SignIn && view != OfficerView::Dossier {
                    if view == OfficerView::Certificates && self.view != view {
                        // Each visit starts with no one's certificate on screen.
                        self.certificate = None;
                    }
                    self.typing = Typing::Nothing;
                    self.view = view;
                    self.refresh();
                }
            }
            OfficerInput::StartSearch => self.typing = Typing::Search,
            OfficerInput::StartReason => self.typing = Typing::Reason,
            OfficerInput::Key(ch) => self.edit(|e| e.key(ch)),
            OfficerInput::Backspace => self.edit(TelexEntry::backspace),
            OfficerInput::ClearText => self.edit(TelexEntry::clear),
            OfficerInput::KeyboardDone => self.typing = Typing::Nothing,
            OfficerInput::OpenDossier(id) => self.open_dossier(&id),
            OfficerInput::Desk(input) => self.desk_input(input, at),
            OfficerInput::SyncNow => self.p.link.sync_now(),
            OfficerInput::RetryCentral(key) => self.p.link.retry(key),
            OfficerInput::CertificateText(text) => self.check_certificate(Ok(text)),
            OfficerInput::CertificatePicture => {
                if self.p.trust_list.is_some() {
                    let text = super::certificates::code_in_picture(self.p.qr_pictures.latest());
                    self.check_certificate(text);
                }
            }
        }
    }

    /// Checks a certificate's code against the trust list, today (nothing without a list).
    fn check_certificate(&mut self, text: Result<String, PictureProblem>) {
        let Some(trust) = &self.p.trust_list else {
            return;
        };
        let today = self.p.clock.today();
        let checked = text
            .map(|t| super::certificates::check(&t, trust, &self.p.library, self.lang(), today));
        match &checked {
            Ok(CertificateCheck::Valid(_)) => tracing::info!("a certificate was checked: valid"),
            Ok(CertificateCheck::Refused(r)) => {
                tracing::info!("a certificate was checked: refused ({r:?})");
            }
            Err(p) => tracing::info!("no certificate code read from the picture: {p:?}"),
        }
        self.certificate = Some(checked);
    }

    fn edit(&mut self, f: impl FnOnce(&mut TelexEntry)) {
        match self.typing {
            Typing::Search => {
                f(&mut self.search);
                self.read_queue();
            }
            Typing::Reason => {
                f(&mut self.reason);
                let text = self.reason.text();
                if let Some(o) = self.open.as_mut() {
                    let _ = o
                        .desk
                        .handle(DeskInput::Reason(text), self.p.clock.timestamp());
                }
            }
            Typing::Nothing => {}
        }
    }

    fn card(&mut self, event: CardEvent) {
        let effects = match event {
            CardEvent::Read { identity, verified } => self.sign_in.card_read(&identity, verified),
            CardEvent::Removed => self.sign_in.card_removed(),
            CardEvent::Present | CardEvent::Failed(_) => Vec::new(),
        };
        self.sign_in_effects(effects);
    }

    fn sign_in_effects(&mut self, effects: Vec<SignInEffect>) {
        let at = self.p.clock.timestamp();
        for effect in effects {
            match effect {
                SignInEffect::LookUp { id_number } => {
                    let person = self.roster_entry(&id_number);
                    let key = person_key(&self.p.commune, &id_number);
                    self.person_key = Some(key.clone());
                    let record = match self.pins.get(&key) {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!("PIN record unreadable, a new PIN will be chosen: {e}");
                            None
                        }
                    };
                    let more = self.sign_in.looked_up(person, record, at);
                    self.sign_in_effects(more);
                }
                SignInEffect::SavePin { id_number, record } => {
                    let key = person_key(&self.p.commune, &id_number);
                    if let Err(e) = self.pins.put(&key, &record) {
                        tracing::error!("PIN record not saved: {e}");
                    }
                }
                SignInEffect::SignedIn => {
                    tracing::info!("an officer signed in");
                    if self.view == OfficerView::SignIn {
                        self.view = OfficerView::Queue;
                    }
                    self.refresh();
                }
                SignInEffect::SignedOut => {
                    self.person_key = None;
                    self.view = OfficerView::SignIn;
                    self.typing = Typing::Nothing;
                    self.open = None;
                    self.search.clear();
                    self.reason.clear();
                    self.notice = None;
                    self.queue = QueueView::default();
                    self.charts = None;
                    self.certificate = None;
                }
            }
        }
    }

    /// The roster's entry for this card holder as an officer of this commune.
    fn roster_entry(&self, id_number: &str) -> Option<RosterEntry> {
        let public = Partition::public(&self.p.commune).ok()?;
        let roster: Roster = match self.store.get(&public, ROSTER_RECORD) {
            Ok(r) => r?,
            Err(e) => {
                tracing::warn!("roster unreadable: {e}");
                return None;
            }
        };
        roster
            .find(&self.p.commune, id_number, StaffRole::Officer)
            .map(|p| RosterEntry {
                display_name: p.display_name.clone(),
                actor_id: p.actor_id(&self.p.commune),
            })
    }

    /// The signed-in officer acting on this device.
    fn actor(&self) -> Option<Actor> {
        self.sign_in
            .person()
            .map(|p| Actor::on_device(Role::Officer, p.actor_id.clone(), self.p.device_id.clone()))
    }

    /// Reads the queue again (after a sign-in, a sync, a change).
    pub fn refresh(&mut self) {
        self.read_queue();
        self.waiting = self.count_waiting();
        if self.view == OfficerView::Dashboard {
            self.update_charts();
        }
        // The open dossier follows what arrived (unless a change of ours is being saved).
        if let Some(o) = &self.open
            && !matches!(o.desk.state(), xaso_kiosk_core::officer::DeskState::Saving)
        {
            let (partition, record) = (o.partition.clone(), o.record.clone());
            let actor = self.actor();
            if let Some((dossier, conflicts)) = self.read(&partition, &record)
                && let Some(o) = self.open.as_mut()
                && (&dossier != o.desk.dossier() || conflicts != o.desk.field_conflicts())
                && let Some(actor) = actor
            {
                o.desk = Desk::open(actor, dossier, conflicts);
            }
        }
    }

    /// Draws the month's charts again if the store changed (the queue index, just brought up
    /// to the store, tells by its feed position) or the day turned since they were drawn.
    fn update_charts(&mut self) {
        let feed = match self.index.cursor() {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("queue index position not read: {e}");
                return;
            }
        };
        let key = ChartsKey {
            feed,
            today: self.p.clock.today(),
        };
        if self.charts.as_ref().is_some_and(|c| c.key == key) {
            return;
        }
        let drawn = super::charts::compute(
            &self.store,
            &self.p.commune,
            &self.p.catalog,
            &self.p.translations,
            self.lang(),
            key,
        );
        self.charts = Some(drawn.unwrap_or_else(|e| {
            tracing::error!("month charts not drawn: {e}");
            MonthCharts {
                key,
                charts: Vec::new(),
            }
        }));
    }

    /// Brings the queue index up to the store and reads the queue (or the search) again.
    fn read_queue(&mut self) {
        let holidays = xaso_services::calendar::Holidays::bundled();
        if let Err(e) = self.index.catch_up(&self.store, &self.p.catalog, holidays) {
            tracing::error!("queue index not updated: {e}");
        }
        match QueueView::read(&self.index, &self.search.text(), self.p.clock.today()) {
            Ok(q) => self.queue = q,
            Err(e) => tracing::error!("queue not read: {e}"),
        }
    }

    /// The dossier as stored and its conflicted fields.
    fn read(&self, partition: &Partition, record: &str) -> Option<(Dossier, Vec<FieldConflict>)> {
        let dossier: Dossier = match self.store.get(partition, record) {
            Ok(Some(d)) => d,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!("dossier not read: {e}");
                return None;
            }
        };
        let conflicts = self
            .store
            .conflicts(partition, record)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| match c.path.as_slice() {
                [PathSegment::Field(v), PathSegment::Field(field)] if v == "values" => {
                    Some(FieldConflict {
                        field: field.clone(),
                        choices: c
                            .values
                            .iter()
                            .map(|v| ConflictChoice {
                                value: v.value.as_str().unwrap_or_default().to_owned(),
                                author: v.author.chars().take(8).collect(),
                                at: Timestamp::from_millisecond(v.time_ms)
                                    .unwrap_or(Timestamp::UNIX_EPOCH),
                            })
                            .collect(),
                    })
                }
                _ => None,
            })
            .collect();
        Some((dossier, conflicts))
    }

    fn open_dossier(&mut self, id: &str) {
        let Some((partition, record)) = id.split_once('|') else {
            return;
        };
        let Ok(partition) = Partition::new(partition) else {
            return;
        };
        let (Some((dossier, conflicts)), Some(actor)) =
            (self.read(&partition, record), self.actor())
        else {
            return;
        };
        self.open = Some(Open {
            partition,
            record: record.to_owned(),
            desk: Desk::open(actor, dossier, conflicts),
        });
        self.reason.clear();
        self.notice = None;
        self.typing = Typing::Nothing;
        self.view = OfficerView::Dossier;
    }

    fn desk_input(&mut self, input: DeskInput, at: Timestamp) {
        let Some(o) = self.open.as_mut() else {
            return;
        };
        if matches!(input, DeskInput::Choose(_) | DeskInput::Cancel) {
            self.reason.clear();
            self.typing = Typing::Nothing;
        }
        match o.desk.handle(input, at) {
            Ok(effects) => {
                self.notice = None;
                for e in effects {
                    self.desk_effect(e, at);
                }
            }
            Err(refusal) => self.notice = Some(refusal_key(&refusal).to_owned()),
        }
    }

    fn desk_effect(&mut self, effect: DeskEffect, at: Timestamp) {
        let Some(o) = self.open.as_ref() else {
            return;
        };
        let (partition, record) = (o.partition.clone(), o.record.clone());
        let base = o.desk.dossier().clone();
        let written = match effect {
            DeskEffect::SaveDossier(next) => self.write(&partition, &record, &base, &next),
            DeskEffect::ResolveField { field, value } => self
                .store
                .resolve(
                    &partition,
                    &record,
                    &[
                        PathSegment::from("values"),
                        PathSegment::from(field.as_str()),
                    ],
                    &serde_json::Value::String(value),
                )
                .map(|_| ())
                .map_err(|e| e.to_string()),
            DeskEffect::ResolveState(state) => match serde_json::to_value(state) {
                Ok(v) => self
                    .store
                    .resolve(&partition, &record, &[PathSegment::from("state")], &v)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            DeskEffect::IssueResult(approved) => {
                self.issue_result(&partition, &record, &approved, at)
            }
        };
        let input = match written {
            Ok(()) => match self.read(&partition, &record) {
                Some((dossier, conflicts)) => DeskInput::Saved {
                    dossier: Box::new(dossier),
                    conflicts,
                },
                None => DeskInput::SaveFailed,
            },
            Err(e) => {
                tracing::error!("dossier change not stored: {e}");
                self.notice = Some("desk.save_failed".into());
                DeskInput::SaveFailed
            }
        };
        if let Some(o) = self.open.as_mut() {
            let _ = o.desk.handle(input, at);
        }
        self.read_queue();
        self.waiting = self.count_waiting();
    }

    /// Writes `next` over the record, unless the record changed since the desk read it
    /// (a sync arrived): then nothing is written and the desk shows the dossier anew.
    fn write(
        &mut self,
        partition: &Partition,
        record: &str,
        base: &Dossier,
        next: &Dossier,
    ) -> Result<(), String> {
        let current: Option<Dossier> = self
            .store
            .get(partition, record)
            .map_err(|e| e.to_string())?;
        if current.as_ref() != Some(base) {
            return Err("the dossier changed on another device meanwhile".into());
        }
        self.store
            .put(partition, record, next)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The signed result of an approved dossier: made, stored with the dossier's pages, and
    /// attached as the dossier becomes `result_ready`. Without a signing key the dossier stays
    /// approved and says so.
    fn issue_result(
        &mut self,
        partition: &Partition,
        record: &str,
        approved: &Dossier,
        at: Timestamp,
    ) -> Result<(), String> {
        let (Some(person), Some(actor)) = (self.sign_in.person().cloned(), self.actor()) else {
            return Ok(());
        };
        let Some(signer) = self.signer(&person) else {
            self.notice = Some("desk.no_signing_key".into());
            return Ok(());
        };
        let procedure = self
            .p
            .catalog
            .procedure(approved.procedure.as_str())
            .ok_or("unknown procedure")?;
        let issuer = xaso_documents::Issuer {
            commune: self.p.commune_name.clone(),
            officer_name: person.display_name.clone(),
            officer_title: self.p.officer_title.clone(),
        };
        let content = xaso_documents::compose(
            procedure,
            approved,
            &issuer,
            Lang::Vi,
            &self.p.translations,
            at,
        )
        .map_err(|e| e.to_string())?;
        let pdf =
            xaso_documents::render(&content, &self.p.translations).map_err(|e| e.to_string())?;
        let pdf = xaso_documents::sign(&pdf, &signer, at).map_err(|e| e.to_string())?;
        let hash = self
            .store
            .put_blob(partition, &pdf)
            .map_err(|e| e.to_string())?;
        let mut dossier: Dossier = self
            .store
            .get(partition, record)
            .map_err(|e| e.to_string())?
            .ok_or("the dossier is gone")?;
        dossier
            .issue_result(
                ResultDocument {
                    file: AttachmentRef {
                        paper: "result".into(),
                        sha256: hash.to_hex(),
                        media_type: "application/pdf".into(),
                        bytes: pdf.len() as u64,
                    },
                    signed_by: person.actor_id.clone(),
                    signer_name: person.display_name.clone(),
                    issued_at: at,
                },
                actor,
                at,
            )
            .map_err(|e| e.to_string())?;
        self.store
            .put(partition, record, &dossier)
            .map(|_| ())
            .map_err(|e| e.to_string())?;
        tracing::info!(procedure = %dossier.procedure, "signed result issued");
        Ok(())
    }

    /// The signed-in officer's signer: held on this tablet, or certified by the hub now.
    fn signer(&self, person: &RosterEntry) -> Option<xaso_documents::Signer> {
        let key = self.person_key.clone()?;
        match self.pins.signer(&key) {
            Ok(Some(s)) => return Some(s),
            Ok(None) => {}
            Err(e) => tracing::warn!("signing key unreadable: {e}"),
        }
        let setup = self.p.signing.as_ref()?;
        match self.pins.certify(&key, &person.display_name, setup) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("no signing certificate: {e}");
                None
            }
        }
    }

    /// The state names an action leads to, for buttons and notices.
    pub fn action_key(action: Action) -> &'static str {
        match action {
            Action::Receive => "kiosk.officer.action.receive",
            Action::StartProcessing => "kiosk.officer.action.start_processing",
            Action::RequestSupplement => "kiosk.officer.action.request_supplement",
            Action::Resume => "kiosk.officer.action.resume",
            Action::Approve => "kiosk.officer.action.approve",
            Action::Reject => "kiosk.officer.action.reject",
            Action::MarkResultReady => "kiosk.officer.action.mark_result_ready",
            Action::ReturnResult => "kiosk.officer.action.return_result",
            Action::Withdraw | Action::Submit | Action::Supplement => {
                "kiosk.officer.action.withdraw"
            }
        }
    }
}

/// What waits to sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    pub changes: u64,
    pub uploads: u64,
    pub downloads: u64,
}

impl Waiting {
    pub fn total(&self) -> u64 {
        self.changes + self.uploads + self.downloads
    }
}

fn refusal_key(r: &DeskRefusal) -> &'static str {
    r.key()
}
