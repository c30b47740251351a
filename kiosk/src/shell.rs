//! The thin shell around [`Kiosk`]: it wires the Slint window's callbacks to the state
//! machine, performs the effects (store, lookups, speech, printing) and pushes the state back
//! into the window's properties and models.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use slint::{
    ComponentHandle, Image, ModelRc, Rgba8Pixel, SharedPixelBuffer, SharedString, VecModel,
};
use xaso_i18n::{Lang, Translations};
use xaso_services::dossier::{Applicant, Channel, Consent, Dossier};
use xaso_services::rating::{Rating, Satisfaction};
use xaso_services::tracking::TrackingCode;
use xaso_services::{Fee, FieldKind, ProcedureCode, Submitter};

use crate::card::CardEvent;
use crate::core::{
    Effect, ErrorKind, Kiosk, RatingLevel, Receipt, Screen, StatusEntry, StatusView, Submission,
    ValueSource, input_style,
};
use crate::form::iso_to_display;
use crate::papers::{ImageSource, PaperError, normalise};
use crate::receipt::{PrintedReceipt, ReceiptDocument, escpos, qr_image};
use crate::store::{Attachment, KioskStore, expected_date, kiosk_actor};
use crate::ui::{AppWindow, Choice, FieldRow, Item, PaperRow, SummaryRow};

/// Time, injected so tests can make the resident walk away.
pub trait Clock {
    fn now(&self) -> Instant;
    fn timestamp(&self) -> jiff::Timestamp;
    fn today(&self) -> jiff::civil::Date;
}

/// The machine's clock, in Viet Nam's time zone for dates.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn timestamp(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
    fn today(&self) -> jiff::civil::Date {
        let tz = jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap_or(jiff::tz::TimeZone::UTC);
        jiff::Timestamp::now().to_zoned_datetime(tz).date()
    }
}

/// A clock that only moves when told to.
#[derive(Clone)]
pub struct ManualClock {
    start: Instant,
    offset: Rc<std::cell::Cell<Duration>>,
    at: jiff::Timestamp,
}

impl ManualClock {
    pub fn new(at: jiff::Timestamp) -> ManualClock {
        ManualClock {
            start: Instant::now(),
            offset: Rc::default(),
            at,
        }
    }
    pub fn advance(&self, d: Duration) {
        self.offset.set(self.offset.get() + d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.offset.get()
    }
    fn timestamp(&self) -> jiff::Timestamp {
        self.at
            .checked_add(jiff::SignedDuration::try_from(self.offset.get()).unwrap_or_default())
            .unwrap_or(self.at)
    }
    fn today(&self) -> jiff::civil::Date {
        self.timestamp()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date()
    }
}

/// The chip card reader as the kiosk shell uses it. In the demo and tests a resident is
/// "placed" on the reader by id; with a real reader the events come from PC/SC.
pub trait CardReader {
    /// Synthetic residents that can be placed on the reader (demo mode); empty otherwise.
    fn residents(&self) -> Vec<(String, String, String)>;
    /// Places the resident's card on the reader and reads it.
    fn place(&mut self, resident: &str) -> Vec<CardEvent>;
    /// Takes the card away.
    fn remove(&mut self) -> Vec<CardEvent>;
    /// The access keys derived from the QR code on the resident's card, tried in turn on
    /// the next card read (before any configured key); empty forgets them.
    fn set_qr_keys(&mut self, _keys: Vec<xaso_idcard::MrzKey>) {}
    /// Events that happened on their own since the last call (a real reader: a card was
    /// placed, read or taken away). Called from the shell's timer.
    fn poll(&mut self) -> Vec<CardEvent> {
        Vec::new()
    }
    /// Where the cards come from.
    fn source(&self) -> crate::card::CardSource {
        crate::card::CardSource::Software
    }
}

/// Where the receipt goes.
#[derive(Debug, Clone, Default)]
pub struct ReceiptOutput {
    /// An ESC/POS printer device (e.g. `/dev/usb/lp0`) or file.
    pub printer: Option<PathBuf>,
    /// Directory for saved receipts (PNG and PDF).
    pub save_dir: Option<PathBuf>,
}

/// Everything the shell needs besides the window.
pub struct ShellParts {
    pub kiosk: Kiosk,
    pub store: KioskStore,
    pub device: u16,
    pub translations: Translations,
    pub clock: Box<dyn Clock>,
    pub card: Box<dyn CardReader>,
    pub images: Box<dyn ImageSource>,
    /// Where pictures of the card's QR code arrive (the newest is read).
    pub qr_images: Option<PathBuf>,
    pub receipt: ReceiptOutput,
    /// Speak texts with espeak-ng when it is installed.
    pub speech: bool,
}

pub struct Shell {
    p: ShellParts,
    ui: slint::Weak<AppWindow>,
    last_countdown: Option<u64>,
    /// The last PNG receipt written, for tests and the demo.
    pub last_receipt_png: Option<PathBuf>,
    /// The last PDF receipt written, for tests and the demo.
    pub last_receipt_pdf: Option<PathBuf>,
    /// What was last sent to the printer.
    pub last_print: Option<Vec<u8>>,
    /// The last text read aloud.
    pub last_spoken: Option<String>,
}

/// The running kiosk: the window and its shell.
pub struct App {
    pub ui: AppWindow,
    pub shell: Rc<RefCell<Shell>>,
}

impl App {
    pub fn new(ui: AppWindow, parts: ShellParts) -> App {
        let shell = Rc::new(RefCell::new(Shell {
            p: parts,
            ui: ui.as_weak(),
            last_countdown: None,
            last_receipt_png: None,
            last_receipt_pdf: None,
            last_print: None,
            last_spoken: None,
        }));
        wire(&ui, &shell);
        {
            let source = shell.borrow().p.card.source();
            ui.set_demo(!shell.borrow().p.card.residents().is_empty());
            ui.set_has_camera(shell.borrow().p.images.has_camera());
            ui.set_card_source(source.kind().into());
            ui.set_card_reader(source.reader().into());
        }
        shell.borrow_mut().refresh();
        App { ui, shell }
    }

