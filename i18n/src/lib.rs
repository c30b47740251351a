//! Vietnamese-first text for Xã Số: translation catalogs, number and date formatting, and
//! accent-insensitive folding for search.
//!
//! * [`fold`] turns "Đăng Ký Khai Sinh" into "dang ky khai sinh", so a resident who types
//!   without diacritics (or on a keyboard without Telex) still finds what they look for.
//! * [`Translations`] holds the `.po` catalogs in `i18n/po/<domain>/<lang>.po` (embedded at
//!   build time): `messages` for the domain crates, `kiosk` for the kiosk's screens.
//!   Messages are looked up by key (`field.required`, `kiosk.home.title`…), unique across
//!   domains; Vietnamese is the reference language and every key must exist in it.
//! * [`format_vnd`] and [`format_date`] write amounts and dates the way Vietnamese forms do.

mod fold;
mod format;
mod translations;

pub use fold::{fold, fold_char};
pub use format::{format_date, format_vnd};
pub use translations::{BUNDLED, Domain, Lang, TranslationError, Translations};
