//! Message catalogs in gettext `.po` format, keyed by stable message keys.
//!
//! Each language has `i18n/po/<lang>.po`; an entry's `msgid` is the key (for example
//! `field.id_number.checksum`) and its `msgstr` the text, which may contain `{name}`
//! placeholders filled from the arguments. Vietnamese is the reference: a key missing from
//! another language falls back to Vietnamese, and a key missing everywhere is shown as the
//! key itself, so a gap is visible but never a crash.

use std::collections::BTreeMap;

/// A language the kiosk speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// `"vi"`, `"vi-VN"`, `"en"`, `"en_US"`…; anything else is `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    #[error("translation file for `{lang}` is not valid .po: {message}")]
    Parse { lang: &'static str, message: String },
    #[error("translation `{key}` in `{lang}` is empty")]
    Empty { lang: &'static str, key: String },
}

const BUNDLED: [(Lang, &str); 2] = [
    (Lang::Vi, include_str!("../po/vi.po")),
    (Lang::En, include_str!("../po/en.po")),
];

/// All message catalogs, loaded once.
#[derive(Debug, Clone)]
pub struct Translations {
    by_lang: BTreeMap<Lang, BTreeMap<String, String>>,
}

impl Translations {
    /// The catalogs shipped in `i18n/po/`.
    pub fn bundled() -> Result<Translations, TranslationError> {
        Translations::from_po(&BUNDLED)
    }

    /// Catalogs from `.po` texts.
    pub fn from_po(sources: &[(Lang, &str)]) -> Result<Translations, TranslationError> {
        let mut by_lang = BTreeMap::new();
        for (lang, text) in sources {
            let catalog = polib::po_file::parse_from_reader(text.as_bytes()).map_err(|e| {
                TranslationError::Parse {
                    lang: lang.code(),
                    message: e.to_string(),
                }
            })?;
            let mut messages = BTreeMap::new();
            for message in catalog.messages() {
                let key = message.msgid();
                if key.is_empty() {
                    continue;
                }
                let text = message.msgstr().unwrap_or("");
                if text.trim().is_empty() {
                    return Err(TranslationError::Empty {
                        lang: lang.code(),
                        key: key.to_owned(),
                    });
                }
                messages.insert(key.to_owned(), text.to_owned());
            }
            by_lang.insert(*lang, messages);
        }
        Ok(Translations { by_lang })
    }

    /// Every key of the reference (Vietnamese) catalog.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.by_lang
            .get(&Lang::Vi)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    /// Whether `lang` has its own text for `key` (no fallback).
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.by_lang.get(&lang).is_some_and(|m| m.contains_key(key))
    }

    /// The text for `key` in `lang`, with `{name}` placeholders replaced from `args`.
    pub fn get(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        let template = self
            .by_lang
            .get(&lang)
            .and_then(|m| m.get(key))
            .or_else(|| self.by_lang.get(&Lang::Vi).and_then(|m| m.get(key)));
        let Some(template) = template else {
            return key.to_owned();
        };
        let mut text = template.clone();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n";

    fn po(body: &str) -> String {
        format!("{HEADER}{body}")
    }

    #[test]
    fn bundled_catalogs_load_and_english_covers_vietnamese() {
        let t = Translations::bundled().unwrap();
        let keys: Vec<&str> = t.keys().collect();
        assert!(keys.len() >= 20, "only {} keys", keys.len());
        for key in keys {
            assert!(t.has(Lang::En, key), "`{key}` has no English text");
        }
        // and nothing in English that Vietnamese lacks
        for key in t.by_lang[&Lang::En].keys() {
            assert!(t.has(Lang::Vi, key), "`{key}` exists only in English");
        }
    }

    #[test]
    fn fills_placeholders_and_falls_back() {
        let vi = po(
            "msgid \"a\"\nmsgstr \"Tối đa {max} ký tự\"\n\nmsgid \"b\"\nmsgstr \"chỉ tiếng Việt\"\n",
        );
        let en = po("msgid \"a\"\nmsgstr \"At most {max} characters\"\n");
        let t = Translations::from_po(&[(Lang::Vi, &vi), (Lang::En, &en)]).unwrap();
        assert_eq!(t.get(Lang::Vi, "a", &[("max", "5")]), "Tối đa 5 ký tự");
        assert_eq!(
            t.get(Lang::En, "a", &[("max", "5")]),
            "At most 5 characters"
        );
        assert_eq!(t.get(Lang::En, "b", &[]), "chỉ tiếng Việt");
        assert_eq!(t.get(Lang::En, "missing.key", &[]), "missing.key");
    }

    #[test]
    fn empty_translation_is_an_error() {
        let err =
            Translations::from_po(&[(Lang::Vi, &po("msgid \"a\"\nmsgstr \"\"\n"))]).unwrap_err();
        assert!(matches!(err, TranslationError::Empty { .. }));
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::from_tag("vi-VN"), Some(Lang::Vi));
        assert_eq!(Lang::from_tag("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
    }
}
