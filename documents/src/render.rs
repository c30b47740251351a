//! Laying out the result document on A4 pages and writing the PDF with krilla.

use qrcode::{Color, QrCode};
use xaso_i18n::Translations;

use crate::pdf::{PageSize, Pages, Placed};
use crate::{DocumentError, ResultContent};

/// The bundled fonts (the files the kiosk's screens use): Noto Sans has every Vietnamese
/// letter with its stacked diacritics.
pub(crate) const FONT_REGULAR: &[u8] =
    include_bytes!("../../kiosk/app/ui/fonts/NotoSans-Regular.ttf");
pub(crate) const FONT_BOLD: &[u8] = include_bytes!("../../kiosk/app/ui/fonts/NotoSans-Bold.ttf");

/// A4 portrait, in PDF points.
pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN: f32 = 56.0;
const QR_SIDE: f32 = 96.0;
/// Width of the label column of the body lines.
const LABEL_W: f32 = 190.0;

/// Text widths from the fonts' advance widths (no kerning; enough for breaking and centring).
pub(crate) struct Measure<'a> {
    regular: skrifa::FontRef<'a>,
    bold: skrifa::FontRef<'a>,
}

impl Measure<'_> {
    pub(crate) fn new() -> Result<Measure<'static>, DocumentError> {
        Ok(Measure {
            regular: skrifa::FontRef::new(FONT_REGULAR).map_err(|_| DocumentError::Font)?,
            bold: skrifa::FontRef::new(FONT_BOLD).map_err(|_| DocumentError::Font)?,
        })
    }

    pub(crate) fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
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

    /// Whether the font has a glyph for every character of `text`.
    #[cfg(test)]
    pub(crate) fn covers(&self, text: &str, bold: bool) -> bool {
        use skrifa::MetadataProvider;
        let font = if bold { &self.bold } else { &self.regular };
        let charmap = font.charmap();
        text.chars().all(|c| charmap.map(c).is_some())
    }

    /// Greedy line breaking at spaces; a word longer than the line stays whole.
    pub(crate) fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
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

impl Pages<'_> {
    /// `text` centred on the column `[left, left + width]`, at baseline `y`.
    pub(crate) fn centred(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        left: f32,
        width: f32,
        y: f32,
    ) {
        let w = self.measure.width(text, size, bold);
        self.place(Placed::Text {
            x: left + ((width - w) / 2.0).max(0.0),
            y,
            size,
            bold,
            text: text.to_owned(),
        });
    }

    /// Wrapped lines centred on the page.
    pub(crate) fn centred_lines(&mut self, text: &str, size: f32, bold: bool) {
        let width = self.size.w - 2.0 * MARGIN;
        for line in self.measure.wrap(text, size, bold, width) {
            let top = self.reserve(size * 1.45);
            self.centred(&line, size, bold, MARGIN, width, top + size);
        }
    }

    /// A label and its (wrapped) value.
    pub(crate) fn row(&mut self, label: &str, value: &str, size: f32) {
        let value_x = MARGIN + LABEL_W;
        let labels = self.measure.wrap(label, size, false, LABEL_W - 8.0);
        let values = self
            .measure
            .wrap(value, size, true, self.size.w - MARGIN - value_x);
        let rows = labels.len().max(values.len()).max(1);
        for i in 0..rows {
            let top = self.reserve(size * 1.5);
            if let Some(l) = labels.get(i) {
                self.place(Placed::Text {
                    x: MARGIN,
                    y: top + size,
                    size,
                    bold: false,
                    text: l.clone(),
                });
            }
            if let Some(v) = values.get(i) {
                self.place(Placed::Text {
                    x: value_x,
                    y: top + size,
                    size,
                    bold: true,
                    text: v.clone(),
                });
            }
        }
    }

    /// The header of a commune's documents: the issuing body (`committee`, then the
    /// commune's name in capitals) on the left, the national motto (`motto`, then
    /// `independence`, underlined) on the right. Returns the right column (left, width).
    pub(crate) fn commune_header(
        &mut self,
        committee: &str,
        commune: &str,
        motto: &str,
        independence: &str,
    ) -> (f32, f32) {
        let left_w = 200.0;
        let right_x = MARGIN + left_w + 10.0;
        let right_w = self.size.w - MARGIN - right_x;
        let top = self.reserve(44.0);
        self.centred(committee, 11.0, true, MARGIN, left_w, top + 11.0);
        self.centred(
            &commune.to_uppercase(),
            11.0,
            true,
            MARGIN,
            left_w,
            top + 26.0,
        );
        self.centred(motto, 11.0, true, right_x, right_w, top + 11.0);
        self.centred(independence, 11.5, true, right_x, right_w, top + 26.0);
        let rule_w = self.measure.width(independence, 11.5, true);
        self.place(Placed::Rule {
            x: right_x + ((right_w - rule_w) / 2.0).max(0.0),
            y: top + 30.0,
            w: rule_w,
            h: 0.7,
        });
        (right_x, right_w)
    }
}

