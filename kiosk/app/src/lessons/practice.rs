//! A lesson's practice: the real resident screens in a sandbox.
//!
//! While a practice runs, the shell drives the resident's journey as usual — same screens,
//! same rules — with three differences: a practice banner shows the step's hint; the card is
//! a synthetic person's software card, read through the same ICAO 9303 code as any card
//! (never the learner's own); and nothing is stored or synced: the dossier is built and
//! checked by `services` exactly as for real, then dropped, and the receipt shows a code
//! from a throwaway counter. Status lookups are answered only from a sample dossier built in
//! memory ([`sample_dossier`], its code given in the hint) — never from the store, so a
//! practice never shows a real dossier. The practice is finished when what its flow is for
//! happened — a dossier checked and its receipt shown (`submit`), the sample found
//! (`status`) — and the learner leaves that result ("home").

use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::InProcess;
use xaso_kiosk_core::{CardEvent, Screen};
use xaso_services::Dossier;
use xaso_training::content::{Practice, PracticeFlow, PracticeStep};

/// The synthetic person of every practice (not a real person).
const PRACTICE_IDENTITY: &str = include_str!("practice-identity.toml");

/// A kiosk screen by the name of its `.slint` file, as lessons name them.
pub fn screen_named(name: &str) -> Option<Screen> {
    Some(match name {
        "home" => Screen::Home,
        "identify" => Screen::Identify,
        "services" => Screen::Services,
        "life-event" => Screen::LifeEvent,
        "form" => Screen::Form,
        "papers" => Screen::Papers,
        "review" => Screen::Review,
        "receipt" => Screen::Receipt,
        "rating" => Screen::Rating,
        "thanks" => Screen::Thanks,
        "status" => Screen::Status,
        "skills" => Screen::Skills,
        "error" => Screen::Error,
        _ => return None,
    })
}

pub struct PracticeRun {
    pub module: String,
    flow: PracticeFlow,
    steps: Vec<(Screen, PracticeStep)>,
    /// The step whose hint is shown.
    step: usize,
    /// The synthetic card was read into this run.
    card_read: bool,
    /// What the flow is for happened: the dossier was checked and its receipt shown
    /// (`submit`), or the sample dossier was found (`status`).
    goal: bool,
    /// The status practice's sample dossier (the practice person's, in memory only).
    sample: Option<Dossier>,
}

impl PracticeRun {
    /// A run of `practice`; steps naming a screen the kiosk does not have are skipped (the
    /// content tests refuse such lessons before they are published).
    pub fn new(module: &str, practice: &Practice) -> PracticeRun {
        PracticeRun {
            module: module.to_owned(),
            flow: practice.flow,
            steps: practice
                .steps
                .iter()
                .filter_map(|s| screen_named(&s.screen).map(|screen| (screen, s.clone())))
                .collect(),
            step: 0,
            card_read: false,
            goal: false,
            sample: None,
        }
    }

    /// Gives a status practice its sample dossier (see [`sample_dossier`]).
    pub fn with_sample(mut self, sample: Option<Dossier>) -> PracticeRun {
        if self.flow == PracticeFlow::Status {
            self.sample = sample;
        }
        self
    }

    /// The sample dossier's tracking code, shown in the hints (`{code}`).
    pub fn sample_code(&self) -> Option<String> {
        self.sample
            .as_ref()
            .and_then(|d| d.tracking_code.as_ref())
            .map(ToString::to_string)
    }

    /// The answer to a lookup by code in the sandbox: the sample when the code is its own,
    /// else nothing (a practice never shows a real dossier).
    pub fn lookup(&mut self, code: &str) -> Option<Dossier> {
        let found = self.sample.clone().filter(|d| {
            d.tracking_code
                .as_ref()
                .is_some_and(|c| c.to_string() == code.trim())
        });
        if found.is_some() {
            self.goal = true;
        }
        found
    }

    /// Has what the practice is for happened?
    pub fn goal_reached(&self) -> bool {
        self.goal
    }

    pub fn step(&self) -> usize {
        self.step
    }
    pub fn steps(&self) -> usize {
        self.steps.len()
    }
    pub fn hint(&self) -> Option<&PracticeStep> {
        self.steps.get(self.step).map(|(_, s)| s)
    }

