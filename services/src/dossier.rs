//! Dossiers and their lifecycle.
//!
//! A [`Dossier`] is one person's application for one procedure: the field values, the
//! references to photographed papers, the recorded consent, where it was handed in, and a
//! state that only changes through [`Dossier::apply`]. The lifecycle is a small state
//! machine, driven by the caller with the time passed in:
//!
//! ```text
//!   draft ──submit──▶ submitted ──receive──▶ received ──start──▶ in_processing
//!     │                  │                                         │   ▲    │
//!     └──withdraw──▶ withdrawn ◀──withdraw──┘        request_supplement │  resume
//!                                                                  ▼    │
//!                                      supplement_requested ─supplement─▶ supplemented
//!   in_processing ──approve──▶ approved ──result_ready──▶ result_ready ──return──▶ returned
//!   in_processing ──reject───▶ rejected ─────────────────────────────────return──▶ returned
//! ```
//!
//! Every accepted action appends one [`AuditEntry`]; a refused one changes nothing and
//! returns a [`LifecycleError`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::{ProcedureCode, Submitter};
use crate::tracking::TrackingCode;

/// Where a dossier is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierState {
    Draft,
    /// Submitted and saved on the device; not yet seen by the commune.
    Submitted,
    /// The commune has it.
    Received,
    InProcessing,
    SupplementRequested,
    Supplemented,
    Approved,
    Rejected,
    ResultReady,
    /// The result (or refusal) was handed back to the person.
    Returned,
    Withdrawn,
}

impl DossierState {
    pub const ALL: [DossierState; 11] = [
        DossierState::Draft,
        DossierState::Submitted,
        DossierState::Received,
        DossierState::InProcessing,
        DossierState::SupplementRequested,
        DossierState::Supplemented,
        DossierState::Approved,
        DossierState::Rejected,
        DossierState::ResultReady,
        DossierState::Returned,
        DossierState::Withdrawn,
    ];

    /// Translation key of the state's name.
    pub fn key(self) -> &'static str {
        match self {
            DossierState::Draft => "state.draft",
            DossierState::Submitted => "state.submitted",
            DossierState::Received => "state.received",
            DossierState::InProcessing => "state.in_processing",
            DossierState::SupplementRequested => "state.supplement_requested",
            DossierState::Supplemented => "state.supplemented",
            DossierState::Approved => "state.approved",
            DossierState::Rejected => "state.rejected",
            DossierState::ResultReady => "state.result_ready",
            DossierState::Returned => "state.returned",
            DossierState::Withdrawn => "state.withdrawn",
        }
    }

    /// No action leads out of a final state.
    pub fn is_final(self) -> bool {
        matches!(self, DossierState::Returned | DossierState::Withdrawn)
    }
}

/// Who acts on a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    /// A member of a community digital-technology group, acting with the resident's consent.
    Helper,
    Officer,
    /// The software itself (the hub acknowledging receipt, a result published centrally).
    System,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Resident, Role::Helper, Role::Officer, Role::System];
}

/// Something that moves a dossier from one state to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Withdraw,
    Receive,
    StartProcessing,
    RequestSupplement,
    Supplement,
    Resume,
    Approve,
    Reject,
    MarkResultReady,
    ReturnResult,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Submit,
        Action::Withdraw,
        Action::Receive,
        Action::StartProcessing,
        Action::RequestSupplement,
        Action::Supplement,
        Action::Resume,
        Action::Approve,
        Action::Reject,
        Action::MarkResultReady,
        Action::ReturnResult,
    ];

    /// Who may take this action.
    pub fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::Submit => &[Resident, Helper, Officer],
            Action::Withdraw => &[Resident, Helper, Officer],
            Action::Receive => &[Officer, System],
            Action::StartProcessing => &[Officer],
            Action::RequestSupplement => &[Officer],
            Action::Supplement => &[Resident, Helper, Officer],
            Action::Resume => &[Officer, System],
            Action::Approve => &[Officer],
            Action::Reject => &[Officer],
            Action::MarkResultReady => &[Officer, System],
            Action::ReturnResult => &[Officer],
        }
    }

    /// Whether a written reason must accompany the action (what is missing, why refused…).
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Action::Withdraw | Action::RequestSupplement | Action::Reject
        )
    }

    /// The state this action leads to from `from`, if it is allowed there.
    pub fn target(self, from: DossierState) -> Option<DossierState> {
        use DossierState::*;
        match (self, from) {
            (Action::Submit, Draft) => Some(Submitted),
            (Action::Withdraw, Draft | Submitted) => Some(Withdrawn),
            (Action::Receive, Submitted) => Some(Received),
            (Action::StartProcessing, Received) => Some(InProcessing),
            (Action::RequestSupplement, InProcessing) => Some(SupplementRequested),
            (Action::Supplement, SupplementRequested) => Some(Supplemented),
            (Action::Resume, Supplemented) => Some(InProcessing),
            (Action::Approve, InProcessing) => Some(Approved),
            (Action::Reject, InProcessing) => Some(Rejected),
            (Action::MarkResultReady, Approved) => Some(ResultReady),
            (Action::ReturnResult, ResultReady | Rejected) => Some(Returned),
            _ => None,
        }
    }
}

