//! The kiosk reading a chip card through the real PC/SC stack: pcscd + vsmartcard-vpcd with
//! idcard's software card inserted over vpcd's socket (started with idcard's public
//! `pcscd::Pcscd::ensure` and `vpcd::serve`, as idcard's own PC/SC tests do). The kiosk's
//! `PcscCardReader` waits for the card, reads it (BAC, secure messaging, passive
//! authentication) and reports its removal; the window is driven through accessible labels.
//! In the nextest group `pcsc` (one pcscd, fixed vpcd ports).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{
    elements, field_source, install_testing_backend, shown, tap, test_config, value_of, wedge_scan,
};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use xaso_idcard::pcscd::{Pcscd, VPCD_READER};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::vpcd::{self, ServeEnd, VpcdOptions};
use xaso_kiosk::app::App;
use xaso_kiosk::chipcard::{PcscCardReader, identity_key};
use xaso_kiosk::clock::ManualClock;
use xaso_kiosk::demo::write_sample_papers;
use xaso_kiosk::shell::ReceiptOutput;
use xaso_kiosk::ui::{AppWindow, CardProblem, CardState, QrState, Screen, ValueSource};

const RESIDENT: &str = "nguyen-thi-mai-anh";

/// Waits until the card on the reader has been read, and checks it was verified.
fn read_verified(app: &App, what: &str) {
    tick_until(app, what, |ui| {
        ui.get_card_state() != CardState::Waiting && ui.get_card_state() != CardState::Reading
    });
    assert_eq!(
        app.ui.get_card_state(),
        CardState::Verified,
        "{:?}",
        app.ui.get_card_problem()
    );
}

/// A kiosk on a PC/SC reader, shown in a window tall enough that no field is scrolled away.
fn kiosk_on_reader(
    dir: &std::path::Path,
    device_id: &str,
    device: u16,
    qr_images: Option<std::path::PathBuf>,
    reader: PcscCardReader,
) -> App {
    let mut config = test_config(dir, device_id, "79001", device);
    config.qr_images = qr_images;
    config.receipt = ReceiptOutput::default();
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    shown(config, &clock, Box::new(reader))
}

/// Runs the kiosk's timer (which collects the reader thread's events) until `done`.
fn tick_until(app: &App, what: &str, done: impl Fn(&AppWindow) -> bool) {
    let start = Instant::now();
    while !done(&app.ui) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what} (screen {:?}, card state {:?})",
            app.ui.get_screen(),
            app.ui.get_card_state()
        );
        app.tick();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The software card on vpcd's first reader until `remove`.
struct Inserted {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<std::io::Result<ServeEnd>>>,
}

impl Inserted {
    fn new(mut card: SoftCard) -> Inserted {
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let handle =
            std::thread::spawn(move || vpcd::serve(&mut card, &VpcdOptions::default(), &s2));
        Inserted {
            stop,
            handle: Some(handle),
        }
    }

    fn remove(mut self) -> ServeEnd {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap().unwrap()
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

#[test]
fn card_on_a_pcsc_reader_prefills_the_form_verified_and_removal_wipes() {
    let _pcscd = Pcscd::ensure().expect("pcscd with vsmartcard-vpcd");
    install_testing_backend();
    let dir = tempfile::tempdir().unwrap();
    write_sample_papers(&dir.path().join("papers")).unwrap();
    let pki = TestPki::default_test().unwrap();
    let reader = PcscCardReader::start(
        Some(VPCD_READER.into()),
        Some(identity_key(RESIDENT).unwrap()),
        pki.trust_store(),
    )
    .unwrap();
    let app = kiosk_on_reader(
        dir.path(),
        "kiosk-pcsc-test",
        4,
        Some(dir.path().join("qr")),
        reader,
    );
    let ui = &app.ui;

    // The tap-card step: no demo resident picker, the card source says PC/SC.
    assert_eq!(ui.get_screen(), Screen::Home);
    tap(ui, "Chạm thẻ căn cước");
    assert_eq!(ui.get_screen(), Screen::Identify);
    assert_eq!(ui.get_card_state(), CardState::Waiting);
    assert!(!ui.get_demo());
    assert!(elements(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh").is_empty());
    assert_eq!(
        elements(ui, "Nguồn thẻ: đầu đọc thẻ PC/SC (Virtual PCD 00 00)").len(),
        1
    );

    // The resident places her card on the reader.
    let identity = Identity::builtin_named(RESIDENT).unwrap();
    let card = Inserted::new(SoftCard::new(CardFiles::build(&identity, &pki).unwrap()));
    read_verified(&app, "the card to be read");
    assert_eq!(ui.get_card_name(), identity.full_name.as_str());

    // The form is pre-filled from the card read over PC/SC, and marked as from the card.
    tap(ui, "Tiếp tục");
    assert_eq!(ui.get_screen(), Screen::Services);
    tap(ui, "Sinh con");
    tap(ui, "Đăng ký khai sinh");
    assert_eq!(ui.get_screen(), Screen::Form);
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên người yêu cầu"),
        identity.full_name
    );
    assert_eq!(
        value_of(ui, "Số định danh cá nhân người yêu cầu"),
        identity.id_number
    );
    assert_eq!(field_source(ui, "requester_full_name"), ValueSource::Card);
    assert_eq!(field_source(ui, "requester_id_number"), ValueSource::Card);
    assert!(app.journey(|j| j.card().is_some()));

    // Taking the card away wipes the session.
    assert_eq!(card.remove(), ServeEnd::Stopped);
    tick_until(&app, "the removal to wipe the session", |ui| {
        ui.get_screen() == Screen::Home
    });
    assert!(app.journey(|j| j.card().is_none()));
    assert_eq!(ui.get_card_name(), "");
}

/// A reader started without any configured key (no `--mrz`/`--identity`): the card opens
/// only after its QR code was scanned, with the keys derived from it, over real pcscd.
#[test]
fn a_keyless_pcsc_reader_reads_the_card_after_its_qr_code_is_scanned() {
    let _pcscd = Pcscd::ensure().expect("pcscd with vsmartcard-vpcd");
    install_testing_backend();
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::default_test().unwrap();
    let reader = PcscCardReader::start(Some(VPCD_READER.into()), None, pki.trust_store()).unwrap();
    let app = kiosk_on_reader(dir.path(), "kiosk-pcsc-qr", 5, None, reader);
    let ui = &app.ui;
    tap(ui, "Chạm thẻ căn cước");
    let identity = Identity::builtin_named(RESIDENT).unwrap();
    let files = CardFiles::build(&identity, &pki).unwrap();

    // Placed before any scan: the kiosk has no key and says to scan the QR code.
    let card = Inserted::new(SoftCard::new(files.clone()));
    tick_until(&app, "the keyless read to fail", |ui| {
        ui.get_card_state() == CardState::Error
    });
    assert_eq!(ui.get_card_problem(), CardProblem::NeedsKey);
    assert_eq!(card.remove(), ServeEnd::Stopped);

    tap(ui, "Quét mã QR trên thẻ");
    wedge_scan(ui, &identity.qr_text());
    assert_eq!(ui.get_qr_state(), QrState::Ready);
    assert_eq!(ui.get_card_state(), CardState::Waiting);

    let card = Inserted::new(SoftCard::new(files));
    read_verified(&app, "the card to be read with the QR keys");
    assert_eq!(ui.get_card_name(), identity.full_name.as_str());
    assert_eq!(card.remove(), ServeEnd::Stopped);
    tick_until(&app, "the removal to wipe the session", |ui| {
        ui.get_screen() == Screen::Home
    });
}
