//! Demo mode: synthetic residents whose cards can be "placed" on the reader, sample papers,
//! and the scripted resident session used by the headless demo and the screenshot tour.

use std::path::Path;

use xaso_services::CardField;

use xaso_kiosk_core::{CardEvent, CardIdentity, CardProblem};

use crate::card_reader::{CardReader, DemoResident};

/// A synthetic resident (no real person): what their chip card holds.
#[derive(Debug, Clone)]
pub struct Resident {
    pub key: &'static str,
    pub fields: &'static [(CardField, &'static str)],
}

/// Synthetic residents. The ID numbers are well formed (province, century and sex digits agree
/// with the birth data) but belong to nobody.
pub const RESIDENTS: &[Resident] = &[
    Resident {
        key: "hoa",
        fields: &[
            (CardField::IdNumber, "001195012345"),
            (CardField::FullName, "Nguyễn Thị Hoa"),
            (CardField::DateOfBirth, "1995-04-12"),
            (CardField::Sex, "female"),
            (CardField::Nationality, "Việt Nam"),
            (CardField::Ethnicity, "Kinh"),
            (
                CardField::PlaceOfOrigin,
                "Xã Tân Lập, Huyện Đan Phượng, Hà Nội",
            ),
            (
                CardField::PlaceOfResidence,
                "Thôn Thượng, Xã Tân Lập, Huyện Đan Phượng, Hà Nội",
            ),
        ],
    },
    Resident {
        key: "minh",
        fields: &[
            (CardField::IdNumber, "001090067890"),
            (CardField::FullName, "Trần Văn Minh"),
            (CardField::DateOfBirth, "1990-09-02"),
            (CardField::Sex, "male"),
            (CardField::Nationality, "Việt Nam"),
            (CardField::Ethnicity, "Kinh"),
            (
                CardField::PlaceOfResidence,
                "Thôn Thượng, Xã Tân Lập, Huyện Đan Phượng, Hà Nội",
            ),
        ],
    },
    Resident {
        key: "mai",
        fields: &[
            (CardField::IdNumber, "001301004567"),
            (CardField::FullName, "Lò Thị Mai"),
            (CardField::DateOfBirth, "2001-01-20"),
            (CardField::Sex, "female"),
            (CardField::Nationality, "Việt Nam"),
            (CardField::Ethnicity, "Thái"),
            (
                CardField::PlaceOfResidence,
                "Bản Nà, Xã Mường Phăng, Điện Biên",
            ),
        ],
    },
];

impl Resident {
    pub fn identity(&self) -> CardIdentity {
        CardIdentity {
            fields: self
                .fields
                .iter()
                .map(|(f, v)| (*f, (*v).to_owned()))
                .collect(),
        }
    }
}

/// Stands in for the chip reader in tests of the identify screen's states: it reports what a
/// reader reports, without any card protocol. Not a card: the journey through a real card
/// protocol uses `xaso-idcard`.
#[derive(Default)]
pub struct ScriptedReader {
    pub on_reader: Option<&'static str>,
    /// When set, reading fails with this problem.
    pub fail_with: Option<CardProblem>,
    /// When false, the card's signature does not verify.
    pub verified: Option<bool>,
}

impl CardReader for ScriptedReader {
    fn residents(&self) -> Vec<DemoResident> {
        RESIDENTS
            .iter()
            .map(|r| {
                let get = |f| {
                    r.fields
                        .iter()
                        .find(|(k, _)| *k == f)
                        .map_or("", |(_, v)| *v)
                };
                DemoResident {
                    id: r.key.to_owned(),
                    name: get(CardField::FullName).to_owned(),
                    residence: get(CardField::PlaceOfResidence).to_owned(),
                }
            })
            .collect()
    }

    fn place(&mut self, resident: &str) -> Vec<CardEvent> {
        let Some(r) = RESIDENTS.iter().find(|r| r.key == resident) else {
            return Vec::new();
        };
        self.on_reader = Some(r.key);
        if let Some(p) = self.fail_with {
            return vec![CardEvent::Present, CardEvent::Failed(p)];
        }
        vec![
            CardEvent::Present,
            CardEvent::Read {
                identity: r.identity(),
                verified: self.verified.unwrap_or(true),
            },
        ]
    }

    fn remove(&mut self) -> Vec<CardEvent> {
        if self.on_reader.take().is_some() {
            vec![CardEvent::Removed]
        } else {
            Vec::new()
        }
    }
}

/// Writes two synthetic paper photos (a birth certificate's two pages) into `dir`.
pub fn write_sample_papers(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, name) in ["giay-chung-sinh-1.png", "giay-chung-sinh-2.png"]
        .iter()
        .enumerate()
    {
        std::fs::write(
            dir.join(name),
            crate::papers::sample_page(i as u8, 1240, 1754),
        )?;
    }
    Ok(())
}

/// A "photo" of the QR code on a synthetic resident's card, as a phone or the document
/// camera would drop it into the QR directory (`--qr-images`).
pub fn write_sample_card_qr(dir: &Path, resident: &str) -> anyhow::Result<()> {
    let identity = xaso_idcard::softcard::Identity::builtin_named(resident)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(format!("qr-{resident}.png")),
        crate::qrscan::qr_png(&identity.qr_text(), 6)?,
    )?;
    Ok(())
}
