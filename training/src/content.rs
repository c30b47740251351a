//! The content model: tracks, modules, pages, quizzes and practices, loaded from files and
//! checked as a whole.
//!
//! Content is data (`training/modules/`, see its README): `tracks.toml`, then per module
//! `<id>/module.toml`, `<id>/pages/<name>.<lang>.md`, `<id>/images/*.png`, `<id>/quiz.toml`
//! and, for modules that practise a kiosk flow, `<id>/practice.toml`. [`Library::from_files`]
//! takes the files as bytes (from the source tree at build time, or from an installed
//! [`crate::pack`]) and refuses the whole set on the first problem, naming the file.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::markdown::{self, Page};
use crate::text::Text;

/// The languages every module must have.
pub const LANGUAGES: [&str; 2] = ["vi", "en"];
/// Pages per module.
pub const PAGES: std::ops::RangeInclusive<usize> = 4..=8;

/// A track: modules that together earn a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Track {
    pub id: String,
    pub title: Text,
    pub summary: Text,
    pub modules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TracksFile {
    tracks: Vec<Track>,
}

/// The pass rule: `m` correct among the last `n` answers (Kolibri's `m_of_n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mastery {
    pub m: u32,
    pub n: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    id: String,
    version: u32,
    track: String,
    order: u32,
    languages: Vec<String>,
    minutes: u32,
    title: Text,
    summary: Text,
    mastery: Mastery,
    pages: Vec<String>,
}

/// A lesson page in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonPage {
    pub name: String,
    pub vi: Page,
    pub en: Page,
}

impl LessonPage {
    pub fn get(&self, lang: xaso_i18n::Lang) -> &Page {
        match lang {
            xaso_i18n::Lang::Vi => &self.vi,
            xaso_i18n::Lang::En => &self.en,
        }
    }
}

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Exactly one choice is right.
    Single,
    /// Two or more choices are right, at least one wrong; all right ones must be picked.
    Multiple,
    /// Tap the right part of a real kiosk screen's picture.
    Tap,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub correct: bool,
    pub text: Text,
}

/// A rectangle as fractions (0..1) of a picture: x, y, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Region(pub [f64; 4]);

impl Region {
    /// Is the point (fractions of the picture) inside?
    pub fn contains(&self, x: f64, y: f64) -> bool {
        let [rx, ry, rw, rh] = self.0;
        x >= rx && x <= rx + rw && y >= ry && y <= ry + rh
    }

    fn is_valid(&self) -> bool {
        let [x, y, w, h] = self.0;
        self.0.iter().all(|v| v.is_finite())
            && x >= 0.0
            && y >= 0.0
            && w > 0.0
            && h > 0.0
            && x + w <= 1.0 + 1e-9
            && y + h <= 1.0 + 1e-9
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub prompt: Text,
    pub explanation: Text,
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Tap questions: the picture (a file of `images/`), the kiosk screen it shows, the
    /// translation key of the element to tap, and where that element is on the picture.
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub screen: Option<String>,
    #[serde(default)]
    pub element: Option<String>,
    #[serde(default)]
    pub region: Option<Region>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuizFile {
    questions: Vec<Question>,
}

/// Which kiosk flow a practice runs in the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PracticeFlow {
    /// A whole dossier, from the card to the receipt.
    Submit,
    /// Looking up a dossier's status.
    Status,
}

/// A step of a practice: the screen, the element the learner uses there (its translation
/// key), and a hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeStep {
    pub screen: String,
    pub element: String,
    pub hint: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Practice {
    pub flow: PracticeFlow,
    #[serde(default)]
    pub procedure: Option<String>,
    pub intro: Text,
    pub steps: Vec<PracticeStep>,
}

/// A module, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub id: String,
    pub version: u32,
    pub track: String,
    pub order: u32,
    pub minutes: u32,
    pub title: Text,
    pub summary: Text,
    pub mastery: Mastery,
    pub pages: Vec<LessonPage>,
    pub questions: Vec<Question>,
    pub practice: Option<Practice>,
}

impl Module {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
}

/// Why a set of content files was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("{file}: missing")]
    Missing { file: String },
    #[error("{file}: not UTF-8 text")]
    NotText { file: String },
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: {source}")]
    Page {
        file: String,
        source: markdown::PageError,
    },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

fn invalid(file: &str, reason: impl Into<String>) -> ContentError {
    ContentError::Invalid {
        file: file.to_owned(),
        reason: reason.into(),
    }
}

/// Every track and module, checked, with the images they show.
#[derive(Debug, Clone, PartialEq)]
pub struct Library {
    tracks: Vec<Track>,
    modules: BTreeMap<String, Module>,
    images: BTreeMap<String, Vec<u8>>,
}

/// The PNG signature.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

