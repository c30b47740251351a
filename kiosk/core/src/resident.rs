//! The resident's journey: home, identify with the chip card, find a service (search or
//! life event), the form generated from the catalog, papers, review and consent, receipt,
//! rating, status lookup, the idle wipe.
//!
//! [`ResidentJourney::handle`] takes one [`Input`] and the [`Moment`] it happened, and
//! returns the [`Effect`]s the app must perform — or a [`Refusal`] saying why the input is
//! not possible now, in which case nothing changed (not even the idle timer).
//!
//! An incomplete step is not a refusal: "next" on a form with mistakes marks the fields in
//! error, "next" on papers marks the missing ones, "submit" without consent and "send"
//! without a rating show what is missing; the screen stays.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use xaso_i18n::Lang;
use xaso_services::{
    Catalog, Channel, LifeEvent, Procedure, ProcedureCode, Satisfaction, Submitter,
};

use crate::card::{CardEvent, CardIdentity, CardProblem, CardSession, CardState};
use crate::form::{self, FormState, ValueSource};
use crate::idle::{IdlePolicy, IdleTimer};
use crate::papers::{PaperImage, PaperSlot};
use crate::qr::{QrProblem, QrState};
use crate::screen::{ErrorKind, Screen};
use crate::status::{Receipt, StatusView};
use crate::telex::TelexEntry;

/// The version of the consent text the review screen asks the resident to agree to
/// (`kiosk.review.consent`). A new wording gets a new version.
pub const CONSENT_TEXT_VERSION: &str = "consent.v1";

/// When an input happened: the monotonic instant (idle timer) and the day in Viet Nam
/// (date rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub now: Instant,
    pub today: jiff::civil::Date,
}

/// Everything the resident (or a device, or the app reporting an effect's result) can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The passage of time: wipes the session when the resident has gone.
    Tick,
    /// "I'm still here" on the idle warning.
    StillHere,
    SetLang(Lang),
    /// "Home": ends the session.
    GoHome,
    /// One of the entry screens (home, identify, services, status, skills), or the rating
    /// after a receipt.
    Open(Screen),
    /// The back button: one step back in the journey.
    Back,
    Card(CardEvent),
    /// "Scan the QR code on the card".
    StartQrScan,
    /// The app derived the access keys from a QR code, or says why it could not.
    QrScanned(Result<(), QrProblem>),
    CancelQrScan,
    /// The store found a draft for the card just read (answer to [`Effect::LoadDraft`]).
    DraftFound {
        procedure: String,
        values: BTreeMap<String, String>,
    },
    /// "Continue where I stopped".
    ResumeDraft,
    /// "Continue" on the identify screen.
    ContinueAfterIdentify,
    ChooseLifeEvent(String),
    /// Opens the form of a procedure, pre-filled from the card and from earlier steps.
    ChooseProcedure(String),
    /// Tapping a text field: it takes the keyboard.
    FocusField(String),
    /// "Done" on the keyboard.
    KeyboardDone,
    /// One key of the on-screen keyboard (or of a scanner typing).
    Key(char),
    Backspace,
    ClearText,
    /// Choice, sex and yes/no fields: a tap sets the value.
    ChooseValue {
        field: String,
        value: String,
    },
    /// "Next" on the form: checks every field with the catalog's rules.
    FormNext,
    AddPaperImage {
        paper: String,
        image: PaperImage,
    },
    /// Retake: replaces one page.
    ReplacePaperImage {
        paper: String,
        index: usize,
        image: PaperImage,
    },
    RemovePaperImage {
        paper: String,
        index: usize,
    },
    /// Moves a page one place earlier.
    MovePaperImageUp {
        paper: String,
        index: usize,
    },
    PapersNext,
    SetConsent(bool),
    /// The optional choice on the consent step: let the commune fetch the results issued to
    /// the resident earlier from the national portal (unticked unless ticked).
    SetFetchEarlierResults(bool),
    /// "Submit": asks the app to store the dossier ([`Effect::StoreDossier`]).
    Submit,
    /// The dossier is durably stored (answer to [`Effect::StoreDossier`]).
    Stored(Receipt),
    /// Something the app did failed; the error screen says what to do.
    Failed(ErrorKind),
    /// "Continue with the next procedure" of the life event.
    ContinueLifeEvent,
    ChooseRating(Satisfaction),
    SendRating,
    LookupStatus,
    /// The answer to [`Effect::LookupCode`] or [`Effect::LookupCard`].
    StatusFound(Option<StatusView>),
    /// The read-aloud button.
    ReadAloud,
    /// "Add the papers asked for" on the status screen of the card holder's dossier that
    /// waits for a supplement: the papers screen opens for it.
    StartSupplement,
    /// The supplement is stored (here, or at the hub for a dossier of another kiosk): the
    /// dossier as it is now (answer to [`Effect::StoreSupplement`]).
    SupplementStored(StatusView),
}

