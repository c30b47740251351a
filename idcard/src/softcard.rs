//! The software card: an eMRTD application with BAC, secure messaging, EF.COM, EF.SOD,
//! DG1, DG2, DG13 (and DG14 / EF.CardAccess when the identity advertises PACE), built from a
//! synthetic identity and signed by the test document signer.
//!
//! [`SoftCard::process`] is a pure APDU → response state machine; [`crate::vpcd`] connects
//! it to pcscd through vsmartcard-vpcd. Access control is enforced like on a real card:
//! data groups answer 6982 before BAC, a wrong MRZ key gives 6300, a bad secure messaging
//! checksum 6988 and ends the session.

use crate::apdu::{Command, Response, sw};
use crate::bac::{self, BacKeys, MrzKey};
use crate::lds::{self, EfCom, Mrz, PersonalData, fid};
use crate::pace::{self, PaceCard};
use crate::sm::SecureMessaging;
use crate::testpki::TestPki;
use include_dir::{Dir, include_dir};
use rand::RngCore;
use serde::Deserialize;
use std::collections::BTreeMap;
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// The eMRTD application identifier.
pub const EMRTD_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// ATR of the software card (T=1, historical bytes "XASO-EMRTD").
pub const ATR: [u8; 15] = [
    0x3B, 0x8A, 0x80, 0x01, 0x58, 0x41, 0x53, 0x4F, 0x2D, 0x45, 0x4D, 0x52, 0x54, 0x44, 0x69,
];

static IDENTITIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/identities");

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("cannot read identity file {0}: {1}")]
    Io(String, String),
    #[error("identity file is not valid: {0}")]
    Toml(String),
    #[error("identity is not valid: {0}")]
    Invalid(String),
    #[error("no synthetic identity named {0}")]
    Unknown(String),
    #[error(transparent)]
    Pki(#[from] crate::testpki::PkiError),
}

/// Province codes (3 digits) of the 63 provinces used in 12-digit personal ID numbers.
pub const PROVINCE_CODES: [(&str, &str); 63] = [
    ("001", "Hà Nội"),
    ("002", "Hà Giang"),
    ("004", "Cao Bằng"),
    ("006", "Bắc Kạn"),
    ("008", "Tuyên Quang"),
    ("010", "Lào Cai"),
    ("011", "Điện Biên"),
    ("012", "Lai Châu"),
    ("014", "Sơn La"),
    ("015", "Yên Bái"),
    ("017", "Hòa Bình"),
    ("019", "Thái Nguyên"),
    ("020", "Lạng Sơn"),
    ("022", "Quảng Ninh"),
    ("024", "Bắc Giang"),
    ("025", "Phú Thọ"),
    ("026", "Vĩnh Phúc"),
    ("027", "Bắc Ninh"),
    ("030", "Hải Dương"),
    ("031", "Hải Phòng"),
    ("033", "Hưng Yên"),
    ("034", "Thái Bình"),
    ("035", "Hà Nam"),
    ("036", "Nam Định"),
    ("037", "Ninh Bình"),
    ("038", "Thanh Hóa"),
    ("040", "Nghệ An"),
    ("042", "Hà Tĩnh"),
    ("044", "Quảng Bình"),
    ("045", "Quảng Trị"),
    ("046", "Thừa Thiên Huế"),
    ("048", "Đà Nẵng"),
    ("049", "Quảng Nam"),
    ("051", "Quảng Ngãi"),
    ("052", "Bình Định"),
    ("054", "Phú Yên"),
    ("056", "Khánh Hòa"),
    ("058", "Ninh Thuận"),
    ("060", "Bình Thuận"),
    ("062", "Kon Tum"),
    ("064", "Gia Lai"),
    ("066", "Đắk Lắk"),
    ("067", "Đắk Nông"),
    ("068", "Lâm Đồng"),
    ("070", "Bình Phước"),
    ("072", "Tây Ninh"),
    ("074", "Bình Dương"),
    ("075", "Đồng Nai"),
    ("077", "Bà Rịa - Vũng Tàu"),
    ("079", "TP Hồ Chí Minh"),
    ("080", "Long An"),
    ("082", "Tiền Giang"),
    ("083", "Bến Tre"),
    ("084", "Trà Vinh"),
    ("086", "Vĩnh Long"),
    ("087", "Đồng Tháp"),
    ("089", "An Giang"),
    ("091", "Kiên Giang"),
    ("092", "Cần Thơ"),
    ("093", "Hậu Giang"),
    ("094", "Sóc Trăng"),
    ("095", "Bạc Liêu"),
    ("096", "Cà Mau"),
];

