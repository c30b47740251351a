//! An assisted session: a community digital-technology helper beside a resident.
//!
//! The helper is signed in on their tablet ([`crate::signin`]). To help someone they start
//! a session; the resident taps their own chip card and agrees on screen to being helped.
//! Only then does the resident's journey open — the same [`crate::ResidentJourney`] a kiosk
//! runs, so the helper can do what the resident could do at a kiosk and nothing more —
//! and every step is taken in both names: the helper as the actor, the resident as the
//! applicant ([`AssistedSession::actor`], [`Consent::assisted_by`]).
//!
//! ```text
//! Idle ──start──▶ WaitingForCard ──card verified──▶ AskingConsent ──agrees──▶ Active
//!   ▲                 │ cancel                          │ declines / card removed   │ end
//!   └─────────────────┴─────────────────────────────────┴───────────────────────────┘
//! ```
//!
//! When the session ends the resident's data goes with it: the journey is wiped, and
//! [`AssistedSession::may_open`] refuses every dossier of the resident from then on; only
//! a new session, with the resident's card and consent again, opens them.
//!
//! [`Consent::assisted_by`]: xaso_services::Consent::assisted_by

use jiff::Timestamp;
use xaso_services::{Actor, Role};

use crate::card::CardIdentity;

/// The version of the on-screen text the resident agrees to.
pub const ASSIST_CONSENT_VERSION: &str = "assist-consent.v1";

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssistState {
    /// No resident: the helper's home.
    Idle,
    /// "Please tap your chip card".
    WaitingForCard,
    /// The resident's card was read and verified; the consent text is shown.
    AskingConsent,
    /// Helping.
    Active,
}

/// Why an input was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssistRefusal {
    /// A session is already open.
    AlreadyOpen,
    /// Not now: the session is elsewhere.
    NotNow(AssistState),
    /// The card did not verify (or gave no ID number): a helper cannot act for a person
    /// the card does not vouch for.
    CardNotVerified,
    /// No session, or another person's: the data cannot be opened.
    NotThisResident,
}

impl AssistRefusal {
    /// Translation key (domain `messages`).
    pub fn key(&self) -> &'static str {
        match self {
            AssistRefusal::AlreadyOpen => "assist.already_open",
            AssistRefusal::NotNow(_) => "assist.not_now",
            AssistRefusal::CardNotVerified => "assist.card_not_verified",
            AssistRefusal::NotThisResident => "assist.not_this_resident",
        }
    }
}

/// The record of an assisted session, kept on the helper's tablet and synced: who helped
/// whom, when the resident agreed and when it ended. Both identities, never an ID number
/// in clear: the resident is named by the roster's keyed hash
/// ([`xaso_services::roster::person_key`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AssistRecord {
    /// The session's id (given by the app).
    pub id: String,
    /// The helper's actor id (`helper:79001:7`) and device.
    pub helper: Actor,
    /// The resident, as the roster's person key.
    pub resident: String,
    /// The resident's name as on the card (shown in the helper's history of the day).
    pub resident_name: String,
    pub consent_version: String,
    pub consented_at: Timestamp,
    #[serde(default)]
    pub ended_at: Option<Timestamp>,
    /// Tracking codes of the dossiers submitted in the session.
    #[serde(default)]
    pub dossiers: Vec<String>,
}

/// What the app must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssistEffect {
    /// Store this record durably (on consent, on each dossier, at the end).
    SaveRecord(Box<AssistRecord>),
    /// Open the resident's journey with this card (the card data pre-fills forms).
    OpenJourney,
    /// Wipe the resident's journey and anything the app holds of the resident.
    WipeResident,
}

/// One helper's tablet, between sessions and during one.
#[derive(Debug, Clone)]
pub struct AssistedSession {
    commune: String,
    helper: Actor,
    state: AssistState,
    /// The card read for this session (until it ends).
    card: Option<CardIdentity>,
    record: Option<AssistRecord>,
}

impl AssistedSession {
    /// `helper`: role helper, the roster actor id and the device id.
    pub fn new(commune: impl Into<String>, helper: Actor) -> AssistedSession {
        AssistedSession {
            commune: commune.into(),
            helper,
            state: AssistState::Idle,
            card: None,
            record: None,
        }
    }

    pub fn state(&self) -> &AssistState {
        &self.state
    }

    /// The session's record while it is open.
    pub fn record(&self) -> Option<&AssistRecord> {
        self.record.as_ref()
    }

    /// The resident's card while the session is open.
    pub fn card(&self) -> Option<&CardIdentity> {
        self.card.as_ref()
    }

    /// The actor of every step taken in the session: the helper, on this device.
    pub fn actor(&self) -> Actor {
        Actor {
            role: Role::Helper,
            ..self.helper.clone()
        }
    }