/// The actor of an action: a role and an identifier (device id, a roster actor id such as
/// `officer:79001:3`), never a personal ID number; and the device it acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    pub id: String,
    /// The enrolled id of the device the action was taken on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

impl Actor {
    /// An actor not tied to a device (the software itself, a test).
    pub fn new(role: Role, id: impl Into<String>) -> Actor {
        Actor {
            role,
            id: id.into(),
            device: None,
        }
    }

    /// An actor working on the device `device`.
    pub fn on_device(role: Role, id: impl Into<String>, device: impl Into<String>) -> Actor {
        Actor {
            role,
            id: id.into(),
            device: Some(device.into()),
        }
    }
}

/// One accepted action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: Actor,
    pub action: Action,
    pub from: DossierState,
    pub to: DossierState,
    #[serde(default)]
    pub reason: Option<String>,
    /// The version of the dossier the action was based on: how many audit entries the
    /// device held when it acted. Two entries based on the same version were taken
    /// concurrently (on two devices, offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<u32>,
    /// Set on the entry that settles concurrent decisions: the version they were based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolves: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("`{action:?}` is not possible while the dossier is `{state:?}`")]
    NotAllowedInState { action: Action, state: DossierState },
    #[error("a {role:?} may not `{action:?}`")]
    RoleNotAllowed { action: Action, role: Role },
    #[error("`{0:?}` needs a reason")]
    ReasonRequired(Action),
    #[error("consent must be recorded before submitting")]
    ConsentMissing,
    #[error("a tracking code must be assigned before submitting")]
    TrackingCodeMissing,
    /// Two devices took different decisions on the same version; an officer must choose
    /// one ([`Dossier::resolve_decision`]) before anything else happens.
    #[error("the dossier has concurrent decisions to settle first")]
    DecisionConflict,
    /// A conflict resolution that does not match the dossier's conflict.
    #[error("no such choice in the dossier's conflict")]
    NoSuchChoice,
}

impl LifecycleError {
    pub fn key(&self) -> &'static str {
        match self {
            LifecycleError::NotAllowedInState { .. } => "lifecycle.not_allowed",
            LifecycleError::RoleNotAllowed { .. } => "lifecycle.role",
            LifecycleError::ReasonRequired(_) => "lifecycle.reason_required",
            LifecycleError::ConsentMissing => "lifecycle.consent_missing",
            LifecycleError::TrackingCodeMissing => "lifecycle.tracking_missing",
            LifecycleError::DecisionConflict => "lifecycle.decision_conflict",
            LifecycleError::NoSuchChoice => "lifecycle.no_such_choice",
        }
    }
}

/// Decisions taken concurrently on one version of a dossier that lead to different states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionConflict {
    /// The version both were based on.
    pub based_on: u32,
    /// The state they both started from.
    pub from: DossierState,
    /// One per device, in audit order.
    pub branches: Vec<Branch>,
}