/// Why an input was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Only entry screens can be opened directly (and the rating once there is a receipt).
    CannotOpen(Screen),
    UnknownLifeEvent(String),
    UnknownProcedure(String),
    /// No form is open.
    NoForm,
    /// The form has no such field.
    UnknownField(String),
    /// Typing with nowhere to type into.
    NothingToType,
    /// The open procedure needs no such paper.
    UnknownPaper(String),
    /// The paper already has its maximum of pages.
    PaperFull {
        paper: String,
        max: u32,
    },
    /// No page at this position.
    NoSuchImage {
        paper: String,
        index: usize,
    },
    /// The input belongs to another screen.
    WrongScreen {
        expected: Screen,
        actual: Screen,
    },
    NoDraft,
    NoReceipt,
    NoNextStep,
    EmptyTrackingCode,
    /// Only the card holder's own dossier that waits for a supplement can be supplemented.
    NoSupplementAsked,
    /// A supplement needs at least one page.
    NoPages,
}

/// Read aloud: what the app should speak, in the current language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speech {
    /// The welcome and what the kiosk offers.
    Welcome,
    /// A procedure's name and description.
    Procedure(String),
    /// A life event's name and description.
    LifeEvent(String),
    /// The tracking code just given.
    TrackingCode(String),
}

/// A dossier ready to be stored: everything the resident entered and agreed to, with the
/// pages. It maps one to one into [`xaso_services::Submission`].
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
    /// The resident let the commune fetch their earlier results from the national portal.
    pub fetch_earlier_results: bool,
    pub lang: Lang,
}

impl Submission {
    /// The submission as `services` knows it: the pages by reference.
    pub fn to_services(&self) -> xaso_services::Submission {
        xaso_services::Submission {
            procedure: ProcedureCode(self.procedure.clone()),
            values: self.values.clone(),
            from_card: self.from_card.clone(),
            card_verified: self.card_verified,
            requester_id_number: self.requester_id_number.clone(),
            attachments: self
                .papers
                .iter()
                .flat_map(|s| s.images.iter().map(|i| i.reference(&s.paper)))
                .collect(),
            consent: self.consent,
            fetch_earlier_results: self.fetch_earlier_results,
            channel: Channel::Kiosk,
        }
    }
}

/// A rating to store, tied to the dossier just submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    pub tracking_code: String,
    pub procedure: String,
    pub level: Satisfaction,
    pub reason: String,
}

/// What the app must do after an input, besides redrawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Store this dossier durably, then report [`Input::Stored`] (or [`Input::Failed`]).
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
    /// Look up a dossier by tracking code, then report [`Input::StatusFound`].
    LookupCode(String),
    /// Look up the dossiers of a card holder, then report [`Input::StatusFound`].
    LookupCard(String),
    /// Add these pages to the dossier `tracking_code` and take the supplement step, as the
    /// card holder `id_number`; then report [`Input::SupplementStored`] (or
    /// [`Input::Failed`]).
    StoreSupplement {
        tracking_code: String,
        id_number: String,
        papers: Vec<PaperSlot>,
    },
    /// After a card was verified: report its saved draft, if any, with [`Input::DraftFound`].
    LoadDraft {
        id_number: String,
    },
    Speak(Speech),
    /// The session was wiped: drop anything the app holds about the resident (the QR
    /// code's keys) and show Vietnamese.
    Wiped,
}

