//! The QR code printed on the card: `ID|old ID|name|DOB ddmmyyyy|sex|address|issue date
//! ddmmyyyy`. Decoding it from a camera frame or image (rqrr) gives the ID number and date
//! of birth; the expiry date, which BAC also needs, follows from the date of birth and the
//! issue date (cards expire on the 25th, 40th and 60th birthday; a card issued within two
//! years before one of these stays valid until the next), so the resident never types the
//! MRZ. [`QrData::key_candidates`] lists the possible keys, most likely first.

use crate::bac::MrzKey;
use crate::lds::{iso_date, normalize_sex};
use serde::Serialize;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrError {
    #[error("no QR code found in the image")]
    NotFound,
    #[error("the QR code could not be read: {0}")]
    Decode(String),
    #[error("this QR code is not from a chip ID card")]
    NotAnIdCard,
    #[error("cannot read the image: {0}")]
    Image(String),
}

/// Data from the card's QR code. Zeroised on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Zeroize, ZeroizeOnDrop)]
pub struct QrData {
    pub id_number: String,
    pub old_id_number: Option<String>,
    pub full_name: String,
    /// ISO date.
    pub date_of_birth: String,
    /// `male` / `female`.
    pub sex: String,
    pub address: String,
    /// ISO date.
    pub issue_date: String,
}

impl std::fmt::Debug for QrData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QrData(..)")
    }
}

fn ddmmyyyy(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() != 8 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let iso = iso_date(s);
    let (m, d): (u32, u32) = (iso[5..7].parse().ok()?, iso[8..10].parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(iso)
}

impl QrData {
    pub fn parse(text: &str) -> Result<QrData, QrError> {
        let f: Vec<&str> = text.trim().split('|').collect();
        if f.len() < 7 {
            return Err(QrError::NotAnIdCard);
        }
        let id = f[0].trim();
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(QrError::NotAnIdCard);
        }
        let old = f[1].trim();
        Ok(QrData {
            id_number: id.to_owned(),
            old_id_number: (!old.is_empty()).then(|| old.to_owned()),
            full_name: f[2].trim().to_owned(),
            date_of_birth: ddmmyyyy(f[3]).ok_or(QrError::NotAnIdCard)?,
            sex: normalize_sex(f[4]),
            address: f[5].trim().to_owned(),
            issue_date: ddmmyyyy(f[6]).ok_or(QrError::NotAnIdCard)?,
        })
    }

    /// Possible expiry dates (ISO), most likely first. Empty if the card never expires
    /// (issued from age 58).
    pub fn expiry_candidates(&self) -> Vec<String> {
        let year = |s: &str| s.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or(0);
        let (by, rest) = (
            year(&self.date_of_birth),
            self.date_of_birth.get(4..).unwrap_or("").to_owned(),
        );
        let birthday = |age: i32| format!("{:04}{rest}", by + age);
        let mut out: Vec<String> = Vec::new();
        let mut later: Vec<String> = Vec::new();
        for age in [25, 40, 60] {
            let exp = birthday(age);
            if exp <= self.issue_date {
                continue;
            }
            let two_years_before = birthday(age - 2);
            if out.is_empty() && self.issue_date < two_years_before {
                out.push(exp);
            } else {
                later.push(exp);
            }
        }
        out.extend(later);
        out
    }

    /// BAC keys to try, most likely first.
    pub fn key_candidates(&self) -> Vec<MrzKey> {
        self.expiry_candidates()
            .iter()
            .filter_map(|e| MrzKey::from_id_number(&self.id_number, &self.date_of_birth, e).ok())
            .collect()
    }
}

/// Find and decode the first QR code in a greyscale image.
pub fn decode_luma(width: usize, height: usize, pixels: &[u8]) -> Result<String, QrError> {
    if pixels.len() < width * height {
        return Err(QrError::Image("image buffer too small".into()));
    }
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = img.detect_grids();
    let mut last = QrError::NotFound;
    for g in grids {
        match g.decode() {
            Ok((_, content)) => return Ok(content),
            Err(e) => last = QrError::Decode(e.to_string()),
        }
    }
    Err(last)
}

/// Decode the card's QR code from an image file (PNG or JPEG).
pub fn decode_image_file(path: &std::path::Path) -> Result<QrData, QrError> {
    let img = image::ImageReader::open(path)
        .map_err(|e| QrError::Image(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| QrError::Image(e.to_string()))?
        .decode()
        .map_err(|e| QrError::Image(e.to_string()))?
        .to_luma8();
    let (w, h) = img.dimensions();
    let text = decode_luma(w as usize, h as usize, img.as_raw())?;
    QrData::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softcard::Identity;

    #[test]
    fn expiry_rules() {
        let q = |dob: &str, issue: &str| {
            QrData::parse(&format!(
                "001082012345||Trần Văn Hùng|{dob}|Nam|Hà Nội|{issue}"
            ))
            .unwrap()
            .expiry_candidates()
        };
        assert_eq!(q("03111982", "20082021")[0], "2042-11-03");
        // Issued within two years before the 40th birthday: valid until 60.
        assert_eq!(
            q("03111982", "20082021"),
            vec!["2042-11-03".to_string(), "2022-11-03".to_string()]
        );
        assert_eq!(
            q("03111990", "20082021"),
            vec!["2030-11-03".to_string(), "2050-11-03".to_string()]
        );
        assert_eq!(q("03111990", "20082029")[0], "2050-11-03");
        assert!(q("03111950", "20082021").is_empty());
    }

    #[test]
    fn builtin_identities_keys_from_qr() {
        for (name, id) in Identity::builtin().unwrap() {
            let q = QrData::parse(&id.qr_text()).unwrap();
            assert_eq!(q.key_candidates()[0], id.mrz_key().unwrap(), "{name}");
        }
    }
}
