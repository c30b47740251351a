//! The helper's tablet: the resident's kiosk journey inside an assisted session.
//!
//! A community digital-technology helper signs in with their own chip card, the commune's
//! roster (role `helper`) and a PIN ([`xaso_kiosk_core::signin`]); then starts a session
//! ([`xaso_kiosk_core::helper::AssistedSession`]): the resident taps their own card and agrees
//! on screen. Only then does the resident's journey open, the card's data pre-filling forms;
//! every dossier is handed in by the helper for that resident (channel `helper`, consent
//! `assisted_by` the helper) and the session's record — both identities, the consent time,
//! the dossiers, the end — is kept in the tablet's partition and syncs. Ending the session
//! (or taking the card away) wipes the journey; from then on the helper cannot look the
//! resident's dossiers up ([`HelperDesk::may_open`]).

use jiff::Timestamp;
use xaso_kiosk_core::helper::{
    AssistEffect, AssistRecord, AssistRefusal, AssistState, AssistedSession,
};
use xaso_kiosk_core::signin::{PinPolicy, RosterEntry, SignIn, SignInEffect};
use xaso_kiosk_core::{CardEvent, CardIdentity};
use xaso_services::roster::{ROSTER_RECORD, Roster, StaffRole, person_key};
use xaso_services::{Actor, Role};
use xaso_sync_core::Partition;
use xaso_sync_store::Store;

use crate::officer::pins::PinStore;

/// What the shell must do for the helper's desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperStep {
    /// Nothing for the journey.
    None,
    /// The resident agreed: give the journey their card.
    OpenJourney(CardIdentity),
    /// The session ended: wipe the journey.
    Wipe,
}

/// The helper's sign-in and session on a helper tablet.
pub struct HelperDesk {
    commune: String,
    device_id: String,
    pins: PinStore,
    sign_in: SignIn,
    session: Option<AssistedSession>,
    person_key: Option<String>,
}

impl HelperDesk {
    pub fn new(
        commune: &str,
        device_id: &str,
        pins: PinStore,
        policy: PinPolicy,
        now: std::time::Instant,
    ) -> HelperDesk {
        HelperDesk {
            commune: commune.to_owned(),
            device_id: device_id.to_owned(),
            pins,
            sign_in: SignIn::new(policy, now),
            session: None,
            person_key: None,
        }
    }

    pub fn sign_in(&self) -> &SignIn {
        &self.sign_in
    }
    pub fn signed_in(&self) -> bool {
        self.sign_in.is_open()
    }
    pub fn helper(&self) -> Option<&RosterEntry> {
        self.sign_in.person()
    }
    pub fn session(&self) -> Option<&AssistedSession> {
        self.session.as_ref()
    }
    pub fn state(&self) -> AssistState {
        self.session
            .as_ref()
            .map_or(AssistState::Idle, |s| s.state().clone())
    }
    /// The actor of every step of the session (the helper on this tablet).
    pub fn actor(&self) -> Option<Actor> {
        self.session.as_ref().map(AssistedSession::actor)
    }

