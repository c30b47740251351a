//! The one place where the app's and the journey's types become the window's Slint enums
//! (and back, for the few a tap carries).

use xaso_i18n::Lang;
use xaso_kiosk_core::{
    CardProblem, CardState, ErrorKind, InputStyle, QrProblem, QrState, Screen, ValueSource,
};
use xaso_services::Satisfaction;

use crate::card_reader::CardSource;
use crate::shell::ReceiptNotice;
use crate::ui;

impl From<Screen> for ui::Screen {
    fn from(s: Screen) -> ui::Screen {
        match s {
            Screen::Home => ui::Screen::Home,
            Screen::Identify => ui::Screen::Identify,
            Screen::Services => ui::Screen::Services,
            Screen::LifeEvent => ui::Screen::LifeEvent,
            Screen::Form => ui::Screen::Form,
            Screen::Papers => ui::Screen::Papers,
            Screen::Review => ui::Screen::Review,
            Screen::Receipt => ui::Screen::Receipt,
            Screen::Rating => ui::Screen::Rating,
            Screen::Thanks => ui::Screen::Thanks,
            Screen::Status => ui::Screen::Status,
            Screen::Skills => ui::Screen::Skills,
            Screen::Error => ui::Screen::Error,
        }
    }
}

impl From<ui::Screen> for Screen {
    fn from(s: ui::Screen) -> Screen {
        match s {
            ui::Screen::Home => Screen::Home,
            ui::Screen::Identify => Screen::Identify,
            ui::Screen::Services => Screen::Services,
            ui::Screen::LifeEvent => Screen::LifeEvent,
            ui::Screen::Form => Screen::Form,
            ui::Screen::Papers => Screen::Papers,
            ui::Screen::Review => Screen::Review,
            ui::Screen::Receipt => Screen::Receipt,
            ui::Screen::Rating => Screen::Rating,
            ui::Screen::Thanks => Screen::Thanks,
            ui::Screen::Status => Screen::Status,
            ui::Screen::Skills => Screen::Skills,
            ui::Screen::Error => Screen::Error,
        }
    }
}

impl From<Lang> for ui::Language {
    fn from(l: Lang) -> ui::Language {
        match l {
            Lang::Vi => ui::Language::Vi,
            Lang::En => ui::Language::En,
        }
    }
}

impl From<ui::Language> for Lang {
    fn from(l: ui::Language) -> Lang {
        match l {
            ui::Language::Vi => Lang::Vi,
            ui::Language::En => Lang::En,
        }
    }
}

/// The identify screen's state and, when reading failed, why.
pub fn card_state(s: CardState) -> (ui::CardState, ui::CardProblem) {
    match s {
        CardState::Waiting => (ui::CardState::Waiting, ui::CardProblem::None),
        CardState::Reading => (ui::CardState::Reading, ui::CardProblem::None),
        CardState::Verified => (ui::CardState::Verified, ui::CardProblem::None),
        CardState::NotVerified => (ui::CardState::NotVerified, ui::CardProblem::None),
        CardState::Failed(p) => (ui::CardState::Error, card_problem(p)),
    }
}

fn card_problem(p: CardProblem) -> ui::CardProblem {
    match p {
        CardProblem::RemovedTooEarly => ui::CardProblem::RemovedTooEarly,
        CardProblem::NotAnIdCard => ui::CardProblem::NotAnIdCard,
        CardProblem::Unreadable => ui::CardProblem::Unreadable,
        CardProblem::ReaderUnavailable => ui::CardProblem::ReaderUnavailable,
        CardProblem::NeedsKey => ui::CardProblem::NeedsKey,
    }
}