impl Library {
    /// Loads and checks content from its files (paths relative to `training/modules/`).
    pub fn from_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Library, ContentError> {
        let text = |file: &str| -> Result<&str, ContentError> {
            let bytes = files.get(file).ok_or_else(|| ContentError::Missing {
                file: file.to_owned(),
            })?;
            std::str::from_utf8(bytes).map_err(|_| ContentError::NotText {
                file: file.to_owned(),
            })
        };
        let toml_file = |file: &str| -> Result<toml::Table, ContentError> {
            toml::from_str(text(file)?).map_err(|e| ContentError::Toml {
                file: file.to_owned(),
                message: e.message().to_owned(),
            })
        };
        let tracks: TracksFile =
            toml_file("tracks.toml")?
                .try_into()
                .map_err(|e: toml::de::Error| ContentError::Toml {
                    file: "tracks.toml".into(),
                    message: e.message().to_owned(),
                })?;
        let mut modules = BTreeMap::new();
        let mut images = BTreeMap::new();
        let mut seen_tracks = BTreeSet::new();
        for track in &tracks.tracks {
            if !seen_tracks.insert(track.id.clone()) {
                return Err(invalid(
                    "tracks.toml",
                    format!("track `{}` twice", track.id),
                ));
            }
            if !track.title.is_complete() || !track.summary.is_complete() {
                return Err(invalid(
                    "tracks.toml",
                    format!(
                        "track `{}` needs a title and summary in vi and en",
                        track.id
                    ),
                ));
            }
            if track.modules.is_empty() {
                return Err(invalid(
                    "tracks.toml",
                    format!("track `{}` has no module", track.id),
                ));
            }
            for (index, id) in track.modules.iter().enumerate() {
                if modules.contains_key(id) {
                    return Err(invalid(
                        "tracks.toml",
                        format!("module `{id}` in two tracks"),
                    ));
                }
                let module = load_module(files, id, &text)?;
                if module.track != track.id {
                    return Err(invalid(
                        &format!("{id}/module.toml"),
                        format!("track `{}` but listed in `{}`", module.track, track.id),
                    ));
                }
                if module.order as usize != index + 1 {
                    return Err(invalid(
                        &format!("{id}/module.toml"),
                        format!(
                            "order {} but it is number {} of its track",
                            module.order,
                            index + 1
                        ),
                    ));
                }
                let prefix = format!("{id}/images/");
                for (path, bytes) in files.range(prefix.clone()..) {
                    let Some(name) = path.strip_prefix(&prefix) else {
                        break;
                    };
                    if !bytes.starts_with(PNG) {
                        return Err(invalid(path, "not a PNG image"));
                    }
                    images.insert(format!("{id}/{name}"), bytes.clone());
                }
                for image in module_images(&module) {
                    if !images.contains_key(&format!("{id}/{image}")) {
                        return Err(ContentError::Missing {
                            file: format!("{id}/images/{image}"),
                        });
                    }
                }
                modules.insert(id.clone(), module);
            }
        }
        for path in files.keys() {
            if let Some((dir, _)) = path.split_once('/')
                && !modules.contains_key(dir)
            {
                return Err(invalid(path, format!("module `{dir}` is in no track")));
            }
        }
        Ok(Library {
            tracks: tracks.tracks,
            modules,
            images,
        })
    }

    /// No content (a kiosk without an installed pack).
    pub fn empty() -> Library {
        Library {
            tracks: Vec::new(),
            modules: BTreeMap::new(),
            images: BTreeMap::new(),
        }
    }

    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    pub fn track(&self, id: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }

    /// Modules in track order.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.tracks
            .iter()
            .flat_map(|t| t.modules.iter().filter_map(|id| self.modules.get(id)))
    }

    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.get(id)
    }

    /// An image of a module (`file` as pages and questions name it).
    pub fn image(&self, module: &str, file: &str) -> Option<&[u8]> {
        self.images
            .get(&format!("{module}/{file}"))
            .map(Vec::as_slice)
    }
}

/// Every image file a module shows (pages and tap questions).
fn module_images(module: &Module) -> BTreeSet<&str> {
    let pages = module
        .pages
        .iter()
        .flat_map(|p| p.vi.images().chain(p.en.images()));
    let pictures = module.questions.iter().filter_map(|q| q.picture.as_deref());
    pages.chain(pictures).collect()
}

