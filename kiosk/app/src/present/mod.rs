//! Presenters: the shell's state pushed into the window.
//!
//! The window's models are created once, here, and kept for the life of the window; each
//! presentation updates them in place ([`rows`]): only rows that changed are written, rows
//! are added or removed at the end, page previews become `slint::Image`s once per page.
//! Scalar properties are set every time (Slint ignores a value equal to the current one).
//! One presenter per part of the journey, one file each; the enums in [`enums`].

pub mod enums;
mod form;
mod identify;
mod papers;
mod receipt;
pub mod rows;
pub(crate) use receipt::rgba_image;
mod services;
mod status;

use std::rc::Rc;

use slint::{ModelRc, VecModel};
use xaso_i18n::{Lang, Translations};
use xaso_kiosk_core::ResidentJourney;

use crate::shell::Shell;
use crate::ui::{AppWindow, Item};

/// Selects the language of the screens' texts (Slint's bundled translations, keyed).
pub fn select_language(lang: Lang) {
    if let Err(e) = slint::select_bundled_translation(lang.code()) {
        tracing::warn!("cannot switch the screens to {}: {e}", lang.code());
    }
}

/// What every presenter reads.
struct View<'a> {
    journey: &'a ResidentJourney,
    shell: &'a Shell,
    t: &'a Translations,
    lang: Lang,
}

impl View<'_> {
    /// The language of the catalog's texts.
    fn l(&self) -> Lang {
        self.lang
    }
}

/// An `Item` model, created once.
fn item_model(set: impl FnOnce(ModelRc<Item>)) -> Rc<VecModel<Item>> {
    let model = Rc::new(VecModel::default());
    set(ModelRc::from(model.clone()));
    model
}

/// Pushes the shell's state into the window, incrementally.
pub struct Presenter {
    identify: identify::IdentifyPresenter,
    services: services::ServicesPresenter,
    form: form::FormPresenter,
    papers: papers::PapersPresenter,
    receipt: receipt::ReceiptPresenter,
    status: status::StatusPresenter,
    lessons: crate::lessons::present::LessonsPresenter,
    classroom: crate::lessons::present::ClassroomPresenter,
    /// The language the screens show, and the wipe it was selected after.
    shown_lang: Lang,
    wipes_seen: u64,
}

impl Presenter {
    /// Creates the window's models and sets what does not change while the app runs.
    pub fn new(ui: &AppWindow, shell: &Shell) -> Presenter {
        let reader = shell.card_reader();
        ui.set_demo(!reader.residents().is_empty());
        ui.set_has_camera(shell.has_camera());
        let source = reader.source();
        ui.set_card_source(enums::card_source(&source));
        ui.set_card_reader(source.reader().into());
        Presenter {
            identify: identify::IdentifyPresenter::new(ui),
            services: services::ServicesPresenter::new(ui),
            form: form::FormPresenter::new(ui),
            papers: papers::PapersPresenter::new(ui),
            receipt: receipt::ReceiptPresenter::default(),
            status: status::StatusPresenter::new(ui),
            lessons: crate::lessons::present::LessonsPresenter::new(ui),
            classroom: crate::lessons::present::ClassroomPresenter::new(ui),
            shown_lang: Lang::Vi,
            wipes_seen: 0,
        }
    }

    /// Pushes the current state into the window.
    pub fn present(&mut self, ui: &AppWindow, shell: &Shell) {
        let journey = shell.journey();
        let lang = journey.lang();
        // A new session starts in Vietnamese, selected explicitly after every wipe.
        if shell.wipes() != self.wipes_seen || lang != self.shown_lang {
            select_language(lang);
            self.wipes_seen = shell.wipes();
            self.shown_lang = lang;
        }
        let view = View {
            journey,
            shell,
            t: shell.translations(),
            lang,
        };
        ui.set_screen(journey.screen().into());
        ui.set_lang(lang.into());
        let countdown = journey.idle_countdown(shell.now());
        ui.set_idle_countdown(countdown.map_or(-1, |c| i32::try_from(c).unwrap_or(i32::MAX)));
        ui.set_error_kind(enums::error_kind(journey.error()));
        self.identify.present(ui, &view);
        self.services.present(ui, &view);
        self.form.present(ui, &view);
        self.papers.present(ui, &view);
        ui.set_papers_supplement(journey.supplementing().is_some());
        self.receipt.present(ui, &view);
        self.status.present(ui, &view);
        self.lessons
            .present(ui, shell.lessons(), shell.translations(), lang);
        if shell.classes_shown() {
            self.classroom.present(ui, shell, lang);
        }
        present_helper(ui, shell);
    }

    /// How many rows of the form's fields model were written since the window was created
    /// (a typed key rewrites one row, never the model).
    pub fn field_rows_written(&self) -> usize {
        self.form.rows_written
    }
}

/// A helper's tablet: the session's stage, both names, the helper's sign-in.
fn present_helper(ui: &AppWindow, shell: &Shell) {
    use xaso_kiosk_core::helper::AssistState;
    let Some(h) = shell.helper() else {
        ui.set_helper_stage(crate::ui::HelperStage::Off);
        return;
    };
    let stage = if !h.signed_in() {
        crate::ui::HelperStage::SignIn
    } else {
        match h.state() {
            AssistState::Idle if shell.classes_shown() => crate::ui::HelperStage::Classroom,
            AssistState::Idle => crate::ui::HelperStage::Idle,
            AssistState::WaitingForCard => crate::ui::HelperStage::WaitingCard,
            AssistState::AskingConsent => crate::ui::HelperStage::Consent,
            AssistState::Active => crate::ui::HelperStage::Active,
        }
    };
    ui.set_helper_stage(stage);
    ui.set_helper_name(
        h.helper()
            .map(|p| p.display_name.as_str())
            .unwrap_or("")
            .into(),
    );
    ui.set_helper_resident(
        h.session()
            .and_then(|s| s.card())
            .and_then(|c| c.full_name())
            .unwrap_or("")
            .into(),
    );
    let v = crate::officer::present::sign_in_view(h.sign_in());
    ui.set_helper_step(v.step);
    ui.set_helper_pin_length(v.pin_length);
    ui.set_helper_locked_until(v.locked_until.into());
    ui.set_helper_pin_notice(v.notice);
    ui.set_helper_tries_left(v.tries_left);
}
