//! Who may see what: device roles and the partition scope of each.
//!
//! Officers and provincial devices read and write every partition of their
//! communes; kiosks and helper tablets read and write only their own
//! submissions partition `<commune>/kiosk/<device_id>`
//! ([`Partition::submissions`]), and **read** the commune's public partition
//! `<commune>/public` ([`Partition::public`]: the roster of officers and
//! helpers, reference data), which only officers, provincial devices and the
//! hub itself write. Kiosks and helper tablets also read **and write** the
//! commune's learning partition `<commune>/learning` ([`Partition::learning`]):
//! digital-skills progress and classes, which a learner continues on any kiosk of
//! the commune; it holds no dossier.

use serde::{Deserialize, Serialize};

use crate::{Error, Partition};

/// What a device is for; decides what it may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A commune kiosk used by residents: sees only what it submitted.
    Kiosk,
    /// A community digital-technology helper's tablet: only its own submissions.
    Helper,
    /// A commune officer's tablet: all partitions of its communes.
    Officer,
    /// A provincial device: all partitions of the communes it is given.
    Provincial,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Kiosk, Role::Helper, Role::Officer, Role::Provincial];

    /// Name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Helper => "helper",
            Role::Officer => "officer",
            Role::Provincial => "provincial",
        }
    }

    /// Does this role see whole communes (not only its own submissions)?
    pub fn sees_communes(self) -> bool {
        matches!(self, Role::Officer | Role::Provincial)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::UnknownRole(s.chars().take(40).collect()))
    }
}

/// An enrolled device as the hub knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Id issued at enrolment (also the certificate's common name).
    pub device_id: String,
    /// Role.
    pub role: Role,
    /// Commune codes it may access.
    pub communes: Vec<String>,
    /// Revoked devices are refused.
    pub revoked: bool,
}

impl Device {
    fn in_commune(&self, partition: &Partition) -> bool {
        self.communes.iter().any(|c| c == partition.commune())
    }

    fn owns(&self, partition: &Partition) -> bool {
        Partition::submissions(partition.commune(), &self.device_id)
            .is_ok_and(|own| own == *partition)
    }

    /// May this device write `partition` (push changes, upload blobs)?
    pub fn may_write(&self, partition: &Partition) -> bool {
        self.in_commune(partition)
            && (self.role.sees_communes() || self.owns(partition) || partition.is_learning())
    }

    /// May this device read `partition` (receive changes, download blobs)?
    pub fn may_read(&self, partition: &Partition) -> bool {
        self.may_write(partition) || (self.in_commune(partition) && partition.is_public())
    }

    /// Where discovery looks for this device (partition-name prefixes): an
    /// officer's communes; a kiosk's or helper's own submissions partitions
    /// and its communes' public and learning partitions only, so a commune with a
    /// thousand kiosks costs each kiosk three lookups, not a thousand.
    pub fn discovery_scopes(&self) -> Vec<String> {
        if self.role.sees_communes() {
            return self.communes.clone();
        }
        self.communes
            .iter()
            .flat_map(|c| {
                [
                    Partition::submissions(c, &self.device_id),
                    Partition::public(c),
                    Partition::learning(c),
                ]
            })
            .filter_map(Result::ok)
            .map(String::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn device(role: Role) -> Device {
        Device {
            device_id: "dev-1".into(),
            role,
            communes: vec!["79001".into()],
            revoked: false,
        }
    }

    #[test]
    fn kiosks_see_their_own_submissions_and_officers_their_communes() {
        let own = Partition::new("79001/kiosk/dev-1").unwrap();
        let other = Partition::new("79001/kiosk/dev-2").unwrap();
        let commune = Partition::new("79001").unwrap();
        let elsewhere = Partition::new("79002").unwrap();
        let public = Partition::public("79001").unwrap();
        let public_elsewhere = Partition::public("79002").unwrap();
        let learning = Partition::learning("79001").unwrap();
        let learning_elsewhere = Partition::learning("79002").unwrap();
        for role in [Role::Kiosk, Role::Helper] {
            let d = device(role);
            assert!(d.may_write(&own) && d.may_read(&own));
            assert!(!d.may_read(&other) && !d.may_write(&other));
            assert!(!d.may_read(&commune) && !d.may_write(&commune));
            // The commune's public partition: read, never write.
            assert!(d.may_read(&public) && !d.may_write(&public));
            assert!(!d.may_read(&public_elsewhere));
            // The commune's learning partition: read and write; another commune's: neither.
            assert!(d.may_read(&learning) && d.may_write(&learning));
            assert!(!d.may_read(&learning_elsewhere) && !d.may_write(&learning_elsewhere));
            assert_eq!(
                d.discovery_scopes(),
                ["79001/kiosk/dev-1", "79001/public", "79001/learning"]
            );
        }
        for role in [Role::Officer, Role::Provincial] {
            let d = device(role);
            for p in [&own, &other, &commune, &public, &learning] {
                assert!(d.may_read(p) && d.may_write(p), "{p}");
            }
            assert!(!d.may_read(&elsewhere) && !d.may_write(&elsewhere));
            assert_eq!(d.discovery_scopes(), ["79001"]);
        }
    }

    #[test]
    fn roles_round_trip_by_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!(matches!(
            "mayor".parse::<Role>(),
            Err(Error::UnknownRole(_))
        ));
    }
}
