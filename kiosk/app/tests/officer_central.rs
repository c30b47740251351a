//! The officer's sync screen and the hub's outbox to the public-service portal, with a real
//! commune hub connected to the portal simulator (`xaso-central-sim`) over HTTPS: a dossier
//! whose ID number has 11 digits is refused by the portal (error code 01); the tablet's sync
//! screen shows the dossier's code and the portal's reason; "Gửi lại" on that row puts it
//! back in the hub's line (the hub's own status says so), and the refusal comes back when
//! the portal refuses it again. Driven through accessible labels.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::officer::{officer, pin};
use common::resident::runtime;
use common::{elements, tap, value_of};

use std::time::{Duration, Instant};

use slint::Model;
use xaso_central_sim::{SimConfig, Simulator};
use xaso_hub::central::{Central, CentralConfig, NationalPortal, PortalConfig};
use xaso_hub::{Hub, HubConfig};
use xaso_kiosk::officer::app::OfficerApp;
use xaso_kiosk::ui::{OfficerScreen, PortalState};
use xaso_services::roster::StaffRole;
use xaso_sync_client as client;
use xaso_sync_core::{Partition, Role};

const COMMUNE: &str = "79001";
const OFFICER_ID: &str = "038175004321";
const OFFICER_NAME: &str = "Lê Thị Thu";

/// Ticks the tablet until `done` holds (the link thread works in the background).
fn until(o: &OfficerApp, what: &str, done: impl Fn(&OfficerApp) -> bool) {
    let started = Instant::now();
    loop {
        o.tick();
        if done(o) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waited too long for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_refusal_of_the_portal_shows_on_the_sync_screen_and_send_again_reaches_the_hub() {
    let rt = runtime();
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(hub_dir.path().join("hub"))).unwrap();
    let (addr, _handle) = rt
        .block_on(hub.clone().spawn("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let url = format!("https://127.0.0.1:{}", addr.port());
    let code = hub
        .create_enrolment_code(Role::Officer, &[COMMUNE], Duration::from_secs(600))
        .unwrap();
    let o_id = rt
        .block_on(client::enrol(&url, hub.ca_pem(), &code))
        .unwrap();
    hub.roster_put(COMMUNE, OFFICER_ID, OFFICER_NAME, StaffRole::Officer)
        .unwrap();

    // The hub talks to the portal (the simulator); rounds are stepped by the test.
    let sim = rt.block_on(Simulator::start(SimConfig::default())).unwrap();
    let central = {
        let _in_runtime = rt.enter();
        let config = CentralConfig {
            portal: PortalConfig {
                base_url: sim.base_url(),
                username: "xaso".into(),
                password: "xaso-sim".into(),
                ca_pem: Some(sim.ca_pem()),
                timeout: Duration::from_secs(2),
            },
            communes: vec![COMMUNE.into()],
            mapping: None,
            rate_per_second: 0.0,
            parallel: 4,
            pull_every: Duration::from_secs(3600),
            policy: xaso_central::Policy {
                first_retry: Duration::from_millis(5),
                max_retry: Duration::from_millis(200),
                breaker_after: 50,
                cool_down: Duration::from_millis(50),
            },
        };
        let portal = NationalPortal::new(config.portal.clone()).unwrap();
        Central::new(&hub, portal, config).unwrap()
    };
    let step_until_dead = |n: u64| {
        let started = Instant::now();
        loop {
            rt.block_on(central.step(jiff::Timestamp::now())).unwrap();
            let status = central.status(jiff::Timestamp::now()).unwrap();
            if status.counts.dead == n && status.counts.pending == status.counts.blocked {
                return status;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{status:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    // A dossier whose ID number was typed with 11 digits: the portal refuses it (01).
    let partition = Partition::new(format!("{COMMUNE}/kiosk/dev-1")).unwrap();
    let t0: jiff::Timestamp = "2026-12-03T02:00:00Z".parse().unwrap();
    let (record, mut bad) =
        xaso_sync_testkit::sample::processed_dossier(1, COMMUNE, 3, t0, 2).unwrap();
    bad.applicant.id_number = "07919000012".into();
    hub.with_store(|s| s.put(&partition, &record, &bad).unwrap())
        .unwrap();
    let status = step_until_dead(1);
    let dead = &status.dead[0];
    let dossier_code = bad.tracking_code.as_ref().unwrap().to_string();
    assert_eq!(dead.code, dossier_code);
    assert_eq!(dead.error_code, "01");

    // The officer's tablet syncs, then asks the hub about its outbox.
    let o_dir = tempfile::tempdir().unwrap();
    let o = officer(o_dir.path(), &url, &o_id, COMMUNE, false);
    until(&o, "the first sync (the roster)", |o| {
        o.with_shell(|s| s.link().syncs >= 1)
    });
    tap(&o.ui, OFFICER_NAME);
    pin(&o, "271828");
    pin(&o, "271828");
    assert_eq!(o.ui.get_screen(), OfficerScreen::Queue);
    tap(&o.ui, "Đồng bộ");
    assert_eq!(o.ui.get_screen(), OfficerScreen::Sync);
    until(&o, "the portal's refusal", |o| {
        o.ui.get_dead_letters().row_count() == 1
    });
    assert_eq!(o.ui.get_portal(), PortalState::Connected);
    let reason = value_of(&o.ui, &dossier_code);
    assert!(
        reason.starts_with("Mã lỗi 01: ") && reason.contains("SoDinhDanh"),
        "{reason}"
    );
    assert!(
        elements(&o.ui, "Gửi lại tất cả").is_empty(),
        "one refusal: no 'send all again'"
    );

    // "Gửi lại" on its row: the hub puts the packet back in line, and the tablet sees it.
    tap(&o.ui, &format!("Gửi lại {dossier_code}"));
    until(&o, "the refusal gone from the sync screen", |o| {
        o.ui.get_dead_letters().row_count() == 0
    });
    let status = central.status(jiff::Timestamp::now()).unwrap();
    assert_eq!(status.counts.dead, 0, "back in line at the hub");
    assert!(status.counts.pending > 0);
    assert!(!o.with_shell(|s| s.link().retry_failed));

    // Sent as it is, the portal refuses it again; the next sync shows it again.
    step_until_dead(1);
    tap(&o.ui, "Đồng bộ ngay");
    until(&o, "the refusal back on the sync screen", |o| {
        o.ui.get_dead_letters().row_count() == 1
    });
    assert_eq!(sim.snapshot().dossiers.len(), 0, "nothing accepted");
}

#[test]
fn the_kiosks_paper_id_of_an_earlier_result_is_the_hubs() {
    assert_eq!(
        xaso_kiosk::officer::attachment::EARLIER_RESULT_PAPER,
        xaso_central::inbound::EARLIER_RESULT_PAPER
    );
}