/// The fixed texts of every result document, in the document's language.
struct Texts {
    motto: String,
    independence: String,
    committee: String,
    dated: String,
    applicant: String,
    tracking_code: String,
    signed: String,
}

impl Texts {
    fn of(c: &ResultContent, t: &Translations) -> Texts {
        let lang = c.lang;
        let day = format!("{:02}", c.issued_on.day());
        let month = format!("{:02}", c.issued_on.month());
        let year = c.issued_on.year().to_string();
        Texts {
            motto: t.get(lang, "document.motto", &[]),
            independence: t.get(lang, "document.independence", &[]),
            committee: t.get(lang, "document.committee", &[]),
            dated: t.get(
                lang,
                "document.dated",
                &[
                    ("place", &c.commune),
                    ("day", &day),
                    ("month", &month),
                    ("year", &year),
                ],
            ),
            applicant: t.get(lang, "document.applicant", &[]),
            tracking_code: t.get(lang, "document.tracking_code", &[]),
            signed: t.get(lang, "document.signed_digitally", &[]),
        }
    }
}

fn layout(c: &ResultContent, texts: &Texts, m: &Measure<'_>, qr: &QrCode) -> Vec<Vec<Placed>> {
    let mut p = Pages::new(m);
    // The header: the issuing body on the left, the national motto on the right.
    let (right_x, right_w) = p.commune_header(
        &texts.committee,
        &c.commune,
        &texts.motto,
        &texts.independence,
    );
    let top = p.reserve(28.0);
    p.centred(&texts.dated, 10.5, false, right_x, right_w, top + 20.0);
    p.y += 22.0;
    // The title, then the body.
    p.centred_lines(&c.title, 16.0, true);
    p.y += 18.0;
    for line in &c.lines {
        p.row(&line.label, &line.value, 11.5);
    }
    p.y += 8.0;
    p.row(&texts.applicant, &c.applicant_name, 11.5);
    p.row(&texts.tracking_code, &c.tracking_code, 11.5);
    p.y += 20.0;
    // The tracking code's QR on the left, the officer's signature block on the right.
    let block = QR_SIDE.max(80.0);
    let top = p.reserve(block + 20.0);
    p.place(Placed::Qr {
        x: MARGIN,
        y: top,
        side: QR_SIDE,
        modules: qr.width(),
        dark: qr.to_colors().iter().map(|c| *c == Color::Dark).collect(),
    });
    let sig_x = PAGE_W / 2.0;
    let sig_w = PAGE_W - MARGIN - sig_x;
    let title_lines = m.wrap(&c.officer_title, 11.0, true, sig_w);
    let mut y = top + 11.0;
    for line in &title_lines {
        p.centred(line, 11.0, true, sig_x, sig_w, y);
        y += 15.0;
    }
    y += 4.0;
    p.centred(&texts.signed, 10.0, false, sig_x, sig_w, y);
    y += 36.0;
    p.centred(&c.officer_name, 12.0, true, sig_x, sig_w, y);
    p.y = p.y.max(y + 10.0);
    p.pages
}

/// The document as a PDF: A4, text in the bundled Noto Sans (subset, embedded, with a
/// ToUnicode map so the text can be searched and copied), the tracking code's QR code drawn
/// as filled squares.
pub fn render(
    content: &ResultContent,
    translations: &Translations,
) -> Result<Vec<u8>, DocumentError> {
    let measure = Measure::new()?;
    let texts = Texts::of(content, translations);
    let qr = QrCode::new(content.tracking_code.as_bytes())?;
    let pages = layout(content, &texts, &measure, &qr);
    crate::pdf::write(
        format!("{} {}", content.title, content.tracking_code),
        content.lang,
        PageSize::A4,
        pages,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn long_values_wrap_inside_the_margins() {
        let m = Measure::new().unwrap();
        let long = "Thôn Đông, xã Tân Thới Nhì, huyện Hóc Môn, Thành phố Hồ Chí Minh, ".repeat(4);
        let lines = m.wrap(&long, 11.5, true, 200.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(m.width(line, 11.5, true) <= 200.0, "{line}");
        }
        assert_eq!(
            lines.join(" "),
            long.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
}
