//! Digital-skills training: lessons as data, signed packs, quizzes, progress, classes and
//! certificates. Pure: no I/O, no clock — time, ids and keys come in as arguments.
//!
//! * [`content`] — tracks and modules ([`Library`]), loaded from files and checked as a
//!   whole: both languages, every image, right answers per question kind, practices.
//! * [`markdown`] — the restricted Markdown of lesson pages.
//! * [`pack`] — signed content packs (ed25519): how lessons reach a kiosk; a kiosk installs
//!   only a newer pack signed by its province and keeps the one it has otherwise.
//! * [`quiz`] — checking an answer (single, multiple, tap on a screen's picture).
//! * [`progress`] — a learner's record: maps keyed by unique ids, so copies from two kiosks
//!   merge without losing an answer; mastery by "m of the last n".
//! * [`certificate`] — the credential in a certificate's QR: CWT in COSE_Sign1, zlib,
//!   base45; verified offline against the province's trust list.
//! * [`class`] — a helper's class, its report and the commune's totals.
//!
//! The content of `training/modules/` is embedded ([`bundled_files`]) for tests and for the
//! province's pack-building tool; kiosks show only what an installed pack holds.

pub mod certificate;
pub mod class;
pub mod content;
pub mod markdown;
pub mod pack;
pub mod progress;
pub mod quiz;
pub mod text;

pub use content::{ContentError, Library, Module, Question, QuestionKind, Track};
pub use progress::{ModuleStatus, Progress};
pub use text::Text;

use std::collections::BTreeMap;

static MODULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/modules");

/// The files of `training/modules/` (paths relative to it), as embedded at build time.
/// The authors' README is not content.
pub fn bundled_files() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(&MODULES, &mut files);
    files.remove("README.md");
    files
}

fn collect(dir: &include_dir::Dir<'static>, out: &mut BTreeMap<String, Vec<u8>>) {
    for file in dir.files() {
        out.insert(
            file.path().to_string_lossy().replace('\\', "/"),
            file.contents().to_vec(),
        );
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}
