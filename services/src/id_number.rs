//! Vietnamese 12-digit personal ID numbers (số định danh cá nhân).
//!
//! Layout: `PPP C YY NNNNNN` — the province code where the birth was registered, one digit
//! for century and sex, the last two digits of the year of birth, and six random digits.
//! Century and sex digit: 0/1 = male/female born 1900–1999, 2/3 = 2000–2099, 4/5 = 2100–2199,
//! 6/7 = 2200–2299, 8/9 = 2300–2399. There is no check digit, so a typo can only be caught
//! by the province code and by comparing with the date of birth and sex when they are known.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Sex as printed on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn parse(s: &str) -> Option<Sex> {
        match s {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// What is wrong with an ID number. [`IdNumberError::key`] is the translation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("the ID number is empty")]
    Empty,
    #[error("an ID number has only digits")]
    NotDigits,
    #[error("this is an old 9-digit ID card number; the 12-digit personal ID number is needed")]
    OldNineDigit,
    #[error("an ID number has 12 digits, this has {0}")]
    WrongLength(usize),
    #[error("`{0}` is not a province code")]
    UnknownProvince(String),
    #[error("the century digit does not match the year of birth")]
    CenturyMismatch,
    #[error("the sex digit does not match the sex")]
    SexMismatch,
    #[error("the year digits do not match the year of birth")]
    BirthYearMismatch,
}

impl IdNumberError {
    pub fn key(&self) -> &'static str {
        match self {
            IdNumberError::Empty => "field.required",
            IdNumberError::NotDigits => "field.id_number.digits",
            IdNumberError::OldNineDigit => "field.id_number.old_format",
            IdNumberError::WrongLength(_) => "field.id_number.length",
            IdNumberError::UnknownProvince(_) => "field.id_number.province",
            IdNumberError::CenturyMismatch => "field.id_number.century",
            IdNumberError::SexMismatch => "field.id_number.sex",
            IdNumberError::BirthYearMismatch => "field.id_number.birth_year",
        }
    }
}

/// What a well-formed ID number says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumberFacts {
    /// The 12 digits, without spaces.
    pub digits: String,
    pub province_code: String,
    pub province_name: &'static str,
    pub sex: Sex,
    /// The full year of birth.
    pub birth_year: i16,
}

#[derive(Deserialize)]
struct ProvinceFile {
    codes: Vec<ProvinceEntry>,
}

#[derive(Deserialize)]
struct ProvinceEntry {
    code: String,
    name: String,
}

fn provinces() -> &'static BTreeMap<String, String> {
    static PROVINCES: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    PROVINCES.get_or_init(|| {
        // The file is part of the crate; a broken file fails the crate's own tests, and at
        // run time simply yields an empty table (every number then reads as unknown province).
        toml::from_str::<ProvinceFile>(include_str!("../data/provinces.toml"))
            .map(|f| f.codes.into_iter().map(|e| (e.code, e.name)).collect())
            .unwrap_or_default()
    })
}

/// The name of a birth-registration province code, e.g. `"001"` → `"Hà Nội"`.
pub fn province_name(code: &str) -> Option<&'static str> {
    provinces().get(code).map(String::as_str)
}

/// Checks the form of an ID number. Spaces (as people group digits when reading aloud)
/// are ignored; anything else that is not an ASCII digit is an error.
pub fn parse_id_number(input: &str) -> Result<IdNumberFacts, IdNumberError> {
    let compact: String = input.chars().filter(|c| *c != ' ').collect();
    if compact.is_empty() {
        return Err(IdNumberError::Empty);
    }
    if !compact.chars().all(|c| c.is_ascii_digit()) {
        return Err(IdNumberError::NotDigits);
    }
    match compact.len() {
        12 => {}
        9 => return Err(IdNumberError::OldNineDigit),
        n => return Err(IdNumberError::WrongLength(n)),
    }
    let province_code = &compact[0..3];
    let province_name = province_name(province_code)
        .ok_or_else(|| IdNumberError::UnknownProvince(province_code.to_owned()))?;
    let digit = |i: usize| i16::from(compact.as_bytes()[i] - b'0');
    let century_sex = digit(3);
    let sex = if century_sex % 2 == 0 {
        Sex::Male
    } else {
        Sex::Female
    };
    let birth_year = 1900 + (century_sex / 2) * 100 + digit(4) * 10 + digit(5);
    Ok(IdNumberFacts {
        digits: compact.clone(),
        province_code: province_code.to_owned(),
        province_name,
        sex,
        birth_year,
    })
}

