//! The procedure catalog: one data file per procedure, loaded and checked as a whole.
//!
//! The catalog is data, not code. Each procedure lives in `services/catalog/<code>.toml`;
//! the files are embedded in the binary at build time ([`Catalog::bundled`]) and can also be
//! supplied by the caller ([`Catalog::from_sources`]), for example a province's own catalog
//! read from disk by a binary. Loading never panics: every problem is a [`CatalogError`]
//! naming the file and what is wrong with it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};
use xaso_i18n::{Lang, Translations};

use crate::life_event::LifeEvent;

static BUNDLED_PROCEDURES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/catalog");
static BUNDLED_LIFE_EVENTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/life_events");

/// The bundled mapping of the catalog to the national public-service portal's packets
/// (`services/data/national-portal.toml`): national procedure codes, status and channel
/// codes, and the packets field by field. Parsed and checked against the catalog by
/// `xaso-central`; a province may replace it with its own file.
pub const NATIONAL_PORTAL_MAPPING: &str = include_str!("../data/national-portal.toml");

/// A text of the catalog in every language the kiosk speaks. The texts are not in the
/// procedure files: they live in the `catalog` domain of the `.po` catalogs
/// (`i18n/po/catalog/<lang>.po`), under a key given by the text's place in the catalog —
/// `catalog.<procedure>.name`, `catalog.<procedure>.field.<id>`,
/// `catalog.<procedure>.field.<id>.help`, `catalog.<procedure>.field.<id>.choice.<value>`,
/// `catalog.<procedure>.paper.<id>[.help]`, `catalog.<procedure>.fee`,
/// `catalog.event.<id>.name`, `catalog.event.<id>.step.<procedure>` — and are filled in when
/// the catalog is loaded. Vietnamese is the reference; a language without its own text falls
/// back to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Localized {
    key: String,
    texts: BTreeMap<Lang, String>,
}

impl Localized {
    /// A text from its key and its texts (tests, tools; loading fills them from the catalogs).
    pub fn from_texts(key: &str, texts: impl IntoIterator<Item = (Lang, String)>) -> Localized {
        Localized {
            key: key.to_owned(),
            texts: texts.into_iter().collect(),
        }
    }

    /// The text of `key` in every language of `translations`, if Vietnamese has one.
    fn lookup(translations: &Translations, key: &str) -> Option<Localized> {
        if !translations.has(Lang::Vi, key) {
            return None;
        }
        Some(Localized::from_texts(
            key,
            Lang::ALL
                .into_iter()
                .filter(|lang| translations.has(*lang, key))
                .map(|lang| (lang, translations.get(lang, key, &[]))),
        ))
    }

    /// The message key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The text in `lang`, or in Vietnamese when `lang` has none.
    pub fn get(&self, lang: Lang) -> &str {
        self.texts
            .get(&lang)
            .or_else(|| self.texts.get(&Lang::Vi))
            .map_or("", String::as_str)
    }

    /// Does `lang` have a text of its own (no fallback)?
    pub fn has(&self, lang: Lang) -> bool {
        self.texts.get(&lang).is_some_and(|t| !t.trim().is_empty())
    }
}

/// A stable procedure code, e.g. `birth-registration`. Codes never change once published,
/// because dossiers and synced records refer to them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProcedureCode(pub String);

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ProcedureCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who may hand in a dossier for this procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitter {
    /// The person the procedure is about (or, for a child, a parent).
    #[serde(rename = "self")]
    Oneself,
    /// A relative (parent, spouse, child, sibling, grandparent).
    Relative,
    /// Someone holding a written authorisation.
    Authorised,
}

impl Submitter {
    /// Who hands the dossier in, from the form's `requester_relationship` value: a parent
    /// (`mother`, `father`) or nothing counts as the person themself, `authorised` as
    /// someone with a written authorisation, any other relationship as a relative.
    pub fn from_relationship(relationship: Option<&str>) -> Submitter {
        match relationship.map(str::trim) {
            None | Some("" | "mother" | "father") => Submitter::Oneself,
            Some("authorised") => Submitter::Authorised,
            Some(_) => Submitter::Relative,
        }
    }
}

