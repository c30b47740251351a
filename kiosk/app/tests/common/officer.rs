//! The officer's tablet for the UI tests: a real window on the testing backend, over a store
//! in `store_dir`, syncing with the hub at `url` only when asked (an hour between rounds).

use std::path::Path;
use std::time::Duration;

use slint::ComponentHandle;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::SystemClock;
use xaso_kiosk::officer::app::OfficerApp;
use xaso_kiosk::officer::link::OfficerLink;
use xaso_kiosk::officer::shell::OfficerParts;
use xaso_kiosk::officer::signing::SigningSetup;
use xaso_kiosk::qr_pictures::NoQrPictures;
use xaso_kiosk::ui::OfficerWindow;
use xaso_kiosk_core::signin::PinPolicy;
use xaso_sync_client::Identity;

use super::{install_testing_backend, tap};

/// The tablet of `identity` (enrolled for `commune`), shown 1280 wide and tall enough that
/// every row of a screen is laid out; `signing`: results are signed with a key the hub
/// certifies. No trust list for certificates, no lessons, no QR pictures.
pub fn officer(
    store_dir: &Path,
    url: &str,
    identity: &Identity,
    commune: &str,
    signing: bool,
) -> OfficerApp {
    officer_with(store_dir, url, identity, commune, signing, |_| {})
}

/// [`officer`], with its parts changed by `adjust` before the tablet is built.
pub fn officer_with(
    store_dir: &Path,
    url: &str,
    identity: &Identity,
    commune: &str,
    signing: bool,
    adjust: impl FnOnce(&mut OfficerParts),
) -> OfficerApp {
    install_testing_backend();
    let translations = xaso_i18n::Translations::bundled().unwrap();
    let catalog = xaso_services::Catalog::bundled_with(&translations).unwrap();
    let link = OfficerLink::start(
        store_dir.to_owned(),
        url.to_owned(),
        identity.clone(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let mut parts = OfficerParts {
        store_dir: store_dir.to_owned(),
        commune: commune.into(),
        device_id: identity.device_id.clone(),
        translations,
        catalog,
        clock: Box::new(SystemClock),
        card: Box::new(SoftCardReader::new().unwrap()),
        link,
        policy: PinPolicy {
            argon2_memory_kib: 64,
            argon2_passes: 1,
            ..PinPolicy::default()
        },
        commune_name: "Xã Tân Thới Nhì".into(),
        officer_title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH".into(),
        signing: signing.then(|| SigningSetup {
            hub_url: url.to_owned(),
            identity: identity.clone(),
        }),
        trust_list: None,
        library: xaso_training::Library::empty(),
        qr_pictures: Box::new(NoQrPictures),
    };
    adjust(&mut parts);
    let app = xaso_kiosk::officer::build(OfficerWindow::new().unwrap(), parts).unwrap();
    app.ui
        .window()
        .set_size(slint::PhysicalSize::new(1280, 4000));
    app.ui.show().unwrap();
    app
}

/// Types a PIN on the tablet's keypad and confirms it.
pub fn pin(o: &OfficerApp, digits: &str) {
    for d in digits.chars() {
        tap(&o.ui, &d.to_string());
    }
    tap(&o.ui, "Đồng ý");
}
