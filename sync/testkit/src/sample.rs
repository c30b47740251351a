//! Synthetic dossiers for tests and benchmarks (no real personal data):
//! about the size of a real one (~1.2 KB as a saved Automerge document).

use serde_json::{Value, json};

/// A synthetic dossier number `n`.
pub fn dossier(n: u64) -> Value {
    let names = [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Hoàng Cường",
        "Phạm Thị Dung",
        "Hoàng Minh Đức",
    ];
    let streets = [
        "Đường Lê Lợi",
        "Đường Trần Hưng Đạo",
        "Ngõ 12 Phố Huế",
        "Thôn Đông",
        "Ấp Bình Minh",
    ];
    json!({
        "tracking_code": format!("79001-2026-{n:07}"),
        "procedure": "dang-ky-khai-sinh",
        "status": "submitted",
        "submitted_at": format!("2026-11-{:02}T{:02}:{:02}:00+07:00", 1 + n % 28, 7 + n % 10, n % 60),
        "channel": "kiosk",
        "applicant": {
            "full_name": names[(n % 5) as usize],
            "id_number": format!("0790{:08}", n * 7919 % 100_000_000),
            "date_of_birth": format!("{:02}/{:02}/{}", 1 + n % 28, 1 + n % 12, 1960 + n % 45),
            "sex": if n.is_multiple_of(2) { "Nam" } else { "Nữ" },
            "phone": format!("09{:08}", n * 104_729 % 100_000_000),
            "address": format!("Số {} {}, Phường {}, Thành phố Hồ Chí Minh", 1 + n % 300, streets[(n % 5) as usize], 1 + n % 20),
        },
        "subject": {
            "full_name": format!("{} (con)", names[((n + 2) % 5) as usize]),
            "date_of_birth": format!("{:02}/{:02}/2026", 1 + n % 28, 1 + n % 10),
            "place_of_birth": "Bệnh viện Hùng Vương",
            "father": names[((n + 1) % 5) as usize],
            "mother": names[((n + 3) % 5) as usize],
        },
        "fields": {
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "relationship": "cha",
            "copies": 1 + n % 3,
            "notes": format!("Hồ sơ số {n}: đã kiểm tra giấy chứng sinh, bản sao căn cước của cha và mẹ."),
        },
        "attachments": [
            {"name": "giay-chung-sinh.jpg", "sha256": format!("{:064x}", n as u128 * 0x9e37_79b9_7f4a_7c15), "bytes": 182_000 + n % 1000},
            {"name": "cccd-cha.jpg", "sha256": format!("{:064x}", (n as u128 + 1) * 0x85eb_ca6b), "bytes": 95_000 + n % 500},
        ],
        "fee_vnd": 0,
        "consent": {"given": true, "at": "2026-11-20T08:15:00+07:00", "text_version": "v1"},
    })
}

/// A synthetic page photo: a JPEG header and `len` bytes that do not compress.
pub fn page(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0];
    while out.len() < len {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push((state >> 33) as u8);
    }
    out.truncate(len);
    out
}

/// A real [`Dossier`](xaso_services::Dossier) number `n` of commune `commune`, handed in at
/// the kiosk with device number `device` at `t0` plus `n` minutes, then taken through the
/// first `steps` of receive → start processing → approve → result ready → returned
/// (each a minute after the one before). Its record id is `dossier-<tracking code>`.
pub fn processed_dossier(
    n: u32,
    commune: &str,
    device: u16,
    t0: jiff::Timestamp,
    steps: usize,
) -> Result<(String, xaso_services::Dossier), Box<dyn std::error::Error + Send + Sync>> {
    use xaso_services::tracking::{CommuneCode, TrackingCode};
    use xaso_services::{
        Action, Actor, Applicant, Channel, Consent, Dossier, ProcedureCode, Role, Submitter,
    };
    let procedures = [
        "birth-registration",
        "death-registration",
        "marital-status-certificate",
        "signature-certification",
        "temporary-residence-registration",
    ];
    let names = [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Hoàng Cường",
        "Phạm Thị Dung",
        "Hoàng Minh Đức",
    ];
    let minute = jiff::SignedDuration::from_mins(1);
    let mut at = t0.checked_add(minute * i32::try_from(n)?)?;
    let mut d = Dossier::new(
        format!("d{n}"),
        ProcedureCode(procedures[n as usize % procedures.len()].into()),
        Applicant {
            id_number: format!("0790{:08}", u64::from(n) * 7919 % 100_000_000),
            full_name: names[n as usize % names.len()].into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        at,
    );
    d.consent = Some(Consent {
        given_at: at,
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    // one code per dossier: the day's sequence is n
    let day = xaso_services::calendar::vietnam_date(t0);
    let code = TrackingCode::new(CommuneCode::new(commune)?, day, device, u16::try_from(n)?)?;
    d.tracking_code = Some(code.clone());
    d.apply(
        Action::Submit,
        Actor::new(Role::Resident, "kiosk"),
        None,
        at,
    )?;
    let officer = Actor::on_device(Role::Officer, format!("officer:{commune}:1"), "tablet-1");
    for action in [
        Action::Receive,
        Action::StartProcessing,
        Action::Approve,
        Action::MarkResultReady,
        Action::ReturnResult,
    ]
    .into_iter()
    .take(steps)
    {
        at = at.checked_add(minute)?;
        d.apply(action, officer.clone(), None, at)?;
    }
    Ok((format!("dossier-{code}"), d))
}
