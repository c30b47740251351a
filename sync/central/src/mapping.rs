//! The catalog's mapping to the national portal (`services/data/national-portal.toml`, or a
//! province's own file): national procedure codes, channel and status codes, the text of
//! each progress step, and each packet field by field. Checked as a whole against the
//! catalog before it is used, so a packet is never built from a half-valid mapping.

use std::collections::BTreeMap;

use serde::Deserialize;
use xaso_services::{Action, Catalog, Channel, DossierState};

use crate::error::MappingError;

/// The two packets the outbox sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// `DongBoHoSoMC`: the dossier itself.
    Dossier,
    /// `CapNhatTienDoHoSoMC`: one step of its progress.
    Progress,
}

impl Service {
    /// The platform's name of the packet.
    pub fn name(self) -> &'static str {
        match self {
            Service::Dossier => "DongBoHoSoMC",
            Service::Progress => "CapNhatTienDoHoSoMC",
        }
    }

    /// The service named `name`, if it is one of the two packets.
    pub fn from_name(name: &str) -> Option<Service> {
        match name {
            "DongBoHoSoMC" => Some(Service::Dossier),
            "CapNhatTienDoHoSoMC" => Some(Service::Progress),
            _ => None,
        }
    }
}

/// Where a packet field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    TrackingCode,
    Procedure,
    Commune,
    State,
    ReceivedAt,
    DueAt,
    ApplicantName,
    ApplicantId,
    Channel,
    Actor,
    At,
    Content,
    StepState,
    StepStartedAt,
    /// A form field of the catalog, by id (empty when the dossier has no value).
    Value(String),
}

impl Source {
    fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "tracking_code" => Source::TrackingCode,
            "procedure" => Source::Procedure,
            "commune" => Source::Commune,
            "state" => Source::State,
            "received_at" => Source::ReceivedAt,
            "due_at" => Source::DueAt,
            "applicant_name" => Source::ApplicantName,
            "applicant_id" => Source::ApplicantId,
            "channel" => Source::Channel,
            "actor" => Source::Actor,
            "at" => Source::At,
            "content" => Source::Content,
            "step_state" => Source::StepState,
            "step_started_at" => Source::StepStartedAt,
            other => Source::Value(other.strip_prefix("value:")?.to_owned()),
        })
    }
}

/// What the platform accepts in a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Non-empty text.
    Text,
    /// `yyyyMMddHHmmss`.
    Datetime,
    /// A positive integer code from the mapping's tables.
    Code,
    /// A 12-digit personal ID number.
    Id12,
    /// Text that may be empty (a form field not every dossier fills).
    OptionalText,
}

/// One field of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketField {
    /// The platform's field name (`MaHoSo`…).
    pub name: String,
    pub source: Source,
    pub kind: FieldType,
}

#[derive(Deserialize)]
struct RawField {
    field: String,
    source: String,
    #[serde(rename = "type")]
    kind: FieldType,
}

#[derive(Deserialize)]
struct RawMapping {
    version: u32,
    procedures: BTreeMap<String, String>,
    channels: BTreeMap<String, u8>,
    states: BTreeMap<String, u8>,
    progress: BTreeMap<String, String>,
    packets: BTreeMap<String, Vec<RawField>>,
}

/// A checked mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The mapping's version (recorded with each packet built from it).
    pub version: u32,
    procedures: BTreeMap<String, String>,
    channels: BTreeMap<String, u8>,
    states: BTreeMap<String, u8>,
    progress: BTreeMap<String, String>,
    dossier: Vec<PacketField>,
    step: Vec<PacketField>,
}

