//! End-to-end tests through the real PC/SC stack: pcscd + vsmartcard-vpcd + the software
//! card. Each test starts pcscd (or uses one already running) and the card itself. These
//! tests are in the nextest group `pcsc` (one at a time: one pcscd, fixed vpcd ports).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::zombie_processes
)] // test helpers

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use xaso_idcard::error::CardError;
use xaso_idcard::pa::PaFailure;
use xaso_idcard::reader::{AccessKey, ReadOptions, read_card, read_card_with};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::{CardWatcher, PcscTransport};
use xaso_idcard::vpcd::{self, ServeEnd, VpcdOptions};
use xaso_services::CardField;

const READER: &str = "Virtual PCD 00 00";

struct Pcscd(#[allow(dead_code)] xaso_idcard::pcscd::Pcscd);

impl Pcscd {
    fn start() -> Pcscd {
        Pcscd(xaso_idcard::pcscd::Pcscd::ensure().expect("pcscd with vpcd"))
    }
}

struct Inserted {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<ServeEnd>>,
}

impl Inserted {
    fn new(mut card: SoftCard, remove_after: Option<usize>) -> Inserted {
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let opts = VpcdOptions {
                remove_after_apdus: remove_after,
                ..Default::default()
            };
            vpcd::serve(&mut card, &opts, &s2).expect("vpcd serve")
        });
        Inserted {
            stop,
            handle: Some(handle),
        }
    }

    fn remove(mut self) -> ServeEnd {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Inserted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn card_for(name: &str, pki: &TestPki) -> (Identity, SoftCard) {
    let id = Identity::builtin_named(name).unwrap();
    let card = SoftCard::new(CardFiles::build(&id, pki).unwrap());
    (id, card)
}

/// Reads the card in the reader with the MRZ key of `id`, trusting the test CSCA.
fn read_with_card_key(
    t: &mut PcscTransport,
    id: &Identity,
    pki: &TestPki,
) -> Result<xaso_idcard::reader::CardRead, CardError> {
    read_card(
        t,
        &AccessKey::Mrz(id.mrz_key().unwrap()),
        &pki.trust_store(),
    )
}

fn connect() -> PcscTransport {
    let w = CardWatcher::new().unwrap();
    let reader = w
        .wait_for_card(Some(READER), Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(reader, READER);
    PcscTransport::connect(READER).unwrap()
}

#[test]
fn pcsc_bac_read_verifies() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, card) = card_for("nguyen-thi-mai-anh", &pki);
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    assert_eq!(t.atr().unwrap(), xaso_idcard::softcard::ATR);
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert!(r.passive_auth.verified, "{:?}", r.passive_auth);
    assert_eq!(r.passive_auth.data_groups_ok, vec![1, 2, 13, 15]);
    assert_eq!(r.dg15.as_ref().unwrap().algorithm, "1.2.840.10045.2.1");
    assert_eq!(r.mrz.document_number, &id.id_number[3..]);
    assert!(r.mrz.check_digits_ok);
    let p = r.personal.as_ref().unwrap();
    assert_eq!(*p, id.personal_data());
    assert_eq!(r.get(CardField::DateOfBirth).as_deref(), Some("2003-05-17"));
    assert_eq!(r.get(CardField::Sex).as_deref(), Some("female"));
    assert_eq!(r.faces.len(), 1);
    assert_eq!(
        r.faces[0].data.as_slice(),
        id.face_jpeg().unwrap().as_slice()
    );
    assert!(r.stats.extended_length, "vpcd passes extended APDUs");
    assert_eq!(r.stats.apdus, r.stats.min_apdus());
}

#[test]
fn pcsc_short_apdus_when_card_refuses_extended() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, mut card) = card_for("tran-van-hung", &pki);
    card.extended_length = false;
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert!(r.passive_auth.verified, "{:?}", r.passive_auth);
    assert!(!r.stats.extended_length);
    assert_eq!(r.stats.read_size, 0xDF);
    assert_eq!(
        r.get(CardField::OldIdNumber),
        id.old_id_number.clone(),
        "DG13 layout with index 16"
    );
    assert_eq!(r.get(CardField::SpouseName), id.spouse_name.clone());
    assert!(r.stats.apdus <= r.stats.min_apdus() + 5);
}

