//! Tracking codes a device can mint offline without ever colliding with another device.
//!
//! A code is `CCCCC-YYMMDD-DDSSS-KK`:
//!
//! * `CCCCC` — the five-digit code of the commune (administrative unit code);
//! * `YYMMDD` — the day it was minted;
//! * `DD` — the device number within the commune, two Crockford base-32 characters
//!   (0–1023), given to the device once at enrolment by the commune hub;
//! * `SSS` — the device's sequence for that day, three base-32 characters (0–32767);
//! * `KK` — two check digits, ISO 7064 MOD 97-10 (as in IBAN) over the rest, with every
//!   base-32 character counted as two digits (`00`–`31`) so that every single-character
//!   substitution and every swap of two neighbouring digits is caught.
//!
//! Commune, device and day-sequence together are unique, so two devices never mint the same
//! code, with no network needed. The code is read over the phone in its four groups.
//! Input is forgiving: case, spaces and hyphens are ignored, and the Crockford look-alikes
//! `O`→`0`, `I`/`L`→`1` are accepted.
//!
//! [`TrackingMinter`] is plain data: the caller stores it durably (with the dossier that
//! receives the code) before the code is shown to anybody, so a power cut never hands the
//! same code out twice.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const MAX_DEVICES: u16 = 1024;
pub const MAX_PER_DAY: u16 = 32768;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingError {
    #[error("a tracking code has 18 letters and digits, this has {0}")]
    Length(usize),
    #[error("character {position} (`{found}`) cannot stand there")]
    Character { position: usize, found: char },
    #[error("the date in the code is not a real date")]
    Date,
    #[error("the check digits do not match: a character was mistyped")]
    Check,
    #[error("commune code must be 5 digits")]
    Commune,
    #[error("device number must be below {MAX_DEVICES}")]
    Device,
    #[error("this device has used all {MAX_PER_DAY} codes for the day")]
    Exhausted,
}

impl TrackingError {
    /// Translation key for a person typing a code.
    pub fn key(&self) -> &'static str {
        match self {
            TrackingError::Length(_) => "tracking.length",
            TrackingError::Character { .. } => "tracking.character",
            TrackingError::Date => "tracking.date",
            TrackingError::Check => "tracking.check",
            TrackingError::Commune | TrackingError::Device => "tracking.config",
            TrackingError::Exhausted => "tracking.exhausted",
        }
    }
}

/// A five-digit commune code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommuneCode(String);

impl CommuneCode {
    pub fn new(code: &str) -> Result<CommuneCode, TrackingError> {
        if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
            Ok(CommuneCode(code.to_owned()))
        } else {
            Err(TrackingError::Commune)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommuneCode {
    type Error = TrackingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CommuneCode::new(&s)
    }
}

impl From<CommuneCode> for String {
    fn from(c: CommuneCode) -> String {
        c.0
    }
}

impl fmt::Display for CommuneCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A parsed, checked tracking code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingCode {
    commune: CommuneCode,
    day: Date,
    device: u16,
    sequence: u16,
}

fn push_base32(out: &mut String, value: u16, width: u32) {
    for i in (0..width).rev() {
        let digit = (value >> (5 * i)) & 31;
        out.push(char::from(BASE32[usize::from(digit)]));
    }
}

fn base32_value(c: char) -> Option<u16> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    BASE32
        .iter()
        .position(|b| char::from(*b) == c)
        .and_then(|p| u16::try_from(p).ok())
}

/// ISO 7064 MOD 97-10 check digits over digits (0–9) and base-32 values (as two digits).
fn check_digits(payload: &[u16], widths: &[u8]) -> u32 {
    let mut rem: u32 = 0;
    for (&v, &w) in payload.iter().zip(widths) {
        let scale = if w == 1 { 10 } else { 100 };
        rem = (rem * scale + u32::from(v)) % 97;
    }
    // append "00" and choose the check so that the whole number is 1 mod 97
    rem = (rem * 100) % 97;
    (98 - rem) % 97
}

