//! Reader logic, generic over a [`Transport`]: access control (BAC; PACE is detected in
//! EF.CardAccess but not implemented, so BAC is used), secure messaging, reading the files
//! with the largest response size the card accepts, parsing, passive authentication.

use crate::apdu::{Command, Response, sw};
use crate::bac::{BacReader, MrzKey};
use crate::error::{CardError, ParseError, SmError};
use crate::lds::{self, EfCom, FaceImage, Mrz, PersonalData, SecurityInfos, fid};
use crate::pa::{self, PassiveAuth, TrustStore};
use crate::pace;
use crate::sm::SecureMessaging;
use crate::softcard::EMRTD_AID;
use crate::tlv;
use crate::transport::Transport;
use rand::RngCore;
use serde::Serialize;
use std::collections::BTreeMap;
use zeroize::Zeroize;
use zeroize::Zeroizing;

/// How to open the card.
#[derive(Debug, Clone)]
pub enum AccessKey {
    /// MRZ data (typed, from DG1 of a previous read, or derived from the card's QR code).
    Mrz(MrzKey),
}

impl From<MrzKey> for AccessKey {
    fn from(k: MrzKey) -> Self {
        AccessKey::Mrz(k)
    }
}

/// Options for [`read_card_with`].
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Read DG2 (the face image).
    pub read_face: bool,
    /// Try extended-length READ BINARY first (falls back to short APDUs).
    pub extended_length: bool,
    /// Largest plaintext to ask for per extended READ BINARY.
    pub max_extended_read: usize,
    /// Use PACE when EF.CardAccess offers a supported variant (else BAC).
    pub pace: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            read_face: true,
            extended_length: true,
            max_extended_read: 0xFF00,
            pace: true,
        }
    }
}

/// Largest plaintext per short READ BINARY under secure messaging (fits a 256-byte response
/// with DO87/DO99/DO8E for both 3DES and AES).
pub const SHORT_READ: usize = 0xDF;

/// The access control protocol used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessProtocol {
    Bac,
    Pace,
}

/// Counters of a read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub apdus: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    /// Plaintext bytes per READ BINARY that the card accepted.
    pub read_size: usize,
    pub extended_length: bool,
    /// APDUs spent on selection and access control.
    pub access_apdus: usize,
    /// Size of each file read (file id → bytes).
    pub file_sizes: BTreeMap<u16, usize>,
    /// Whether EF.CardAccess was present (one more APDU to read it).
    pub card_access_present: bool,
    /// The protocol the APDU minimum is counted for.
    pub protocol: Option<AccessProtocol>,
}

impl ReadStats {
    /// The fewest APDUs a read of these files can take with this response size: one
    /// SELECT of EF.CardAccess (and its read if present), then for BAC SELECT application,
    /// GET CHALLENGE, EXTERNAL AUTHENTICATE, for PACE MSE:Set AT, four GENERAL
    /// AUTHENTICATE and SELECT application; then per file one SELECT plus
    /// ceil(size / read_size) reads.
    pub fn min_apdus(&self) -> usize {
        let protocol = match self.protocol {
            Some(AccessProtocol::Pace) => 6,
            _ => 3,
        };
        let access = 1 + usize::from(self.card_access_present) + protocol;
        let rs = self.read_size.max(1);
        access
            + self
                .file_sizes
                .values()
                .map(|s| 1 + s.div_ceil(rs).max(1))
                .sum::<usize>()
    }
}

/// Everything read from a card. Personal data is zeroised on drop.
#[derive(Debug, Clone, Serialize)]
pub struct CardRead {
    pub access: AccessProtocol,
    /// The card advertises PACE in EF.CardAccess (this reader used BAC).
    pub pace_advertised: bool,
    pub com: EfCom,
    pub mrz: Mrz,
    pub personal: Option<PersonalData>,
    pub faces: Vec<FaceImage>,
    pub dg14: Option<SecurityInfos>,
    pub dg15: Option<lds::Dg15>,
    pub passive_auth: PassiveAuth,
    pub stats: ReadStats,
}

impl CardRead {
    /// A field for form pre-filling; DG13 first, then DG1 for what DG1 also holds.
    pub fn get(&self, field: xaso_services::CardField) -> Option<String> {
        self.personal.as_ref().and_then(|p| p.get(field))
    }
}

