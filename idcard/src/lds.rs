//! Logical data structure: EF.COM, DG1 (MRZ), DG2 (face), DG13 (Vietnamese personal data),
//! DG14, DG15 and EF.CardAccess. Parsers reject malformed input with [`ParseError`]; the
//! builders are used by the software card.

use crate::error::ParseError;
use crate::tlv::{self, Tlv};
use serde::Serialize;
use xaso_services::CardField;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// File identifiers and short file identifiers of the eMRTD application.
pub mod fid {
    pub const CARD_ACCESS: u16 = 0x011C;
    pub const COM: u16 = 0x011E;
    pub const SOD: u16 = 0x011D;
    /// Data group `n` has file id 0x0100 + n.
    pub const fn dg(n: u8) -> u16 {
        0x0100 + n as u16
    }
}

/// LDS tag of data group `n` (EF.COM tag list uses these).
pub const fn dg_tag(n: u8) -> u8 {
    match n {
        1 => 0x61,
        2 => 0x75,
        3 => 0x63,
        4 => 0x76,
        5 => 0x65,
        6 => 0x66,
        7 => 0x67,
        8 => 0x68,
        9 => 0x69,
        10 => 0x6A,
        11 => 0x6B,
        12 => 0x6C,
        13 => 0x6D,
        14 => 0x6E,
        15 => 0x6F,
        16 => 0x70,
        _ => 0,
    }
}

pub fn dg_from_tag(tag: u8) -> Option<u8> {
    (1..=16).find(|n| dg_tag(*n) == tag)
}

/// EF.COM: LDS version and the list of data groups present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EfCom {
    pub lds_version: String,
    pub unicode_version: String,
    pub data_groups: Vec<u8>,
}

fn text(b: &[u8], what: &'static str) -> Result<String, ParseError> {
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| ParseError::BadText(what))
}

impl EfCom {
    pub fn parse(b: &[u8]) -> Result<EfCom, ParseError> {
        let (v, _) = tlv::expect(b, 0x60)?;
        let mut com = EfCom {
            lds_version: String::new(),
            unicode_version: String::new(),
            data_groups: vec![],
        };
        for t in tlv::parse_all(v)? {
            match t.tag {
                0x5F01 => com.lds_version = text(t.value, "LDS version")?,
                0x5F36 => com.unicode_version = text(t.value, "Unicode version")?,
                0x5C => {
                    com.data_groups = t.value.iter().filter_map(|x| dg_from_tag(*x)).collect();
                }
                _ => {}
            }
        }
        Ok(com)
    }

    pub fn build(data_groups: &[u8]) -> Vec<u8> {
        let mut v = tlv::encode(0x5F01, b"0107");
        v.extend(tlv::encode(0x5F36, b"040000"));
        let tags: Vec<u8> = data_groups.iter().map(|n| dg_tag(*n)).collect();
        v.extend(tlv::encode(0x5C, &tags));
        tlv::encode(0x60, &v)
    }
}

/// A TD1 (ID card) machine readable zone, from DG1.
#[derive(Clone, PartialEq, Eq, Serialize, Zeroize, ZeroizeOnDrop)]
pub struct Mrz {
    pub lines: Vec<String>,
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub optional_data: String,
    pub date_of_birth: String,
    pub sex: String,
    pub date_of_expiry: String,
    pub nationality: String,
    pub name: String,
    /// All check digits verified.
    pub check_digits_ok: bool,
}

impl std::fmt::Debug for Mrz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mrz(..)")
    }
}

