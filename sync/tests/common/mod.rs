//! Helpers shared by the sync integration tests: a real hub on loopback,
//! enrolled devices, synthetic page images, hub metrics.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // not every test binary uses every helper; tests may unwrap

use std::time::Duration;

use xaso_sync::client::{self, Identity, SyncClient};
use xaso_sync::hub::{Hub, HubConfig, HubHandle, Role};

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

/// A counter from the hub's `/metrics` text.
pub fn metric(hub: &Hub, name: &str) -> u64 {
    hub.metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metric {name} missing"))
}
