//! The demo's lessons, made with `xaso-lessons` the way a province makes them, under
//! `target/demo/lessons/`: the province's pack key and a certificate key (made once, kept
//! across runs like the kiosk's identity), lesson pack version 1 signed with the pack key,
//! the kiosk's lessons configuration (`xaso-kiosk --lessons`) and the officers' trust list.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::release_bin;
use crate::output_of;

/// The demo's province (the kiosk's default commune name is in Ho Chi Minh City, 79).
const PROVINCE: &str = "79";
const PACK_KID: &str = "p79-lessons-demo";
const CERTIFICATE_KID: &str = "p79-cert-demo";

/// What the kiosk and the officers are given.
pub struct DemoLessons {
    /// The kiosk's lessons configuration (`--lessons`).
    pub config: PathBuf,
    /// The signed pack (`--install-pack`).
    pub pack: PathBuf,
    /// The certificate trust list for officers' tablets (`--trust-list`).
    pub trust_list: PathBuf,
}

fn lessons_tool() -> Command {
    Command::new(release_bin("xaso-lessons"))
}

/// The value of a `name<TAB>value` line of `xaso-lessons`' output.
fn field<'a>(output: &'a str, name: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('\t'))
}

/// Today in Viet Nam (UTC+07:00).
fn vietnam_date(at: jiff::Timestamp) -> jiff::civil::Date {
    at.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .date()
}

/// The public key of the key `file` (made now unless an earlier run made it).
fn key(file: &Path, kid: &str) -> Result<String> {
    let output = if file.exists() {
        output_of(
            lessons_tool()
                .arg("public-key")
                .arg(file)
                .args(["--kid", kid]),
            "xaso-lessons public-key",
        )?
    } else {
        output_of(
            lessons_tool()
                .arg("keygen")
                .arg("--out")
                .arg(file)
                .args(["--kid", kid]),
            "xaso-lessons keygen",
        )?
    };
    field(&output, "public_key")
        .map(str::to_owned)
        .with_context(|| format!("xaso-lessons printed no public key for {}", file.display()))
}

/// Keys, pack, configuration and trust list in `<demo_dir>/lessons`.
pub fn prepare(demo_dir: &Path) -> Result<DemoLessons> {
    let dir = demo_dir.join("lessons");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let pack_key = dir.join("pack.key");
    let certificate_key = dir.join("certificate.key");
    let pack_public = key(&pack_key, PACK_KID)?;
    let certificate_public = key(&certificate_key, CERTIFICATE_KID)?;

    let pack = dir.join("lessons-1.pack");
    let built = output_of(
        lessons_tool()
            .arg("pack")
            .arg("--key")
            .arg(&pack_key)
            .args([
                "--key-id",
                PACK_KID,
                "--province",
                PROVINCE,
                "--version",
                "1",
            ])
            .arg("--out")
            .arg(&pack),
        "xaso-lessons pack",
    )?;
    eprintln!(
        "xtask: lesson pack version 1 for province {PROVINCE}, signed with {PACK_KID}: {} \
         modules, {} bytes, in {}",
        field(&built, "modules").unwrap_or("?"),
        field(&built, "size").unwrap_or("?"),
        pack.display()
    );

    // Relative key files are read next to the configuration.
    let config = dir.join("kiosk-lessons.toml");
    std::fs::write(
        &config,
        format!(
            "# The demo kiosk's lessons: the province's pack key, and the certificate key it\n\
             # signs learners' certificates with (written by cargo xtask demo).\n\
             province = \"{PROVINCE}\"\n\n\
             [[pack_keys]]\nkey_id = \"{PACK_KID}\"\npublic_key = \"{pack_public}\"\n\n\
             [certificate]\nkid = \"{CERTIFICATE_KID}\"\nkey_file = \"certificate.key\"\n"
        ),
    )
    .with_context(|| format!("writing {}", config.display()))?;

    // The certificate key signs from the day it was made.
    let made = std::fs::metadata(&certificate_key)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let trust_list = dir.join("trust-list.toml");
    output_of(
        lessons_tool()
            .arg("trust-list")
            .arg("--out")
            .arg(&trust_list)
            .arg("--issued")
            .arg(vietnam_date(jiff::Timestamp::now()).to_string())
            .arg(format!(
                "{CERTIFICATE_KID}:{PROVINCE}:{certificate_public}:{}",
                vietnam_date(made)
            )),
        "xaso-lessons trust-list",
    )?;
    Ok(DemoLessons {
        config,
        pack,
        trust_list,
    })
}

/// One line: the pack installed on the kiosk whose store is `kiosk_store`, checked again with
/// the kiosk's configuration.
pub fn show_installed(kiosk_store: &Path, lessons: &DemoLessons) -> Result<()> {
    let current = kiosk_store.join("lessons/current.pack");
    if !current.exists() {
        eprintln!(
            "xtask: no lesson pack is installed on the kiosk (see the kiosk's messages above)"
        );
        return Ok(());
    }
    let out = lessons_tool()
        .arg("inspect")
        .arg(&current)
        .arg("--keys")
        .arg(&lessons.config)
        .output()
        .context("could not start: xaso-lessons inspect")?;
    let text = String::from_utf8_lossy(&out.stdout);
    match (
        field(&text, "verdict").is_some_and(|v| v.starts_with("installed")),
        field(&text, "version"),
    ) {
        (true, Some(version)) => eprintln!(
            "xtask: lessons on the kiosk: pack version {version} of province {}, key {}, {} \
             modules in {} tracks ({})",
            field(&text, "province").unwrap_or("?"),
            field(&text, "key_id").unwrap_or("?"),
            field(&text, "modules").unwrap_or("?"),
            field(&text, "tracks").unwrap_or("?"),
            current.display()
        ),
        _ => eprintln!(
            "xtask: the kiosk's installed lesson pack {} does not check: {}",
            current.display(),
            field(&text, "verdict").unwrap_or("(no verdict from xaso-lessons inspect)")
        ),
    }
    Ok(())
}