/// One device's line of actions in a decision conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// The device (or, for entries without one, the actor id).
    pub device: String,
    /// Who took the first action of the branch.
    pub actor: Actor,
    /// Positions of its entries in the audit.
    pub entries: Vec<usize>,
    /// The state it leads to.
    pub outcome: DossierState,
    /// When its first action was taken.
    pub at: Timestamp,
}

/// How the dossier came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Kiosk,
    /// Entered by a community digital-technology helper on a tablet.
    Helper,
    /// Entered by an officer at the counter.
    Officer,
    Online,
}

/// The person applying. The ID number and name usually come from the chip card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub id_number: String,
    pub full_name: String,
    pub submitter: Submitter,
    /// Whether the identity was read from a chip card whose signature verified.
    #[serde(default)]
    pub card_verified: bool,
}

/// A photographed paper, stored as a content-addressed attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Which paper of the procedure this is (`PaperDef::id`).
    pub paper: String,
    /// SHA-256 of the stored bytes, lowercase hex.
    pub sha256: String,
    pub media_type: String,
    pub bytes: u64,
}

/// The signed result of a dossier (the extract, certificate or decision), stored as an
/// attachment of the dossier's partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultDocument {
    /// The signed PDF (`paper` is `"result"`).
    pub file: AttachmentRef,
    /// The officer who signed it (actor id) and their name as on the certificate.
    pub signed_by: String,
    pub signer_name: String,
    pub issued_at: Timestamp,
}

/// The resident's consent to the use of their data for this dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub given_at: Timestamp,
    /// The version of the consent text shown (`consent.v1`…), so what was agreed to is known.
    pub text_version: String,
    /// Whether data may be reused for later procedures (the "give it only once" principle).
    pub reuse_for_later: bool,
    /// When a helper or officer entered the dossier, who it was.
    #[serde(default)]
    pub assisted_by: Option<String>,
    /// Whether the commune may fetch the person's earlier results (certificates, extracts)
    /// from the national platform and attach them to this dossier, instead of the person
    /// photographing the papers again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fetch_earlier_results: bool,
}

/// One application for one procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    /// A random id given at creation (UUID text), stable for the dossier's life.
    pub id: String,
    pub procedure: ProcedureCode,
    #[serde(default)]
    pub tracking_code: Option<TrackingCode>,
    /// The national platform's code (`MaHoSo`) of a dossier submitted online there and
    /// brought to the commune by the hub; such a dossier has no tracking code of ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_code: Option<String>,
    /// The commune a dossier that came in online was sent to (a tracking code names its
    /// commune; the platform's code does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_commune: Option<crate::tracking::CommuneCode>,
    pub applicant: Applicant,
    pub values: BTreeMap<String, String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    #[serde(default)]
    pub consent: Option<Consent>,
    pub channel: Channel,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The signed result, once issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultDocument>,
    state: DossierState,
    audit: Vec<AuditEntry>,
}

impl Dossier {
    /// A new draft.
    pub fn new(
        id: String,
        procedure: ProcedureCode,
        applicant: Applicant,
        channel: Channel,
        now: Timestamp,
    ) -> Dossier {
        Dossier {
            id,
            procedure,
            tracking_code: None,
            external_code: None,
            online_commune: None,
            applicant,
            values: BTreeMap::new(),
            attachments: Vec::new(),
            consent: None,
            channel,
            created_at: now,
            updated_at: now,
            result: None,
            state: DossierState::Draft,
            audit: Vec::new(),
        }
    }

    pub fn state(&self) -> DossierState {
        self.state
    }

    pub fn audit(&self) -> &[AuditEntry] {
        &self.audit
    }

