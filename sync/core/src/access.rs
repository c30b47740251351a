//! Who may see what: device roles and the partition scope of each.
//!
//! Officers and provincial devices read and write every partition of their
//! communes; kiosks and helper tablets only their own submissions partition
//! `<commune>/kiosk/<device_id>` ([`Partition::submissions`]).

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
    /// May this device read and write `partition`?
    pub fn may_access(&self, partition: &Partition) -> bool {
        let commune = partition.commune();
        if !self.communes.iter().any(|c| c == commune) {
            return false;
        }
        if self.role.sees_communes() {
            return true;
        }
        Partition::submissions(commune, &self.device_id).is_ok_and(|own| own == *partition)
    }

    /// Where discovery looks for this device (partition-name prefixes): an
    /// officer's communes; a kiosk's or helper's own submissions partitions
    /// only, so a commune with a thousand kiosks costs each kiosk one lookup,
    /// not a thousand.
    pub fn discovery_scopes(&self) -> Vec<String> {
        if self.role.sees_communes() {
            return self.communes.clone();
        }
        self.communes
            .iter()
            .filter_map(|c| Partition::submissions(c, &self.device_id).ok())
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
        for role in [Role::Kiosk, Role::Helper] {
            let d = device(role);
            assert!(d.may_access(&own));
            assert!(!d.may_access(&other));
            assert!(!d.may_access(&commune));
            assert_eq!(d.discovery_scopes(), ["79001/kiosk/dev-1"]);
        }
        for role in [Role::Officer, Role::Provincial] {
            let d = device(role);
            assert!(d.may_access(&own) && d.may_access(&other) && d.may_access(&commune));
            assert!(!d.may_access(&elsewhere));
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