/// What the procedure costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fee {
    Free,
    /// A fixed amount in VND, with an optional lower amount when submitted online.
    Fixed {
        amount_vnd: u64,
        #[serde(default)]
        online_amount_vnd: Option<u64>,
    },
    /// Charged per page (certified copies).
    PerPage {
        first_two_pages_vnd: u64,
        next_page_vnd: u64,
        max_vnd: u64,
    },
    /// Charged per document or signature certified.
    PerDocument {
        amount_vnd: u64,
    },
    /// Set by the provincial People's Council; the note says where to look.
    SetByProvince {
        /// Text `catalog.<procedure>.fee`.
        #[serde(skip)]
        note: Localized,
    },
}

/// The kind of value a form field holds; it decides the input widget and the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    /// A 12-digit Vietnamese personal ID number.
    IdNumber,
    /// A calendar date, stored as `YYYY-MM-DD`.
    Date,
    /// One value out of `choices`.
    Choice,
    /// A postal address (house, street or hamlet, commune, province).
    Address,
    /// A Vietnamese phone number.
    Phone,
    /// A whole number within `min`/`max`.
    Number,
    Email,
    /// `male` or `female`, as on the card.
    Sex,
    /// Yes or no, stored as `true`/`false`.
    Boolean,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    /// Text `catalog.<procedure>.field.<id>.choice.<value>`.
    #[serde(skip)]
    pub label: Localized,
}

/// One field of a procedure's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Stable identifier, `snake_case`, unique within the procedure.
    pub id: String,
    pub kind: FieldKind,
    /// Text `catalog.<procedure>.field.<id>`.
    #[serde(skip)]
    pub label: Localized,
    /// Text `catalog.<procedure>.field.<id>.help`, when the catalogs have one.
    #[serde(skip)]
    pub help: Option<Localized>,
    #[serde(default)]
    pub required: bool,
    /// Only for `choice` fields.
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub min_len: Option<u32>,
    #[serde(default)]
    pub max_len: Option<u32>,
    /// Only for `number` fields.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// Only for `date` fields: the date may not be after today.
    #[serde(default)]
    pub not_future: bool,
    /// Only for `date` fields: the date may not be before today.
    #[serde(default)]
    pub not_past: bool,
    /// Only for `date` fields: at least this many whole years before today.
    #[serde(default)]
    pub min_age_years: Option<u32>,
    /// Only for `date` fields: at most this many whole years before today.
    #[serde(default)]
    pub max_age_years: Option<u32>,
}

/// A paper the resident photographs or hands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperDef {
    pub id: String,
    /// Text `catalog.<procedure>.paper.<id>`.
    #[serde(skip)]
    pub label: Localized,
    /// Text `catalog.<procedure>.paper.<id>.help`, when the catalogs have one.
    #[serde(skip)]
    pub help: Option<Localized>,
    /// Fewest photos (0 = optional).
    pub min: u32,
    /// Most photos (e.g. pages of a document).
    pub max: u32,
    /// When set, the paper is needed only for these submitters
    /// (an authorisation letter only when someone else submits).
    #[serde(default)]
    pub only_for: Vec<Submitter>,
}

/// A field read from the chip ID card (DG13 and DG1). The names are the same as in the
/// `idcard` crate's personal data, so a pre-fill mapping can be checked without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardField {
    IdNumber,
    FullName,
    DateOfBirth,
    Sex,
    Nationality,
    Ethnicity,
    Religion,
    PlaceOfOrigin,
    PlaceOfResidence,
    IdentifyingMarks,
    IssueDate,
    ExpiryDate,
    FatherName,
    MotherName,
    SpouseName,
    OldIdNumber,
}

impl CardField {
    pub const ALL: [CardField; 16] = [
        CardField::IdNumber,
        CardField::FullName,
        CardField::DateOfBirth,
        CardField::Sex,
        CardField::Nationality,
        CardField::Ethnicity,
        CardField::Religion,
        CardField::PlaceOfOrigin,
        CardField::PlaceOfResidence,
        CardField::IdentifyingMarks,
        CardField::IssueDate,
        CardField::ExpiryDate,
        CardField::FatherName,
        CardField::MotherName,
        CardField::SpouseName,
        CardField::OldIdNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardField::IdNumber => "id_number",
            CardField::FullName => "full_name",
            CardField::DateOfBirth => "date_of_birth",
            CardField::Sex => "sex",
            CardField::Nationality => "nationality",
            CardField::Ethnicity => "ethnicity",
            CardField::Religion => "religion",
            CardField::PlaceOfOrigin => "place_of_origin",
            CardField::PlaceOfResidence => "place_of_residence",
            CardField::IdentifyingMarks => "identifying_marks",
            CardField::IssueDate => "issue_date",
            CardField::ExpiryDate => "expiry_date",
            CardField::FatherName => "father_name",
            CardField::MotherName => "mother_name",
            CardField::SpouseName => "spouse_name",
            CardField::OldIdNumber => "old_id_number",
        }
    }
}

