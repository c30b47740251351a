//! The printable indicators report of a commune over a period: A4 pages with the headline
//! figures, the table by procedure and channel, and the three charts of
//! [`xaso_reports::charts`] (as PNG images, drawn at twice the printed size).
//!
//! Every text comes from [`Labels`] (the `.po` catalogs) and the indicators (procedure
//! names from the catalog); the layout uses the bundled Noto Sans like the result
//! documents, so Vietnamese is searchable and copyable in the PDF.

use xaso_reports::charts::{self, Chart};
use xaso_reports::{Indicators, Labels};

use crate::DocumentError;
use crate::pdf::{PageSize, Pages, Placed};
use crate::render::{MARGIN, Measure, PAGE_W};

/// Pixels of a chart per PDF point (sharp on paper).
const CHART_SCALE: f32 = 2.0;
/// The table's numeric columns: their width each, in points.
const NUMBER_W: f32 = 46.0;

impl Pages<'_> {
    /// `text` right-aligned at `right`.
    fn right(&mut self, right: f32, y: f32, size: f32, bold: bool, text: &str) {
        let w = self.measure.width(text, size, bold);
        self.text(right - w, y, size, bold, text);
    }

    /// Wrapped lines centred on the page, each on its own reserved line.
    fn centred_block(&mut self, text: &str, size: f32, bold: bool) {
        let width = PAGE_W - 2.0 * MARGIN;
        for line in self.measure.wrap(text, size, bold, width) {
            let top = self.reserve(size * 1.5);
            let w = self.measure.width(&line, size, bold);
            self.text(
                MARGIN + ((width - w) / 2.0).max(0.0),
                top + size,
                size,
                bold,
                &line,
            );
        }
    }

    fn heading(&mut self, text: &str) {
        self.y += 10.0;
        let top = self.reserve(22.0);
        self.text(MARGIN, top + 14.0, 13.0, true, text);
        self.place(Placed::Rule {
            x: MARGIN,
            y: top + 18.0,
            w: PAGE_W - 2.0 * MARGIN,
            h: 0.6,
        });
    }

    /// A label and its value, the value right-aligned.
    fn figure(&mut self, label: &str, value: &str) {
        let size = 11.0;
        let value_w = 150.0;
        let labels = self
            .measure
            .wrap(label, size, false, PAGE_W - 2.0 * MARGIN - value_w);
        for (i, line) in labels.iter().enumerate() {
            let top = self.reserve(size * 1.55);
            self.text(MARGIN, top + size, size, false, line);
            if i == 0 {
                self.right(PAGE_W - MARGIN, top + size, size, true, value);
            }
        }
    }

    /// One row of the table: the procedure (wrapped) and the numbers.
    fn table_row(&mut self, name: &str, numbers: &[String], bold: bool) {
        let size = 9.5;
        let name_w = PAGE_W - 2.0 * MARGIN - NUMBER_W * numbers.len() as f32;
        let lines = self.measure.wrap(name, size, bold, name_w - 6.0);
        let height = size * 1.45 * lines.len().max(1) as f32 + 4.0;
        let top = self.reserve(height);
        for (i, line) in lines.iter().enumerate() {
            self.text(
                MARGIN,
                top + size + i as f32 * size * 1.45,
                size,
                bold,
                line,
            );
        }
        for (i, n) in numbers.iter().enumerate() {
            let right = MARGIN + name_w + NUMBER_W * (i + 1) as f32;
            self.right(right, top + size, size, bold, n);
        }
    }

    fn image(&mut self, png: Vec<u8>, w: f32, h: f32) {
        let top = self.reserve(h + 10.0);
        self.place(Placed::Image {
            x: MARGIN,
            y: top,
            w,
            h,
            png,
        });
    }
}

fn percent(rate: Option<f64>, labels: &Labels) -> String {
    rate.map_or_else(|| labels.not_available.clone(), |r| format!("{r:.1}%"))
}

fn target(met: bool, labels: &Labels) -> String {
    if met {
        labels.meets.clone()
    } else {
        labels.misses.clone()
    }
}