struct Session<'t, T: Transport> {
    t: &'t mut T,
    sm: Option<SecureMessaging>,
    stats: ReadStats,
}

impl<T: Transport> Session<'_, T> {
    fn send(&mut self, cmd: &Command) -> Result<Response, CardError> {
        let wire = match self.sm.as_mut() {
            Some(sm) => sm.wrap(cmd)?,
            None => cmd.clone(),
        };
        let bytes = wire
            .to_bytes()
            .map_err(|_| CardError::Parse(ParseError::Invalid("command too long")))?;
        self.stats.apdus += 1;
        self.stats.bytes_sent += bytes.len();
        let raw = self.t.transmit(&bytes)?;
        self.stats.bytes_received += raw.len();
        let resp = Response::parse(&raw)
            .map_err(|_| CardError::Parse(ParseError::Truncated("response APDU")))?;
        match self.sm.as_mut() {
            Some(sm) => Ok(sm.unwrap(&resp)?),
            None => Ok(resp),
        }
    }

    fn select_file(&mut self, f: u16) -> Result<bool, CardError> {
        let r = self.send(&Command::new(
            0,
            0xA4,
            0x02,
            0x0C,
            f.to_be_bytes().to_vec(),
            None,
        ))?;
        match r.sw {
            sw::OK => Ok(true),
            sw::FILE_NOT_FOUND => Ok(false),
            sw::SECURITY_NOT_SATISFIED => Err(CardError::AccessDenied),
            sw => Err(CardError::Status {
                sw,
                context: "SELECT FILE",
            }),
        }
    }

    fn read_binary(&mut self, offset: usize, le: usize) -> Result<Response, CardError> {
        if offset > 0x7FFF {
            // Beyond 15-bit offsets: odd INS with the offset in DO54, data in DO53.
            let b = (offset as u32).to_be_bytes();
            let skip = b.iter().take_while(|x| **x == 0).count().min(3);
            let mut r = self.send(&Command::new(
                0,
                0xB1,
                0,
                0,
                tlv::encode(0x54, &b[skip..]),
                Some(le),
            ))?;
            if r.is_ok() && !r.data.is_empty() {
                let inner = tlv::expect(&r.data, 0x53)?.0.to_vec();
                r.data.zeroize();
                r.data = inner;
            }
            return Ok(r);
        }
        self.send(&Command::new(
            0,
            0xB0,
            (offset >> 8) as u8,
            offset as u8,
            vec![],
            Some(le),
        ))
    }

    /// Read the selected file whole: first chunk, length from its TLV header, the rest.
    fn read_selected(&mut self, chunk: usize) -> Result<Zeroizing<Vec<u8>>, CardError> {
        let mut out = Zeroizing::new(Vec::new());
        let mut le = chunk;
        let first = loop {
            let r = self.read_binary(0, le)?;
            match r.sw {
                sw::OK | sw::END_OF_FILE => break r.data,
                s if s & 0xFF00 == 0x6C00 && s & 0xFF != 0 => le = usize::from((s & 0xFF) as u8),
                sw::SECURITY_NOT_SATISFIED => return Err(CardError::AccessDenied),
                sw => {
                    return Err(CardError::Status {
                        sw,
                        context: "READ BINARY",
                    });
                }
            }
        };
        let total = tlv::total_len_from_header(&first)?;
        if total > 0x10_0000 {
            return Err(CardError::Parse(ParseError::Invalid("file length")));
        }
        out.extend_from_slice(&first[..first.len().min(total)]);
        drop(Zeroizing::new(first));
        while out.len() < total {
            // Odd-INS reads wrap the data in DO53: leave room for its header.
            let need = total - out.len() + if out.len() > 0x7FFF { 5 } else { 0 };
            let r = self.read_binary(out.len(), chunk.min(need))?;
            if !r.is_ok() {
                return Err(CardError::Status {
                    sw: r.sw,
                    context: "READ BINARY",
                });
            }
            if r.data.is_empty() {
                return Err(CardError::Parse(ParseError::Truncated("file")));
            }
            let take = r.data.len().min(total - out.len());
            out.extend_from_slice(&r.data[..take]);
            drop(Zeroizing::new(r.data));
        }
        Ok(out)
    }

    fn select_application(&mut self) -> Result<(), CardError> {
        let r = self.send(&Command::new(0, 0xA4, 0x04, 0x0C, EMRTD_AID.to_vec(), None))?;
        match r.sw {
            sw::OK => Ok(()),
            sw::FILE_NOT_FOUND | sw::WRONG_P1P2 | sw::WRONG_DATA => Err(CardError::NotAnIdCard),
            sw => Err(CardError::Status {
                sw,
                context: "SELECT application",
            }),
        }
    }

    fn general_authenticate(&mut self, data: Vec<u8>, last: bool) -> Result<Vec<u8>, CardError> {
        let cla = if last { 0x00 } else { 0x10 };
        let r = self.send(&Command::new(cla, 0x86, 0, 0, data, Some(256)))?;
        match r.sw {
            sw::OK => Ok(r.data),
            sw::AUTH_FAILED | sw::SECURITY_NOT_SATISFIED => Err(CardError::AccessDenied),
            s if s & 0xFFF0 == 0x63C0 => Err(CardError::AccessDenied),
            sw => Err(CardError::Status {
                sw,
                context: "GENERAL AUTHENTICATE",
            }),
        }
    }

    /// PACE-GM (ECDH P-256, AES-128), then SELECT the application under SM.
    fn pace(&mut self, key: &MrzKey) -> Result<(), CardError> {
        let r = self.send(&Command::new(
            0,
            0x22,
            0xC1,
            0xA4,
            pace::mse_set_at_data(),
            None,
        ))?;
        if r.sw != sw::OK {
            return Err(CardError::Status {
                sw: r.sw,
                context: "MSE:Set AT",
            });
        }
        let mut password = key.pace_password();
        let mut reader = pace::PaceReader::new(&password);
        password.zeroize();
        let mut rnd = [0u8; 32];
        let r1 = self.general_authenticate(crate::tlv::encode(0x7C, &[]), false)?;
        rand::rng().fill_bytes(&mut rnd);
        let c2 = reader.on_nonce(&r1, &rnd).map_err(pace_err)?;
        let r2 = self.general_authenticate(c2, false)?;
        rand::rng().fill_bytes(&mut rnd);
        let c3 = reader.on_map(&r2, &rnd).map_err(pace_err)?;
        rnd.zeroize();
        let r3 = self.general_authenticate(c3, false)?;
        let c4 = reader.on_key(&r3).map_err(pace_err)?;
        let r4 = self.general_authenticate(c4, true)?;
        self.sm = Some(reader.finish(&r4).map_err(pace_err)?);
        self.select_application()
    }

    fn bac(&mut self, key: &MrzKey) -> Result<(), CardError> {
        self.sm = None;
        self.select_application()?;
        let r = self.send(&Command::new(0, 0x84, 0, 0, vec![], Some(8)))?;
        if r.sw != sw::OK || r.data.len() != 8 {
            return Err(CardError::Status {
                sw: r.sw,
                context: "GET CHALLENGE",
            });
        }
        let mut rnd_icc = [0u8; 8];
        rnd_icc.copy_from_slice(&r.data);
        let mut rnd_ifd = [0u8; 8];
        let mut k_ifd = [0u8; 16];
        rand::rng().fill_bytes(&mut rnd_ifd);
        rand::rng().fill_bytes(&mut k_ifd);
        let (state, data) = BacReader::start(key.bac_keys(), rnd_icc, rnd_ifd, k_ifd);
        let r = self.send(&Command::new(0, 0x82, 0, 0, data, Some(40)))?;
        match r.sw {
            sw::OK => {}
            sw::AUTH_FAILED
            | sw::SECURITY_NOT_SATISFIED
            | sw::WRONG_DATA
            | sw::SM_OBJECTS_INCORRECT => {
                return Err(CardError::AccessDenied);
            }
            s if s & 0xFFF0 == 0x63C0 => return Err(CardError::AccessDenied),
            sw => {
                return Err(CardError::Status {
                    sw,
                    context: "EXTERNAL AUTHENTICATE",
                });
            }
        }
        self.sm = Some(state.finish(&r.data).map_err(|e| match e {
            SmError::BadMac | SmError::Malformed(_) => CardError::AccessDenied,
            other => CardError::SecureMessaging(other),
        })?);
        Ok(())
    }
}

