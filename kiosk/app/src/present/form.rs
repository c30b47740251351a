//! The form and its review: one row per catalog field, the keyboard for the field being
//! typed, the summary, the fee and the consent.

use std::rc::Rc;

use slint::{ModelRc, VecModel};
use xaso_kiosk_core::form::iso_to_display;
use xaso_kiosk_core::{InputStyle, ValueSource};
use xaso_services::{FieldDef, FieldKind};

use super::rows::{SpecRows, sync_rows};
use super::{View, enums};
use crate::ui::{AppWindow, Choice, FieldRow, SummaryRow};

/// Everything a field row shows, as plain data to compare.
#[derive(Debug, Clone, PartialEq)]
struct FieldSpec {
    id: String,
    label: String,
    help: String,
    value: String,
    style: InputStyle,
    source: Option<ValueSource>,
    required: bool,
    error: String,
    focused: bool,
    choices: Vec<Choice>,
}

pub struct FormPresenter {
    fields: Rc<VecModel<FieldRow>>,
    specs: SpecRows<FieldSpec>,
    /// Each row's choices, a model kept with the row.
    choices: Vec<Rc<VecModel<Choice>>>,
    summary: Rc<VecModel<SummaryRow>>,
    /// Field rows written since the window was created.
    pub rows_written: usize,
}

impl FormPresenter {
    pub fn new(ui: &AppWindow) -> FormPresenter {
        let fields = Rc::new(VecModel::default());
        ui.set_fields(ModelRc::from(fields.clone()));
        let summary = Rc::new(VecModel::default());
        ui.set_summary(ModelRc::from(summary.clone()));
        FormPresenter {
            fields,
            specs: SpecRows::default(),
            choices: Vec::new(),
            summary,
            rows_written: 0,
        }
    }

    pub fn present(&mut self, ui: &AppWindow, v: &View<'_>) {
        let k = v.journey;
        let l = v.l();
        let (Some(p), Some(form)) = (k.procedure(), k.form()) else {
            self.rows_written += self
                .specs
                .sync(&self.fields, Vec::new(), |_, _| FieldRow::default());
            sync_rows(&self.summary, Vec::new());
            ui.set_keyboard_open(false);
            ui.set_form_has_errors(false);
            ui.set_page_count(0);
            return;
        };
        ui.set_procedure_name(p.name.get(l).into());
        let mut specs = Vec::with_capacity(p.fields.len());
        let mut summary = Vec::new();
        for f in &p.fields {
            let value = form.values.get(&f.id).cloned().unwrap_or_default();
            let choices = self.choices_of(f, &value, v);
            let shown = match f.kind {
                FieldKind::Date if value.contains('-') => iso_to_display(&value),
                _ => choices
                    .iter()
                    .find(|c| c.selected)
                    .map_or(value.clone(), |c| c.label.to_string()),
            };
            let error = form.errors.get(&f.id).map_or(String::new(), |e| {
                let args: Vec<(&str, &str)> = e
                    .args
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                v.t.get(v.lang, &e.key, &args)
            });
            let source = form.sources.get(&f.id).copied();
            if !shown.trim().is_empty() {
                summary.push(SummaryRow {
                    label: f.label.get(l).into(),
                    value: shown.as_str().into(),
                    source: enums::value_source(source),
                });
            }
            specs.push(FieldSpec {
                id: f.id.clone(),
                label: f.label.get(l).to_owned(),
                help: f.help.as_ref().map_or("", |h| h.get(l)).to_owned(),
                value: shown,
                style: InputStyle::of(f.kind),
                source,
                required: f.required,
                error,
                focused: form.focus.as_deref() == Some(f.id.as_str()),
                choices,
            });
        }
        let choices = &mut self.choices;
        self.rows_written += self.specs.sync(&self.fields, specs, |i, s| {
            // The row's choices model is kept with the row and updated in place.
            while choices.len() <= i {
                choices.push(Rc::new(VecModel::default()));
            }
            let model = &choices[i];
            sync_rows(model, s.choices.clone());
            FieldRow {
                id: s.id.as_str().into(),
                label: s.label.as_str().into(),
                help: s.help.as_str().into(),
                value: s.value.as_str().into(),
                style: enums::input_style(s.style),
                source: enums::value_source(s.source),
                required: s.required,
                error: s.error.as_str().into(),
                focused: s.focused,
                choices: ModelRc::from(model.clone()),
            }
        });
        let focused = form.focus.as_deref().and_then(|id| p.field(id));
        ui.set_keyboard_open(focused.is_some());
        ui.set_keyboard_style(enums::input_style(
            focused.map_or(InputStyle::Text, |f| InputStyle::of(f.kind)),
        ));
        ui.set_editing_label(focused.map_or("", |f| f.label.get(l)).into());
        ui.set_editing_value(
            focused
                .and_then(|f| form.values.get(&f.id))
                .map_or("", String::as_str)
                .into(),
        );
        ui.set_form_has_errors(!form.errors.is_empty());
        sync_rows(&self.summary, summary);
        let pages: usize = k.papers().iter().map(|s| s.images.len()).sum();
        ui.set_page_count(i32::try_from(pages).unwrap_or(i32::MAX));
        let fee = crate::receipt::fee_display(&p.fee, v.lang);
        ui.set_fee_free(fee.is_none());
        ui.set_fee_text(fee.unwrap_or_default().into());
        ui.set_processing_days(i32::try_from(p.processing_days).unwrap_or(i32::MAX));
        ui.set_consent(k.consent());
        ui.set_consent_missing(k.consent_missing());
        ui.set_fetch_earlier(k.fetch_earlier_results());
    }

    /// The buttons of a choice, sex or yes/no field, with the chosen one selected.
    fn choices_of(&self, f: &FieldDef, value: &str, v: &View<'_>) -> Vec<Choice> {
        let t = |key: &str| v.t.get(v.lang, key, &[]);
        let options: Vec<(String, String)> = match f.kind {
            FieldKind::Choice => f
                .choices
                .iter()
                .map(|c| (c.value.clone(), c.label.get(v.l()).to_owned()))
                .collect(),
            FieldKind::Sex => vec![
                ("female".into(), t("kiosk.form.sex.female")),
                ("male".into(), t("kiosk.form.sex.male")),
            ],
            FieldKind::Boolean => vec![
                ("true".into(), t("kiosk.form.boolean.yes")),
                ("false".into(), t("kiosk.form.boolean.no")),
            ],
            _ => Vec::new(),
        };
        options
            .into_iter()
            .map(|(val, label)| Choice {
                selected: val == value,
                value: val.into(),
                label: label.into(),
            })
            .collect()
    }
}
