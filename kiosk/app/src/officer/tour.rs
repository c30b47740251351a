//! The officer's screens without a display, for the screenshot tour
//! (`xaso-kiosk --officer-screenshots DIR`) and its test: a sample commune is written into a
//! tablet store — the roster, a dozen dossiers of synthetic residents in several states, one
//! with two decisions taken offline on two tablets (merged through the real sync protocol),
//! one with a result issued earlier that the hub fetched from the public-service portal, a
//! few ratings — then the real window and shell are driven as taps would. [`sample_link`]
//! shows a hub whose outbox to the portal holds two refused packets; [`sample_trust_list`]
//! and [`sample_certificate`] give the certificates page a learner's certificate to check.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use xaso_kiosk_core::officer::DeskInput;
use xaso_services::catalog::{ProcedureCode, Submitter};
use xaso_services::rating::{Rating, Satisfaction};
use xaso_services::roster::{ROSTER_RECORD, Roster, StaffRole};
use xaso_services::{
    Action, Actor, Applicant, AttachmentRef, Channel, CommuneCode, Consent, Dossier, Role,
    TrackingMinter,
};
use xaso_sync_core::Partition;
use xaso_sync_core::protocol::{ClientSession, answer};
use xaso_sync_store::Store;
use xaso_training::certificate::{self, Certificate, IssuerKey, TrustList};

use super::app::OfficerApp;
use super::attachment::{EARLIER_RESULT_PAPER, PDF};
use super::link::{LinkState, LinkStatus, OfficerLink, PortalView};
use super::shell::{OfficerInput as I, OfficerView};
use crate::tour::{Headless, save_png};

/// The officer of the sample commune (idcard's synthetic identity `le-thi-thu`).
pub const DEMO_OFFICER: &str = "le-thi-thu";
const DEMO_OFFICER_ID: &str = "038175004321";
const DEMO_OFFICER_NAME: &str = "Lê Thị Thu";
/// The PIN the tour chooses.
pub const DEMO_PIN: &str = "271828";

/// Tablet sizes of the tour: landscape 1280×800 and 1920×1200.
pub const TABLET_SIZES: [(&str, u32, u32); 2] =
    [("1280x800", 1280, 800), ("1920x1200", 1920, 1200)];