/// A card that returns long answers in pieces (61xx / GET RESPONSE, as T=0 cards do): the
/// PC/SC transport collects them.
#[test]
fn pcsc_get_response_chains_are_collected() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, mut card) = card_for("le-thi-thu", &pki);
    card.extended_length = false;
    card.t0_chunk = Some(100);
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert!(r.passive_auth.verified, "{:?}", r.passive_auth);
    assert_eq!(*r.personal.as_ref().unwrap(), id.personal_data());
}

#[test]
fn pcsc_wrong_mrz_is_access_denied() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, card) = card_for("le-thi-thu", &pki);
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    let wrong =
        xaso_idcard::bac::MrzKey::from_id_number(&id.id_number, "1975-02-27", &id.expiry_date)
            .unwrap();
    let err = read_card(&mut t, &AccessKey::Mrz(wrong), &pki.trust_store()).unwrap_err();
    assert_eq!(err, CardError::AccessDenied);
    assert_eq!(err.to_string(), "access denied, check the card details");
    // The right key still works on the same card afterwards.
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert!(r.passive_auth.verified);
}

#[test]
fn pcsc_card_removed_mid_read() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, card) = card_for("dang-minh-khoa", &pki);
    let ins = Inserted::new(card, Some(9));
    let mut t = connect();
    let err = read_with_card_key(&mut t, &id, &pki).unwrap_err();
    assert_eq!(err, CardError::CardRemoved);
    assert_eq!(
        err.to_string(),
        "the card was removed during reading; put it back and try again"
    );
    assert_eq!(ins.remove(), ServeEnd::Removed);
    drop(t);
    // Put it back: a fresh read works.
    let (_, card) = card_for("dang-minh-khoa", &pki);
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert!(r.passive_auth.verified);
}

#[test]
fn pcsc_tampered_data_group_fails_passive_auth() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let id = Identity::builtin_named("nguyen-thi-mai-anh").unwrap();
    let mut files = CardFiles::build(&id, &pki).unwrap();
    assert!(files.tamper(13));
    let _ins = Inserted::new(SoftCard::new(files), None);
    let mut t = connect();
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert!(!r.passive_auth.verified);
    assert_eq!(
        r.passive_auth.failures,
        vec![PaFailure::DataGroupHashMismatch(13)]
    );
    assert!(
        r.passive_auth
            .summary()
            .starts_with("not verified: data group 13 does not match")
    );
    assert!(
        r.personal.is_some(),
        "unverified data is still returned, marked"
    );
}

#[test]
fn pcsc_unknown_csca_is_not_verified() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, card) = card_for("ho-van-pao", &pki);
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    let other = TestPki::generate("some-other-country").unwrap();
    let opts = ReadOptions {
        read_face: false,
        ..Default::default()
    };
    let r = read_card_with(
        &mut t,
        &AccessKey::Mrz(id.mrz_key().unwrap()),
        &other.trust_store(),
        &opts,
    )
    .unwrap();
    assert!(!r.passive_auth.verified);
    assert!(
        matches!(
            r.passive_auth.failures.as_slice(),
            [PaFailure::UnknownCsca(_)]
        ),
        "{:?}",
        r.passive_auth
    );
    assert_eq!(r.passive_auth.data_groups_ok, vec![1, 13, 14, 15]);
    assert!(r.pace_advertised);
    assert!(r.faces.is_empty());
}

#[test]
fn pcsc_wait_for_card_is_cancellable_and_async() {
    let _pcscd = Pcscd::start();
    // Nothing inserted: a wait can be cancelled from another thread.
    let w = CardWatcher::new().unwrap();
    let c = w.canceller();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        c.cancel();
    });
    let start = Instant::now();
    let r = w.wait_for_card(Some(READER), Some(Duration::from_secs(20)));
    t.join().unwrap();
    assert_eq!(r, Err(xaso_idcard::error::TransportError::Cancelled));
    assert!(start.elapsed() < Duration::from_secs(5));

    // The async wait resolves when a card is put in.
    let w = CardWatcher::new().unwrap();
    let fut = w.wait_for_card_async(Some(READER.to_owned()), Some(Duration::from_secs(20)));
    let pki = TestPki::default_test().unwrap();
    let (_, card) = card_for("tran-van-hung", &pki);
    let ins = Inserted::new(card, None);
    let got = futures_executor_block_on(fut);
    assert_eq!(got.as_deref(), Ok(READER));
    // And removal is seen.
    let w = CardWatcher::new().unwrap();
    ins.remove();
    w.wait_for_removal(READER, Some(Duration::from_secs(10)))
        .unwrap();
}