/// Read and verify a card with default options. See [`read_card_with`].
pub fn read_card<T: Transport>(
    t: &mut T,
    key: &AccessKey,
    trust: &TrustStore,
) -> Result<CardRead, CardError> {
    read_card_with(t, key, trust, &ReadOptions::default())
}

/// Read EF.COM, DG1, DG2 (optional), DG13, DG14, DG15 (when present) and EF.SOD, and run
/// passive authentication against `trust`. A card that fails passive authentication is
/// still returned, with `passive_auth.verified == false` and the reasons.
pub fn read_card_with<T: Transport>(
    t: &mut T,
    key: &AccessKey,
    trust: &TrustStore,
    opts: &ReadOptions,
) -> Result<CardRead, CardError> {
    let AccessKey::Mrz(mrz_key) = key;
    let mut s = Session {
        t,
        sm: None,
        stats: ReadStats::default(),
    };

    // EF.CardAccess (in the master file, before the application is selected).
    let mut pace_advertised = false;
    let mut pace_supported = false;
    if s.select_file(fid::CARD_ACCESS)? {
        s.stats.card_access_present = true;
        let ca = s.read_selected(SHORT_READ)?;
        if let Ok(infos) = SecurityInfos::parse(&ca) {
            pace_advertised = infos.supports_pace();
            pace_supported = infos.pace.iter().any(|(oid, param)| {
                oid == pace::ECDH_GM_AES_128_DOTTED && *param == Some(pace::PARAM_P256)
            });
        }
    }
    let mut protocol = AccessProtocol::Bac;
    if pace_supported && opts.pace {
        match s.pace(mrz_key) {
            Ok(()) => protocol = AccessProtocol::Pace,
            Err(e @ (CardError::AccessDenied | CardError::CardRemoved)) => return Err(e),
            Err(e) => tracing::info!("PACE failed ({e}); falling back to BAC"),
        }
    } else if pace_advertised {
        tracing::info!("card offers a PACE variant not implemented here; using BAC");
    }
    if protocol == AccessProtocol::Bac {
        s.bac(mrz_key)?;
    }
    s.stats.protocol = Some(protocol);

    // Negotiate the read size on EF.COM.
    let mut chunk = SHORT_READ;
    let com_bytes = if opts.extended_length {
        if !s.select_file(fid::COM)? {
            return Err(CardError::MissingFile("EF.COM"));
        }
        match s.read_selected(opts.max_extended_read) {
            Ok(b) => {
                chunk = opts.max_extended_read;
                b
            }
            Err(CardError::CardRemoved) => return Err(CardError::CardRemoved),
            Err(e) => {
                tracing::debug!("extended-length read refused ({e}); using short APDUs");
                match protocol {
                    AccessProtocol::Bac => s.bac(mrz_key)?,
                    AccessProtocol::Pace => {
                        s.sm = None;
                        s.pace(mrz_key)?;
                    }
                }
                if !s.select_file(fid::COM)? {
                    return Err(CardError::MissingFile("EF.COM"));
                }
                s.read_selected(chunk)?
            }
        }
    } else {
        if !s.select_file(fid::COM)? {
            return Err(CardError::MissingFile("EF.COM"));
        }
        s.read_selected(chunk)?
    };
    s.stats.read_size = chunk;
    s.stats.extended_length = chunk > SHORT_READ;
    s.stats.access_apdus = s.stats.apdus;
    s.stats.file_sizes.insert(fid::COM, com_bytes.len());
    let com = EfCom::parse(&com_bytes)?;

    let mut wanted: Vec<u8> = vec![1, 13, 14, 15];
    if opts.read_face {
        wanted.insert(1, 2);
    }
    let mut dgs: BTreeMap<u8, Zeroizing<Vec<u8>>> = BTreeMap::new();
    for n in wanted {
        if n != 1 && !com.data_groups.contains(&n) {
            continue;
        }
        if !s.select_file(fid::dg(n))? {
            if n == 1 {
                return Err(CardError::MissingFile("DG1"));
            }
            continue;
        }
        let b = s.read_selected(chunk)?;
        s.stats.file_sizes.insert(fid::dg(n), b.len());
        dgs.insert(n, b);
    }
    if !s.select_file(fid::SOD)? {
        return Err(CardError::MissingFile("EF.SOD"));
    }
    let sod = s.read_selected(chunk)?;
    s.stats.file_sizes.insert(fid::SOD, sod.len());

    let passive_auth = pa::verify(&sod, &dgs, trust);

    let dg1 = dgs.get(&1).ok_or(CardError::MissingFile("DG1"))?;
    let mrz = Mrz::parse_dg1(dg1)?;
    let personal = dgs
        .get(&13)
        .map(|b| PersonalData::parse_dg13(b))
        .transpose()?;
    let faces = match dgs.get(&2) {
        Some(b) => lds::parse_dg2(b)?,
        None => vec![],
    };
    let dg14 = dgs.get(&14).map(|b| SecurityInfos::parse(b)).transpose()?;
    let dg15 = dgs.get(&15).map(|b| lds::Dg15::parse(b)).transpose()?;
    Ok(CardRead {
        access: protocol,
        pace_advertised,
        com,
        mrz,
        personal,
        faces,
        dg14,
        dg15,
        passive_auth,
        stats: s.stats,
    })
}

