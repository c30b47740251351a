//! The running officer tablet: the window, the shell and the presenter, with the same queue
//! discipline as the kiosk ([`crate::app`]): callbacks only queue an input; whoever drains
//! first applies them one after the other, then presents.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use slint::ComponentHandle;
use xaso_kiosk_core::officer::DeskInput;

use super::present::{OfficerPresenter, action_of};
use super::shell::{OfficerInput as I, OfficerShell, OfficerView};
use crate::ui::{DossierAction, OfficerScreen, OfficerWindow};

struct Runner {
    ui: slint::Weak<OfficerWindow>,
    shell: RefCell<OfficerShell>,
    presenter: RefCell<OfficerPresenter>,
    queue: RefCell<VecDeque<I>>,
}

impl Runner {
    fn push(&self, input: I) {
        self.queue.borrow_mut().push_back(input);
        self.drain();
    }

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
                loop {
                    let next = self.queue.borrow_mut().pop_front();
                    let Some(input) = next else { break };
                    shell.apply(input);
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

/// The running officer tablet.
pub struct OfficerApp {
    pub ui: OfficerWindow,
    runner: Rc<Runner>,
}

impl OfficerApp {
    pub fn new(ui: OfficerWindow, shell: OfficerShell) -> OfficerApp {
        let presenter = OfficerPresenter::new(&ui);
        let runner = Rc::new(Runner {
            ui: ui.as_weak(),
            shell: RefCell::new(shell),
            presenter: RefCell::new(presenter),
            queue: RefCell::default(),
        });
        wire(&ui, &runner);
        crate::present::select_language(xaso_i18n::Lang::Vi);
        runner.drain();
        OfficerApp { ui, runner }
    }

    pub fn push(&self, input: I) {
        self.runner.push(input);
    }

    pub fn tick(&self) {
        self.push(I::Tick);
    }

    pub fn with_shell<R>(&self, f: impl FnOnce(&OfficerShell) -> R) -> R {
        let r = f(&self.runner.shell.borrow());
        self.runner.drain();
        r
    }

    pub fn with_shell_mut<R>(&self, f: impl FnOnce(&mut OfficerShell) -> R) -> R {
        let r = f(&mut self.runner.shell.borrow_mut());
        self.runner.drain();
        r
    }

    pub fn start_timer(&self) -> slint::Timer {
        let timer = slint::Timer::default();
        let weak = Rc::downgrade(&self.runner);
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(500),
            move || {
                if let Some(r) = weak.upgrade() {
                    r.push(I::Tick);
                }
            },
        );
        timer
    }
}

fn view_of(s: OfficerScreen) -> OfficerView {
    match s {
        OfficerScreen::SignIn => OfficerView::SignIn,
        OfficerScreen::Queue => OfficerView::Queue,
        OfficerScreen::Dossier => OfficerView::Dossier,
        OfficerScreen::Sync => OfficerView::Sync,
        OfficerScreen::Dashboard => OfficerView::Dashboard,
        OfficerScreen::Certificates => OfficerView::Certificates,
    }
}

fn wire(ui: &OfficerWindow, runner: &Rc<Runner>) {
    let weak: Weak<Runner> = Rc::downgrade(runner);
    let queue = move |input: I| {
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
    use slint::SharedString;
    let index = |i: i32| usize::try_from(i).unwrap_or(usize::MAX);
    on!(on_open, [s: OfficerScreen] => I::Open(view_of(s)));
    on!(on_sign_out, [] => I::SignOut);
    on!(on_still_here, [] => I::StillHere);
    on!(on_place_card, [id: SharedString] => I::PlaceCard(id.into()));
    on!(on_remove_card, [] => I::RemoveCard);
    {
        let queue = queue.clone();
        ui.on_digit(move |d: SharedString| {
            for ch in d.chars() {
                queue(I::Digit(ch));
            }
        });
    }
    on!(on_pin_backspace, [] => I::PinBackspace);
    on!(on_pin_ok, [] => I::PinOk);
    on!(on_open_dossier, [id: SharedString] => I::OpenDossier(id.into()));
    on!(on_start_search, [] => I::StartSearch);
    on!(on_start_reason, [] => I::StartReason);
    {
        let queue = queue.clone();
        ui.on_key(move |k: SharedString| {
            for ch in k.chars() {
                queue(I::Key(ch));
            }
        });
    }
    on!(on_backspace, [] => I::Backspace);
    on!(on_clear_text, [] => I::ClearText);
    on!(on_keyboard_done, [] => I::KeyboardDone);
    on!(on_choose_action, [a: DossierAction] => I::Desk(DeskInput::Choose(action_of(a))));
    on!(on_confirm, [] => I::Desk(DeskInput::Confirm));
    on!(on_cancel, [] => I::Desk(DeskInput::Cancel));
    on!(on_pick_value, [field: SharedString, i: i32] => I::Desk(DeskInput::PickValue { field: field.into(), choice: index(i) }));
    on!(on_keep_decision, [i: i32] => I::Desk(DeskInput::KeepDecision(index(i))));
    on!(on_zoom_in, [i: i32] => I::Desk(DeskInput::ZoomIn(index(i))));
    on!(on_zoom_out, [i: i32] => I::Desk(DeskInput::ZoomOut(index(i))));
    on!(on_rotate, [i: i32] => I::Desk(DeskInput::Rotate(index(i))));
    on!(on_sync_now, [] => I::SyncNow);
    on!(on_retry_dead_letter, [key: SharedString] => I::RetryCentral(Some(key.into())));
    on!(on_retry_all_dead_letters, [] => I::RetryCentral(None));
    on!(on_certificate_scanned, [text: SharedString] => I::CertificateText(text.into()));
    on!(on_certificate_picture, [] => I::CertificatePicture);
}