/// A synthetic identity (idcard/identities/*.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub id_number: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub nationality: String,
    pub ethnicity: String,
    pub religion: String,
    pub place_of_origin: String,
    pub place_of_residence: String,
    pub identifying_marks: String,
    pub issue_date: String,
    pub expiry_date: String,
    pub father_name: String,
    pub mother_name: String,
    #[serde(default)]
    pub spouse_name: Option<String>,
    #[serde(default)]
    pub old_id_number: Option<String>,
    /// 15 or 16: where DG13 puts the old ID number.
    #[serde(default = "default_layout")]
    pub dg13_old_id_index: u32,
    /// Advertise PACE in EF.CardAccess and DG14.
    #[serde(default)]
    pub pace: bool,
}

fn default_layout() -> u32 {
    15
}

fn yymmdd(iso: &str) -> String {
    iso.get(2..).unwrap_or("").replace('-', "")
}

/// Vietnamese text without diacritics, upper case (for the MRZ).
pub fn ascii_fold(s: &str) -> String {
    s.replace(['đ', 'Đ'], "D")
        .nfd()
        .filter(|c| c.is_ascii())
        .collect::<String>()
        .to_ascii_uppercase()
}

impl Identity {
    pub fn from_toml(s: &str) -> Result<Identity, IdentityError> {
        let id: Identity = toml::from_str(s).map_err(|e| IdentityError::Toml(e.to_string()))?;
        id.validate()?;
        Ok(id)
    }

    pub fn load(path: &std::path::Path) -> Result<Identity, IdentityError> {
        let s = std::fs::read_to_string(path)
            .map_err(|e| IdentityError::Io(path.display().to_string(), e.to_string()))?;
        Identity::from_toml(&s)
    }

