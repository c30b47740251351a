//! A lesson's practice: the real resident screens in a sandbox.
//!
//! While a practice runs, the shell drives the resident's journey as usual — same screens,
//! same rules — with three differences: a practice banner shows the step's hint; the card is
//! a synthetic person's software card, read through the same ICAO 9303 code as any card
//! (never the learner's own); and nothing is stored or synced: the dossier is built and
//! checked by `services` exactly as for real, then dropped, and the receipt shows a code
//! from a throwaway counter. Lookups answer "not found" without touching the store, so a
//! practice never shows a real dossier. The practice is finished when what its flow is for
//! happened: a dossier checked and its receipt shown (`submit`), or a status lookup answered
//! (`status`).

use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::InProcess;
use xaso_kiosk_core::{CardEvent, Screen};
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
    /// (`submit`), or a status lookup was answered (`status`).
    goal: bool,
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
        }
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

    /// The sandbox answered a status lookup.
    pub fn looked_up(&mut self) {
        if self.flow == PracticeFlow::Status {
            self.goal = true;
        }
    }

    /// Follows the journey to `screen`: the hint moves to the first step on it from the
    /// current one on. Returns true when the practice reached its end: what the flow is for
    /// happened (for `submit`, with the receipt on screen).
    pub fn follow(&mut self, screen: Screen) -> bool {
        if let Some(offset) = self.steps[self.step..]
            .iter()
            .position(|(s, _)| *s == screen)
        {
            self.step += offset;
        }
        match self.flow {
            PracticeFlow::Submit => self.goal && screen == Screen::Receipt,
            // The sandbox finds nothing (it never shows a real dossier): the answer may be
            // the status screen or the "not found" screen.
            PracticeFlow::Status => self.goal,
        }
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
