//! One translation system: every string of the screens is a key of the `kiosk` domain of
//! `i18n/po/`, every key used exists in Vietnamese and English, no kiosk key is left unused,
//! and no screen of the tour ever shows a raw key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{shown, test_config};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use i_slint_backend_testing::ElementQuery;
use slint::ComponentHandle;
use xaso_i18n::{Lang, Translations};
use xaso_kiosk::app::App;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::ManualClock;
use xaso_kiosk::demo::write_sample_papers;
use xaso_kiosk::tour::{Shots, scripted_journey};
use xaso_kiosk::ui::AppWindow;

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The first argument of every `@tr(…)` in a `.slint` source, comments left out.
fn tr_strings(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("@tr(\"") {
        rest = &rest[i + 5..];
        let end = rest.find('"').unwrap();
        out.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// Every `"kiosk.…"` string literal of the kiosk's Rust sources.
fn rust_keys(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("\"kiosk.") {
        rest = &rest[i + 1..];
        let end = rest.find('"').unwrap();
        out.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// What a raw key looks like: `kiosk.` then lowercase letters, digits, `_`, `.`, `-`.
fn is_raw_key(text: &str) -> bool {
    text.strip_prefix("kiosk.").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
    })
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_key_of_the_screens_exists_in_vietnamese_and_english() {
    let t = Translations::bundled().unwrap();
    let mut slint_files = Vec::new();
    files(&manifest_dir().join("ui"), "slint", &mut slint_files);
    assert!(slint_files.len() >= 15, "{slint_files:?}");
    let mut used = Vec::new();
    for file in &slint_files {
        for s in tr_strings(&std::fs::read_to_string(file).unwrap()) {
            used.push((file.clone(), s));
        }
    }
    assert!(used.len() > 100, "found {} strings", used.len());
    let not_keys: Vec<_> = used.iter().filter(|(_, s)| !is_raw_key(s)).collect();
    assert!(not_keys.is_empty(), "@tr of text, not a key: {not_keys:#?}");
    for lang in Lang::ALL {
        let missing: Vec<_> = used.iter().filter(|(_, k)| !t.has(lang, k)).collect();
        assert!(missing.is_empty(), "not in {}: {missing:#?}", lang.code());
    }
    for (_, key) in &used {
        assert_eq!(t.domain_of(key), Some("kiosk"), "{key}");
    }
}

#[test]
fn no_kiosk_key_in_the_catalogs_is_unused() {
    let t = Translations::bundled().unwrap();
    let mut used = BTreeSet::new();
    let mut slint_files = Vec::new();
    files(&manifest_dir().join("ui"), "slint", &mut slint_files);
    for file in slint_files {
        used.extend(tr_strings(&std::fs::read_to_string(file).unwrap()));
    }
    let mut rust_files = Vec::new();
    files(&manifest_dir().join("src"), "rs", &mut rust_files);
    files(&manifest_dir().join("../core/src"), "rs", &mut rust_files);
    for file in rust_files {
        used.extend(rust_keys(&std::fs::read_to_string(file).unwrap()));
    }
    let unused: Vec<&str> = t
        .domain_keys("kiosk")
        .filter(|k| !used.contains(*k))
        .collect();
    assert!(unused.is_empty(), "kiosk keys nobody uses: {unused:#?}");
    // and the Rust sources ask only for keys that exist
    let unknown: Vec<&String> = used
        .iter()
        .filter(|k| Lang::ALL.iter().any(|l| !t.has(*l, k)))
        .collect();
    assert!(unknown.is_empty(), "keys without text: {unknown:#?}");
}

/// At each screen of the tour: every text, label, value and description on screen, in
/// Vietnamese and in English.
struct RawKeyHunt {
    seen: usize,
    raw: Vec<(String, String)>,
    screens: Vec<String>,
}

impl RawKeyHunt {
    fn look(&mut self, ui: &AppWindow, screen: &str) {
        // Scrolled content is created when drawn.
        let _ = ui.window().take_snapshot();
        for e in ElementQuery::from_root(ui).match_descendants().find_all() {
            let texts = [
                e.accessible_label(),
                e.accessible_value(),
                e.accessible_description(),
            ];
            for text in texts.into_iter().flatten() {
                self.seen += 1;
                if is_raw_key(text.trim()) {
                    self.raw.push((screen.to_owned(), text.to_string()));
                }
            }
        }
    }
}

impl Shots for RawKeyHunt {
    fn shot(&mut self, app: &App, name: &str) -> Result<(), image::ImageError> {
        self.screens.push(name.to_owned());
        for lang in Lang::ALL {
            slint::select_bundled_translation(lang.code()).unwrap();
            self.look(&app.ui, &format!("{name} ({})", lang.code()));
        }
        slint::select_bundled_translation(Lang::Vi.code()).unwrap();
        Ok(())
    }
}

#[test]
fn no_screen_of_the_tour_shows_a_raw_key() {
    let dir = tempfile::tempdir().unwrap();
    write_sample_papers(&dir.path().join("papers")).unwrap();
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let mut config = test_config(dir.path(), "kiosk-tour", "09904", 1);
    config.qr_images = None;
    let app = shown(config, &clock, Box::new(SoftCardReader::new().unwrap()));
    let mut hunt = RawKeyHunt {
        seen: 0,
        raw: Vec::new(),
        screens: Vec::new(),
    };
    let code = scripted_journey(&app, &mut hunt, Some(&clock)).unwrap();
    assert!(!code.is_empty(), "the tour reached the receipt");
    assert!(hunt.screens.len() >= 20, "{:?}", hunt.screens);
    assert!(hunt.seen > 1000, "only {} texts seen", hunt.seen);
    assert!(hunt.raw.is_empty(), "raw keys on screen: {:#?}", hunt.raw);
    // The walk itself can tell a key from a text.
    assert!(is_raw_key("kiosk.home.title"));
    assert!(!is_raw_key("Xin chào! Bạn cần làm thủ tục gì hôm nay?"));
}