    /// The synthetic identities shipped with the crate, by file stem.
    pub fn builtin() -> Result<Vec<(String, Identity)>, IdentityError> {
        let mut out = Vec::new();
        for f in IDENTITIES.files() {
            let name = f
                .path()
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let text = f
                .contents_utf8()
                .ok_or_else(|| IdentityError::Toml(name.clone()))?;
            out.push((name, Identity::from_toml(text)?));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    pub fn builtin_named(name: &str) -> Result<Identity, IdentityError> {
        Identity::builtin()?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i)
            .ok_or_else(|| IdentityError::Unknown(name.to_owned()))
    }

    /// Check the ID number's structure against the date of birth and sex.
    pub fn validate(&self) -> Result<(), IdentityError> {
        let bad = |m: &str| Err(IdentityError::Invalid(m.to_owned()));
        let id = &self.id_number;
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            return bad("ID number must have 12 digits");
        }
        if !PROVINCE_CODES.iter().any(|(c, _)| *c == &id[..3]) {
            return bad("unknown province code");
        }
        let year: u32 = self
            .date_of_birth
            .get(..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(0);
        let female = match self.sex.as_str() {
            "male" => 0,
            "female" => 1,
            _ => return bad("sex must be male or female"),
        };
        let century = match year {
            1900..=1999 => 0,
            2000..=2099 => 2,
            _ => return bad("year of birth"),
        };
        if id.as_bytes()[3] != b'0' + century + female {
            return bad("century/sex digit does not match date of birth and sex");
        }
        if id[4..6] != self.date_of_birth[2..4] {
            return bad("year digits do not match date of birth");
        }
        for d in [&self.date_of_birth, &self.issue_date, &self.expiry_date] {
            if d.len() != 10 || MrzKey::new("X", d, d).is_err() {
                return bad("dates must be YYYY-MM-DD");
            }
        }
        if ![15, 16].contains(&self.dg13_old_id_index) {
            return bad("dg13_old_id_index must be 15 or 16");
        }
        Ok(())
    }

    pub fn mrz_key(&self) -> Result<MrzKey, crate::error::CardError> {
        MrzKey::from_id_number(&self.id_number, &self.date_of_birth, &self.expiry_date)
    }

    pub fn mrz(&self) -> String {
        let sex = if self.sex == "female" { 'F' } else { 'M' };
        Mrz::build_td1(
            &self.id_number,
            &yymmdd(&self.date_of_birth),
            sex,
            &yymmdd(&self.expiry_date),
            &ascii_fold(&self.full_name),
        )
    }

    pub fn personal_data(&self) -> PersonalData {
        PersonalData {
            id_number: Some(self.id_number.clone()),
            full_name: Some(self.full_name.clone()),
            date_of_birth: Some(self.date_of_birth.clone()),
            sex: Some(self.sex.clone()),
            nationality: Some(self.nationality.clone()),
            ethnicity: Some(self.ethnicity.clone()),
            religion: Some(self.religion.clone()),
            place_of_origin: Some(self.place_of_origin.clone()),
            place_of_residence: Some(self.place_of_residence.clone()),
            identifying_marks: Some(self.identifying_marks.clone()),
            issue_date: Some(self.issue_date.clone()),
            expiry_date: Some(self.expiry_date.clone()),
            father_name: Some(self.father_name.clone()),
            mother_name: Some(self.mother_name.clone()),
            spouse_name: self.spouse_name.clone(),
            old_id_number: self.old_id_number.clone(),
        }
    }

    /// The text of the QR code printed on the card.
    pub fn qr_text(&self) -> String {
        let dmy = |iso: &str| format!("{}{}{}", &iso[8..10], &iso[5..7], &iso[0..4]);
        let sex = if self.sex == "female" { "Nữ" } else { "Nam" };
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id_number,
            self.old_id_number.clone().unwrap_or_default(),
            self.full_name,
            dmy(&self.date_of_birth),
            sex,
            self.place_of_residence,
            dmy(&self.issue_date)
        )
    }

    /// A synthetic portrait (JPEG, 240×320), deterministic per identity.
    pub fn face_jpeg(&self) -> Result<Vec<u8>, IdentityError> {
        use image::{ImageBuffer, Rgb};
        let seed = self
            .id_number
            .bytes()
            .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
        let (w, h) = (240u32, 320u32);
        let mut state = seed;
        let img = ImageBuffer::from_fn(w, h, |x, y| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let noise = ((state >> 16) % 24) as i32 - 12;
            let (fx, fy) = (x as f32 - 120.0, y as f32 - 150.0);
            let face = (fx / 70.0).powi(2) + (fy / 95.0).powi(2) <= 1.0;
            let hair = (fx / 80.0).powi(2) + ((fy + 40.0) / 95.0).powi(2) <= 1.0 && y < 120;
            let eye = ((fx.abs() - 28.0).powi(2) + (fy + 15.0).powi(2)) < 60.0;
            let shoulders = y > 250 && fx.abs() < 110.0 + (y as f32 - 250.0);
            let base: [i32; 3] = if eye {
                [30, 25, 20]
            } else if hair {
                [25, 20, 18]
            } else if face {
                [224, 180, 150]
            } else if shoulders {
                [40, 60, 120]
            } else {
                [235, 238, 242]
            };
            let c = |v: i32| (v + noise).clamp(0, 255) as u8;
            Rgb([c(base[0]), c(base[1]), c(base[2])])
        });
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
        enc.encode_image(&img)
            .map_err(|e| IdentityError::Invalid(e.to_string()))?;
        Ok(out)
    }
}

/// The files of a software card, with their access key.
#[derive(Clone)]
pub struct CardFiles {
    files: BTreeMap<u16, Vec<u8>>,
    key: BacKeys,
    pace_password: Vec<u8>,
    pub pace: bool,
}