impl TrackingCode {
    pub fn new(
        commune: CommuneCode,
        day: Date,
        device: u16,
        sequence: u16,
    ) -> Result<TrackingCode, TrackingError> {
        if device >= MAX_DEVICES {
            return Err(TrackingError::Device);
        }
        if sequence >= MAX_PER_DAY {
            return Err(TrackingError::Exhausted);
        }
        if !(2000..2100).contains(&day.year()) {
            return Err(TrackingError::Date);
        }
        Ok(TrackingCode {
            commune,
            day,
            device,
            sequence,
        })
    }

    pub fn commune(&self) -> &CommuneCode {
        &self.commune
    }
    pub fn day(&self) -> Date {
        self.day
    }
    pub fn device(&self) -> u16 {
        self.device
    }
    pub fn sequence(&self) -> u16 {
        self.sequence
    }

    /// The 16 payload characters without check digits, e.g. `27280261123A70K3`.
    fn payload(&self) -> String {
        let mut s = String::with_capacity(18);
        s.push_str(self.commune.as_str());
        s.push_str(&format!(
            "{:02}{:02}{:02}",
            self.day.year() % 100,
            self.day.month(),
            self.day.day()
        ));
        push_base32(&mut s, self.device, 2);
        push_base32(&mut s, self.sequence, 3);
        s
    }

    fn payload_values(payload: &str) -> Option<(Vec<u16>, Vec<u8>)> {
        let mut values = Vec::with_capacity(16);
        let mut widths = Vec::with_capacity(16);
        for (i, c) in payload.chars().enumerate() {
            if i < 11 {
                values.push(u16::try_from(c.to_digit(10)?).ok()?);
                widths.push(1);
            } else {
                values.push(base32_value(c)?);
                widths.push(2);
            }
        }
        Some((values, widths))
    }

    /// The compact form, 18 characters, as stored and encoded in QR codes.
    pub fn compact(&self) -> String {
        let payload = self.payload();
        let check = Self::payload_values(&payload)
            .map(|(v, w)| check_digits(&v, &w))
            .unwrap_or(0);
        format!("{payload}{check:02}")
    }

    /// Parses what a person typed or a scanner read.
    pub fn parse(input: &str) -> Result<TrackingCode, TrackingError> {
        let chars: Vec<char> = input
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{2010}'..='\u{2015}'))
            .collect();
        if chars.len() != 18 {
            return Err(TrackingError::Length(chars.len()));
        }
        for (i, c) in chars.iter().enumerate() {
            let ok = match i {
                0..11 | 16..18 => c.is_ascii_digit(),
                _ => base32_value(*c).is_some(),
            };
            if !ok {
                return Err(TrackingError::Character {
                    position: i + 1,
                    found: *c,
                });
            }
        }
        let payload: String = chars[..16].iter().collect();
        let (values, widths) = Self::payload_values(&payload).ok_or(TrackingError::Check)?;
        let given: u32 = chars[16..]
            .iter()
            .filter_map(|c| c.to_digit(10))
            .fold(0, |acc, d| acc * 10 + d);
        if check_digits(&values, &widths) != given {
            return Err(TrackingError::Check);
        }
        let num = |range: std::ops::Range<usize>| -> i16 {
            values[range]
                .iter()
                .fold(0i16, |acc, d| acc * 10 + *d as i16)
        };
        let day = Date::new(2000 + num(5..7), num(7..9) as i8, num(9..11) as i8)
            .map_err(|_| TrackingError::Date)?;
        let device = values[11] * 32 + values[12];
        let sequence = values[13] * 1024 + values[14] * 32 + values[15];
        let commune: String = chars[..5].iter().collect();
        TrackingCode::new(CommuneCode::new(&commune)?, day, device, sequence)
    }
}

