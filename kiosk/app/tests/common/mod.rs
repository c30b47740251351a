//! Driving the kiosk window through accessible labels, as a screen reader would; shared by
//! the kiosk's UI test binaries.

// Each test binary uses some of these helpers.
#![allow(dead_code)]

pub mod officer;
pub mod resident;

use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, Model};
use xaso_kiosk::ui::{AppWindow, ValueSource};

pub fn elements(ui: &impl ComponentHandle, label: &str) -> Vec<ElementHandle> {
    let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(ui, label).collect();
    if !found.is_empty() {
        return found;
    }
    // Scrolled content is laid out (and its repeated elements created) when drawn: draw
    // the window once, as the screen would, and look again.
    let _ = ui.window().take_snapshot();
    ElementHandle::find_by_accessible_label(ui, label).collect()
}

pub fn tap(ui: &impl ComponentHandle, label: &str) {
    let found = elements(ui, label);
    assert!(!found.is_empty(), "no element labelled {label:?}");
    found[0].invoke_accessible_default_action();
}

pub fn value_of(ui: &impl ComponentHandle, label: &str) -> String {
    let found = elements(ui, label);
    assert!(!found.is_empty(), "no element labelled {label:?}");
    found[0].accessible_value().unwrap_or_default().to_string()
}

thread_local! {
    static BACKEND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs Slint's testing backend with the real software renderer (real font metrics,
/// and snapshots work), once per test thread.
pub fn install_testing_backend() {
    if BACKEND.get() {
        return;
    }
    slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
        i_slint_backend_testing::TestingBackendOptions {
            mock_time: true,
            threading: false,
            renderer_name: Some("software".into()),
        },
    )))
    .unwrap();
    BACKEND.set(true);
}

/// What a USB keyboard-wedge scanner does: types the QR text into the focused input, then
/// Enter.
pub fn wedge_scan(ui: &impl ComponentHandle, text: &str) {
    use slint::platform::{Key, WindowEvent};
    let window = ui.window();
    let press = |t: slint::SharedString| {
        window.dispatch_event(WindowEvent::KeyPressed { text: t.clone() });
        window.dispatch_event(WindowEvent::KeyReleased { text: t });
    };
    for ch in text.chars() {
        press(ch.to_string().into());
    }
    press(Key::Return.into());
}

/// Where a form field's value came from (`None` when empty or not on the form).
pub fn field_source(ui: &AppWindow, id: &str) -> ValueSource {
    let fields = ui.get_fields();
    (0..fields.row_count())
        .filter_map(|i| fields.row_data(i))
        .find(|f| f.id == id)
        .map_or(ValueSource::None, |f| f.source)
}

/// The configuration every UI test starts from: a store, sample papers and QR pictures in
/// `dir`, no printer, receipts saved to `dir`, the default idle policy, no speech.
pub fn test_config(
    dir: &std::path::Path,
    device_id: &str,
    commune: &str,
    device: u16,
) -> xaso_kiosk::setup::KioskConfig {
    xaso_kiosk::setup::KioskConfig {
        store: Some(dir.join("store")),
        device_id: device_id.into(),
        commune: commune.into(),
        device,
        papers_dir: dir.join("papers"),
        qr_images: Some(dir.join("qr")),
        camera: None,
        receipt: xaso_kiosk::shell::ReceiptOutput {
            printer: None,
            save_dir: Some(dir.to_owned()),
        },
        idle: xaso_kiosk_core::IdlePolicy::default(),
        speech: false,
        hub: None,
        helper: None,
        lessons: Default::default(),
    }
}

/// Builds the kiosk and shows it in a window tall enough that no field is scrolled out of
/// view (the search by label skips clipped elements).
pub fn shown(
    config: xaso_kiosk::setup::KioskConfig,
    clock: &xaso_kiosk::clock::ManualClock,
    card: Box<dyn xaso_kiosk::card_reader::CardReader>,
) -> xaso_kiosk::app::App {
    install_testing_backend();
    let app = xaso_kiosk::setup::build(
        AppWindow::new().unwrap(),
        config,
        Box::new(clock.clone()),
        card,
    )
    .unwrap();
    app.ui
        .window()
        .set_size(slint::PhysicalSize::new(1080, 6000));
    app.ui.show().unwrap();
    app
}
