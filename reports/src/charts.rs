//! Charts of [`Indicators`], drawn with `plotters` in the bundled Noto Sans.
//!
//! Three charts ([`Chart`]), each as SVG text ([`svg`]) or PNG bytes ([`png`]) of a given
//! size in pixels:
//!
//! * [`Chart::ByProcedure`] — dossiers submitted per procedure, one horizontal bar each,
//!   stacked by channel (kiosk, helper, counter, online), with a legend;
//! * [`Chart::Satisfaction`] — the shares of the four satisfaction levels as one stacked bar
//!   from 0 to 100 %, with the 95 % and 99 % target lines: the programme's rate is where the
//!   two "satisfied" levels end;
//! * [`Chart::OnTime`] — the on-time rate overall and per procedure (finished dossiers only).
//!
//! The text is laid out with the bundled Noto Sans (every Vietnamese letter with its stacked
//! diacritics), registered with plotters under the family name `Noto Sans`. The SVG keeps
//! the text as `<text>` in that family; the PNG has it rasterised. The PNG is drawn into an
//! RGB buffer and encoded with the `png` crate (plotters' own encoder only writes to a file
//! path).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::{Indicators, Labels, ReportError, TARGET_HIGH, TARGET_LOW};

/// The bundled fonts (the files the kiosk's screens use).
const FONT_REGULAR: &[u8] = include_bytes!("../../kiosk/app/ui/fonts/NotoSans-Regular.ttf");
const FONT_BOLD: &[u8] = include_bytes!("../../kiosk/app/ui/fonts/NotoSans-Bold.ttf");

/// The family name the charts' text uses.
pub const FONT_FAMILY: &str = "Noto Sans";

/// Smallest and largest side of a chart, in pixels.
const MIN_SIDE: u32 = 64;
const MAX_SIDE: u32 = 8192;

/// Procedure names longer than this are shortened with "…" on the charts.
const MAX_NAME_CHARS: usize = 42;

/// Channel colours (kiosk, helper, counter, online) and level colours (very satisfied →
/// not satisfied).
const CHANNEL_COLOURS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x6f, 0xb2),
    RGBColor(0xe0, 0x8a, 0x1e),
    RGBColor(0x6b, 0x6b, 0x6b),
    RGBColor(0x2e, 0x9e, 0x5b),
];
const LEVEL_COLOURS: [RGBColor; 4] = [
    RGBColor(0x1b, 0x7f, 0x3b),
    RGBColor(0x7c, 0xc4, 0x6e),
    RGBColor(0xf2, 0xc1, 0x4e),
    RGBColor(0xd6, 0x45, 0x3d),
];
const TARGET_COLOUR: RGBColor = RGBColor(0xb0, 0x1c, 0x1c);
const ON_TIME_COLOUR: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);

/// Which chart to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Dossiers by procedure, stacked by channel.
    ByProcedure,
    /// Satisfaction levels against the 95 % and 99 % targets.
    Satisfaction,
    /// The on-time rate, overall and per procedure.
    OnTime,
}

impl Chart {
    /// All charts, in the order a report shows them.
    pub const ALL: [Chart; 3] = [Chart::ByProcedure, Chart::Satisfaction, Chart::OnTime];

    /// A file stem for the chart (`by-procedure`, `satisfaction`, `on-time`).
    pub fn stem(self) -> &'static str {
        match self {
            Chart::ByProcedure => "by-procedure",
            Chart::Satisfaction => "satisfaction",
            Chart::OnTime => "on-time",
        }
    }
}

/// The chart as an SVG document of `width` × `height` pixels.
pub fn svg(
    chart: Chart,
    indicators: &Indicators,
    labels: &Labels,
    width: u32,
    height: u32,
) -> Result<String, ReportError> {
    check_size(width, height)?;
    fonts()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(chart, &root, indicators, labels)?;
        root.present().map_err(chart_error)?;
    }
    Ok(out)
}