impl FromStr for CardField {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CardField::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| CatalogError::UnknownCardField(s.to_owned()))
    }
}

/// "Fill form field `field` from card field `card`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prefill {
    pub card: CardField,
    pub field: String,
}

/// What kind of paper a procedure's result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// An extract from a register (birth, death).
    Extract,
    /// A certificate (marital status, marriage, household business, certification).
    Certificate,
    /// A decision of the commune's People's Committee (an allowance).
    Decision,
    /// A confirmation or notice (residence registered, poor household).
    Confirmation,
}

/// One line of a result document's body: the value of a form field under its own label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultLine {
    /// A field id of the procedure (checked when the catalog is loaded).
    pub field: String,
    /// Text `catalog.<procedure>.result.line.<field>`.
    #[serde(skip)]
    pub label: Localized,
}

/// The procedure's result document: what the officer issues and signs when a dossier is
/// approved (`xaso-documents` renders it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultTemplate {
    pub kind: ResultKind,
    /// Text `catalog.<procedure>.result.title`, e.g. "TRÍCH LỤC KHAI SINH".
    #[serde(skip)]
    pub title: Localized,
    /// The body, in order.
    pub lines: Vec<ResultLine>,
}

/// One administrative procedure handled at the commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub code: ProcedureCode,
    /// Text `catalog.<procedure>.name`.
    #[serde(skip)]
    pub name: Localized,
    /// Text `catalog.<procedure>.description`.
    #[serde(skip)]
    pub description: Localized,
    /// Area of government: `civil_status`, `residence`, `certification`, `social`, `business`.
    pub domain: String,
    /// Laws, decrees and circulars the procedure rests on.
    pub legal_basis: Vec<String>,
    pub fee: Fee,
    /// Processing time in working days; 0 means the same day.
    pub processing_days: u32,
    pub submitters: Vec<Submitter>,
    /// Life events (ids in `services/life_events/`) this procedure belongs to.
    #[serde(default)]
    pub life_events: Vec<String>,
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub papers: Vec<PaperDef>,
    #[serde(default)]
    pub prefill: Vec<Prefill>,
    /// The result document (section `[result]`).
    pub result: ResultTemplate,
}

impl Procedure {
    pub fn field(&self, id: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn paper(&self, id: &str) -> Option<&PaperDef> {
        self.papers.iter().find(|p| p.id == id)
    }

    /// The body of the result document for a dossier with `values`, in `lang`: each line of
    /// the `[result]` template as its label and the field's value shown the way a person
    /// reads it (a choice by its label, a date day first, sex and yes/no in words from the
    /// `messages` texts `value.sex.*`, `value.yes`, `value.no`). A field left empty is left out.
    pub fn result_lines(
        &self,
        values: &BTreeMap<String, String>,
        lang: Lang,
        translations: &Translations,
    ) -> Vec<(String, String)> {
        self.result
            .lines
            .iter()
            .filter_map(|line| {
                let raw = values.get(&line.field).map(|v| v.trim())?;
                if raw.is_empty() {
                    return None;
                }
                let kind = self.field(&line.field).map(|f| f.kind);
                let shown = match kind {
                    Some(FieldKind::Choice) => self
                        .field(&line.field)
                        .and_then(|f| f.choices.iter().find(|c| c.value == raw))
                        .map_or_else(|| raw.to_owned(), |c| c.label.get(lang).to_owned()),
                    Some(FieldKind::Date) => raw
                        .parse::<jiff::civil::Date>()
                        .map_or_else(|_| raw.to_owned(), xaso_i18n::format_date),
                    Some(FieldKind::Sex) if matches!(raw, "male" | "female") => {
                        translations.get(lang, &format!("value.sex.{raw}"), &[])
                    }
                    Some(FieldKind::Boolean) if matches!(raw, "true" | "false") => translations
                        .get(
                            lang,
                            if raw == "true" {
                                "value.yes"
                            } else {
                                "value.no"
                            },
                            &[],
                        ),
                    _ => raw.to_owned(),
                };
                Some((line.label.get(lang).to_owned(), shown))
            })
            .collect()
    }

    /// Papers needed when `submitter` hands the dossier in.
    pub fn papers_for(&self, submitter: Submitter) -> impl Iterator<Item = &PaperDef> {
        self.papers
            .iter()
            .filter(move |p| p.only_for.is_empty() || p.only_for.contains(&submitter))
    }
}

/// Everything that can be wrong with catalog data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: not valid catalog data: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: procedure code `{code}` is used more than once")]
    DuplicateProcedure { file: String, code: String },
    #[error("{file}: the file name must be the procedure code `{code}`")]
    FileNameMismatch { file: String, code: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("unknown chip-card field `{0}`")]
    UnknownCardField(String),
    #[error("{file}: life event `{event}` is used more than once")]
    DuplicateLifeEvent { file: String, event: String },
    /// A text the catalog needs is not in the Vietnamese `catalog` `.po` file.
    #[error("{file}: the text `{key}` is missing from i18n/po/catalog/vi.po")]
    MissingText { file: String, key: String },
    /// A text of the `catalog` domain that no procedure or life event uses (a typo in a key
    /// would otherwise hide a help text for good).
    #[error("the text `{key}` of i18n/po/catalog is used by no procedure or life event")]
    UnusedText { key: String },
    /// The bundled `.po` catalogs cannot be read.
    #[error("the catalog's texts cannot be read: {0}")]
    Texts(String),
}

