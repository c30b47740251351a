//! The two PDFs of the digital-skills training (`xaso-training`):
//!
//! * [`certificate_pdf`] — a learner's certificate of completion on A4: the commune's header
//!   with the national motto, the learner's name, the track, the date finished, the commune,
//!   the certificate's number, and the credential ([`xaso_training::certificate::issue`]) as
//!   a QR code that any commune officer's tablet verifies offline.
//! * [`class_report_pdf`] — a helper's class report: one row per learner with a mark per
//!   module (a word, never a colour alone), the learner's certificates, and a totals row;
//!   on landscape A4 when the table is too wide for portrait, the table's header repeated on
//!   every page, the modules numbered in the columns and named in a legend.
//!
//! Every fixed text comes from the `messages` catalogs (`training.*`, and the `document.*`
//! texts of the header); names, titles and ids come in already in the document's language.

use jiff::civil::Date;
use qrcode::{Color, QrCode};
use xaso_i18n::{Lang, Translations, format_date};
use xaso_training::ModuleStatus;
use xaso_training::class::ClassReport;

use crate::DocumentError;
use crate::pdf::{PageSize, Pages, Placed};
use crate::render::{MARGIN, Measure};

/// The side of one QR module on paper, in points (0.85 mm: phone and tablet cameras read a
/// printout at arm's length; well above the 0.5 mm minimum).
const QR_MODULE: f32 = 2.4;
const _: () = assert!(
    QR_MODULE / 72.0 * 25.4 >= 0.5,
    "QR modules of at least 0.5 mm"
);

/// Everything a certificate of completion says, already in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateContent {
    /// The language of the fixed texts (recorded in the PDF).
    pub lang: Lang,
    /// The commune's name, e.g. `Xã Tân Thới Nhì`.
    pub commune: String,
    /// The learner's name as on the chip card.
    pub name: String,
    /// The track's title in `lang`.
    pub track_title: String,
    /// The day the track was finished.
    pub date: Date,
    /// The certificate's id (as in the credential).
    pub certificate_id: String,
    /// The credential (`XSC1:` and base45 text) put in the QR code exactly as given.
    pub credential: String,
}

fn frame(p: &mut Pages<'_>) {
    let (w, h) = (p.size.w, p.size.h);
    for (inset, thick) in [(22.0, 1.6), (27.0, 0.5)] {
        let (left, top) = (inset, inset);
        let (right, bottom) = (w - inset, h - inset);
        for (x, y, rw, rh) in [
            (left, top, right - left, thick),
            (left, bottom - thick, right - left, thick),
            (left, top, thick, bottom - top),
            (right - thick, top, thick, bottom - top),
        ] {
            p.place(Placed::Rule { x, y, w: rw, h: rh });
        }
    }
}

fn certificate_layout(
    c: &CertificateContent,
    t: &Translations,
    m: &Measure<'_>,
    qr: &QrCode,
) -> Vec<Vec<Placed>> {
    let text = |key: &str| t.get(c.lang, key, &[]);
    let mut p = Pages::new(m);
    frame(&mut p);
    p.commune_header(
        &text("document.committee"),
        &c.commune,
        &text("document.motto"),
        &text("document.independence"),
    );
    p.y += 44.0;
    p.centred_lines(&text("training.certificate.title"), 22.0, true);
    p.y += 2.0;
    p.centred_lines(&text("training.certificate.programme"), 12.0, false);
    p.y += 28.0;
    p.centred_lines(&text("training.certificate.certifies"), 12.0, false);
    p.y += 6.0;
    p.centred_lines(&c.name, 24.0, true);
    p.y += 6.0;
    p.centred_lines(&text("training.certificate.completed"), 12.0, false);
    p.y += 2.0;
    p.centred_lines(&c.track_title, 16.0, true);
    p.y += 26.0;
    p.row(
        &text("training.certificate.date"),
        &format_date(c.date),
        11.5,
    );
    p.row(&text("training.certificate.commune"), &c.commune, 11.5);
    p.row(&text("training.certificate.id"), &c.certificate_id, 11.5);
    p.y += 14.0;
    // The QR (its quiet zone included in `side`) centred, then what it is for.
    let modules = qr.width();
    let side = (modules + 8) as f32 * QR_MODULE;
    let top = p.reserve(side);
    p.place(Placed::Qr {
        x: (p.size.w - side) / 2.0,
        y: top,
        side,
        modules,
        dark: qr.to_colors().iter().map(|c| *c == Color::Dark).collect(),
    });
    p.centred_lines(&text("training.certificate.verify_offline"), 10.0, false);
    p.pages
}

