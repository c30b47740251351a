//! Every procedure's form accepts a realistic, complete set of values and refuses an empty
//! one with a `field.required` error for each required field: the catalog's rules are not
//! contradictory and the validator understands every field kind used.

use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use xaso_services::validation::{age_in_years, validate_form};
use xaso_services::{Catalog, FieldDef, FieldKind, Procedure};

const TODAY: Date = date(2026, 11, 23);

/// A date that satisfies the field's rules.
fn date_for(def: &FieldDef) -> Date {
    let min_age = def.min_age_years.map(i16::try_from);
    let years_back: i16 = match min_age {
        Some(Ok(min)) => min + 5,
        _ if def.not_past => -1,
        _ => 1,
    };
    let mut d = date(TODAY.year() - years_back, 3, 15);
    if let Some(max) = def.max_age_years {
        while i64::from(age_in_years(d, TODAY)) > i64::from(max) {
            d = date(d.year() + 1, 3, 15);
        }
    }
    d
}

fn id_number_for(birth: Date, female: bool) -> String {
    let century = (birth.year() / 100 - 19) * 2 + i16::from(female);
    format!("001{century}{:02}012345", birth.year() % 100)
}

fn sample(procedure: &Procedure) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for def in &procedure.fields {
        let v = match def.kind {
            FieldKind::Text => {
                let mut s = "Nguyễn Thị Hồng Nhung".to_owned();
                let max = def.max_len.unwrap_or(200) as usize;
                s = s.chars().take(max).collect();
                while s.chars().count() < def.min_len.unwrap_or(0) as usize {
                    s.push('a');
                }
                s
            }
            FieldKind::Address => "Số 12, thôn Đông, xã Yên Thường, thành phố Hà Nội".into(),
            FieldKind::Phone => "0912345678".into(),
            FieldKind::Email => "nhung@example.vn".into(),
            FieldKind::Number => def
                .min
                .unwrap_or(0)
                .max(1)
                .min(def.max.unwrap_or(i64::MAX))
                .to_string(),
            FieldKind::Choice => def.choices[0].value.clone(),
            FieldKind::Sex => "female".into(),
            FieldKind::Boolean => "true".into(),
            FieldKind::Date => date_for(def).to_string(),
            FieldKind::IdNumber => continue, // filled below, consistent with birth date and sex
        };
        values.insert(def.id.clone(), v);
    }
    for def in procedure
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::IdNumber)
    {
        let prefix = def.id.strip_suffix("id_number").unwrap_or("");
        let birth = values
            .get(&format!("{prefix}date_of_birth"))
            .and_then(|d| d.parse::<Date>().ok())
            .unwrap_or(date(1990, 5, 1));
        let female = values
            .get(&format!("{prefix}sex"))
            .is_none_or(|s| s == "female");
        values.insert(def.id.clone(), id_number_for(birth, female));
    }
    values
}

#[test]
fn every_form_accepts_a_complete_realistic_example() {
    let catalog = Catalog::bundled().unwrap();
    for procedure in catalog.procedures() {
        let values = sample(procedure);
        let errors = validate_form(procedure, &values, TODAY);
        assert!(
            errors.is_empty(),
            "{}: {errors:?} for {values:?}",
            procedure.code
        );
    }
}

#[test]
fn every_form_names_each_missing_required_field() {
    let catalog = Catalog::bundled().unwrap();
    for procedure in catalog.procedures() {
        let errors = validate_form(procedure, &BTreeMap::new(), TODAY);
        let required: Vec<&str> = procedure
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.id.as_str())
            .collect();
        assert!(
            !required.is_empty(),
            "{} has no required field",
            procedure.code
        );
        let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, required, "{}", procedure.code);
        assert!(errors.iter().all(|e| e.key == "field.required"));
    }
}
