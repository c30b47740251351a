//! The running kiosk: the window, the shell and the presenter, and the queue between them.
//!
//! Every callback of the window only *queues* an [`Input`] and asks the queue to drain.
//! Whoever drains first holds the shell and applies the inputs one after the other, then
//! lets the presenter push the new state into the window. An input that arrives while the
//! shell is busy — a second tap while a picture is being imported, a callback raised from
//! inside an effect — waits in the queue and is applied right after the current one; none is
//! ever dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use slint::ComponentHandle;
use xaso_i18n::Lang;
use xaso_kiosk_core::{CardEvent, Input as J, ResidentJourney};

use crate::input::Input;
use crate::present::{Presenter, select_language};
use crate::shell::{Shell, ShellParts, Snapshot};
use crate::store::KioskStore;
use crate::ui::AppWindow;

/// The shell, the presenter and the inputs waiting for them.
struct Runner {
    ui: slint::Weak<AppWindow>,
    shell: RefCell<Shell>,
    presenter: RefCell<Presenter>,
    queue: RefCell<VecDeque<Input>>,
}

impl Runner {
    fn push(&self, input: Input) {
        self.queue.borrow_mut().push_back(input);
        self.drain();
    }

    fn pop(&self) -> Option<Input> {
        self.queue.borrow_mut().pop_front()
    }

    /// Applies every queued input, then presents. Returns at once when the shell is busy:
    /// the caller that holds it drains what was queued meanwhile.
    fn drain(&self) {
        loop {
            {
                let Ok(mut shell) = self.shell.try_borrow_mut() else {
                    return;
                };
                let Some(ui) = self.ui.upgrade() else {
                    self.queue.borrow_mut().clear();
                    return;
                };
                let snapshot = || snapshot_of(&ui);
                while let Some(input) = self.pop() {
                    shell.apply(input, &snapshot);
                }
                if let Ok(mut presenter) = self.presenter.try_borrow_mut() {
                    presenter.present(&ui, &shell);
                }
            }
            if self.queue.borrow().is_empty() {
                return;
            }
        }
    }
}

fn snapshot_of(ui: &AppWindow) -> Snapshot {
    let buf = ui.window().take_snapshot().map_err(|e| e.to_string())?;
    image::RgbaImage::from_raw(buf.width(), buf.height(), buf.as_bytes().to_vec())
        .ok_or_else(|| "the window's snapshot has the wrong size".to_owned())
}

/// The running kiosk: the window and what drives it.
pub struct App {
    pub ui: AppWindow,
    runner: Rc<Runner>,
}

impl App {
    pub fn new(ui: AppWindow, parts: ShellParts) -> App {
        let shell = Shell::new(parts);
        let presenter = Presenter::new(&ui, &shell);
        let runner = Rc::new(Runner {
            ui: ui.as_weak(),
            shell: RefCell::new(shell),
            presenter: RefCell::new(presenter),
            queue: RefCell::default(),
        });
        wire(&ui, &runner);
        // The screens' source strings are keys: Vietnamese is selected explicitly, now that
        // the window exists.
        select_language(Lang::Vi);
        runner.drain();
        App { ui, runner }
    }

    /// Queues an input and applies it (now, or right after the one being applied).
    pub fn push(&self, input: impl Into<Input>) {
        self.runner.push(input.into());
    }

    /// The timer's input: the card reader's events, the idle countdown and wipe.
    pub fn tick(&self) {
        self.push(Input::Tick);
    }

    /// A card event from a reader thread or a test.
    pub fn card_event(&self, event: CardEvent) {
        self.push(Input::Card(event));
    }

    /// Places a (demo) resident's card on the reader and reads it.
    pub fn place_card(&self, resident: &str) {
        self.push(Input::PlaceCard(resident.to_owned()));
    }

