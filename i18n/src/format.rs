//! Amounts and dates as Vietnamese forms write them.

use jiff::civil::Date;

/// `25000` → `"25.000 ₫"`: dots between thousands, the đồng sign after.
pub fn format_vnd(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out.push_str(" ₫");
    out
}

/// `2026-11-23` → `"23/11/2026"` (day first, as on the chip ID card).
pub fn format_date(date: Date) -> String {
    format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_amounts() {
        assert_eq!(format_vnd(0), "0 ₫");
        assert_eq!(format_vnd(999), "999 ₫");
        assert_eq!(format_vnd(1000), "1.000 ₫");
        assert_eq!(format_vnd(25_000), "25.000 ₫");
        assert_eq!(format_vnd(1_234_567), "1.234.567 ₫");
    }

    #[test]
    fn formats_dates_day_first() {
        assert_eq!(format_date(jiff::civil::date(2026, 1, 5)), "05/01/2026");
    }
}
