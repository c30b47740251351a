//! Text in the kiosk's two languages, as lesson files write it: `{ vi = "…", en = "…" }`.

use serde::{Deserialize, Serialize};
use xaso_i18n::Lang;

/// A text in Vietnamese (the reference) and English.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub vi: String,
    pub en: String,
}

impl Text {
    /// The text in `lang`; Vietnamese when the English is empty.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En if !self.en.trim().is_empty() => &self.en,
            _ => &self.vi,
        }
    }

    /// Are both languages written?
    pub fn is_complete(&self) -> bool {
        !self.vi.trim().is_empty() && !self.en.trim().is_empty()
    }
}
