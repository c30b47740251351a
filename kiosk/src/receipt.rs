//! The receipt: the tracking code as a QR image, and as ESC/POS bytes for a receipt printer.

use qrcode::{Color, QrCode};

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("cannot encode the QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("cannot write to the receipt printer: {0}")]
    Printer(#[from] std::io::Error),
}

/// A QR code as an RGBA image: `scale` pixels per module and a four-module quiet zone.
pub struct QrImage {
    pub width: u32,
    pub rgba: Vec<u8>,
}

pub fn qr_image(text: &str, scale: u32) -> Result<QrImage, ReceiptError> {
    let code = QrCode::new(text.as_bytes())?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut rgba = vec![255u8; (side * side * 4) as usize];
    for (i, c) in colors.iter().enumerate() {
        if *c != Color::Dark {
            continue;
        }
        let mx = i as u32 % modules + quiet;
        let my = i as u32 / modules + quiet;
        for y in my * scale..(my + 1) * scale {
            for x in mx * scale..(mx + 1) * scale {
                let o = ((y * side + x) * 4) as usize;
                rgba[o..o + 3].copy_from_slice(&[0, 0, 0]);
            }
        }
    }
    Ok(QrImage { width: side, rgba })
}

/// What a printed receipt says. Receipt printers' code pages have no Vietnamese letters with
/// stacked diacritics, so the printed text is folded to ASCII (the screen and the PNG keep
/// the full Vietnamese).
pub struct PrintedReceipt<'a> {
    pub commune: &'a str,
    pub procedure: &'a str,
    pub tracking_code: &'a str,
    pub expected_date: &'a str,
    pub submitted_at: &'a str,
}

/// ESC/POS commands for the receipt, with the tracking code as a native QR symbol
/// (`GS ( k`), ready to write to the printer device.
pub fn escpos(r: &PrintedReceipt<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\x1b@"); // initialise
    out.extend_from_slice(b"\x1ba\x01"); // centre
    out.extend_from_slice(b"\x1b!\x30"); // double height and width
    out.extend_from_slice(b"XA SO\n");
    out.extend_from_slice(b"\x1b!\x00");
    for line in [
        xaso_i18n::fold(r.commune).to_uppercase(),
        xaso_i18n::fold(r.procedure).to_uppercase(),
        "Ma ho so / Tracking code:".to_owned(),
    ] {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"\x1b!\x10");
    out.extend_from_slice(r.tracking_code.as_bytes());
    out.extend_from_slice(b"\n\x1b!\x00");
    // QR: model 2, module size 6, error correction M, store data, print.
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 4, 0, 0x31, 0x41, 0x32, 0x00]);
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x43, 6]);
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x45, 0x31]);
    let len = r.tracking_code.len() + 3;
    out.extend_from_slice(&[
        0x1d,
        0x28,
        0x6b,
        (len & 0xff) as u8,
        (len >> 8) as u8,
        0x31,
        0x50,
        0x30,
    ]);
    out.extend_from_slice(r.tracking_code.as_bytes());
    out.extend_from_slice(&[0x1d, 0x28, 0x6b, 3, 0, 0x31, 0x51, 0x30]);
    out.extend_from_slice(b"\n");
    for line in [
        format!("Ngay nop / Submitted: {}", r.submitted_at),
        format!("Ngay hen tra / Ready on: {}", r.expected_date),
    ] {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"\n\n\n\x1dV\x01"); // feed and partial cut
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_image_is_square_with_dark_modules() {
        let q = qr_image("01234-261123-0A000-42", 4).unwrap();
        assert_eq!(q.rgba.len(), (q.width * q.width * 4) as usize);
        assert!(q.rgba.chunks(4).any(|p| p[0] == 0));
        // the quiet zone is white
        assert!(
            q.rgba[..(q.width * 4 * 4) as usize]
                .iter()
                .all(|b| *b == 255)
        );
    }

    #[test]
    fn escpos_carries_the_code_twice() {
        let bytes = escpos(&PrintedReceipt {
            commune: "Xã Tân Lập",
            procedure: "Đăng ký khai sinh",
            tracking_code: "01234-261123-0A000-42",
            expected_date: "23/11/2026",
            submitted_at: "23/11/2026 09:10",
        });
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(text.matches("01234-261123-0A000-42").count(), 2);
        assert!(text.contains("DANG KY KHAI SINH"));
        assert!(bytes.is_ascii());
    }
}