/// The chart as a PNG image (8-bit RGB) of `width` × `height` pixels.
pub fn png(
    chart: Chart,
    indicators: &Indicators,
    labels: &Labels,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, ReportError> {
    check_size(width, height)?;
    fonts()?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(chart, &root, indicators, labels)?;
        root.present().map_err(chart_error)?;
    }
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

fn check_size(width: u32, height: u32) -> Result<(), ReportError> {
    let ok = |side: u32| (MIN_SIDE..=MAX_SIDE).contains(&side);
    if ok(width) && ok(height) {
        Ok(())
    } else {
        Err(ReportError::Size { width, height })
    }
}

/// Registers the bundled fonts with plotters (idempotent: the same bytes under the same
/// name).
fn fonts() -> Result<(), ReportError> {
    register_font(FONT_FAMILY, FontStyle::Normal, FONT_REGULAR).map_err(|_| ReportError::Font)?;
    register_font(FONT_FAMILY, FontStyle::Bold, FONT_BOLD).map_err(|_| ReportError::Font)?;
    Ok(())
}

fn chart_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ReportError {
    ReportError::Chart(e.to_string())
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}

fn bold(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Bold).color(&BLACK)
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        name.to_owned()
    } else {
        let mut s: String = name.chars().take(MAX_NAME_CHARS - 1).collect();
        s.push('…');
        s
    }
}

fn draw<DB: DrawingBackend>(
    chart: Chart,
    root: &DrawingArea<DB, Shift>,
    indicators: &Indicators,
    labels: &Labels,
) -> Result<(), ReportError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(chart_error)?;
    let (w, _) = root.dim_in_pixel();
    // Text scales with the width; 800 px wide gives 15 px labels.
    let unit = f64::from(w) / 800.0;
    match chart {
        Chart::ByProcedure => by_procedure(root, indicators, labels, unit),
        Chart::Satisfaction => satisfaction(root, indicators, labels, unit),
        Chart::OnTime => on_time(root, indicators, labels, unit),
    }
}