/// Checks an ID number and, when known, that it agrees with the holder's date of birth and sex.
pub fn check_id_number(
    input: &str,
    date_of_birth: Option<Date>,
    sex: Option<Sex>,
) -> Result<IdNumberFacts, IdNumberError> {
    let facts = parse_id_number(input)?;
    if let Some(dob) = date_of_birth {
        let year = dob.year();
        if year.div_euclid(100) != facts.birth_year.div_euclid(100) {
            return Err(IdNumberError::CenturyMismatch);
        }
        if year != facts.birth_year {
            return Err(IdNumberError::BirthYearMismatch);
        }
    }
    if let Some(sex) = sex
        && sex != facts.sex
    {
        return Err(IdNumberError::SexMismatch);
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn province_table_is_complete() {
        assert_eq!(provinces().len(), 63);
        assert_eq!(province_name("001"), Some("Hà Nội"));
        assert_eq!(province_name("079"), Some("Hồ Chí Minh"));
        assert_eq!(province_name("096"), Some("Cà Mau"));
        assert_eq!(province_name("003"), None);
    }

    #[test]
    fn good_numbers() {
        let f = check_id_number("001085012345", Some(date(1985, 3, 2)), Some(Sex::Male)).unwrap();
        assert_eq!(f.province_name, "Hà Nội");
        assert_eq!((f.sex, f.birth_year), (Sex::Male, 1985));

        let f =
            check_id_number("079301004567", Some(date(2001, 12, 31)), Some(Sex::Female)).unwrap();
        assert_eq!((f.sex, f.birth_year), (Sex::Female, 2001));

        let f = check_id_number("038199000001", None, None).unwrap();
        assert_eq!((f.sex, f.birth_year), (Sex::Female, 1999));

        // grouped as read aloud
        let f = parse_id_number(" 001 085 012 345 ").unwrap();
        assert_eq!(f.digits, "001085012345");

        // born 2000 exactly, male; born 1900, female
        assert_eq!(parse_id_number("027200000000").unwrap().birth_year, 2000);
        assert_eq!(parse_id_number("027100123456").unwrap().birth_year, 1900);
    }

    #[test]
    fn bad_inputs_each_give_a_typed_error() {
        use IdNumberError::*;
        let cases: Vec<(&str, Option<Date>, Option<Sex>, IdNumberError)> = vec![
            ("", None, None, Empty),
            ("   ", None, None, Empty),
            ("00108501234", None, None, WrongLength(11)),
            ("0010850123456", None, None, WrongLength(13)),
            ("1", None, None, WrongLength(1)),
            ("123456789", None, None, OldNineDigit),
            ("00108501234a", None, None, NotDigits),
            ("001-085-012345", None, None, NotDigits),
            ("001.085.012.345", None, None, NotDigits),
            ("-01085012345", None, None, NotDigits),
            ("１２３４５６７８９０１２", None, None, NotDigits), // full-width digits
            ("٠٠١٠٨٥٠١٢٣٤٥", None, None, NotDigits),             // Arabic-Indic digits
            ("001085012345\n", None, None, NotDigits),
            ("0010850\t12345", None, None, NotDigits),
            ("1e11", None, None, NotDigits),
            ("003085012345", None, None, UnknownProvince("003".into())),
            ("000085012345", None, None, UnknownProvince("000".into())),
            ("097085012345", None, None, UnknownProvince("097".into())),
            ("999085012345", None, None, UnknownProvince("999".into())),
            (
                "001085012345",
                Some(date(2085, 1, 1)),
                None,
                CenturyMismatch,
            ),
            (
                "001285012345",
                Some(date(1985, 1, 1)),
                None,
                CenturyMismatch,
            ),
            (
                "001085012345",
                Some(date(1986, 1, 1)),
                None,
                BirthYearMismatch,
            ),
            ("001085012345", None, Some(Sex::Female), SexMismatch),
            ("001185012345", None, Some(Sex::Male), SexMismatch),
        ];
        assert!(cases.len() >= 15);
        for (input, dob, sex, expected) in cases {
            let got = check_id_number(input, dob, sex);
            assert_eq!(got, Err(expected.clone()), "input {input:?}");
            assert!(expected.key().starts_with("field."));
        }
    }
}
