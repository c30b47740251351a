//! Dates in Viet Nam, and working days: when a result is due.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::{TimeZone, offset};

/// Viet Nam's time: UTC+07:00 all year (no daylight saving time since 1975). A fixed offset,
/// so a kiosk without the tz database still gets it right.
pub fn vietnam_time_zone() -> TimeZone {
    TimeZone::fixed(offset(7))
}

/// The date in Viet Nam at `ts`: what a resident's calendar says (a dossier submitted at
/// 23:30 UTC is submitted the next day in Viet Nam). Every date the kiosk shows or rules on
/// comes from here.
pub fn vietnam_date(ts: Timestamp) -> Date {
    ts.to_zoned_datetime(vietnam_time_zone()).date()
}
use serde::Deserialize;

#[derive(Deserialize)]
struct HolidayFile {
    fixed: Vec<MonthDay>,
    dated: Vec<Date>,
}

#[derive(Deserialize)]
struct MonthDay {
    month: i8,
    day: i8,
}

/// The public holidays in `services/data/holidays.toml`.
#[derive(Debug, Clone, Default)]
pub struct Holidays {
    fixed: BTreeSet<(i8, i8)>,
    dated: BTreeSet<Date>,
}

impl Holidays {
    pub fn bundled() -> &'static Holidays {
        static HOLIDAYS: OnceLock<Holidays> = OnceLock::new();
        HOLIDAYS.get_or_init(|| {
            toml::from_str::<HolidayFile>(include_str!("../data/holidays.toml"))
                .map(|f| Holidays {
                    fixed: f.fixed.into_iter().map(|m| (m.month, m.day)).collect(),
                    dated: f.dated.into_iter().collect(),
                })
                .unwrap_or_default()
        })
    }

    pub fn is_holiday(&self, date: Date) -> bool {
        self.fixed.contains(&(date.month(), date.day())) || self.dated.contains(&date)
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.is_holiday(date)
    }

    /// The day a result is due when a dossier is received on `received` and the procedure
    /// takes `days` working days. Zero days means the same day (or the next working day
    /// when received on a day off).
    pub fn due_date(&self, received: Date, days: u32) -> Date {
        let mut date = received;
        // bounded: at most `days` working days plus the weekends and holidays between
        let mut guard = 0u32;
        while !self.is_working_day(date) && guard < 60 {
            date = date.tomorrow().unwrap_or(date);
            guard += 1;
        }
        let mut left = days;
        while left > 0 && guard < 60 + days * 3 {
            date = date.tomorrow().unwrap_or(date);
            if self.is_working_day(date) {
                left -= 1;
            }
            guard += 1;
        }
        date
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_date_in_viet_nam_is_seven_hours_ahead_of_utc() {
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        // 23:30 UTC on the 22nd is 06:30 on the 23rd in Viet Nam.
        assert_eq!(vietnam_date(ts("2026-11-22T23:30:00Z")), date(2026, 11, 23));
        assert_eq!(vietnam_date(ts("2026-11-22T16:59:59Z")), date(2026, 11, 22));
        assert_eq!(vietnam_date(ts("2026-11-22T17:00:00Z")), date(2026, 11, 23));
        // New Year's Eve in UTC is already New Year's Day in Viet Nam.
        assert_eq!(vietnam_date(ts("2026-12-31T20:00:00Z")), date(2027, 1, 1));
    }

    #[test]
    fn bundled_file_loads() {
        let h = Holidays::bundled();
        assert!(h.is_holiday(date(2027, 9, 2)));
        assert!(h.is_holiday(date(2026, 2, 17)));
        assert!(!h.is_holiday(date(2026, 2, 23)));
    }

    #[test]
    fn skips_weekends_and_holidays() {
        let h = Holidays::bundled();
        // Monday 23/11/2026 + 3 working days = Thursday
        assert_eq!(h.due_date(date(2026, 11, 23), 3), date(2026, 11, 26));
        // Friday + 1 = Monday
        assert_eq!(h.due_date(date(2026, 11, 27), 1), date(2026, 11, 30));
        // same day
        assert_eq!(h.due_date(date(2026, 11, 23), 0), date(2026, 11, 23));
        // received on Saturday, same-day procedure: Monday
        assert_eq!(h.due_date(date(2026, 11, 28), 0), date(2026, 11, 30));
        // over Tết 2026: Friday 13/2 + 1 = Monday 23/2
        assert_eq!(h.due_date(date(2026, 2, 13), 1), date(2026, 2, 23));
        // 29/4/2026 (Wed) + 1: 30/4 and 1/5 are holidays, then the weekend
        assert_eq!(h.due_date(date(2026, 4, 29), 1), date(2026, 5, 4));
    }
}