/// The certificate of completion as a PDF: A4 portrait, text in the bundled Noto Sans, the
/// credential as a QR code (the `qrcode` crate picks its modes: base45 text is alphanumeric;
/// error correction M; 0.85 mm modules with the four-module quiet zone).
pub fn certificate_pdf(
    content: &CertificateContent,
    translations: &Translations,
) -> Result<Vec<u8>, DocumentError> {
    let measure = Measure::new()?;
    let qr = QrCode::new(content.credential.as_bytes())?;
    let pages = certificate_layout(content, translations, &measure, &qr);
    crate::pdf::write(
        format!(
            "{} {}",
            translations.get(content.lang, "training.certificate.title", &[]),
            content.certificate_id
        ),
        content.lang,
        PageSize::A4,
        pages,
    )
}

/// Size of the table's text, and of the marks in the modules' columns (at most).
const TABLE_SIZE: f32 = 9.0;
const MARK_SIZE: f32 = 8.5;
/// Widths of the table's columns that do not depend on the modules, in points.
const NUMBER_W: f32 = 26.0;
const NAME_W: f32 = 160.0;
const CERTIFICATES_W: f32 = 100.0;
/// The widest a module's column gets.
const MODULE_W_MAX: f32 = 48.0;

/// The fixed texts of a class report, in its language.
struct ReportTexts {
    number: String,
    name: String,
    certificates: String,
    completed_total: String,
    completed: String,
    in_progress: String,
    not_started: String,
}

impl ReportTexts {
    fn of(t: &Translations, lang: Lang) -> ReportTexts {
        let text = |key: &str| t.get(lang, key, &[]);
        ReportTexts {
            number: text("training.report.number"),
            name: text("training.report.name"),
            certificates: text("training.report.certificates"),
            completed_total: text("training.report.completed_total"),
            completed: text("training.report.mark.completed"),
            in_progress: text("training.report.mark.in_progress"),
            not_started: text("training.report.mark.not_started"),
        }
    }

    /// The mark of `status` in a module's cell; "completed" in bold, so the marks differ in
    /// weight as well as in words.
    fn mark(&self, status: ModuleStatus) -> (&str, bool) {
        match status {
            ModuleStatus::Completed => (&self.completed, true),
            ModuleStatus::InProgress => (&self.in_progress, false),
            ModuleStatus::NotStarted => (&self.not_started, false),
        }
    }
}

/// Where the table's columns are, on a page of one size.
struct Columns {
    /// Left edge of the name column, of the first module column, of the certificates.
    name_x: f32,
    modules_x: f32,
    certificates_x: f32,
    certificates_w: f32,
    module_w: f32,
    /// Size of the marks (smaller than the table's text if the columns are narrow).
    mark_size: f32,
}

impl Columns {
    /// Portrait if the table fits it with every mark at full size, else landscape.
    fn choose(modules: usize, texts: &ReportTexts, m: &Measure<'_>) -> (PageSize, Columns) {
        let widest_mark = [
            ModuleStatus::Completed,
            ModuleStatus::InProgress,
            ModuleStatus::NotStarted,
        ]
        .map(|s| texts.mark(s))
        .iter()
        .map(|(mark, bold)| m.width(mark, MARK_SIZE, *bold))
        .fold(m.width("00", TABLE_SIZE, true), f32::max);
        let fixed = NUMBER_W + NAME_W + CERTIFICATES_W;
        let wanted = fixed + modules as f32 * (widest_mark + 10.0);
        let size = if wanted <= PageSize::A4.w - 2.0 * MARGIN {
            PageSize::A4
        } else {
            PageSize::A4_LANDSCAPE
        };
        let content_w = size.w - 2.0 * MARGIN;
        let module_w = if modules == 0 {
            0.0
        } else {
            ((content_w - fixed) / modules as f32).min(MODULE_W_MAX)
        };
        let mark_size = MARK_SIZE * ((module_w - 6.0) / widest_mark).clamp(0.1, 1.0);
        let modules_x = MARGIN + NUMBER_W + NAME_W;
        let certificates_x = modules_x + modules as f32 * module_w;
        let columns = Columns {
            name_x: MARGIN + NUMBER_W,
            modules_x,
            certificates_x,
            certificates_w: size.w - MARGIN - certificates_x,
            module_w,
            mark_size,
        };
        (size, columns)
    }

