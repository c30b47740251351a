//! What can go wrong in the pure part of the platform connection.

/// A mapping file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("the mapping is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("the catalog's procedure `{0}` has no national procedure code in the mapping")]
    ProcedureUnmapped(String),
    #[error("the mapping names procedure `{0}`, which the catalog does not have")]
    UnknownProcedure(String),
    #[error("packet `{packet}` field `{field}`: unknown source `{source_name}`")]
    UnknownSource {
        packet: String,
        field: String,
        source_name: String,
    },
    #[error(
        "packet `{packet}` field `{field}` reads form field `{form_field}`, which no procedure has"
    )]
    UnknownFormField {
        packet: String,
        field: String,
        form_field: String,
    },
    #[error("the mapping has no `{0}` packet")]
    MissingPacket(&'static str),
    #[error("packet `{packet}` lists field `{field}` twice")]
    DuplicateField { packet: String, field: String },
}

/// A dossier that cannot be turned into packets with this mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("the dossier has neither a tracking code nor a platform code")]
    NoCode,
    #[error("the dossier has not been submitted")]
    NotSubmitted,
    #[error("procedure `{0}` has no national code in the mapping")]
    ProcedureUnmapped(String),
    #[error("procedure `{0}` is not in the catalog")]
    UnknownProcedure(String),
    #[error("state `{0}` has no national code in the mapping")]
    StateUnmapped(&'static str),
}

/// An online dossier from the platform that cannot become a dossier of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("the online dossier has no code (`MaHoSo`)")]
    NoCode,
    #[error("national procedure `{0}` is not in the mapping")]
    UnknownProcedure(String),
    #[error("`{field}` is not a date `yyyyMMddHHmmss`: `{value}`")]
    BadDate { field: &'static str, value: String },
    #[error("the dossier is for commune `{found}`, not `{expected}`")]
    OtherCommune { expected: String, found: String },
    #[error("an earlier result's document is not base64")]
    BadDocument,
}
