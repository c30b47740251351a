//! The commune's roster: who may sign in on an officer's or a helper's tablet.
//!
//! The roster is one record, [`ROSTER_RECORD`], in the commune's public partition
//! (`<commune>/public`), written by the commune hub's administrator (`xaso-hub roster …`)
//! and read by every device of the commune. A person is found by their chip card: the
//! roster keeps a keyed hash of the ID number ([`person_key`]), never the number itself,
//! with the name shown on screen and the actor id written into audit entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Record id of the roster in the commune's public partition.
pub const ROSTER_RECORD: &str = "roster";

/// What a person on the roster does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// A commune officer: processes dossiers.
    Officer,
    /// A member of a community digital-technology group: helps residents.
    Helper,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Officer => "officer",
            StaffRole::Helper => "helper",
        }
    }
}

/// One person on the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterPerson {
    /// The name shown on screen and on the documents they sign.
    pub display_name: String,
    pub role: StaffRole,
    /// Their number in the commune, for their actor id; never reused.
    pub number: u32,
    /// Removed people keep their entry (their past actions still name them) but cannot
    /// sign in.
    pub active: bool,
}

impl RosterPerson {
    /// The id written into audit entries: `officer:79001:3`.
    pub fn actor_id(&self, commune: &str) -> String {
        format!("{}:{commune}:{}", self.role.as_str(), self.number)
    }
}

/// The roster of one commune.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// By [`person_key`].
    pub people: BTreeMap<String, RosterPerson>,
}

/// How the roster names a person: SHA-256 of a fixed label, the commune code and the ID
/// number, hex. It keeps the number itself out of a record every device of the commune
/// holds (a 12-digit number can still be found by trying them all: the roster is not
/// public data).
pub fn person_key(commune: &str, id_number: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"xaso roster v1\0");
    hasher.update(commune.as_bytes());
    hasher.update(b"\0");
    hasher.update(id_number.as_bytes());
    hex::encode(hasher.finalize())
}

impl Roster {
    /// The active person with this ID number in `role`, if any.
    pub fn find(&self, commune: &str, id_number: &str, role: StaffRole) -> Option<&RosterPerson> {
        self.people
            .get(&person_key(commune, id_number))
            .filter(|p| p.active && p.role == role)
    }

    /// Adds (or re-activates, renames, changes the role of) a person; returns their entry.
    /// A new person gets the next unused number.
    pub fn put(
        &mut self,
        commune: &str,
        id_number: &str,
        display_name: &str,
        role: StaffRole,
    ) -> &RosterPerson {
        let next = self
            .people
            .values()
            .map(|p| p.number)
            .max()
            .map_or(1, |n| n + 1);
        let entry = self
            .people
            .entry(person_key(commune, id_number))
            .or_insert(RosterPerson {
                display_name: String::new(),
                role,
                number: next,
                active: true,
            });
        entry.display_name = display_name.trim().to_owned();
        entry.role = role;
        entry.active = true;
        entry
    }

    /// Removes a person's right to sign in; returns whether they were active.
    pub fn remove(&mut self, commune: &str, id_number: &str) -> bool {
        match self.people.get_mut(&person_key(commune, id_number)) {
            Some(p) if p.active => {
                p.active = false;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_found_by_card_in_their_role_and_never_by_the_number_itself() {
        let mut r = Roster::default();
        let hoa = r.put("79001", "079085001234", "Lê Thị Hoa", StaffRole::Officer);
        assert_eq!(hoa.actor_id("79001"), "officer:79001:1");
        r.put(
            "79001",
            "079090004321",
            " Trần Văn Bình ",
            StaffRole::Helper,
        );
        let found = r.find("79001", "079085001234", StaffRole::Officer);
        assert_eq!(found.map(|p| p.display_name.as_str()), Some("Lê Thị Hoa"));
        assert!(r.find("79001", "079085001234", StaffRole::Helper).is_none());
        assert!(
            r.find("79002", "079085001234", StaffRole::Officer)
                .is_none()
        );
        assert_eq!(
            r.find("79001", "079090004321", StaffRole::Helper)
                .map(|p| (p.display_name.as_str(), p.number)),
            Some(("Trần Văn Bình", 2))
        );
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(!json.contains("079085001234") && !json.contains("079090004321"));
    }

    #[test]
    fn a_removed_person_cannot_sign_in_and_keeps_their_number() {
        let mut r = Roster::default();
        r.put("79001", "079085001234", "Lê Thị Hoa", StaffRole::Officer);
        assert!(r.remove("79001", "079085001234"));
        assert!(!r.remove("79001", "079085001234"));
        assert!(
            r.find("79001", "079085001234", StaffRole::Officer)
                .is_none()
        );
        r.put("79001", "079090004321", "Trần Văn Bình", StaffRole::Officer);
        let back = r.put("79001", "079085001234", "Lê Thị Hoa", StaffRole::Officer);
        assert_eq!(back.number, 1, "numbers are never reused");
        assert_eq!(
            r.find("79001", "079090004321", StaffRole::Officer)
                .map(|p| p.number),
            Some(2)
        );
    }
}
