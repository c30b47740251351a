//! The receipt: the tracking code as a QR image, as ESC/POS bytes for a receipt printer, and
//! as a PDF document ([`pdf`]) with real, searchable Vietnamese text in the bundled Noto Sans
//! (subset and embedded) and the QR code drawn as vector squares.

use qrcode::{Color, QrCode};
use xaso_i18n::{Lang, Translations};
use xaso_kiosk_core::Receipt;
use xaso_services::{Dossier, Fee, Procedure};

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("cannot encode the QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("cannot write to the receipt printer: {0}")]
    Printer(#[from] std::io::Error),
    #[error("cannot encode the image: {0}")]
    Image(#[from] image::ImageError),
    #[error("the bundled font cannot be read")]
    Font,
    #[error("cannot write the PDF: {0}")]
    Pdf(#[from] krilla::error::KrillaError),
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

/// The bundled fonts (the same files the screens use).
const FONT_REGULAR: &[u8] = include_bytes!("../ui/fonts/NotoSans-Regular.ttf");
const FONT_BOLD: &[u8] = include_bytes!("../ui/fonts/NotoSans-Bold.ttf");

/// What the PDF receipt says, already in the resident's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDocument {
    /// BCP 47 language of the text (`vi`, `en`), recorded in the PDF.
    pub lang: String,
    pub title: String,
    pub procedure: String,
    pub tracking_label: String,
    pub tracking_code: String,
    /// Label and value rows: commune, submitted at, results due, fee.
    pub details: Vec<(String, String)>,
    pub bring_heading: String,
    /// What to bring when collecting the result.
    pub bring: Vec<String>,
    pub note: String,
}

/// A5 portrait, in PDF points.
const PAGE_W: f32 = 419.53;
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 36.0;
const QR_SIDE: f32 = 136.0;
const LABEL_W: f32 = 128.0;

/// One thing placed on a page (top-left origin, y down; text at its baseline).
#[derive(Debug, Clone, PartialEq)]
enum Placed {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Qr {
        x: f32,
        y: f32,
        side: f32,
    },
}

/// Text widths from the fonts' advance widths (no kerning; enough for line breaking).
struct Measure<'a> {
    regular: skrifa::FontRef<'a>,
    bold: skrifa::FontRef<'a>,
}

impl Measure<'_> {
    fn new() -> Result<Measure<'static>, ReceiptError> {
        Ok(Measure {
            regular: skrifa::FontRef::new(FONT_REGULAR).map_err(|_| ReceiptError::Font)?,
            bold: skrifa::FontRef::new(FONT_BOLD).map_err(|_| ReceiptError::Font)?,
        })
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        use skrifa::MetadataProvider;
        let font = if bold { &self.bold } else { &self.regular };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(
            skrifa::instance::Size::new(size),
            skrifa::instance::LocationRef::default(),
        );
        text.chars()
            .map(|c| {
                metrics
                    .advance_width(charmap.map(c).unwrap_or_default())
                    .unwrap_or(size * 0.5)
            })
            .sum()
    }

    /// Greedy line breaking at spaces; a word longer than the line stays whole.
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(&candidate, size, bold) > width {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Places the receipt's content on A5 pages, starting a new page when one is full.
struct Pages {
    pages: Vec<Vec<Placed>>,
    y: f32,
}

impl Pages {
    fn new() -> Pages {
        Pages {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    /// Reserves `height` below the current position (on a new page if it does not fit) and
    /// returns its top.
    fn reserve(&mut self, height: f32) -> f32 {
        if self.y + height > PAGE_H - MARGIN && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
        let top = self.y;
        self.y += height;
        top
    }

    fn place(&mut self, item: Placed) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    fn lines(&mut self, m: &Measure<'_>, text: &str, size: f32, bold: bool, x: f32) {
        for line in m.wrap(text, size, bold, PAGE_W - MARGIN - x) {
            let top = self.reserve(size * 1.4);
            self.place(Placed::Text {
                x,
                y: top + size,
                size,
                bold,
                text: line,
            });
        }
    }
}

fn layout(r: &ReceiptDocument, m: &Measure<'_>) -> Vec<Vec<Placed>> {
    let mut p = Pages::new();
    p.lines(m, &r.title, 20.0, true, MARGIN);
    p.y += 4.0;
    p.lines(m, &r.procedure, 14.0, true, MARGIN);
    p.y += 10.0;
    p.lines(m, &r.tracking_label, 10.0, false, MARGIN);
    p.lines(m, &r.tracking_code, 22.0, true, MARGIN);
    p.y += 6.0;
    let top = p.reserve(QR_SIDE);
    p.place(Placed::Qr {
        x: MARGIN,
        y: top,
        side: QR_SIDE,
    });
    p.y += 10.0;
    for (label, value) in &r.details {
        let value_lines = m.wrap(value, 11.0, true, PAGE_W - 2.0 * MARGIN - LABEL_W);
        for (i, line) in value_lines.into_iter().enumerate() {
            let top = p.reserve(11.0 * 1.5);
            if i == 0 {
                p.place(Placed::Text {
                    x: MARGIN,
                    y: top + 11.0,
                    size: 10.0,
                    bold: false,
                    text: label.clone(),
                });
            }
            p.place(Placed::Text {
                x: MARGIN + LABEL_W,
                y: top + 11.0,
                size: 11.0,
                bold: true,
                text: line,
            });
        }
    }
    if !r.bring.is_empty() {
        p.y += 10.0;
        p.lines(m, &r.bring_heading, 12.0, true, MARGIN);
        for item in &r.bring {
            let indent = MARGIN + 14.0;
            for (i, line) in m
                .wrap(item, 11.0, false, PAGE_W - MARGIN - indent)
                .into_iter()
                .enumerate()
            {
                let top = p.reserve(11.0 * 1.4);
                if i == 0 {
                    p.place(Placed::Text {
                        x: MARGIN + 2.0,
                        y: top + 11.0,
                        size: 11.0,
                        bold: false,
                        text: "•".into(),
                    });
                }
                p.place(Placed::Text {
                    x: indent,
                    y: top + 11.0,
                    size: 11.0,
                    bold: false,
                    text: line,
                });
            }
        }
    }
    p.y += 12.0;
    p.lines(m, &r.note, 9.5, false, MARGIN);
    p.pages
}

/// The receipt as a PDF: A5, text in the bundled Noto Sans (subset, embedded, with a
/// ToUnicode map so the text can be searched and copied), the tracking code's QR code drawn
/// as vector squares.
pub fn pdf(r: &ReceiptDocument) -> Result<Vec<u8>, ReceiptError> {
    use krilla::geom::{PathBuilder, Point, Rect};
    use krilla::text::{Font, TextDirection};

    let measure = Measure::new()?;
    let pages = layout(r, &measure);
    let regular = Font::new(FONT_REGULAR.into(), 0).ok_or(ReceiptError::Font)?;
    let bold = Font::new(FONT_BOLD.into(), 0).ok_or(ReceiptError::Font)?;
    let qr = QrCode::new(r.tracking_code.as_bytes())?;
    let modules = qr.width();
    let colors = qr.to_colors();

    let mut doc = krilla::Document::new();
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(format!("{} {}", r.title, r.tracking_code))
            .language(r.lang.clone())
            .creator("Xã Số kiosk".into()),
    );
    for items in pages {
        let settings =
            krilla::page::PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(ReceiptError::Font)?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(krilla::paint::Fill::default()));
        for item in items {
            match item {
                Placed::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    text,
                } => surface.draw_text(
                    Point::from_xy(x, y),
                    if b { bold.clone() } else { regular.clone() },
                    size,
                    &text,
                    false,
                    TextDirection::Auto,
                ),
                Placed::Qr { x, y, side } => {
                    // A four-module quiet zone on each side, as the standard asks.
                    let unit = side / (modules + 8) as f32;
                    let mut path = PathBuilder::new();
                    for (i, c) in colors.iter().enumerate() {
                        if *c != Color::Dark {
                            continue;
                        }
                        let mx = (i % modules + 4) as f32;
                        let my = (i / modules + 4) as f32;
                        if let Some(rect) =
                            Rect::from_xywh(x + mx * unit, y + my * unit, unit, unit)
                        {
                            path.push_rect(rect);
                        }
                    }
                    if let Some(path) = path.finish() {
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    Ok(doc.finish()?)
}

/// The fee as the review screen and the receipt show it: `None` when free, else the amount
/// (or the province's note).
pub fn fee_display(fee: &Fee, lang: Lang) -> Option<String> {
    match fee {
        Fee::Free => None,
        Fee::Fixed { amount_vnd, .. } | Fee::PerDocument { amount_vnd } => {
            Some(xaso_i18n::format_vnd(*amount_vnd))
        }
        Fee::PerPage {
            first_two_pages_vnd,
            ..
        } => Some(xaso_i18n::format_vnd(*first_two_pages_vnd)),
        Fee::SetByProvince { note } => Some(note.get(lang).to_owned()),
    }
}

/// What the PDF receipt says, in `lang`: the submitted dossier's procedure, code, times, fee
/// and the originals of the papers it was sent with (`dossier`, as stored).
pub fn document(
    receipt: &Receipt,
    procedure: Option<&Procedure>,
    dossier: Option<&Dossier>,
    commune: &str,
    translations: &Translations,
    lang: Lang,
) -> ReceiptDocument {
    let t = |key: &str| translations.get(lang, key, &[]);
    let l = lang;
    let local = receipt
        .submitted_at
        .to_zoned_datetime(xaso_services::calendar::vietnam_time_zone());
    let mut details = vec![
        (t("receipt.pdf.commune"), commune.to_owned()),
        (
            t("receipt.pdf.submitted_at"),
            local.strftime("%d/%m/%Y %H:%M").to_string(),
        ),
        (
            t("receipt.pdf.expected_date"),
            xaso_i18n::format_date(receipt.expected_date),
        ),
    ];
    if let Some(p) = procedure {
        details.push((
            t("receipt.pdf.fee"),
            fee_display(&p.fee, lang).unwrap_or_else(|| t("receipt.pdf.fee_free")),
        ));
    }
    let mut bring = vec![t("receipt.pdf.bring.card"), t("receipt.pdf.bring.receipt")];
    if let (Some(p), Some(d)) = (procedure, dossier) {
        let mut seen = std::collections::BTreeSet::new();
        for a in &d.attachments {
            if seen.insert(a.paper.clone())
                && let Some(def) = p.paper(&a.paper)
            {
                bring.push(translations.get(
                    lang,
                    "receipt.pdf.bring.original",
                    &[("paper", def.label.get(l))],
                ));
            }
        }
    }
    ReceiptDocument {
        lang: lang.code().to_owned(),
        title: t("receipt.pdf.title"),
        procedure: procedure
            .map_or_else(|| receipt.procedure.clone(), |p| p.name.get(l).to_owned()),
        tracking_label: t("receipt.pdf.tracking_code"),
        tracking_code: receipt.tracking_code.clone(),
        details,
        bring_heading: t("receipt.pdf.bring"),
        bring,
        note: t("receipt.pdf.note"),
    }
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

    fn sample(bring: usize) -> ReceiptDocument {
        ReceiptDocument {
            lang: "vi".into(),
            title: "Biên nhận hồ sơ".into(),
            procedure: "Đăng ký khai sinh".into(),
            tracking_label: "Mã hồ sơ".into(),
            tracking_code: "09904-261123-01001-42".into(),
            details: vec![("Ngày hẹn trả".into(), "23/11/2026".into())],
            bring_heading: "Khi đến nhận kết quả, mang theo".into(),
            bring: (0..bring)
                .map(|i| format!("Bản chính giấy tờ số {i}, có chữ ký và đóng dấu của cơ quan cấp"))
                .collect(),
            note: "Giữ mã này để tra cứu hồ sơ.".into(),
        }
    }

    #[test]
    fn long_text_wraps_inside_the_margins_and_overflows_onto_a_second_page() {
        let m = Measure::new().unwrap();
        let one = layout(&sample(2), &m);
        assert_eq!(one.len(), 1);
        let many = layout(&sample(40), &m);
        assert!(many.len() >= 2, "{} pages", many.len());
        for page in &many {
            for item in page {
                if let Placed::Text {
                    x,
                    y,
                    size,
                    bold,
                    text,
                } = item
                {
                    assert!(*y <= PAGE_H - MARGIN + 0.01, "{text} at {y}");
                    assert!(
                        x + m.width(text, *size, *bold) <= PAGE_W - MARGIN + 0.01,
                        "{text} too wide"
                    );
                }
            }
        }
    }
}
