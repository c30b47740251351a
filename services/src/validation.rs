//! Checking what a person entered against the catalog's rules.
//!
//! Nothing here panics or throws text at the user: every problem is a [`FieldError`] that
//! names the field and carries a translation key (`field.required`, `field.id_number.province`…)
//! with parameters, which the UI turns into Vietnamese or English through `xaso-i18n`.
//! "Today" is an argument, so the same rules give the same answer on every device.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalog::{FieldDef, FieldKind, Procedure, Submitter};
use crate::dossier::AttachmentRef;
use crate::id_number::{Sex, check_id_number};

/// One problem with one field (or paper), ready to translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field id, or the paper id for paper problems.
    pub field: String,
    /// Translation key.
    pub key: String,
    /// Values for the message's `{placeholders}`.
    pub params: Vec<(String, String)>,
}

impl FieldError {
    fn new(field: &str, key: &str) -> FieldError {
        FieldError {
            field: field.to_owned(),
            key: key.to_owned(),
            params: Vec::new(),
        }
    }

    fn with(mut self, name: &str, value: impl ToString) -> FieldError {
        self.params.push((name.to_owned(), value.to_string()));
        self
    }

    /// Parameters in the form `xaso_i18n::Translations::get` takes.
    pub fn args(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Parses a stored date value (`YYYY-MM-DD`).
pub fn parse_date(value: &str) -> Option<Date> {
    let value = value.trim();
    if value.len() != 10 {
        return None;
    }
    value.parse::<Date>().ok()
}

/// Whole years from `born` to `today`.
pub fn age_in_years(born: Date, today: Date) -> i32 {
    let mut years = i32::from(today.year()) - i32::from(born.year());
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

/// Normalises a Vietnamese phone number to `0XXXXXXXXX`, accepting `+84`/`84` and spaces,
/// dots or hyphens between digit groups.
pub fn normalize_phone(value: &str) -> Option<String> {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = compact.strip_prefix("+84") {
        format!("0{rest}")
    } else if compact.starts_with("84") && compact.len() == 11 {
        format!("0{}", &compact[2..])
    } else {
        compact
    };
    if !national.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let ok = match national.len() {
        // mobile: 03x, 05x, 07x, 08x, 09x
        10 => matches!(&national[..2], "03" | "05" | "07" | "08" | "09"),
        // landline: 02 + area code + subscriber number
        11 => national.starts_with("02"),
        _ => false,
    };
    ok.then_some(national)
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
}

/// Checks one value against its field definition. An empty value is an error only for a
/// required field.
pub fn validate_value(def: &FieldDef, value: &str, today: Date) -> Result<(), FieldError> {
    let id = def.id.as_str();
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return if def.required {
            Err(FieldError::new(id, "field.required"))
        } else {
            Ok(())
        };
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(id, "field.text.control"));
    }
    let chars = trimmed.chars().count();
    if let Some(min) = def.min_len
        && chars < min as usize
    {
        return Err(FieldError::new(id, "field.text.too_short").with("min", min));
    }
    if let Some(max) = def.max_len
        && chars > max as usize
    {
        return Err(FieldError::new(id, "field.text.too_long").with("max", max));
    }
    match def.kind {
        FieldKind::Text => Ok(()),
        FieldKind::Address => {
            if chars < 5 {
                Err(FieldError::new(id, "field.address.too_short"))
            } else {
                Ok(())
            }
        }
        FieldKind::IdNumber => check_id_number(trimmed, None, None)
            .map(|_| ())
            .map_err(|e| FieldError::new(id, e.key())),
        FieldKind::Phone => normalize_phone(trimmed)
            .map(|_| ())
            .ok_or_else(|| FieldError::new(id, "field.phone.invalid")),
        FieldKind::Email => {
            if is_email(trimmed) {
                Ok(())
            } else {
                Err(FieldError::new(id, "field.email.invalid"))
            }
        }
        FieldKind::Number => {
            let n: i64 = trimmed
                .parse()
                .map_err(|_| FieldError::new(id, "field.number.invalid"))?;
            if let Some(min) = def.min
                && n < min
            {
                return Err(FieldError::new(id, "field.number.too_small").with("min", min));
            }
            if let Some(max) = def.max
                && n > max
            {
                return Err(FieldError::new(id, "field.number.too_large").with("max", max));
            }
            Ok(())
        }
        FieldKind::Choice => {
            if def.choices.iter().any(|c| c.value == trimmed) {
                Ok(())
            } else {
                Err(FieldError::new(id, "field.choice.invalid"))
            }
        }
        FieldKind::Sex => Sex::parse(trimmed)
            .map(|_| ())
            .ok_or_else(|| FieldError::new(id, "field.choice.invalid")),
        FieldKind::Boolean => match trimmed {
            "true" | "false" => Ok(()),
            _ => Err(FieldError::new(id, "field.choice.invalid")),
        },
        FieldKind::Date => {
            let date =
                parse_date(trimmed).ok_or_else(|| FieldError::new(id, "field.date.invalid"))?;
            if def.not_future && date > today {
                return Err(FieldError::new(id, "field.date.future"));
            }
            if def.not_past && date < today {
                return Err(FieldError::new(id, "field.date.past"));
            }
            let age = age_in_years(date, today);
            if let Some(min) = def.min_age_years
                && age < i32::try_from(min).unwrap_or(i32::MAX)
            {
                return Err(FieldError::new(id, "field.date.min_age").with("years", min));
            }
            if let Some(max) = def.max_age_years
                && age > i32::try_from(max).unwrap_or(i32::MAX)
            {
                return Err(FieldError::new(id, "field.date.max_age").with("years", max));
            }
            Ok(())
        }
    }
}

/// Checks a whole form: every field's own rules, unknown fields, and agreement between an
/// ID number and the date of birth and sex of the same person (fields sharing a prefix,
/// e.g. `mother_id_number` with `mother_date_of_birth`). Returns every problem, in the
/// order of the procedure's fields.
pub fn validate_form(
    procedure: &Procedure,
    values: &BTreeMap<String, String>,
    today: Date,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for key in values.keys() {
        if procedure.field(key).is_none() {
            errors.push(FieldError::new(key, "field.unknown"));
        }
    }
    for def in &procedure.fields {
        let value = values.get(&def.id).map(String::as_str).unwrap_or("");
        if let Err(e) = validate_value(def, value, today) {
            errors.push(e);
            continue;
        }
        if def.kind == FieldKind::IdNumber && !value.trim().is_empty() {
            let prefix = def.id.strip_suffix("id_number").unwrap_or("");
            let sibling = |suffix: &str| {
                let id = format!("{prefix}{suffix}");
                let def = procedure.field(&id)?;
                let v = values.get(&id)?;
                validate_value(def, v, today).ok()?;
                Some(v.as_str())
            };
            let dob = sibling("date_of_birth").and_then(parse_date);
            let sex = sibling("sex").and_then(Sex::parse);
            if let Err(e) = check_id_number(value, dob, sex) {
                errors.push(FieldError::new(&def.id, e.key()));
            }
        }
    }
    errors
}

/// Checks the photographed papers: each paper needed for this submitter has between `min`
/// and `max` photos, and no photo belongs to an unknown paper.
pub fn validate_papers(
    procedure: &Procedure,
    submitter: Submitter,
    attachments: &[AttachmentRef],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for a in attachments {
        if procedure.paper(&a.paper).is_none() {
            errors.push(FieldError::new(&a.paper, "paper.unknown"));
        }
    }
    for paper in procedure.papers_for(submitter) {
        let count = attachments.iter().filter(|a| a.paper == paper.id).count();
        if count < paper.min as usize {
            errors.push(FieldError::new(&paper.id, "paper.too_few").with("min", paper.min));
        } else if count > paper.max as usize {
            errors.push(FieldError::new(&paper.id, "paper.too_many").with("max", paper.max));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Choice, Localized};
    use jiff::civil::date;

    fn text(id: &str) -> Localized {
        Localized::from_texts(id, xaso_i18n::Lang::ALL.map(|lang| (lang, id.to_owned())))
    }

    fn field(id: &str, kind: FieldKind) -> FieldDef {
        FieldDef {
            id: id.into(),
            kind,
            label: text(id),
            help: None,
            required: true,
            choices: vec![],
            min_len: None,
            max_len: None,
            min: None,
            max: None,
            not_future: false,
            not_past: false,
            min_age_years: None,
            max_age_years: None,
        }
    }

    const TODAY: Date = date(2026, 11, 23);

    fn key(def: &FieldDef, v: &str) -> String {
        match validate_value(def, v, TODAY) {
            Ok(()) => "ok".into(),
            Err(e) => e.key,
        }
    }

    #[test]
    fn required_and_optional() {
        let mut f = field("name", FieldKind::Text);
        assert_eq!(key(&f, "  "), "field.required");
        f.required = false;
        assert_eq!(key(&f, ""), "ok");
    }

    #[test]
    fn text_lengths_count_characters_not_bytes() {
        let mut f = field("name", FieldKind::Text);
        f.min_len = Some(2);
        f.max_len = Some(5);
        assert_eq!(key(&f, "Ư"), "field.text.too_short");
        assert_eq!(key(&f, "Đặng"), "ok"); // 4 chars, more bytes
        let e = validate_value(&f, "Nguyễn", TODAY).unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.args()),
            ("field.text.too_long", vec![("max", "5")])
        );
        assert_eq!(key(&f, "a\u{0}b"), "field.text.control");
    }