    /// Called about once a second: idle countdown and wipe.
    pub fn tick(&self) {
        self.shell.borrow_mut().tick();
    }

    pub fn kiosk_screen(&self) -> Screen {
        self.shell.borrow().p.kiosk.screen()
    }

    /// Starts a timer that ticks the idle logic while the event loop runs.
    pub fn start_timer(&self) -> slint::Timer {
        let timer = slint::Timer::default();
        let weak = Rc::downgrade(&self.shell);
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(500),
            move || {
                if let Some(s) = weak.upgrade() {
                    s.borrow_mut().tick();
                }
            },
        );
        timer
    }

    pub fn with_store<R>(&self, f: impl FnOnce(&KioskStore) -> R) -> R {
        f(&self.shell.borrow().p.store)
    }
}

fn wire(ui: &AppWindow, shell: &Rc<RefCell<Shell>>) {
    // Each callback borrows the shell, runs one input and redraws.
    fn on<F: Fn(&mut Shell) + 'static>(shell: &Rc<RefCell<Shell>>, f: F) -> impl Fn() + 'static {
        let weak: Weak<RefCell<Shell>> = Rc::downgrade(shell);
        move || {
            if let Some(s) = weak.upgrade()
                && let Ok(mut s) = s.try_borrow_mut()
            {
                f(&mut s);
                s.refresh();
            }
        }
    }
    macro_rules! cb {
        ($setter:ident, |$s:ident $(, $arg:ident : $t:ty)*| $body:expr) => {{
            let weak: Weak<RefCell<Shell>> = Rc::downgrade(shell);
            ui.$setter(move |$($arg: $t),*| {
                if let Some(s) = weak.upgrade()
                    && let Ok(mut guard) = s.try_borrow_mut()
                {
                    let $s: &mut Shell = &mut guard;
                    $body;
                    $s.refresh();
                }
            });
        }};
    }
    ui.on_go_home(on(shell, |s| s.input(|k, now| k.go_home(now))));
    ui.on_back(on(shell, |s| s.input(|k, now| k.back(now))));
    ui.on_still_here(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.still_here(now);
    }));
    ui.on_read_aloud(on(shell, |s| {
        let text = s.screen_text();
        s.input(|k, now| k.read_aloud(text, now));
    }));
    cb!(on_open, |s, screen: SharedString| {
        let now = s.p.clock.now();
        let target = match screen.as_str() {
            "identify" => Screen::Identify,
            "services" => Screen::Services,
            "status" => Screen::Status,
            "skills" => Screen::Skills,
            _ => Screen::Home,
        };
        s.p.kiosk.open(target, now);
    });
    cb!(on_set_lang, |s, lang: SharedString| {
        let now = s.p.clock.now();
        let lang = Lang::from_tag(&lang).unwrap_or(Lang::Vi);
        s.p.kiosk.set_lang(lang, now);
        let tag = if lang == Lang::En { "en" } else { "" };
        if let Err(e) = slint::select_bundled_translation(tag) {
            tracing::warn!("cannot switch the UI language: {e}");
        }
    });
    ui.on_qr_scan(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.start_qr_scan(now);
    }));
    ui.on_qr_cancel(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.cancel_qr_scan(now);
    }));
    // A keyboard-wedge scanner typed the QR text and Enter into the focused input.
    cb!(on_qr_text, |s, text: SharedString| {
        let keys = crate::qrscan::keys_from_text(&text);
        s.use_qr_keys(keys);
    });
    // A picture of the QR code: the newest image in the QR directory.
    ui.on_qr_image(on(shell, |s| {
        let keys = match s
            .p
            .qr_images
            .as_deref()
            .and_then(crate::qrscan::newest_image)
        {
            Some(path) => std::fs::read(&path)
                .map_err(|e| {
                    tracing::warn!("QR image: {e}");
                    crate::qrscan::QrProblem::Unreadable
                })
                .and_then(|bytes| crate::qrscan::keys_from_image(&bytes)),
            None => Err(crate::qrscan::QrProblem::NotFound),
        };
        s.use_qr_keys(keys);
    }));
    cb!(on_choose_resident, |s, id: SharedString| {
        let events = s.p.card.place(&id);
        s.card_events(events);
    });
    ui.on_remove_card(on(shell, |s| {
        let events = s.p.card.remove();
        s.card_events(events);
    }));
    ui.on_card_continue(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.continue_after_identify(now);
    }));
    ui.on_resume_draft(on(shell, |s| s.input(|k, now| k.resume_draft(now))));
    cb!(on_key, |s, k: SharedString| {
        for ch in k.chars() {
            s.input(|kiosk, now| kiosk.key(ch, now));
        }
    });
    ui.on_backspace(on(shell, |s| s.input(|k, now| k.backspace(now))));
    ui.on_clear_text(on(shell, |s| s.input(|k, now| k.clear_field(now))));
    ui.on_keyboard_done(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.touch(now);
        s.p.kiosk.unfocus();
    }));
    cb!(on_choose_life_event, |s, id: SharedString| {
        let now = s.p.clock.now();
        s.p.kiosk.choose_life_event(&id, now);
    });
    cb!(on_choose_procedure, |s, code: SharedString| {
        let now = s.p.clock.now();
        s.p.kiosk.choose_procedure(&code, now);
    });
    cb!(on_focus_field, |s, id: SharedString| {
        let now = s.p.clock.now();
        s.p.kiosk.focus_field(&id, now);
    });
    cb!(
        on_choose_value,
        |s, field: SharedString, value: SharedString| {
            s.input(|k, now| k.choose_value(&field, &value, now));
        }
    );
    ui.on_form_next(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.form_next(now);
    }));
    cb!(on_paper_camera, |s, paper: SharedString| {
        let r = s.p.images.capture();
        s.add_image(&paper, None, r, ErrorKind::CameraFailed);
    });
    cb!(on_paper_import, |s, paper: SharedString| {
        let r = s.p.images.import();
        s.add_image(&paper, None, r, ErrorKind::ImageUnreadable);
    });
    cb!(on_paper_retake, |s, paper: SharedString, index: i32| {
        let r = s.p.images.capture();
        s.add_image(
            &paper,
            usize::try_from(index).ok(),
            r,
            ErrorKind::CameraFailed,
        );
    });
    cb!(on_paper_remove, |s, paper: SharedString, index: i32| {
        let now = s.p.clock.now();
        if let Ok(i) = usize::try_from(index) {
            s.p.kiosk.remove_paper_image(&paper, i, now);
        }
    });
    cb!(on_paper_up, |s, paper: SharedString, index: i32| {
        let now = s.p.clock.now();
        if let Ok(i) = usize::try_from(index) {
            s.p.kiosk.move_paper_image_up(&paper, i, now);
        }
    });
    ui.on_papers_next(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.papers_next(now);
    }));
    cb!(on_set_consent, |s, c: bool| {
        let now = s.p.clock.now();
        s.p.kiosk.set_consent(c, now);
    });
    ui.on_submit(on(shell, |s| s.input(|k, now| k.submit(now))));
    ui.on_receipt_print(on(shell, Shell::print_receipt));
    ui.on_receipt_save(on(shell, Shell::save_receipt));
    ui.on_receipt_save_pdf(on(shell, Shell::save_receipt_pdf));
    ui.on_next_step(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.continue_life_event(now);
    }));
    ui.on_to_rating(on(shell, |s| {
        let now = s.p.clock.now();
        s.p.kiosk.open(Screen::Rating, now);
    }));
    cb!(on_choose_rating, |s, level: SharedString| {
        let now = s.p.clock.now();
        if let Some(l) = RatingLevel::parse(&level) {
            s.p.kiosk.choose_rating(l, now);
        }
    });
    ui.on_send_rating(on(shell, |s| s.input(|k, now| k.send_rating(now))));
    ui.on_status_lookup(on(shell, |s| s.input(|k, now| k.lookup_status(now))));
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

