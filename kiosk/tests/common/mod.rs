//! Driving the kiosk window through accessible labels, as a screen reader would; shared by
//! the kiosk's UI test binaries.

use i_slint_backend_testing::ElementHandle;
use slint::ComponentHandle;
use xaso_kiosk::ui::AppWindow;

pub fn elements(ui: &AppWindow, label: &str) -> Vec<ElementHandle> {
    let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(ui, label).collect();
    if !found.is_empty() {
        return found;
    }
    // Scrolled content is laid out (and its repeated elements created) when drawn: draw
    // the window once, as the screen would, and look again.
    let _ = ui.window().take_snapshot();
    ElementHandle::find_by_accessible_label(ui, label).collect()
}

pub fn tap(ui: &AppWindow, label: &str) {
    let found = elements(ui, label);
    assert!(
        !found.is_empty(),
        "no element labelled {label:?} on screen {:?}",
        ui.get_screen()
    );
    found[0].invoke_accessible_default_action();
}

pub fn value_of(ui: &AppWindow, label: &str) -> String {
    let found = elements(ui, label);
    assert!(!found.is_empty(), "no element labelled {label:?}");
    found[0].accessible_value().unwrap_or_default().to_string()
}
