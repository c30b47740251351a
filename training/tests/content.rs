#![allow(clippy::unwrap_used, clippy::panic)]
//! The real lessons of `training/modules/`: all present, both languages, checked as a whole.
//! (That every practice step and tap question names a real screen and element of the kiosk
//! is checked by the kiosk's own tests, which read its screens.)

use xaso_i18n::Lang;
use xaso_training::markdown::Block;
use xaso_training::{Library, QuestionKind};

fn library() -> Library {
    Library::from_files(&xaso_training::bundled_files()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_modules_load_and_cover_the_program() {
    let lib = library();
    let ids: Vec<&str> = lib.modules().map(|m| m.id.as_str()).collect();
    for id in [
        "smartphone-basics",
        "vneid-account",
        "public-service-portal",
        "kiosk-dossier",
        "online-payments",
        "scams",
        "personal-data",
        "digital-signature",
        "insurance-online",
        "officer-tablet",
    ] {
        assert!(ids.contains(&id), "module {id} missing");
    }
    assert!(ids.len() >= 10);
    assert!(lib.track("officer").is_some());
}

#[test]
fn every_module_is_a_real_lesson_in_both_languages() {
    let lib = library();
    for m in lib.modules() {
        assert!(
            (4..=8).contains(&m.pages.len()),
            "{}: {} pages",
            m.id,
            m.pages.len()
        );
        let images: usize = m.pages.iter().map(|p| p.vi.images().count()).sum();
        assert!(images >= 2, "{}: {images} images", m.id);
        for p in &m.pages {
            for lang in [Lang::Vi, Lang::En] {
                let page = p.get(lang);
                let words = page.plain_text().split_whitespace().count();
                assert!(
                    words >= 15,
                    "{} page {} ({lang:?}): {words} words",
                    m.id,
                    p.name
                );
                assert!(
                    page.blocks
                        .iter()
                        .any(|b| !matches!(b, Block::Image { .. })),
                    "{} page {}: no text",
                    m.id,
                    p.name
                );
            }
            // Vietnamese text is Vietnamese (has its letters), English is not a copy of it.
            let vi = p.vi.plain_text();
            assert!(
                vi.chars()
                    .any(|c| "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉĩọỏốồổỗộớờởỡợụủũứừửữựỳỵỷỹ"
                        .contains(c.to_lowercase().next().unwrap_or(c))),
                "{} page {}",
                m.id,
                p.name
            );
            assert_ne!(vi, p.en.plain_text(), "{} page {}", m.id, p.name);
        }
        assert!(
            (5..=8).contains(&m.questions.len()),
            "{}: {} questions",
            m.id,
            m.questions.len()
        );
        for q in &m.questions {
            let right = q.choices.iter().filter(|c| c.correct).count();
            match q.kind {
                QuestionKind::Single => assert_eq!(right, 1, "{} {}", m.id, q.id),
                QuestionKind::Multiple => {
                    assert!(right >= 2 && right < q.choices.len(), "{} {}", m.id, q.id)
                }
                QuestionKind::Tap => assert!(
                    q.region.is_some() && q.picture.is_some(),
                    "{} {}",
                    m.id,
                    q.id
                ),
            }
            assert!(q.explanation.is_complete(), "{} {}", m.id, q.id);
        }
        assert!(m.mastery.m <= m.mastery.n && m.mastery.n as usize <= m.questions.len() + 2);
    }
    // The kiosk's own lesson practises the real flow and has tap questions.
    let kiosk = lib.module("kiosk-dossier").unwrap();
    assert!(kiosk.practice.is_some());
    assert!(
        kiosk
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::Tap)
            .count()
            >= 2
    );
}

#[test]
fn the_bundled_modules_make_a_pack() {
    use ed25519_dalek::SigningKey;
    let key = SigningKey::from_bytes(&[7; 32]);
    let bytes = xaso_training::pack::build(
        &xaso_training::bundled_files(),
        "79",
        1,
        jiff::civil::date(2026, 12, 3),
        "p79",
        &key,
    )
    .unwrap();
    let trusted = [xaso_training::pack::TrustedKey {
        key_id: "p79".into(),
        key: key.verifying_key(),
    }];
    let pack = xaso_training::pack::open(&bytes, &trusted, None).unwrap();
    assert_eq!(pack.library.modules().count(), library().modules().count());
    // Lessons travel on 2G: the whole pack stays small.
    assert!(bytes.len() < 8 * 1024 * 1024, "{} bytes", bytes.len());
}