    fn module_x(&self, i: usize) -> f32 {
        self.modules_x + i as f32 * self.module_w
    }
}

/// One line of the table: the number, the (wrapped) name, one cell per module (text, bold),
/// the (wrapped) certificates. A header or totals line is bold.
struct TableLine<'a> {
    number: &'a str,
    name: &'a str,
    cells: Vec<(&'a str, bool)>,
    certificates: &'a str,
    bold: bool,
}

impl Pages<'_> {
    fn table_line_height(&self, line: &TableLine<'_>, c: &Columns) -> f32 {
        let name = self
            .measure
            .wrap(line.name, TABLE_SIZE, line.bold, NAME_W - 6.0);
        let certificates = self.measure.wrap(
            line.certificates,
            TABLE_SIZE,
            line.bold,
            c.certificates_w - 4.0,
        );
        let lines = name.len().max(certificates.len()).max(1);
        lines as f32 * TABLE_SIZE * 1.35 + 5.0
    }

    /// Places `line` at the current position (the caller checked it fits) with a rule under
    /// it of `rule` points.
    fn table_line(&mut self, line: &TableLine<'_>, c: &Columns, rule: f32) {
        let height = self.table_line_height(line, c);
        let top = self.reserve(height);
        let baseline = top + TABLE_SIZE + 2.0;
        let step = TABLE_SIZE * 1.35;
        self.centred(
            line.number,
            TABLE_SIZE,
            line.bold,
            MARGIN,
            NUMBER_W,
            baseline,
        );
        let name = self
            .measure
            .wrap(line.name, TABLE_SIZE, line.bold, NAME_W - 6.0);
        for (i, l) in name.iter().enumerate() {
            self.text(
                c.name_x,
                baseline + i as f32 * step,
                TABLE_SIZE,
                line.bold,
                l,
            );
        }
        for (i, (cell, bold)) in line.cells.iter().enumerate() {
            let size = if line.bold { TABLE_SIZE } else { c.mark_size };
            self.centred(cell, size, *bold, c.module_x(i), c.module_w, baseline);
        }
        let certificates = self.measure.wrap(
            line.certificates,
            TABLE_SIZE,
            line.bold,
            c.certificates_w - 4.0,
        );
        for (i, l) in certificates.iter().enumerate() {
            self.text(
                c.certificates_x + 4.0,
                baseline + i as f32 * step,
                TABLE_SIZE,
                line.bold,
                l,
            );
        }
        self.place(Placed::Rule {
            x: MARGIN,
            y: top + height - rule,
            w: self.size.w - 2.0 * MARGIN,
            h: rule,
        });
    }
}

