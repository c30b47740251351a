//! The kiosk's state machine: screens, the resident's session, the form, papers, consent,
//! the idle timer. Pure: no UI, no files, no clock — the shell passes the time in and performs
//! what the machine asks for (store a dossier, look up a status, speak a text).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use xaso_i18n::Lang;
use xaso_services::{Catalog, FieldKind, Procedure, Submitter};

use crate::card::{CardEvent, CardIdentity, CardProblem};
use crate::form::{self, FieldError};
use crate::qrscan::QrProblem;
use crate::telex::TelexEntry;

/// Every screen of the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Identify,
    Services,
    LifeEvent,
    Form,
    Papers,
    Review,
    Receipt,
    Rating,
    Thanks,
    Status,
    Skills,
    Error,
}

impl Screen {
    pub fn as_str(self) -> &'static str {
        match self {
            Screen::Home => "home",
            Screen::Identify => "identify",
            Screen::Services => "services",
            Screen::LifeEvent => "life-event",
            Screen::Form => "form",
            Screen::Papers => "papers",
            Screen::Review => "review",
            Screen::Receipt => "receipt",
            Screen::Rating => "rating",
            Screen::Thanks => "thanks",
            Screen::Status => "status",
            Screen::Skills => "skills",
            Screen::Error => "error",
        }
    }
}

/// The identify screen's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    Waiting,
    Reading,
    Verified,
    NotVerified,
    Failed(CardProblem),
}

impl CardState {
    pub fn as_str(self) -> &'static str {
        match self {
            CardState::Waiting => "waiting",
            CardState::Reading => "reading",
            CardState::Verified => "verified",
            CardState::NotVerified => "not-verified",
            CardState::Failed(_) => "error",
        }
    }
}

/// Scanning the QR code on the card (identify screen), so the chip can be opened without a
/// configured key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrState {
    /// Waiting for the scanner's line or a picture.
    Scanning,
    /// The access keys are known: the next card tap uses them.
    Ready,
    Failed(QrProblem),
}

impl QrState {
    pub fn as_str(self) -> &'static str {
        match self {
            QrState::Scanning => "scanning",
            QrState::Ready => "ready",
            QrState::Failed(_) => "error",
        }
    }
}

/// Where a form value came from; shown beside the value so the resident knows what to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSource {
    Card,
    /// Carried from an earlier procedure of the same life event.
    Earlier,
    Typed,
}

/// The form of one procedure being filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormState {
    pub procedure: String,
    pub values: BTreeMap<String, String>,
    pub sources: BTreeMap<String, ValueSource>,
    pub errors: BTreeMap<String, FieldError>,
    /// The text field the keyboard types into.
    pub focus: Option<String>,
    entry: TelexEntry,
}

/// One photographed or imported page of a paper, already normalised (orientation, size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperImage {
    /// JPEG bytes as stored in the dossier.
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Small RGBA preview for the screen.
    pub preview_rgba: Vec<u8>,
    pub preview_width: u32,
    pub preview_height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaperSlot {
    pub paper: String,
    pub images: Vec<PaperImage>,
    /// Set when `next` found too few images.
    pub missing: bool,
}

/// What the resident receives once the dossier is durably stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub tracking_code: String,
    pub procedure: String,
    /// `YYYY-MM-DD`.
    pub expected_date: String,
    pub submitted_at: String,
}

/// A dossier ready to be stored: everything the resident entered and agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub procedure: String,
    pub values: BTreeMap<String, String>,
    /// Fields whose values came from the chip card.
    pub from_card: BTreeSet<String>,
    pub card_verified: bool,
    pub requester_id_number: Option<String>,
    pub papers: Vec<PaperSlot>,
    pub consent: bool,
    pub lang: Lang,
}

/// The four levels of the national satisfaction survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingLevel {
    VerySatisfied,
    Satisfied,
    Acceptable,
    NotSatisfied,
}

