//! What the platform accepts: a packet checked field by field against the mapping. The
//! simulator refuses, with these reasons, what a strict platform would refuse; the hub uses
//! the same check before sending, so a packet that cannot pass goes to dead letter with its
//! reason at once instead of being retried.

use serde_json::Value;

use crate::mapping::{FieldType, Mapping, Service, Source};

/// Why a field was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotAnObject,
    Missing(String),
    Empty(String),
    NotText(String),
    BadDatetime(String),
    BadCode(String),
    BadIdNumber(String),
    Unknown(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotAnObject => write!(f, "data is not an object"),
            Problem::Missing(n) => write!(f, "{n}: missing"),
            Problem::Empty(n) => write!(f, "{n}: empty"),
            Problem::NotText(n) => write!(f, "{n}: not text"),
            Problem::BadDatetime(n) => write!(f, "{n}: not yyyyMMddHHmmss"),
            Problem::BadCode(n) => write!(f, "{n}: not a known code"),
            Problem::BadIdNumber(n) => write!(f, "{n}: not a 12-digit ID number"),
            Problem::Unknown(n) => write!(f, "{n}: unknown field"),
        }
    }
}

/// Every problem of `data` as a `service` packet; empty when it is acceptable.
pub fn check(mapping: &Mapping, service: Service, data: &Value) -> Vec<Problem> {
    let Some(object) = data.as_object() else {
        return vec![Problem::NotAnObject];
    };
    let fields = mapping.fields(service);
    let mut problems = Vec::new();
    for name in object.keys() {
        if !fields.iter().any(|f| &f.name == name) {
            problems.push(Problem::Unknown(name.clone()));
        }
    }
    for field in fields {
        let name = &field.name;
        let Some(value) = object.get(name) else {
            problems.push(Problem::Missing(name.clone()));
            continue;
        };
        match field.kind {
            FieldType::Code => {
                let known: Vec<u8> = match field.source {
                    Source::Channel => mapping.channel_codes().collect(),
                    _ => mapping.state_codes().collect(),
                };
                let ok = value
                    .as_u64()
                    .and_then(|c| u8::try_from(c).ok())
                    .is_some_and(|c| known.contains(&c));
                if !ok {
                    problems.push(Problem::BadCode(name.clone()));
                }
            }
            kind => {
                let Some(text) = value.as_str() else {
                    problems.push(Problem::NotText(name.clone()));
                    continue;
                };
                match kind {
                    FieldType::OptionalText | FieldType::Code => {}
                    FieldType::Text if text.trim().is_empty() => {
                        problems.push(Problem::Empty(name.clone()));
                    }
                    FieldType::Text => {}
                    FieldType::Datetime if crate::time::parse(text).is_none() => {
                        problems.push(Problem::BadDatetime(name.clone()));
                    }
                    FieldType::Datetime => {}
                    FieldType::Id12 => {
                        if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
                            problems.push(Problem::BadIdNumber(name.clone()));
                        }
                    }
                }
            }
        }
    }
    problems
}

/// The problems as one line (what a platform's `message` says).
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