    /// The code people quote for the dossier: our tracking code, or — for a dossier that
    /// came in online from the national platform — the platform's code.
    pub fn code(&self) -> Option<String> {
        self.tracking_code
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| self.external_code.clone())
    }

    /// The commune the dossier belongs to: the one its tracking code names, or the one a
    /// dossier that came in online was sent to.
    pub fn commune(&self) -> Option<&crate::tracking::CommuneCode> {
        self.tracking_code
            .as_ref()
            .map(|t| t.commune())
            .or(self.online_commune.as_ref())
    }

    /// The date (in Viet Nam) the processing clock starts: when the commune received the
    /// dossier; before that, when it was submitted (else when it was created). The officer's
    /// queue and the commune's indicators count due dates from it.
    pub fn processing_start(&self) -> jiff::civil::Date {
        let at = self
            .audit
            .iter()
            .find(|e| e.to == DossierState::Received)
            .or_else(|| self.audit.iter().find(|e| e.action == Action::Submit))
            .map_or(self.created_at, |e| e.at);
        crate::calendar::vietnam_date(at)
    }

    /// Whether `action` by `role` would be accepted now (for enabling buttons).
    pub fn can(&self, action: Action, role: Role) -> bool {
        action.target(self.state).is_some()
            && action.allowed_roles().contains(&role)
            && self.decision_conflict().is_none()
    }

    /// The dossier's version: the number of audit entries. An action records the version
    /// it was based on.
    pub fn version(&self) -> u32 {
        u32::try_from(self.audit.len()).unwrap_or(u32::MAX)
    }

    /// Concurrent decisions that lead to different states and that no later entry
    /// settled: the first such fork of the audit trail. Decisions taken on two devices
    /// from the same version are never merged silently; identical ones (both approved)
    /// are not a conflict.
    pub fn decision_conflict(&self) -> Option<DecisionConflict> {
        let mut settled: Vec<u32> = Vec::new();
        let mut index = 0;
        while index < self.audit.len() {
            let entry = &self.audit[index];
            let position = u32::try_from(index).unwrap_or(u32::MAX);
            let fork = match entry.based_on {
                Some(base) if base != position => Some(base),
                _ => None,
            };
            let Some(base) = fork else {
                index += 1;
                continue;
            };
            if settled.contains(&base) {
                index += 1;
                continue;
            }
            // Entries of the fork: from the base on, up to the entry that settles it.
            let base_index = base as usize;
            let end = self.audit[index..]
                .iter()
                .position(|e| e.resolves == Some(base))
                .map(|p| index + p);
            if let Some(end) = end {
                settled.push(base);
                index = end + 1;
                continue;
            }
            let conflict = self.branches_from(base);
            let mut outcomes: Vec<DossierState> = conflict.iter().map(|b| b.outcome).collect();
            outcomes.sort();
            outcomes.dedup();
            if outcomes.len() > 1 {
                return Some(DecisionConflict {
                    based_on: base,
                    from: self.audit.get(base_index).map_or(self.state, |e| e.from),
                    branches: conflict,
                });
            }
            settled.push(base);
            index += 1;
        }
        None
    }

    /// The branches of a fork at version `base`: the entries from there on, each joined
    /// to the line it was based on (the same device's line first), in order.
    fn branches_from(&self, base: u32) -> Vec<Branch> {
        let mut branches: Vec<Branch> = Vec::new();
        for (position, entry) in self.audit.iter().enumerate().skip(base as usize) {
            let who = entry
                .actor
                .device
                .clone()
                .unwrap_or_else(|| entry.actor.id.clone());
            let version = entry.based_on.unwrap_or(base);
            let next = |b: &Branch| base + u32::try_from(b.entries.len()).unwrap_or(u32::MAX);
            let line = branches
                .iter()
                .position(|b| b.device == who && next(b) == version)
                .or_else(|| branches.iter().position(|b| next(b) == version));
            match line {
                Some(i) if version != base => {
                    branches[i].entries.push(position);
                    branches[i].outcome = entry.to;
                }
                _ => branches.push(Branch {
                    device: who,
                    actor: entry.actor.clone(),
                    entries: vec![position],
                    outcome: entry.to,
                    at: entry.at,
                }),
            }
        }
        branches
    }

    /// Settles a decision conflict by keeping the branch `choice` (an index into
    /// [`DecisionConflict::branches`]): the state becomes that branch's outcome and one
    /// audit entry records who chose, when and what. The other branches stay in the
    /// audit as history. Refused (nothing changes) without a conflict, for a choice that
    /// is not in it, or for anyone but an officer.
    pub fn resolve_decision(
        &mut self,
        choice: usize,
        actor: Actor,
        now: Timestamp,
    ) -> Result<&AuditEntry, LifecycleError> {
        let conflict = self
            .decision_conflict()
            .ok_or(LifecycleError::NoSuchChoice)?;
        let branch = conflict
            .branches
            .get(choice)
            .ok_or(LifecycleError::NoSuchChoice)?;
        if actor.role != Role::Officer {
            return Err(LifecycleError::RoleNotAllowed {
                action: self.audit[branch.entries[branch.entries.len() - 1]].action,
                role: actor.role,
            });
        }
        let last = &self.audit[branch.entries[branch.entries.len() - 1]];
        let entry = AuditEntry {
            at: now,
            actor,
            action: last.action,
            from: conflict.from,
            to: branch.outcome,
            reason: last.reason.clone(),
            based_on: Some(self.version()),
            resolves: Some(conflict.based_on),
        };
        self.state = branch.outcome;
        self.updated_at = now;
        let index = self.audit.len();
        self.audit.push(entry);
        Ok(&self.audit[index])
    }

    /// Takes an action. On success the state changes and one audit entry is appended;
    /// on error nothing changes.
    pub fn apply(
        &mut self,
        action: Action,
        actor: Actor,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<&AuditEntry, LifecycleError> {
        if self.decision_conflict().is_some() {
            return Err(LifecycleError::DecisionConflict);
        }
        let to = action
            .target(self.state)
            .ok_or(LifecycleError::NotAllowedInState {
                action,
                state: self.state,
            })?;
        if !action.allowed_roles().contains(&actor.role) {
            return Err(LifecycleError::RoleNotAllowed {
                action,
                role: actor.role,
            });
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if action.needs_reason() && reason.is_none() {
            return Err(LifecycleError::ReasonRequired(action));
        }
        if action == Action::Submit {
            if self.consent.is_none() {
                return Err(LifecycleError::ConsentMissing);
            }
            if self.tracking_code.is_none() && self.external_code.is_none() {
                return Err(LifecycleError::TrackingCodeMissing);
            }
        }
        let entry = AuditEntry {
            at: now,
            actor,
            action,
            from: self.state,
            to,
            reason: reason.map(str::to_owned),
            based_on: Some(self.version()),
            resolves: None,
        };
        self.state = to;
        self.updated_at = now;
        let index = self.audit.len();
        self.audit.push(entry);
        Ok(&self.audit[index])
    }

    /// Issues the signed result: the dossier becomes `result_ready` with the document
    /// attached, in one step. Refused (nothing changes) as `MarkResultReady` would be.
    pub fn issue_result(
        &mut self,
        document: ResultDocument,
        actor: Actor,
        now: Timestamp,
    ) -> Result<&AuditEntry, LifecycleError> {
        let before = self.result.replace(document);
        if let Err(e) = self.apply(Action::MarkResultReady, actor, None, now) {
            self.result = before;
            return Err(e);
        }
        Ok(&self.audit[self.audit.len() - 1])
    }

    /// The person supplements what was asked for: the new pages are added and the dossier
    /// goes back to the officer. Refused (nothing changes) as `Supplement` would be.
    pub fn supplement(
        &mut self,
        pages: Vec<AttachmentRef>,
        actor: Actor,
        now: Timestamp,
    ) -> Result<&AuditEntry, LifecycleError> {
        let count = self.attachments.len();
        self.attachments.extend(pages);
        if let Err(e) = self.apply(Action::Supplement, actor, None, now) {
            self.attachments.truncate(count);
            return Err(e);
        }
        Ok(&self.audit[self.audit.len() - 1])
    }

    /// The reason given with the latest supplement request, if the dossier is waiting for one.
    pub fn missing(&self) -> Option<&str> {
        if self.state != DossierState::SupplementRequested {
            return None;
        }
        self.audit
            .iter()
            .rev()
            .find(|e| e.action == Action::RequestSupplement)
            .and_then(|e| e.reason.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::{CommuneCode, TrackingMinter};
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + s).unwrap()
    }

    fn actor(role: Role) -> Actor {
        Actor::new(role, format!("{role:?}-1"))
    }

    fn draft() -> Dossier {
        let mut d = Dossier::new(
            "d1".into(),
            ProcedureCode("birth-registration".into()),
            Applicant {
                id_number: "001085012345".into(),
                full_name: "Nguyễn Văn An".into(),
                submitter: Submitter::Oneself,
                card_verified: true,
            },
            Channel::Kiosk,
            t(0),
        );
        d.consent = Some(Consent {
            given_at: t(1),
            text_version: "consent.v1".into(),
            reuse_for_later: true,
            assisted_by: None,
            fetch_earlier_results: false,
        });
        let mut minter = TrackingMinter::new(CommuneCode::new("27280").unwrap(), 1).unwrap();
        d.tracking_code = Some(minter.mint(jiff::civil::date(2026, 11, 23)).unwrap());
        d
    }

    #[test]
    fn happy_path_to_returned() {
        let mut d = draft();
        let steps = [
            (Action::Submit, Role::Resident, None),
            (Action::Receive, Role::System, None),
            (Action::StartProcessing, Role::Officer, None),
            (
                Action::RequestSupplement,
                Role::Officer,
                Some("Thiếu giấy chứng sinh"),
            ),
            (Action::Supplement, Role::Resident, None),
            (Action::Resume, Role::Officer, None),
            (Action::Approve, Role::Officer, None),
            (Action::MarkResultReady, Role::System, None),
            (Action::ReturnResult, Role::Officer, None),
        ];
        for (i, (action, role, reason)) in steps.into_iter().enumerate() {
            if action == Action::Supplement {
                assert_eq!(d.missing(), Some("Thiếu giấy chứng sinh"));
            }
            d.apply(action, actor(role), reason, t(10 + i as i64))
                .unwrap();
        }
        assert_eq!(d.state(), DossierState::Returned);
        assert_eq!(d.audit().len(), 9);
        assert!(d.state().is_final());
    }

    #[test]
    fn refusals_change_nothing() {
        let mut d = draft();
        let before = d.clone();
        assert_eq!(
            d.apply(Action::Approve, actor(Role::Officer), None, t(5))
                .unwrap_err(),
            LifecycleError::NotAllowedInState {
                action: Action::Approve,
                state: DossierState::Draft
            }
        );
        assert_eq!(
            d.apply(Action::Withdraw, actor(Role::Resident), Some("  "), t(5))
                .unwrap_err(),
            LifecycleError::ReasonRequired(Action::Withdraw)
        );
        d.apply(Action::Submit, actor(Role::Helper), None, t(6))
            .unwrap();
        let submitted = d.clone();
        assert_eq!(
            d.apply(Action::StartProcessing, actor(Role::Officer), None, t(7))
                .unwrap_err()
                .key(),
            "lifecycle.not_allowed"
        );
        assert_eq!(
            d.apply(Action::Receive, actor(Role::Resident), None, t(7))
                .unwrap_err(),
            LifecycleError::RoleNotAllowed {
                action: Action::Receive,
                role: Role::Resident
            }
        );
        assert_eq!(d, submitted);
        assert_ne!(before, submitted);
    }

    #[test]
    fn submit_needs_consent_and_tracking_code() {
        let mut d = draft();
        d.consent = None;
        assert_eq!(
            d.apply(Action::Submit, actor(Role::Resident), None, t(2))
                .unwrap_err(),
            LifecycleError::ConsentMissing
        );
        let mut d = draft();
        d.tracking_code = None;
        assert_eq!(
            d.apply(Action::Submit, actor(Role::Resident), None, t(2))
                .unwrap_err(),
            LifecycleError::TrackingCodeMissing
        );
    }

    #[test]
    fn every_state_is_reachable_from_draft() {
        // breadth-first over the transition table
        let mut reached = BTreeSet::from([DossierState::Draft]);
        let mut frontier = vec![DossierState::Draft];
        while let Some(s) = frontier.pop() {
            for a in Action::ALL {
                if let Some(to) = a.target(s)
                    && reached.insert(to)
                {
                    frontier.push(to);
                }
            }
        }
        assert_eq!(reached.len(), DossierState::ALL.len());
        // and only final states are dead ends
        for s in DossierState::ALL {
            let has_exit = Action::ALL.iter().any(|a| a.target(s).is_some());
            assert_eq!(has_exit, !s.is_final(), "{s:?}");
        }
    }

    fn page(n: u8) -> AttachmentRef {
        AttachmentRef {
            paper: "birth_certificate".into(),
            sha256: format!("{n:02x}").repeat(32),
            media_type: "image/jpeg".into(),
            bytes: 10,
        }
    }

    #[test]
    fn a_supplement_adds_pages_and_a_result_is_issued_in_one_step() {
        let mut d = draft();
        d.apply(Action::Submit, actor(Role::Resident), None, t(1))
            .unwrap();
        // Not asked for: refused, no page added.
        let before = d.clone();
        assert!(
            d.supplement(vec![page(1)], actor(Role::Resident), t(2))
                .is_err()
        );
        assert_eq!(d, before);
        for (action, reason) in [
            (Action::Receive, None),
            (Action::StartProcessing, None),
            (Action::RequestSupplement, Some("Thiếu trang 2")),
        ] {
            d.apply(action, actor(Role::Officer), reason, t(3)).unwrap();
        }
        d.supplement(vec![page(2)], actor(Role::Resident), t(4))
            .unwrap();
        assert_eq!(d.state(), DossierState::Supplemented);
        assert_eq!(d.attachments, vec![page(2)]);
        let result = ResultDocument {
            file: AttachmentRef {
                paper: "result".into(),
                ..page(9)
            },
            signed_by: "officer:27280:1".into(),
            signer_name: "Lê Thị Hoa".into(),
            issued_at: t(6),
        };
        // Not approved yet: refused, nothing attached.
        let before = d.clone();
        assert!(
            d.issue_result(result.clone(), actor(Role::Officer), t(6))
                .is_err()
        );
        assert_eq!(d, before);
        d.apply(Action::Resume, actor(Role::Officer), None, t(7))
            .unwrap();
        d.apply(Action::Approve, actor(Role::Officer), None, t(8))
            .unwrap();
        d.issue_result(result.clone(), actor(Role::Officer), t(9))
            .unwrap();
        assert_eq!(d.state(), DossierState::ResultReady);
        assert_eq!(d.result, Some(result));
    }

    #[test]
    fn serde_round_trip_keeps_state_and_audit() {
        let mut d = draft();
        d.values
            .insert("child_full_name".into(), "Nguyễn Thị Bình".into());
        d.apply(Action::Submit, actor(Role::Resident), None, t(3))
            .unwrap();
        let json = serde_json::to_string(&d).unwrap();
        let back: Dossier = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }

    fn any_step() -> impl Strategy<Value = (Action, Role, bool)> {
        (
            proptest::sample::select(Action::ALL.to_vec()),
            proptest::sample::select(Role::ALL.to_vec()),
            any::<bool>(),
        )
    }

    proptest! {
        #[test]
        fn random_sequences_stay_defined(steps in proptest::collection::vec(any_step(), 0..60)) {
            let mut d = draft();
            let mut accepted = 0usize;
            for (i, (action, role, with_reason)) in steps.into_iter().enumerate() {
                let before = d.clone();
                let reason = with_reason.then_some("lý do");
                match d.apply(action, actor(role), reason, t(100 + i as i64)) {
                    Ok(entry) => {
                        let entry = entry.clone();
                        accepted += 1;
                        prop_assert_eq!(Some(entry.to), action.target(before.state()));
                        prop_assert_eq!(entry.from, before.state());
                        prop_assert!(action.allowed_roles().contains(&role));
                        prop_assert!(!before.state().is_final());
                    }
                    Err(_) => prop_assert_eq!(&d, &before),
                }
                prop_assert!(DossierState::ALL.contains(&d.state()));
                prop_assert_eq!(d.audit().len(), accepted);
            }
            // the audit trail chains: each entry starts where the previous ended
            let mut state = DossierState::Draft;
            for e in d.audit() {
                prop_assert_eq!(e.from, state);
                state = e.to;
            }
            prop_assert_eq!(state, d.state());
        }
    }
}