impl RatingLevel {
    pub const ALL: [RatingLevel; 4] = [
        RatingLevel::VerySatisfied,
        RatingLevel::Satisfied,
        RatingLevel::Acceptable,
        RatingLevel::NotSatisfied,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RatingLevel::VerySatisfied => "very_satisfied",
            RatingLevel::Satisfied => "satisfied",
            RatingLevel::Acceptable => "acceptable",
            RatingLevel::NotSatisfied => "not_satisfied",
        }
    }
    pub fn parse(s: &str) -> Option<RatingLevel> {
        RatingLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A rating to store, tied to the dossier just submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    pub tracking_code: String,
    pub procedure: String,
    pub level: RatingLevel,
    pub reason: String,
}

/// One step of a dossier's history, for the status screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub at: String,
    pub what: String,
}

/// The answer to a status lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    pub tracking_code: String,
    pub procedure: String,
    pub state: String,
    pub history: Vec<StatusEntry>,
    pub missing: Vec<String>,
    pub ready_on: String,
}

/// Kinds of error screen; each has its own translated text and "what to do next".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The dossier could not be written to the local store; nothing is lost from the session.
    StoreFailed,
    /// No dossier with this tracking code.
    UnknownTrackingCode,
    /// The typed tracking code is not well formed (check digit).
    InvalidTrackingCode,
    /// The camera could not take a picture.
    CameraFailed,
    /// The image file could not be read.
    ImageUnreadable,
    /// The chip card reader failed.
    Card(CardProblem),
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::StoreFailed => "store-failed",
            ErrorKind::UnknownTrackingCode => "unknown-tracking-code",
            ErrorKind::InvalidTrackingCode => "invalid-tracking-code",
            ErrorKind::CameraFailed => "camera-failed",
            ErrorKind::ImageUnreadable => "image-unreadable",
            ErrorKind::Card(p) => p.as_str(),
        }
    }
}

/// What the shell must do after an input, besides redrawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Store this dossier durably, then call [`Kiosk::submitted`] (or [`Kiosk::show_error`]).
    StoreDossier(Box<Submission>),
    StoreRating(RatingRecord),
    /// Save the draft of the current form for this card (power-loss resume).
    SaveDraft {
        id_number: String,
        procedure: String,
        values: BTreeMap<String, String>,
    },
    /// Forget the drafts of this card (the dossier was submitted).
    DeleteDraft {
        id_number: String,
    },
    /// Look up a dossier by tracking code, then call [`Kiosk::show_status`].
    LookupCode(String),
    /// Look up the dossiers of a card holder, then call [`Kiosk::show_status`].
    LookupCard(String),
    /// After a card was verified: offer the saved draft, if any, via [`Kiosk::offer_draft`].
    LoadDraft {
        id_number: String,
    },
    /// Read the text aloud.
    Speak(String),
    /// The session was wiped: drop anything the shell holds about the resident.
    Wiped,
}

/// Idle policy: after `timeout` without a touch the session is wiped; the last `warning` of
/// it shows a countdown with "I'm still here".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdlePolicy {
    pub timeout: Duration,
    pub warning: Duration,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        IdlePolicy {
            timeout: Duration::from_secs(120),
            warning: Duration::from_secs(30),
        }
    }
}

/// Everything about the resident at the kiosk. Replaced wholesale by a fresh value on wipe.
#[derive(Debug, Clone, Default)]
struct Session {
    card: Option<CardIdentity>,
    card_verified: bool,
    card_state: Option<CardState>,
    qr: Option<QrState>,
    life_event: Option<String>,
    form: Option<FormState>,
    papers: Vec<PaperSlot>,
    consent: bool,
    consent_missing: bool,
    receipt: Option<Receipt>,
    rating: Option<RatingLevel>,
    rating_reason: TelexEntry,
    rating_missing: bool,
    search: TelexEntry,
    status_code: TelexEntry,
    status: Option<StatusView>,
    draft_offer: Option<(String, BTreeMap<String, String>)>,
    /// Screen to go to once the card is read (set when a procedure needs the card first).
    after_identify: Option<Screen>,
    /// Earlier procedures' values in this life event, for carried values.
    entered: BTreeMap<String, BTreeMap<String, String>>,
}

