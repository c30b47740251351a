//! The form as the kiosk shows it: values typed the Vietnamese way (dates as `dd/mm/yyyy`)
//! turned into the catalog's forms, and the catalog's rules applied to them.

use std::collections::BTreeMap;

use xaso_services::{FieldKind, Procedure};

use crate::telex::TelexEntry;

/// Where a form value came from; shown beside the value so the resident knows what to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSource {
    Card,
    /// Carried from an earlier procedure of the same life event.
    Earlier,
    Typed,
}

/// How a field is entered on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputStyle {
    /// Letters, with Telex.
    Text,
    /// The digits-first keyboard.
    Digits,
    /// Digits, typed `dd/mm/yyyy`.
    Date,
    /// Buttons, one per choice (choices, sex, yes/no).
    Choice,
}

impl InputStyle {
    pub fn of(kind: FieldKind) -> InputStyle {
        match kind {
            FieldKind::Choice | FieldKind::Sex | FieldKind::Boolean => InputStyle::Choice,
            FieldKind::IdNumber | FieldKind::Phone | FieldKind::Number => InputStyle::Digits,
            FieldKind::Date => InputStyle::Date,
            _ => InputStyle::Text,
        }
    }
}

/// The form of one procedure being filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormState {
    pub procedure: String,
    pub values: BTreeMap<String, String>,
    pub sources: BTreeMap<String, ValueSource>,
    pub errors: BTreeMap<String, FieldError>,
    /// The text field the keyboard types into.
    pub focus: Option<String>,
    pub(crate) entry: TelexEntry,
}

impl FormState {
    pub(crate) fn new(procedure: &str) -> FormState {
        FormState {
            procedure: procedure.to_owned(),
            values: BTreeMap::new(),
            sources: BTreeMap::new(),
            errors: BTreeMap::new(),
            focus: None,
            entry: TelexEntry::default(),
        }
    }
}

/// A validation message: a translation key of `xaso_i18n::Translations` and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub key: String,
    pub args: Vec<(String, String)>,
}

/// A date typed on the kiosk (`15/03/2026`, `15-3-2026`) in the catalog's `YYYY-MM-DD`.
/// Anything that is not a day/month/year triple is returned unchanged, for the rules to reject.
pub fn date_to_iso(typed: &str) -> String {
    let parts: Vec<&str> = typed
        .trim()
        .split(['/', '-', '.', ' '])
        .filter(|s| !s.is_empty())
        .collect();
    if let [d, m, y] = parts[..]
        && y.len() == 4
        && d.len() <= 2
        && m.len() <= 2
        && let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u8>(), m.parse::<u8>(), y.parse::<u16>())
    {
        return format!("{y:04}-{m:02}-{d:02}");
    }
    typed.trim().to_owned()
}

/// A catalog date (`YYYY-MM-DD`) as shown on the kiosk (`dd/mm/yyyy`).
pub fn iso_to_display(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] if y.len() == 4 => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// The values in the catalog's forms, empty ones left out.
pub fn normalised(
    procedure: Option<&Procedure>,
    values: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    values
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| {
            let kind = procedure.and_then(|p| p.field(k)).map(|f| f.kind);
            let v = match kind {
                Some(FieldKind::Date) => date_to_iso(v),
                _ => v.trim().to_owned(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Checks every field of the form with the catalog's rules; the map holds one message per
/// field in error.
pub fn check(
    procedure: &Procedure,
    values: &BTreeMap<String, String>,
    today: jiff::civil::Date,
) -> BTreeMap<String, FieldError> {
    let values = normalised(Some(procedure), values);
    let mut out = BTreeMap::new();
    for e in xaso_services::validate_form(procedure, &values, today) {
        // One message per field: the first problem found.
        out.entry(e.field.clone()).or_insert(FieldError {
            key: e.key,
            args: e.params,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_dates_become_iso() {
        assert_eq!(date_to_iso("15/03/2026"), "2026-03-15");
        assert_eq!(date_to_iso("5-3-2026"), "2026-03-05");
        assert_eq!(date_to_iso("2026"), "2026");
        assert_eq!(iso_to_display("2026-03-15"), "15/03/2026");
    }
}