    /// "Help a resident".
    pub fn start(&mut self) -> Result<(), AssistRefusal> {
        if self.state != AssistState::Idle {
            return Err(AssistRefusal::AlreadyOpen);
        }
        self.state = AssistState::WaitingForCard;
        Ok(())
    }

    /// The resident's card was read; `verified`: passive authentication succeeded.
    pub fn card_read(&mut self, card: &CardIdentity, verified: bool) -> Result<(), AssistRefusal> {
        if self.state != AssistState::WaitingForCard {
            return Err(AssistRefusal::NotNow(self.state.clone()));
        }
        if !verified || card.id_number().is_none() {
            return Err(AssistRefusal::CardNotVerified);
        }
        self.card = Some(card.clone());
        self.state = AssistState::AskingConsent;
        Ok(())
    }

    /// The resident's answer on the consent screen.
    pub fn consent(
        &mut self,
        agrees: bool,
        session_id: String,
        now: Timestamp,
    ) -> Result<Vec<AssistEffect>, AssistRefusal> {
        if self.state != AssistState::AskingConsent {
            return Err(AssistRefusal::NotNow(self.state.clone()));
        }
        if !agrees {
            return Ok(self.end(now));
        }
        let Some(card) = &self.card else {
            return Err(AssistRefusal::CardNotVerified);
        };
        let id_number = card.id_number().unwrap_or_default();
        let record = AssistRecord {
            id: session_id,
            helper: self.actor(),
            resident: xaso_services::roster::person_key(&self.commune, id_number),
            resident_name: card.full_name().unwrap_or_default().to_owned(),
            consent_version: ASSIST_CONSENT_VERSION.into(),
            consented_at: now,
            ended_at: None,
            dossiers: Vec::new(),
        };
        self.record = Some(record.clone());
        self.state = AssistState::Active;
        Ok(vec![
            AssistEffect::SaveRecord(Box::new(record)),
            AssistEffect::OpenJourney,
        ])
    }

    /// The resident journey's submission as the helper hands it in: checked against the
    /// session's card (a helper submits only for the resident who consented), channel
    /// "helper". Make the dossier with [`AssistedSession::actor`] so the consent names
    /// the helper.
    pub fn hand_in(
        &self,
        submission: &crate::Submission,
    ) -> Result<xaso_services::Submission, AssistRefusal> {
        let card = self.card.as_ref().ok_or(AssistRefusal::NotThisResident)?;
        let id_number = card.id_number().ok_or(AssistRefusal::NotThisResident)?;
        self.may_open(id_number)?;
        if submission
            .requester_id_number
            .as_deref()
            .is_some_and(|n| n != id_number)
        {
            return Err(AssistRefusal::NotThisResident);
        }
        let mut out = submission.to_services();
        out.requester_id_number = Some(id_number.to_owned());
        out.channel = xaso_services::Channel::Helper;
        Ok(out)
    }

    /// A dossier was stored in the session.
    pub fn submitted(&mut self, tracking_code: &str) -> Result<Vec<AssistEffect>, AssistRefusal> {
        let record = match (&self.state, &mut self.record) {
            (AssistState::Active, Some(r)) => r,
            _ => return Err(AssistRefusal::NotNow(self.state.clone())),
        };
        record.dossiers.push(tracking_code.to_owned());
        Ok(vec![AssistEffect::SaveRecord(Box::new(record.clone()))])
    }

    /// May the resident's data with this ID number be opened now? Only inside an open
    /// session with that resident's own card.
    pub fn may_open(&self, id_number: &str) -> Result<(), AssistRefusal> {
        match (&self.state, &self.card) {
            (AssistState::Active, Some(card)) if card.id_number() == Some(id_number) => Ok(()),
            _ => Err(AssistRefusal::NotThisResident),
        }
    }

    /// The card was taken away: the session ends.
    pub fn card_removed(&mut self, now: Timestamp) -> Vec<AssistEffect> {
        if self.state == AssistState::Idle || self.state == AssistState::WaitingForCard {
            return Vec::new();
        }
        self.end(now)
    }

    /// "End the session" (or cancel before it began): the resident's data goes.
    pub fn end(&mut self, now: Timestamp) -> Vec<AssistEffect> {
        let mut effects = Vec::new();
        if let Some(mut record) = self.record.take() {
            record.ended_at = Some(now);
            effects.push(AssistEffect::SaveRecord(Box::new(record)));
        }
        if self.card.take().is_some() || self.state != AssistState::Idle {
            effects.push(AssistEffect::WipeResident);
        }
        self.state = AssistState::Idle;
        effects
    }
}

#[cfg(test)]
mod tests;