/// The kiosk.
pub struct Kiosk {
    catalog: Catalog,
    lang: Lang,
    screen: Screen,
    error: Option<ErrorKind>,
    session: Session,
    idle: IdlePolicy,
    last_touch: Instant,
    /// `YYYY-MM-DD` of today, for date rules; set by the shell.
    today: jiff::civil::Date,
}

impl Kiosk {
    pub fn new(catalog: Catalog, now: Instant, today: jiff::civil::Date) -> Kiosk {
        Kiosk {
            catalog,
            lang: Lang::Vi,
            screen: Screen::Home,
            error: None,
            session: Session::default(),
            idle: IdlePolicy::default(),
            last_touch: now,
            today,
        }
    }

    pub fn with_idle_policy(mut self, idle: IdlePolicy) -> Kiosk {
        self.idle = idle;
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
    pub fn lang(&self) -> Lang {
        self.lang
    }
    pub fn screen(&self) -> Screen {
        self.screen
    }
    pub fn error(&self) -> Option<ErrorKind> {
        self.error
    }
    pub fn set_today(&mut self, today: jiff::civil::Date) {
        self.today = today;
    }
    pub fn today(&self) -> jiff::civil::Date {
        self.today
    }

    // ----- reading the state (for the shell) -----

    pub fn card_state(&self) -> CardState {
        self.session.card_state.unwrap_or(CardState::Waiting)
    }
    pub fn qr_state(&self) -> Option<QrState> {
        self.session.qr
    }
    pub fn card(&self) -> Option<&CardIdentity> {
        self.session.card.as_ref()
    }
    pub fn card_verified(&self) -> bool {
        self.session.card_verified
    }
    pub fn form(&self) -> Option<&FormState> {
        self.session.form.as_ref()
    }
    pub fn procedure(&self) -> Option<&Procedure> {
        let code = &self.session.form.as_ref()?.procedure;
        self.catalog.procedure(code)
    }
    pub fn papers(&self) -> &[PaperSlot] {
        &self.session.papers
    }
    pub fn consent(&self) -> bool {
        self.session.consent
    }
    pub fn consent_missing(&self) -> bool {
        self.session.consent_missing
    }
    pub fn receipt(&self) -> Option<&Receipt> {
        self.session.receipt.as_ref()
    }
    pub fn rating(&self) -> Option<RatingLevel> {
        self.session.rating
    }
    pub fn rating_missing(&self) -> bool {
        self.session.rating_missing
    }
    pub fn rating_reason(&self) -> String {
        self.session.rating_reason.text()
    }
    pub fn search_text(&self) -> String {
        self.session.search.text()
    }
    pub fn status_code_text(&self) -> String {
        self.session.status_code.text()
    }
    pub fn status(&self) -> Option<&StatusView> {
        self.session.status.as_ref()
    }
    pub fn life_event(&self) -> Option<&xaso_services::LifeEvent> {
        self.catalog.life_event(self.session.life_event.as_deref()?)
    }
    pub fn has_draft_offer(&self) -> bool {
        self.session.draft_offer.is_some()
    }

    /// Procedures matching the search box (all of them when it is empty).
    pub fn search_results(&self) -> Vec<&Procedure> {
        self.catalog.search(&self.session.search.text())
    }

    /// Seconds left before the session is wiped, when the warning is showing.
    pub fn idle_countdown(&self, now: Instant) -> Option<u64> {
        if !self.idle_applies() {
            return None;
        }
        let idle_for = now.saturating_duration_since(self.last_touch);
        let left = self.idle.timeout.saturating_sub(idle_for);
        (left <= self.idle.warning).then(|| left.as_secs_f64().ceil() as u64)
    }

    fn idle_applies(&self) -> bool {
        self.screen != Screen::Home || self.session.card.is_some()
    }

    // ----- inputs -----

    /// Any touch: resets the idle timer. Every input below calls it.
    pub fn touch(&mut self, now: Instant) {
        self.last_touch = now;
    }

    /// The passage of time. Wipes the session when the resident has gone.
    pub fn tick(&mut self, now: Instant) -> Vec<Effect> {
        if self.idle_applies()
            && now.saturating_duration_since(self.last_touch) >= self.idle.timeout
        {
            self.wipe(now);
            return vec![Effect::Wiped];
        }
        Vec::new()
    }

    /// "I'm still here".
    pub fn still_here(&mut self, now: Instant) {
        self.touch(now);
    }

    pub fn set_lang(&mut self, lang: Lang, now: Instant) {
        self.touch(now);
        self.lang = lang;
    }

    pub fn go_home(&mut self, now: Instant) -> Vec<Effect> {
        self.touch(now);
        // Leaving for home ends the resident's session: nothing of it stays on screen.
        self.wipe(now);
        vec![Effect::Wiped]
    }

    fn wipe(&mut self, now: Instant) {
        self.session = Session::default();
        self.lang = Lang::Vi;
        self.screen = Screen::Home;
        self.error = None;
        self.last_touch = now;
    }

    pub fn open(&mut self, screen: Screen, now: Instant) {
        self.touch(now);
        match screen {
            Screen::Identify if self.session.card.is_none() => {
                self.session.card_state = Some(CardState::Waiting);
            }
            Screen::Status => {
                self.session.status = None;
            }
            _ => {}
        }
        self.screen = screen;
    }

    /// The back button: one step back in the journey.
    pub fn back(&mut self, now: Instant) -> Vec<Effect> {
        self.touch(now);
        self.screen = match self.screen {
            Screen::Form => {
                if self.session.life_event.is_some() {
                    Screen::LifeEvent
                } else {
                    Screen::Services
                }
            }
            Screen::LifeEvent => Screen::Services,
            Screen::Papers => Screen::Form,
            Screen::Review => {
                if self.session.papers.is_empty() {
                    Screen::Form
                } else {
                    Screen::Papers
                }
            }
            Screen::Error => match self.error.take() {
                Some(ErrorKind::StoreFailed) => Screen::Review,
                Some(ErrorKind::CameraFailed | ErrorKind::ImageUnreadable) => Screen::Papers,
                Some(ErrorKind::UnknownTrackingCode | ErrorKind::InvalidTrackingCode) => {
                    Screen::Status
                }
                Some(ErrorKind::Card(_)) => Screen::Identify,
                None => Screen::Home,
            },
            Screen::Receipt | Screen::Rating | Screen::Thanks | Screen::Home => {
                return self.go_home(now);
            }
            _ => Screen::Home,
        };
        Vec::new()
    }

    pub fn show_error(&mut self, kind: ErrorKind, now: Instant) {
        self.touch(now);
        self.error = Some(kind);
        self.screen = Screen::Error;
    }

    // ----- card -----

    pub fn card_event(&mut self, event: CardEvent, now: Instant) -> Vec<Effect> {
        self.touch(now);
        match event {
            CardEvent::Present => {
                self.session.card_state = Some(CardState::Reading);
                if self.screen == Screen::Home {
                    self.screen = Screen::Identify;
                }
                Vec::new()
            }
            CardEvent::Read { identity, verified } => {
                if let (Some(old), Some(new)) = (
                    self.session.card.as_ref().and_then(CardIdentity::id_number),
                    identity.id_number(),
                ) && old != new
                {
                    // A different person's card: never mix two sessions.
                    self.wipe(now);
                }
                let id_number = identity.id_number().map(str::to_owned);
                self.session.card_state = Some(if verified {
                    CardState::Verified
                } else {
                    CardState::NotVerified
                });
                self.session.card_verified = verified;
                self.session.card = Some(identity);
                if self.screen == Screen::Home {
                    self.screen = Screen::Identify;
                }
                let mut effects = Vec::new();
                if self.screen == Screen::Status
                    && let Some(id) = &id_number
                {
                    effects.push(Effect::LookupCard(id.clone()));
                }
                // A draft is only ever resumed for the card it was made with, and only
                // when the card's data is authentic.
                if verified && let Some(id) = id_number {
                    effects.push(Effect::LoadDraft { id_number: id });
                }
                // Card data pre-fills an open form.
                if let Some(form) = self.session.form.as_mut()
                    && let (Some(p), Some(card)) = (
                        self.catalog.procedure(&form.procedure),
                        self.session.card.as_ref(),
                    )
                    && verified
                {
                    prefill_from_card(form, p, card);
                }
                effects
            }
            CardEvent::Failed(problem) => {
                self.session.card_state = Some(CardState::Failed(problem));
                if self.screen == Screen::Home {
                    self.screen = Screen::Identify;
                }
                Vec::new()
            }
            CardEvent::Removed => {
                if self.session.card.is_some() {
                    // The resident took their card: the session goes with it.
                    self.wipe(now);
                    vec![Effect::Wiped]
                } else {
                    if self.session.card_state == Some(CardState::Reading) {
                        self.session.card_state =
                            Some(CardState::Failed(CardProblem::RemovedTooEarly));
                    }
                    Vec::new()
                }
            }
        }
    }

    /// "Scan the QR code on the card": the scanner input (or a picture) is awaited.
    pub fn start_qr_scan(&mut self, now: Instant) {
        self.touch(now);
        self.session.qr = Some(QrState::Scanning);
    }

    /// The shell derived the access keys from a QR code (or could not, and says why).
    pub fn qr_scanned(&mut self, result: Result<(), QrProblem>, now: Instant) {
        self.touch(now);
        self.session.qr = Some(match result {
            Ok(()) => {
                // A card read that failed for want of a key can now be tried again.
                if matches!(self.session.card_state, Some(CardState::Failed(_))) {
                    self.session.card_state = Some(CardState::Waiting);
                }
                QrState::Ready
            }
            Err(p) => QrState::Failed(p),
        });
    }

    pub fn cancel_qr_scan(&mut self, now: Instant) {
        self.touch(now);
        if self.session.qr != Some(QrState::Ready) {
            self.session.qr = None;
        }
    }

    /// The store found a draft for the card just read.
    pub fn offer_draft(&mut self, procedure: String, values: BTreeMap<String, String>) {
        if self.catalog.procedure(&procedure).is_some() {
            self.session.draft_offer = Some((procedure, values));
        }
    }

    /// "Continue where I stopped": reopen the draft's form.
    pub fn resume_draft(&mut self, now: Instant) -> Vec<Effect> {
        self.touch(now);
        let Some((procedure, values)) = self.session.draft_offer.take() else {
            return Vec::new();
        };
        self.choose_procedure(&procedure, now);
        if let Some(form) = self.session.form.as_mut() {
            for (k, v) in values {
                form.sources.entry(k.clone()).or_insert(ValueSource::Typed);
                form.values.insert(k, v);
            }
        }
        Vec::new()
    }

    /// "Continue" on the identify screen.
    pub fn continue_after_identify(&mut self, now: Instant) {
        self.touch(now);
        self.screen = self
            .session
            .after_identify
            .take()
            .unwrap_or(Screen::Services);
    }

    // ----- finding a service -----

    pub fn search_key(&mut self, ch: char, now: Instant) {
        self.touch(now);
        self.session.search.key(ch);
    }
    pub fn search_backspace(&mut self, now: Instant) {
        self.touch(now);
        self.session.search.backspace();
    }
    pub fn search_clear(&mut self, now: Instant) {
        self.touch(now);
        self.session.search.clear();
    }

    pub fn choose_life_event(&mut self, id: &str, now: Instant) {
        self.touch(now);
        if self.catalog.life_event(id).is_some() {
            self.session.life_event = Some(id.to_owned());
            self.screen = Screen::LifeEvent;
        }
    }

    /// Opens the form of a procedure, pre-filled from the card and from earlier steps.
    pub fn choose_procedure(&mut self, code: &str, now: Instant) {
        self.touch(now);
        let Some(p) = self.catalog.procedure(code) else {
            return;
        };
        let mut form = FormState {
            procedure: code.to_owned(),
            values: BTreeMap::new(),
            sources: BTreeMap::new(),
            errors: BTreeMap::new(),
            focus: None,
            entry: TelexEntry::default(),
        };
        if let Some(event) = self.life_event() {
            for (field, value) in event.carried_values(code, &self.session.entered) {
                form.values.insert(field.clone(), value);
                form.sources.insert(field, ValueSource::Earlier);
            }
        }
        if let Some(card) = self.session.card.as_ref()
            && self.session.card_verified
        {
            prefill_from_card(&mut form, p, card);
        }
        let submitter = submitter_of(&form);
        self.session.papers = p
            .papers_for(submitter)
            .map(|d| PaperSlot {
                paper: d.id.clone(),
                images: Vec::new(),
                missing: false,
            })
            .collect();
        self.session.form = Some(form);
        self.session.consent = false;
        self.session.consent_missing = false;
        self.screen = Screen::Form;
    }

    // ----- the form -----

    /// Tapping a field: text fields take the keyboard.
    pub fn focus_field(&mut self, id: &str, now: Instant) {
        self.touch(now);
        let Some(form) = self.session.form.as_mut() else {
            return;
        };
        form.entry = TelexEntry::with_text(form.values.get(id).map_or("", String::as_str));
        form.focus = Some(id.to_owned());
    }

    /// "Done" on the keyboard: the field keeps its value, the keyboard goes away.
    pub fn unfocus(&mut self) {
        if let Some(form) = self.session.form.as_mut() {
            form.focus = None;
        }
    }

    pub fn key(&mut self, ch: char, now: Instant) -> Vec<Effect> {
        if self.screen == Screen::Status {
            // Tracking codes are letters and digits, not Vietnamese words.
            return self.edit(now, |e| e.key_literal(ch));
        }
        self.edit(now, |e| e.key(ch))
    }
    pub fn backspace(&mut self, now: Instant) -> Vec<Effect> {
        self.edit(now, TelexEntry::backspace)
    }
    pub fn clear_field(&mut self, now: Instant) -> Vec<Effect> {
        self.edit(now, TelexEntry::clear)
    }

    fn edit(&mut self, now: Instant, f: impl FnOnce(&mut TelexEntry)) -> Vec<Effect> {
        self.touch(now);
        match self.screen {
            Screen::Services => {
                f(&mut self.session.search);
                return Vec::new();
            }
            Screen::Status => {
                f(&mut self.session.status_code);
                return Vec::new();
            }
            Screen::Rating => {
                f(&mut self.session.rating_reason);
                return Vec::new();
            }
            _ => {}
        }
        let Some(form) = self.session.form.as_mut() else {
            return Vec::new();
        };
        let Some(id) = form.focus.clone() else {
            return Vec::new();
        };
        f(&mut form.entry);
        let text = form.entry.text();
        form.values.insert(id.clone(), text);
        form.sources.insert(id.clone(), ValueSource::Typed);
        form.errors.remove(&id);
        self.draft_effect()
    }

    /// Choice, sex and yes/no fields: a tap sets the value.
    pub fn choose_value(&mut self, field: &str, value: &str, now: Instant) -> Vec<Effect> {
        self.touch(now);
        let Some(form) = self.session.form.as_mut() else {
            return Vec::new();
        };
        form.values.insert(field.to_owned(), value.to_owned());
        form.sources.insert(field.to_owned(), ValueSource::Typed);
        form.errors.remove(field);
        form.focus = None;
        self.draft_effect()
    }

    fn draft_effect(&self) -> Vec<Effect> {
        match (
            self.session.form.as_ref(),
            self.session.card.as_ref().and_then(CardIdentity::id_number),
        ) {
            (Some(form), Some(id)) if self.session.card_verified => vec![Effect::SaveDraft {
                id_number: id.to_owned(),
                procedure: form.procedure.clone(),
                values: form.values.clone(),
            }],
            _ => Vec::new(),
        }
    }

    /// "Next" on the form: checks every field with the catalog's rules.
    pub fn form_next(&mut self, now: Instant) {
        self.touch(now);
        let today = self.today;
        let Some(form) = self.session.form.as_mut() else {
            return;
        };
        let Some(p) = self.catalog.procedure(&form.procedure) else {
            return;
        };
        form.errors = form::check(p, &form.values, today);
        form.focus = None;
        if !form.errors.is_empty() {
            return;
        }
        // The papers needed depend on who submits.
        let submitter = submitter_of(form);
        let wanted: Vec<String> = p.papers_for(submitter).map(|d| d.id.clone()).collect();
        let mut old = std::mem::take(&mut self.session.papers);
        self.session.papers = wanted
            .into_iter()
            .map(|id| {
                old.iter()
                    .position(|s| s.paper == id)
                    .map(|i| old.swap_remove(i))
                    .unwrap_or(PaperSlot {
                        paper: id,
                        images: Vec::new(),
                        missing: false,
                    })
            })
            .collect();
        self.screen = if self.session.papers.is_empty() {
            Screen::Review
        } else {
            Screen::Papers
        };
    }

    // ----- papers -----

    pub fn add_paper_image(&mut self, paper: &str, image: PaperImage, now: Instant) {
        self.touch(now);
        let max = self
            .procedure()
            .and_then(|p| p.paper(paper))
            .map_or(0, |d| d.max as usize);
        if let Some(slot) = self.session.papers.iter_mut().find(|s| s.paper == paper)
            && slot.images.len() < max
        {
            slot.images.push(image);
            slot.missing = false;
        }
    }

    /// Retake: replace one image.
    pub fn replace_paper_image(
        &mut self,
        paper: &str,
        index: usize,
        image: PaperImage,
        now: Instant,
    ) {
        self.touch(now);
        if let Some(slot) = self.session.papers.iter_mut().find(|s| s.paper == paper)
            && let Some(old) = slot.images.get_mut(index)
        {
            *old = image;
        }
    }

    pub fn remove_paper_image(&mut self, paper: &str, index: usize, now: Instant) {
        self.touch(now);
        if let Some(slot) = self.session.papers.iter_mut().find(|s| s.paper == paper)
            && index < slot.images.len()
        {
            slot.images.remove(index);
        }
    }

    /// Reorder: move an image one place earlier.
    pub fn move_paper_image_up(&mut self, paper: &str, index: usize, now: Instant) {
        self.touch(now);
        if let Some(slot) = self.session.papers.iter_mut().find(|s| s.paper == paper)
            && index > 0
            && index < slot.images.len()
        {
            slot.images.swap(index - 1, index);
        }
    }

    pub fn papers_next(&mut self, now: Instant) {
        self.touch(now);
        let mins: BTreeMap<String, usize> = self
            .procedure()
            .map(|p| {
                p.papers
                    .iter()
                    .map(|d| (d.id.clone(), d.min as usize))
                    .collect()
            })
            .unwrap_or_default();
        let mut ok = true;
        for slot in &mut self.session.papers {
            slot.missing = slot.images.len() < mins.get(&slot.paper).copied().unwrap_or(0);
            ok &= !slot.missing;
        }
        if ok {
            self.screen = Screen::Review;
        }
    }

    // ----- review, consent, submit -----

    pub fn set_consent(&mut self, consent: bool, now: Instant) {
        self.touch(now);
        self.session.consent = consent;
        if consent {
            self.session.consent_missing = false;
        }
    }

    /// "Submit": asks the shell to store the dossier. The receipt appears only once the shell
    /// reports it durable ([`Kiosk::submitted`]).
    pub fn submit(&mut self, now: Instant) -> Vec<Effect> {
        self.touch(now);
        if self.screen != Screen::Review {
            return Vec::new();
        }
        if !self.session.consent {
            self.session.consent_missing = true;
            return Vec::new();
        }
        let Some(form) = self.session.form.as_ref() else {
            return Vec::new();
        };
        let from_card = form
            .sources
            .iter()
            .filter(|(_, s)| **s == ValueSource::Card)
            .map(|(k, _)| k.clone())
            .collect();
        let submission = Submission {
            procedure: form.procedure.clone(),
            values: form::normalised(self.catalog.procedure(&form.procedure), &form.values),
            from_card,
            card_verified: self.session.card_verified,
            requester_id_number: self
                .session
                .card
                .as_ref()
                .and_then(CardIdentity::id_number)
                .map(str::to_owned),
            papers: self.session.papers.clone(),
            consent: true,
            lang: self.lang,
        };
        vec![Effect::StoreDossier(Box::new(submission))]
    }

    /// The dossier is durably stored.
    pub fn submitted(&mut self, receipt: Receipt, now: Instant) -> Vec<Effect> {
        self.touch(now);
        if let Some(form) = self.session.form.as_ref() {
            self.session
                .entered
                .insert(form.procedure.clone(), form.values.clone());
        }
        self.session.receipt = Some(receipt);
        self.session.rating = None;
        self.session.rating_reason.clear();
        self.screen = Screen::Receipt;
        match self.session.card.as_ref().and_then(CardIdentity::id_number) {
            Some(id) => vec![Effect::DeleteDraft {
                id_number: id.to_owned(),
            }],
            None => Vec::new(),
        }
    }

    /// The next procedure of the life event the resident is following, after the one just
    /// submitted (optional steps are skipped).
    pub fn next_step(&self) -> Option<&Procedure> {
        let event = self.life_event()?;
        let done = &self.session.receipt.as_ref()?.procedure;
        let i = event
            .steps
            .iter()
            .position(|s| s.procedure.as_str() == done)?;
        let step = event.steps[i + 1..].iter().find(|s| !s.optional)?;
        self.catalog.procedure(step.procedure.as_str())
    }

    /// "Continue with the next procedure": its form opens with what was already entered.
    pub fn continue_life_event(&mut self, now: Instant) {
        self.touch(now);
        if let Some(code) = self.next_step().map(|p| p.code.0.clone()) {
            self.choose_procedure(&code, now);
        }
    }

    // ----- rating -----

    pub fn choose_rating(&mut self, level: RatingLevel, now: Instant) {
        self.touch(now);
        self.session.rating = Some(level);
        self.session.rating_missing = false;
    }

    pub fn send_rating(&mut self, now: Instant) -> Vec<Effect> {
        self.touch(now);
        let (Some(level), Some(receipt)) = (self.session.rating, self.session.receipt.as_ref())
        else {
            self.session.rating_missing = true;
            return Vec::new();
        };
        let record = RatingRecord {
            tracking_code: receipt.tracking_code.clone(),
            procedure: receipt.procedure.clone(),
            level,
            reason: self.session.rating_reason.text().trim().to_owned(),
        };
        self.screen = Screen::Thanks;
        vec![Effect::StoreRating(record)]
    }

    // ----- status -----

    pub fn lookup_status(&mut self, now: Instant) -> Vec<Effect> {
        self.touch(now);
        let code = self.session.status_code.text().trim().to_uppercase();
        if code.is_empty() {
            return Vec::new();
        }
        vec![Effect::LookupCode(code)]
    }

    pub fn show_status(&mut self, status: Option<StatusView>, now: Instant) {
        self.touch(now);
        match status {
            Some(s) => {
                self.session.status = Some(s);
                self.screen = Screen::Status;
            }
            None => self.show_error(ErrorKind::UnknownTrackingCode, now),
        }
    }

    // ----- read aloud -----

    /// The read-aloud button: the shell passes the screen's main text in the current language.
    pub fn read_aloud(&mut self, text: String, now: Instant) -> Vec<Effect> {
        self.touch(now);
        vec![Effect::Speak(text)]
    }
}

fn prefill_from_card(form: &mut FormState, p: &Procedure, card: &CardIdentity) {
    for pf in &p.prefill {
        // What the resident typed, and what an earlier step of the life event gave (the
        // child's name for the child's residence), are more specific than the card.
        if let Some(v) = card.get(pf.card)
            && !matches!(
                form.sources.get(&pf.field),
                Some(ValueSource::Typed | ValueSource::Earlier)
            )
        {
            form.values.insert(pf.field.clone(), v.to_owned());
            form.sources.insert(pf.field.clone(), ValueSource::Card);
        }
    }
}

/// Who hands the dossier in, as far as the form tells.
fn submitter_of(form: &FormState) -> Submitter {
    match form
        .values
        .get("requester_relationship")
        .map(String::as_str)
    {
        Some("authorised") => Submitter::Authorised,
        Some("mother" | "father") | None => Submitter::Oneself,
        Some(_) => Submitter::Relative,
    }
}

/// How a field is entered on screen.
pub fn input_style(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Choice | FieldKind::Sex | FieldKind::Boolean => "choice",
        FieldKind::IdNumber | FieldKind::Phone | FieldKind::Number => "digits",
        FieldKind::Date => "date",
        _ => "text",
    }
}
