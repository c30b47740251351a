//! The QR code printed on the chip ID card: its data opens the chip without typing anything.
//! Decoding (scanner lines, pictures) happens in the app; the journey only learns whether
//! the access keys are known, or why not.

/// Why a QR code gave no access key, in terms of what the resident can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrProblem {
    /// No QR code in the image: take the picture again.
    NotFound,
    /// A QR code, but not the one of a chip ID card (a URL, a bank code…).
    NotAnIdCard,
    /// The QR code or the image could not be read, or no key follows from it.
    Unreadable,
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