/// PACEInfo for id-PACE-ECDH-GM-AES-CBC-CMAC-128 (0.4.0.127.0.7.2.2.4.2.2), version 2, P-256.
fn pace_info() -> Vec<u8> {
    let oid = crate::tlv::encode(
        0x06,
        &[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02],
    );
    let mut v = oid;
    v.extend(crate::tlv::encode(0x02, &[2]));
    v.extend(crate::tlv::encode(0x02, &[12]));
    crate::tlv::encode(0x31, &crate::tlv::encode(0x30, &v))
}

impl CardFiles {
    pub fn build(identity: &Identity, pki: &TestPki) -> Result<CardFiles, IdentityError> {
        let key = identity
            .mrz_key()
            .map_err(|e| IdentityError::Invalid(e.to_string()))?;
        let mut dgs: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        dgs.insert(1, Mrz::build_dg1(&identity.mrz()));
        dgs.insert(2, lds::build_dg2(&identity.face_jpeg()?, 240, 320));
        dgs.insert(
            13,
            identity
                .personal_data()
                .build_dg13(identity.dg13_old_id_index),
        );
        let mut files = BTreeMap::new();
        if identity.pace {
            let info = pace_info();
            dgs.insert(14, crate::tlv::encode(0x6E, &info));
            files.insert(fid::CARD_ACCESS, info);
        }
        // DG15: an active authentication public key, as on issued cards (the software card
        // does not implement the INTERNAL AUTHENTICATE that would use it).
        dgs.insert(
            15,
            crate::tlv::encode(0x6F, &pki.aa_public_key_der(&identity.id_number)?),
        );
        let sod = pki.sign_sod(&dgs)?;
        files.insert(
            fid::COM,
            EfCom::build(&dgs.keys().copied().collect::<Vec<_>>()),
        );
        files.insert(fid::SOD, sod);
        for (n, b) in dgs {
            files.insert(fid::dg(n), b);
        }
        Ok(CardFiles {
            files,
            key: key.bac_keys(),
            pace_password: key.pace_password(),
            pace: identity.pace,
        })
    }

    pub fn file(&self, fid: u16) -> Option<&[u8]> {
        self.files.get(&fid).map(Vec::as_slice)
    }

    /// Change one byte near the end of data group `n` (after EF.SOD was signed), to test
    /// that passive authentication notices.
    pub fn tamper(&mut self, n: u8) -> bool {
        match self.files.get_mut(&fid::dg(n)) {
            Some(f) if !f.is_empty() => {
                let i = f.len() - 2;
                f[i] ^= 0x01;
                true
            }
            _ => false,
        }
    }

    /// Replace data group `n` (EF.SOD is not updated: re-sign with [`TestPki::sign_sod`]
    /// over [`CardFiles::data_groups`] and [`CardFiles::replace_sod`]).
    pub fn set_data_group(&mut self, n: u8, bytes: Vec<u8>) {
        self.files.insert(fid::dg(n), bytes);
    }

    /// Replace EF.SOD (e.g. one signed by another PKI).
    pub fn replace_sod(&mut self, sod: Vec<u8>) {
        self.files.insert(fid::SOD, sod);
    }

    /// Data groups as stored, for re-signing.
    pub fn data_groups(&self) -> BTreeMap<u8, Vec<u8>> {
        self.files
            .iter()
            .filter(|(f, _)| **f > 0x0100 && **f <= 0x0110)
            .map(|(f, b)| ((*f - 0x0100) as u8, b.clone()))
            .collect()
    }
}

/// The largest plaintext the software card returns per READ BINARY (its I/O buffer).
pub const DEFAULT_MAX_READ: usize = 0xFF00;

/// Card state machine.
pub struct SoftCard {
    files: CardFiles,
    app_selected: bool,
    current: Option<u16>,
    challenge: Option<[u8; 8]>,
    sm: Option<SecureMessaging>,
    pace: Option<PaceCard>,
    pending_sm: Option<SecureMessaging>,
    /// Largest data per READ BINARY.
    pub max_read: usize,
    /// Accept extended-length APDUs.
    pub extended_length: bool,
    /// Commands processed since power-on.
    pub apdus: usize,
    /// Behave like a T=0 card: answer at most this many data bytes and announce the rest
    /// with 61xx, to be fetched with GET RESPONSE.
    pub t0_chunk: Option<usize>,
    pending_out: Vec<u8>,
}

