//! The officer's desk: one dossier open for processing.
//!
//! The app opens a dossier with what the store holds of it — the dossier as the winning
//! values give it, and the fields two devices changed concurrently ([`FieldConflict`],
//! from the store's conflict list) — and the desk answers taps with [`DeskEffect`]s:
//!
//! ```text
//!  Viewing ──choose action──▶ Confirming{action} ──confirm──▶ (SaveDossier) ──Saved──▶ Viewing
//!     │                          ▲ reason typed (when the action needs one)
//!     ├──pick a value of a conflicted field──▶ (ResolveField) ──Saved──▶ Viewing
//!     └──keep one of two concurrent decisions──▶ (SaveDossier) ──Saved──▶ Viewing
//! ```
//!
//! Every action is a lifecycle transition of [`xaso_services::Dossier`] taken by the
//! signed-in officer on this device: the audit entry names the officer, the device, the
//! time and the version the action was based on. A dossier with two different decisions
//! taken concurrently (say approved on one tablet, a supplement requested on another,
//! both offline) shows the conflict and refuses every action until the officer keeps one
//! ([`Dossier::decision_conflict`]); nothing is merged silently. A refused input changes
//! nothing and says why ([`DeskRefusal`]).
//!
//! Pages are shown with a zoom and a rotation each ([`PageView`]), kept while the
//! dossier is open.

use jiff::Timestamp;
use xaso_services::{Action, Actor, DecisionConflict, Dossier, LifecycleError, Role};

/// One of the concurrent values of a field, as the store reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictChoice {
    pub value: String,
    /// The device that wrote it (the store's origin, or the device id when known).
    pub author: String,
    /// When it was written (the writer's clock).
    pub at: Timestamp,
}

/// A field of the dossier changed concurrently on two or more devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The field id (a key of [`Dossier::values`]).
    pub field: String,
    /// Every value kept; the first is the one shown until the officer chooses.
    pub choices: Vec<ConflictChoice>,
}

/// How one page image is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageView {
    /// Zoom in percent (100 = fit).
    pub zoom: u16,
    /// Clockwise quarter turns, 0–3.
    pub quarter_turns: u8,
}

impl Default for PageView {
    fn default() -> Self {
        PageView {
            zoom: 100,
            quarter_turns: 0,
        }
    }
}

/// Zoom steps of the page viewer.
pub const ZOOM_STEPS: [u16; 6] = [100, 150, 200, 300, 400, 600];

/// Where the desk is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskState {
    /// The dossier is shown; actions can be chosen.
    Viewing,
    /// An action was chosen; waiting for its reason (if it needs one) and confirmation.
    Confirming { action: Action, reason: String },
    /// A change was handed to the app to store; waiting for [`DeskInput::Saved`].
    Saving,
}

/// What the officer (or the app, reporting back) does at the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskInput {
    Choose(Action),
    /// The reason text as typed (the whole text: the keyboard is the app's).
    Reason(String),
    Confirm,
    Cancel,
    /// Keep value `choice` of the conflicted field `field`.
    PickValue {
        field: String,
        choice: usize,
    },
    /// Keep branch `choice` of the decision conflict.
    KeepDecision(usize),
    ZoomIn(usize),
    ZoomOut(usize),
    Rotate(usize),
    /// The app stored the change; the dossier as now stored and its remaining conflicts.
    Saved {
        dossier: Box<Dossier>,
        conflicts: Vec<FieldConflict>,
    },
    /// Storing failed: nothing changed.
    SaveFailed,
}

/// What the app must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskEffect {
    /// Write this dossier to its record (a read-modify-write of the current record), then
    /// answer [`DeskInput::Saved`] or [`DeskInput::SaveFailed`].
    SaveDossier(Box<Dossier>),
    /// Replace every concurrent value of `values.<field>` with `value` (the store's
    /// `resolve`), then answer like [`DeskEffect::SaveDossier`].
    ResolveField { field: String, value: String },
    /// The decision conflict was settled: also replace the concurrent values of the
    /// dossier's `state` (the store's `resolve` on `state`).
    ResolveState(xaso_services::DossierState),
    /// The dossier was approved: make its signed result document.
    IssueResult(Box<Dossier>),
}

/// Why an input was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskRefusal {
    /// The lifecycle refuses it (wrong state, missing reason, a decision conflict first…).
    Lifecycle(LifecycleError),
    /// Not now: another step is under way.
    Busy,
    NothingToConfirm,
    NoSuchField(String),
    NoSuchChoice,
    NoSuchPage(usize),
}

impl DeskRefusal {
    /// Translation key (domain `messages`).
    pub fn key(&self) -> &'static str {
        match self {
            DeskRefusal::Lifecycle(e) => e.key(),
            DeskRefusal::Busy => "desk.busy",
            DeskRefusal::NothingToConfirm => "desk.nothing_to_confirm",
            DeskRefusal::NoSuchField(_) => "desk.no_such_field",
            DeskRefusal::NoSuchChoice => "lifecycle.no_such_choice",
            DeskRefusal::NoSuchPage(_) => "desk.no_such_page",
        }
    }
}

/// One dossier open on the officer's tablet.
#[derive(Debug, Clone)]
pub struct Desk {
    officer: Actor,
    dossier: Dossier,
    conflicts: Vec<FieldConflict>,
    pages: Vec<PageView>,
    state: DeskState,
    /// The change handed to the app, applied to `dossier` when it reports it saved.
    pending: Option<Box<Dossier>>,
}