    /// Starts a timer that ticks while the event loop runs.
    pub fn start_timer(&self) -> slint::Timer {
        let timer = slint::Timer::default();
        let weak = Rc::downgrade(&self.runner);
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(500),
            move || {
                if let Some(r) = weak.upgrade() {
                    r.push(Input::Tick);
                }
            },
        );
        timer
    }

    /// Reads the shell (not from inside a callback).
    pub fn with_shell<R>(&self, f: impl FnOnce(&Shell) -> R) -> R {
        let r = f(&self.runner.shell.borrow());
        self.runner.drain();
        r
    }

    /// Reads the resident's journey.
    pub fn journey<R>(&self, f: impl FnOnce(&ResidentJourney) -> R) -> R {
        self.with_shell(|s| f(s.journey()))
    }

    pub fn with_store<R>(&self, f: impl FnOnce(&KioskStore) -> R) -> R {
        self.with_shell(|s| f(s.store()))
    }

    pub fn with_store_mut<R>(&self, f: impl FnOnce(&mut KioskStore) -> R) -> R {
        let r = f(self.runner.shell.borrow_mut().store_mut());
        self.runner.drain();
        r
    }

    /// The last text read aloud.
    pub fn last_spoken(&self) -> Option<String> {
        self.with_shell(|s| s.last_spoken.clone())
    }

    /// How many rows of the form's fields model were written since the window was created:
    /// the presenter writes only rows that changed.
    pub fn field_rows_written(&self) -> usize {
        let r = self.runner.presenter.borrow().field_rows_written();
        self.runner.drain();
        r
    }

    /// The last signed result saved from the status screen.
    pub fn last_result_pdf(&self) -> Option<std::path::PathBuf> {
        self.with_shell(|s| s.last_result_pdf.clone())
    }

    /// The last PNG and PDF receipts written.
    pub fn last_receipts(&self) -> (Option<std::path::PathBuf>, Option<std::path::PathBuf>) {
        self.with_shell(|s| (s.last_receipt_png.clone(), s.last_receipt_pdf.clone()))
    }
}