    /// The sandbox checked a dossier and showed its receipt.
    pub fn submitted(&mut self) {
        if self.flow == PracticeFlow::Submit {
            self.goal = true;
        }
    }

    /// Follows the journey to `screen`: the hint moves to the first step on it from the
    /// current one on, and to the last step once the goal is reached. Returns true when the
    /// practice reached its end: the goal was reached and the learner has left the screen
    /// that shows it (the receipt, or the sample's status), so they see the result first.
    pub fn follow(&mut self, screen: Screen) -> bool {
        if self.goal {
            self.step = self.steps.len().saturating_sub(1);
        } else if let Some(offset) = self.steps[self.step..]
            .iter()
            .position(|(s, _)| *s == screen)
        {
            self.step += offset;
        }
        let result_screen = match self.flow {
            PracticeFlow::Submit => Screen::Receipt,
            PracticeFlow::Status => Screen::Status,
        };
        self.goal && screen != result_screen
    }

    /// The synthetic card, read when the journey asks for a card (once per run).
    pub fn card_for(&mut self, screen: Screen) -> Option<Vec<CardEvent>> {
        if screen != Screen::Identify || self.card_read {
            return None;
        }
        self.card_read = true;
        Some(read_practice_card())
    }
}

/// The sample dossier of a status practice: the practice person's marital-status
/// certificate, handed in at a kiosk of this commune yesterday, received and being
/// processed. Built with the real lifecycle (`services`), kept in memory only.
pub fn sample_dossier(commune: &str, now: jiff::Timestamp) -> Option<Dossier> {
    use xaso_services::tracking::{CommuneCode, TrackingCode};
    use xaso_services::{
        Action, Actor, Applicant, Channel, Consent, ProcedureCode, Role, Submitter,
    };
    let identity = Identity::from_toml(PRACTICE_IDENTITY).ok()?;
    let handed_in = now.checked_sub(jiff::SignedDuration::from_hours(24)).ok()?;
    let mut d = Dossier::new(
        "practice-sample".into(),
        ProcedureCode("marital-status-certificate".into()),
        Applicant {
            id_number: identity.id_number.clone(),
            full_name: identity.full_name.clone(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        handed_in,
    );
    d.consent = Some(Consent {
        given_at: handed_in,
        text_version: xaso_kiosk_core::CONSENT_TEXT_VERSION.into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let day = xaso_services::calendar::vietnam_date(handed_in);
    d.tracking_code = Some(TrackingCode::new(CommuneCode::new(commune).ok()?, day, 0, 1).ok()?);
    d.apply(
        Action::Submit,
        Actor::new(Role::Resident, "kiosk"),
        None,
        handed_in,
    )
    .ok()?;
    let officer = Actor::new(Role::Officer, format!("officer:{commune}:1"));
    for (action, hours) in [(Action::Receive, 1), (Action::StartProcessing, 2)] {
        let at = handed_in
            .checked_add(jiff::SignedDuration::from_hours(hours))
            .ok()?;
        d.apply(action, officer.clone(), None, at).ok()?;
    }
    Some(d)
}

/// Reads the synthetic practice card through the software card and the real reading code.
fn read_practice_card() -> Vec<CardEvent> {
    use xaso_kiosk_core::CardProblem;
    let fail = |e: &dyn std::fmt::Display| {
        tracing::error!("practice card: {e}");
        vec![CardEvent::Failed(CardProblem::Unreadable)]
    };
    let identity = match Identity::from_toml(PRACTICE_IDENTITY) {
        Ok(i) => i,
        Err(e) => return fail(&e),
    };
    let pki = match TestPki::default_test() {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let files = match CardFiles::build(&identity, &pki) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let key = match identity.mrz_key() {
        Ok(k) => k,
        Err(e) => return fail(&e),
    };
    let mut transport = InProcess {
        card: SoftCard::new(files),
    };
    vec![
        CardEvent::Present,
        crate::chipcard::read_trying(&mut transport, &[key], &pki.trust_store()),
    ]
}