    #[test]
    fn dates() {
        let mut f = field("dob", FieldKind::Date);
        f.not_future = true;
        f.min_age_years = Some(18);
        assert_eq!(key(&f, "2000-02-29"), "ok");
        assert_eq!(key(&f, "2027-01-01"), "field.date.future");
        assert_eq!(key(&f, "2008-11-24"), "field.date.min_age"); // one day short of 18
        assert_eq!(key(&f, "2008-11-23"), "ok");
        assert_eq!(key(&f, "2001-02-29"), "field.date.invalid");
        assert_eq!(key(&f, "23/11/2000"), "field.date.invalid");
        assert_eq!(key(&f, "2000-1-1"), "field.date.invalid");
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("0912 345 678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalize_phone("+84 912.345.678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalize_phone("84912345678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(
            normalize_phone("024 3825 1234").as_deref(),
            Some("02438251234")
        );
        assert_eq!(normalize_phone("0112345678"), None);
        assert_eq!(normalize_phone("091234567"), None);
        assert_eq!(normalize_phone("09123456789"), None);
        assert_eq!(normalize_phone("09l2345678"), None);
    }

    #[test]
    fn numbers_choices_and_others() {
        let mut n = field("n", FieldKind::Number);
        n.min = Some(1);
        n.max = Some(10);
        assert_eq!(key(&n, "0"), "field.number.too_small");
        assert_eq!(key(&n, "11"), "field.number.too_large");
        assert_eq!(key(&n, "1.5"), "field.number.invalid");
        assert_eq!(key(&n, "7"), "ok");
        let mut c = field("c", FieldKind::Choice);
        c.choices = vec![
            Choice {
                value: "a".into(),
                label: text("a"),
            },
            Choice {
                value: "b".into(),
                label: text("b"),
            },
        ];
        assert_eq!(key(&c, "b"), "ok");
        assert_eq!(key(&c, "z"), "field.choice.invalid");
        assert_eq!(key(&field("s", FieldKind::Sex), "female"), "ok");
        assert_eq!(
            key(&field("s", FieldKind::Sex), "nữ"),
            "field.choice.invalid"
        );
        assert_eq!(key(&field("e", FieldKind::Email), "an@xa.gov.vn"), "ok");
        assert_eq!(
            key(&field("e", FieldKind::Email), "an@xa"),
            "field.email.invalid"
        );
        assert_eq!(
            key(&field("a", FieldKind::Address), "Số 1"),
            "field.address.too_short"
        );
        assert_eq!(
            key(&field("i", FieldKind::IdNumber), "003085012345"),
            "field.id_number.province"
        );
    }

    #[test]
    fn form_cross_checks_id_number_with_birth_date_and_sex() {
        let procedure = Procedure {
            code: crate::ProcedureCode("p".into()),
            name: text("p"),
            description: text("p"),
            domain: "civil_status".into(),
            legal_basis: vec!["x".into()],
            fee: crate::Fee::Free,
            processing_days: 1,
            submitters: vec![Submitter::Oneself],
            life_events: vec![],
            fields: vec![
                field("mother_id_number", FieldKind::IdNumber),
                field("mother_date_of_birth", FieldKind::Date),
                field("mother_sex", FieldKind::Sex),
            ],
            papers: vec![],
            prefill: vec![],
            result: crate::ResultTemplate {
                kind: crate::ResultKind::Extract,
                title: text("p"),
                lines: vec![],
            },
        };
        let mut values = BTreeMap::from([
            ("mother_id_number".to_owned(), "001190012345".to_owned()),
            ("mother_date_of_birth".to_owned(), "1990-05-01".to_owned()),
            ("mother_sex".to_owned(), "female".to_owned()),
        ]);
        assert_eq!(validate_form(&procedure, &values, TODAY), vec![]);
        values.insert("mother_date_of_birth".into(), "1991-05-01".into());
        let errors = validate_form(&procedure, &values, TODAY);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].key, "field.id_number.birth_year");
        values.insert("mother_date_of_birth".into(), "1990-05-01".into());
        values.insert("mother_sex".into(), "male".into());
        values.insert("nonsense".into(), "x".into());
        let keys: Vec<String> = validate_form(&procedure, &values, TODAY)
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, vec!["field.unknown", "field.id_number.sex"]);
    }
}