fn report_layout(
    report: &ClassReport,
    lang: Lang,
    commune: &str,
    date: Date,
    t: &Translations,
    m: &Measure<'_>,
) -> (PageSize, Vec<Vec<Placed>>) {
    let texts = ReportTexts::of(t, lang);
    let (size, columns) = Columns::choose(report.modules.len(), &texts, m);
    let mut p = Pages::with_size(m, size);
    let content_w = size.w - 2.0 * MARGIN;

    // Title, where and when, the class.
    p.centred_lines(&t.get(lang, "training.report.title", &[]), 15.0, true);
    let day = format!("{:02}", date.day());
    let month = format!("{:02}", date.month());
    let year = date.year().to_string();
    let dated = t.get(
        lang,
        "document.dated",
        &[
            ("place", commune),
            ("day", &day),
            ("month", &month),
            ("year", &year),
        ],
    );
    p.centred_lines(&dated, 10.5, false);
    p.y += 10.0;
    p.row(
        &t.get(lang, "training.report.class", &[]),
        &report.class,
        10.5,
    );
    p.row(
        &t.get(lang, "training.report.helper", &[]),
        &report.helper,
        10.5,
    );
    p.row(
        &t.get(lang, "training.report.learners", &[]),
        &report.rows.len().to_string(),
        10.5,
    );

    // The legend: the modules by number in two columns (down, then across), the marks.
    p.y += 8.0;
    let top = p.reserve(16.0);
    p.text(
        MARGIN,
        top + 10.0,
        10.0,
        true,
        &t.get(lang, "training.report.modules", &[]),
    );
    let legend_w = (content_w - 20.0) / 2.0;
    let entries: Vec<Vec<String>> = report
        .modules
        .iter()
        .enumerate()
        .map(|(i, (_, title))| m.wrap(&format!("{}. {title}", i + 1), 9.0, false, legend_w))
        .collect();
    let half = entries.len().div_ceil(2);
    for r in 0..half {
        let pair = [entries.get(r), entries.get(r + half)];
        let lines = pair.iter().flatten().map(|e| e.len()).max().unwrap_or(1);
        let top = p.reserve(lines as f32 * 12.0);
        for (col, entry) in pair.iter().enumerate() {
            for (i, line) in entry.iter().flat_map(|e| e.iter()).enumerate() {
                let x = MARGIN + col as f32 * (legend_w + 20.0);
                p.text(x, top + 9.0 + i as f32 * 12.0, 9.0, false, line);
            }
        }
    }
    p.y += 4.0;
    let marks = t.get(
        lang,
        "training.report.marks",
        &[
            ("completed", &texts.completed),
            ("in_progress", &texts.in_progress),
            ("not_started", &texts.not_started),
        ],
    );
    for line in m.wrap(&marks, 9.0, false, content_w) {
        let top = p.reserve(12.0);
        p.text(MARGIN, top + 9.0, 9.0, false, &line);
    }
    p.y += 10.0;

    // The table, its header on every page.
    let numbers: Vec<String> = (1..=report.modules.len()).map(|n| n.to_string()).collect();
    let header = TableLine {
        number: &texts.number,
        name: &texts.name,
        cells: numbers.iter().map(|n| (n.as_str(), true)).collect(),
        certificates: &texts.certificates,
        bold: true,
    };
    let header_h = p.table_line_height(&header, &columns);
    let rows: Vec<(String, String)> = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| ((i + 1).to_string(), row.certificates.join(", ")))
        .collect();
    let mut lines: Vec<TableLine<'_>> = report
        .rows
        .iter()
        .zip(&rows)
        .map(|(row, (number, certificates))| TableLine {
            number,
            name: &row.name,
            cells: row.modules.iter().map(|s| texts.mark(*s)).collect(),
            certificates,
            bold: false,
        })
        .collect();
    let totals: Vec<String> = report
        .completed_per_module()
        .iter()
        .map(usize::to_string)
        .collect();
    let certified = report
        .rows
        .iter()
        .map(|r| r.certificates.len())
        .sum::<usize>()
        .to_string();
    lines.push(TableLine {
        number: "",
        name: &texts.completed_total,
        cells: totals.iter().map(|n| (n.as_str(), true)).collect(),
        certificates: &certified,
        bold: true,
    });
    let last = lines.len() - 1;
    // The header goes on a page only with at least one line under it.
    let first_h = lines
        .first()
        .map_or(0.0, |l| p.table_line_height(l, &columns));
    if !p.fits(header_h + first_h) {
        p.new_page();
    }
    p.table_line(&header, &columns, 0.8);
    for (i, line) in lines.iter().enumerate() {
        let height = p.table_line_height(line, &columns);
        if !p.fits(height) {
            p.new_page();
            p.table_line(&header, &columns, 0.8);
        }
        if i == last {
            // The totals: a rule above them.
            p.place(Placed::Rule {
                x: MARGIN,
                y: p.y,
                w: content_w,
                h: 0.8,
            });
        }
        p.table_line(line, &columns, if i == last { 0.8 } else { 0.3 });
    }

    // Page numbers in the bottom margin.
    let total = p.pages.len().to_string();
    let footers: Vec<(String, f32)> = (1..=p.pages.len())
        .map(|n| {
            let text = t.get(
                lang,
                "training.report.page",
                &[("page", &n.to_string()), ("pages", &total)],
            );
            let w = m.width(&text, 8.5, false);
            (text, w)
        })
        .collect();
    let mut pages = p.pages;
    for (page, (text, w)) in pages.iter_mut().zip(footers) {
        page.push(Placed::Text {
            x: size.w - MARGIN - w,
            y: size.h - MARGIN + 24.0,
            size: 8.5,
            bold: false,
            text,
        });
    }
    (size, pages)
}

