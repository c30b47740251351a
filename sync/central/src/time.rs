//! The platform's dates: `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh (UTC+07:00 all year).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use xaso_services::calendar::vietnam_time_zone;

/// `ts` as the platform writes it.
pub fn format(ts: Timestamp) -> String {
    ts.to_zoned_datetime(vietnam_time_zone())
        .strftime("%Y%m%d%H%M%S")
        .to_string()
}

/// The end of office hours (17:00) on `date`, as the platform writes it: when a result is
/// due on that day.
pub fn format_due(date: Date) -> String {
    format!("{}170000", date.strftime("%Y%m%d"))
}

/// A platform date back to a time; `None` if it is not `yyyyMMddHHmmss`.
pub fn parse(text: &str) -> Option<Timestamp> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let dt = DateTime::strptime("%Y%m%d%H%M%S", text).ok()?;
    dt.to_zoned_datetime(vietnam_time_zone())
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn times_are_written_in_viet_nam_and_read_back() {
        let ts: Timestamp = "2026-11-30T23:30:05Z".parse().unwrap();
        assert_eq!(format(ts), "20261201063005");
        assert_eq!(parse("20261201063005"), Some(ts));
        assert_eq!(parse("2026120106300"), None);
        assert_eq!(parse("20261301063005"), None);
        assert_eq!(parse("2026120106300x"), None);
        assert_eq!(format_due(jiff::civil::date(2026, 12, 4)), "20261204170000");
    }
}