/// Minimal executor for one future (the crate is runtime-agnostic).
fn futures_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

#[test]
fn pcsc_pace_read_verifies() {
    let _pcscd = Pcscd::start();
    let pki = TestPki::default_test().unwrap();
    let (id, card) = card_for("ho-van-pao", &pki);
    let _ins = Inserted::new(card, None);
    let mut t = connect();
    let r = read_with_card_key(&mut t, &id, &pki).unwrap();
    assert_eq!(r.access, xaso_idcard::reader::AccessProtocol::Pace);
    assert!(r.passive_auth.verified, "{:?}", r.passive_auth);
    assert_eq!(r.passive_auth.data_groups_ok, vec![1, 2, 13, 14, 15]);
    assert!(r.dg14.as_ref().unwrap().supports_pace());
    assert_eq!(*r.personal.as_ref().unwrap(), id.personal_data());
    assert_eq!(r.stats.apdus, r.stats.min_apdus());

    // Wrong MRZ over PACE: access denied, and BAC is not tried behind the user's back.
    let wrong =
        xaso_idcard::bac::MrzKey::from_id_number(&id.id_number, &id.date_of_birth, "2036-07-10")
            .unwrap();
    assert_eq!(
        read_card(&mut t, &AccessKey::Mrz(wrong), &pki.trust_store()).unwrap_err(),
        CardError::AccessDenied
    );
    // BAC still works on a PACE card when asked.
    let opts = ReadOptions {
        pace: false,
        read_face: false,
        ..Default::default()
    };
    let r = read_card_with(
        &mut t,
        &AccessKey::Mrz(id.mrz_key().unwrap()),
        &pki.trust_store(),
        &opts,
    )
    .unwrap();
    assert_eq!(r.access, xaso_idcard::reader::AccessProtocol::Bac);
    assert!(r.passive_auth.verified);
}

/// The CLI end to end: `xaso-card emulate` as its own process plugged into vpcd, and
/// `xaso-card read --qr` reading it through pcscd.
#[test]
fn pcsc_cli_emulate_then_read_with_qr() {
    let _pcscd = Pcscd::start();
    let bin = env!("CARGO_BIN_EXE_xaso-card");
    let mut emu = Command::new(bin)
        .args(["emulate", "--identity", "tran-van-hung"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(&mut emu);
    CardWatcher::new()
        .unwrap()
        .wait_for_card(Some(READER), Some(Duration::from_secs(15)))
        .unwrap();

    let id = Identity::builtin_named("tran-van-hung").unwrap();
    let code = qrcode::QrCode::new(id.qr_text().as_bytes()).unwrap();
    let img = code
        .render::<image::Luma<u8>>()
        .module_dimensions(4, 4)
        .build();
    let dir = std::env::temp_dir().join(format!("xaso-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let qr_path = dir.join("card-qr.png");
    img.save(&qr_path).unwrap();

    let run = |extra: &[&str]| {
        let mut args = vec![
            "read",
            "--reader",
            READER,
            "--qr",
            qr_path.to_str().unwrap(),
            "--test-csca",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = Command::new(bin).args(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let masked = run(&[]);
    assert_eq!(masked["verified"], true);
    assert_eq!(masked["fields"]["full_name"], "T*** V** H***");
    assert_eq!(masked["fields"]["id_number"], "*********345");
    assert_eq!(masked["faces"][0]["kind"], "jpeg");
    let shown = run(&["--show"]);
    assert_eq!(shown["fields"]["full_name"], "Trần Văn Hùng");
    assert_eq!(shown["fields"]["date_of_birth"], "1982-11-03");
    assert_eq!(shown["fields"]["old_id_number"], "012345678");

    // Without a CSCA the card reads but is "not verified".
    let o = Command::new(bin)
        .args([
            "read",
            "--reader",
            READER,
            "--mrz",
            "001082012345,821103,421103",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("✘ Chưa xác thực / not verified: no CSCA certificates are configured"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