/// The class report of `report` as a PDF in `lang`, made in `commune` on `date`: the class,
/// its helper and learner count, the legend of modules and marks, then the table (one row
/// per learner in the report's order, a totals row: learners who completed each module,
/// certificates issued), over as many pages as it takes, each numbered.
pub fn class_report_pdf(
    report: &ClassReport,
    lang: Lang,
    commune: &str,
    date: Date,
    translations: &Translations,
) -> Result<Vec<u8>, DocumentError> {
    let measure = Measure::new()?;
    let (size, pages) = report_layout(report, lang, commune, date, translations, &measure);
    crate::pdf::write(
        format!(
            "{} {}",
            translations.get(lang, "training.report.title", &[]),
            report.class
        ),
        lang,
        size,
        pages,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use qrcode::EcLevel;
    use qrcode::bits::Bits;
    use qrcode::types::QrError;

    #[test]
    fn a_base45_credential_goes_in_alphanumeric_mode() {
        // 360 characters of the base45 alphabet, the size of a real credential.
        let credential = format!("XSC1:{}", "6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5EH".repeat(10));
        let qr = QrCode::new(credential.as_bytes()).unwrap();
        // Byte mode would not fit the version chosen: the encoder took alphanumeric.
        let mut bits = Bits::new(qr.version());
        let bytes = bits
            .push_byte_data(credential.as_bytes())
            .and_then(|()| bits.push_terminator(EcLevel::M));
        assert_eq!(bytes, Err(QrError::DataTooLong));
        assert_eq!(qr.error_correction_level(), EcLevel::M);
        // With its quiet zone it still fits across the page between the margins.
        let side = (qr.width() + 8) as f32 * QR_MODULE;
        assert!(side < PageSize::A4.w - 2.0 * MARGIN, "{side}");
    }

    #[test]
    fn the_marks_exist_in_the_font_in_every_language() {
        let t = Translations::bundled().unwrap();
        let m = Measure::new().unwrap();
        for lang in [Lang::Vi, Lang::En] {
            let texts = ReportTexts::of(&t, lang);
            for status in [
                ModuleStatus::Completed,
                ModuleStatus::InProgress,
                ModuleStatus::NotStarted,
            ] {
                let (mark, bold) = texts.mark(status);
                assert!(!mark.trim().is_empty());
                assert!(m.covers(mark, bold), "{lang:?}: `{mark}` not in Noto Sans");
            }
            // Three different words: not told apart by weight alone.
            assert_ne!(texts.completed, texts.in_progress);
            assert_ne!(texts.in_progress, texts.not_started);
            assert_ne!(texts.completed, texts.not_started);
        }
    }

    #[test]
    fn ten_modules_go_landscape_and_three_stay_portrait() {
        let t = Translations::bundled().unwrap();
        let m = Measure::new().unwrap();
        let texts = ReportTexts::of(&t, Lang::Vi);
        let (size, c) = Columns::choose(10, &texts, &m);
        assert_eq!(size, PageSize::A4_LANDSCAPE);
        assert!(c.certificates_x + c.certificates_w <= size.w - MARGIN + 0.01);
        assert!(
            (c.mark_size - MARK_SIZE).abs() < f32::EPSILON,
            "marks at full size"
        );
        let (size, _) = Columns::choose(3, &texts, &m);
        assert_eq!(size, PageSize::A4);
    }
}
