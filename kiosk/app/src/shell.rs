//! The thin shell around the resident's journey: it applies each [`Input`] — asking a device
//! first when the input needs one (a picture, a card, the printer) — feeds the journey, and
//! performs the effects it returns (store, lookups, speech). It never draws: the presenters
//! ([`crate::present`]) do, from the state it exposes.

use std::path::PathBuf;

use xaso_i18n::{Lang, Translations};
use xaso_kiosk_core::{
    CONSENT_TEXT_VERSION, CardEvent, Effect, ErrorKind, Moment, QrProblem, RatingRecord, Receipt,
    ResidentJourney, Speech, Submission,
};
use xaso_services::calendar::Holidays;
use xaso_services::rating::Rating;
use xaso_services::tracking::TrackingCode;
use xaso_services::{Dossier, ProcedureCode};

use crate::card_reader::CardReader;
use crate::clock::Clock;
use crate::counter::{Counter, CounterError, Page};
use crate::image_source::{ImageSource, PaperError};
use crate::input::Input;
use crate::papers::normalise;
use crate::printer::ReceiptPrinter;
use crate::qr_pictures::QrPictures;
use crate::receipt::{PrintedReceipt, ReceiptDocument, escpos};
use crate::store::{Attachment, KioskStore, kiosk_actor};

/// What became of the receipt after "print" or "save", shown under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptNotice {
    Printed,
    SavedPng,
    SavedPdf,
    NoPrinter,
    Failed,
}

/// Where saved receipts go.
#[derive(Debug, Clone, Default)]
pub struct ReceiptOutput {
    /// An ESC/POS printer device (e.g. `/dev/usb/lp0`) or file.
    pub printer: Option<PathBuf>,
    /// Directory for saved receipts (PNG and PDF).
    pub save_dir: Option<PathBuf>,
}

/// Everything the shell needs: the journey, the store, the devices behind their ports.
pub struct ShellParts {
    pub journey: ResidentJourney,
    pub store: KioskStore,
    pub device: u16,
    pub translations: Translations,
    pub clock: Box<dyn Clock>,
    pub card: Box<dyn CardReader>,
    pub images: Box<dyn ImageSource>,
    pub qr_pictures: Box<dyn QrPictures>,
    pub printer: Option<Box<dyn ReceiptPrinter>>,
    /// Directory for saved receipts (PNG and PDF).
    pub receipts_dir: Option<PathBuf>,
    /// Speak texts with espeak-ng when it is installed.
    pub speech: bool,
    /// The resident's counter at the hub, for dossiers of other kiosks.
    pub counter: Box<dyn Counter>,
    /// On a helper's tablet: the helper's sign-in and the assisted session.
    pub helper: Option<crate::helper::HelperDesk>,
    /// Digital-skills lessons: the installed pack, the learner, the practice sandbox.
    pub lessons: crate::lessons::LessonDesk,
}

/// A picture of the window, taken by the app for "save the receipt as an image".
pub type Snapshot = Result<image::RgbaImage, String>;

pub struct Shell {
    p: ShellParts,
    receipt_notice: Option<ReceiptNotice>,
    /// How many times the session was wiped (the presenter selects Vietnamese after each).
    wipes: u64,
    /// The last PNG receipt written, for tests and the demo.
    pub last_receipt_png: Option<PathBuf>,
    /// The last PDF receipt written, for tests and the demo.
    pub last_receipt_pdf: Option<PathBuf>,
    /// What was last sent to the printer.
    pub last_print: Option<Vec<u8>>,
    /// The last text read aloud.
    pub last_spoken: Option<String>,
    /// The last signed result saved from the status screen.
    pub last_result_pdf: Option<PathBuf>,
    /// The dossier shown on the status screen (for its result document).
    shown_dossier: Option<Dossier>,
    /// The shell itself is resetting the resident's journey (a practice starts or ends):
    /// the learner is kept.
    keep_learner: bool,
    /// Helper tablets: the classes page is shown, and the class open on it.
    classes_shown: bool,
    pub classroom: Option<crate::lessons::classroom::Classroom>,
}

impl Shell {
    pub fn new(parts: ShellParts) -> Shell {
        Shell {
            p: parts,
            receipt_notice: None,
            wipes: 0,
            last_receipt_png: None,
            last_receipt_pdf: None,
            last_print: None,
            last_spoken: None,
            last_result_pdf: None,
            shown_dossier: None,
            keep_learner: false,
            classes_shown: false,
            classroom: None,
        }
    }

    // ----- reading (for the presenters, the app and tests) -----

