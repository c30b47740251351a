//! Helpers shared by the sync integration tests: a real hub on loopback,
//! enrolled devices, synthetic page images, hub metrics.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // not every test binary uses every helper; tests may unwrap

use std::time::Duration;

use xaso_hub::{Hub, HubConfig, HubHandle};
use xaso_sync_client::{self as client, Identity, SyncClient};
use xaso_sync_core::Role;

/// A hub serving HTTPS on a loopback port, its directory removed on drop.
pub struct TestHub {
    pub hub: Hub,
    pub url: String,
    pub handle: HubHandle,
    _dir: tempfile::TempDir,
}

pub async fn start_hub() -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(dir.path().join("hub"))).unwrap();
    let (addr, handle) = hub
        .clone()
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    TestHub {
        hub,
        url: format!("https://127.0.0.1:{}", addr.port()),
        handle,
        _dir: dir,
    }
}

/// Enrol a device of `role` for `communes` and make its client.
pub async fn device(hub: &TestHub, role: Role, communes: &[&str]) -> (Identity, SyncClient) {
    let code = hub
        .hub
        .create_enrolment_code(role, communes, Duration::from_secs(600))
        .unwrap();
    let identity = client::enrol(&hub.url, hub.hub.ca_pem(), &code)
        .await
        .unwrap();
    let client = SyncClient::new(&hub.url, &identity).unwrap();
    (identity, client)
}

#[allow(unused_imports)] // not every test binary sends pages
pub use xaso_sync_testkit::sample::page;

/// A counter from the hub's `/metrics` text.
pub fn metric(hub: &Hub, name: &str) -> u64 {
    hub.metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metric {name} missing"))
}