impl fmt::Display for TrackingCode {
    /// The form shown and read aloud: `27280-261123-A70K3-42`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.compact();
        write!(
            f,
            "{}-{}-{}-{}",
            &c[0..5],
            &c[5..11],
            &c[11..16],
            &c[16..18]
        )
    }
}

impl FromStr for TrackingCode {
    type Err = TrackingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrackingCode::parse(s)
    }
}

impl TryFrom<String> for TrackingCode {
    type Error = TrackingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TrackingCode::parse(&s)
    }
}

impl From<TrackingCode> for String {
    fn from(c: TrackingCode) -> String {
        c.compact()
    }
}

/// A device's tracking-code counter. Keep it with the device's durable state and save it in
/// the same transaction as the dossier that receives the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingMinter {
    pub commune: CommuneCode,
    pub device: u16,
    /// The latest day a code was minted on.
    pub day: Option<Date>,
    /// The next sequence number on `day`.
    pub next: u16,
}

impl TrackingMinter {
    pub fn new(commune: CommuneCode, device: u16) -> Result<TrackingMinter, TrackingError> {
        if device >= MAX_DEVICES {
            return Err(TrackingError::Device);
        }
        Ok(TrackingMinter {
            commune,
            device,
            day: None,
            next: 0,
        })
    }