/// Try several keys (e.g. the expiry-date candidates from the QR code) until one opens
/// the card. Returns the read and the key that worked.
pub fn read_card_trying<T: Transport>(
    t: &mut T,
    keys: &[MrzKey],
    trust: &TrustStore,
    opts: &ReadOptions,
) -> Result<(CardRead, MrzKey), CardError> {
    let mut last = CardError::AccessDenied;
    for k in keys {
        match read_card_with(t, &AccessKey::Mrz(k.clone()), trust, opts) {
            Ok(r) => return Ok((r, k.clone())),
            Err(CardError::AccessDenied) => last = CardError::AccessDenied,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

fn pace_err(e: SmError) -> CardError {
    match e {
        SmError::BadMac => CardError::AccessDenied,
        other => CardError::SecureMessaging(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softcard::{CardFiles, Identity, SoftCard};
    use crate::testpki::TestPki;
    use crate::transport::InProcess;
    use xaso_services::CardField;

    #[test]
    fn in_process_read_short_and_extended() {
        let pki = TestPki::default_test().unwrap();
        for (name, ext) in [
            ("nguyen-thi-mai-anh", true),
            ("tran-van-hung", false),
            ("ho-van-pao", true),
        ] {
            let id = Identity::builtin_named(name).unwrap();
            let mut card = SoftCard::new(CardFiles::build(&id, &pki).unwrap());
            card.extended_length = ext;
            let mut t = InProcess { card };
            let r = read_card(
                &mut t,
                &AccessKey::Mrz(id.mrz_key().unwrap()),
                &pki.trust_store(),
            )
            .unwrap();
            assert!(r.passive_auth.verified, "{:?}", r.passive_auth);
            assert_eq!(r.get(CardField::FullName), Some(id.full_name.clone()));
            assert_eq!(r.get(CardField::OldIdNumber), id.old_id_number.clone());
            assert_eq!(r.stats.extended_length, ext);
            assert_eq!(r.pace_advertised, id.pace);
            let want = if id.pace {
                AccessProtocol::Pace
            } else {
                AccessProtocol::Bac
            };
            assert_eq!(r.access, want);
            assert_eq!(r.faces.len(), 1);
            let extra = if ext { 0 } else { 5 }; // refused probe: SELECT + READ, then BAC again
            assert_eq!(r.stats.apdus, r.stats.min_apdus() + extra, "{name}");
        }
    }

    /// Files beyond 32 KiB (and beyond one extended read) use READ BINARY with odd INS.
    #[test]
    fn large_face_image_short_and_extended() {
        let pki = TestPki::default_test().unwrap();
        let id = Identity::builtin_named("le-thi-thu").unwrap();
        let mut files = CardFiles::build(&id, &pki).unwrap();
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        jpeg.extend((0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        jpeg.extend([0xFF, 0xD9]);
        files.set_data_group(2, lds::build_dg2(&jpeg, 480, 640));
        files.replace_sod(pki.sign_sod(&files.data_groups()).unwrap());
        for ext in [true, false] {
            let mut card = SoftCard::new(files.clone());
            card.extended_length = ext;
            let mut t = InProcess { card };
            let r = read_card(
                &mut t,
                &AccessKey::Mrz(id.mrz_key().unwrap()),
                &pki.trust_store(),
            )
            .unwrap();
            assert!(r.passive_auth.verified, "{:?}", r.passive_auth);
            assert_eq!(r.faces[0].data.as_slice(), jpeg.as_slice());
        }
    }
}
