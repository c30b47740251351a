//! Everything that can happen to the app, as values: every tap of the window, the timer,
//! the card reader. Callbacks only queue an [`Input`]; the [`crate::app::App`] applies them
//! one after the other, so nothing is lost while the app is busy with an earlier one.

use xaso_kiosk_core::CardEvent;

/// One input to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An input that goes straight to the resident's journey.
    Journey(xaso_kiosk_core::Input),
    /// The timer: collect the reader's events, then let time pass in the journey.
    Tick,
    /// A card event reported from outside (a reader thread, a test).
    Card(CardEvent),
    /// The demo's picker: place this synthetic resident's card on the reader.
    PlaceCard(String),
    /// The demo's "take the card away".
    RemoveCard,
    /// A keyboard-wedge scanner typed the QR text and Enter into the identify screen.
    QrText(String),
    /// "Read the QR code from a picture": the newest picture.
    QrPicture,
    /// "Photograph" this paper with the document camera.
    PaperCapture(String),
    /// "Choose an image file" for this paper.
    PaperImport(String),
    /// "Retake" this page of this paper.
    PaperRetake(String, usize),
    ReceiptPrint,
    ReceiptSavePng,
    ReceiptSavePdf,
    /// "Save the result": the signed PDF of the dossier on the status screen.
    SaveResult,
    /// Helper tablets: a digit of the helper's PIN pad.
    HelperDigit(char),
    HelperPinBackspace,
    HelperPinOk,
    /// "Help a resident".
    HelperStart,
    /// The resident's answer on the consent screen.
    HelperConsent(bool),
    /// "End the session".
    HelperEnd,
    HelperSignOut,
    /// A tap of the lesson screens.
    Lesson(xaso_kiosk_core::lesson::LessonInput),
    /// "Stop practising" on the practice banner.
    StopPractice,
    /// "Save the certificate" (PDF).
    SaveCertificate,
    /// Helper tablets: the classes (from the helper's start page).
    Classes,
    ClassNew,
    ClassOpen(String),
    /// Back from a class to the list, or from the list to the helper's start page.
    ClassClose,
    ClassExport,
}

impl From<xaso_kiosk_core::Input> for Input {
    fn from(input: xaso_kiosk_core::Input) -> Input {
        Input::Journey(input)
    }
}