impl Desk {
    /// Opens `dossier` for `officer` (role officer, with the device id set).
    pub fn open(officer: Actor, dossier: Dossier, conflicts: Vec<FieldConflict>) -> Desk {
        let pages = vec![PageView::default(); dossier.attachments.len()];
        Desk {
            officer,
            dossier,
            conflicts,
            pages,
            state: DeskState::Viewing,
            pending: None,
        }
    }

    pub fn dossier(&self) -> &Dossier {
        &self.dossier
    }

    pub fn state(&self) -> &DeskState {
        &self.state
    }

    pub fn field_conflicts(&self) -> &[FieldConflict] {
        &self.conflicts
    }

    pub fn decision_conflict(&self) -> Option<DecisionConflict> {
        self.dossier.decision_conflict()
    }

    pub fn page(&self, index: usize) -> Option<PageView> {
        self.pages.get(index).copied()
    }

    /// The actions the officer can take now (for the buttons).
    pub fn actions(&self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| self.dossier.can(*a, Role::Officer))
            .collect()
    }

    pub fn handle(
        &mut self,
        input: DeskInput,
        now: Timestamp,
    ) -> Result<Vec<DeskEffect>, DeskRefusal> {
        match input {
            DeskInput::Saved { dossier, conflicts } => {
                self.dossier = *dossier;
                self.conflicts = conflicts;
                self.pages
                    .resize(self.dossier.attachments.len(), PageView::default());
                self.pending = None;
                self.state = DeskState::Viewing;
                Ok(Vec::new())
            }
            DeskInput::SaveFailed => {
                self.pending = None;
                self.state = DeskState::Viewing;
                Ok(Vec::new())
            }
            DeskInput::ZoomIn(i) | DeskInput::ZoomOut(i) | DeskInput::Rotate(i) => {
                let page = self.pages.get_mut(i).ok_or(DeskRefusal::NoSuchPage(i))?;
                let step = ZOOM_STEPS.iter().position(|z| *z >= page.zoom).unwrap_or(0);
                match input {
                    DeskInput::ZoomIn(_) => {
                        page.zoom = ZOOM_STEPS[(step + 1).min(ZOOM_STEPS.len() - 1)];
                    }
                    DeskInput::ZoomOut(_) => page.zoom = ZOOM_STEPS[step.saturating_sub(1)],
                    _ => page.quarter_turns = (page.quarter_turns + 1) % 4,
                }
                Ok(Vec::new())
            }
            _ if self.state == DeskState::Saving => Err(DeskRefusal::Busy),
            DeskInput::Choose(action) => {
                // Check now, on a copy: a refused choice changes nothing.
                let mut probe = self.dossier.clone();
                match probe.apply(action, self.officer.clone(), Some("?"), now) {
                    Ok(_) => {}
                    Err(e) => return Err(DeskRefusal::Lifecycle(e)),
                }
                self.state = DeskState::Confirming {
                    action,
                    reason: String::new(),
                };
                Ok(Vec::new())
            }
            DeskInput::Reason(text) => match &mut self.state {
                DeskState::Confirming { reason, .. } => {
                    *reason = text;
                    Ok(Vec::new())
                }
                _ => Err(DeskRefusal::NothingToConfirm),
            },
            DeskInput::Cancel => {
                self.state = DeskState::Viewing;
                Ok(Vec::new())
            }
            DeskInput::Confirm => {
                let DeskState::Confirming { action, reason } = &self.state else {
                    return Err(DeskRefusal::NothingToConfirm);
                };
                let action = *action;
                let mut next = self.dossier.clone();
                let reason = (!reason.trim().is_empty()).then_some(reason.as_str());
                next.apply(action, self.officer.clone(), reason, now)
                    .map_err(DeskRefusal::Lifecycle)?;
                let mut effects = vec![DeskEffect::SaveDossier(Box::new(next.clone()))];
                if action == Action::Approve {
                    effects.push(DeskEffect::IssueResult(Box::new(next.clone())));
                }
                self.pending = Some(Box::new(next));
                self.state = DeskState::Saving;
                Ok(effects)
            }
            DeskInput::PickValue { field, choice } => {
                let conflict = self
                    .conflicts
                    .iter()
                    .find(|c| c.field == field)
                    .ok_or_else(|| DeskRefusal::NoSuchField(field.clone()))?;
                let value = conflict
                    .choices
                    .get(choice)
                    .ok_or(DeskRefusal::NoSuchChoice)?
                    .value
                    .clone();
                self.state = DeskState::Saving;
                Ok(vec![DeskEffect::ResolveField { field, value }])
            }
            DeskInput::KeepDecision(choice) => {
                let mut next = self.dossier.clone();
                let to = next
                    .resolve_decision(choice, self.officer.clone(), now)
                    .map_err(DeskRefusal::Lifecycle)?
                    .to;
                self.pending = Some(Box::new(next.clone()));
                self.state = DeskState::Saving;
                Ok(vec![
                    DeskEffect::SaveDossier(Box::new(next)),
                    DeskEffect::ResolveState(to),
                ])
            }
        }
    }
}

#[cfg(test)]
mod tests;
