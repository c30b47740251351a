//! A hand-built commune: dossiers and ratings with known figures (see `fixture.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use jiff::Timestamp;
use jiff::civil::{Date, date};
use xaso_services::catalog::{ProcedureCode, Submitter};
use xaso_services::dossier::{Action, Actor, Applicant, Channel, Consent, Dossier, Role};
use xaso_services::rating::{Rating, Satisfaction};
use xaso_services::tracking::{CommuneCode, TrackingCode};

pub const COMMUNE: &str = "79001";

pub fn commune() -> CommuneCode {
    CommuneCode::new(COMMUNE).unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Personal data the anonymiser must never let out.
pub const NAMES: [&str; 3] = ["Trần Thị Mai", "Lê Hoàng Phúc", "Nguyễn Văn Bảy"];
pub const ID_NUMBERS: [&str; 3] = ["079123456789", "001098765432", "036203004455"];
pub const PHONES: [&str; 2] = ["0912345678", "+84 912 345 678"];
pub const ADDRESSES: [&str; 2] = [
    "Số 12 đường Lạc Long Quân, ấp Bình Lợi",
    "Tổ 5, khu phố Tây Hòa, phường Phước Long",
];

/// A submitted dossier (submitted and received at `at`), then `steps` by an officer.
pub fn dossier(
    n: usize,
    commune: &str,
    procedure: &str,
    channel: Channel,
    at: &str,
    steps: &[(Action, &str)],
) -> Dossier {
    let i = n % 3;
    let mut d = Dossier::new(
        format!("d{n}"),
        ProcedureCode(procedure.into()),
        Applicant {
            id_number: ID_NUMBERS[i].into(),
            full_name: NAMES[i].into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        channel,
        ts(at),
    );
    d.values.insert("full_name".into(), NAMES[i].into());
    d.values.insert("id_number".into(), ID_NUMBERS[i].into());
    d.values.insert("phone".into(), PHONES[n % 2].into());
    d.values.insert("address".into(), ADDRESSES[n % 2].into());
    d.values.insert(
        "note".into(),
        format!(
            "Người nộp {} (CCCD {}), gọi {} — {}",
            NAMES[i],
            ID_NUMBERS[i],
            PHONES[n % 2],
            ADDRESSES[n % 2]
        ),
    );
    d.consent = Some(Consent {
        given_at: ts(at),
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let day = xaso_services::calendar::vietnam_date(ts(at));
    let code = CommuneCode::new(commune).unwrap();
    d.tracking_code = Some(TrackingCode::new(code, day, 1, n as u16).unwrap());
    let resident = Actor::new(Role::Resident, "kiosk-1");
    let officer = Actor::new(Role::Officer, "officer:79001:1");
    d.apply(Action::Submit, resident, None, ts(at)).unwrap();
    let reason = format!(
        "Ông {} số {} điện thoại {} ở {}",
        NAMES[i],
        ID_NUMBERS[i],
        PHONES[n % 2],
        ADDRESSES[n % 2]
    );
    if steps.first().map(|s| s.0) != Some(Action::Withdraw) {
        d.apply(
            Action::Receive,
            Actor::new(Role::System, "hub"),
            None,
            ts(at),
        )
        .unwrap();
    }
    for (action, when) in steps {
        if *action == Action::Approve || *action == Action::Reject {
            d.apply(Action::StartProcessing, officer.clone(), None, ts(when))
                .unwrap();
        }
        let reason = action.needs_reason().then_some(reason.as_str());
        d.apply(*action, officer.clone(), reason, ts(when)).unwrap();
    }
    d
}

pub fn rating(n: usize, commune: &str, level: Satisfaction, at: &str) -> Rating {
    Rating {
        id: format!("r{n}"),
        commune: CommuneCode::new(commune).unwrap(),
        procedure: ProcedureCode("birth-registration".into()),
        level,
        reason: Some(format!(
            "{} ({}, {}) phàn nàn",
            NAMES[n % 3],
            ID_NUMBERS[n % 3],
            PHONES[n % 2]
        )),
        at: ts(at),
    }
}

pub fn november() -> (Date, Date) {
    (date(2026, 11, 1), date(2026, 11, 30))
}

/// The dossiers of the indicators test (expected figures there).
pub fn dossiers() -> Vec<Dossier> {
    use Action::*;
    use Channel::*;
    let b = "birth-registration";
    let p = "permanent-residence-registration";
    vec![
        // birth registration: 0 working days, due the day it is received
        dossier(
            1,
            COMMUNE,
            b,
            Kiosk,
            "2026-11-02T02:00:00Z",
            &[(Approve, "2026-11-02T08:00:00Z")],
        ),
        dossier(
            2,
            COMMUNE,
            b,
            Kiosk,
            "2026-11-02T02:00:00Z",
            &[(Approve, "2026-11-03T02:00:00Z")],
        ),
        dossier(
            3,
            COMMUNE,
            b,
            Online,
            "2026-11-09T02:00:00Z",
            &[(Reject, "2026-11-09T03:00:00Z")],
        ),
        dossier(
            4,
            COMMUNE,
            b,
            Online,
            "2026-11-09T02:00:00Z",
            &[
                (Approve, "2026-11-09T04:00:00Z"),
                (MarkResultReady, "2026-11-10T02:00:00Z"),
                (ReturnResult, "2026-11-11T02:00:00Z"),
            ],
        ),
        dossier(5, COMMUNE, b, Helper, "2026-11-16T02:00:00Z", &[]),
        dossier(
            6,
            COMMUNE,
            b,
            Officer,
            "2026-11-20T02:00:00Z",
            &[(Withdraw, "2026-11-20T03:00:00Z")],
        ),
        // permanent residence: 7 working days; received Monday 2/11, due Wednesday 11/11
        dossier(
            7,
            COMMUNE,
            p,
            Online,
            "2026-11-02T02:00:00Z",
            &[(Approve, "2026-11-11T09:00:00Z")],
        ),
        dossier(
            8,
            COMMUNE,
            p,
            Kiosk,
            "2026-11-02T02:00:00Z",
            &[(Approve, "2026-11-12T02:00:00Z")],
        ),
        dossier(9, COMMUNE, p, Kiosk, "2026-11-25T02:00:00Z", &[]),
        // submitted in October (due 29/10), decided late in November
        dossier(
            10,
            COMMUNE,
            p,
            Kiosk,
            "2026-10-20T02:00:00Z",
            &[(Approve, "2026-11-03T02:00:00Z")],
        ),
        // 18:00 UTC on 30/11 is 1/12 in Viet Nam: outside the period
        dossier(
            11,
            COMMUNE,
            "marriage-registration",
            Online,
            "2026-11-30T18:00:00Z",
            &[],
        ),
        // another commune
        dossier(
            12,
            "79002",
            b,
            Kiosk,
            "2026-11-05T02:00:00Z",
            &[(Approve, "2026-11-05T03:00:00Z")],
        ),
        // a procedure the catalog does not know: counted, no due date
        dossier(
            13,
            COMMUNE,
            "mystery-procedure",
            Kiosk,
            "2026-11-04T02:00:00Z",
            &[(Approve, "2026-11-04T03:00:00Z")],
        ),
    ]
}

/// 10 very satisfied, 9 satisfied, 1 acceptable in the commune in November (95 %), and two
/// that do not count.
pub fn ratings() -> Vec<Rating> {
    let mut r = Vec::new();
    for n in 0..10 {
        r.push(rating(
            n,
            COMMUNE,
            Satisfaction::VerySatisfied,
            "2026-11-10T02:00:00Z",
        ));
    }
    for n in 10..19 {
        r.push(rating(
            n,
            COMMUNE,
            Satisfaction::Satisfied,
            "2026-11-12T02:00:00Z",
        ));
    }
    r.push(rating(
        19,
        COMMUNE,
        Satisfaction::Acceptable,
        "2026-11-13T02:00:00Z",
    ));
    r.push(rating(
        20,
        "79002",
        Satisfaction::NotSatisfied,
        "2026-11-13T02:00:00Z",
    ));
    r.push(rating(
        21,
        COMMUNE,
        Satisfaction::NotSatisfied,
        "2026-12-01T02:00:00Z",
    ));
    r
}
