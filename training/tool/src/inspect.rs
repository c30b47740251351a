//! `inspect`: what a pack claims (its header, read without trusting it) and, given a kiosk's
//! lessons configuration, the kiosk's own decision — `xaso_training::pack::open` with that
//! configuration's keys and the installed version — with the reason when it refuses.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use xaso_training::pack;

use crate::{Outcome, kiosk_config};

pub fn inspect(file: &Path, keys: Option<&Path>, installed: Option<u64>) -> Result<Outcome> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut out = std::io::stdout().lock();
    let header = match pack::peek(&bytes) {
        Ok(h) => h,
        Err(e) => {
            writeln!(out, "verdict\trefused: {e}")?;
            return Ok(Outcome::Refused);
        }
    };
    writeln!(out, "format\t{}", header.format)?;
    writeln!(out, "province\t{}", header.province)?;
    writeln!(out, "version\t{}", header.version)?;
    writeln!(out, "created\t{}", header.created)?;
    writeln!(out, "key_id\t{}", header.key_id)?;
    writeln!(out, "size\t{}", bytes.len())?;
    writeln!(out, "payload_sha256\t{}", header.payload_sha256)?;
    let Some(config) = keys else {
        writeln!(
            out,
            "verdict\tnot checked (what the pack claims; give --keys CONFIG to check it as a \
             kiosk would)"
        )?;
        return Ok(Outcome::Done);
    };
    let kiosk = kiosk_config::load(config)?;
    if kiosk.province != header.province {
        writeln!(
            out,
            "note\tthe pack names province {} and {} province {}: kiosks decide by the key, \
             not by this name",
            header.province,
            config.display(),
            kiosk.province
        )?;
    }
    match pack::open(&bytes, &kiosk.trusted, installed) {
        Ok(opened) => {
            writeln!(out, "modules\t{}", opened.library.modules().count())?;
            writeln!(out, "tracks\t{}", opened.library.tracks().len())?;
            for track in opened.library.tracks() {
                writeln!(out, "track\t{}: {}", track.id, track.modules.join(", "))?;
            }
            writeln!(
                out,
                "verdict\tinstalled: a kiosk with {} would install it",
                config.display()
            )?;
            Ok(Outcome::Done)
        }
        Err(e) => {
            writeln!(
                out,
                "verdict\trefused: a kiosk with {} would keep what it has: {e}",
                config.display()
            )?;
            Ok(Outcome::Refused)
        }
    }
}