/// Fills the texts of a parsed procedure or life event from the `.po` catalogs, recording
/// every key it uses.
struct TextFiller<'a> {
    translations: &'a Translations,
    file: &'a str,
    used: &'a mut BTreeSet<String>,
}

impl TextFiller<'_> {
    fn required(&mut self, key: String) -> Result<Localized, CatalogError> {
        self.optional(key.clone())?
            .ok_or_else(|| CatalogError::MissingText {
                file: self.file.to_owned(),
                key,
            })
    }

    fn optional(&mut self, key: String) -> Result<Option<Localized>, CatalogError> {
        let found = Localized::lookup(self.translations, &key);
        if found.is_some() {
            self.used.insert(key);
        }
        Ok(found)
    }

    fn procedure(&mut self, p: &mut Procedure) -> Result<(), CatalogError> {
        let base = format!("catalog.{}", p.code);
        p.name = self.required(format!("{base}.name"))?;
        p.description = self.required(format!("{base}.description"))?;
        if let Fee::SetByProvince { note } = &mut p.fee {
            *note = self.required(format!("{base}.fee"))?;
        }
        for f in &mut p.fields {
            let field = format!("{base}.field.{}", f.id);
            f.label = self.required(field.clone())?;
            f.help = self.optional(format!("{field}.help"))?;
            for c in &mut f.choices {
                c.label = self.required(format!("{field}.choice.{}", c.value))?;
            }
        }
        for paper in &mut p.papers {
            let key = format!("{base}.paper.{}", paper.id);
            paper.label = self.required(key.clone())?;
            paper.help = self.optional(format!("{key}.help"))?;
        }
        p.result.title = self.required(format!("{base}.result.title"))?;
        let fields: BTreeSet<String> = p.fields.iter().map(|f| f.id.clone()).collect();
        for line in &mut p.result.lines {
            // A line naming no field is reported by the check as such, not as a missing text.
            if fields.contains(&line.field) {
                line.label = self.required(format!("{base}.result.line.{}", line.field))?;
            }
        }
        Ok(())
    }

    fn life_event(&mut self, e: &mut LifeEvent) -> Result<(), CatalogError> {
        let base = format!("catalog.event.{}", e.id);
        e.name = self.required(format!("{base}.name"))?;
        e.description = self.required(format!("{base}.description"))?;
        for step in &mut e.steps {
            step.note = self.optional(format!("{base}.step.{}", step.procedure))?;
        }
        Ok(())
    }
}

/// The loaded, cross-checked catalog of procedures and life events.
#[derive(Debug, Clone)]
pub struct Catalog {
    procedures: BTreeMap<ProcedureCode, Procedure>,
    life_events: BTreeMap<String, LifeEvent>,
}

/// A catalog source file: its name (for messages) and its TOML text.
pub type Source<'a> = (&'a str, &'a str);

fn file_stem(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.strip_suffix(".toml").unwrap_or(base)
}