fn resp(sw: u16) -> Response {
    Response { data: vec![], sw }
}

fn sfi_file(sfi: u8) -> Option<u16> {
    match sfi {
        0x1C => Some(fid::CARD_ACCESS),
        0x1D => Some(fid::SOD),
        0x1E => Some(fid::COM),
        1..=16 => Some(fid::dg(sfi)),
        _ => None,
    }
}

impl SoftCard {
    pub fn new(files: CardFiles) -> SoftCard {
        SoftCard {
            files,
            app_selected: false,
            current: None,
            challenge: None,
            sm: None,
            pace: None,
            pending_sm: None,
            max_read: DEFAULT_MAX_READ,
            extended_length: true,
            apdus: 0,
            t0_chunk: None,
            pending_out: Vec::new(),
        }
    }

    pub fn files(&self) -> &CardFiles {
        &self.files
    }

    pub fn atr(&self) -> &'static [u8] {
        &ATR
    }

    /// Power cycle / reset: forget selection and session.
    pub fn reset(&mut self) {
        self.app_selected = false;
        self.current = None;
        self.challenge = None;
        self.sm = None;
        self.pace = None;
        self.pending_sm = None;
        self.apdus = 0;
    }

    /// Process one command APDU and return the response APDU.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        if let Some(n) = self.t0_chunk {
            if let [_, 0xC0, 0, 0, ..] = apdu {
                return self.next_chunk(n);
            }
            self.pending_out.clear();
            let mut out = self.process_apdu(apdu);
            if out.len() > n + 2 {
                self.pending_out = out.split_off(n);
                return self.with_61(out);
            }
            return out;
        }
        self.process_apdu(apdu)
    }

    fn with_61(&self, mut out: Vec<u8>) -> Vec<u8> {
        let left = self.pending_out.len() - 2;
        out.extend_from_slice(&[0x61, if left >= 256 { 0 } else { left as u8 }]);
        out
    }

    fn next_chunk(&mut self, n: usize) -> Vec<u8> {
        if self.pending_out.is_empty() {
            return Response::status(sw::CONDITIONS_NOT_SATISFIED);
        }
        if self.pending_out.len() > n + 2 {
            let rest = self.pending_out.split_off(n);
            let out = std::mem::replace(&mut self.pending_out, rest);
            self.with_61(out)
        } else {
            std::mem::take(&mut self.pending_out)
        }
    }

    fn process_apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.apdus += 1;
        let cmd = match Command::parse(apdu) {
            Ok(c) => c,
            Err(_) => return Response::status(sw::WRONG_LENGTH),
        };
        if cmd.is_extended() && !self.extended_length {
            return Response::status(sw::WRONG_LENGTH);
        }
        if cmd.cla & 0x0C == 0x0C {
            let Some(sm) = self.sm.as_mut() else {
                return Response::status(sw::SM_OBJECTS_MISSING);
            };
            let inner = match sm.unwrap_command(&cmd) {
                Ok(c) => c,
                Err(_) => {
                    self.sm = None;
                    return Response::status(sw::SM_OBJECTS_INCORRECT);
                }
            };
            let r = self.handle(&inner);
            match self.sm.as_mut() {
                Some(sm) => sm.wrap_response(&r).to_bytes(),
                None => r.to_bytes(),
            }
        } else {
            if cmd.cla & 0xE0 != 0 {
                return Response::status(sw::CLA_NOT_SUPPORTED);
            }
            // A plain command ends secure messaging, as on real cards.
            self.sm = None;
            let r = self.handle(&cmd).to_bytes();
            if let Some(sm) = self.pending_sm.take() {
                self.sm = Some(sm); // PACE: secure messaging starts after the last answer
            }
            r
        }
    }

    fn handle(&mut self, cmd: &Command) -> Response {
        match cmd.ins {
            0xA4 => self.select(cmd),
            0xB0 => self.read_binary(cmd),
            0xB1 => self.read_binary_odd(cmd),
            0x84 => self.get_challenge(cmd),
            0x82 => self.external_authenticate(cmd),
            0x22 if self.files.pace && cmd.p1 == 0xC1 && cmd.p2 == 0xA4 => self.mse_set_at(cmd),
            0x86 if self.files.pace => self.general_authenticate(cmd),
            _ => resp(sw::INS_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, cmd: &Command) -> Response {
        match cmd.p1 {
            0x04 => {
                if cmd.data == EMRTD_AID {
                    self.app_selected = true;
                    self.current = None;
                    resp(sw::OK)
                } else {
                    resp(sw::FILE_NOT_FOUND)
                }
            }
            0x00 if cmd.data == [0x3F, 0x00] => {
                self.app_selected = false;
                self.current = None;
                self.sm = None;
                resp(sw::OK)
            }
            0x00 | 0x02 => {
                let [a, b] = cmd.data.as_slice() else {
                    return resp(sw::WRONG_LENGTH);
                };
                let f = u16::from_be_bytes([*a, *b]);
                let visible = if f == fid::CARD_ACCESS {
                    !self.app_selected
                } else {
                    self.app_selected
                };
                if visible && self.files.file(f).is_some() {
                    self.current = Some(f);
                    resp(sw::OK)
                } else {
                    resp(sw::FILE_NOT_FOUND)
                }
            }
            _ => resp(sw::WRONG_P1P2),
        }
    }

    fn read_binary(&mut self, cmd: &Command) -> Response {
        let (file, offset) = if cmd.p1 & 0x80 != 0 {
            match sfi_file(cmd.p1 & 0x1F) {
                Some(f) if self.files.file(f).is_some() => {
                    self.current = Some(f);
                    (f, usize::from(cmd.p2))
                }
                _ => return resp(sw::FILE_NOT_FOUND),
            }
        } else {
            match self.current {
                Some(f) => (f, usize::from(cmd.p1 & 0x7F) << 8 | usize::from(cmd.p2)),
                None => return resp(sw::CONDITIONS_NOT_SATISFIED),
            }
        };
        let data = match self.readable(file, offset) {
            Ok(data) => data,
            Err(refused) => return refused,
        };
        let le = cmd.le.unwrap_or(256).min(self.max_read);
        let end = (offset + le).min(data.len());
        let sw = if end - offset < cmd.le.unwrap_or(256) {
            sw::END_OF_FILE
        } else {
            sw::OK
        };
        Response {
            data: data[offset..end].to_vec(),
            sw,
        }
    }

    /// The bytes of `file` for a READ BINARY at `offset`, or the answer refusing it: only
    /// EF.CardAccess may be read before access control, and the offset must lie in the file.
    fn readable(&self, file: u16, offset: usize) -> Result<&[u8], Response> {
        if file != fid::CARD_ACCESS && self.sm.is_none() {
            return Err(resp(sw::SECURITY_NOT_SATISFIED));
        }
        let data = self
            .files
            .file(file)
            .ok_or_else(|| resp(sw::FILE_NOT_FOUND))?;
        if offset > data.len() {
            return Err(resp(sw::OFFSET_OUTSIDE));
        }
        Ok(data)
    }

    /// READ BINARY with odd INS: offset in DO54 (for offsets beyond 32 767), data in DO53.
    fn read_binary_odd(&mut self, cmd: &Command) -> Response {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return resp(sw::WRONG_P1P2);
        }
        let offset = match crate::tlv::expect(&cmd.data, 0x54) {
            Ok((o, _)) if !o.is_empty() && o.len() <= 3 => {
                o.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b))
            }
            _ => return resp(sw::WRONG_DATA),
        };
        let Some(file) = self.current else {
            return resp(sw::CONDITIONS_NOT_SATISFIED);
        };
        let data = match self.readable(file, offset) {
            Ok(data) => data,
            Err(refused) => return refused,
        };
        let want = cmd.le.unwrap_or(256).min(self.max_read).saturating_sub(5);
        let end = (offset + want).min(data.len());
        let sw = if end - offset < want {
            sw::END_OF_FILE
        } else {
            sw::OK
        };
        Response {
            data: crate::tlv::encode(0x53, &data[offset..end]),
            sw,
        }
    }

    fn get_challenge(&mut self, cmd: &Command) -> Response {
        if cmd.le != Some(8) {
            return resp(sw::WRONG_LENGTH);
        }
        let mut c = [0u8; 8];
        rand::rng().fill_bytes(&mut c);
        self.challenge = Some(c);
        Response {
            data: c.to_vec(),
            sw: sw::OK,
        }
    }

    fn mse_set_at(&mut self, cmd: &Command) -> Response {
        let ok = crate::tlv::find(&cmd.data, 0x80).ok().flatten()
            == Some(&pace::ECDH_GM_AES_128[..])
            && crate::tlv::find(&cmd.data, 0x83).ok().flatten() == Some(&[0x01][..])
            && crate::tlv::find(&cmd.data, 0x84).ok().flatten()
                == Some(&[pace::PARAM_P256 as u8][..]);
        if !ok {
            self.pace = None;
            return resp(sw::WRONG_DATA);
        }
        self.sm = None;
        self.pace = Some(PaceCard::new(&self.files.pace_password));
        resp(sw::OK)
    }

    fn general_authenticate(&mut self, cmd: &Command) -> Response {
        let Some(p) = self.pace.as_mut() else {
            return resp(sw::CONDITIONS_NOT_SATISFIED);
        };
        let mut rnd = [0u8; 32];
        rand::rng().fill_bytes(&mut rnd);
        match p.step(&cmd.data, &rnd) {
            Ok(pace::CardStep::Continue(data)) => Response { data, sw: sw::OK },
            Ok(pace::CardStep::Done(data, sm)) => {
                self.pace = None;
                self.pending_sm = Some(sm);
                Response { data, sw: sw::OK }
            }
            Err(_) => {
                self.pace = None;
                resp(sw::AUTH_FAILED)
            }
        }
    }

    fn external_authenticate(&mut self, cmd: &Command) -> Response {
        let Some(challenge) = self.challenge.take() else {
            return resp(sw::CONDITIONS_NOT_SATISFIED);
        };
        if !self.app_selected {
            return resp(sw::CONDITIONS_NOT_SATISFIED);
        }
        let mut k_icc = [0u8; 16];
        rand::rng().fill_bytes(&mut k_icc);
        match bac::card_authenticate(&self.files.key, &challenge, &cmd.data, k_icc) {
            Ok((data, sm)) => {
                self.sm = Some(sm);
                Response { data, sw: sw::OK }
            }
            Err(_) => resp(sw::AUTH_FAILED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_identities_are_valid() {
        let ids = Identity::builtin().unwrap();
        assert!(ids.len() >= 5);
        for (name, id) in ids {
            let m = Mrz::parse(&id.mrz()).unwrap();
            assert!(m.check_digits_ok, "{name}");
            assert_eq!(m.key().unwrap(), id.mrz_key().unwrap());
        }
    }

    #[test]
    fn data_groups_need_bac() {
        let id = Identity::builtin_named("tran-van-hung").unwrap();
        let mut card =
            SoftCard::new(CardFiles::build(&id, &TestPki::default_test().unwrap()).unwrap());
        assert_eq!(
            card.process(&[0, 0xA4, 4, 0x0C, 7, 0xA0, 0, 0, 2, 0x47, 0x10, 1]),
            vec![0x90, 0]
        );
        assert_eq!(card.process(&[0, 0xA4, 2, 0x0C, 2, 1, 1]), vec![0x90, 0]);
        assert_eq!(card.process(&[0, 0xB0, 0, 0, 4]), vec![0x69, 0x82]);
        let bad = Identity {
            id_number: "001082012346".into(),
            ..id
        };
        assert!(bad.validate().is_ok());
    }

    #[test]
    fn invalid_ids_are_rejected() {
        let id = Identity::builtin_named("tran-van-hung").unwrap();
        for bad in [
            "003082012345",
            "001182012345",
            "001083012345",
            "00108201234",
        ] {
            let x = Identity {
                id_number: bad.into(),
                ..id.clone()
            };
            assert!(x.validate().is_err(), "{bad}");
        }
    }
}