impl Mrz {
    /// Parse a TD1 MRZ (90 characters) or a TD3 MRZ (88 characters).
    pub fn parse(s: &str) -> Result<Mrz, ParseError> {
        if !s.is_ascii() {
            return Err(ParseError::BadText("MRZ"));
        }
        let get = |a: usize, b: usize| {
            s.get(a..b)
                .map(str::to_owned)
                .ok_or(ParseError::Truncated("MRZ"))
        };
        let cd = |field: &str, digit: &str| {
            crate::bac::check_digit(field).map(String::from) == Some(digit.to_owned())
        };
        match s.len() {
            90 => {
                let doc = get(5, 14)?;
                let dob = get(30, 36)?;
                let doe = get(38, 44)?;
                let composite = format!(
                    "{}{}{}{}",
                    get(5, 30)?,
                    get(30, 37)?,
                    get(38, 45)?,
                    get(48, 59)?
                );
                let ok = cd(&doc, &get(14, 15)?)
                    && cd(&dob, &get(36, 37)?)
                    && cd(&doe, &get(44, 45)?)
                    && cd(&composite, &get(59, 60)?);
                Ok(Mrz {
                    lines: vec![get(0, 30)?, get(30, 60)?, get(60, 90)?],
                    document_code: get(0, 2)?.trim_end_matches('<').to_owned(),
                    issuing_state: get(2, 5)?,
                    document_number: doc.trim_end_matches('<').to_owned(),
                    optional_data: get(15, 30)?.trim_end_matches('<').to_owned(),
                    date_of_birth: dob,
                    sex: get(37, 38)?,
                    date_of_expiry: doe,
                    nationality: get(45, 48)?,
                    name: get(60, 90)?
                        .trim_end_matches('<')
                        .replace("<<", ", ")
                        .replace('<', " "),
                    check_digits_ok: ok,
                })
            }
            88 => {
                let doc = get(44, 53)?;
                let dob = get(57, 63)?;
                let doe = get(65, 71)?;
                let ok =
                    cd(&doc, &get(53, 54)?) && cd(&dob, &get(63, 64)?) && cd(&doe, &get(71, 72)?);
                Ok(Mrz {
                    lines: vec![get(0, 44)?, get(44, 88)?],
                    document_code: get(0, 2)?.trim_end_matches('<').to_owned(),
                    issuing_state: get(2, 5)?,
                    document_number: doc.trim_end_matches('<').to_owned(),
                    optional_data: get(72, 86)?.trim_end_matches('<').to_owned(),
                    date_of_birth: dob,
                    sex: get(64, 65)?,
                    date_of_expiry: doe,
                    nationality: get(54, 57)?,
                    name: get(5, 44)?
                        .trim_end_matches('<')
                        .replace("<<", ", ")
                        .replace('<', " "),
                    check_digits_ok: ok,
                })
            }
            _ => Err(ParseError::Invalid("MRZ length")),
        }
    }

    /// Parse DG1 (`61 { 5F1F mrz }`).
    pub fn parse_dg1(b: &[u8]) -> Result<Mrz, ParseError> {
        let (v, _) = tlv::expect(b, 0x61)?;
        let (m, _) = tlv::expect(v, 0x5F1F)?;
        Mrz::parse(&text(m, "MRZ")?)
    }

    /// The access key for this card.
    pub fn key(&self) -> Result<crate::bac::MrzKey, crate::error::CardError> {
        crate::bac::MrzKey::new(
            &self.document_number,
            &self.date_of_birth,
            &self.date_of_expiry,
        )
    }

    /// Build a TD1 MRZ for a Vietnamese ID card.
    pub fn build_td1(id_number: &str, dob: &str, sex: char, doe: &str, name_ascii: &str) -> String {
        let doc = id_number.get(3..).unwrap_or("");
        let cd = |s: &str| crate::bac::check_digit(s).unwrap_or('0');
        let mut opt = id_number.to_string();
        while opt.len() < 15 {
            opt.push('<');
        }
        let l1_tail = format!("{doc}{}{opt}", cd(doc));
        let mut l1 = format!("IDVNM{l1_tail}");
        l1.truncate(30);
        let opt2 = "<<<<<<<<<<<";
        let composite = format!("{}{dob}{}{doe}{}{opt2}", &l1[5..30], cd(dob), cd(doe));
        let l2 = format!(
            "{dob}{}{sex}{doe}{}VNM{opt2}{}",
            cd(dob),
            cd(doe),
            cd(&composite)
        );
        let mut l3: String = name_ascii
            .to_ascii_uppercase()
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    format!("{w}<")
                } else {
                    w.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("<");
        l3.truncate(30);
        while l3.len() < 30 {
            l3.push('<');
        }
        format!("{l1}{l2}{l3}")
    }

