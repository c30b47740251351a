//! `pack`: the lessons (built in, or a directory) checked, packed, signed with the
//! province's pack key, opened again exactly as a kiosk trusting that key would open it, and
//! only then written.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use jiff::civil::Date;
use xaso_training::pack::{self, PackError, TrustedKey};

use crate::{Outcome, ids, keyfile, modules_dir, output};

pub struct PackRequest<'a> {
    pub key: &'a Path,
    pub key_id: &'a str,
    pub province: &'a str,
    pub version: u64,
    pub modules: Option<&'a Path>,
    pub created: Date,
    pub out: &'a Path,
}

pub fn pack(request: &PackRequest<'_>) -> Result<Outcome> {
    ids::check_province(request.province)?;
    ids::check_key_id(request.key_id)?;
    let key = keyfile::read(request.key)?;
    let (files, source) = match request.modules {
        Some(dir) => (modules_dir::read(dir)?, dir.display().to_string()),
        None => (
            xaso_training::bundled_files(),
            "the lessons built into xaso-lessons".to_owned(),
        ),
    };
    let bytes = match pack::build(
        &files,
        request.province,
        request.version,
        request.created,
        request.key_id,
        &key,
    ) {
        Ok(b) => b,
        Err(PackError::Content(e)) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "xaso-lessons: refused: the lessons in {source} are not valid: {e}"
            );
            return Ok(Outcome::Refused);
        }
        Err(e) => return Err(e).context("cannot build the pack"),
    };
    // What a kiosk trusting this key does with it, before anyone receives it.
    let trusted = [TrustedKey {
        key_id: request.key_id.to_owned(),
        key: key.verifying_key(),
    }];
    let opened = pack::open(&bytes, &trusted, None)
        .context("the pack just built does not open as a kiosk would open it")?;
    output::write_public(request.out, &bytes)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "version\t{}", opened.header.version)?;
    writeln!(out, "province\t{}", opened.header.province)?;
    writeln!(out, "key_id\t{}", opened.header.key_id)?;
    writeln!(out, "created\t{}", opened.header.created)?;
    writeln!(out, "size\t{}", bytes.len())?;
    writeln!(out, "modules\t{}", opened.library.modules().count())?;
    writeln!(out, "tracks\t{}", opened.library.tracks().len())?;
    writeln!(out, "written\t{}", request.out.display())?;
    Ok(Outcome::Done)
}