    pub fn journey(&self) -> &ResidentJourney {
        &self.p.journey
    }
    pub fn translations(&self) -> &Translations {
        &self.p.translations
    }
    pub fn store(&self) -> &KioskStore {
        &self.p.store
    }
    pub fn store_mut(&mut self) -> &mut KioskStore {
        &mut self.p.store
    }
    pub fn card_reader(&self) -> &dyn CardReader {
        self.p.card.as_ref()
    }
    pub fn has_camera(&self) -> bool {
        self.p.images.has_camera()
    }
    pub fn receipt_notice(&self) -> Option<ReceiptNotice> {
        self.receipt_notice
    }
    /// How many times the session was wiped so far.
    pub fn wipes(&self) -> u64 {
        self.wipes
    }
    pub fn now(&self) -> std::time::Instant {
        self.p.clock.now()
    }
    pub fn lessons(&self) -> &crate::lessons::LessonDesk {
        &self.p.lessons
    }
    pub fn helper(&self) -> Option<&crate::helper::HelperDesk> {
        self.p.helper.as_ref()
    }

    // ----- inputs -----

    /// Applies one input. `snapshot` takes a picture of the window (for the PNG receipt).
    pub fn apply(&mut self, input: Input, snapshot: &dyn Fn() -> Snapshot) {
        match input {
            Input::Journey(i) => self.feed(i),
            Input::Tick => {
                let events = self.p.card.poll();
                self.card_events(events);
                let (now, at) = (self.p.clock.now(), self.p.clock.timestamp());
                if let Some(h) = self.p.helper.as_mut() {
                    let step = h.tick(self.p.store.records_mut(), now, at);
                    self.helper_step(step);
                }
                self.feed(xaso_kiosk_core::Input::Tick);
            }
            Input::Card(e) => self.card_events(vec![e]),
            Input::PlaceCard(resident) => {
                let events = self.p.card.place(&resident);
                self.card_events(events);
            }
            Input::RemoveCard => {
                let events = self.p.card.remove();
                self.card_events(events);
            }
            Input::QrText(text) => self.use_qr_keys(crate::qrscan::keys_from_text(&text)),
            Input::QrPicture => {
                let keys = self
                    .p
                    .qr_pictures
                    .latest()
                    .and_then(|bytes| crate::qrscan::keys_from_image(&bytes));
                self.use_qr_keys(keys);
            }
            Input::PaperCapture(paper) => {
                let bytes = self.p.images.capture();
                self.add_image(paper, None, bytes, ErrorKind::CameraFailed);
            }
            Input::PaperImport(paper) => {
                let bytes = self.p.images.import();
                self.add_image(paper, None, bytes, ErrorKind::ImageUnreadable);
            }
            Input::PaperRetake(paper, index) => {
                let bytes = self.p.images.capture();
                self.add_image(paper, Some(index), bytes, ErrorKind::CameraFailed);
            }
            Input::ReceiptPrint => self.print_receipt(),
            Input::ReceiptSavePng => self.save_receipt_png(snapshot),
            Input::ReceiptSavePdf => self.save_receipt_pdf(),
            Input::SaveResult => self.save_result(),
            Input::HelperDigit(_)
            | Input::HelperPinBackspace
            | Input::HelperPinOk
            | Input::HelperStart
            | Input::HelperConsent(_)
            | Input::HelperEnd
            | Input::HelperSignOut => self.helper_input(input),
            Input::Lesson(i) => self.lesson_input(i),
            Input::StopPractice => self.end_practice(false),
            Input::SaveCertificate => self.save_certificate(),
            Input::Classes
            | Input::ClassNew
            | Input::ClassOpen(_)
            | Input::ClassClose
            | Input::ClassExport => {
                self.class_input(input);
            }
        }
        if !self
            .p
            .helper
            .as_ref()
            .is_some_and(crate::helper::HelperDesk::signed_in)
        {
            // Signed out (or locked after idling): the classes close.
            self.classes_shown = false;
            self.classroom = None;
        }
        self.follow_lessons();
    }

    // ----- lessons -----

    fn lesson_input(&mut self, input: xaso_kiosk_core::lesson::LessonInput) {
        let now = self.p.clock.timestamp();
        if let Some(module) = self
            .p
            .lessons
            .handle(self.p.store.records_mut(), input, now)
        {
            tracing::info!(module, "practice started");
            // The sandbox starts from the home screen with an empty session.
            self.keep_learner = true;
            self.feed(xaso_kiosk_core::Input::GoHome);
            self.keep_learner = false;
        }
    }

