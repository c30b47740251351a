//! The dashboard's charts of the month: the commune's indicators from the dossiers and
//! ratings this tablet holds (`xaso-reports`: dossiers by procedure and channel,
//! satisfaction against the 95 % and 99 % targets, the on-time rate), drawn as PNG, each
//! with a one-line summary of its figures for a screen reader. Computed again only when the
//! store changed (the queue index's feed position) or the month turned, never per redraw.

use jiff::civil::Date;
use xaso_i18n::{Lang, Translations};
use xaso_reports::charts::{self, Chart};
use xaso_reports::{Indicators, Labels, Period};
use xaso_services::calendar::Holidays;
use xaso_services::rating::Rating;
use xaso_services::{Catalog, CommuneCode, Dossier};
use xaso_sync_store::Store;

/// Width of the charts in pixels (the dashboard's column at 1280 × 800).
pub const CHART_WIDTH: u32 = 1200;

/// What the charts were computed from: the store's feed position and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartsKey {
    pub feed: u64,
    pub today: Date,
}

/// One chart of the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthChart {
    pub chart: Chart,
    /// PNG bytes, [`CHART_WIDTH`] × `height`.
    pub png: Vec<u8>,
    pub height: u32,
    /// The chart's figures as one line of text.
    pub summary: String,
}

/// The month's charts.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthCharts {
    pub key: ChartsKey,
    pub charts: Vec<MonthChart>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartsError {
    #[error("the commune code is not valid")]
    Commune,
    #[error(transparent)]
    Store(#[from] xaso_sync_store::Error),
    #[error(transparent)]
    Report(#[from] xaso_reports::ReportError),
}

/// Every dossier and rating of the commune this tablet holds.
fn read(store: &Store, commune: &str) -> Result<(Vec<Dossier>, Vec<Rating>), ChartsError> {
    let mut dossiers = Vec::new();
    let mut ratings = Vec::new();
    for partition in store.partitions_under(commune)? {
        for record in store.list(&partition)? {
            if record.starts_with(xaso_queue::DOSSIER_PREFIX) {
                match store.get::<Dossier>(&partition, &record) {
                    Ok(Some(d)) => dossiers.push(d),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("a dossier left out of the charts: {e}"),
                }
            } else if record.starts_with("rating-") {
                match store.get::<Rating>(&partition, &record) {
                    Ok(Some(r)) => ratings.push(r),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("a rating left out of the charts: {e}"),
                }
            }
        }
    }
    Ok((dossiers, ratings))
}

/// A chart's height for the figures it shows.
fn height(chart: Chart, indicators: &Indicators) -> u32 {
    let rows = u32::try_from(indicators.procedures.len())
        .unwrap_or(20)
        .min(20);
    match chart {
        Chart::ByProcedure => 160 + 46 * rows.max(1),
        Chart::Satisfaction => 300,
        Chart::OnTime => 160 + 46 * (rows + 1),
    }
}

fn percent(p: f64) -> String {
    format!("{p:.0}")
}

/// The summary of one chart.
fn summary(chart: Chart, i: &Indicators, translations: &Translations, lang: Lang) -> String {
    let t = |key: &str, args: &[(&str, &str)]| translations.get(lang, key, args);
    match chart {
        Chart::ByProcedure => {
            let s = &i.submitted;
            t(
                "kiosk.officer.dashboard.submitted_summary",
                &[
                    ("n", &s.total.to_string()),
                    ("kiosk", &s.kiosk.to_string()),
                    ("helper", &s.helper.to_string()),
                    ("officer", &s.officer.to_string()),
                    ("online", &s.online.to_string()),
                ],
            )
        }
        Chart::Satisfaction => match i.satisfaction.rate_percent {
            Some(rate) => t(
                "kiosk.officer.dashboard.satisfied_share",
                &[
                    ("share", &percent(rate)),
                    ("n", &i.satisfaction.total.to_string()),
                ],
            ),
            None => t("kiosk.officer.dashboard.no_ratings", &[]),
        },
        Chart::OnTime => {
            let o = &i.on_time;
            match o.rate_percent {
                Some(rate) => t(
                    "kiosk.officer.dashboard.on_time_summary",
                    &[
                        ("rate", &percent(rate)),
                        ("on_time", &o.on_time.to_string()),
                        ("finished", &(o.on_time + o.late).to_string()),
                        ("late", &o.late.to_string()),
                        ("overdue", &o.overdue_open.to_string()),
                    ],
                ),
                None => t(
                    "kiosk.officer.dashboard.no_finished",
                    &[("overdue", &o.overdue_open.to_string())],
                ),
            }
        }
    }
}

/// The charts of the month of `today` (from its first day to `today`) for `commune`.
pub fn compute(
    store: &Store,
    commune: &str,
    catalog: &Catalog,
    translations: &Translations,
    lang: Lang,
    key: ChartsKey,
) -> Result<MonthCharts, ChartsError> {
    let code = CommuneCode::new(commune).map_err(|_| ChartsError::Commune)?;
    let from = key.today.first_of_month();
    let period = Period::new(from, key.today)?;
    let (dossiers, ratings) = read(store, commune)?;
    let indicators = Indicators::compute(
        &code,
        period,
        &dossiers,
        &ratings,
        catalog,
        Holidays::bundled(),
    );
    let labels = Labels::new(translations, lang, commune, from, key.today);
    let mut out = Vec::new();
    for chart in Chart::ALL {
        let height = height(chart, &indicators);
        out.push(MonthChart {
            chart,
            png: charts::png(chart, &indicators, &labels, CHART_WIDTH, height)?,
            height,
            summary: summary(chart, &indicators, translations, lang),
        });
    }
    Ok(MonthCharts { key, charts: out })
}
