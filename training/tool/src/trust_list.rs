//! `trust-list`: the province's certificate keys, each with the days it may sign, as the
//! TOML `xaso_training::certificate::TrustList` reads — what an officer's tablet (and
//! `verify-certificate`) verifies learners' certificates with.
//!
//! A key is given as `KID:PROVINCE:PUBLICHEX:VALID_FROM[:VALID_UNTIL]`. Keys rotate with
//! overlap: list the old key with its last day and the new one from its first day.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use xaso_training::certificate::{IssuerKey, TrustList};

use crate::{Outcome, ids, output};

/// One `KID:PROVINCE:PUBLICHEX:VALID_FROM[:VALID_UNTIL]`.
fn parse_key(spec: &str) -> Result<IssuerKey> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (kid, province, public, from, until) = match parts.as_slice() {
        [kid, province, public, from] => (*kid, *province, *public, *from, None),
        [kid, province, public, from, until] => (*kid, *province, *public, *from, Some(*until)),
        _ => bail!("`{spec}`: write KID:PROVINCE:PUBLICHEX:VALID_FROM[:VALID_UNTIL]"),
    };
    ids::check_key_id(kid)?;
    ids::check_province(province)?;
    let bytes: [u8; 32] = hex::decode(public)
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("key `{kid}`: the public key is not 64 hex digits"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .ok()
        .with_context(|| format!("key `{kid}`: not an ed25519 public key"))?;
    let day = |text: &str, what: &str| -> Result<Date> {
        text.parse()
            .with_context(|| format!("key `{kid}`: {what} `{text}` is not a date (YYYY-MM-DD)"))
    };
    let valid_from = day(from, "the first day")?;
    let valid_until = until.map(|u| day(u, "the last day")).transpose()?;
    if let Some(until) = valid_until
        && until < valid_from
    {
        bail!("key `{kid}`: its last day {until} is before its first day {valid_from}");
    }
    Ok(IssuerKey {
        kid: kid.to_owned(),
        province: province.to_owned(),
        public_key: hex::encode(bytes),
        valid_from,
        valid_until,
    })
}

/// The trust list of `specs`, published on `issued`.
fn build(issued: Date, specs: &[String]) -> Result<TrustList> {
    let keys = specs
        .iter()
        .map(|s| parse_key(s))
        .collect::<Result<Vec<_>>>()?;
    let mut seen = BTreeSet::new();
    for key in &keys {
        if !seen.insert(key.kid.as_str()) {
            bail!("key `{}` is given twice", key.kid);
        }
    }
    Ok(TrustList { issued, keys })
}

/// The file's text: a comment, then the list; read back before it is written.
fn to_text(list: &TrustList) -> Result<String> {
    let body = toml::to_string(list).context("cannot write the trust list as TOML")?;
    let text = format!(
        "# Xã Số certificate trust list: the province's keys that sign learners' certificates.\n\
         # Written by `xaso-lessons trust-list`; give it to officers' tablets.\n\n{body}"
    );
    let back = TrustList::from_toml(&text).context("the trust list does not read back")?;
    if &back != list {
        bail!("the trust list does not read back as written");
    }
    Ok(text)
}

pub fn write(out: &Path, issued: Date, specs: &[String]) -> Result<Outcome> {
    let list = build(issued, specs)?;
    output::write_public(out, to_text(&list)?.as_bytes())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "issued\t{}", list.issued)?;
    for key in &list.keys {
        let until = key
            .valid_until
            .map_or_else(|| ", still in use".to_owned(), |d| format!(" to {d}"));
        writeln!(
            stdout,
            "key\t{} (province {}): signs from {}{until}",
            key.kid, key.province, key.valid_from
        )?;
    }
    writeln!(stdout, "written\t{}", out.display())?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn keys_are_read_with_and_without_a_last_day() -> Result<()> {
        let key = parse_key(&format!("p79-cert-2026:79:{PUBLIC}:2026-01-01"))?;
        assert_eq!(key.kid, "p79-cert-2026");
        assert_eq!(key.valid_from, jiff::civil::date(2026, 1, 1));
        assert_eq!(key.valid_until, None);
        let old = parse_key(&format!("p79-cert-2025:79:{PUBLIC}:2025-01-01:2026-01-31"))?;
        assert_eq!(old.valid_until, Some(jiff::civil::date(2026, 1, 31)));
        Ok(())
    }

    #[test]
    fn wrong_keys_are_refused() {
        for spec in [
            format!("p79:{PUBLIC}:2026-01-01"),
            format!("p79-cert:79:{}:2026-01-01", &PUBLIC[..62]),
            format!("p79-cert:79:{PUBLIC}:2026-13-01"),
            format!("p79-cert:79:{PUBLIC}:2026-02-01:2026-01-31"),
            format!("p79-cert:HCM:{PUBLIC}:2026-01-01"),
            format!("p79-cert:79:{PUBLIC}:2026-01-01:2026-12-31:x"),
        ] {
            assert!(parse_key(&spec).is_err(), "{spec}");
        }
        let twice = format!("k:79:{PUBLIC}:2026-01-01");
        assert!(build(jiff::civil::date(2026, 12, 1), &[twice.clone(), twice]).is_err());
    }

    #[test]
    fn the_file_reads_back_as_a_trust_list() -> Result<()> {
        let list = build(
            jiff::civil::date(2026, 12, 1),
            &[format!("p79-cert-2026:79:{PUBLIC}:2026-01-01")],
        )?;
        let text = to_text(&list)?;
        assert_eq!(TrustList::from_toml(&text)?, list);
        Ok(())
    }
}
