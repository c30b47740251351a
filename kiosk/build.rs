//! Compiles the kiosk's `.slint` files with debug info (so tests can find elements by their
//! accessible labels) and bundles the kiosk's own translations from `lang/`.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations(concat!(env!("CARGO_MANIFEST_DIR"), "/lang"))
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("cannot compile the kiosk UI: {e}");
        std::process::exit(1);
    }
}