    pub fn build_dg1(mrz: &str) -> Vec<u8> {
        tlv::encode(0x61, &tlv::encode(0x5F1F, mrz.as_bytes()))
    }
}

/// Image encoding of a face image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    Jpeg,
    Jpeg2000,
}

/// A face image from DG2. The bytes are zeroised on drop and never written anywhere by
/// this crate.
#[derive(Clone, Serialize)]
pub struct FaceImage {
    pub kind: ImageKind,
    pub width: u16,
    pub height: u16,
    #[serde(skip)]
    pub data: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FaceImage({:?}, {}x{}, {} bytes)",
            self.kind,
            self.width,
            self.height,
            self.data.len()
        )
    }
}

fn be(b: &[u8], at: usize, n: usize) -> Result<usize, ParseError> {
    let s = b
        .get(at..at + n)
        .ok_or(ParseError::Truncated("ISO 19794-5 record"))?;
    Ok(s.iter().fold(0usize, |a, x| (a << 8) | usize::from(*x)))
}

/// Parse an ISO/IEC 19794-5 facial record and return its first image.
pub fn parse_19794_5(b: &[u8]) -> Result<FaceImage, ParseError> {
    if b.get(..4) != Some(b"FAC\0") {
        return Err(ParseError::Invalid("ISO 19794-5 format identifier"));
    }
    let faces = be(b, 12, 2)?;
    if faces == 0 {
        return Err(ParseError::Invalid("no face in ISO 19794-5 record"));
    }
    let rec = 14;
    let block_len = be(b, rec, 4)?;
    let points = be(b, rec + 4, 2)?;
    let info = rec + 20 + 8 * points;
    let data_type = be(b, info + 1, 1)?;
    let width = be(b, info + 2, 2)? as u16;
    let height = be(b, info + 4, 2)? as u16;
    let start = info + 12;
    let end = rec
        .checked_add(block_len)
        .ok_or(ParseError::Invalid("ISO 19794-5 length"))?;
    if end < start {
        return Err(ParseError::Invalid("ISO 19794-5 length"));
    }
    let data = b
        .get(start..end)
        .ok_or(ParseError::Truncated("face image"))?;
    let kind = match data_type {
        0 => ImageKind::Jpeg,
        1 => ImageKind::Jpeg2000,
        _ => {
            if data.starts_with(&[0xFF, 0xD8]) {
                ImageKind::Jpeg
            } else {
                ImageKind::Jpeg2000
            }
        }
    };
    Ok(FaceImage {
        kind,
        width,
        height,
        data: Zeroizing::new(data.to_vec()),
    })
}

/// Parse DG2 and return the face images it holds.
pub fn parse_dg2(b: &[u8]) -> Result<Vec<FaceImage>, ParseError> {
    let (v, _) = tlv::expect(b, 0x75)?;
    let (group, _) = tlv::expect(v, 0x7F61)?;
    let mut out = Vec::new();
    for t in tlv::parse_all(group)? {
        if t.tag != 0x7F60 {
            continue;
        }
        for inner in tlv::parse_all(t.value)? {
            if inner.tag == 0x5F2E || inner.tag == 0x7F2E {
                out.push(parse_19794_5(inner.value)?);
            }
        }
    }
    if out.is_empty() {
        return Err(ParseError::Invalid("DG2 holds no face image"));
    }
    Ok(out)
}