/// Everything about the resident at the kiosk. Replaced wholesale by a fresh value on wipe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Session {
    card: CardSession,
    life_event: Option<String>,
    form: Option<FormState>,
    papers: Vec<PaperSlot>,
    consent: bool,
    consent_missing: bool,
    fetch_earlier_results: bool,
    receipt: Option<Receipt>,
    rating: Option<Satisfaction>,
    rating_reason: TelexEntry,
    rating_missing: bool,
    search: TelexEntry,
    status_code: TelexEntry,
    status: Option<StatusView>,
    draft_offer: Option<(String, BTreeMap<String, String>)>,
    /// The dossier being supplemented: its tracking code and procedure.
    supplement: Option<(String, String)>,
    /// Earlier procedures' values in this life event, for carried values.
    entered: BTreeMap<String, BTreeMap<String, String>>,
}

/// The resident's journey.
pub struct ResidentJourney {
    catalog: Catalog,
    lang: Lang,
    screen: Screen,
    error: Option<ErrorKind>,
    session: Session,
    idle: IdleTimer,
    /// The day in Viet Nam of the last input, for date rules.
    today: jiff::civil::Date,
}

impl ResidentJourney {
    pub fn new(catalog: Catalog, at: Moment) -> ResidentJourney {
        ResidentJourney {
            catalog,
            lang: Lang::Vi,
            screen: Screen::Home,
            error: None,
            session: Session::default(),
            idle: IdleTimer::new(IdlePolicy::default(), at.now),
            today: at.today,
        }
    }

    pub fn with_idle_policy(mut self, policy: IdlePolicy) -> ResidentJourney {
        self.idle.policy = policy;
        self
    }

    // ----- reading the state (for the app) -----

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
    pub fn today(&self) -> jiff::civil::Date {
        self.today
    }
    pub fn card_state(&self) -> CardState {
        self.session.card.state
    }
    pub fn qr_state(&self) -> Option<QrState> {
        self.session.card.qr
    }
    pub fn card(&self) -> Option<&CardIdentity> {
        self.session.card.identity.as_ref()
    }
    pub fn card_verified(&self) -> bool {
        self.session.card.verified
    }
    pub fn form(&self) -> Option<&FormState> {
        self.session.form.as_ref()
    }
    pub fn procedure(&self) -> Option<&Procedure> {
        if let Some((_, procedure)) = &self.session.supplement {
            return self.catalog.procedure(procedure);
        }
        self.catalog
            .procedure(&self.session.form.as_ref()?.procedure)
    }

