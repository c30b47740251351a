//! The receipt printer port: ESC/POS bytes to a device.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A receipt printer.
pub trait ReceiptPrinter {
    /// Sends the printer's bytes (ESC/POS) for one receipt.
    fn print(&mut self, bytes: &[u8]) -> std::io::Result<()>;
}

/// An ESC/POS printer behind a device file (`/dev/usb/lp0`) or a plain file, appended to.
pub struct DevicePrinter {
    path: PathBuf,
}

impl DevicePrinter {
    pub fn new(path: &Path) -> DevicePrinter {
        DevicePrinter {
            path: path.to_owned(),
        }
    }
}

impl ReceiptPrinter for DevicePrinter {
    fn print(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)?
            .write_all(bytes)
    }
}
