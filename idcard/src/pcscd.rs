//! Start pcscd for tests, benchmarks and demos (with vsmartcard-vpcd installed it shows the
//! readers "Virtual PCD 00 00" / "00 01"). If a pcscd that shows the vpcd reader is already
//! running (someone else's), it is used and left alone; otherwise `/usr/sbin/pcscd -f` is
//! started and stopped again, by its pid, when the guard drops.

use crate::transport::list_readers;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first vpcd reader.
pub const VPCD_READER: &str = "Virtual PCD 00 00";
pub const PCSCD: &str = "/usr/sbin/pcscd";

/// A running pcscd; stops it on drop if this process started it.
pub struct Pcscd(Option<Child>);

fn vpcd_visible() -> bool {
    list_readers()
        .map(|r| r.iter().any(|n| n == VPCD_READER))
        .unwrap_or(false)
}

impl Pcscd {
    pub fn ensure() -> std::io::Result<Pcscd> {
        if vpcd_visible() {
            return Ok(Pcscd(None));
        }
        // A pcscd may be starting up (another test process): give it a moment.
        if std::path::Path::new("/run/pcscd/pcscd.comm").exists() {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(2) {
                if vpcd_visible() {
                    return Ok(Pcscd(None));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let mut child = Command::new(PCSCD)
            .arg("-f")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if vpcd_visible() {
                return Ok(Pcscd(Some(child)));
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(std::io::Error::other(format!("pcscd exited: {status}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(std::io::Error::other(
            "pcscd did not show the vpcd reader (is vsmartcard-vpcd installed?)",
        ))
    }

    /// True if this guard started pcscd.
    pub fn started_here(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
