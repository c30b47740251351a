//! Robustness: more than 1,000,000 mutated inputs (TLV / LDS files, DG13, EF.SOD, command
//! and secure-messaging APDUs) through the parsers and the software card. Nothing may
//! panic; bad input must come back as a typed error. A fast seeded mutation loop, not
//! proptest, so the whole run stays within seconds in a debug build.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use xaso_idcard::apdu::{Command, Response};
use xaso_idcard::lds::{self, EfCom, Mrz, PersonalData, SecurityInfos};
use xaso_idcard::pa::{self, Sod};
use xaso_idcard::sm::{SecureMessaging, SessionKeys};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::tlv;

const PER_TARGET: usize = 250_000;

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = v.len();
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] = rng.random();
            }
            2 if len > 0 => {
                // a length byte to an extreme
                let i = rng.random_range(0..len);
                v[i] = [0x00, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0xFF][rng.random_range(0..8)];
            }
            3 => {
                let i = rng.random_range(0..=len);
                let n = rng.random_range(1..8);
                for _ in 0..n {
                    v.insert(i, rng.random());
                }
            }
            4 if len > 1 => {
                let i = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - i).min(16));
                v.drain(i..i + n);
            }
            5 if len > 0 => {
                v.truncate(rng.random_range(0..len));
            }
            6 if len > 2 => {
                let i = rng.random_range(0..len - 1);
                let n = rng.random_range(1..=(len - i).min(32));
                let chunk: Vec<u8> = v[i..i + n].to_vec();
                let at = rng.random_range(0..=len);
                v.splice(at..at, chunk);
            }
            _ => {
                let n = rng.random_range(0..4);
                for _ in 0..n {
                    v.push(rng.random());
                }
            }
        }
    }
    v
}

fn walk(b: &[u8], depth: usize) -> usize {
    let Ok(all) = tlv::parse_all(b) else { return 0 };
    let mut n = all.len();
    if depth < 8 {
        for t in all {
            if t.constructed {
                n += walk(t.value, depth + 1);
            }
        }
    }
    n
}

struct Fixture {
    files: CardFiles,
    id: Identity,
    pki: TestPki,
}

fn fixture(name: &str) -> Fixture {
    let pki = TestPki::default_test().unwrap();
    let id = Identity::builtin_named(name).unwrap();
    let files = CardFiles::build(&id, &pki).unwrap();
    Fixture { files, id, pki }
}

#[test]
fn fuzz_tlv_and_lds_files() {
    let f = fixture("ho-van-pao");
    let small_dg2 = lds::build_dg2(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 2, 3, 0xFF, 0xD9], 240, 320);
    let seeds: Vec<Vec<u8>> = vec![
        f.files.file(0x011E).unwrap().to_vec(),
        f.files.file(0x0101).unwrap().to_vec(),
        f.files.file(0x010E).unwrap().to_vec(),
        f.files.file(0x011C).unwrap().to_vec(),
        f.files.file(0x010F).unwrap().to_vec(),
        small_dg2,
    ];
    let mut rng = StdRng::seed_from_u64(0x1D_CA4D);
    let (mut ok, mut err) = (0usize, 0usize);
    for i in 0..PER_TARGET {
        let input = mutate(&mut rng, &seeds[i % seeds.len()]);
        walk(&input, 0);
        let _ = tlv::total_len_from_header(&input);
        let r = match i % seeds.len() {
            0 => EfCom::parse(&input).map(|_| ()),
            1 => Mrz::parse_dg1(&input).map(|_| ()),
            2 | 3 => SecurityInfos::parse(&input).map(|_| ()),
            4 => lds::Dg15::parse(&input).map(|_| ()),
            _ => lds::parse_dg2(&input).map(|_| ()),
        };
        if r.is_ok() { ok += 1 } else { err += 1 }
    }
    assert_eq!(ok + err, PER_TARGET);
    assert!(
        err > PER_TARGET / 10 && ok > PER_TARGET / 100,
        "ok {ok} err {err}"
    );
}

#[test]
fn fuzz_dg13() {
    let a = fixture("tran-van-hung");
    let b = fixture("nguyen-thi-mai-anh");
    let seeds = [
        a.files.file(0x010D).unwrap().to_vec(),
        b.files.file(0x010D).unwrap().to_vec(),
    ];
    let mut rng = StdRng::seed_from_u64(13);
    let (mut ok, mut err) = (0usize, 0usize);
    for i in 0..PER_TARGET {
        let input = mutate(&mut rng, &seeds[i % 2]);
        match PersonalData::parse_dg13(&input) {
            Ok(p) => {
                ok += 1;
                for field in xaso_services::CardField::ALL {
                    let _ = p.get(field);
                }
            }
            Err(_) => err += 1,
        }
    }
    assert!(
        err > PER_TARGET / 10 && ok > PER_TARGET / 100,
        "ok {ok} err {err}"
    );
    let _ = (a.id, b.pki);
}