    /// After every input: a verified card on the lessons screen names the learner; a
    /// practice follows the journey (its card, its hint, its end).
    fn follow_lessons(&mut self) {
        let screen = self.p.journey.screen();
        if self.p.lessons.practice.is_none() {
            if screen == xaso_kiosk_core::Screen::Skills
                && self.p.journey.card_verified()
                && let Some(card) = self.p.journey.card()
                && let (Some(id), Some(name)) = (card.id_number(), card.full_name())
            {
                let (id, name) = (id.to_owned(), name.to_owned());
                let now = self.p.clock.timestamp();
                self.p
                    .lessons
                    .identify(self.p.store.records_mut(), &id, &name, now);
            }
            return;
        }
        let card = self
            .p
            .lessons
            .practice
            .as_mut()
            .and_then(|run| run.card_for(screen));
        if let Some(events) = card {
            for e in events {
                self.feed(xaso_kiosk_core::Input::Card(e));
            }
        }
        let finished = self
            .p
            .lessons
            .practice
            .as_mut()
            .is_some_and(|run| run.follow(self.p.journey.screen()));
        if finished {
            self.end_practice(true);
        }
    }

    /// Ends the practice: the sandbox's session is wiped and the lesson continues.
    fn end_practice(&mut self, finished: bool) {
        use xaso_kiosk_core::lesson::LessonInput;
        if self.p.lessons.practice.take().is_none() {
            return;
        }
        tracing::info!(finished, "practice ended");
        let now = self.p.clock.timestamp();
        let input = if finished {
            LessonInput::PracticeFinished
        } else {
            LessonInput::PracticeAbandoned
        };
        self.p
            .lessons
            .handle(self.p.store.records_mut(), input, now);
        self.keep_learner = true;
        self.feed(xaso_kiosk_core::Input::GoHome);
        self.feed(xaso_kiosk_core::Input::Open(
            xaso_kiosk_core::Screen::Skills,
        ));
        self.keep_learner = false;
    }

    /// Is the helper's classes page shown?
    pub fn classes_shown(&self) -> bool {
        self.classes_shown
    }

    fn class_input(&mut self, input: Input) {
        use crate::lessons::classroom::{Classroom, Notice};
        let Some(helper) = self.p.helper.as_ref().filter(|h| h.signed_in()) else {
            return;
        };
        let helper_name = helper
            .helper()
            .map(|p| p.display_name.clone())
            .unwrap_or_default();
        let commune = self.p.store.commune().to_string();
        let at = self.p.clock.timestamp();
        let lang = self.p.journey.lang();
        match input {
            Input::Classes => self.classes_shown = true,
            Input::ClassNew => {
                let today = self.p.clock.today();
                let n = crate::lessons::records::classes(self.p.store.records(), &commune)
                    .map(|c| {
                        c.iter()
                            .filter(|c| xaso_services::calendar::vietnam_date(c.created) == today)
                            .count()
                            + 1
                    })
                    .unwrap_or(1);
                let name = self.p.translations.get(
                    lang,
                    "kiosk.classroom.class_name",
                    &[
                        ("date", &xaso_i18n::format_date(today)),
                        ("n", &n.to_string()),
                    ],
                );
                match Classroom::create(
                    self.p.store.records_mut(),
                    &commune,
                    &helper_name,
                    name,
                    at,
                ) {
                    Ok(c) => self.classroom = Some(c),
                    Err(e) => tracing::error!("class not created: {e}"),
                }
            }
            Input::ClassOpen(id) => match Classroom::open(self.p.store.records(), &commune, &id) {
                Ok(c) => self.classroom = c,
                Err(e) => tracing::error!("class not opened: {e}"),
            },
            Input::ClassClose => {
                // From a class back to the list; from the list back to the start page.
                self.classes_shown = self.classroom.take().is_some();
            }
            Input::ClassExport => {
                let Some(dir) = self.p.receipts_dir.clone() else {
                    return;
                };
                let today = self.p.clock.today();
                let commune_name = self.p.lessons.commune_name().to_owned();
                if let Some(c) = self.classroom.as_mut()
                    && let Err(e) = c.export(
                        self.p.store.records(),
                        &commune,
                        &commune_name,
                        self.p.lessons.journey().library(),
                        &self.p.translations,
                        lang,
                        &dir,
                        today,
                    )
                {
                    tracing::error!("class report not exported: {e}");
                    c.notice = Some(Notice::Failed);
                }
            }
            _ => {}
        }
    }

    fn practising(&self) -> bool {
        self.p.lessons.practice.is_some()
    }