/// Build DG2 with one JPEG face image (used by the software card).
pub fn build_dg2(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut rec = Vec::new();
    let block_len = 20 + 12 + jpeg.len();
    rec.extend_from_slice(b"FAC\x00010\x00");
    rec.extend_from_slice(&((14 + block_len) as u32).to_be_bytes());
    rec.extend_from_slice(&1u16.to_be_bytes());
    rec.extend_from_slice(&(block_len as u32).to_be_bytes());
    rec.extend_from_slice(&0u16.to_be_bytes()); // feature points
    rec.extend_from_slice(&[0; 14]); // gender .. pose uncertainty
    rec.extend_from_slice(&[1, 0]); // full frontal, JPEG
    rec.extend_from_slice(&width.to_be_bytes());
    rec.extend_from_slice(&height.to_be_bytes());
    rec.extend_from_slice(&[1, 2, 0, 0, 0, 0]); // colour space, source, device, quality
    rec.extend_from_slice(jpeg);
    let mut bht = tlv::encode(0x80, &[1, 1]);
    bht.extend(tlv::encode(0x87, &[0x01, 0x01]));
    bht.extend(tlv::encode(0x88, &[0x00, 0x08]));
    let mut inst = tlv::encode(0xA1, &bht);
    inst.extend(tlv::encode(0x5F2E, &rec));
    let mut group = tlv::encode(0x02, &[1]);
    group.extend(tlv::encode(0x7F60, &inst));
    tlv::encode(0x75, &tlv::encode(0x7F61, &group))
}

/// Personal data of a Vietnamese citizen ID card (DG13), with the field names of
/// [`xaso_services::CardField`]. Dates are ISO `YYYY-MM-DD` when the card's text is a date;
/// sex is `male` / `female`. Zeroised on drop; `Debug` prints nothing personal.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Zeroize, ZeroizeOnDrop)]
pub struct PersonalData {
    pub id_number: Option<String>,
    pub full_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<String>,
    pub nationality: Option<String>,
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub place_of_origin: Option<String>,
    pub place_of_residence: Option<String>,
    pub identifying_marks: Option<String>,
    pub issue_date: Option<String>,
    pub expiry_date: Option<String>,
    pub father_name: Option<String>,
    pub mother_name: Option<String>,
    pub spouse_name: Option<String>,
    pub old_id_number: Option<String>,
}

impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalData(..)")
    }
}

/// `dd/mm/yyyy` (or `ddmmyyyy`) to `yyyy-mm-dd`; other text is kept as it is.
pub fn iso_date(s: &str) -> String {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    let sep_ok = s
        .trim()
        .chars()
        .all(|c| c.is_ascii_digit() || c == '/' || c == '-' || c == '.');
    if d.len() == 8 && sep_ok && !s.contains('-') {
        return format!("{}-{}-{}", &d[4..8], &d[2..4], &d[0..2]);
    }
    s.trim().to_owned()
}

/// `Nam` / `Nữ` (or M/F) to `male` / `female`.
pub fn normalize_sex(s: &str) -> String {
    let l = s.trim().to_lowercase();
    match l.as_str() {
        "nam" | "m" | "male" => "male".into(),
        "f" | "female" | "nữ" | "nu" | "nư\u{303}" | "nu\u{31b}\u{303}" => "female".into(),
        _ => s.trim().to_owned(),
    }
}

const MAX_DEPTH: usize = 8;