    /// The tracking code of the dossier whose supplement is being photographed.
    pub fn supplementing(&self) -> Option<&str> {
        self.session
            .supplement
            .as_ref()
            .map(|(code, _)| code.as_str())
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
    /// Whether the resident ticked "fetch my earlier results" on the consent step.
    pub fn fetch_earlier_results(&self) -> bool {
        self.session.fetch_earlier_results
    }
    pub fn receipt(&self) -> Option<&Receipt> {
        self.session.receipt.as_ref()
    }
    pub fn rating(&self) -> Option<Satisfaction> {
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
    pub fn life_event(&self) -> Option<&LifeEvent> {
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
        self.idle.countdown(now)
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

    fn idle_applies(&self) -> bool {
        self.screen != Screen::Home || self.session.card.identity.is_some()
    }

    // ----- the one entry point -----

    /// Applies one input. On `Err` nothing changed.
    pub fn handle(&mut self, input: Input, at: Moment) -> Result<Vec<Effect>, Refusal> {
        if input == Input::Tick {
            self.today = at.today;
            return Ok(self.tick(at.now));
        }
        self.check(&input)?;
        self.today = at.today;
        self.idle.touch(at.now);
        Ok(self.apply(input, at.now))
    }

    /// Whether `input` is possible now; changes nothing.
    fn check(&self, input: &Input) -> Result<(), Refusal> {
        let wrong = |expected: Screen| {
            if self.screen == expected {
                Ok(())
            } else {
                Err(Refusal::WrongScreen {
                    expected,
                    actual: self.screen,
                })
            }
        };
        match input {
            Input::Open(screen) => match screen {
                Screen::Home
                | Screen::Identify
                | Screen::Services
                | Screen::Status
                | Screen::Skills => Ok(()),
                Screen::Rating if self.session.receipt.is_some() => Ok(()),
                other => Err(Refusal::CannotOpen(*other)),
            },
            Input::ChooseLifeEvent(id) => match self.catalog.life_event(id) {
                Some(_) => Ok(()),
                None => Err(Refusal::UnknownLifeEvent(id.clone())),
            },
            Input::ChooseProcedure(code) => match self.catalog.procedure(code) {
                Some(_) => Ok(()),
                None => Err(Refusal::UnknownProcedure(code.clone())),
            },
            Input::FocusField(id) | Input::ChooseValue { field: id, .. } => {
                let p = self.procedure().ok_or(Refusal::NoForm)?;
                match p.field(id) {
                    Some(_) => Ok(()),
                    None => Err(Refusal::UnknownField(id.clone())),
                }
            }
            Input::KeyboardDone => Ok(()),
            Input::Key(_) | Input::Backspace | Input::ClearText => match self.screen {
                Screen::Services | Screen::Status | Screen::Rating => Ok(()),
                _ => match self.session.form.as_ref() {
                    Some(f) if f.focus.is_some() => Ok(()),
                    _ => Err(Refusal::NothingToType),
                },
            },
            Input::FormNext => {
                wrong(Screen::Form)?;
                self.procedure().map(|_| ()).ok_or(Refusal::NoForm)
            }
            Input::AddPaperImage { paper, .. } => {
                let (slot, max) = self.slot(paper)?;
                if slot.images.len() >= max as usize {
                    return Err(Refusal::PaperFull {
                        paper: paper.clone(),
                        max,
                    });
                }
                Ok(())
            }
            Input::ReplacePaperImage { paper, index, .. }
            | Input::RemovePaperImage { paper, index } => {
                let (slot, _) = self.slot(paper)?;
                if *index < slot.images.len() {
                    Ok(())
                } else {
                    Err(Refusal::NoSuchImage {
                        paper: paper.clone(),
                        index: *index,
                    })
                }
            }
            Input::MovePaperImageUp { paper, index } => {
                let (slot, _) = self.slot(paper)?;
                if *index > 0 && *index < slot.images.len() {
                    Ok(())
                } else {
                    Err(Refusal::NoSuchImage {
                        paper: paper.clone(),
                        index: *index,
                    })
                }
            }
            Input::PapersNext => wrong(Screen::Papers),
            Input::SetConsent(_) | Input::SetFetchEarlierResults(_) => wrong(Screen::Review),
            Input::Submit => {
                wrong(Screen::Review)?;
                self.session
                    .form
                    .as_ref()
                    .map(|_| ())
                    .ok_or(Refusal::NoForm)
            }
            Input::ResumeDraft => self
                .session
                .draft_offer
                .as_ref()
                .map(|_| ())
                .ok_or(Refusal::NoDraft),
            Input::ContinueLifeEvent => self.next_step().map(|_| ()).ok_or(Refusal::NoNextStep),
            Input::ChooseRating(_) => wrong(Screen::Rating),
            Input::SendRating => {
                wrong(Screen::Rating)?;
                self.session
                    .receipt
                    .as_ref()
                    .map(|_| ())
                    .ok_or(Refusal::NoReceipt)
            }
            Input::StartSupplement => {
                wrong(Screen::Status)?;
                match (&self.session.status, self.session.card.verified_id_number()) {
                    (Some(s), Some(_))
                        if s.yours
                            && s.state == xaso_services::DossierState::SupplementRequested =>
                    {
                        Ok(())
                    }
                    _ => Err(Refusal::NoSupplementAsked),
                }
            }
            Input::SupplementStored(_) => Ok(()),
            Input::LookupStatus => {
                wrong(Screen::Status)?;
                if self.session.status_code.text().trim().is_empty() {
                    Err(Refusal::EmptyTrackingCode)
                } else {
                    Ok(())
                }
            }
            Input::Tick
            | Input::StillHere
            | Input::SetLang(_)
            | Input::GoHome
            | Input::Back
            | Input::Card(_)
            | Input::StartQrScan
            | Input::QrScanned(_)
            | Input::CancelQrScan
            | Input::DraftFound { .. }
            | Input::ContinueAfterIdentify
            | Input::Stored(_)
            | Input::Failed(_)
            | Input::StatusFound(_)
            | Input::ReadAloud => Ok(()),
        }
    }

    /// The open procedure's slot for `paper`, and the paper's maximum of pages.
    fn slot(&self, paper: &str) -> Result<(&PaperSlot, u32), Refusal> {
        let p = self.procedure().ok_or(Refusal::NoForm)?;
        let def = p
            .paper(paper)
            .ok_or_else(|| Refusal::UnknownPaper(paper.to_owned()))?;
        let slot = self
            .session
            .papers
            .iter()
            .find(|s| s.paper == paper)
            .ok_or_else(|| Refusal::UnknownPaper(paper.to_owned()))?;
        Ok((slot, def.max))
    }

    /// Applies an input already checked.
    fn apply(&mut self, input: Input, now: Instant) -> Vec<Effect> {
        match input {
            Input::Tick => self.tick(now),
            Input::StillHere => Vec::new(),
            Input::SetLang(lang) => {
                self.lang = lang;
                Vec::new()
            }
            Input::GoHome => self.go_home(now),
            Input::Open(screen) => {
                self.open(screen);
                Vec::new()
            }
            Input::Back => self.back(now),
            Input::Card(event) => self.card_event(event, now),
            Input::StartQrScan => {
                self.session.card.qr = Some(QrState::Scanning);
                Vec::new()
            }
            Input::QrScanned(result) => {
                self.qr_scanned(result);
                Vec::new()
            }
            Input::CancelQrScan => {
                if self.session.card.qr != Some(QrState::Ready) {
                    self.session.card.qr = None;
                }
                Vec::new()
            }
            Input::DraftFound { procedure, values } => {
                // Only a draft of a procedure still in the catalog is offered.
                if self.catalog.procedure(&procedure).is_some() {
                    self.session.draft_offer = Some((procedure, values));
                }
                Vec::new()
            }
            Input::ResumeDraft => {
                self.resume_draft();
                Vec::new()
            }
            Input::ContinueAfterIdentify => {
                self.screen = Screen::Services;
                Vec::new()
            }
            Input::ChooseLifeEvent(id) => {
                self.session.life_event = Some(id);
                self.screen = Screen::LifeEvent;
                Vec::new()
            }
            Input::ChooseProcedure(code) => {
                self.choose_procedure(&code);
                Vec::new()
            }
            Input::FocusField(id) => {
                if let Some(form) = self.session.form.as_mut() {
                    form.entry =
                        TelexEntry::with_text(form.values.get(&id).map_or("", String::as_str));
                    form.focus = Some(id);
                }
                Vec::new()
            }
            Input::KeyboardDone => {
                if let Some(form) = self.session.form.as_mut() {
                    form.focus = None;
                }
                Vec::new()
            }
            Input::Key(ch) => {
                if self.screen == Screen::Status {
                    // Tracking codes are letters and digits, not Vietnamese words.
                    self.edit(|e| e.key_literal(ch))
                } else {
                    self.edit(|e| e.key(ch))
                }
            }
            Input::Backspace => self.edit(TelexEntry::backspace),
            Input::ClearText => self.edit(TelexEntry::clear),
            Input::ChooseValue { field, value } => {
                if let Some(form) = self.session.form.as_mut() {
                    form.errors.remove(&field);
                    form.sources.insert(field.clone(), ValueSource::Typed);
                    form.values.insert(field, value);
                    form.focus = None;
                }
                self.draft_effect()
            }
            Input::FormNext => {
                self.form_next();
                Vec::new()
            }
            Input::AddPaperImage { paper, image } => {
                if let Some(slot) = self.slot_mut(&paper) {
                    slot.images.push(image);
                    slot.missing = false;
                }
                Vec::new()
            }
            Input::ReplacePaperImage {
                paper,
                index,
                image,
            } => {
                if let Some(old) = self
                    .slot_mut(&paper)
                    .and_then(|slot| slot.images.get_mut(index))
                {
                    *old = image;
                }
                Vec::new()
            }
            Input::RemovePaperImage { paper, index } => {
                if let Some(slot) = self.slot_mut(&paper)
                    && index < slot.images.len()
                {
                    slot.images.remove(index);
                }
                Vec::new()
            }
            Input::MovePaperImageUp { paper, index } => {
                if let Some(slot) = self.slot_mut(&paper)
                    && index > 0
                    && index < slot.images.len()
                {
                    slot.images.swap(index - 1, index);
                }
                Vec::new()
            }
            Input::PapersNext if self.session.supplement.is_some() => self.supplement_next(),
            Input::PapersNext => {
                self.papers_next();
                Vec::new()
            }
            Input::StartSupplement => {
                if let Some(s) = &self.session.status {
                    let procedure = s.procedure.clone();
                    self.session.papers = self
                        .catalog
                        .procedure(&procedure)
                        .map(|p| p.papers.iter().map(|d| PaperSlot::new(&d.id)).collect())
                        .unwrap_or_default();
                    self.session.supplement = Some((s.tracking_code.clone(), procedure));
                    self.screen = Screen::Papers;
                }
                Vec::new()
            }
            Input::SupplementStored(status) => {
                self.session.supplement = None;
                self.session.papers.clear();
                self.session.status = Some(status);
                self.screen = Screen::Status;
                Vec::new()
            }
            Input::SetConsent(consent) => {
                self.session.consent = consent;
                if consent {
                    self.session.consent_missing = false;
                }
                Vec::new()
            }
            Input::SetFetchEarlierResults(fetch) => {
                self.session.fetch_earlier_results = fetch;
                Vec::new()
            }
            Input::Submit => self.submit(),
            Input::Stored(receipt) => self.stored(receipt),
            Input::Failed(kind) => {
                self.error = Some(kind);
                self.screen = Screen::Error;
                Vec::new()
            }
            Input::ContinueLifeEvent => {
                if let Some(code) = self.next_step().map(|p| p.code.0.clone()) {
                    self.choose_procedure(&code);
                }
                Vec::new()
            }
            Input::ChooseRating(level) => {
                self.session.rating = Some(level);
                self.session.rating_missing = false;
                Vec::new()
            }
            Input::SendRating => self.send_rating(),
            Input::LookupStatus => {
                vec![Effect::LookupCode(
                    self.session.status_code.text().trim().to_uppercase(),
                )]
            }
            Input::StatusFound(status) => {
                match status {
                    Some(s) => {
                        self.session.status = Some(s);
                        self.screen = Screen::Status;
                    }
                    None => {
                        self.error = Some(ErrorKind::UnknownTrackingCode);
                        self.screen = Screen::Error;
                    }
                }
                Vec::new()
            }
            Input::ReadAloud => vec![Effect::Speak(self.speech())],
        }
    }

    fn slot_mut(&mut self, paper: &str) -> Option<&mut PaperSlot> {
        self.session.papers.iter_mut().find(|s| s.paper == paper)
    }

    fn tick(&mut self, now: Instant) -> Vec<Effect> {
        if self.idle_applies() && self.idle.expired(now) {
            self.wipe(now);
            return vec![Effect::Wiped];
        }
        Vec::new()
    }

    fn go_home(&mut self, now: Instant) -> Vec<Effect> {
        // Leaving for home ends the resident's session: nothing of it stays on screen.
        self.wipe(now);
        vec![Effect::Wiped]
    }

    fn wipe(&mut self, now: Instant) {
        self.session = Session::default();
        self.lang = Lang::Vi;
        self.screen = Screen::Home;
        self.error = None;
        self.idle.touch(now);
    }

    fn open(&mut self, screen: Screen) {
        match screen {
            Screen::Identify if self.session.card.identity.is_none() => {
                self.session.card.state = CardState::Waiting;
            }
            Screen::Status => self.session.status = None,
            _ => {}
        }
        self.screen = screen;
    }

    fn back(&mut self, now: Instant) -> Vec<Effect> {
        self.screen = match self.screen {
            Screen::Form => {
                if self.session.life_event.is_some() {
                    Screen::LifeEvent
                } else {
                    Screen::Services
                }
            }
            Screen::LifeEvent => Screen::Services,
            Screen::Papers if self.session.supplement.is_some() => {
                self.session.supplement = None;
                self.session.papers.clear();
                Screen::Status
            }
            Screen::Papers => Screen::Form,
            Screen::Review => {
                if self.session.papers.is_empty() {
                    Screen::Form
                } else {
                    Screen::Papers
                }
            }
            Screen::Error => self
                .error
                .take()
                .map_or(Screen::Home, ErrorKind::retry_screen),
            Screen::Receipt | Screen::Rating | Screen::Thanks | Screen::Home => {
                return self.go_home(now);
            }
            Screen::Identify | Screen::Services | Screen::Status | Screen::Skills => Screen::Home,
        };
        Vec::new()
    }

    fn card_event(&mut self, event: CardEvent, now: Instant) -> Vec<Effect> {
        match event {
            CardEvent::Present => {
                self.session.card.state = CardState::Reading;
                if self.screen == Screen::Home {
                    self.screen = Screen::Identify;
                }
                Vec::new()
            }
            CardEvent::Read { identity, verified } => {
                let mut effects = Vec::new();
                if let (Some(old), Some(new)) =
                    (self.session.card.id_number(), identity.id_number())
                    && old != new
                {
                    // A different person's card: never mix two sessions.
                    self.wipe(now);
                    effects.push(Effect::Wiped);
                }
                let id_number = identity.id_number().map(str::to_owned);
                self.session.card.state = if verified {
                    CardState::Verified
                } else {
                    CardState::NotVerified
                };
                self.session.card.verified = verified;
                self.session.card.identity = Some(identity);
                if self.screen == Screen::Home {
                    self.screen = Screen::Identify;
                }
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
                if verified
                    && let Some(form) = self.session.form.as_mut()
                    && let (Some(p), Some(card)) = (
                        self.catalog.procedure(&form.procedure),
                        self.session.card.identity.as_ref(),
                    )
                {
                    prefill_from_card(form, p, card);
                }
                effects
            }
            CardEvent::Failed(problem) => {
                self.session.card.state = CardState::Failed(problem);
                if self.screen == Screen::Home {
                    self.screen = Screen::Identify;
                }
                Vec::new()
            }
            CardEvent::Removed => {
                if self.session.card.identity.is_some() {
                    // The resident took their card: the session goes with it.
                    self.wipe(now);
                    vec![Effect::Wiped]
                } else {
                    if self.session.card.state == CardState::Reading {
                        self.session.card.state = CardState::Failed(CardProblem::RemovedTooEarly);
                    }
                    Vec::new()
                }
            }
        }
    }

    fn qr_scanned(&mut self, result: Result<(), QrProblem>) {
        self.session.card.qr = Some(match result {
            Ok(()) => {
                // A card read that failed for want of a key can now be tried again.
                if matches!(self.session.card.state, CardState::Failed(_)) {
                    self.session.card.state = CardState::Waiting;
                }
                QrState::Ready
            }
            Err(p) => QrState::Failed(p),
        });
    }

    fn resume_draft(&mut self) {
        let Some((procedure, values)) = self.session.draft_offer.take() else {
            return;
        };
        self.choose_procedure(&procedure);
        if let Some(form) = self.session.form.as_mut() {
            for (k, v) in values {
                form.sources.entry(k.clone()).or_insert(ValueSource::Typed);
                form.values.insert(k, v);
            }
        }
    }

    fn choose_procedure(&mut self, code: &str) {
        let Some(p) = self.catalog.procedure(code) else {
            return;
        };
        let mut form = FormState::new(code);
        if let Some(event) = self.life_event() {
            for (field, value) in event.carried_values(code, &self.session.entered) {
                form.values.insert(field.clone(), value);
                form.sources.insert(field, ValueSource::Earlier);
            }
        }
        if let Some(card) = self.session.card.identity.as_ref()
            && self.session.card.verified
        {
            prefill_from_card(&mut form, p, card);
        }
        let submitter = submitter_of(&form);
        self.session.papers = p
            .papers_for(submitter)
            .map(|d| PaperSlot::new(&d.id))
            .collect();
        self.session.form = Some(form);
        self.session.consent = false;
        self.session.consent_missing = false;
        self.session.fetch_earlier_results = false;
        self.screen = Screen::Form;
    }

    fn edit(&mut self, f: impl FnOnce(&mut TelexEntry)) -> Vec<Effect> {
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

    fn draft_effect(&self) -> Vec<Effect> {
        match (
            self.session.form.as_ref(),
            self.session.card.verified_id_number(),
        ) {
            (Some(form), Some(id)) => vec![Effect::SaveDraft {
                id_number: id.to_owned(),
                procedure: form.procedure.clone(),
                values: form.values.clone(),
            }],
            _ => Vec::new(),
        }
    }

    fn form_next(&mut self) {
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
        // The papers needed depend on who submits; pages already taken are kept.
        let submitter = submitter_of(form);
        let mut old = std::mem::take(&mut self.session.papers);
        self.session.papers = p
            .papers_for(submitter)
            .map(|d| {
                old.iter()
                    .position(|s| s.paper == d.id)
                    .map(|i| old.swap_remove(i))
                    .unwrap_or_else(|| PaperSlot::new(&d.id))
            })
            .collect();
        self.screen = if self.session.papers.is_empty() {
            Screen::Review
        } else {
            Screen::Papers
        };
    }

    /// "Next" on the papers of a supplement: at least one page, then store it.
    fn supplement_next(&mut self) -> Vec<Effect> {
        let (Some((code, _)), Some(id)) = (
            self.session.supplement.as_ref(),
            self.session.card.verified_id_number(),
        ) else {
            return Vec::new();
        };
        if self.session.papers.iter().all(|s| s.images.is_empty()) {
            for slot in &mut self.session.papers {
                slot.missing = true;
            }
            return Vec::new();
        }
        vec![Effect::StoreSupplement {
            tracking_code: code.clone(),
            id_number: id.to_owned(),
            papers: self
                .session
                .papers
                .iter()
                .filter(|s| !s.images.is_empty())
                .cloned()
                .collect(),
        }]
    }

    fn papers_next(&mut self) {
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

    fn submit(&mut self) -> Vec<Effect> {
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
            card_verified: self.session.card.verified,
            requester_id_number: self.session.card.id_number().map(str::to_owned),
            papers: self.session.papers.clone(),
            consent: true,
            fetch_earlier_results: self.session.fetch_earlier_results,
            lang: self.lang,
        };
        vec![Effect::StoreDossier(Box::new(submission))]
    }

    fn stored(&mut self, receipt: Receipt) -> Vec<Effect> {
        if let Some(form) = self.session.form.as_ref() {
            self.session
                .entered
                .insert(form.procedure.clone(), form.values.clone());
        }
        self.session.receipt = Some(receipt);
        self.session.rating = None;
        self.session.rating_reason.clear();
        self.screen = Screen::Receipt;
        match self.session.card.id_number() {
            Some(id) => vec![Effect::DeleteDraft {
                id_number: id.to_owned(),
            }],
            None => Vec::new(),
        }
    }

    fn send_rating(&mut self) -> Vec<Effect> {
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

    /// What the read-aloud button reads on the current screen.
    fn speech(&self) -> Speech {
        match self.screen {
            Screen::Form | Screen::Review => self
                .session
                .form
                .as_ref()
                .map_or(Speech::Welcome, |f| Speech::Procedure(f.procedure.clone())),
            Screen::LifeEvent => self
                .session
                .life_event
                .clone()
                .map_or(Speech::Welcome, Speech::LifeEvent),
            Screen::Receipt => self.session.receipt.as_ref().map_or(Speech::Welcome, |r| {
                Speech::TrackingCode(r.tracking_code.clone())
            }),
            _ => Speech::Welcome,
        }
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
    Submitter::from_relationship(
        form.values
            .get("requester_relationship")
            .map(String::as_str),
    )
}

#[cfg(test)]
mod tests;
