//! Compiles the kiosk's `.slint` files with debug info (so tests can find elements by their
//! accessible labels) and bundles the `kiosk` translation domain into the binary.
//!
//! The screens use keys (`@tr("kiosk.home.title")`); the texts live in
//! `i18n/po/kiosk/<lang>.po`. Slint's bundled translations want
//! `<dir>/<lang>/LC_MESSAGES/xaso-kiosk.po` with the source string as `msgid`, so this
//! writes exactly that into `OUT_DIR/lang/` (msgid = key, msgstr = text) for every language.
//! Nothing generated is committed.

use std::path::{Path, PathBuf};

fn main() {
    if let Err(e) = run() {
        eprintln!("cannot build the kiosk UI: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let sources = manifest.join("../../i18n/po/kiosk");
    let lang_dir = out.join("lang");
    println!("cargo:rerun-if-changed={}", sources.display());
    // One catalog per language: `vi.po` (the reference), `en.po`…
    let entries = std::fs::read_dir(&sources).map_err(|e| format!("{}: {e}", sources.display()))?;
    let mut langs = 0;
    for entry in entries {
        let source = entry.map_err(|e| e.to_string())?.path();
        let Some(lang) = source
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| source.extension().is_some_and(|e| e == "po"))
        else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", source.display());
        bundle(&source, &lang_dir.join(lang).join("LC_MESSAGES"))?;
        langs += 1;
    }
    if langs == 0 {
        return Err(format!("no catalogs in {}", sources.display()));
    }
    println!("cargo:rerun-if-changed=ui");
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations(&lang_dir)
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/app.slint", config).map_err(|e| e.to_string())
}

/// Writes the catalog `source` as Slint's bundled translation for the crate, one message per
/// key with its text.
fn bundle(source: &Path, dir: &Path) -> Result<(), String> {
    use polib::catalog::Catalog;
    use polib::message::Message;
    let catalog = polib::po_file::parse(source)
        .map_err(|e| format!("{}: not valid .po: {e}", source.display()))?;
    let mut bundled = Catalog::new(catalog.metadata.clone());
    for m in catalog.messages() {
        let key = m.msgid();
        let text = m
            .msgstr()
            .map_err(|e| format!("{}: {key}: {e}", source.display()))?;
        if key.is_empty() {
            continue;
        }
        if text.trim().is_empty() {
            return Err(format!("{}: `{key}` has no text", source.display()));
        }
        bundled.append_or_update(
            Message::build_singular()
                .with_msgid(key.to_owned())
                .with_msgstr(text.to_owned())
                .done(),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let target = dir.join(format!("{}.po", env!("CARGO_PKG_NAME")));
    polib::po_file::write_to_file(&bundled, &target)
        .map_err(|e| format!("{}: {e}", target.display()))
}