fn collect_strings(t: &Tlv<'_>, out: &mut Vec<String>, depth: usize) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    match t.tag {
        0x0C | 0x13 | 0x16 | 0x14 | 0x1A | 0x04 => out.push(text(t.value, "DG13 text")?),
        0x30 | 0x31 => {
            for c in tlv::parse_all(t.value)? {
                collect_strings(&c, out, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn collect_items(
    v: &[u8],
    items: &mut Vec<(u32, Vec<String>)>,
    depth: usize,
) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    for t in tlv::parse_all(v)? {
        if t.tag != 0x30 && t.tag != 0x31 {
            continue;
        }
        let children = tlv::parse_all(t.value)?;
        match children.split_first() {
            Some((first, rest))
                if first.tag == 0x02 && !first.value.is_empty() && first.value.len() <= 2 =>
            {
                let idx = first
                    .value
                    .iter()
                    .fold(0u32, |a, b| (a << 8) | u32::from(*b));
                let mut strings = Vec::new();
                for c in rest {
                    collect_strings(c, &mut strings, depth + 1)?;
                }
                items.push((idx, strings));
            }
            _ => collect_items(t.value, items, depth + 1)?,
        }
    }
    Ok(())
}

impl PersonalData {
    /// Parse DG13 of a Vietnamese ID card. Both known layouts (old ID number at index 15 or
    /// 16) are accepted.
    pub fn parse_dg13(b: &[u8]) -> Result<PersonalData, ParseError> {
        let (v, _) = tlv::expect(b, 0x6D)?;
        let mut items = Vec::new();
        collect_items(v, &mut items, 0)?;
        if items.is_empty() {
            return Err(ParseError::Invalid("DG13 holds no personal data"));
        }
        let first = |i: u32| -> Option<String> {
            items
                .iter()
                .find(|(k, _)| *k == i)
                .and_then(|(_, s)| s.first())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let mut p = PersonalData {
            id_number: first(1),
            full_name: first(2),
            date_of_birth: first(3).map(|s| iso_date(&s)),
            sex: first(4).map(|s| normalize_sex(&s)),
            nationality: first(5),
            ethnicity: first(6),
            religion: first(7),
            place_of_origin: first(8),
            place_of_residence: first(9),
            identifying_marks: first(10),
            issue_date: first(11).map(|s| iso_date(&s)),
            expiry_date: first(12).map(|s| iso_date(&s)),
            spouse_name: first(14),
            father_name: None,
            mother_name: None,
            old_id_number: None,
        };
        if let Some((_, parents)) = items.iter().find(|(k, _)| *k == 13) {
            let mut it = parents.iter().map(|s| s.trim()).filter(|s| !s.is_empty());
            p.father_name = it.next().map(str::to_owned);
            p.mother_name = it.next().map(str::to_owned);
        }
        let is_id =
            |s: &String| (s.len() == 9 || s.len() == 12) && s.chars().all(|c| c.is_ascii_digit());
        p.old_id_number = first(15).filter(is_id).or_else(|| first(16).filter(is_id));
        if p.id_number.is_none() && p.full_name.is_none() {
            return Err(ParseError::Invalid("DG13 has neither ID number nor name"));
        }
        Ok(p)
    }

    /// One field, as the catalog's pre-fill mappings name it.
    pub fn get(&self, field: CardField) -> Option<String> {
        match field {
            CardField::IdNumber => self.id_number.clone(),
            CardField::FullName => self.full_name.clone(),
            CardField::DateOfBirth => self.date_of_birth.clone(),
            CardField::Sex => self.sex.clone(),
            CardField::Nationality => self.nationality.clone(),
            CardField::Ethnicity => self.ethnicity.clone(),
            CardField::Religion => self.religion.clone(),
            CardField::PlaceOfOrigin => self.place_of_origin.clone(),
            CardField::PlaceOfResidence => self.place_of_residence.clone(),
            CardField::IdentifyingMarks => self.identifying_marks.clone(),
            CardField::IssueDate => self.issue_date.clone(),
            CardField::ExpiryDate => self.expiry_date.clone(),
            CardField::FatherName => self.father_name.clone(),
            CardField::MotherName => self.mother_name.clone(),
            CardField::SpouseName => self.spouse_name.clone(),
            CardField::OldIdNumber => self.old_id_number.clone(),
        }
    }

    /// Build DG13 as Vietnamese cards do (`layout_old_id_index` is 15 or 16). Dates are
    /// written as `dd/mm/yyyy`, sex as `Nam` / `Nữ`.
    pub fn build_dg13(&self, old_id_index: u32) -> Vec<u8> {
        fn dmy(iso: &Option<String>) -> String {
            match iso.as_deref() {
                Some(s) if s.len() == 10 && s.as_bytes()[4] == b'-' => {
                    format!("{}/{}/{}", &s[8..10], &s[5..7], &s[0..4])
                }
                Some(s) => s.to_owned(),
                None => String::new(),
            }
        }
        let sex = match self.sex.as_deref() {
            Some("male") => "Nam".to_owned(),
            Some("female") => "Nữ".to_owned(),
            Some(s) => s.to_owned(),
            None => String::new(),
        };
        let o = |s: &Option<String>| s.clone().unwrap_or_default();
        let item = |i: u8, values: &[String]| {
            let mut v = tlv::encode(0x02, &[i]);
            for s in values {
                v.extend(tlv::encode(0x0C, s.as_bytes()));
            }
            tlv::encode(0x30, &v)
        };
        let mut body = tlv::encode(0x02, &[1]);
        body.extend(tlv::encode(0x06, &[0x60, 0x84, 0x10, 0x01, 0x87, 0x09])); // opaque header OID
        let fields: Vec<(u8, Vec<String>)> = vec![
            (1, vec![o(&self.id_number)]),
            (2, vec![o(&self.full_name)]),
            (3, vec![dmy(&self.date_of_birth)]),
            (4, vec![sex]),
            (5, vec![o(&self.nationality)]),
            (6, vec![o(&self.ethnicity)]),
            (7, vec![o(&self.religion)]),
            (8, vec![o(&self.place_of_origin)]),
            (9, vec![o(&self.place_of_residence)]),
            (10, vec![o(&self.identifying_marks)]),
            (11, vec![dmy(&self.issue_date)]),
            (12, vec![dmy(&self.expiry_date)]),
            (13, vec![o(&self.father_name), o(&self.mother_name)]),
            (14, vec![o(&self.spouse_name)]),
        ];
        let mut seq = Vec::new();
        for (i, v) in &fields {
            seq.extend(item(*i, v));
        }
        if old_id_index == 16 {
            seq.extend(item(15, &[String::new()]));
        }
        let idx = if old_id_index == 16 { 16 } else { 15 };
        seq.extend(item(idx, &[o(&self.old_id_number)]));
        body.extend(tlv::encode(0x30, &seq));
        tlv::encode(0x6D, &body)
    }
}

/// Security infos from DG14 or EF.CardAccess: the protocol OIDs, dotted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityInfos {
    pub protocols: Vec<String>,
    /// PACEInfo entries: protocol OID and standardized domain parameter id.
    pub pace: Vec<(String, Option<u32>)>,
}

/// id-PACE prefix (BSI TR-03110): 0.4.0.127.0.7.2.2.4
pub const ID_PACE_PREFIX: &str = "0.4.0.127.0.7.2.2.4.";

impl SecurityInfos {
    /// Parse a `SET OF SecurityInfo` (EF.CardAccess), optionally wrapped in tag 6E (DG14).
    pub fn parse(b: &[u8]) -> Result<SecurityInfos, ParseError> {
        let (t, _) = tlv::parse(b)?;
        let set = match t.tag {
            0x6E => tlv::expect(t.value, 0x31)?.0,
            0x31 => t.value,
            found => {
                return Err(ParseError::UnexpectedTag {
                    expected: 0x31,
                    found,
                });
            }
        };
        let mut protocols = Vec::new();
        let mut pace = Vec::new();
        for info in tlv::parse_all(set)? {
            if info.tag != 0x30 {
                return Err(ParseError::UnexpectedTag {
                    expected: 0x30,
                    found: info.tag,
                });
            }
            let (oid, rest) = tlv::expect(info.value, 0x06)?;
            let oid = asn1_rs::Oid::new(oid.into()).to_id_string();
            if oid.starts_with(ID_PACE_PREFIX) && oid.split('.').count() == 11 {
                let ints: Vec<u32> = tlv::parse_all(rest)?
                    .into_iter()
                    .filter(|t| t.tag == 0x02 && !t.value.is_empty() && t.value.len() <= 4)
                    .map(|t| t.value.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)))
                    .collect();
                pace.push((oid.clone(), ints.get(1).copied()));
            }
            protocols.push(oid);
        }
        Ok(SecurityInfos { protocols, pace })
    }

    pub fn supports_pace(&self) -> bool {
        self.protocols.iter().any(|p| p.starts_with(ID_PACE_PREFIX))
    }
}

/// DG15: the active authentication public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dg15 {
    pub algorithm: String,
    #[serde(skip)]
    pub spki: Vec<u8>,
}

