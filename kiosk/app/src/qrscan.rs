//! Identifying by the QR code printed on the chip ID card.
//!
//! The chip only opens with the card's access key (BAC/PACE from the MRZ). The QR code on
//! the card carries the ID number, the date of birth and the issue date; `xaso-idcard`
//! derives the possible keys from them ([`QrData::key_candidates`]), and the next card tap
//! tries them in turn, so nobody types the MRZ.
//!
//! The QR text arrives in one of two ways, both ending in [`keys_from_text`]:
//! * a USB keyboard-wedge scanner types it followed by Enter into the focused input of the
//!   identify screen (the shell receives the whole line);
//! * an image — a file now ([`crate::qr_pictures`]), a camera frame later — is decoded with
//!   [`keys_from_image`] or, for a greyscale frame, [`keys_from_luma`].
//!
//! Only the ID number, the dates and the field separators are needed: wedge scanners often
//! mangle non-ASCII letters (they type key codes of a keyboard layout), so a name or address
//! typed wrongly does not stop the key derivation. Nothing read here is logged or kept
//! beyond the session.

use xaso_idcard::MrzKey;
use xaso_idcard::qr::{QrData, QrError, decode_luma};
use xaso_kiosk_core::QrProblem;

fn problem_of(e: &QrError) -> QrProblem {
    match e {
        QrError::NotFound => QrProblem::NotFound,
        QrError::NotAnIdCard => QrProblem::NotAnIdCard,
        QrError::Decode(_) | QrError::Image(_) => QrProblem::Unreadable,
    }
}

/// The access keys to try, most likely first, from the text of the card's QR code.
pub fn keys_from_text(text: &str) -> Result<Vec<MrzKey>, QrProblem> {
    let data = QrData::parse(text.trim_matches(|c: char| c.is_control() || c == ' '))
        .map_err(|e| problem_of(&e))?;
    let keys = data.key_candidates();
    if keys.is_empty() {
        // A card issued from age 58 has no expiry date to derive.
        tracing::info!("card QR read, but no access key follows from its dates");
        return Err(QrProblem::Unreadable);
    }
    Ok(keys)
}

/// The access keys from a greyscale frame (a camera frame, or a decoded image).
pub fn keys_from_luma(
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<Vec<MrzKey>, QrProblem> {
    let text = decode_luma(width, height, pixels).map_err(|e| problem_of(&e))?;
    keys_from_text(&text)
}

/// The access keys from an image file's bytes (PNG or JPEG).
pub fn keys_from_image(bytes: &[u8]) -> Result<Vec<MrzKey>, QrProblem> {
    keys_from_text(&text_in_image(bytes)?)
}

/// The text of the QR code in an image file's bytes (PNG or JPEG), whatever it encodes (the
/// officer's tablet reads certificates' codes this way too).
pub fn text_in_image(bytes: &[u8]) -> Result<String, QrProblem> {
    let img = image::load_from_memory(bytes)
        .map_err(|_| QrProblem::Unreadable)?
        .to_luma8();
    let (w, h) = img.dimensions();
    decode_luma(w as usize, h as usize, img.as_raw()).map_err(|e| problem_of(&e))
}

/// A picture of a QR code as a PNG (black on white, `scale` pixels per module, quiet zone):
/// the demo's "photo" of a card's QR code, and test input.
pub fn qr_png(text: &str, scale: u32) -> Result<Vec<u8>, crate::receipt::ReceiptError> {
    let q = crate::receipt::qr_image(text, scale)?;
    let mut out = std::io::Cursor::new(Vec::new());
    image::write_buffer_with_format(
        &mut out,
        &q.rgba,
        q.width,
        q.width,
        image::ExtendedColorType::Rgba8,
        image::ImageFormat::Png,
    )?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xaso_idcard::softcard::Identity;

    fn mai_anh() -> Identity {
        Identity::builtin_named("nguyen-thi-mai-anh").unwrap()
    }

    #[test]
    fn the_software_cards_qr_text_gives_its_key_among_the_candidates() {
        let id = mai_anh();
        let keys = keys_from_text(&format!("{}\r\n", id.qr_text())).unwrap();
        assert!(keys.contains(&id.mrz_key().unwrap()));
    }

    #[test]
    fn a_name_mangled_by_the_scanner_keyboard_layout_does_not_matter() {
        let id = mai_anh();
        let mangled = id.qr_text().replace(&id.full_name, "Nguy?n Th? Mai Anh");
        assert!(
            keys_from_text(&mangled)
                .unwrap()
                .contains(&id.mrz_key().unwrap())
        );
    }

    #[test]
    fn foreign_and_broken_codes_say_why() {
        assert_eq!(
            keys_from_text("https://dichvucong.gov.vn/"),
            Err(QrProblem::NotAnIdCard)
        );
        assert_eq!(keys_from_text(""), Err(QrProblem::NotAnIdCard));
        assert_eq!(keys_from_image(b"not an image"), Err(QrProblem::Unreadable));
        let blank = vec![255u8; 200 * 200];
        assert_eq!(keys_from_luma(200, 200, &blank), Err(QrProblem::NotFound));
        let foreign = qr_png("00020101021138570010A000000727", 6).unwrap();
        assert_eq!(keys_from_image(&foreign), Err(QrProblem::NotAnIdCard));
    }

    #[test]
    fn a_picture_of_the_cards_qr_code_gives_its_key() {
        let id = mai_anh();
        let png = qr_png(&id.qr_text(), 6).unwrap();
        assert!(
            keys_from_image(&png)
                .unwrap()
                .contains(&id.mrz_key().unwrap())
        );
    }
}