/// Scanning the card's QR code, and why it failed.
pub fn qr_state(s: Option<QrState>) -> (ui::QrState, ui::QrProblem) {
    match s {
        None => (ui::QrState::Off, ui::QrProblem::None),
        Some(QrState::Scanning) => (ui::QrState::Scanning, ui::QrProblem::None),
        Some(QrState::Ready) => (ui::QrState::Ready, ui::QrProblem::None),
        Some(QrState::Failed(p)) => (
            ui::QrState::Error,
            match p {
                QrProblem::NotFound => ui::QrProblem::NotFound,
                QrProblem::NotAnIdCard => ui::QrProblem::NotAnIdCard,
                QrProblem::Unreadable => ui::QrProblem::Unreadable,
            },
        ),
    }
}

pub fn error_kind(e: Option<ErrorKind>) -> ui::ErrorKind {
    match e {
        None => ui::ErrorKind::None,
        Some(ErrorKind::StoreFailed) => ui::ErrorKind::StoreFailed,
        Some(ErrorKind::UnknownTrackingCode) => ui::ErrorKind::UnknownTrackingCode,
        Some(ErrorKind::InvalidTrackingCode) => ui::ErrorKind::InvalidTrackingCode,
        Some(ErrorKind::CameraFailed) => ui::ErrorKind::CameraFailed,
        Some(ErrorKind::ImageUnreadable) => ui::ErrorKind::ImageUnreadable,
        Some(ErrorKind::Card(_)) => ui::ErrorKind::CardFailed,
        Some(ErrorKind::NoLink) => ui::ErrorKind::NoLink,
    }
}

pub fn rating_level(s: Option<Satisfaction>) -> ui::RatingLevel {
    match s {
        None => ui::RatingLevel::None,
        Some(Satisfaction::VerySatisfied) => ui::RatingLevel::VerySatisfied,
        Some(Satisfaction::Satisfied) => ui::RatingLevel::Satisfied,
        Some(Satisfaction::Acceptable) => ui::RatingLevel::Acceptable,
        Some(Satisfaction::NotSatisfied) => ui::RatingLevel::NotSatisfied,
    }
}

/// A tapped rating level (`none` is no level).
pub fn satisfaction(level: ui::RatingLevel) -> Option<Satisfaction> {
    match level {
        ui::RatingLevel::None => None,
        ui::RatingLevel::VerySatisfied => Some(Satisfaction::VerySatisfied),
        ui::RatingLevel::Satisfied => Some(Satisfaction::Satisfied),
        ui::RatingLevel::Acceptable => Some(Satisfaction::Acceptable),
        ui::RatingLevel::NotSatisfied => Some(Satisfaction::NotSatisfied),
    }
}

pub fn input_style(s: InputStyle) -> ui::InputStyle {
    match s {
        InputStyle::Text => ui::InputStyle::Text,
        InputStyle::Digits => ui::InputStyle::Digits,
        InputStyle::Date => ui::InputStyle::Date,
        InputStyle::Choice => ui::InputStyle::Choice,
    }
}

pub fn value_source(s: Option<ValueSource>) -> ui::ValueSource {
    match s {
        None => ui::ValueSource::None,
        Some(ValueSource::Card) => ui::ValueSource::Card,
        Some(ValueSource::Earlier) => ui::ValueSource::Earlier,
        Some(ValueSource::Typed) => ui::ValueSource::Typed,
    }
}

pub fn receipt_notice(n: Option<ReceiptNotice>) -> ui::ReceiptNotice {
    match n {
        None => ui::ReceiptNotice::None,
        Some(ReceiptNotice::Printed) => ui::ReceiptNotice::Printed,
        Some(ReceiptNotice::SavedPng) => ui::ReceiptNotice::Saved,
        Some(ReceiptNotice::SavedPdf) => ui::ReceiptNotice::SavedPdf,
        Some(ReceiptNotice::NoPrinter) => ui::ReceiptNotice::NoPrinter,
        Some(ReceiptNotice::Failed) => ui::ReceiptNotice::PrintFailed,
    }
}

pub fn card_source(s: &CardSource) -> ui::CardSource {
    match s {
        CardSource::Software => ui::CardSource::Software,
        CardSource::Pcsc { .. } => ui::CardSource::Pcsc,
    }
}
