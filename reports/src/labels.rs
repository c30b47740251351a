//! The texts of reports and charts in one language, from the `.po` catalogs.

use xaso_i18n::{Lang, Translations};
use xaso_services::dossier::Channel;
use xaso_services::rating::Satisfaction;

/// Every text a report or chart shows, looked up once in one language (keys `report.*`
/// and `rating.*` of the `messages` domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// The language of the texts.
    pub lang: Lang,
    /// The report's title.
    pub title: String,
    /// "Commune code: 79001".
    pub commune: String,
    /// "From … to …" (dates in the Vietnamese way, dd/mm/yyyy).
    pub period: String,
    pub headline: String,
    pub dossiers: String,
    pub online_share: String,
    pub on_time_rate: String,
    pub finished: String,
    pub on_time: String,
    pub late: String,
    pub overdue_open: String,
    pub ratings: String,
    pub satisfaction_rate: String,
    /// "Target 95%".
    pub target_low: String,
    /// "Target 99%".
    pub target_high: String,
    pub meets: String,
    pub misses: String,
    pub training: String,
    pub training_learners: String,
    pub training_module: String,
    pub training_officials: String,
    pub not_available: String,
    pub by_procedure: String,
    pub procedure: String,
    pub total: String,
    pub count: String,
    pub charts: String,
    pub chart_satisfaction: String,
    pub chart_on_time: String,
    /// Channel names in the order of [`Labels::CHANNELS`].
    pub channels: [String; 4],
    /// Satisfaction levels in the order of [`Satisfaction::ALL`].
    pub levels: [String; 4],
}

impl Labels {
    /// The channels in the order reports list them.
    pub const CHANNELS: [Channel; 4] = [
        Channel::Kiosk,
        Channel::Helper,
        Channel::Officer,
        Channel::Online,
    ];

    /// The texts in `lang`, for a report of `commune` from `from` to `to`.
    pub fn new(
        translations: &Translations,
        lang: Lang,
        commune: &str,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Labels {
        let t = |key: &str| translations.get(lang, key, &[]);
        let from = xaso_i18n::format_date(from);
        let to = xaso_i18n::format_date(to);
        Labels {
            lang,
            title: t("report.title"),
            commune: translations.get(lang, "report.commune", &[("commune", commune)]),
            period: translations.get(lang, "report.period", &[("from", &from), ("to", &to)]),
            headline: t("report.headline"),
            dossiers: t("report.dossiers"),
            online_share: t("report.online_share"),
            on_time_rate: t("report.on_time_rate"),
            finished: t("report.finished"),
            on_time: t("report.on_time"),
            late: t("report.late"),
            overdue_open: t("report.overdue_open"),
            ratings: t("report.ratings"),
            satisfaction_rate: t("report.satisfaction_rate"),
            target_low: translations.get(lang, "report.target", &[("target", "95")]),
            target_high: translations.get(lang, "report.target", &[("target", "99")]),
            meets: t("report.meets"),
            misses: t("report.misses"),
            training: t("report.training"),
            training_learners: t("report.training_learners"),
            training_module: t("report.training_module"),
            training_officials: t("report.training_officials"),
            not_available: t("report.not_available"),
            by_procedure: t("report.by_procedure"),
            procedure: t("report.procedure"),
            total: t("report.total"),
            count: t("report.count"),
            charts: t("report.charts"),
            chart_satisfaction: t("report.chart.satisfaction"),
            chart_on_time: t("report.chart.on_time"),
            channels: Labels::CHANNELS.map(|c| t(channel_key(c))),
            levels: Satisfaction::ALL.map(|l| t(l.key())),
        }
    }

    /// The name of a channel.
    pub fn channel(&self, channel: Channel) -> &str {
        let i = Labels::CHANNELS
            .iter()
            .position(|c| *c == channel)
            .unwrap_or(0);
        self.channels.get(i).map_or("", String::as_str)
    }
}

/// The stable, machine-readable name of a channel (JSON, CSV, open data).
pub(crate) fn channel_code(channel: Channel) -> &'static str {
    match channel {
        Channel::Kiosk => "kiosk",
        Channel::Helper => "helper",
        Channel::Officer => "officer",
        Channel::Online => "online",
    }
}

fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Kiosk => "report.channel.kiosk",
        Channel::Helper => "report.channel.helper",
        Channel::Officer => "report.channel.officer",
        Channel::Online => "report.channel.online",
    }
}
