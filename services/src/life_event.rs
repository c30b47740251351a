//! Life events: the bundle of procedures a moment in life needs, in order, with the data
//! that flows from one procedure's form to the next so the resident enters it once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xaso_i18n::Lang;

use crate::catalog::{CatalogError, Localized, Procedure, ProcedureCode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifeEvent {
    /// Stable id, e.g. `birth`; the file is `services/life_events/<id>.toml`.
    pub id: String,
    /// Text `catalog.event.<id>.name`.
    #[serde(skip)]
    pub name: Localized,
    /// Text `catalog.event.<id>.description`.
    #[serde(skip)]
    pub description: Localized,
    /// Procedures in the order they are done.
    pub steps: Vec<Step>,
    /// Values copied from an earlier step's field into a later step's field.
    #[serde(default)]
    pub flows: Vec<Flow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub procedure: ProcedureCode,
    /// Why this step is part of the event, or when it can be skipped: text
    /// `catalog.event.<id>.step.<procedure>`, when the catalogs have one.
    #[serde(skip)]
    pub note: Option<Localized>,
    /// Some steps apply only to some people (e.g. the allowance at 80 without a pension).
    #[serde(default)]
    pub optional: bool,
}

/// `from = "procedure.field"`, `to = "procedure.field"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub from: String,
    pub to: String,
}

/// A `procedure.field` reference split in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef<'a> {
    pub procedure: &'a str,
    pub field: &'a str,
}

impl Flow {
    pub fn source(&self) -> Option<FieldRef<'_>> {
        split_ref(&self.from)
    }
    pub fn target(&self) -> Option<FieldRef<'_>> {
        split_ref(&self.to)
    }
}

fn split_ref(s: &str) -> Option<FieldRef<'_>> {
    let (procedure, field) = s.split_once('.')?;
    Some(FieldRef { procedure, field })
}

impl LifeEvent {
    pub(crate) fn check(
        &self,
        file: &str,
        procedures: &BTreeMap<ProcedureCode, Procedure>,
    ) -> Result<(), CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            file: file.to_owned(),
            message,
        };
        let complete = |text: &Localized| Lang::ALL.into_iter().all(|lang| text.has(lang));
        if !complete(&self.name) {
            return Err(invalid(
                "name needs both Vietnamese and English text".into(),
            ));
        }
        if !complete(&self.description) {
            return Err(invalid(
                "description needs both Vietnamese and English text".into(),
            ));
        }
        if self.steps.is_empty() {
            return Err(invalid("a life event needs at least one step".into()));
        }
        let mut order = BTreeMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            if !procedures.contains_key(&step.procedure) {
                return Err(invalid(format!(
                    "step names unknown procedure `{}`",
                    step.procedure
                )));
            }
            if order.insert(step.procedure.as_str(), i).is_some() {
                return Err(invalid(format!(
                    "procedure `{}` is a step twice",
                    step.procedure
                )));
            }
        }
        for flow in &self.flows {
            let (Some(from), Some(to)) = (flow.source(), flow.target()) else {
                return Err(invalid(format!(
                    "flow `{}` -> `{}` must be written procedure.field",
                    flow.from, flow.to
                )));
            };
            for end in [from, to] {
                let Some(&_) = order.get(end.procedure) else {
                    return Err(invalid(format!(
                        "flow names `{}`, which is not a step of this event",
                        end.procedure
                    )));
                };
                let known = procedures
                    .get(&ProcedureCode(end.procedure.to_owned()))
                    .and_then(|p| p.field(end.field))
                    .is_some();
                if !known {
                    return Err(invalid(format!(
                        "flow names unknown field `{}.{}`",
                        end.procedure, end.field
                    )));
                }
            }
            if order.get(from.procedure) >= order.get(to.procedure) {
                return Err(invalid(format!(
                    "flow `{}` -> `{}` must go from an earlier step to a later one",
                    flow.from, flow.to
                )));
            }
        }
        Ok(())
    }

    /// Values to pre-fill in `procedure` from the values already entered in earlier steps.
    /// `entered` maps a procedure code to its field values.
    pub fn carried_values(
        &self,
        procedure: &str,
        entered: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        self.flows
            .iter()
            .filter_map(|flow| {
                let from = flow.source()?;
                let to = flow.target()?;
                if to.procedure != procedure {
                    return None;
                }
                let value = entered.get(from.procedure)?.get(from.field)?;
                Some((to.field.to_owned(), value.clone()))
            })
            .collect()
    }
}
