//! The identifiers the tool writes into packs and trust lists, checked before anything is
//! signed.

use anyhow::{Result, bail};

/// A key id as configurations and trust lists hold it: 1 to 64 visible ASCII characters,
/// no `:` (the separator of `trust-list` keys).
pub fn check_key_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        bail!("key id `{id}`: use 1 to 64 letters, digits or `-_.` (no spaces, no `:`)");
    }
    Ok(())
}

/// A province code: two digits.
pub fn check_province(code: &str) -> Result<()> {
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        bail!("province `{code}`: give the province's two-digit code (for example 79)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_checked() {
        assert!(check_key_id("p79-lessons-2026").is_ok());
        assert!(check_key_id("").is_err());
        assert!(check_key_id("p79 lessons").is_err());
        assert!(check_key_id("p79:lessons").is_err());
        assert!(check_key_id(&"k".repeat(65)).is_err());
    }

    #[test]
    fn province_codes_are_two_digits() {
        assert!(check_province("79").is_ok());
        assert!(check_province("01").is_ok());
        assert!(check_province("7").is_err());
        assert!(check_province("079").is_err());
        assert!(check_province("HN").is_err());
    }
}
