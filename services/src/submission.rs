//! What a person hands in, and the dossier made from it.
//!
//! A [`Submission`] is everything gathered at a kiosk (or, later, on a helper's tablet or at
//! the counter) for one procedure: the values of the form, which of them came from the chip
//! card, whether the card verified, the requester's ID number, the references of the
//! photographed papers and whether the person consented. [`Submission::into_dossier`] turns
//! it into a draft [`Dossier`] — one place, the same for every channel — with the id, the
//! actor, the consent text's version and the time passed in. Minting the tracking code and
//! the `submit` action of the lifecycle happen where the dossier is stored.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::catalog::{Catalog, ProcedureCode, Submitter};
use crate::dossier::{Actor, Applicant, AttachmentRef, Channel, Consent, Dossier, Role};

/// Everything a person entered and agreed to for one procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub procedure: ProcedureCode,
    /// Field values in the catalog's forms (dates `YYYY-MM-DD`), empty ones left out.
    pub values: BTreeMap<String, String>,
    /// Fields whose values came from the chip card.
    pub from_card: BTreeSet<String>,
    /// Whether the card's data verified (passive authentication).
    pub card_verified: bool,
    /// The requester's ID number as read from the card; without a card the form's
    /// `requester_id_number` is used.
    pub requester_id_number: Option<String>,
    /// The photographed papers, already stored content-addressed.
    pub attachments: Vec<AttachmentRef>,
    /// The person ticked "I agree" to the consent text.
    pub consent: bool,
    /// The person also let the commune fetch the results issued to them earlier from the
    /// national public-service portal (optional, unticked unless they tick it); recorded as
    /// [`Consent::fetch_earlier_results`].
    pub fetch_earlier_results: bool,
    /// Where it was handed in.
    pub channel: Channel,
}

/// Why a submission cannot become a dossier. Nothing is created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("the procedure `{0}` is not in the catalog")]
    UnknownProcedure(String),
    #[error("consent must be given before a dossier is made")]
    ConsentMissing,
    #[error("the consent text version is empty")]
    ConsentVersionMissing,
    #[error("the paper `{paper}` is not one of the procedure `{procedure}`")]
    UnknownPaper { procedure: String, paper: String },
}

impl SubmissionError {
    /// Translation key of the message a person sees.
    pub fn key(&self) -> &'static str {
        match self {
            SubmissionError::UnknownProcedure(_) => "submission.unknown_procedure",
            SubmissionError::ConsentMissing | SubmissionError::ConsentVersionMissing => {
                "lifecycle.consent_missing"
            }
            SubmissionError::UnknownPaper { .. } => "paper.unknown",
        }
    }
}

impl Submission {
    /// Who hands the dossier in, as far as the form tells.
    pub fn submitter(&self) -> Submitter {
        Submitter::from_relationship(
            self.values
                .get("requester_relationship")
                .map(String::as_str),
        )
    }