#[derive(Debug, thiserror::Error)]
pub enum TourError {
    #[error(transparent)]
    Store(#[from] xaso_sync_store::Error),
    #[error(transparent)]
    Core(#[from] xaso_sync_core::Error),
    #[error("sample data: {0}")]
    Sample(String),
    #[error(transparent)]
    Image(#[from] image::ImageError),
}

/// The resident whose dossier carries a result issued earlier.
const EARLIER_RESULT_HOLDER: &str = "Trần Văn Hùng";

/// A small PDF standing for a result issued earlier (the tablet shows its name and size).
const SAMPLE_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n\
trailer<</Root 1 0 R>>\n%%EOF\n";

/// A link that never syncs and shows the sample commune's hub: synced a minute ago, its
/// outbox to the portal with dossiers waiting, a pause after failures and two refused
/// packets (an ID number of 11 digits, a step before its dossier).
pub fn sample_link(commune: &str, now: Timestamp) -> Result<OfficerLink, TourError> {
    use xaso_sync_core::central::{CentralStatus, DeadLetter, OutboxCounts};
    let ms = |minutes: i64| {
        now.checked_sub(Span::new().minutes(minutes))
            .map(|t| t.as_millisecond())
            .map_err(sample)
    };
    let mut minter =
        TrackingMinter::new(CommuneCode::new(commune).map_err(sample)?, 1).map_err(sample)?;
    let day = xaso_services::calendar::vietnam_date(now);
    let mut code = || minter.mint(day).map(|c| c.to_string()).map_err(sample);
    let dead = vec![
        DeadLetter {
            key: "sample-dead-1".into(),
            code: code()?,
            commune: commune.into(),
            service: "DongBoHoSoMC".into(),
            error_code: "01".into(),
            message: "SoDinhDanh: 07919000012: not a 12-digit ID number".into(),
            at: ms(95)?,
        },
        DeadLetter {
            key: "sample-dead-2".into(),
            code: code()?,
            commune: commune.into(),
            service: "CapNhatTienDoHoSoMC".into(),
            error_code: "03".into(),
            message: "progress before its dossier".into(),
            at: ms(40)?,
        },
    ];
    Ok(OfficerLink::showing(LinkStatus {
        state: LinkState::Idle,
        last_ok: Some(now.checked_sub(Span::new().minutes(1)).map_err(sample)?),
        last_error: None,
        progress: None,
        syncs: 1,
        portal: PortalView::Known(CentralStatus {
            connected: true,
            counts: OutboxCounts {
                pending: 7,
                delivered: 128,
                dead: 2,
                dossiers_waiting: 3,
                blocked: 4,
            },
            dead,
            last_failure: Some("HTTP 503 Service Unavailable".into()),
            paused_until: Some(ms(-15)?),
            last_delivered: Some(ms(22)?),
            last_pull: Some(ms(5)?),
        }),
        retry_failed: false,
    }))
}

/// The sample province's certificate key (a fixed seed: for the tour and tests only).
fn sample_certificate_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[79; 32])
}

/// The id of the sample province's certificate key.
pub const SAMPLE_CERTIFICATE_KID: &str = "p79-cert-2026";

/// The sample province's trust list, published three days before `today`.
pub fn sample_trust_list(today: Date) -> Result<TrustList, TourError> {
    let days = |n: i64| today.checked_sub(Span::new().days(n)).map_err(sample);
    Ok(TrustList {
        issued: days(3)?,
        keys: vec![IssuerKey {
            kid: SAMPLE_CERTIFICATE_KID.into(),
            province: "79".into(),
            public_key: hex::encode(sample_certificate_key().verifying_key().to_bytes()),
            valid_from: days(300)?,
            valid_until: None,
        }],
    })
}

/// The credential of a learner of `commune` who finished the track `public-services` two
/// days before `today`, signed with the sample province's key.
pub fn sample_certificate(commune: &str, today: Date) -> Result<String, TourError> {
    let date = today.checked_sub(Span::new().days(2)).map_err(sample)?;
    let issued_at = xaso_services::calendar::vietnam_time_zone()
        .to_timestamp(date.at(10, 0, 0, 0))
        .map_err(sample)?
        .as_second();
    let certificate = Certificate {
        id: "kiosk-1-7".into(),
        name: "Nguyễn Thị Mai Anh".into(),
        track: "public-services".into(),
        date,
        commune: commune.into(),
        province: "79".into(),
        issued_at,
    };
    certificate::issue(
        &certificate,
        SAMPLE_CERTIFICATE_KID,
        &sample_certificate_key(),
    )
    .map_err(sample)
}

fn sample(e: impl std::fmt::Display) -> TourError {
    TourError::Sample(e.to_string())
}

fn sync_into(client: &mut Store, hub: &mut Store) -> Result<(), TourError> {
    let mut session = ClientSession::new("hub", []);
    while let Some(request) = session.poll_request(client)? {
        let reply = answer(hub, &request, |_| true, 1 << 22)?;
        session.handle_reply(client, reply)?;
    }
    Ok(())
}

/// Writes the sample commune `commune` into the tablet store in `store_dir`, as of `now`.
pub fn seed(store_dir: &Path, commune: &str, now: Timestamp) -> Result<(), TourError> {
    std::fs::create_dir_all(store_dir).map_err(sample)?;
    let key = store_dir.join("device.key");
    xaso_sync_store::ensure_key_file(&key)?;
    let mut tablet = Store::open(&store_dir.join("records.db"), &key)?;
    let public = Partition::public(commune)?;
    let mut roster = Roster::default();
    roster.put(
        commune,
        DEMO_OFFICER_ID,
        DEMO_OFFICER_NAME,
        StaffRole::Officer,
    );
    tablet.put(&public, ROSTER_RECORD, &roster)?;

    // The kiosk's store: dossiers and pages are written there and reach the tablet by sync.
    let mut kiosk = Store::open_in_memory()?;
    let partition = Partition::submissions(commune, "kiosk-1")?;
    let mut minter =
        TrackingMinter::new(CommuneCode::new(commune).map_err(sample)?, 1).map_err(sample)?;
    let people = [
        (
            "Nguyễn Thị Mai Anh",
            "079303001234",
            "birth-registration",
            0,
        ),
        (
            "Trần Văn Hùng",
            "001082012345",
            "marital-status-certificate",
            1,
        ),
        (
            "Đặng Minh Khoa",
            "048208009876",
            "temporary-residence-registration",
            2,
        ),
        (
            "Hờ Văn Pao",
            "002096007788",
            "poor-household-confirmation",
            3,
        ),
        ("Lê Văn Tâm", "038090001111", "death-registration", 4),
        ("Phạm Thị Hoa", "079185002222", "birth-registration", 5),
        ("Võ Minh Tuấn", "048299003333", "signature-certification", 6),
        ("Nguyễn Văn Bình", "001075004444", "social-allowance", 7),
    ];
    let officer = Actor::on_device(Role::Officer, format!("officer:{commune}:1"), "tablet-2");
    let mut codes = Vec::new();
    for (i, (name, id, procedure, step)) in people.iter().enumerate() {
        let created = now
            .checked_sub(Span::new().hours(24 * (i as i64 * 3 + 1)))
            .map_err(sample)?;
        let mut d = Dossier::new(
            format!("sample-{i}"),
            ProcedureCode((*procedure).into()),
            Applicant {
                id_number: (*id).into(),
                full_name: (*name).into(),
                submitter: Submitter::Oneself,
                card_verified: i % 4 != 3,
            },
            if i % 3 == 2 {
                Channel::Helper
            } else {
                Channel::Kiosk
            },
            created,
        );
        d.values
            .insert("requester_full_name".into(), (*name).into());
        d.values.insert("requester_id_number".into(), (*id).into());
        let page = crate::papers::sample_page(i as u8, 620, 877);
        let hash = kiosk.put_blob(&partition, &page)?;
        d.attachments.push(AttachmentRef {
            paper: "birth_certificate".into(),
            sha256: hash.to_hex(),
            media_type: "image/png".into(),
            bytes: page.len() as u64,
        });
        // One resident let the commune fetch their earlier results: the hub attached one.
        let earlier = *name == EARLIER_RESULT_HOLDER;
        if earlier {
            let hash = kiosk.put_blob(&partition, SAMPLE_PDF)?;
            d.attachments.push(AttachmentRef {
                paper: EARLIER_RESULT_PAPER.into(),
                sha256: hash.to_hex(),
                media_type: PDF.into(),
                bytes: SAMPLE_PDF.len() as u64,
            });
        }
        d.consent = Some(Consent {
            given_at: created,
            text_version: "consent.v1".into(),
            reuse_for_later: false,
            assisted_by: None,
            fetch_earlier_results: earlier,
        });
        let code = minter
            .mint(xaso_services::calendar::vietnam_date(created))
            .map_err(sample)?;
        d.tracking_code = Some(code.clone());
        d.apply(
            Action::Submit,
            Actor::on_device(Role::Resident, "kiosk", "kiosk-1"),
            None,
            created,
        )
        .map_err(sample)?;
        let steps: &[(Action, Option<&str>)] = match step {
            0 => &[],
            1 => &[(Action::Receive, None)],
            2 | 5 => &[(Action::Receive, None), (Action::StartProcessing, None)],
            3 => &[
                (Action::Receive, None),
                (Action::StartProcessing, None),
                (
                    Action::RequestSupplement,
                    Some("Cần bản sao sổ hộ nghèo năm trước"),
                ),
            ],
            _ => &[(Action::Receive, None), (Action::StartProcessing, None)],
        };
        for (action, reason) in steps {
            d.apply(*action, officer.clone(), *reason, created)
                .map_err(sample)?;
        }
        let record = format!("dossier-{code}");
        kiosk.put(&partition, &record, &d)?;
        codes.push(record);
    }
    // Two tablets decide the same dossier offline: approved on one, rejected on the other.
    let mut hub = Store::open_in_memory()?;
    sync_into(&mut kiosk, &mut hub)?;
    let mut a = Store::open_in_memory()?;
    let mut b = Store::open_in_memory()?;
    sync_into(&mut a, &mut hub)?;
    sync_into(&mut b, &mut hub)?;
    let contested = &codes[5];
    for (store, action, reason, who) in [
        (&mut a, Action::Approve, None, "tablet-2"),
        (
            &mut b,
            Action::Reject,
            Some("Giấy chứng sinh không hợp lệ"),
            "tablet-3",
        ),
    ] {
        let mut d: Dossier = store
            .get(&partition, contested)?
            .ok_or_else(|| sample("missing"))?;
        d.apply(
            action,
            Actor::on_device(Role::Officer, format!("officer:{commune}:2"), who),
            reason,
            now,
        )
        .map_err(sample)?;
        store.put(&partition, contested, &d)?;
        sync_into(store, &mut hub)?;
    }
    // Ratings of the month.
    for (i, level) in [
        Satisfaction::VerySatisfied,
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Satisfied,
        Satisfaction::Satisfied,
        Satisfaction::Acceptable,
        Satisfaction::NotSatisfied,
    ]
    .into_iter()
    .enumerate()
    {
        let r = Rating {
            id: format!("sample-{i}"),
            commune: CommuneCode::new(commune).map_err(sample)?,
            procedure: ProcedureCode(people[i % people.len()].2.into()),
            level,
            reason: None,
            at: now,
        };
        hub.put(&partition, &format!("rating-{}", r.id), &r)?;
    }
    sync_into(&mut tablet, &mut hub)?;
    // The pages (blobs) travel by their own transfer; the sample copies them across.
    for info in tablet.missing_blobs(&partition)? {
        if let Some(bytes) = hub
            .blob(&partition, &info.hash)?
            .or(kiosk.blob(&partition, &info.hash)?)
        {
            tablet.put_blob(&partition, &bytes)?;
        }
    }
    Ok(())
}

/// Renders every officer screen at both tablet sizes into `dir/<size>/NN-name.png`.
pub fn screenshots(
    app: &OfficerApp,
    headless: &Headless,
    dir: &Path,
) -> Result<Vec<PathBuf>, TourError> {
    let mut written = Vec::new();
    let mut n = 0;
    let mut shot = |app: &OfficerApp, name: &str| -> Result<(), TourError> {
        app.tick();
        n += 1;
        for (size, w, h) in TABLET_SIZES {
            let sub = dir.join(size);
            std::fs::create_dir_all(&sub).map_err(sample)?;
            let path = sub.join(format!("{n:02}-{name}.png"));
            save_png(&headless.render(w, h), &path)?;
            written.push(path);
        }
        Ok(())
    };
    shot(app, "sign-in")?;
    app.push(I::PlaceCard(DEMO_OFFICER.into()));
    for d in DEMO_PIN.chars().take(4) {
        app.push(I::Digit(d));
    }
    shot(app, "choose-pin")?;
    for d in DEMO_PIN.chars().skip(4) {
        app.push(I::Digit(d));
    }
    app.push(I::PinOk);
    for d in DEMO_PIN.chars() {
        app.push(I::Digit(d));
    }
    app.push(I::PinOk);
    shot(app, "queue")?;
    app.push(I::StartSearch);
    for ch in "nguyen".chars() {
        app.push(I::Key(ch));
    }
    shot(app, "search")?;
    app.push(I::ClearText);
    app.push(I::KeyboardDone);
    // The contested dossier first in the queue: its conflict.
    let first = app.with_shell(|s| {
        s.queue()
            .rows
            .first()
            .map(|r| format!("{}|{}", r.partition, r.record_id))
    });
    if let Some(id) = first {
        app.push(I::OpenDossier(id));
        shot(app, "decision-conflict")?;
    }
    // A dossier in processing: pages zoomed, then a supplement request with its reason.
    let processing = app.with_shell(|s| {
        s.queue()
            .rows
            .iter()
            .find(|r| !r.conflict && r.state == xaso_services::DossierState::InProcessing)
            .map(|r| format!("{}|{}", r.partition, r.record_id))
    });
    if let Some(id) = processing {
        app.push(I::OpenDossier(id));
        app.push(I::Desk(DeskInput::ZoomIn(0)));
        shot(app, "dossier")?;
        app.push(I::Desk(DeskInput::Choose(Action::RequestSupplement)));
        app.push(I::StartReason);
        for ch in "Caanf banr sao".chars() {
            app.push(I::Key(ch));
        }
        shot(app, "supplement-reason")?;
        app.push(I::Desk(DeskInput::Cancel));
    }
    // The dossier with a result issued earlier, fetched from the portal (a PDF).
    let earlier = app.with_shell(|s| {
        s.queue()
            .rows
            .iter()
            .find(|r| r.full_name == EARLIER_RESULT_HOLDER)
            .map(|r| format!("{}|{}", r.partition, r.record_id))
    });
    if let Some(id) = earlier {
        app.push(I::OpenDossier(id));
        shot(app, "earlier-result")?;
    }
    app.push(I::Open(OfficerView::Sync));
    shot(app, "sync")?;
    app.push(I::Open(OfficerView::Dashboard));
    shot(app, "dashboard")?;
    // A learner's certificate, checked offline: its QR code typed by the wedge scanner.
    app.push(I::Open(OfficerView::Certificates));
    let code = app.with_shell(|s| sample_certificate(s.commune(), s.today()))?;
    app.push(I::CertificateText(code));
    shot(app, "certificate")?;
    Ok(written)
}
