//! The card's QR code: render it as a camera would see it, decode it, derive the access key
//! and open the (in-process) software card with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use image::{GrayImage, Luma};
use xaso_idcard::qr::{self, QrData};
use xaso_idcard::reader::{ReadOptions, read_card_trying};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::InProcess;
use xaso_services::CardField;

/// The QR code placed in a larger, slightly noisy grey "photo".
pub fn photo_of_qr(text: &str) -> GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let qr = code.render::<Luma<u8>>().module_dimensions(4, 4).build();
    let (w, h) = (qr.width() + 200, qr.height() + 160);
    let mut img = GrayImage::from_fn(w, h, |x, y| Luma([170 + ((x * 7 + y * 13) % 40) as u8]));
    for (x, y, p) in qr.enumerate_pixels() {
        let v = if p.0[0] < 128 { 30 } else { 235 };
        img.put_pixel(x + 100, y + 80, Luma([v]));
    }
    img
}

#[test]
fn qr_photo_gives_the_key_that_opens_the_card() {
    let pki = TestPki::default_test().unwrap();
    for (name, id) in Identity::builtin().unwrap() {
        let img = photo_of_qr(&id.qr_text());
        let dir = std::env::temp_dir().join(format!("xaso-qr-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("qr.png");
        img.save(&path).unwrap();
        let q = qr::decode_image_file(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(q.id_number, id.id_number);
        assert_eq!(q.date_of_birth, id.date_of_birth);
        assert_eq!(q.old_id_number, id.old_id_number);

        let mut t = InProcess {
            card: SoftCard::new(CardFiles::build(&id, &pki).unwrap()),
        };
        let opts = ReadOptions {
            read_face: false,
            ..Default::default()
        };
        let (read, key) =
            read_card_trying(&mut t, &q.key_candidates(), &pki.trust_store(), &opts).unwrap();
        assert_eq!(key, id.mrz_key().unwrap(), "{name}");
        assert!(read.passive_auth.verified);
        assert_eq!(read.get(CardField::FullName), Some(q.full_name.clone()));
    }
}

#[test]
fn qr_rejects_other_codes() {
    let img = photo_of_qr("https://dichvucong.gov.vn");
    let text = qr::decode_luma(img.width() as usize, img.height() as usize, img.as_raw()).unwrap();
    assert_eq!(QrData::parse(&text), Err(qr::QrError::NotAnIdCard));
    let blank = GrayImage::from_pixel(200, 200, Luma([200]));
    assert_eq!(
        qr::decode_luma(200, 200, blank.as_raw()),
        Err(qr::QrError::NotFound)
    );
}