#[test]
fn fuzz_sod() {
    let f = fixture("le-thi-thu");
    let sod = f.files.file(0x011D).unwrap().to_vec();
    let dgs: BTreeMap<u8, Vec<u8>> = f.files.data_groups();
    let trust = f.pki.trust_store();
    let mut rng = StdRng::seed_from_u64(0x50D);
    let (mut ok, mut err, mut verified) = (0usize, 0usize, 0usize);
    for i in 0..PER_TARGET {
        let input = mutate(&mut rng, &sod);
        match Sod::parse(&input) {
            Ok(s) => {
                ok += 1;
                let _ = s.data_groups();
                // Full verification (signature checks) on a sample: it is slow in debug builds.
                if i % 500 == 0 && pa::verify(&input, &dgs, &trust).verified {
                    verified += 1;
                }
            }
            Err(_) => err += 1,
        }
    }
    assert!(err > PER_TARGET / 10, "ok {ok} err {err}");
    // A mutated SOD must never verify unless the mutation left the signed parts intact.
    assert!(verified < PER_TARGET / 500 / 2 + 1, "verified {verified}");
    let mut store = xaso_idcard::pa::TrustStore::new();
    for _ in 0..2000 {
        let _ = store.add_bytes(&mutate(&mut rng, &f.pki.csca_pem().unwrap().into_bytes()));
    }
    let _ = f.id;
}

#[test]
fn fuzz_apdus_card_and_secure_messaging() {
    let f = fixture("dang-minh-khoa");
    let mut card = SoftCard::new(f.files.clone());
    let keys = SessionKeys::Tdes {
        enc: [7; 16],
        mac: [9; 16],
    };
    let mut reader_sm = SecureMessaging::new(keys.clone(), 1);
    let wrapped_cmd = reader_sm
        .wrap(&Command::new(0, 0xB0, 0, 0, vec![], Some(0xDF)))
        .unwrap()
        .to_bytes()
        .unwrap();
    let mut card_sm = SecureMessaging::new(keys.clone(), 1);
    card_sm
        .unwrap_command(&Command::parse(&wrapped_cmd).unwrap())
        .unwrap();
    let wrapped_resp = card_sm
        .wrap_response(&Response {
            data: vec![0x61; 40],
            sw: 0x9000,
        })
        .to_bytes();
    let seeds: Vec<Vec<u8>> = vec![
        hex::decode("00A4040C07A0000002471001").unwrap(),
        hex::decode("00A4020C02011E").unwrap(),
        hex::decode("00B0000004").unwrap(),
        hex::decode("00B00000000100").unwrap(),
        hex::decode("0084000008").unwrap(),
        hex::decode("00b10000045402800000").unwrap(),
        hex::decode("0022c1a412800a04007f00070202040202830101840 10c".replace(' ', "")).unwrap(),
        hex::decode("10860000027c0000").unwrap(),
        [
            hex::decode("0082000028").unwrap(),
            vec![0x11; 40],
            vec![0x28],
        ]
        .concat(),
        wrapped_cmd.clone(),
    ];
    let mut rng = StdRng::seed_from_u64(0xA9D0);
    let mut n = 0usize;
    for i in 0..PER_TARGET {
        let input = mutate(&mut rng, &seeds[i % seeds.len()]);
        let _ = Command::parse(&input);
        let out = card.process(&input);
        assert!(out.len() >= 2, "every answer has a status word");
        // Secure messaging on mutated protected commands and responses.
        if let Ok(c) = Command::parse(&mutate(&mut rng, &wrapped_cmd)) {
            let _ = SecureMessaging::new(keys.clone(), 1).unwrap_command(&c);
        }
        if let Ok(r) = Response::parse(&mutate(&mut rng, &wrapped_resp)) {
            let _ = SecureMessaging::new(keys.clone(), 2).unwrap(&r);
        }
        if i % 1000 == 0 {
            card.reset();
        }
        n += 3;
    }
    assert!(n >= 3 * PER_TARGET);
}

/// A card that corrupts some of its answers.
struct Flaky {
    card: SoftCard,
    rng: StdRng,
}

impl xaso_idcard::transport::Transport for Flaky {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, xaso_idcard::error::TransportError> {
        let r = self.card.process(apdu);
        if self.rng.random_ratio(1, 6) {
            let m = mutate(&mut self.rng, &r);
            return Ok(m);
        }
        Ok(r)
    }
}

#[test]
fn fuzz_reader_against_a_misbehaving_card() {
    use xaso_idcard::reader::{AccessKey, ReadOptions, read_card_with};
    let a = fixture("dang-minh-khoa");
    let b = fixture("ho-van-pao");
    let opts = ReadOptions {
        read_face: false,
        ..Default::default()
    };
    let mut rng = StdRng::seed_from_u64(0xF1A7);
    let (mut ok, mut err) = (0usize, 0usize);
    for i in 0..600 {
        let f = if i % 2 == 0 { &a } else { &b };
        let mut t = Flaky {
            card: SoftCard::new(f.files.clone()),
            rng: StdRng::seed_from_u64(rng.random()),
        };
        let key = AccessKey::Mrz(f.id.mrz_key().unwrap());
        match read_card_with(&mut t, &key, &f.pki.trust_store(), &opts) {
            Ok(r) => {
                ok += 1;
                // Secure messaging and passive authentication let nothing corrupted through.
                if r.passive_auth.verified {
                    assert_eq!(*r.personal.as_ref().unwrap(), f.id.personal_data());
                }
            }
            Err(_) => err += 1,
        }
    }
    assert!(ok > 10 && err > 100, "ok {ok} err {err}");
}
