//! Message catalogs in gettext `.po` format, keyed by stable message keys.
//!
//! The catalogs are grouped in *domains*, one directory each: `i18n/po/<domain>/<lang>.po`.
//! `messages` holds what the domain crates produce (validation, lifecycle, receipt);
//! `kiosk` every string of the kiosk's screens; `catalog` the names, labels and help texts of
//! the procedures and life events of `services/catalog` (keyed by their place there). An entry's `msgid` is the key (for example
//! `field.id_number.checksum` or `kiosk.home.title`) and its `msgstr` the text. Keys are
//! unique across domains, so a lookup needs no domain. Texts looked up with
//! [`Translations::get`] may contain `{name}` placeholders filled from the arguments; the
//! kiosk's screen texts keep Slint's `{}`/`{0}` placeholders, filled by Slint.
//!
//! Vietnamese is the reference: a key missing from another language falls back to
//! Vietnamese, and a key missing everywhere is shown as the key itself, so a gap is visible
//! but never a crash.
//!
//! Adding a domain is one line in [`BUNDLED`].

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
    #[error("translation file {domain}/{lang}.po is not valid .po: {message}")]
    Parse {
        domain: &'static str,
        lang: &'static str,
        message: String,
    },
    #[error("translation `{key}` in {domain}/{lang}.po is empty")]
    Empty {
        domain: &'static str,
        lang: &'static str,
        key: String,
    },
    #[error("translation `{key}` is in both the `{first}` and the `{second}` domain")]
    DuplicateKey {
        key: String,
        first: &'static str,
        second: &'static str,
    },
}