fn by_procedure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    indicators: &Indicators,
    labels: &Labels,
    unit: f64,
) -> Result<(), ReportError>
where
    DB::ErrorType: 'static,
{
    let rows = &indicators.procedures;
    let names: Vec<String> = rows.iter().map(|r| shorten(&r.name)).collect();
    // Segments 0..=n-1: one per bar.
    let n = i32::try_from(rows.len()).unwrap_or(i32::MAX).max(1);
    let max = rows
        .iter()
        .map(|r| r.submitted.total)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (w, _) = root.dim_in_pixel();
    let mut chart = ChartBuilder::on(root)
        .caption(&labels.by_procedure, bold(20.0 * unit))
        .margin((12.0 * unit) as u32)
        .x_label_area_size((36.0 * unit) as u32)
        .y_label_area_size((f64::from(w) * 0.42) as u32)
        .build_cartesian_2d(0f64..max * 1.45, (0..n - 1).into_segmented())
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(rows.len().max(1))
        .y_label_formatter(&|v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| names.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc(&labels.count)
        // counts are whole: a tick between two whole numbers gets no label
        .x_labels(((max * 1.45).ceil() as usize + 1).min(11))
        .x_label_formatter(&|x: &f64| {
            if (x - x.round()).abs() < 1e-6 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .label_style(font(13.0 * unit))
        .axis_desc_style(font(14.0 * unit))
        .draw()
        .map_err(chart_error)?;
    let margin = (6.0 * unit) as u32;
    for (c, channel) in Labels::CHANNELS.iter().enumerate() {
        let colour = CHANNEL_COLOURS[c % CHANNEL_COLOURS.len()];
        let bars = rows.iter().zip(0..).filter_map(|(row, i)| {
            let before: u64 = Labels::CHANNELS[..c]
                .iter()
                .map(|ch| row.submitted.get(*ch))
                .sum();
            let count = row.submitted.get(*channel);
            (count > 0).then(|| {
                let mut bar = Rectangle::new(
                    [
                        (before as f64, SegmentValue::Exact(i)),
                        ((before + count) as f64, SegmentValue::Exact(i + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(margin, margin, 0, 0);
                bar
            })
        });
        chart
            .draw_series(bars)
            .map_err(chart_error)?
            .label(labels.channel(*channel))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(13.0 * unit))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(chart_error)?;
    Ok(())
}

fn satisfaction<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    indicators: &Indicators,
    labels: &Labels,
    unit: f64,
) -> Result<(), ReportError>
where
    DB::ErrorType: 'static,
{
    let s = &indicators.satisfaction;
    let caption = match s.rate_percent {
        Some(rate) => format!(
            "{} — {}: {rate:.1}%",
            labels.chart_satisfaction, labels.satisfaction_rate
        ),
        None => format!("{} — {}", labels.chart_satisfaction, labels.not_available),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, bold(20.0 * unit))
        .margin((16.0 * unit) as u32)
        .x_label_area_size((36.0 * unit) as u32)
        .y_label_area_size((10.0 * unit) as u32)
        .build_cartesian_2d(0f64..100f64, 0f64..3f64)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .disable_y_axis()
        .x_labels(11)
        .x_label_formatter(&|x: &f64| format!("{x:.0}%"))
        .label_style(font(13.0 * unit))
        .draw()
        .map_err(chart_error)?;
    let total = s.total.max(1) as f64;
    let mut start = 0.0;
    for (i, level) in xaso_services::rating::Satisfaction::ALL.iter().enumerate() {
        let share = s.get(*level) as f64 * 100.0 / total;
        let colour = LEVEL_COLOURS[i % LEVEL_COLOURS.len()];
        let bar = Rectangle::new([(start, 1.6), (start + share, 2.4)], colour.filled());
        start += share;
        chart
            .draw_series(std::iter::once(bar))
            .map_err(chart_error)?
            .label(format!("{}: {}", labels.levels[i], s.get(*level)))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    for (target, text, y) in [
        (TARGET_LOW, &labels.target_low, 1.2),
        (TARGET_HIGH, &labels.target_high, 2.8),
    ] {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(target, 1.1), (target, 2.9)],
                TARGET_COLOUR.stroke_width((2.0 * unit).max(1.0) as u32),
            )))
            .map_err(chart_error)?;
        let style =
            font(13.0 * unit)
                .color(&TARGET_COLOUR)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Right,
                    plotters::style::text_anchor::VPos::Center,
                ));
        chart
            .draw_series(std::iter::once(Text::new(
                text.clone(),
                (target - 1.0, y),
                style,
            )))
            .map_err(chart_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font(font(13.0 * unit))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(chart_error)?;
    Ok(())
}

fn on_time<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    indicators: &Indicators,
    labels: &Labels,
    unit: f64,
) -> Result<(), ReportError>
where
    DB::ErrorType: 'static,
{
    // The overall rate first, then each procedure with a finished dossier.
    let mut bars: Vec<(String, Option<f64>)> =
        vec![(labels.total.clone(), indicators.on_time.rate_percent)];
    for row in &indicators.procedures {
        let decided = row.on_time + row.late;
        if decided > 0 {
            bars.push((
                shorten(&row.name),
                Some(row.on_time as f64 * 100.0 / decided as f64),
            ));
        }
    }
    let n = i32::try_from(bars.len()).unwrap_or(i32::MAX);
    let (w, _) = root.dim_in_pixel();
    let caption = match indicators.on_time.rate_percent {
        Some(rate) => format!("{}: {rate:.1}%", labels.chart_on_time),
        None => format!("{} — {}", labels.chart_on_time, labels.not_available),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, bold(20.0 * unit))
        .margin((12.0 * unit) as u32)
        .x_label_area_size((36.0 * unit) as u32)
        .y_label_area_size((f64::from(w) * 0.42) as u32)
        .build_cartesian_2d(0f64..100f64, (0..n - 1).into_segmented())
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .y_labels(bars.len())
        .y_label_formatter(&|v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| bars.get(i))
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_labels(11)
        .x_label_formatter(&|x: &f64| format!("{x:.0}%"))
        .label_style(font(13.0 * unit))
        .draw()
        .map_err(chart_error)?;
    let margin = (6.0 * unit) as u32;
    chart
        .draw_series(bars.iter().zip(0..).filter_map(|((_, rate), i)| {
            rate.map(|rate| {
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (rate, SegmentValue::Exact(i + 1)),
                    ],
                    ON_TIME_COLOUR.filled(),
                );
                bar.set_margin(margin, margin, 0, 0);
                bar
            })
        }))
        .map_err(chart_error)?;
    Ok(())
}
