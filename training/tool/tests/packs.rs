//! The province's keys and packs through the real binary: a key is private and never
//! overwritten; a pack built and signed with it is what a kiosk trusting that key installs,
//! and a kiosk with another key, or with that version already, refuses it with the reason;
//! lessons from a directory are packed as they are, and a broken file is refused by name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{keygen, lessons_config, run, signing_key};
use xaso_training::Library;
use xaso_training::pack::{self, TrustedKey};

fn bundled() -> Library {
    Library::from_files(&xaso_training::bundled_files()).unwrap()
}

fn pack_v(dir: &Path, version: &str, out: &str) -> common::Run {
    run(
        dir,
        &[
            "pack",
            "--key",
            "p79-lessons.key",
            "--key-id",
            "p79-lessons",
            "--province",
            "79",
            "--version",
            version,
            "--created",
            "2026-12-01",
            "--out",
            out,
        ],
    )
}

#[test]
fn a_new_key_is_private_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let public = keygen(dir.path(), "p79-lessons.key", "p79-lessons");
    let path = dir.path().join("p79-lessons.key");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert_eq!(
        hex::encode(signing_key(&path).verifying_key().as_bytes()),
        public
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Two keys are never the same.
    assert_ne!(keygen(dir.path(), "other.key", "other"), public);

    let again = run(dir.path(), &["keygen", "--out", "p79-lessons.key"]);
    assert_eq!(again.status, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // The default key id is the file's name; `public-key` shows the same key again.
    let shown = run(dir.path(), &["public-key", "p79-lessons.key"]);
    assert_eq!(shown.status, 0, "{}", shown.stderr);
    assert_eq!(shown.field("kid"), Some("p79-lessons"));
    assert_eq!(shown.field("public_key"), Some(public.as_str()));
}

#[test]
fn a_key_others_may_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "p79-lessons.key", "p79-lessons");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("p79-lessons.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let refused = pack_v(dir.path(), "1", "lessons-1.pack");
        assert_eq!(refused.status, 2);
        assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
        assert!(!dir.path().join("lessons-1.pack").exists());
    }
}