fn snake<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Mapping {
    /// The bundled mapping, checked against `catalog`.
    pub fn bundled(catalog: &Catalog) -> Result<Mapping, MappingError> {
        Mapping::parse(xaso_services::catalog::NATIONAL_PORTAL_MAPPING, catalog)
    }

    /// Parse a mapping file and check it against `catalog`: every procedure of the catalog
    /// has a national code and no code names a procedure the catalog lacks, every source is
    /// known, every form field exists, both packets are there.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<Mapping, MappingError> {
        let raw: RawMapping = toml::from_str(text)?;
        for code in raw.procedures.keys() {
            if catalog.procedure(code).is_none() {
                return Err(MappingError::UnknownProcedure(code.clone()));
            }
        }
        for p in catalog.procedures() {
            if !raw.procedures.contains_key(&p.code.0) {
                return Err(MappingError::ProcedureUnmapped(p.code.0.clone()));
            }
        }
        let mut packets = raw.packets;
        let mut take = |service: Service| -> Result<Vec<PacketField>, MappingError> {
            let fields = packets
                .remove(service.name())
                .ok_or(MappingError::MissingPacket(service.name()))?;
            let mut out: Vec<PacketField> = Vec::with_capacity(fields.len());
            for f in fields {
                if out.iter().any(|o| o.name == f.field) {
                    return Err(MappingError::DuplicateField {
                        packet: service.name().into(),
                        field: f.field,
                    });
                }
                let source =
                    Source::parse(&f.source).ok_or_else(|| MappingError::UnknownSource {
                        packet: service.name().into(),
                        field: f.field.clone(),
                        source_name: f.source.clone(),
                    })?;
                if let Source::Value(id) = &source
                    && !catalog.procedures().any(|p| p.field(id).is_some())
                {
                    return Err(MappingError::UnknownFormField {
                        packet: service.name().into(),
                        field: f.field,
                        form_field: id.clone(),
                    });
                }
                out.push(PacketField {
                    name: f.field,
                    source,
                    kind: f.kind,
                });
            }
            Ok(out)
        };
        let dossier = take(Service::Dossier)?;
        let step = take(Service::Progress)?;
        Ok(Mapping {
            version: raw.version,
            procedures: raw.procedures,
            channels: raw.channels,
            states: raw.states,
            progress: raw.progress,
            dossier,
            step,
        })
    }

    /// The national code (`MaTTHC`) of a catalog procedure.
    pub fn procedure_code(&self, procedure: &str) -> Option<&str> {
        self.procedures.get(procedure).map(String::as_str)
    }

    /// The catalog procedure with national code `code`.
    pub fn procedure_by_code(&self, code: &str) -> Option<&str> {
        self.procedures
            .iter()
            .find(|(_, c)| c.as_str() == code)
            .map(|(p, _)| p.as_str())
    }

    /// `KenhThucHien` of a channel.
    pub fn channel_code(&self, channel: Channel) -> Option<u8> {
        self.channels.get(&snake(channel)).copied()
    }

    /// The national status code of a state (`None`: not reported).
    pub fn state_code(&self, state: DossierState) -> Option<u8> {
        self.states
            .get(state.key().trim_start_matches("state."))
            .copied()
    }

    /// Every national status code the mapping uses.
    pub fn state_codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.states.values().copied()
    }

    /// Every channel code the mapping uses.
    pub fn channel_codes(&self) -> impl Iterator<Item = u8> + '_ {
        self.channels.values().copied()
    }

    /// `NoiDungXuLy` of an action.
    pub fn progress_text(&self, action: Action) -> String {
        self.progress
            .get(&snake(action))
            .cloned()
            .unwrap_or_else(|| snake(action))
    }

    /// The fields of a packet.
    pub fn fields(&self, service: Service) -> &[PacketField] {
        match service {
            Service::Dossier => &self.dossier,
            Service::Progress => &self.step,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn catalog() -> Catalog {
        Catalog::bundled().unwrap()
    }

    #[test]
    fn the_bundled_mapping_covers_the_whole_catalog() {
        let catalog = catalog();
        let m = Mapping::bundled(&catalog).unwrap();
        for p in catalog.procedures() {
            assert!(m.procedure_code(&p.code.0).is_some(), "{}", p.code.0);
        }
        assert_eq!(m.state_code(DossierState::Submitted), Some(1));
        assert_eq!(m.state_code(DossierState::Returned), Some(10));
        assert_eq!(m.state_code(DossierState::Draft), None);
        assert_eq!(m.channel_code(Channel::Online), Some(2));
        assert_eq!(m.channel_code(Channel::Helper), Some(1));
        assert_eq!(
            m.progress_text(Action::Receive),
            "Bộ phận một cửa tiếp nhận hồ sơ"
        );
        assert_eq!(m.procedure_by_code("1.001193"), Some("birth-registration"));
        assert_eq!(m.fields(Service::Dossier)[0].name, "MaHoSo");
    }

    #[test]
    fn a_mapping_that_misses_a_procedure_or_names_an_unknown_one_is_refused() {
        let catalog = catalog();
        let text = xaso_services::catalog::NATIONAL_PORTAL_MAPPING;
        let missing = text.replace("death-registration = \"1.000656\"\n", "");
        assert!(matches!(
            Mapping::parse(&missing, &catalog),
            Err(MappingError::ProcedureUnmapped(p)) if p == "death-registration"
        ));
        let unknown = text.replace("[procedures]\n", "[procedures]\nno-such = \"9.9\"\n");
        assert!(matches!(
            Mapping::parse(&unknown, &catalog),
            Err(MappingError::UnknownProcedure(p)) if p == "no-such"
        ));
        let source = text.replacen("source = \"commune\"", "source = \"commune_name\"", 1);
        assert!(matches!(
            Mapping::parse(&source, &catalog),
            Err(MappingError::UnknownSource { .. })
        ));
        let form = format!(
            "{text}\n[[packets.DongBoHoSoMC]]\nfield = \"X\"\nsource = \"value:no_such_field\"\ntype = \"optional_text\"\n"
        );
        assert!(matches!(
            Mapping::parse(&form, &catalog),
            Err(MappingError::UnknownFormField { .. })
        ));
        let twice = format!(
            "{text}\n[[packets.DongBoHoSoMC]]\nfield = \"MaHoSo\"\nsource = \"tracking_code\"\ntype = \"text\"\n"
        );
        assert!(matches!(
            Mapping::parse(&twice, &catalog),
            Err(MappingError::DuplicateField { .. })
        ));
    }

    #[test]
    fn a_province_adds_a_form_field_as_data() {
        let catalog = catalog();
        let text = format!(
            "{}\n[[packets.DongBoHoSoMC]]\nfield = \"HoTenTre\"\nsource = \"value:child_full_name\"\ntype = \"optional_text\"\n",
            xaso_services::catalog::NATIONAL_PORTAL_MAPPING
        );
        let m = Mapping::parse(&text, &catalog).unwrap();
        let last = m.fields(Service::Dossier).last().unwrap();
        assert_eq!(last.source, Source::Value("child_full_name".into()));
    }
}