/// Each callback of the window queues its input.
fn wire(ui: &AppWindow, runner: &Rc<Runner>) {
    let weak: Weak<Runner> = Rc::downgrade(runner);
    let queue = move |input: Input| {
        if let Some(r) = weak.upgrade() {
            r.push(input);
        }
    };
    macro_rules! on {
        ($setter:ident, [$($arg:ident : $t:ty),*] => $input:expr) => {{
            let queue = queue.clone();
            ui.$setter(move |$($arg: $t),*| queue($input));
        }};
    }
    use crate::ui::{Language, RatingLevel, Screen};
    use slint::SharedString;
    let index = |i: i32| usize::try_from(i).unwrap_or(usize::MAX);

    on!(on_go_home, [] => J::GoHome.into());
    on!(on_back, [] => J::Back.into());
    on!(on_still_here, [] => J::StillHere.into());
    on!(on_read_aloud, [] => J::ReadAloud.into());
    on!(on_open, [screen: Screen] => J::Open(screen.into()).into());
    on!(on_set_lang, [lang: Language] => J::SetLang(lang.into()).into());
    on!(on_qr_scan, [] => J::StartQrScan.into());
    on!(on_qr_cancel, [] => J::CancelQrScan.into());
    on!(on_qr_text, [text: SharedString] => Input::QrText(text.into()));
    on!(on_qr_image, [] => Input::QrPicture);
    on!(on_choose_resident, [id: SharedString] => Input::PlaceCard(id.into()));
    on!(on_remove_card, [] => Input::RemoveCard);
    on!(on_card_continue, [] => J::ContinueAfterIdentify.into());
    on!(on_resume_draft, [] => J::ResumeDraft.into());
    {
        // A key of the on-screen keyboard is one character; each is its own input.
        let queue = queue.clone();
        ui.on_key(move |k: SharedString| {
            for ch in k.chars() {
                queue(J::Key(ch).into());
            }
        });
    }
    on!(on_backspace, [] => J::Backspace.into());
    on!(on_clear_text, [] => J::ClearText.into());
    on!(on_keyboard_done, [] => J::KeyboardDone.into());
    on!(on_choose_life_event, [id: SharedString] => J::ChooseLifeEvent(id.into()).into());
    on!(on_choose_procedure, [code: SharedString] => J::ChooseProcedure(code.into()).into());
    on!(on_focus_field, [id: SharedString] => J::FocusField(id.into()).into());
    on!(on_choose_value, [field: SharedString, value: SharedString] => J::ChooseValue {
        field: field.into(),
        value: value.into(),
    }.into());
    on!(on_form_next, [] => J::FormNext.into());
    on!(on_paper_camera, [paper: SharedString] => Input::PaperCapture(paper.into()));
    on!(on_paper_import, [paper: SharedString] => Input::PaperImport(paper.into()));
    on!(on_paper_retake, [paper: SharedString, i: i32] => Input::PaperRetake(paper.into(), index(i)));
    on!(on_paper_remove, [paper: SharedString, i: i32] => J::RemovePaperImage {
        paper: paper.into(),
        index: index(i),
    }.into());
    on!(on_paper_up, [paper: SharedString, i: i32] => J::MovePaperImageUp {
        paper: paper.into(),
        index: index(i),
    }.into());
    on!(on_papers_next, [] => J::PapersNext.into());
    on!(on_set_consent, [consent: bool] => J::SetConsent(consent).into());
    on!(on_set_fetch_earlier, [fetch: bool] => J::SetFetchEarlierResults(fetch).into());
    on!(on_submit, [] => J::Submit.into());
    on!(on_receipt_print, [] => Input::ReceiptPrint);
    on!(on_receipt_save, [] => Input::ReceiptSavePng);
    on!(on_receipt_save_pdf, [] => Input::ReceiptSavePdf);
    on!(on_next_step, [] => J::ContinueLifeEvent.into());
    on!(on_to_rating, [] => J::Open(xaso_kiosk_core::Screen::Rating).into());
    {
        let queue = queue.clone();
        ui.on_choose_rating(move |level: RatingLevel| {
            if let Some(level) = crate::present::enums::satisfaction(level) {
                queue(J::ChooseRating(level).into());
            }
        });
    }
    on!(on_send_rating, [] => J::SendRating.into());
    on!(on_status_lookup, [] => J::LookupStatus.into());
    on!(on_status_supplement, [] => J::StartSupplement.into());
    on!(on_status_save_result, [] => Input::SaveResult);
    {
        let queue = queue.clone();
        ui.on_helper_digit(move |d: SharedString| {
            for ch in d.chars() {
                queue(Input::HelperDigit(ch));
            }
        });
    }
    on!(on_helper_pin_backspace, [] => Input::HelperPinBackspace);
    on!(on_helper_pin_ok, [] => Input::HelperPinOk);
    on!(on_helper_start, [] => Input::HelperStart);
    on!(on_helper_consent, [yes: bool] => Input::HelperConsent(yes));
    on!(on_helper_end, [] => Input::HelperEnd);
    on!(on_helper_sign_out, [] => Input::HelperSignOut);

    // The lesson screens' taps, through their global.
    use xaso_kiosk_core::lesson::LessonInput as L;
    let lessons = ui.global::<crate::ui::Lessons>();
    macro_rules! lesson {
        ($setter:ident, [$($arg:ident : $t:ty),*] => $input:expr) => {{
            let queue = queue.clone();
            lessons.$setter(move |$($arg: $t),*| queue($input));
        }};
    }
    lesson!(on_open_module, [id: SharedString] => Input::Lesson(L::OpenModule(id.into())));
    lesson!(on_next_page, [] => Input::Lesson(L::NextPage));
    lesson!(on_previous_page, [] => Input::Lesson(L::PreviousPage));
    lesson!(on_start_practice, [] => Input::Lesson(L::StartPractice));
    lesson!(on_stop_practice, [] => Input::StopPractice);
    lesson!(on_start_quiz, [] => Input::Lesson(L::StartQuiz));
    lesson!(on_pick, [id: SharedString] => Input::Lesson(L::Pick(id.into())));
    lesson!(on_check, [] => Input::Lesson(L::Check));
    lesson!(on_tap, [x: f32, y: f32] => Input::Lesson(L::Tap {
        x_permille: permille(x),
        y_permille: permille(y),
    }));
    lesson!(on_next_question, [] => Input::Lesson(L::NextQuestion));
    lesson!(on_request_certificate, [track: SharedString] => Input::Lesson(L::RequestCertificate(track.into())));
    lesson!(on_save_certificate, [] => Input::SaveCertificate);
    lesson!(on_to_catalog, [] => Input::Lesson(L::ToCatalog));
    on!(on_helper_classes, [] => Input::Classes);
    let classroom = ui.global::<crate::ui::Classroom>();
    macro_rules! class {
        ($setter:ident, [$($arg:ident : $t:ty),*] => $input:expr) => {{
            let queue = queue.clone();
            classroom.$setter(move |$($arg: $t),*| queue($input));
        }};
    }
    class!(on_new_class, [] => Input::ClassNew);
    class!(on_open_class, [id: SharedString] => Input::ClassOpen(id.into()));
    class!(on_close, [] => Input::ClassClose);
    class!(on_export, [] => Input::ClassExport);
}

/// A fraction of a picture (0..1) in thousandths; outside values are kept outside.
fn permille(f: f32) -> u32 {
    if f.is_finite() && f >= 0.0 {
        (f * 1000.0).round().min(u32::MAX as f32) as u32
    } else {
        u32::MAX
    }
}
