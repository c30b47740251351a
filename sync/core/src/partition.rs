//! Partitions: the unit of access control and sync.

use crate::Error;

/// Longest partition name.
pub const MAX_PARTITION_LEN: usize = 128;
/// Longest refinement segment.
pub const MAX_SEGMENT_LEN: usize = 64;
/// The segment of a commune's public partition (`79001/public`).
pub const PUBLIC_SEGMENT: &str = "public";
/// The segment of a commune's learning partition (see [`Partition::learning`]).
pub const LEARNING_SEGMENT: &str = "learning";

/// A partition of the data: a commune code, optionally refined with
/// `/`-separated segments (`79001`, `79001/kiosk/dev-12`). Access control and
/// sync work per partition.
///
/// Grammar (checked by [`Partition::new`], so every `Partition` value obeys it):
///
/// ```text
/// partition  = commune *( "/" segment )        ; at most 128 characters
/// commune    = 5DIGIT                          ; the official commune code
/// segment    = ( lower / DIGIT ) *63( lower / DIGIT / "-" / "_" )
/// ```
///
/// A name can therefore never contain `.`, `..`, `%`, upper case, spaces or
/// empty segments: it is safe as a path segment and canonical (one spelling
/// per partition). Put into a URL, each segment is still percent-escaped by
/// the client, so the rule on the wire does not depend on this grammar.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Partition(String);

fn is_commune(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_segment(s: &str) -> bool {
    let mut bytes = s.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    s.len() <= MAX_SEGMENT_LEN
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Partition {
    /// Validate a partition name against the grammar above.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        let mut parts = name.split('/');
        let valid = name.len() <= MAX_PARTITION_LEN
            && parts.next().is_some_and(is_commune)
            && parts.all(is_segment);
        if valid {
            Ok(Partition(name))
        } else {
            Err(Error::InvalidPartition(name.chars().take(160).collect()))
        }
    }

    /// The partition where a kiosk (or helper tablet) keeps what it submitted.
    pub fn submissions(commune: &str, device_id: &str) -> Result<Self, Error> {
        Partition::new(format!("{commune}/kiosk/{device_id}"))
    }

    /// The commune's public partition `<commune>/public`: every device of the commune
    /// reads it, only officers, provincial devices and the hub write it (see
    /// [`crate::access`]).
    pub fn public(commune: &str) -> Result<Self, Error> {
        Partition::new(format!("{commune}/{PUBLIC_SEGMENT}"))
    }

    /// The commune's learning partition `<commune>/learning`: digital-skills progress and
    /// classes, which a learner continues on any kiosk of the commune, so every kiosk and
    /// helper tablet of the commune reads and writes it (see [`crate::access`]).
    pub fn learning(commune: &str) -> Result<Self, Error> {
        Partition::new(format!("{commune}/{LEARNING_SEGMENT}"))
    }

    /// Is this a commune's learning partition?
    pub fn is_learning(&self) -> bool {
        let mut segments = self.segments();
        segments.next();
        segments.next() == Some(LEARNING_SEGMENT) && segments.next().is_none()
    }

    /// Is this a commune's public partition?
    pub fn is_public(&self) -> bool {
        let mut segments = self.segments();
        segments.next();
        segments.next() == Some(PUBLIC_SEGMENT) && segments.next().is_none()
    }

    /// The commune code (first segment).
    pub fn commune(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// The segments of the name, commune first.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// Is this partition `prefix` itself or a refinement of it (`prefix/…`)?
    pub fn is_under(&self, prefix: &str) -> bool {
        self.0
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Partition {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Partition::new(value)
    }
}

impl From<Partition> for String {
    fn from(value: Partition) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_grammar_accepts_communes_and_refinements() {
        for ok in [
            "79001",
            "09904",
            "79001/kiosk/dev-1",
            "79001/kiosk/dev-0a1b2c3d4e5f6071",
            "79001/thue",
            "79001/a_b/9",
        ] {
            assert!(Partition::new(ok).is_ok(), "{ok} refused");
        }
    }

    #[test]
    fn the_grammar_refuses_traversal_escapes_and_non_canonical_names() {
        for bad in [
            "",
            "7900",
            "790011",
            "7900a",
            "79001/../x",
            "79001/./x",
            "79001/..",
            "79001/.hidden",
            "79001//x",
            "79001/",
            "/79001",
            "79 001",
            "79001/Kiosk",
            "79001/kiosk/dev%2F1",
            "79001/kiosk/dev 1",
            "79001/kiosk/-dev",
            "79001\\x",
            "79001/x?y",
            "79001/đ",
            "\n",
        ] {
            assert!(
                matches!(Partition::new(bad), Err(Error::InvalidPartition(_))),
                "{bad:?} accepted"
            );
        }
        let long = format!("79001/{}", "a".repeat(MAX_SEGMENT_LEN + 1));
        assert!(Partition::new(long).is_err());
        let many = format!("79001{}", "/abcdefghij".repeat(12));
        assert!(many.len() > MAX_PARTITION_LEN);
        assert!(Partition::new(many).is_err());
    }

    #[test]
    fn deserializing_checks_the_grammar_too() {
        let ok: Result<Partition, _> = serde_json::from_str("\"79001/kiosk/k1\"");
        assert!(ok.is_ok());
        let bad: Result<Partition, _> = serde_json::from_str("\"79001/../x\"");
        assert!(bad.is_err());
    }

    #[test]
    fn prefixes_and_communes() {
        let p = Partition::new("79001/kiosk/k1").unwrap();
        assert_eq!(p.commune(), "79001");
        assert!(p.is_under("79001"));
        assert!(p.is_under("79001/kiosk"));
        assert!(!p.is_under("79001/kio"));
        assert!(!p.is_under("7900"));
        assert_eq!(p.segments().collect::<Vec<_>>(), ["79001", "kiosk", "k1"]);
    }
}