/// One domain's catalogs: its name and the `.po` text of each language.
#[derive(Debug, Clone, Copy)]
pub struct Domain {
    pub name: &'static str,
    pub catalogs: [(Lang, &'static str); 2],
}

/// A bundled domain: `i18n/po/<name>/vi.po` and `en.po`, embedded at build time.
macro_rules! bundled_domain {
    ($name:literal) => {
        Domain {
            name: $name,
            catalogs: [
                (Lang::Vi, include_str!(concat!("../po/", $name, "/vi.po"))),
                (Lang::En, include_str!(concat!("../po/", $name, "/en.po"))),
            ],
        }
    };
}

/// The domains shipped in `i18n/po/`.
pub const BUNDLED: &[Domain] = &[
    bundled_domain!("messages"),
    bundled_domain!("kiosk"),
    bundled_domain!("catalog"),
];

/// One message: its text and the domain it belongs to.
#[derive(Debug, Clone)]
struct Message {
    domain: &'static str,
    text: String,
}

/// All message catalogs, loaded once.
#[derive(Debug, Clone)]
pub struct Translations {
    by_lang: BTreeMap<Lang, BTreeMap<String, Message>>,
}

impl Translations {
    /// Every domain shipped in `i18n/po/`, in both languages.
    pub fn bundled() -> Result<Translations, TranslationError> {
        Translations::from_domains(BUNDLED)
    }

    /// Catalogs from `.po` texts, in one domain (`messages`).
    pub fn from_po(sources: &[(Lang, &str)]) -> Result<Translations, TranslationError> {
        let mut t = Translations {
            by_lang: BTreeMap::new(),
        };
        for (lang, text) in sources {
            t.add("messages", *lang, text)?;
        }
        Ok(t)
    }

    /// Catalogs of several domains. A key may appear in one domain only.
    pub fn from_domains(domains: &[Domain]) -> Result<Translations, TranslationError> {
        let mut t = Translations {
            by_lang: BTreeMap::new(),
        };
        for domain in domains {
            for (lang, text) in domain.catalogs {
                t.add(domain.name, lang, text)?;
            }
        }
        Ok(t)
    }

    fn add(
        &mut self,
        domain: &'static str,
        lang: Lang,
        text: &str,
    ) -> Result<(), TranslationError> {
        let catalog = polib::po_file::parse_from_reader(text.as_bytes()).map_err(|e| {
            TranslationError::Parse {
                domain,
                lang: lang.code(),
                message: e.to_string(),
            }
        })?;
        let messages = self.by_lang.entry(lang).or_default();
        for message in catalog.messages() {
            let key = message.msgid();
            if key.is_empty() {
                continue;
            }
            let text = message.msgstr().unwrap_or("");
            if text.trim().is_empty() {
                return Err(TranslationError::Empty {
                    domain,
                    lang: lang.code(),
                    key: key.to_owned(),
                });
            }
            if let Some(existing) = messages.get(key)
                && existing.domain != domain
            {
                return Err(TranslationError::DuplicateKey {
                    key: key.to_owned(),
                    first: existing.domain,
                    second: domain,
                });
            }
            messages.insert(
                key.to_owned(),
                Message {
                    domain,
                    text: text.to_owned(),
                },
            );
        }
        Ok(())
    }

    /// The keys of one domain in the reference (Vietnamese) catalog.
    pub fn domain_keys<'a>(&'a self, domain: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.by_lang
            .get(&Lang::Vi)
            .into_iter()
            .flat_map(move |m| m.iter().filter(move |(_, v)| v.domain == domain))
            .map(|(k, _)| k.as_str())
    }

    /// The keys `lang` has its own text for (no fallback).
    pub fn keys_in(&self, lang: Lang) -> impl Iterator<Item = &str> {
        self.by_lang
            .get(&lang)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    /// The domain a key belongs to.
    pub fn domain_of(&self, key: &str) -> Option<&'static str> {
        self.by_lang
            .values()
            .find_map(|m| m.get(key))
            .map(|m| m.domain)
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
        let mut text = template.text.clone();
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
        // Loading fails on a key found in two domains (see below), so this also proves the
        // bundled keys are unique across domains.
        let t = Translations::bundled().unwrap();
        let keys: Vec<&str> = t.keys().collect();
        assert!(keys.len() >= 20, "only {} keys", keys.len());
        for key in keys {
            assert!(t.has(Lang::En, key), "`{key}` has no English text");
        }
        // and nothing in English that Vietnamese lacks
        for key in t.keys_in(Lang::En) {
            assert!(t.has(Lang::Vi, key), "`{key}` exists only in English");
        }
        // every bundled domain contributes, each key in its own domain only
        for domain in BUNDLED {
            assert!(
                t.domain_keys(domain.name).count() > 0,
                "domain `{}` is empty",
                domain.name
            );
        }
        let total: usize = BUNDLED.iter().map(|d| t.domain_keys(d.name).count()).sum();
        assert_eq!(total, t.keys().count());
        assert_eq!(t.domain_of("field.required"), Some("messages"));
    }

    #[test]
    fn bundled_keys_are_unique_across_domains() {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for domain in BUNDLED {
            for (lang, text) in domain.catalogs {
                let catalog = polib::po_file::parse_from_reader(text.as_bytes()).unwrap();
                for m in catalog.messages() {
                    if m.msgid().is_empty() {
                        continue;
                    }
                    if let Some(other) = seen.insert(m.msgid().to_owned(), domain.name) {
                        assert_eq!(
                            other,
                            domain.name,
                            "`{}` ({}) is in `{other}` and `{}`",
                            m.msgid(),
                            lang.code(),
                            domain.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_key_in_two_domains_is_refused() {
        let a = po("msgid \"x\"\nmsgstr \"một\"\n");
        let leaked: &'static str = Box::leak(a.into_boxed_str());
        let domains = [
            Domain {
                name: "one",
                catalogs: [(Lang::Vi, leaked), (Lang::En, leaked)],
            },
            Domain {
                name: "two",
                catalogs: [(Lang::Vi, leaked), (Lang::En, leaked)],
            },
        ];
        let err = Translations::from_domains(&domains).unwrap_err();
        assert!(
            matches!(&err, TranslationError::DuplicateKey { key, first: "one", second: "two" } if key == "x"),
            "{err:?}"
        );
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
