//! What a kiosk asks the hub for a resident whose dossier lives on another device: the
//! dossier handed in at kiosk K, looked up and supplemented at kiosk K2.
//!
//! A kiosk reads and writes only its own partition, so K2 cannot hold K's dossiers. With
//! a link, K2 asks the hub: the tracking code (printed on the receipt) names the commune
//! and the number of the device that minted it, hence the partition; the ID number read
//! from the resident's verified card must be the dossier's applicant's, or the hub
//! answers "not found" exactly as for an unknown code. Supplement pages travel in the
//! request; the hub stores them in the dossier's partition and takes the supplement
//! step, so K and the officers receive both with their next sync.

use serde::{Deserialize, Serialize};

/// `POST /v1/counter/lookup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierLookup {
    pub tracking_code: String,
    /// From the resident's card, verified on the kiosk.
    pub id_number: String,
}

/// The answer: the dossier as JSON (the hub does not interpret more than it must).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DossierFound {
    pub partition: String,
    pub record_id: String,
    pub dossier: serde_json::Value,
}

/// One page of a supplement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementPage {
    /// Which paper of the procedure it is.
    pub paper: String,
    pub media_type: String,
    /// The image, base64 in JSON.
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// `POST /v1/counter/supplement`: answered with [`DossierFound`] after the change is
/// durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequest {
    pub tracking_code: String,
    pub id_number: String,
    pub pages: Vec<SupplementPage>,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pages_travel_as_base64_and_come_back_whole() {
        let request = SupplementRequest {
            tracking_code: "79001-261123-01-0001".into(),
            id_number: "079303001234".into(),
            pages: vec![SupplementPage {
                paper: "birth_certificate".into(),
                media_type: "image/jpeg".into(),
                bytes: vec![0, 1, 2, 255],
            }],
        };
        let json = serde_json::to_string(&request).unwrap();
        assert!(json.contains("\"AAEC/w==\""));
        assert_eq!(
            serde_json::from_str::<SupplementRequest>(&json).unwrap(),
            request
        );
        assert!(
            serde_json::from_str::<SupplementRequest>(&json.replace("AAEC/w==", "%%")).is_err()
        );
    }
}