    /// Saves the certificate on screen as a PDF in the receipts directory.
    fn save_certificate(&mut self) {
        let Some(issued) = self.p.lessons.last_certificate.clone() else {
            return;
        };
        let Some(dir) = self.p.receipts_dir.clone() else {
            tracing::warn!("no directory to save certificates in");
            return;
        };
        let lang = self.p.journey.lang();
        let content = xaso_documents::training::CertificateContent {
            lang,
            commune: self.p.lessons.commune_name().to_owned(),
            name: issued.certificate.name.clone(),
            track_title: self
                .p
                .lessons
                .journey()
                .library()
                .track(&issued.certificate.track)
                .map_or(issued.track_title.clone(), |t| t.title.get(lang).to_owned()),
            date: issued.certificate.date,
            certificate_id: issued.certificate.id.clone(),
            credential: issued.code.clone(),
        };
        let pdf = match xaso_documents::training::certificate_pdf(&content, &self.p.translations) {
            Ok(pdf) => pdf,
            Err(e) => return tracing::error!("certificate PDF not made: {e}"),
        };
        let path = dir.join(format!("certificate-{}.pdf", issued.certificate.id));
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, pdf)) {
            Ok(()) => self.p.lessons.certificate_saved = Some(path),
            Err(e) => tracing::error!("certificate not saved: {e}"),
        }
    }

    fn helper_input(&mut self, input: Input) {
        let (now, at) = (self.p.clock.now(), self.p.clock.timestamp());
        let Some(h) = self.p.helper.as_mut() else {
            return;
        };
        h.touch(now);
        let store = self.p.store.records_mut();
        let step = match input {
            Input::HelperDigit(d) => {
                h.digit(d);
                crate::helper::HelperStep::None
            }
            Input::HelperPinBackspace => {
                h.backspace();
                crate::helper::HelperStep::None
            }
            Input::HelperPinOk => h.pin_ok(store, now, at),
            Input::HelperStart => {
                if let Err(e) = h.start() {
                    tracing::info!(refusal = e.key(), "session not started");
                }
                crate::helper::HelperStep::None
            }
            Input::HelperConsent(agrees) => h.consent(agrees, store, at),
            Input::HelperEnd => h.end(store, at),
            Input::HelperSignOut => h.sign_out(store, at),
            _ => crate::helper::HelperStep::None,
        };
        self.helper_step(step);
    }

    fn helper_step(&mut self, step: crate::helper::HelperStep) {
        use xaso_kiosk_core::Input as J;
        match step {
            crate::helper::HelperStep::None => {}
            crate::helper::HelperStep::OpenJourney(identity) => {
                // The resident's card, read and verified for the session, opens the journey.
                self.feed(J::Open(xaso_kiosk_core::Screen::Identify));
                self.feed(J::Card(CardEvent::Read {
                    identity,
                    verified: true,
                }));
            }
            crate::helper::HelperStep::Wipe => self.feed(J::GoHome),
        }
    }

    /// One input to the journey, then its effects.
    fn feed(&mut self, input: xaso_kiosk_core::Input) {
        let at = Moment {
            now: self.p.clock.now(),
            today: self.p.clock.today(),
        };
        match self.p.journey.handle(input, at) {
            Ok(effects) => self.run(effects),
            // Refusals name screens, procedure codes and field ids, never personal data.
            Err(refusal) => tracing::debug!(?refusal, "input refused"),
        }
    }

    /// Card events go to the journey — on a helper tablet only while a session runs (the
    /// helper's own card and the resident's tap for the session go to the helper's desk).
    fn card_events(&mut self, events: Vec<CardEvent>) {
        for e in events {
            let at = self.p.clock.timestamp();
            if let Some(c) = self.classroom.as_mut() {
                // A class is open: a card tapped enrols its holder.
                let commune = self.p.store.commune().to_string();
                c.card(&e, self.p.store.records_mut(), &commune, at);
                continue;
            }
            let to_journey = match self.p.helper.as_mut() {
                None => true,
                Some(h) => {
                    let (to_journey, step) = h.card(&e, self.p.store.records_mut(), at);
                    self.helper_step(step);
                    to_journey
                }
            };
            if to_journey {
                self.feed(xaso_kiosk_core::Input::Card(e));
            }
        }
    }

    /// Hands the QR code's access keys to the card reader for the next read.
    fn use_qr_keys(&mut self, keys: Result<Vec<xaso_idcard::MrzKey>, QrProblem>) {
        let result = match keys {
            Ok(keys) => {
                tracing::info!("card QR code read: {} access key candidates", keys.len());
                self.p.card.set_qr_keys(keys);
                Ok(())
            }
            Err(p) => {
                tracing::info!(problem = ?p, "card QR code not usable");
                Err(p)
            }
        };
        self.feed(xaso_kiosk_core::Input::QrScanned(result));
    }

    fn add_image(
        &mut self,
        paper: String,
        replace: Option<usize>,
        bytes: Result<Vec<u8>, PaperError>,
        on_error: ErrorKind,
    ) {
        use xaso_kiosk_core::Input as J;
        match bytes.and_then(|b| normalise(&b)) {
            Ok(image) => self.feed(match replace {
                Some(index) => J::ReplacePaperImage {
                    paper,
                    index,
                    image,
                },
                None => J::AddPaperImage { paper, image },
            }),
            Err(e) => {
                tracing::warn!("paper image not taken: {e}");
                let kind = match e {
                    PaperError::Unreadable(_) => ErrorKind::ImageUnreadable,
                    _ => on_error,
                };
                self.feed(J::Failed(kind));
            }
        }
    }

    // ----- effects -----

    fn run(&mut self, effects: Vec<Effect>) {
        use xaso_kiosk_core::Input as J;
        for effect in effects {
            if self.practising() && self.practice_effect(&effect) {
                continue;
            }
            match effect {
                Effect::StoreDossier(submission) => self.store_dossier(*submission),
                Effect::StoreRating(record) => self.store_rating(record),
                Effect::SaveDraft {
                    id_number,
                    procedure,
                    values,
                } => {
                    if let Err(e) = self.p.store.save_draft(&id_number, &procedure, &values) {
                        tracing::error!("draft not saved: {e}");
                    }
                }
                Effect::DeleteDraft { id_number } => {
                    if let Err(e) = self.p.store.delete_draft(&id_number) {
                        tracing::error!("draft not deleted: {e}");
                    }
                }
                Effect::LoadDraft { id_number } => match self.p.store.draft_for(&id_number) {
                    Ok(Some((procedure, values))) => {
                        self.feed(J::DraftFound { procedure, values });
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!("draft not loaded: {e}"),
                },
                Effect::LookupCode(code) => match TrackingCode::parse(&code) {
                    Err(_) => self.feed(J::Failed(ErrorKind::InvalidTrackingCode)),
                    Ok(code) => match self.p.store.dossier_by_code(&code) {
                        Ok(None) => self.lookup_at_counter(&code),
                        found => self.show_status(found),
                    },
                },
                Effect::StoreSupplement {
                    tracking_code,
                    id_number,
                    papers,
                } => self.store_supplement(&tracking_code, &id_number, papers),
                Effect::LookupCard(id) => {
                    let found = self.p.store.dossiers_of(&id).map(|v| v.into_iter().next());
                    self.show_status(found);
                }
                Effect::Speak(speech) => self.speak(&speech),
                Effect::Wiped => {
                    // Leaving a practice's result by "home" ends the practice (the learner
                    // stays); any other end of the session ends the learner's too.
                    let practice_done = self
                        .p
                        .lessons
                        .practice
                        .as_ref()
                        .is_some_and(crate::lessons::practice::PracticeRun::goal_reached);
                    if !self.keep_learner && !practice_done {
                        // The session ended (home, idle, another card): the learner too.
                        self.p.lessons.reset();
                    }
                    // The QR code's keys and the receipt's notice belong to the session that
                    // ended; the presenter shows Vietnamese again.
                    self.p.card.set_qr_keys(Vec::new());
                    self.receipt_notice = None;
                    self.shown_dossier = None;
                    self.last_result_pdf = None;
                    self.wipes += 1;
                }
            }
        }
    }

    /// In a practice, what would store, load or look up a record is done in the sandbox:
    /// the dossier is built and checked by `services` and dropped, with a receipt from a
    /// throwaway counter; drafts and ratings are not kept; lookups find nothing. Returns
    /// whether the effect was handled here.
    fn practice_effect(&mut self, effect: &Effect) -> bool {
        use xaso_kiosk_core::Input as J;
        match effect {
            Effect::StoreDossier(submission) => {
                let actor = kiosk_actor(self.p.store.commune(), self.p.device);
                let ts = self.p.clock.timestamp();
                let today = self.p.clock.today();
                let built = submission.to_services().into_dossier(
                    self.p.journey.catalog(),
                    uuid::Uuid::new_v4().to_string(),
                    &actor,
                    CONSENT_TEXT_VERSION,
                    ts,
                );
                let code =
                    xaso_services::tracking::TrackingMinter::new(self.p.store.commune().clone(), 0)
                        .and_then(|mut m| m.mint(today));
                match (built, code) {
                    (Ok(dossier), Ok(code)) => {
                        tracing::info!(procedure = %dossier.procedure, "practice dossier checked and dropped");
                        if let Some(run) = self.p.lessons.practice.as_mut() {
                            run.submitted();
                        }
                        let receipt = self.receipt_of(&dossier, code.to_string(), today, ts);
                        self.feed(J::Stored(receipt));
                    }
                    (Err(e), _) => {
                        tracing::warn!("practice dossier refused: {e}");
                        self.feed(J::Failed(ErrorKind::StoreFailed));
                    }
                    (_, Err(e)) => {
                        tracing::warn!("practice receipt code: {e}");
                        self.feed(J::Failed(ErrorKind::StoreFailed));
                    }
                }
                true
            }
            Effect::StoreRating(_)
            | Effect::SaveDraft { .. }
            | Effect::DeleteDraft { .. }
            | Effect::LoadDraft { .. }
            | Effect::StoreSupplement { .. } => true,
            Effect::LookupCode(code) => {
                let sample = self
                    .p
                    .lessons
                    .practice
                    .as_mut()
                    .and_then(|run| run.lookup(code));
                let view = sample
                    .as_ref()
                    .map(|d| crate::status::status_of(d, self.p.journey.catalog(), None));
                self.shown_dossier = None;
                self.feed(J::StatusFound(view));
                true
            }
            Effect::LookupCard(_) => {
                // A card on the reader during a practice is not looked up.
                self.shown_dossier = None;
                self.feed(J::StatusFound(None));
                true
            }
            Effect::Speak(_) | Effect::Wiped => false,
        }
    }

    /// The dossier is made by `services` from the submission, then stored durably; only
    /// then does the journey show the receipt.
    fn store_dossier(&mut self, submission: Submission) {
        use xaso_kiosk_core::Input as J;
        let ts = self.p.clock.timestamp();
        let today = self.p.clock.today();
        let helper = self
            .p
            .helper
            .as_ref()
            .map(|h| (h.actor(), h.assisted().map(|s| s.hand_in(&submission))));
        let (actor, services) = match helper {
            None => (
                kiosk_actor(self.p.store.commune(), self.p.device),
                submission.to_services(),
            ),
            Some((Some(actor), Some(Ok(services)))) => (actor, services),
            Some(_) => {
                tracing::warn!(
                    "a helper submission outside a session with the resident's consent was refused"
                );
                self.feed(J::Failed(ErrorKind::StoreFailed));
                return;
            }
        };
        let attachments: Vec<Attachment> = submission
            .papers
            .iter()
            .flat_map(|slot| {
                slot.images.iter().map(|img| Attachment {
                    reference: img.reference(&slot.paper),
                    bytes: img.jpeg.to_vec(),
                })
            })
            .collect();
        let dossier = services.into_dossier(
            self.p.journey.catalog(),
            uuid::Uuid::new_v4().to_string(),
            &actor,
            CONSENT_TEXT_VERSION,
            ts,
        );
        let stored = match dossier {
            Ok(dossier) => self
                .p
                .store
                .submit(dossier, attachments, actor, today, ts)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match stored {
            Ok(stored) => {
                tracing::info!(procedure = %stored.procedure, "dossier stored");
                if let (Some(h), Some(code)) =
                    (self.p.helper.as_mut(), stored.tracking_code.as_ref())
                {
                    h.submitted(&code.to_string(), self.p.store.records_mut());
                }
                let code = stored
                    .tracking_code
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let receipt = self.receipt_of(&stored, code, today, ts);
                self.receipt_notice = None;
                self.feed(J::Stored(receipt));
            }
            Err(e) => {
                tracing::error!("dossier not stored: {e}");
                self.feed(J::Failed(ErrorKind::StoreFailed));
            }
        }
    }

    /// The receipt of a dossier handed in at `ts`: its code and the date the result is
    /// expected, the procedure's working days after `today`.
    fn receipt_of(
        &self,
        dossier: &Dossier,
        tracking_code: String,
        today: jiff::civil::Date,
        ts: jiff::Timestamp,
    ) -> Receipt {
        let days = self
            .p
            .journey
            .catalog()
            .procedure(dossier.procedure.as_str())
            .map_or(0, |p| p.processing_days);
        Receipt {
            tracking_code,
            procedure: dossier.procedure.0.clone(),
            expected_date: Holidays::bundled().due_date(today, days),
            submitted_at: ts,
        }
    }

    fn store_rating(&mut self, r: RatingRecord) {
        let rating = Rating {
            id: uuid::Uuid::new_v4().to_string(),
            commune: self.p.store.commune().clone(),
            procedure: ProcedureCode(r.procedure),
            level: r.level,
            reason: Some(r.reason).filter(|s| !s.is_empty()),
            at: self.p.clock.timestamp(),
        };
        if let Err(e) = self.p.store.save_rating(&rating) {
            tracing::error!("rating not saved: {e}");
        }
    }

    /// The card holder's id number, when the card read now verified.
    fn holder(&self) -> Option<String> {
        let j = &self.p.journey;
        j.card_verified()
            .then(|| j.card().and_then(|c| c.id_number()).map(str::to_owned))
            .flatten()
    }

    fn show_status(&mut self, found: Result<Option<Dossier>, crate::store::StoreError>) {
        // A helper sees a resident's dossier only inside a session that resident agreed to.
        let found = found.map(|d| {
            d.filter(|d| {
                self.p
                    .helper
                    .as_ref()
                    .is_none_or(|h| h.may_open(&d.applicant.id_number))
            })
        });
        let holder = self.holder();
        let view = match found {
            Ok(d) => {
                let view = d.as_ref().map(|d| {
                    crate::status::status_of(d, self.p.journey.catalog(), holder.as_deref())
                });
                self.shown_dossier = d;
                view
            }
            Err(e) => {
                tracing::error!("status lookup failed: {e}");
                self.shown_dossier = None;
                None
            }
        };
        self.feed(xaso_kiosk_core::Input::StatusFound(view));
    }

    /// A code this kiosk does not hold: with the holder's verified card, ask the hub.
    fn lookup_at_counter(&mut self, code: &TrackingCode) {
        use xaso_kiosk_core::Input as J;
        let Some(holder) = self.holder() else {
            return self.show_status(Ok(None));
        };
        match self.p.counter.lookup(&code.to_string(), &holder) {
            Ok(found) => self.show_status(Ok(found)),
            Err(CounterError::NoHub) => self.show_status(Ok(None)),
            Err(e) => {
                tracing::warn!("status lookup at the hub failed: {e}");
                self.feed(J::Failed(ErrorKind::NoLink));
            }
        }
    }

    /// The pages of a supplement: here when this kiosk holds the dossier, else at the hub.
    fn store_supplement(
        &mut self,
        code: &str,
        id_number: &str,
        papers: Vec<xaso_kiosk_core::PaperSlot>,
    ) {
        use xaso_kiosk_core::Input as J;
        let Ok(parsed) = TrackingCode::parse(code) else {
            return self.feed(J::Failed(ErrorKind::InvalidTrackingCode));
        };
        let attachments: Vec<Attachment> = papers
            .iter()
            .flat_map(|slot| {
                slot.images.iter().map(|img| Attachment {
                    reference: img.reference(&slot.paper),
                    bytes: img.jpeg.to_vec(),
                })
            })
            .collect();
        let actor = kiosk_actor(self.p.store.commune(), self.p.device);
        let now = self.p.clock.timestamp();
        let local = match self.p.store.dossier_by_code(&parsed) {
            Ok(Some(_)) => true,
            Ok(None) => false,
            Err(e) => {
                tracing::error!("supplement not stored: {e}");
                return self.feed(J::Failed(ErrorKind::StoreFailed));
            }
        };
        let result = if local {
            self.p
                .store
                .supplement(&parsed, attachments, actor, now)
                .map_err(|e| {
                    tracing::error!("supplement not stored: {e}");
                    ErrorKind::StoreFailed
                })
        } else {
            let pages = attachments
                .into_iter()
                .map(|a| Page {
                    paper: a.reference.paper,
                    media_type: a.reference.media_type,
                    bytes: a.bytes,
                })
                .collect();
            self.p
                .counter
                .supplement(code, id_number, pages)
                .map_err(|e| {
                    tracing::warn!("supplement at the hub failed: {e}");
                    ErrorKind::NoLink
                })
        };
        match result {
            Ok(Some(d)) => {
                tracing::info!(procedure = %d.procedure, "supplement stored");
                let holder = self.holder();
                let view =
                    crate::status::status_of(&d, self.p.journey.catalog(), holder.as_deref());
                self.shown_dossier = Some(d);
                self.feed(J::SupplementStored(view));
            }
            Ok(None) => self.feed(J::Failed(ErrorKind::UnknownTrackingCode)),
            Err(kind) => self.feed(J::Failed(kind)),
        }
    }

    /// Writes the signed result of the dossier on the status screen to the receipts
    /// directory, exactly as stored (its signature covers every byte).
    fn save_result(&mut self) {
        let Some(result) = self.shown_dossier.as_ref().and_then(|d| d.result.clone()) else {
            return;
        };
        let code = self
            .shown_dossier
            .as_ref()
            .and_then(|d| d.tracking_code.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default();
        let bytes = match self.p.store.attachment(&result.file.sha256) {
            Ok(Some(b)) => b,
            Ok(None) => {
                tracing::warn!("the result document has not arrived yet");
                return;
            }
            Err(e) => {
                tracing::error!("result not read: {e}");
                return;
            }
        };
        let Some(dir) = self.p.receipts_dir.clone() else {
            return;
        };
        let path = dir.join(format!("ket-qua-{code}.pdf"));
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &bytes)) {
            Ok(()) => self.last_result_pdf = Some(path),
            Err(e) => tracing::error!("result not saved: {e}"),
        }
    }

    /// Whether the result shown was saved (for the notice under it).
    pub fn result_saved(&self) -> bool {
        self.last_result_pdf.is_some() && self.shown_dossier.is_some()
    }

    /// The text of a [`Speech`] in the journey's language.
    pub fn speech_text(&self, speech: &Speech) -> String {
        let lang = self.p.journey.lang();
        let l = lang;
        let catalog = self.p.journey.catalog();
        match speech {
            Speech::Welcome => self
                .p
                .translations
                .get(lang, "kiosk.read_aloud.welcome", &[]),
            Speech::Procedure(code) => catalog
                .procedure(code)
                .map(|p| format!("{}. {}", p.name.get(l), p.description.get(l)))
                .unwrap_or_default(),
            Speech::LifeEvent(id) => catalog
                .life_event(id)
                .map(|e| format!("{}. {}", e.name.get(l), e.description.get(l)))
                .unwrap_or_default(),
            Speech::TrackingCode(code) => code.clone(),
        }
    }

    fn speak(&mut self, speech: &Speech) {
        let lesson = (self.p.journey.screen() == xaso_kiosk_core::Screen::Skills)
            .then(|| self.p.lessons.read_aloud(self.p.journey.lang()))
            .flatten();
        let text = lesson.unwrap_or_else(|| self.speech_text(speech));
        self.last_spoken = Some(text.clone());
        if !self.p.speech {
            return;
        }
        let voice = self.p.journey.lang().code();
        match std::process::Command::new("espeak-ng")
            .args(["-v", voice, "--", &text])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(_child) => {}
            Err(e) => tracing::warn!("read-aloud unavailable (espeak-ng): {e}"),
        }
    }

    // ----- the receipt -----

    fn print_receipt(&mut self) {
        let Some(r) = self.p.journey.receipt().cloned() else {
            return;
        };
        let name = self
            .p
            .journey
            .catalog()
            .procedure(&r.procedure)
            .map_or(r.procedure.clone(), |p| p.name.get(Lang::Vi).to_owned());
        let bytes = escpos(&PrintedReceipt {
            commune: self.p.store.commune().as_str(),
            procedure: &name,
            tracking_code: &r.tracking_code,
            expected_date: &xaso_i18n::format_date(r.expected_date),
            submitted_at: &r.submitted_at.to_string(),
        });
        self.receipt_notice = Some(match self.p.printer.as_mut() {
            None => ReceiptNotice::NoPrinter,
            Some(printer) => match printer.print(&bytes) {
                Ok(()) => {
                    self.last_print = Some(bytes);
                    ReceiptNotice::Printed
                }
                Err(e) => {
                    tracing::error!("receipt printer: {e}");
                    ReceiptNotice::Failed
                }
            },
        });
    }

    /// Saves the receipt screen as a PNG (the window's own rendering).
    fn save_receipt_png(&mut self, snapshot: &dyn Fn() -> Snapshot) {
        let (Some(dir), Some(r)) = (
            self.p.receipts_dir.clone(),
            self.p.journey.receipt().cloned(),
        ) else {
            return;
        };
        let path = dir.join(format!("bien-nhan-{}.png", r.tracking_code));
        let written = snapshot().and_then(|img| img.save(&path).map_err(|e| e.to_string()));
        self.receipt_notice = Some(match written {
            Ok(()) => {
                self.last_receipt_png = Some(path);
                ReceiptNotice::SavedPng
            }
            Err(e) => {
                tracing::error!("receipt PNG: {e}");
                ReceiptNotice::Failed
            }
        });
    }

    /// What the PDF receipt says, in the resident's language.
    pub fn receipt_document(&self) -> Option<ReceiptDocument> {
        let r = self.p.journey.receipt()?;
        let procedure = self.p.journey.catalog().procedure(&r.procedure);
        let dossier = TrackingCode::parse(&r.tracking_code).ok().and_then(|c| {
            match self.p.store.dossier_by_code(&c) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("receipt: dossier not readable: {e}");
                    None
                }
            }
        });
        Some(crate::receipt::document(
            r,
            procedure,
            dossier.as_ref(),
            self.p.store.commune().as_str(),
            &self.p.translations,
            self.p.journey.lang(),
        ))
    }

    /// Saves the receipt as a PDF next to the PNG receipts.
    fn save_receipt_pdf(&mut self) {
        let (Some(dir), Some(doc)) = (self.p.receipts_dir.clone(), self.receipt_document()) else {
            return;
        };
        let path = dir.join(format!("bien-nhan-{}.pdf", doc.tracking_code));
        let written = crate::receipt::pdf(&doc)
            .map_err(|e| e.to_string())
            .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
        self.receipt_notice = Some(match written {
            Ok(()) => {
                self.last_receipt_pdf = Some(path);
                ReceiptNotice::SavedPdf
            }
            Err(e) => {
                tracing::error!("receipt PDF: {e}");
                ReceiptNotice::Failed
            }
        });
    }
}