    /// May the resident `id_number`'s data be shown now?
    pub fn may_open(&self, id_number: &str) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.may_open(id_number).is_ok())
    }

    /// A card event on a helper tablet: the helper's own card while signing in, the
    /// resident's while a session waits for it or runs. `true`: the journey should see it.
    pub fn card(
        &mut self,
        event: &CardEvent,
        store: &mut Store,
        at: Timestamp,
    ) -> (bool, HelperStep) {
        if !self.sign_in.is_open() {
            let effects = match event {
                CardEvent::Read { identity, verified } => {
                    self.sign_in.card_read(identity, *verified)
                }
                CardEvent::Removed => self.sign_in.card_removed(),
                _ => Vec::new(),
            };
            let step = self.sign_in_effects(effects, store, at);
            return (false, step);
        }
        let Some(session) = self.session.as_mut() else {
            return (false, HelperStep::None);
        };
        match (session.state().clone(), event) {
            (AssistState::WaitingForCard, CardEvent::Read { identity, verified }) => {
                if let Err(e) = session.card_read(identity, *verified) {
                    tracing::info!(refusal = e.key(), "resident card not taken for the session");
                }
                (false, HelperStep::None)
            }
            (AssistState::Active, CardEvent::Removed)
            | (AssistState::AskingConsent, CardEvent::Removed) => {
                let effects = session.card_removed(at);
                (false, self.assist_effects(effects, store))
            }
            (AssistState::Active, _) => (true, HelperStep::None),
            _ => (false, HelperStep::None),
        }
    }

    pub fn digit(&mut self, d: char) {
        self.sign_in.digit(d);
    }
    pub fn backspace(&mut self) {
        self.sign_in.backspace();
    }
    pub fn pin_ok(
        &mut self,
        store: &mut Store,
        now: std::time::Instant,
        at: Timestamp,
    ) -> HelperStep {
        let salt = uuid::Uuid::new_v4();
        let effects = self.sign_in.submit(salt.as_bytes(), now, at);
        self.sign_in_effects(effects, store, at)
    }
    pub fn sign_out(&mut self, store: &mut Store, at: Timestamp) -> HelperStep {
        let effects = self.sign_in.sign_out();
        self.sign_in_effects(effects, store, at)
    }
    pub fn touch(&mut self, now: std::time::Instant) {
        self.sign_in.touch(now);
    }
    pub fn tick(
        &mut self,
        store: &mut Store,
        now: std::time::Instant,
        at: Timestamp,
    ) -> HelperStep {
        let was_open = self.sign_in.is_open();
        self.sign_in.tick(now, at);
        if was_open && !self.sign_in.is_open() {
            return self.end(store, at);
        }
        HelperStep::None
    }

    /// "Help a resident".
    pub fn start(&mut self) -> Result<(), AssistRefusal> {
        match self.session.as_mut() {
            Some(s) => s.start(),
            None => Err(AssistRefusal::NotNow(AssistState::Idle)),
        }
    }

    /// The resident's answer on the consent screen.
    pub fn consent(&mut self, agrees: bool, store: &mut Store, at: Timestamp) -> HelperStep {
        let Some(session) = self.session.as_mut() else {
            return HelperStep::None;
        };
        let card = session.card().cloned();
        match session.consent(agrees, uuid::Uuid::new_v4().to_string(), at) {
            Ok(effects) => {
                let step = self.assist_effects(effects, store);
                match (step, card) {
                    (HelperStep::OpenJourney(_), Some(card)) => HelperStep::OpenJourney(card),
                    (other, _) => other,
                }
            }
            Err(e) => {
                tracing::info!(refusal = e.key(), "consent not taken");
                HelperStep::None
            }
        }
    }

    /// A dossier was stored in the session.
    pub fn submitted(&mut self, code: &str, store: &mut Store) {
        if let Some(session) = self.session.as_mut()
            && let Ok(effects) = session.submitted(code)
        {
            self.assist_effects(effects, store);
        }
    }

    /// "End the session".
    pub fn end(&mut self, store: &mut Store, at: Timestamp) -> HelperStep {
        match self.session.as_mut() {
            Some(s) => {
                let effects = s.end(at);
                self.assist_effects(effects, store)
            }
            None => HelperStep::None,
        }
    }

    /// The session itself, for handing a submission in.
    pub fn assisted(&self) -> Option<&AssistedSession> {
        self.session.as_ref()
    }

    fn assist_effects(&mut self, effects: Vec<AssistEffect>, store: &mut Store) -> HelperStep {
        let mut step = HelperStep::None;
        for e in effects {
            match e {
                AssistEffect::SaveRecord(record) => self.save(&record, store),
                AssistEffect::OpenJourney => {
                    step = HelperStep::OpenJourney(CardIdentity::default())
                }
                AssistEffect::WipeResident => step = HelperStep::Wipe,
            }
        }
        step
    }

    fn save(&self, record: &AssistRecord, store: &mut Store) {
        let saved = Partition::submissions(&self.commune, &self.device_id)
            .map_err(|e| e.to_string())
            .and_then(|p| {
                store
                    .put(&p, &format!("assist-{}", record.id), record)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = saved {
            tracing::error!("assisted session record not stored: {e}");
        }
    }

    fn sign_in_effects(
        &mut self,
        effects: Vec<SignInEffect>,
        store: &mut Store,
        at: Timestamp,
    ) -> HelperStep {
        let mut step = HelperStep::None;
        for effect in effects {
            match effect {
                SignInEffect::LookUp { id_number } => {
                    let person = self.roster_entry(store, &id_number);
                    let key = person_key(&self.commune, &id_number);
                    self.person_key = Some(key.clone());
                    let record = self.pins.get(&key).unwrap_or_else(|e| {
                        tracing::warn!("PIN record unreadable, a new PIN will be chosen: {e}");
                        None
                    });
                    let more = self.sign_in.looked_up(person, record, at);
                    let s = self.sign_in_effects(more, store, at);
                    if s != HelperStep::None {
                        step = s;
                    }
                }
                SignInEffect::SavePin { id_number, record } => {
                    if let Err(e) = self
                        .pins
                        .put(&person_key(&self.commune, &id_number), &record)
                    {
                        tracing::error!("PIN record not saved: {e}");
                    }
                }
                SignInEffect::SignedIn => {
                    if self.session.is_none()
                        && let Some(p) = self.sign_in.person()
                    {
                        tracing::info!("a helper signed in");
                        self.session = Some(AssistedSession::new(
                            self.commune.clone(),
                            Actor::on_device(
                                Role::Helper,
                                p.actor_id.clone(),
                                self.device_id.clone(),
                            ),
                        ));
                    }
                }
                SignInEffect::SignedOut => {
                    if let Some(mut s) = self.session.take() {
                        let effects = s.end(at);
                        step = self.assist_effects(effects, store);
                    }
                    self.person_key = None;
                }
            }
        }
        step
    }

    fn roster_entry(&self, store: &Store, id_number: &str) -> Option<RosterEntry> {
        let public = Partition::public(&self.commune).ok()?;
        let roster: Roster = store.get(&public, ROSTER_RECORD).ok()??;
        roster
            .find(&self.commune, id_number, StaffRole::Helper)
            .map(|p| RosterEntry {
                display_name: p.display_name.clone(),
                actor_id: p.actor_id(&self.commune),
            })
    }
}