fn rgba_image(rgba: &[u8], width: u32, height: u32) -> Image {
    let mut buf = SharedPixelBuffer::<Rgba8Pixel>::new(width, height);
    let bytes = buf.make_mut_bytes();
    if bytes.len() == rgba.len() {
        bytes.copy_from_slice(rgba);
    }
    Image::from_rgba8(buf)
}

impl Shell {
    fn input(&mut self, f: impl FnOnce(&mut Kiosk, Instant) -> Vec<Effect>) {
        let now = self.p.clock.now();
        self.p.kiosk.set_today(self.p.clock.today());
        let effects = f(&mut self.p.kiosk, now);
        self.run(effects);
    }

    fn card_events(&mut self, events: Vec<CardEvent>) {
        for e in events {
            self.input(|k, now| k.card_event(e, now));
        }
    }

    /// Hands the QR code's access keys to the card reader for the next read.
    fn use_qr_keys(&mut self, keys: Result<Vec<xaso_idcard::MrzKey>, crate::qrscan::QrProblem>) {
        let now = self.p.clock.now();
        match keys {
            Ok(keys) => {
                tracing::info!("card QR code read: {} access key candidates", keys.len());
                self.p.card.set_qr_keys(keys);
                self.p.kiosk.qr_scanned(Ok(()), now);
            }
            Err(p) => {
                tracing::info!("card QR code not usable: {}", p.as_str());
                self.p.kiosk.qr_scanned(Err(p), now);
            }
        }
    }