impl Dg15 {
    pub fn parse(b: &[u8]) -> Result<Dg15, ParseError> {
        use der::Decode;
        let (v, _) = tlv::expect(b, 0x6F)?;
        let spki = spki::SubjectPublicKeyInfoRef::from_der(v).map_err(|e| ParseError::Der {
            what: "DG15",
            detail: e.to_string(),
        })?;
        Ok(Dg15 {
            algorithm: spki.algorithm.oid.to_string(),
            spki: v.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PersonalData {
        PersonalData {
            id_number: Some("079203001234".into()),
            full_name: Some("Nguyễn Thị Mai Anh".into()),
            date_of_birth: Some("2003-05-17".into()),
            sex: Some("female".into()),
            nationality: Some("Việt Nam".into()),
            ethnicity: Some("Kinh".into()),
            religion: Some("Không".into()),
            place_of_origin: Some("Xã Tân Phú, Tỉnh Đồng Nai".into()),
            place_of_residence: Some("12 Lê Lợi, Phường Bến Nghé, TP Hồ Chí Minh".into()),
            identifying_marks: Some("Nốt ruồi C:2cm trên trước mày phải".into()),
            issue_date: Some("2021-04-10".into()),
            expiry_date: Some("2028-05-17".into()),
            father_name: Some("Nguyễn Văn Bình".into()),
            mother_name: Some("Trần Thị Hoa".into()),
            spouse_name: None,
            old_id_number: Some("025123456".into()),
        }
    }

    #[test]
    fn dg13_both_layouts_roundtrip() {
        for idx in [15, 16] {
            let p = sample();
            let parsed = PersonalData::parse_dg13(&p.build_dg13(idx)).unwrap();
            assert_eq!(parsed, p, "layout {idx}");
            assert_eq!(parsed.get(CardField::Sex).as_deref(), Some("female"));
            assert_eq!(
                parsed.get(CardField::DateOfBirth).as_deref(),
                Some("2003-05-17")
            );
        }
    }

    #[test]
    fn mrz_td1_roundtrip() {
        let s = Mrz::build_td1(
            "079203001234",
            "030517",
            'F',
            "280517",
            "NGUYEN THI MAI ANH",
        );
        assert_eq!(s.len(), 90);
        let m = Mrz::parse_dg1(&Mrz::build_dg1(&s)).unwrap();
        assert!(m.check_digits_ok, "{:?}", m.lines);
        assert_eq!(m.document_number, "203001234");
        assert_eq!(m.optional_data, "079203001234");
        assert_eq!(
            m.key().unwrap(),
            crate::bac::MrzKey::new("203001234", "030517", "280517").unwrap()
        );
    }

    #[test]
    fn dg2_roundtrip() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9];
        let imgs = parse_dg2(&build_dg2(&jpeg, 240, 320)).unwrap();
        assert_eq!(imgs.len(), 1);
        assert_eq!(imgs[0].kind, ImageKind::Jpeg);
        assert_eq!((imgs[0].width, imgs[0].height), (240, 320));
        assert_eq!(imgs[0].data.as_slice(), &jpeg);
    }

    #[test]
    fn com_roundtrip() {
        let c = EfCom::parse(&EfCom::build(&[1, 2, 13, 14])).unwrap();
        assert_eq!(c.data_groups, vec![1, 2, 13, 14]);
    }
}