fn layout(i: &Indicators, l: &Labels, m: &Measure<'_>) -> Result<Vec<Vec<Placed>>, DocumentError> {
    let mut p = Pages::new(m);
    p.centred_block(&l.title, 16.0, true);
    p.centred_block(&l.commune, 11.0, false);
    p.centred_block(&l.period, 11.0, false);

    p.heading(&l.headline);
    let s = &i.satisfaction;
    let o = &i.on_time;
    let rate_known = s.rate_percent.is_some();
    for (label, value) in [
        (&l.dossiers, i.submitted.total.to_string()),
        (&l.online_share, percent(i.fully_online.rate_percent, l)),
        (&l.finished, o.finished.to_string()),
        (&l.on_time_rate, percent(o.rate_percent, l)),
        (&l.overdue_open, o.overdue_open.to_string()),
        (&l.ratings, s.total.to_string()),
        (&l.satisfaction_rate, percent(s.rate_percent, l)),
        (
            &l.target_low,
            if rate_known {
                target(s.meets_95, l)
            } else {
                l.not_available.clone()
            },
        ),
        (
            &l.target_high,
            if rate_known {
                target(s.meets_99, l)
            } else {
                l.not_available.clone()
            },
        ),
        (
            &l.training,
            i.training_completions
                .map_or_else(|| l.not_available.clone(), |n| n.to_string()),
        ),
        (
            &l.training_learners,
            i.training
                .map_or_else(|| l.not_available.clone(), |t| t.learners.to_string()),
        ),
        (
            &l.training_module,
            i.training.map_or_else(
                || l.not_available.clone(),
                |t| t.completed_a_module.to_string(),
            ),
        ),
        (
            &l.training_officials,
            i.training.map_or_else(
                || l.not_available.clone(),
                |t| format!("{}/{}", t.officials_certified.min(t.officials), t.officials),
            ),
        ),
    ] {
        p.figure(label, &value);
    }

    p.heading(&l.by_procedure);
    let mut head: Vec<String> = l.channels.to_vec();
    head.extend([l.total.clone(), l.on_time.clone(), l.late.clone()]);
    // The column titles are long: each wraps in its own narrow column.
    let size = 8.5;
    let lines: Vec<Vec<String>> = head
        .iter()
        .map(|h| m.wrap(h, size, true, NUMBER_W - 4.0))
        .collect();
    let rows = lines.iter().map(Vec::len).max().unwrap_or(1);
    let top = p.reserve(size * 1.4 * rows as f32 + 4.0);
    p.text(MARGIN, top + size, size, true, &l.procedure);
    let name_w = PAGE_W - 2.0 * MARGIN - NUMBER_W * head.len() as f32;
    for (c, column) in lines.iter().enumerate() {
        for (r, line) in column.iter().enumerate() {
            let right = MARGIN + name_w + NUMBER_W * (c + 1) as f32;
            p.right(right, top + size + r as f32 * size * 1.4, size, true, line);
        }
    }
    let rule = p.reserve(4.0);
    p.place(Placed::Rule {
        x: MARGIN,
        y: rule,
        w: PAGE_W - 2.0 * MARGIN,
        h: 0.6,
    });
    for row in &i.procedures {
        let c = row.submitted;
        let numbers = [
            c.kiosk,
            c.helper,
            c.officer,
            c.online,
            c.total,
            row.on_time,
            row.late,
        ]
        .map(|n| n.to_string());
        p.table_row(&row.name, &numbers, false);
    }
    let c = i.submitted;
    let numbers = [
        c.kiosk, c.helper, c.officer, c.online, c.total, o.on_time, o.late,
    ]
    .map(|n| n.to_string());
    p.table_row(&l.total, &numbers, true);

    p.heading(&l.charts);
    let w = PAGE_W - 2.0 * MARGIN;
    for chart in Chart::ALL {
        let h = match chart {
            Chart::ByProcedure => w * 0.55,
            Chart::Satisfaction | Chart::OnTime => w * 0.45,
        };
        // (whole pixels; the page is a few hundred points wide)
        let png = charts::png(
            chart,
            i,
            l,
            (w * CHART_SCALE).round() as u32,
            (h * CHART_SCALE).round() as u32,
        )?;
        p.image(png, w, h);
    }
    Ok(p.pages)
}

/// The indicators report as a PDF on A4, in the language of `labels`.
pub fn render_report(indicators: &Indicators, labels: &Labels) -> Result<Vec<u8>, DocumentError> {
    let measure = Measure::new()?;
    let pages = layout(indicators, labels, &measure)?;
    crate::pdf::write(
        format!("{} {}", labels.title, indicators.commune),
        labels.lang,
        PageSize::A4,
        pages,
    )
}

/// Everything `xaso-hub report` (or any other caller) writes for a commune and a period, as
/// file names and their bytes: `indicators.json`, `procedures.csv`, `headline.csv`, each
/// chart as `<stem>.svg` and `<stem>.png` (1200 × 600), `report.pdf`, `open-data.csv` and
/// `open-data.schema.json`. The caller writes them; nothing here touches a file.
pub fn report_files(
    indicators: &Indicators,
    labels: &Labels,
    open_data: &xaso_reports::open_data::OpenData,
) -> Result<Vec<(String, Vec<u8>)>, DocumentError> {
    let mut files = vec![
        (
            "indicators.json".to_owned(),
            indicators.to_json()?.into_bytes(),
        ),
        (
            "procedures.csv".to_owned(),
            indicators.procedures_csv()?.into_bytes(),
        ),
        (
            "headline.csv".to_owned(),
            indicators.headline_csv(labels)?.into_bytes(),
        ),
    ];
    for chart in Chart::ALL {
        files.push((
            format!("{}.svg", chart.stem()),
            charts::svg(chart, indicators, labels, 1200, 600)?.into_bytes(),
        ));
        files.push((
            format!("{}.png", chart.stem()),
            charts::png(chart, indicators, labels, 1200, 600)?,
        ));
    }
    files.push(("report.pdf".to_owned(), render_report(indicators, labels)?));
    files.push((
        "open-data.csv".to_owned(),
        open_data.csv.clone().into_bytes(),
    ));
    files.push((
        "open-data.schema.json".to_owned(),
        open_data.schema_json.clone().into_bytes(),
    ));
    Ok(files)
}