    /// Mints the next code for `today`. If the device clock went back (a reset after a power
    /// cut), the latest day seen is kept, so codes stay unique.
    pub fn mint(&mut self, today: Date) -> Result<TrackingCode, TrackingError> {
        let day = match self.day {
            Some(last) if last >= today => last,
            _ => {
                self.next = 0;
                today
            }
        };
        let code = TrackingCode::new(self.commune.clone(), day, self.device, self.next)?;
        self.day = Some(day);
        self.next = self.next.saturating_add(1);
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use std::collections::HashSet;

    fn commune() -> CommuneCode {
        CommuneCode::new("27280").unwrap()
    }

    #[test]
    fn round_trip_and_display() {
        let code = TrackingCode::new(commune(), date(2026, 11, 23), 327, 1234).unwrap();
        let shown = code.to_string();
        assert_eq!(shown.len(), 21);
        assert!(shown.starts_with("27280-261123-"), "{shown}");
        assert_eq!(TrackingCode::parse(&shown).unwrap(), code);
        assert_eq!(TrackingCode::parse(&code.compact()).unwrap(), code);
        assert_eq!(
            TrackingCode::parse(&shown.to_lowercase().replace('-', " ")).unwrap(),
            code
        );
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(serde_json::from_str::<TrackingCode>(&json).unwrap(), code);
    }

    #[test]
    fn crockford_lookalikes_are_accepted() {
        // device 0 / sequence 1 give zeros and ones in the base-32 part
        let code = TrackingCode::new(commune(), date(2026, 1, 2), 0, 1).unwrap();
        let compact = code.compact();
        assert_eq!(&compact[11..16], "00001");
        let typed = format!("{}OoOoL{}", &compact[..11], &compact[16..]);
        assert_eq!(TrackingCode::parse(&typed).unwrap(), code);
    }

    #[test]
    fn hundred_devices_times_ten_thousand_never_collide() {
        let mut seen = HashSet::with_capacity(1_000_000);
        let day = date(2026, 11, 23);
        for device in 0..100u16 {
            // half the devices in another commune, to cover both parts of the key
            let c = if device % 2 == 0 {
                commune()
            } else {
                CommuneCode::new("00004").unwrap()
            };
            let mut minter = TrackingMinter::new(c, device).unwrap();
            for _ in 0..10_000 {
                let code = minter.mint(day).unwrap().compact();
                assert!(seen.insert(code), "collision");
            }
        }
        assert_eq!(seen.len(), 1_000_000);
    }

    #[test]
    fn every_single_character_typo_is_detected() {
        let alphabet_digits: Vec<char> = ('0'..='9').collect();
        let alphabet_b32: Vec<char> = BASE32.iter().map(|b| char::from(*b)).collect();
        let mut minter = TrackingMinter::new(commune(), 977).unwrap();
        let mut checked = 0u32;
        for n in 0..300 {
            let day = date(2026, 1, 1)
                .checked_add(jiff::Span::new().days(n % 365))
                .unwrap();
            let code = minter.mint(day).unwrap();
            let compact: Vec<char> = code.compact().chars().collect();
            for pos in 0..18 {
                let alphabet = if (11..16).contains(&pos) {
                    &alphabet_b32
                } else {
                    &alphabet_digits
                };
                for &c in alphabet {
                    if c == compact[pos] {
                        continue;
                    }
                    let mut typo = compact.clone();
                    typo[pos] = c;
                    let typed: String = typo.iter().collect();
                    assert!(TrackingCode::parse(&typed).is_err(), "{typed} accepted");
                    checked += 1;
                }
                // and a letter where only digits may stand
                if !(11..16).contains(&pos) {
                    let mut typo = compact.clone();
                    typo[pos] = 'X';
                    let typed: String = typo.iter().collect();
                    assert!(matches!(
                        TrackingCode::parse(&typed),
                        Err(TrackingError::Character { .. })
                    ));
                }
            }
            // neighbouring swaps of different characters
            for pos in 0..17 {
                if compact[pos] == compact[pos + 1] {
                    continue;
                }
                let mut swapped = compact.clone();
                swapped.swap(pos, pos + 1);
                let typed: String = swapped.iter().collect();
                assert!(
                    TrackingCode::parse(&typed).is_err(),
                    "swap {typed} accepted"
                );
            }
            // a dropped or doubled character changes the length
            let dropped: String = compact[1..].iter().collect();
            assert_eq!(
                TrackingCode::parse(&dropped),
                Err(TrackingError::Length(17))
            );
        }
        assert_eq!(checked, 300 * (13 * 9 + 5 * 31));
    }

    #[test]
    fn clock_going_back_keeps_codes_unique() {
        let mut minter = TrackingMinter::new(commune(), 5).unwrap();
        let a = minter.mint(date(2026, 11, 23)).unwrap();
        let b = minter.mint(date(2026, 1, 1)).unwrap();
        assert_ne!(a, b);
        assert_eq!(b.day(), date(2026, 11, 23));
        let c = minter.mint(date(2026, 11, 24)).unwrap();
        assert_eq!((c.day(), c.sequence()), (date(2026, 11, 24), 0));
    }

    #[test]
    fn exhaustion_and_bad_configuration_are_errors() {
        let mut minter = TrackingMinter::new(commune(), 1).unwrap();
        minter.day = Some(date(2026, 11, 23));
        minter.next = MAX_PER_DAY;
        assert_eq!(
            minter.mint(date(2026, 11, 23)),
            Err(TrackingError::Exhausted)
        );
        assert_eq!(
            TrackingMinter::new(commune(), MAX_DEVICES).unwrap_err(),
            TrackingError::Device
        );
        assert_eq!(
            CommuneCode::new("2728").unwrap_err(),
            TrackingError::Commune
        );
        assert_eq!(
            CommuneCode::new("2728a").unwrap_err(),
            TrackingError::Commune
        );
    }

    #[test]
    fn impossible_date_is_rejected() {
        // build a code for 2026-02-28, then edit the day digits to 30 and fix the check
        let code = TrackingCode::new(commune(), date(2026, 2, 28), 1, 1).unwrap();
        let mut payload = code.compact()[..16].to_string();
        payload.replace_range(9..11, "30");
        let (v, w) = TrackingCode::payload_values(&payload).unwrap();
        let forged = format!("{payload}{:02}", check_digits(&v, &w));
        assert_eq!(TrackingCode::parse(&forged), Err(TrackingError::Date));
    }
}