fn bundled_sources(dir: &'static Dir<'static>) -> Vec<Source<'static>> {
    let mut files: Vec<Source<'static>> = dir
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .filter_map(|f| Some((f.path().to_str()?, f.contents_utf8()?)))
        .collect();
    files.sort();
    files
}

impl Catalog {
    /// The catalog shipped with Xã Số (`services/catalog` and `services/life_events`), its
    /// texts from the bundled `.po` catalogs (`i18n/po/catalog`).
    pub fn bundled() -> Result<Catalog, CatalogError> {
        let translations =
            Translations::bundled().map_err(|e| CatalogError::Texts(e.to_string()))?;
        Catalog::bundled_with(&translations)
    }

    /// [`Catalog::bundled`] with the texts of catalogs already loaded (an app that shows
    /// other texts too reads the `.po` catalogs once).
    pub fn bundled_with(translations: &Translations) -> Result<Catalog, CatalogError> {
        Catalog::from_sources(
            &bundled_sources(&BUNDLED_PROCEDURES),
            &bundled_sources(&BUNDLED_LIFE_EVENTS),
            translations,
        )
    }

    /// Builds a catalog from procedure files and life-event files, with their texts from
    /// the `catalog` domain of `translations`, checking every cross-reference and that every
    /// text of that domain is used. Fails on the first problem found.
    pub fn from_sources(
        procedures: &[Source<'_>],
        life_events: &[Source<'_>],
        translations: &Translations,
    ) -> Result<Catalog, CatalogError> {
        let mut used = BTreeSet::new();
        let mut by_code = BTreeMap::new();
        for (file, text) in procedures {
            let mut procedure: Procedure =
                toml::from_str(text).map_err(|e| CatalogError::Parse {
                    file: (*file).to_owned(),
                    message: e.to_string(),
                })?;
            if file_stem(file) != procedure.code.as_str() {
                return Err(CatalogError::FileNameMismatch {
                    file: (*file).to_owned(),
                    code: procedure.code.0.clone(),
                });
            }
            TextFiller {
                translations,
                file,
                used: &mut used,
            }
            .procedure(&mut procedure)?;
            check_procedure(file, &procedure)?;
            if by_code.contains_key(&procedure.code) {
                return Err(CatalogError::DuplicateProcedure {
                    file: (*file).to_owned(),
                    code: procedure.code.0.clone(),
                });
            }
            by_code.insert(procedure.code.clone(), procedure);
        }
        let mut events = BTreeMap::new();
        for (file, text) in life_events {
            let mut event: LifeEvent = toml::from_str(text).map_err(|e| CatalogError::Parse {
                file: (*file).to_owned(),
                message: e.to_string(),
            })?;
            if file_stem(file) != event.id {
                return Err(CatalogError::FileNameMismatch {
                    file: (*file).to_owned(),
                    code: event.id.clone(),
                });
            }
            TextFiller {
                translations,
                file,
                used: &mut used,
            }
            .life_event(&mut event)?;
            event.check(file, &by_code)?;
            if events.contains_key(&event.id) {
                return Err(CatalogError::DuplicateLifeEvent {
                    file: (*file).to_owned(),
                    event: event.id.clone(),
                });
            }
            events.insert(event.id.clone(), event);
        }
        // A procedure's life events and the events' step lists must agree both ways.
        for procedure in by_code.values() {
            for event_id in &procedure.life_events {
                let Some(event) = events.get(event_id) else {
                    return Err(CatalogError::Invalid {
                        file: format!("{}.toml", procedure.code),
                        message: format!("names unknown life event `{event_id}`"),
                    });
                };
                if !event.steps.iter().any(|s| s.procedure == procedure.code) {
                    return Err(CatalogError::Invalid {
                        file: format!("{}.toml", procedure.code),
                        message: format!(
                            "lists life event `{event_id}`, whose steps do not include it"
                        ),
                    });
                }
            }
        }
        for event in events.values() {
            for step in &event.steps {
                let listed = by_code
                    .get(&step.procedure)
                    .is_some_and(|p| p.life_events.contains(&event.id));
                if !listed {
                    return Err(CatalogError::Invalid {
                        file: format!("{}.toml", event.id),
                        message: format!(
                            "step `{}` does not list this life event in its `life_events`",
                            step.procedure
                        ),
                    });
                }
            }
        }
        if let Some(key) = translations
            .domain_keys("catalog")
            .find(|key| !used.contains(*key))
        {
            return Err(CatalogError::UnusedText {
                key: key.to_owned(),
            });
        }
        Ok(Catalog {
            procedures: by_code,
            life_events: events,
        })
    }

    pub fn procedure(&self, code: &str) -> Option<&Procedure> {
        self.procedures.get(&ProcedureCode(code.to_owned()))
    }

    pub fn procedures(&self) -> impl Iterator<Item = &Procedure> {
        self.procedures.values()
    }

    pub fn life_event(&self, id: &str) -> Option<&LifeEvent> {
        self.life_events.get(id)
    }

    pub fn life_events(&self) -> impl Iterator<Item = &LifeEvent> {
        self.life_events.values()
    }

    /// Procedures whose name or description matches every word of `query`, ignoring case and
    /// Vietnamese diacritics ("khai sinh" finds "Đăng ký khai sinh"), best matches first.
    pub fn search(&self, query: &str) -> Vec<&Procedure> {
        let words: Vec<String> = xaso_i18n::fold(query)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            return self.procedures().collect();
        }
        let mut hits: Vec<(u32, &Procedure)> = self
            .procedures()
            .filter_map(|p| {
                let folded = |text: &Localized| {
                    Lang::ALL
                        .map(|lang| xaso_i18n::fold(text.get(lang)))
                        .join(" ")
                };
                let name = folded(&p.name);
                let rest = folded(&p.description);
                let mut score = 0;
                for word in &words {
                    score += match (word_match(&name, word), word_match(&rest, word)) {
                        (Some(WordMatch::Whole), _) => 4,
                        (Some(WordMatch::Prefix), _) => 3,
                        (None, Some(WordMatch::Whole)) => 2,
                        (None, Some(WordMatch::Prefix)) => 1,
                        (None, None) => return None,
                    };
                }
                Some((score, p))
            })
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.code.cmp(&b.1.code)));
        hits.into_iter().map(|(_, p)| p).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordMatch {
    Whole,
    Prefix,
}

/// How well `word` matches some word of the folded `text`: a whole word beats the start of
/// a word ("tu" is all of "tu" in "khai tu" but only the start of "tuoi").
fn word_match(text: &str, word: &str) -> Option<WordMatch> {
    let mut best = None;
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w == word {
            return Some(WordMatch::Whole);
        }
        if w.starts_with(word) {
            best = Some(WordMatch::Prefix);
        }
    }
    best
}

