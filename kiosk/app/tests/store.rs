//! The kiosk's local store on disk: drafts and page images are encrypted with the device
//! key, a wrong key is refused without touching the file, and an unencrypted store left by
//! an older kiosk is encrypted on first open.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use xaso_kiosk::store::{Attachment, KioskStore, StoreError, kiosk_actor};
use xaso_services::catalog::Submitter;
use xaso_services::dossier::{Applicant, Channel, Consent, Dossier};
use xaso_services::{CommuneCode, ProcedureCode};

const NAME: &str = "Nguyễn Thị Mai Anh";
const ID_NUMBER: &str = "079303001234";
const CHILD: &str = "Trần Bảo Ngọc Khuê";

fn open(dir: &Path) -> Result<KioskStore, StoreError> {
    KioskStore::open(dir, CommuneCode::new("09904").unwrap(), 1, "kiosk-1")
}

/// A page image whose bytes are easy to look for: a JPEG start and a long distinctive run.
fn page_bytes() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    for i in 0..4096u32 {
        bytes.extend_from_slice(format!("page-image-row-{i:05}|").as_bytes());
    }
    bytes
}

/// Every byte the store has on disk (the files and their WAL/SHM side files).
fn raw_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_nothing_readable(dir: &Path) {
    let files = raw_files(dir);
    assert!(files.iter().any(|(n, _)| n == "local.sqlite"));
    let page = page_bytes();
    for (name, bytes) in &files {
        for needle in [
            NAME.as_bytes(),
            CHILD.as_bytes(),
            ID_NUMBER.as_bytes(),
            b"child_full_name".as_slice(),
            &page[..64],
            &page[page.len() / 2..page.len() / 2 + 64],
            b"SQLite format 3",
        ] {
            assert!(
                !contains(bytes, needle),
                "{name} holds {:?} in the clear",
                String::from_utf8_lossy(needle)
            );
        }
    }
}

fn draft_values() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("child_full_name".to_owned(), CHILD.to_owned()),
        ("requester_full_name".to_owned(), NAME.to_owned()),
    ])
}

fn submit_with_page(store: &mut KioskStore) -> String {
    let mut dossier = Dossier::new(
        "d-1".into(),
        ProcedureCode("birth-registration".into()),
        Applicant {
            id_number: ID_NUMBER.into(),
            full_name: NAME.into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        "2026-11-23T02:30:00Z".parse().unwrap(),
    );
    dossier.values = draft_values();
    dossier.consent = Some(Consent {
        given_at: "2026-11-23T02:30:30Z".parse().unwrap(),
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let page = Attachment::jpeg("birth-certificate-from-hospital", page_bytes());
    let sha = page.reference.sha256.clone();
    let actor = kiosk_actor(store.commune(), 1);
    store
        .submit(
            dossier,
            vec![page],
            actor,
            "2026-11-23".parse().unwrap(),
            "2026-11-23T02:31:00Z".parse().unwrap(),
        )
        .unwrap();
    sha
}

#[test]
fn drafts_and_page_images_are_encrypted_on_disk_and_resume_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let sha = {
        let mut store = open(dir.path()).unwrap();
        store
            .save_draft(ID_NUMBER, "birth-registration", &draft_values())
            .unwrap();
        let sha = submit_with_page(&mut store);
        // While open (WAL not yet checkpointed) nothing is readable either.
        assert_nothing_readable(dir.path());
        sha
    };
    assert_nothing_readable(dir.path());

    // The same device key opens it again: the draft resumes, the page is there.
    let store = open(dir.path()).unwrap();
    let (procedure, values) = store.draft_for(ID_NUMBER).unwrap().expect("draft kept");
    assert_eq!(procedure, "birth-registration");
    assert_eq!(values, draft_values());
    assert_eq!(store.attachment(&sha).unwrap(), Some(page_bytes()));
}

#[test]
fn a_wrong_key_is_refused_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path()).unwrap();
        store
            .save_draft(ID_NUMBER, "birth-registration", &draft_values())
            .unwrap();
    }
    let local = dir.path().join("local.sqlite");
    let before = raw_files(dir.path());
    let key = std::fs::read_to_string(dir.path().join("device.key")).unwrap();

    // Another device's key: refused with a typed error naming the file.
    let other = dir.path().join("other.key");
    xaso_sync_store::create_key_file(&other).unwrap();
    let err = xaso_kiosk::store::open_local(&local, &other).unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongKey { path } if path == &local),
        "{err:?}"
    );
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    std::fs::remove_file(&other).unwrap();
    assert_eq!(raw_files(dir.path()), before, "files untouched");

    // A key file others can read is refused before anything is opened.
    let loose = dir.path().join("loose.key");
    std::fs::write(&loose, key.trim()).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = xaso_kiosk::store::open_local(&local, &loose).unwrap_err();
    assert!(matches!(err, StoreError::KeyFile { .. }), "{err:?}");
    std::fs::remove_file(&loose).unwrap();
    assert_eq!(raw_files(dir.path()), before, "files untouched");

    // The device key replaced under the kiosk: the whole store refuses to open.
    std::fs::remove_file(dir.path().join("device.key")).unwrap();
    xaso_sync_store::create_key_file(&dir.path().join("device.key")).unwrap();
    assert!(open(dir.path()).is_err());
    std::fs::remove_file(dir.path().join("device.key")).unwrap();
    std::fs::write(dir.path().join("device.key"), &key).unwrap();
    std::fs::set_permissions(
        dir.path().join("device.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(raw_files(dir.path()), before, "files untouched");

    // With its own key it still opens and the draft is intact.
    let store = open(dir.path()).unwrap();
    assert!(store.draft_for(ID_NUMBER).unwrap().is_some());
}

#[test]
fn an_unencrypted_store_from_an_older_kiosk_is_encrypted_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local.sqlite");
    let page = page_bytes();
    {
        // What kiosk versions before encryption wrote: plain SQLite in WAL mode.
        let old = rusqlite::Connection::open(&local).unwrap();
        old.pragma_update(None, "journal_mode", "WAL").unwrap();
        old.execute_batch(
            "CREATE TABLE attachments (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, bytes BLOB NOT NULL);
             CREATE TABLE drafts (id_number TEXT PRIMARY KEY, procedure TEXT NOT NULL, json TEXT NOT NULL);",
        )
        .unwrap();
        old.execute(
            "INSERT INTO drafts VALUES (?1, 'birth-registration', ?2)",
            rusqlite::params![ID_NUMBER, serde_json::to_string(&draft_values()).unwrap()],
        )
        .unwrap();
        old.execute(
            "INSERT INTO attachments VALUES ('abc', 'image/jpeg', ?1)",
            rusqlite::params![page],
        )
        .unwrap();
    }
    assert!(contains(&std::fs::read(&local).unwrap(), NAME.as_bytes()));

    let store = open(dir.path()).unwrap();
    let (_, values) = store.draft_for(ID_NUMBER).unwrap().expect("draft migrated");
    assert_eq!(values, draft_values());
    assert_eq!(store.attachment("abc").unwrap(), Some(page));
    drop(store);
    assert_nothing_readable(dir.path());
    assert!(!dir.path().join("local.sqlite.encrypting").exists());

    // Opening again does not migrate twice.
    let store = open(dir.path()).unwrap();
    assert!(store.draft_for(ID_NUMBER).unwrap().is_some());
}