    /// The draft dossier for this submission: `id` (a fresh UUID from the caller), the
    /// consent recorded at `at` with the version of the text that was shown, and — when a
    /// helper or an officer acts for the person — who assisted.
    pub fn into_dossier(
        self,
        catalog: &Catalog,
        id: String,
        actor: &Actor,
        consent_text_version: &str,
        at: Timestamp,
    ) -> Result<Dossier, SubmissionError> {
        let procedure = catalog
            .procedure(self.procedure.as_str())
            .ok_or_else(|| SubmissionError::UnknownProcedure(self.procedure.0.clone()))?;
        if !self.consent {
            return Err(SubmissionError::ConsentMissing);
        }
        if consent_text_version.trim().is_empty() {
            return Err(SubmissionError::ConsentVersionMissing);
        }
        if let Some(a) = self
            .attachments
            .iter()
            .find(|a| procedure.paper(&a.paper).is_none())
        {
            return Err(SubmissionError::UnknownPaper {
                procedure: self.procedure.0.clone(),
                paper: a.paper.clone(),
            });
        }
        let value = |k: &str| self.values.get(k).cloned().unwrap_or_default();
        let applicant = Applicant {
            id_number: self
                .requester_id_number
                .clone()
                .unwrap_or_else(|| value("requester_id_number")),
            full_name: value("requester_full_name"),
            submitter: self.submitter(),
            card_verified: self.card_verified,
        };
        let mut dossier = Dossier::new(id, procedure.code.clone(), applicant, self.channel, at);
        dossier.values = self.values;
        dossier.attachments = self.attachments;
        dossier.consent = Some(Consent {
            given_at: at,
            text_version: consent_text_version.to_owned(),
            reuse_for_later: false,
            assisted_by: matches!(actor.role, Role::Helper | Role::Officer)
                .then(|| actor.id.clone()),
            fetch_earlier_results: self.fetch_earlier_results,
        });
        Ok(dossier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::{Action, DossierState};
    use crate::tracking::{CommuneCode, TrackingMinter};

    fn at() -> Timestamp {
        "2026-11-23T02:30:00Z".parse().unwrap()
    }

    fn resident() -> Actor {
        Actor {
            role: Role::Resident,
            id: "kiosk:79001:3".into(),
            device: None,
        }
    }

    fn submission() -> Submission {
        Submission {
            procedure: ProcedureCode("birth-registration".into()),
            values: BTreeMap::from([
                ("requester_full_name".into(), "Nguyễn Thị Mai Anh".into()),
                ("requester_relationship".into(), "mother".into()),
                ("child_full_name".into(), "Nguyễn Minh Khang".into()),
            ]),
            from_card: BTreeSet::from(["requester_full_name".to_owned()]),
            card_verified: true,
            requester_id_number: Some("079303001234".into()),
            attachments: vec![AttachmentRef {
                paper: "birth_certificate".into(),
                sha256: "ab".repeat(32),
                media_type: "image/jpeg".into(),
                bytes: 1234,
            }],
            consent: true,
            fetch_earlier_results: false,
            channel: Channel::Kiosk,
        }
    }

    #[test]
    fn a_submission_becomes_a_draft_dossier_with_consent_and_papers() {
        let catalog = Catalog::bundled().unwrap();
        let d = submission()
            .into_dossier(&catalog, "d-1".into(), &resident(), "consent.v1", at())
            .unwrap();
        assert_eq!(d.id, "d-1");
        assert_eq!(d.state(), DossierState::Draft);
        assert_eq!(d.procedure.as_str(), "birth-registration");
        assert_eq!(d.applicant.id_number, "079303001234");
        assert_eq!(d.applicant.full_name, "Nguyễn Thị Mai Anh");
        assert_eq!(d.applicant.submitter, Submitter::Oneself);
        assert!(d.applicant.card_verified);
        assert_eq!(d.channel, Channel::Kiosk);
        assert_eq!(d.created_at, at());
        assert_eq!(d.values["child_full_name"], "Nguyễn Minh Khang");
        assert_eq!(d.attachments.len(), 1);
        let consent = d.consent.as_ref().unwrap();
        assert_eq!(consent.text_version, "consent.v1");
        assert_eq!(consent.given_at, at());
        assert_eq!(consent.assisted_by, None, "the resident acted alone");
        assert!(!consent.fetch_earlier_results, "not asked for");
        // The draft is ready for the lifecycle: with a tracking code it can be submitted.
        let mut d = d;
        let mut minter = TrackingMinter::new(CommuneCode::new("79001").unwrap(), 3).unwrap();
        d.tracking_code = Some(minter.mint(jiff::civil::date(2026, 11, 23)).unwrap());
        d.apply(Action::Submit, resident(), None, at()).unwrap();
        assert_eq!(d.state(), DossierState::Submitted);
    }

    #[test]
    fn the_choice_to_fetch_earlier_results_is_recorded_in_the_consent() {
        let catalog = Catalog::bundled().unwrap();
        let mut s = submission();
        s.fetch_earlier_results = true;
        let d = s
            .into_dossier(&catalog, "d-4".into(), &resident(), "consent.v1", at())
            .unwrap();
        assert!(d.consent.unwrap().fetch_earlier_results);
    }

    #[test]
    fn without_a_card_the_typed_id_number_is_the_requesters() {
        let catalog = Catalog::bundled().unwrap();
        let mut s = submission();
        s.requester_id_number = None;
        s.card_verified = false;
        s.values
            .insert("requester_id_number".into(), "001195012345".into());
        s.values
            .insert("requester_relationship".into(), "authorised".into());
        let d = s
            .into_dossier(&catalog, "d-2".into(), &resident(), "consent.v1", at())
            .unwrap();
        assert_eq!(d.applicant.id_number, "001195012345");
        assert_eq!(d.applicant.submitter, Submitter::Authorised);
        assert!(!d.applicant.card_verified);
    }

    #[test]
    fn a_helper_is_recorded_as_assisting() {
        let catalog = Catalog::bundled().unwrap();
        let helper = Actor {
            role: Role::Helper,
            id: "helper:79001:7".into(),
            device: None,
        };
        let d = submission()
            .into_dossier(&catalog, "d-3".into(), &helper, "consent.v1", at())
            .unwrap();
        assert_eq!(
            d.consent.unwrap().assisted_by.as_deref(),
            Some("helper:79001:7")
        );
    }

    #[test]
    fn unknown_procedure_missing_consent_and_foreign_papers_are_refused() {
        let catalog = Catalog::bundled().unwrap();
        let make = |s: Submission, version: &str| {
            s.into_dossier(&catalog, "d".into(), &resident(), version, at())
        };
        let mut s = submission();
        s.procedure = ProcedureCode("no-such-procedure".into());
        assert_eq!(
            make(s, "consent.v1").unwrap_err(),
            SubmissionError::UnknownProcedure("no-such-procedure".into())
        );
        let mut s = submission();
        s.consent = false;
        let err = make(s, "consent.v1").unwrap_err();
        assert_eq!(err, SubmissionError::ConsentMissing);
        assert_eq!(err.key(), "lifecycle.consent_missing");
        assert_eq!(
            make(submission(), " ").unwrap_err(),
            SubmissionError::ConsentVersionMissing
        );
        let mut s = submission();
        s.attachments[0].paper = "passport".into();
        assert!(matches!(
            make(s, "consent.v1").unwrap_err(),
            SubmissionError::UnknownPaper { paper, .. } if paper == "passport"
        ));
    }

    #[test]
    fn relationships_name_the_submitter() {
        assert_eq!(Submitter::from_relationship(None), Submitter::Oneself);
        assert_eq!(Submitter::from_relationship(Some("")), Submitter::Oneself);
        assert_eq!(
            Submitter::from_relationship(Some("father")),
            Submitter::Oneself
        );
        assert_eq!(
            Submitter::from_relationship(Some("authorised")),
            Submitter::Authorised
        );
        assert_eq!(
            Submitter::from_relationship(Some("grandparent")),
            Submitter::Relative
        );
    }
}