fn invalid(file: &str, message: String) -> CatalogError {
    CatalogError::Invalid {
        file: file.to_owned(),
        message,
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

fn check_localized(file: &str, what: &str, text: &Localized) -> Result<(), CatalogError> {
    if !Lang::ALL.into_iter().all(|lang| text.has(lang)) {
        return Err(invalid(
            file,
            format!("{what} needs both Vietnamese and English text"),
        ));
    }
    Ok(())
}

fn check_procedure(file: &str, p: &Procedure) -> Result<(), CatalogError> {
    let code_ok = !p.code.0.is_empty()
        && p.code
            .0
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !code_ok {
        return Err(invalid(
            file,
            format!("code `{}` must be lowercase words joined by `-`", p.code),
        ));
    }
    check_localized(file, "name", &p.name)?;
    check_localized(file, "description", &p.description)?;
    if p.legal_basis.is_empty() {
        return Err(invalid(
            file,
            "legal_basis must name at least one legal document".into(),
        ));
    }
    if p.submitters.is_empty() {
        return Err(invalid(file, "submitters must not be empty".into()));
    }
    if let Fee::SetByProvince { note } = &p.fee {
        check_localized(file, "fee note", note)?;
    }
    if p.fields.is_empty() {
        return Err(invalid(
            file,
            "a procedure needs at least one form field".into(),
        ));
    }
    let mut ids = BTreeSet::new();
    for f in &p.fields {
        if !is_identifier(&f.id) {
            return Err(invalid(
                file,
                format!("field id `{}` must be snake_case", f.id),
            ));
        }
        if !ids.insert(f.id.as_str()) {
            return Err(invalid(file, format!("field `{}` is defined twice", f.id)));
        }
        check_localized(file, &format!("field `{}` label", f.id), &f.label)?;
        if let Some(help) = &f.help {
            check_localized(file, &format!("field `{}` help", f.id), help)?;
        }
        match f.kind {
            FieldKind::Choice => {
                if f.choices.len() < 2 {
                    return Err(invalid(
                        file,
                        format!("choice field `{}` needs at least two choices", f.id),
                    ));
                }
                let mut values = BTreeSet::new();
                for c in &f.choices {
                    check_localized(
                        file,
                        &format!("choice `{}` of `{}`", c.value, f.id),
                        &c.label,
                    )?;
                    if !values.insert(c.value.as_str()) {
                        return Err(invalid(
                            file,
                            format!("choice `{}` of `{}` is listed twice", c.value, f.id),
                        ));
                    }
                }
            }
            _ if !f.choices.is_empty() => {
                return Err(invalid(
                    file,
                    format!("field `{}` has choices but is not a choice field", f.id),
                ));
            }
            _ => {}
        }
        if (f.min.is_some() || f.max.is_some()) && f.kind != FieldKind::Number {
            return Err(invalid(
                file,
                format!("min/max apply only to number fields (`{}`)", f.id),
            ));
        }
        let date_rules =
            f.not_future || f.not_past || f.min_age_years.is_some() || f.max_age_years.is_some();
        if date_rules && f.kind != FieldKind::Date {
            return Err(invalid(
                file,
                format!("date rules apply only to date fields (`{}`)", f.id),
            ));
        }
        if let (Some(lo), Some(hi)) = (f.min_len, f.max_len)
            && lo > hi
        {
            return Err(invalid(
                file,
                format!("field `{}` has min_len > max_len", f.id),
            ));
        }
        if let (Some(lo), Some(hi)) = (f.min, f.max)
            && lo > hi
        {
            return Err(invalid(file, format!("field `{}` has min > max", f.id)));
        }
    }
    let mut paper_ids = BTreeSet::new();
    for paper in &p.papers {
        if !is_identifier(&paper.id) || !paper_ids.insert(paper.id.as_str()) {
            return Err(invalid(
                file,
                format!("paper id `{}` must be snake_case and unique", paper.id),
            ));
        }
        check_localized(file, &format!("paper `{}` label", paper.id), &paper.label)?;
        if paper.max == 0 || paper.min > paper.max {
            return Err(invalid(
                file,
                format!("paper `{}` needs 0 <= min <= max and max >= 1", paper.id),
            ));
        }
    }
    check_localized(file, "result title", &p.result.title)?;
    if p.result.lines.is_empty() {
        return Err(invalid(
            file,
            "the result document needs at least one line".into(),
        ));
    }
    let mut shown = BTreeSet::new();
    for line in &p.result.lines {
        if p.field(&line.field).is_none() {
            return Err(invalid(
                file,
                format!("result line names unknown field `{}`", line.field),
            ));
        }
        if !shown.insert(line.field.as_str()) {
            return Err(invalid(
                file,
                format!("result line `{}` is listed twice", line.field),
            ));
        }
        check_localized(
            file,
            &format!("result line `{}` label", line.field),
            &line.label,
        )?;
    }
    let mut prefilled = BTreeSet::new();
    for m in &p.prefill {
        let Some(field) = p.field(&m.field) else {
            return Err(invalid(
                file,
                format!("pre-fill targets unknown field `{}`", m.field),
            ));
        };
        if !prefilled.insert(m.field.as_str()) {
            return Err(invalid(
                file,
                format!("field `{}` is pre-filled twice", m.field),
            ));
        }
        if !card_field_fits(m.card, field.kind) {
            return Err(invalid(
                file,
                format!(
                    "card field `{}` cannot fill {:?} field `{}`",
                    m.card.as_str(),
                    field.kind,
                    m.field
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a card field's value can go into a form field of this kind.
pub fn card_field_fits(card: CardField, kind: FieldKind) -> bool {
    match card {
        CardField::IdNumber => kind == FieldKind::IdNumber,
        CardField::OldIdNumber => kind == FieldKind::Text,
        CardField::DateOfBirth | CardField::IssueDate | CardField::ExpiryDate => {
            kind == FieldKind::Date
        }
        CardField::Sex => kind == FieldKind::Sex,
        CardField::PlaceOfOrigin | CardField::PlaceOfResidence => {
            matches!(kind, FieldKind::Address | FieldKind::Text)
        }
        CardField::FullName
        | CardField::Nationality
        | CardField::Ethnicity
        | CardField::Religion
        | CardField::IdentifyingMarks
        | CardField::FatherName
        | CardField::MotherName
        | CardField::SpouseName => kind == FieldKind::Text,
    }
}
