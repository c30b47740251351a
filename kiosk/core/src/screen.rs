//! Screens and error screens, shared by the journeys.

use crate::card::CardProblem;

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
    /// The commune hub could not be reached (a dossier of another kiosk needs it).
    NoLink,
}

impl ErrorKind {
    /// Where "try again" leads from this error.
    pub fn retry_screen(self) -> Screen {
        match self {
            ErrorKind::StoreFailed => Screen::Review,
            ErrorKind::CameraFailed | ErrorKind::ImageUnreadable => Screen::Papers,
            ErrorKind::UnknownTrackingCode | ErrorKind::InvalidTrackingCode | ErrorKind::NoLink => {
                Screen::Status
            }
            ErrorKind::Card(_) => Screen::Identify,
        }
    }
}
