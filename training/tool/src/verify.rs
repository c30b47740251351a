//! `verify-certificate`: a learner's certificate checked offline against the province's
//! trust list, as an officer's tablet checks it — for a province office without a tablet.
//! The verdict and what the certificate says (to compare with the person's ID card) go to
//! standard output, nowhere else.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use jiff::civil::Date;
use xaso_training::certificate::{self, TrustList, Warning};

use crate::Outcome;

/// Largest code read from standard input.
const MAX_CODE: u64 = 64 * 1024;

pub fn verify(trust_list: &Path, today: Date, code: &str) -> Result<Outcome> {
    let text = std::fs::read_to_string(trust_list)
        .with_context(|| format!("cannot read the trust list {}", trust_list.display()))?;
    let trust = TrustList::from_toml(&text)
        .with_context(|| format!("trust list {}", trust_list.display()))?;
    let code = if code == "-" {
        let mut read = String::new();
        std::io::stdin()
            .take(MAX_CODE)
            .read_to_string(&mut read)
            .context("cannot read the code from standard input")?;
        read
    } else {
        code.to_owned()
    };
    let mut out = std::io::stdout().lock();
    match certificate::verify(&code, &trust, today) {
        Ok(verified) => {
            let c = &verified.certificate;
            writeln!(out, "verdict\tvalid")?;
            writeln!(out, "name\t{}", c.name)?;
            writeln!(out, "track\t{}", c.track)?;
            writeln!(out, "date\t{}", c.date)?;
            writeln!(out, "commune\t{}", c.commune)?;
            writeln!(out, "province\t{}", c.province)?;
            writeln!(out, "number\t{}", c.id)?;
            writeln!(out, "key\t{}", verified.kid)?;
            for warning in &verified.warnings {
                match warning {
                    Warning::TrustListOld { days } => writeln!(
                        out,
                        "warning\tthe trust list is {days} days old: ask the province for a new one"
                    )?,
                }
            }
            Ok(Outcome::Done)
        }
        Err(e) => {
            writeln!(out, "verdict\tnot valid: {e}")?;
            Ok(Outcome::Refused)
        }
    }
}