    /// Places a (demo) resident's card on the reader and reads it.
    pub fn place_card(&mut self, resident: &str) {
        let events = self.p.card.place(resident);
        self.card_events(events);
        self.refresh();
    }

    /// Feeds a card event from a reader thread or a test.
    pub fn card_event(&mut self, event: CardEvent) {
        self.card_events(vec![event]);
        self.refresh();
    }

    pub fn store_mut(&mut self) -> &mut KioskStore {
        &mut self.p.store
    }

    pub fn kiosk(&self) -> &Kiosk {
        &self.p.kiosk
    }

    fn tick(&mut self) {
        let card_events = self.p.card.poll();
        if !card_events.is_empty() {
            self.card_events(card_events);
            self.refresh();
        }
        let now = self.p.clock.now();
        let effects = self.p.kiosk.tick(now);
        let countdown = self.p.kiosk.idle_countdown(now);
        if !effects.is_empty() {
            self.run(effects);
            self.refresh();
        } else if countdown != self.last_countdown
            && let Some(ui) = self.ui.upgrade()
        {
            ui.set_idle_countdown(countdown.map_or(-1, |c| i32::try_from(c).unwrap_or(i32::MAX)));
        }
        self.last_countdown = countdown;
    }

    fn add_image(
        &mut self,
        paper: &str,
        replace: Option<usize>,
        bytes: Result<Vec<u8>, PaperError>,
        on_error: ErrorKind,
    ) {
        let now = self.p.clock.now();
        match bytes.and_then(|b| normalise(&b)) {
            Ok(img) => match replace {
                Some(i) => self.p.kiosk.replace_paper_image(paper, i, img, now),
                None => self.p.kiosk.add_paper_image(paper, img, now),
            },
            Err(e) => {
                tracing::warn!("paper image not taken: {e}");
                let kind = match e {
                    PaperError::Unreadable(_) => ErrorKind::ImageUnreadable,
                    _ => on_error,
                };
                self.p.kiosk.show_error(kind, now);
            }
        }
    }