fn load_module<'a>(
    files: &'a BTreeMap<String, Vec<u8>>,
    id: &str,
    text: &dyn Fn(&str) -> Result<&'a str, ContentError>,
) -> Result<Module, ContentError> {
    let file = format!("{id}/module.toml");
    let manifest: Manifest = toml::from_str(text(&file)?).map_err(|e| ContentError::Toml {
        file: file.clone(),
        message: e.message().to_owned(),
    })?;
    if manifest.id != id {
        return Err(invalid(
            &file,
            format!("id `{}` but the folder is `{id}`", manifest.id),
        ));
    }
    for lang in LANGUAGES {
        if !manifest.languages.iter().any(|l| l == lang) {
            return Err(invalid(&file, format!("languages must include `{lang}`")));
        }
    }
    if !manifest.title.is_complete() || !manifest.summary.is_complete() {
        return Err(invalid(&file, "title and summary need vi and en"));
    }
    if !PAGES.contains(&manifest.pages.len()) {
        return Err(invalid(
            &file,
            format!(
                "{} pages; a module has {} to {}",
                manifest.pages.len(),
                PAGES.start(),
                PAGES.end()
            ),
        ));
    }
    let Mastery { m, n } = manifest.mastery;
    if m == 0 || m > n {
        return Err(invalid(&file, format!("mastery {m} of {n} is not a rule")));
    }
    let mut pages = Vec::new();
    for name in &manifest.pages {
        let page = |lang: &str| -> Result<Page, ContentError> {
            let path = format!("{id}/pages/{name}.{lang}.md");
            markdown::parse(text(&path)?)
                .map_err(|source| ContentError::Page { file: path, source })
        };
        let (vi, en) = (page("vi")?, page("en")?);
        let (vi_images, en_images): (BTreeSet<_>, BTreeSet<_>) =
            (vi.images().collect(), en.images().collect());
        if vi_images != en_images {
            return Err(invalid(
                &format!("{id}/pages/{name}.en.md"),
                "the English page must show the same images as the Vietnamese one",
            ));
        }
        pages.push(LessonPage {
            name: name.clone(),
            vi,
            en,
        });
    }
    let quiz_file = format!("{id}/quiz.toml");
    let quiz: QuizFile = toml::from_str(text(&quiz_file)?).map_err(|e| ContentError::Toml {
        file: quiz_file.clone(),
        message: e.message().to_owned(),
    })?;
    check_quiz(&quiz_file, &quiz.questions)?;
    let practice_file = format!("{id}/practice.toml");
    let practice = if files.contains_key(&practice_file) {
        let practice: Practice =
            toml::from_str(text(&practice_file)?).map_err(|e| ContentError::Toml {
                file: practice_file.clone(),
                message: e.message().to_owned(),
            })?;
        check_practice(&practice_file, &practice)?;
        Some(practice)
    } else {
        None
    };
    Ok(Module {
        id: manifest.id,
        version: manifest.version,
        track: manifest.track,
        order: manifest.order,
        minutes: manifest.minutes,
        title: manifest.title,
        summary: manifest.summary,
        mastery: manifest.mastery,
        pages,
        questions: quiz.questions,
        practice,
    })
}

fn check_quiz(file: &str, questions: &[Question]) -> Result<(), ContentError> {
    if questions.is_empty() {
        return Err(invalid(file, "a quiz needs questions"));
    }
    let mut ids = BTreeSet::new();
    for q in questions {
        let at = |reason: &str| invalid(file, format!("question `{}`: {reason}", q.id));
        if !ids.insert(q.id.as_str()) {
            return Err(at("id used twice"));
        }
        if !q.prompt.is_complete() || !q.explanation.is_complete() {
            return Err(at("prompt and explanation need vi and en"));
        }
        let mut choice_ids = BTreeSet::new();
        for c in &q.choices {
            if !choice_ids.insert(c.id.as_str()) {
                return Err(at(&format!("choice `{}` twice", c.id)));
            }
            if !c.text.is_complete() {
                return Err(at(&format!("choice `{}` needs vi and en", c.id)));
            }
        }
        let right = q.choices.iter().filter(|c| c.correct).count();
        let wrong = q.choices.len() - right;
        let tap_parts = [
            q.picture.is_some(),
            q.screen.is_some(),
            q.element.is_some(),
            q.region.is_some(),
        ];
        match q.kind {
            QuestionKind::Single if right != 1 || wrong < 1 => {
                return Err(at(&format!(
                    "a single-choice question has exactly one right choice and at least one wrong ({right} right, {wrong} wrong)"
                )));
            }
            QuestionKind::Multiple if right < 2 || wrong < 1 => {
                return Err(at(&format!(
                    "a multiple-choice question has two or more right choices and at least one wrong ({right} right, {wrong} wrong)"
                )));
            }
            QuestionKind::Single | QuestionKind::Multiple if tap_parts.iter().any(|p| *p) => {
                return Err(at(
                    "picture, screen, element and region belong to tap questions",
                ));
            }
            QuestionKind::Tap if !q.choices.is_empty() || !tap_parts.iter().all(|p| *p) => {
                return Err(at(
                    "a tap question has a picture, screen, element and region and no choices",
                ));
            }
            QuestionKind::Tap if !q.region.is_some_and(|r| r.is_valid()) => {
                return Err(at(
                    "the region must lie inside the picture (fractions 0..1, non-empty)",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_practice(file: &str, practice: &Practice) -> Result<(), ContentError> {
    if !practice.intro.is_complete() {
        return Err(invalid(file, "the intro needs vi and en"));
    }
    if practice.steps.is_empty() {
        return Err(invalid(file, "a practice needs steps"));
    }
    if practice.flow == PracticeFlow::Submit && practice.procedure.is_none() {
        return Err(invalid(file, "a submit practice names its procedure"));
    }
    for (i, step) in practice.steps.iter().enumerate() {
        if !step.hint.is_complete() || step.screen.is_empty() || step.element.is_empty() {
            return Err(invalid(
                file,
                format!(
                    "step {} needs a screen, an element and a hint in vi and en",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}