#[test]
fn a_kiosk_installs_the_province_pack_and_refuses_a_foreign_key_or_an_older_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let public = keygen(d, "p79-lessons.key", "p79-lessons");
    let built = pack_v(d, "2", "lessons-2.pack");
    assert_eq!(built.status, 0, "{}", built.stderr);
    let bytes = std::fs::read(d.join("lessons-2.pack")).unwrap();
    assert_eq!(built.field("version"), Some("2"));
    assert_eq!(built.field("size"), Some(bytes.len().to_string().as_str()));
    let modules = bundled().modules().count();
    assert_eq!(built.field("modules"), Some(modules.to_string().as_str()));

    // What a kiosk holding the public key opens: the bundled lessons, as signed.
    let trusted = [TrustedKey::from_hex("p79-lessons", &public).unwrap()];
    let opened = pack::open(&bytes, &trusted, None).unwrap();
    assert_eq!(opened.header.province, "79");
    assert_eq!(opened.header.created, jiff::civil::date(2026, 12, 1));
    assert_eq!(opened.library, bundled());

    // Without a configuration: only what the pack claims.
    let claimed = run(d, &["inspect", "lessons-2.pack"]);
    assert_eq!(claimed.status, 0, "{}", claimed.stderr);
    assert_eq!(claimed.field("version"), Some("2"));
    assert_eq!(claimed.field("key_id"), Some("p79-lessons"));
    assert!(claimed.field("verdict").unwrap().starts_with("not checked"));

    // A kiosk with the province's key installs it.
    lessons_config(d, "kiosk.toml", "p79-lessons", &public);
    let accepted = run(d, &["inspect", "lessons-2.pack", "--keys", "kiosk.toml"]);
    assert_eq!(accepted.status, 0, "{}", accepted.stdout);
    assert!(accepted.field("verdict").unwrap().starts_with("installed"));
    assert_eq!(
        accepted.field("modules"),
        Some(modules.to_string().as_str())
    );

    // One with a foreign key under the same id: the signature does not verify.
    let foreign = keygen(d, "foreign.key", "p79-lessons");
    lessons_config(d, "foreign.toml", "p79-lessons", &foreign);
    let refused = run(d, &["inspect", "lessons-2.pack", "--keys", "foreign.toml"]);
    assert_eq!(refused.status, 1);
    let verdict = refused.field("verdict").unwrap();
    assert!(verdict.starts_with("refused"), "{verdict}");
    assert!(verdict.contains("signature does not verify"), "{verdict}");

    // One that knows only another key id.
    lessons_config(d, "other-id.toml", "p80-lessons", &public);
    let refused = run(d, &["inspect", "lessons-2.pack", "--keys", "other-id.toml"]);
    assert_eq!(refused.status, 1);
    assert!(
        refused
            .field("verdict")
            .unwrap()
            .contains("not one of this province's keys"),
        "{}",
        refused.stdout
    );

    // An older version than the kiosk's (and the same one) is refused; a newer installed.
    let older = pack_v(d, "1", "lessons-1.pack");
    assert_eq!(older.status, 0, "{}", older.stderr);
    for (file, installed) in [("lessons-1.pack", "2"), ("lessons-2.pack", "2")] {
        let refused = run(
            d,
            &[
                "inspect",
                file,
                "--keys",
                "kiosk.toml",
                "--installed",
                installed,
            ],
        );
        assert_eq!(refused.status, 1, "{file}");
        assert!(
            refused.field("verdict").unwrap().contains("is not newer"),
            "{}",
            refused.stdout
        );
    }
    let newer = run(
        d,
        &[
            "inspect",
            "lessons-2.pack",
            "--keys",
            "kiosk.toml",
            "--installed",
            "1",
        ],
    );
    assert_eq!(newer.status, 0, "{}", newer.stdout);

    // One changed byte in the middle of the pack.
    let mut changed = bytes.clone();
    changed[bytes.len() / 2] ^= 0x01;
    std::fs::write(d.join("changed.pack"), changed).unwrap();
    let refused = run(d, &["inspect", "changed.pack", "--keys", "kiosk.toml"]);
    assert_eq!(refused.status, 1);
    assert!(refused.field("verdict").unwrap().starts_with("refused"));
}

/// Writes `files` under `dir` (paths with `/`).
fn write_tree(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn lessons_from_a_directory_are_packed_and_a_broken_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let public = keygen(d, "p79-lessons.key", "p79-lessons");
    let modules = d.join("modules");
    write_tree(&modules, &xaso_training::bundled_files());
    std::fs::write(
        modules.join("README.md"),
        "# notes for authors, not content",
    )
    .unwrap();
    let pack_dir = |out: &str| {
        run(
            d,
            &[
                "pack",
                "--key",
                "p79-lessons.key",
                "--key-id",
                "p79-lessons",
                "--province",
                "79",
                "--version",
                "3",
                "--modules",
                "modules",
                "--out",
                out,
            ],
        )
    };
    let built = pack_dir("from-dir.pack");
    assert_eq!(built.status, 0, "{}", built.stderr);
    let trusted = [TrustedKey::from_hex("p79-lessons", &public).unwrap()];
    let opened = pack::open(
        &std::fs::read(d.join("from-dir.pack")).unwrap(),
        &trusted,
        None,
    )
    .unwrap();
    assert_eq!(opened.library, bundled());

    // A quiz that is not TOML any more.
    let quiz = modules.join("scams/quiz.toml");
    let good = std::fs::read(&quiz).unwrap();
    std::fs::write(&quiz, "[[questions]\nid = ").unwrap();
    let refused = pack_dir("broken.pack");
    assert_eq!(refused.status, 1);
    assert!(
        refused.stderr.contains("scams/quiz.toml"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("not valid"), "{}", refused.stderr);
    assert!(!d.join("broken.pack").exists());
    std::fs::write(&quiz, good).unwrap();

    // A page whose picture is missing.
    let picture = modules.join("scams/images/scam-call.png");
    std::fs::remove_file(&picture).unwrap();
    let refused = pack_dir("broken.pack");
    assert_eq!(refused.status, 1);
    assert!(
        refused.stderr.contains("scams/images/scam-call.png"),
        "{}",
        refused.stderr
    );
    assert!(!d.join("broken.pack").exists());
}