    fn run(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::StoreDossier(sub) => self.store_dossier(*sub),
                Effect::StoreRating(r) => {
                    let rating = Rating {
                        id: uuid::Uuid::new_v4().to_string(),
                        commune: self.p.store.commune().clone(),
                        procedure: ProcedureCode(r.procedure),
                        level: match r.level {
                            RatingLevel::VerySatisfied => Satisfaction::VerySatisfied,
                            RatingLevel::Satisfied => Satisfaction::Satisfied,
                            RatingLevel::Acceptable => Satisfaction::Acceptable,
                            RatingLevel::NotSatisfied => Satisfaction::NotSatisfied,
                        },
                        reason: Some(r.reason).filter(|s| !s.is_empty()),
                        at: self.p.clock.timestamp(),
                    };
                    if let Err(e) = self.p.store.save_rating(&rating) {
                        tracing::error!("rating not saved: {e}");
                    }
                }
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
                    Ok(Some((procedure, values))) => self.p.kiosk.offer_draft(procedure, values),
                    Ok(None) => {}
                    Err(e) => tracing::error!("draft not loaded: {e}"),
                },
                Effect::LookupCode(code) => {
                    let now = self.p.clock.now();
                    match TrackingCode::parse(&code) {
                        Err(_) => self.p.kiosk.show_error(ErrorKind::InvalidTrackingCode, now),
                        Ok(code) => {
                            let found = self.p.store.dossier_by_code(&code);
                            let view = self.status_view(found);
                            self.p.kiosk.show_status(view, now);
                        }
                    }
                }
                Effect::LookupCard(id) => {
                    let now = self.p.clock.now();
                    let found = self.p.store.dossiers_of(&id).map(|v| v.into_iter().next());
                    let view = self.status_view(found);
                    self.p.kiosk.show_status(view, now);
                }
                Effect::Speak(text) => self.speak(text),
                Effect::Wiped => {
                    // The QR code's keys belong to the session that ended.
                    self.p.card.set_qr_keys(Vec::new());
                    if let Err(e) = slint::select_bundled_translation("") {
                        tracing::warn!("cannot reset the UI language: {e}");
                    }
                }
            }
        }
    }

    fn store_dossier(&mut self, sub: Submission) {
        let now = self.p.clock.now();
        let ts = self.p.clock.timestamp();
        let today = self.p.clock.today();
        let Some(procedure) = self.p.kiosk.catalog().procedure(&sub.procedure).cloned() else {
            return;
        };
        let value = |k: &str| sub.values.get(k).cloned().unwrap_or_default();
        let applicant = Applicant {
            id_number: sub
                .requester_id_number
                .clone()
                .unwrap_or_else(|| value("requester_id_number")),
            full_name: value("requester_full_name"),
            submitter: match value("requester_relationship").as_str() {
                "mother" | "father" | "" => Submitter::Oneself,
                "authorised" => Submitter::Authorised,
                _ => Submitter::Relative,
            },
            card_verified: sub.card_verified,
        };
        let mut dossier = Dossier::new(
            uuid::Uuid::new_v4().to_string(),
            procedure.code.clone(),
            applicant,
            Channel::Kiosk,
            ts,
        );
        dossier.values = sub.values.clone();
        dossier.consent = Some(Consent {
            given_at: ts,
            text_version: "consent.v1".into(),
            reuse_for_later: false,
            assisted_by: None,
        });
        let attachments: Vec<Attachment> = sub
            .papers
            .iter()
            .flat_map(|slot| {
                slot.images
                    .iter()
                    .map(|img| Attachment::jpeg(&slot.paper, img.jpeg.clone()))
            })
            .collect();
        let actor = kiosk_actor(self.p.store.commune(), self.p.device);
        match self.p.store.submit(dossier, attachments, actor, today, ts) {
            Ok(stored) => {
                let code = stored
                    .tracking_code
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                tracing::info!(procedure = %stored.procedure, "dossier stored");
                let receipt = Receipt {
                    tracking_code: code,
                    procedure: procedure.code.0.clone(),
                    expected_date: expected_date(today, procedure.processing_days).to_string(),
                    submitted_at: ts.to_string(),
                };
                let effects = self.p.kiosk.submitted(receipt, now);
                self.run(effects);
            }
            Err(e) => {
                tracing::error!("dossier not stored: {e}");
                self.p.kiosk.show_error(ErrorKind::StoreFailed, now);
            }
        }
    }

    fn status_view(
        &self,
        found: Result<Option<Dossier>, crate::store::StoreError>,
    ) -> Option<StatusView> {
        let d = match found {
            Ok(d) => d?,
            Err(e) => {
                tracing::error!("status lookup failed: {e}");
                return None;
            }
        };
        let lang = self.p.kiosk.lang();
        let t = &self.p.translations;
        let procedure = self.p.kiosk.catalog().procedure(d.procedure.as_str());
        let days = procedure.map_or(0, |p| p.processing_days);
        let submitted_on = d
            .audit()
            .first()
            .map(|e| e.at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
            .unwrap_or_else(|| self.p.clock.today());
        Some(StatusView {
            tracking_code: d
                .tracking_code
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            procedure: procedure.map_or_else(
                || d.procedure.0.clone(),
                |p| p.name.get(lang.code()).to_owned(),
            ),
            state: t.get(lang, d.state().key(), &[]),
            history: d
                .audit()
                .iter()
                .map(|e| StatusEntry {
                    at: xaso_i18n::format_date(
                        e.at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
                    ),
                    what: t.get(lang, e.to.key(), &[]),
                })
                .collect(),
            missing: d.missing().map(str::to_owned).into_iter().collect(),
            ready_on: xaso_i18n::format_date(expected_date(submitted_on, days)),
        })
    }

    fn speak(&mut self, text: String) {
        self.last_spoken = Some(text.clone());
        if !self.p.speech {
            return;
        }
        let voice = if self.p.kiosk.lang() == Lang::En {
            "en"
        } else {
            "vi"
        };
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

    /// The main text of the current screen, for the read-aloud button.
    fn screen_text(&self) -> String {
        let lang = self.p.kiosk.lang().code();
        let k = &self.p.kiosk;
        match k.screen() {
            Screen::Form | Screen::Review => k
                .procedure()
                .map(|p| format!("{}. {}", p.name.get(lang), p.description.get(lang)))
                .unwrap_or_default(),
            Screen::LifeEvent => k
                .life_event()
                .map(|e| format!("{}. {}", e.name.get(lang), e.description.get(lang)))
                .unwrap_or_default(),
            Screen::Receipt => k.receipt().map(|r| r.tracking_code.clone()).unwrap_or_default(),
            _ if lang == "en" => "Xa So public services. Tap your ID card, find a service, check your dossier, or learn digital skills.".into(),
            _ => "Xã Số, dịch vụ công. Chạm thẻ căn cước, tìm dịch vụ, tra cứu hồ sơ hoặc học kỹ năng số.".into(),
        }
    }

    fn print_receipt(&mut self) {
        let Some(r) = self.p.kiosk.receipt().cloned() else {
            return;
        };
        let name = self
            .p
            .kiosk
            .catalog()
            .procedure(&r.procedure)
            .map_or(r.procedure.clone(), |p| p.name.vi.clone());
        let bytes = escpos(&PrintedReceipt {
            commune: self.p.store.commune().as_str(),
            procedure: &name,
            tracking_code: &r.tracking_code,
            expected_date: &iso_to_display(&r.expected_date),
            submitted_at: &r.submitted_at,
        });
        let notice = match &self.p.receipt.printer {
            None => "no-printer",
            Some(path) => match std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
            {
                Ok(()) => {
                    self.last_print = Some(bytes);
                    "printed"
                }
                Err(e) => {
                    tracing::error!("receipt printer: {e}");
                    "print-failed"
                }
            },
        };
        if let Some(ui) = self.ui.upgrade() {
            ui.set_receipt_notice(notice.into());
        }
    }

    /// Saves the receipt screen as a PNG (the window's own rendering).
    fn save_receipt(&mut self) {
        let (Some(ui), Some(dir), Some(r)) = (
            self.ui.upgrade(),
            self.p.receipt.save_dir.clone(),
            self.p.kiosk.receipt().cloned(),
        ) else {
            return;
        };
        let notice = match ui.window().take_snapshot() {
            Ok(buf) => {
                let path = dir.join(format!("bien-nhan-{}.png", r.tracking_code));
                match image::save_buffer(
                    &path,
                    buf.as_bytes(),
                    buf.width(),
                    buf.height(),
                    image::ExtendedColorType::Rgba8,
                ) {
                    Ok(()) => {
                        self.last_receipt_png = Some(path);
                        "saved"
                    }
                    Err(e) => {
                        tracing::error!("receipt PNG: {e}");
                        "print-failed"
                    }
                }
            }
            Err(e) => {
                tracing::error!("receipt snapshot: {e}");
                "print-failed"
            }
        };
        ui.set_receipt_notice(notice.into());
    }

    /// What the PDF receipt says, in the resident's language: the submitted dossier's
    /// procedure, code, times, fee and the originals of the papers it was sent with.
    pub fn receipt_document(&self) -> Option<ReceiptDocument> {
        let r = self.p.kiosk.receipt()?;
        let lang = self.p.kiosk.lang();
        let l = lang.code();
        let t = |key: &str| self.p.translations.get(lang, key, &[]);
        let procedure = self.p.kiosk.catalog().procedure(&r.procedure);
        let mut details = vec![(
            t("receipt.pdf.commune"),
            self.p.store.commune().as_str().to_owned(),
        )];
        if let Ok(ts) = r.submitted_at.parse::<jiff::Timestamp>() {
            // Viet Nam keeps UTC+7 all year.
            let local = ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)));
            details.push((
                t("receipt.pdf.submitted_at"),
                local.strftime("%d/%m/%Y %H:%M").to_string(),
            ));
        }
        details.push((
            t("receipt.pdf.expected_date"),
            iso_to_display(&r.expected_date),
        ));
        if let Some(p) = procedure {
            let (free, text) = fee_display(&p.fee, l);
            details.push((
                t("receipt.pdf.fee"),
                if free {
                    t("receipt.pdf.fee_free")
                } else {
                    text
                },
            ));
        }
        let mut bring = vec![t("receipt.pdf.bring.card"), t("receipt.pdf.bring.receipt")];
        let code = xaso_services::TrackingCode::parse(&r.tracking_code).ok();
        let dossier = code.and_then(|c| match self.p.store.dossier_by_code(&c) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("receipt: dossier not readable: {e}");
                None
            }
        });
        if let (Some(p), Some(d)) = (procedure, dossier) {
            let mut seen = std::collections::BTreeSet::new();
            for a in &d.attachments {
                if seen.insert(a.paper.clone())
                    && let Some(def) = p.paper(&a.paper)
                {
                    bring.push(self.p.translations.get(
                        lang,
                        "receipt.pdf.bring.original",
                        &[("paper", def.label.get(l))],
                    ));
                }
            }
        }
        Some(ReceiptDocument {
            lang: l.to_owned(),
            title: t("receipt.pdf.title"),
            procedure: procedure.map_or_else(|| r.procedure.clone(), |p| p.name.get(l).to_owned()),
            tracking_label: t("receipt.pdf.tracking_code"),
            tracking_code: r.tracking_code.clone(),
            details,
            bring_heading: t("receipt.pdf.bring"),
            bring,
            note: t("receipt.pdf.note"),
        })
    }

    /// Saves the receipt as a PDF next to the PNG receipts.
    fn save_receipt_pdf(&mut self) {
        let (Some(dir), Some(doc)) = (self.p.receipt.save_dir.clone(), self.receipt_document())
        else {
            return;
        };
        let path = dir.join(format!("bien-nhan-{}.pdf", doc.tracking_code));
        let written = crate::receipt::pdf(&doc)
            .map_err(|e| e.to_string())
            .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
        let notice = match written {
            Ok(()) => {
                self.last_receipt_pdf = Some(path);
                "saved-pdf"
            }
            Err(e) => {
                tracing::error!("receipt PDF: {e}");
                "print-failed"
            }
        };
        if let Some(ui) = self.ui.upgrade() {
            ui.set_receipt_notice(notice.into());
        }
    }

    /// Pushes the state machine's state into the window.
    pub fn refresh(&mut self) {
        let Some(ui) = self.ui.upgrade() else {
            return;
        };
        let k = &self.p.kiosk;
        let lang = k.lang();
        let l = lang.code();
        let now = self.p.clock.now();
        let screen = k.screen();
        ui.set_screen(screen.as_str().into());
        ui.set_lang(l.into());
        let countdown = k.idle_countdown(now);
        self.last_countdown = countdown;
        ui.set_idle_countdown(countdown.map_or(-1, |c| i32::try_from(c).unwrap_or(i32::MAX)));

        // identify
        let state = k.card_state();
        ui.set_card_state(state.as_str().into());
        ui.set_card_problem(match state {
            crate::core::CardState::Failed(p) => p.as_str().into(),
            _ => SharedString::new(),
        });
        ui.set_card_name(k.card().and_then(|c| c.full_name()).unwrap_or("").into());
        let qr = k.qr_state();
        ui.set_qr_state(qr.map_or("", crate::core::QrState::as_str).into());
        ui.set_qr_problem(match qr {
            Some(crate::core::QrState::Failed(p)) => p.as_str().into(),
            _ => SharedString::new(),
        });
        ui.set_has_draft(k.has_draft_offer());
        ui.set_residents(model(
            self.p
                .card
                .residents()
                .into_iter()
                .map(|(id, title, subtitle)| Item {
                    id: id.into(),
                    title: title.into(),
                    subtitle: subtitle.into(),
                })
                .collect(),
        ));

        // services
        ui.set_search_text(k.search_text().into());
        ui.set_life_events(model(
            k.catalog()
                .life_events()
                .map(|e| Item {
                    id: e.id.as_str().into(),
                    title: e.name.get(l).into(),
                    subtitle: e.description.get(l).into(),
                })
                .collect(),
        ));
        ui.set_results(model(
            k.search_results()
                .into_iter()
                .map(|p| Item {
                    id: p.code.as_str().into(),
                    title: p.name.get(l).into(),
                    subtitle: p.description.get(l).into(),
                })
                .collect(),
        ));
        if let Some(e) = k.life_event() {
            ui.set_event_title(e.name.get(l).into());
            ui.set_event_description(e.description.get(l).into());
            ui.set_event_steps(model(
                e.steps
                    .iter()
                    .map(|s| Item {
                        id: s.procedure.as_str().into(),
                        title: k
                            .catalog()
                            .procedure(s.procedure.as_str())
                            .map_or("", |p| p.name.get(l))
                            .into(),
                        subtitle: s.note.as_ref().map_or("", |n| n.get(l)).into(),
                    })
                    .collect(),
            ));
        }

        // form and review
        if let (Some(p), Some(form)) = (k.procedure(), k.form()) {
            ui.set_procedure_name(p.name.get(l).into());
            let mut rows = Vec::new();
            let mut summary = Vec::new();
            for f in &p.fields {
                let value = form.values.get(&f.id).cloned().unwrap_or_default();
                let style = input_style(f.kind);
                let choices: Vec<(String, String)> = match f.kind {
                    FieldKind::Choice => f
                        .choices
                        .iter()
                        .map(|c| (c.value.clone(), c.label.get(l).to_owned()))
                        .collect(),
                    FieldKind::Sex => vec![
                        (
                            "female".into(),
                            if l == "en" { "Female" } else { "Nữ" }.into(),
                        ),
                        ("male".into(), if l == "en" { "Male" } else { "Nam" }.into()),
                    ],
                    FieldKind::Boolean => vec![
                        ("true".into(), if l == "en" { "Yes" } else { "Có" }.into()),
                        (
                            "false".into(),
                            if l == "en" { "No" } else { "Không" }.into(),
                        ),
                    ],
                    _ => Vec::new(),
                };
                let shown = match f.kind {
                    FieldKind::Date if value.contains('-') => iso_to_display(&value),
                    _ if !choices.is_empty() => choices
                        .iter()
                        .find(|(v, _)| *v == value)
                        .map_or(value.clone(), |(_, label)| label.clone()),
                    _ => value.clone(),
                };
                let error = form.errors.get(&f.id).map_or(String::new(), |e| {
                    let args: Vec<(&str, &str)> = e
                        .args
                        .iter()
                        .map(|(a, b)| (a.as_str(), b.as_str()))
                        .collect();
                    self.p.translations.get(lang, &e.key, &args)
                });
                let source = match form.sources.get(&f.id) {
                    Some(ValueSource::Card) => "card",
                    Some(ValueSource::Earlier) => "earlier",
                    Some(ValueSource::Typed) => "typed",
                    None => "",
                };
                if !shown.trim().is_empty() {
                    summary.push(SummaryRow {
                        label: f.label.get(l).into(),
                        value: shown.as_str().into(),
                        source: source.into(),
                    });
                }
                rows.push(FieldRow {
                    id: f.id.as_str().into(),
                    label: f.label.get(l).into(),
                    help: f.help.as_ref().map_or("", |h| h.get(l)).into(),
                    value: shown.into(),
                    style: style.into(),
                    source: source.into(),
                    required: f.required,
                    error: error.into(),
                    focused: form.focus.as_deref() == Some(f.id.as_str()),
                    choices: model(
                        choices
                            .iter()
                            .map(|(v, label)| Choice {
                                value: v.as_str().into(),
                                label: label.as_str().into(),
                                selected: *v == value,
                            })
                            .collect(),
                    ),
                });
            }
            ui.set_keyboard_style(
                form.focus
                    .as_deref()
                    .and_then(|id| p.field(id))
                    .map_or("", |f| input_style(f.kind))
                    .into(),
            );
            let focused = form.focus.as_deref().and_then(|id| p.field(id));
            ui.set_editing_label(focused.map_or("", |f| f.label.get(l)).into());
            ui.set_editing_value(
                focused
                    .and_then(|f| form.values.get(&f.id))
                    .map_or("", String::as_str)
                    .into(),
            );
            ui.set_form_has_errors(!form.errors.is_empty());
            ui.set_fields(model(rows));
            let pages: usize = k.papers().iter().map(|s| s.images.len()).sum();
            if pages > 0 {
                summary.push(SummaryRow {
                    label: if l == "en" {
                        "Papers"
                    } else {
                        "Giấy tờ kèm theo"
                    }
                    .into(),
                    value: if l == "en" {
                        format!("{pages} photos")
                    } else {
                        format!("{pages} ảnh")
                    }
                    .into(),
                    source: "".into(),
                });
            }
            ui.set_summary(model(summary));
            let (free, fee) = fee_display(&p.fee, l);
            ui.set_fee_free(free);
            ui.set_fee_text(fee.into());
            ui.set_processing_days(i32::try_from(p.processing_days).unwrap_or(i32::MAX));
            ui.set_papers(model(
                k.papers()
                    .iter()
                    .map(|slot| {
                        let def = p.paper(&slot.paper);
                        PaperRow {
                            id: slot.paper.as_str().into(),
                            label: def.map_or("", |d| d.label.get(l)).into(),
                            help: def
                                .and_then(|d| d.help.as_ref())
                                .map_or("", |h| h.get(l))
                                .into(),
                            min: def.map_or(0, |d| i32::try_from(d.min).unwrap_or(0)),
                            max: def.map_or(0, |d| i32::try_from(d.max).unwrap_or(0)),
                            count: i32::try_from(slot.images.len()).unwrap_or(0),
                            missing: slot.missing,
                            images: model(
                                slot.images
                                    .iter()
                                    .map(|i| {
                                        rgba_image(
                                            &i.preview_rgba,
                                            i.preview_width,
                                            i.preview_height,
                                        )
                                    })
                                    .collect(),
                            ),
                        }
                    })
                    .collect(),
            ));
        } else {
            ui.set_fields(model(Vec::new()));
            ui.set_papers(model(Vec::new()));
            ui.set_summary(model(Vec::new()));
            ui.set_keyboard_style("".into());
            ui.set_form_has_errors(false);
        }
        ui.set_consent(k.consent());
        ui.set_consent_missing(k.consent_missing());

        // receipt
        match k.receipt() {
            Some(r) => {
                if ui.get_tracking_code() != r.tracking_code.as_str() {
                    ui.set_receipt_notice("".into());
                    match qr_image(&r.tracking_code, 8) {
                        Ok(q) => ui.set_tracking_qr(rgba_image(&q.rgba, q.width, q.width)),
                        Err(e) => tracing::error!("QR: {e}"),
                    }
                }
                ui.set_tracking_code(r.tracking_code.as_str().into());
                ui.set_expected_date(iso_to_display(&r.expected_date).into());
            }
            None => {
                ui.set_tracking_code("".into());
                ui.set_tracking_qr(Image::default());
                ui.set_expected_date("".into());
                ui.set_receipt_notice("".into());
            }
        }

        ui.set_next_step_name(k.next_step().map_or("", |p| p.name.get(l)).into());

        // rating
        ui.set_rating(k.rating().map_or("", RatingLevel::as_str).into());
        ui.set_rating_reason(k.rating_reason().into());
        ui.set_rating_missing(k.rating_missing());

        // status
        ui.set_status_code(k.status_code_text().into());
        match k.status() {
            Some(s) => {
                ui.set_status_found(true);
                ui.set_status_procedure(format!("{} — {}", s.procedure, s.tracking_code).into());
                ui.set_status_state(s.state.as_str().into());
                ui.set_status_ready(s.ready_on.as_str().into());
                ui.set_status_history(model(
                    s.history
                        .iter()
                        .map(|h| Item {
                            id: "".into(),
                            title: h.at.as_str().into(),
                            subtitle: h.what.as_str().into(),
                        })
                        .collect(),
                ));
                ui.set_status_missing(model(
                    s.missing
                        .iter()
                        .map(|m| SharedString::from(m.as_str()))
                        .collect(),
                ));
            }
            None => {
                ui.set_status_found(false);
                ui.set_status_history(model(Vec::new()));
                ui.set_status_missing(model(Vec::new()));
            }
        }
        ui.set_error_kind(k.error().map_or("", ErrorKind::as_str).into());
    }
}

/// Values entered, for the demo's printout.
pub fn describe_values(values: &BTreeMap<String, String>) -> String {
    values
        .iter()
        .map(|(k, v)| format!("  {k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fee as the review screen and the receipt show it: `(free, amount or note)`.
fn fee_display(fee: &Fee, l: &str) -> (bool, String) {
    match fee {
        Fee::Free => (true, String::new()),
        Fee::Fixed { amount_vnd, .. } | Fee::PerDocument { amount_vnd } => {
            (false, xaso_i18n::format_vnd(*amount_vnd))
        }
        Fee::PerPage {
            first_two_pages_vnd,
            ..
        } => (false, xaso_i18n::format_vnd(*first_two_pages_vnd)),
        Fee::SetByProvince { note } => (false, note.get(l).to_owned()),
    }
}
