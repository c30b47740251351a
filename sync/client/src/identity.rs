//! A device's credentials as issued at enrolment, kept in a file of mode 0600.

use std::path::Path;

use serde::{Deserialize, Serialize};
use xaso_sync_core::{Partition, Role};

use crate::Error;

/// A device's credentials, as issued at enrolment.
#[derive(Clone, Serialize, Deserialize)]
pub struct Identity {
    /// Device id.
    pub device_id: String,
    /// Role.
    pub role: Role,
    /// Communes.
    pub communes: Vec<String>,
    /// Device certificate.
    pub cert_pem: String,
    /// Device private key (never leaves the device).
    pub key_pem: String,
    /// Hub CA certificate.
    pub ca_pem: String,
    /// Number within the commune for tracking codes, given at enrolment
    /// (`None` in identities saved before hubs gave numbers: enrol again).
    #[serde(default)]
    pub device_number: Option<u16>,
    /// The hub's own certificate as given at enrolment: presented again, it
    /// is trusted without checking its chain (`None`: always check the chain).
    #[serde(default)]
    pub hub_cert_pem: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("device_id", &self.device_id)
            .field("role", &self.role)
            .field("device_number", &self.device_number)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Write to `path` (JSON, mode 0600, fsynced).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let json = serde_json::to_vec_pretty(self).map_err(Error::IdentityFormat)?;
        let tmp = path.with_extension("tmp");
        let io = |e| Error::Io {
            context: format!("write {}", path.display()),
            source: e,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    /// Read from `path`.
    pub fn load(path: &Path) -> Result<Identity, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            context: format!("read {}", path.display()),
            source: e,
        })?;
        serde_json::from_slice(&bytes).map_err(Error::IdentityFormat)
    }

    /// The partition where this device keeps its own submissions (kiosks, helpers).
    pub fn submissions_partition(&self) -> Result<Partition, Error> {
        let commune = self.communes.first().ok_or(Error::NoCommune)?;
        Ok(Partition::submissions(commune, &self.device_id)?)
    }

    /// The commune's learning partition (digital-skills progress and classes), which
    /// kiosks and helper tablets read and write.
    pub fn learning_partition(&self) -> Result<Partition, Error> {
        let commune = self.communes.first().ok_or(Error::NoCommune)?;
        Ok(Partition::learning(commune)?)
    }
}
