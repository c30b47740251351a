//! The resident's journey, walked input by input with the time passed in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use xaso_services::CardField;

use super::*;

/// A kiosk and its own clock: every input happens one second after the previous one.
struct Kiosk {
    journey: ResidentJourney,
    start: Instant,
    elapsed: Duration,
    today: jiff::civil::Date,
}

impl Kiosk {
    fn new() -> Kiosk {
        Kiosk::with_idle(IdlePolicy::default())
    }

    fn with_idle(policy: IdlePolicy) -> Kiosk {
        let start = Instant::now();
        let today = jiff::civil::date(2026, 11, 23);
        Kiosk {
            journey: ResidentJourney::new(
                Catalog::bundled().unwrap(),
                Moment { now: start, today },
            )
            .with_idle_policy(policy),
            start,
            elapsed: Duration::ZERO,
            today,
        }
    }

    fn at(&self) -> Moment {
        Moment {
            now: self.start + self.elapsed,
            today: self.today,
        }
    }

    fn wait(&mut self, d: Duration) {
        self.elapsed += d;
    }

    /// An input that must be accepted.
    fn go(&mut self, input: Input) -> Vec<Effect> {
        self.elapsed += Duration::from_secs(1);
        let at = self.at();
        match self.journey.handle(input.clone(), at) {
            Ok(effects) => effects,
            Err(r) => panic!("{input:?} refused: {r:?}"),
        }
    }

    /// An input that must be refused; returns why.
    fn refused(&mut self, input: Input) -> Refusal {
        self.elapsed += Duration::from_secs(1);
        let at = self.at();
        match self.journey.handle(input.clone(), at) {
            Ok(effects) => panic!("{input:?} accepted: {effects:?}"),
            Err(r) => r,
        }
    }

    fn screen(&self) -> Screen {
        self.journey.screen()
    }

    /// Taps the field, clears it, types `text` key by key, "done".
    fn typed(&mut self, field: &str, text: &str) -> Vec<Effect> {
        self.go(Input::FocusField(field.into()));
        let mut effects = self.go(Input::ClearText);
        for ch in text.chars() {
            effects = self.go(Input::Key(ch));
        }
        self.go(Input::KeyboardDone);
        effects
    }

    /// Everything the journey holds, to check that a refused input changed nothing.
    fn state(&self) -> String {
        let j = &self.journey;
        format!(
            "{:?}",
            (j.screen, j.error, j.lang, &j.session, &j.idle, j.today)
        )
    }
}

fn mai_anh() -> CardIdentity {
    CardIdentity {
        fields: BTreeMap::from([
            (CardField::IdNumber, "079303001234".to_owned()),
            (CardField::FullName, "Nguyễn Thị Mai Anh".to_owned()),
            (CardField::DateOfBirth, "2003-05-17".to_owned()),
            (CardField::Sex, "female".to_owned()),
            (
                CardField::PlaceOfResidence,
                "Thôn Thượng, Xã Tân Lập, Huyện Đan Phượng, Hà Nội".to_owned(),
            ),
        ]),
    }
}

fn hung() -> CardIdentity {
    CardIdentity {
        fields: BTreeMap::from([
            (CardField::IdNumber, "001090067890".to_owned()),
            (CardField::FullName, "Trần Văn Hùng".to_owned()),
        ]),
    }
}

fn read(identity: CardIdentity, verified: bool) -> Input {
    Input::Card(CardEvent::Read { identity, verified })
}

fn page(seed: u8) -> PaperImage {
    PaperImage {
        jpeg: Arc::from(vec![0xFF, 0xD8, seed]),
        sha256: format!("{seed:02x}").repeat(32),
        width: 10,
        height: 14,
        preview_rgba: Arc::from(vec![seed; 4]),
        preview_width: 1,
        preview_height: 1,
    }
}

fn add_page(paper: &str, seed: u8) -> Input {
    Input::AddPaperImage {
        paper: paper.into(),
        image: page(seed),
    }
}

/// Home → tap the card → verified → birth of a child → birth registration.
fn at_the_birth_form(k: &mut Kiosk) {
    k.go(Input::Open(Screen::Identify));
    assert_eq!(k.journey.card_state(), CardState::Waiting);
    k.go(Input::Card(CardEvent::Present));
    assert_eq!(k.journey.card_state(), CardState::Reading);
    let effects = k.go(read(mai_anh(), true));
    assert_eq!(k.journey.card_state(), CardState::Verified);
    assert_eq!(
        effects,
        [Effect::LoadDraft {
            id_number: "079303001234".into()
        }]
    );
    k.go(Input::ContinueAfterIdentify);
    assert_eq!(k.screen(), Screen::Services);
    k.go(Input::ChooseLifeEvent("birth".into()));
    assert_eq!(k.screen(), Screen::LifeEvent);
    k.go(Input::ChooseProcedure("birth-registration".into()));
    assert_eq!(k.screen(), Screen::Form);
}

fn fill_the_birth_form(k: &mut Kiosk) {
    k.go(Input::ChooseValue {
        field: "requester_relationship".into(),
        value: "mother".into(),
    });
    k.typed("child_full_name", "Nguyeenx Minh Khang");
    k.typed("child_date_of_birth", "20/11/2026");
    k.go(Input::ChooseValue {
        field: "child_sex".into(),
        value: "male".into(),
    });
    k.typed("child_place_of_birth", "Trajm y tees");
    k.typed("child_ethnicity", "Kinh");
    k.typed("mother_full_name", "Nguyeenx Thij Mai Anh");
    k.typed("mother_id_number", "079303001234");
}

#[test]
fn the_whole_journey_from_home_to_thanks() {
    let mut k = Kiosk::new();
    assert_eq!(k.screen(), Screen::Home);
    at_the_birth_form(&mut k);

    // Pre-filled from the verified card, and marked as such.
    let form = k.journey.form().unwrap();
    assert_eq!(form.values["requester_full_name"], "Nguyễn Thị Mai Anh");
    assert_eq!(form.values["requester_id_number"], "079303001234");
    assert_eq!(
        form.sources.get("requester_address"),
        Some(&ValueSource::Card)
    );
    assert!(!form.values.contains_key("child_full_name"));

    // "Next" on an incomplete form: it stays and says which fields are wrong.
    k.go(Input::FormNext);
    assert_eq!(k.screen(), Screen::Form);
    let errors = &k.journey.form().unwrap().errors;
    assert_eq!(errors["child_full_name"].key, "field.required");
    assert!(!errors.contains_key("requester_full_name"));

    // Typing (Telex) fixes a field, clears its message, and saves the draft of this card.
    let effects = k.typed("child_full_name", "Nguyeenx Minh Khang");
    let form = k.journey.form().unwrap();
    assert_eq!(form.values["child_full_name"], "Nguyễn Minh Khang");
    assert_eq!(
        form.sources.get("child_full_name"),
        Some(&ValueSource::Typed)
    );
    assert!(!form.errors.contains_key("child_full_name"));
    assert!(matches!(
        effects.as_slice(),
        [Effect::SaveDraft { id_number, procedure, values }]
            if id_number == "079303001234"
                && procedure == "birth-registration"
                && values["child_full_name"] == "Nguyễn Minh Khang"
    ));
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    assert_eq!(k.screen(), Screen::Papers);
    let papers: Vec<&str> = k
        .journey
        .papers()
        .iter()
        .map(|s| s.paper.as_str())
        .collect();
    assert_eq!(papers, ["birth_certificate", "marriage_certificate"]);

    // Papers: the birth certificate is required (min 1, max 2).
    k.go(Input::PapersNext);
    assert_eq!(k.screen(), Screen::Papers);
    assert!(k.journey.papers()[0].missing);
    assert!(!k.journey.papers()[1].missing, "optional");
    k.go(add_page("birth_certificate", 1));
    assert!(!k.journey.papers()[0].missing);
    k.go(add_page("birth_certificate", 2));
    k.go(Input::PapersNext);
    assert_eq!(k.screen(), Screen::Review);

    // Submit without consent: nothing to store, and the screen says why.
    assert_eq!(k.go(Input::Submit), []);
    assert!(k.journey.consent_missing());
    assert_eq!(k.screen(), Screen::Review);
    k.go(Input::SetConsent(true));
    assert!(!k.journey.consent_missing());
    let effects = k.go(Input::Submit);
    let [Effect::StoreDossier(sub)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(sub.procedure, "birth-registration");
    assert_eq!(
        sub.values["child_date_of_birth"], "2026-11-20",
        "dates in ISO"
    );
    assert_eq!(sub.values["child_full_name"], "Nguyễn Minh Khang");
    assert!(sub.from_card.contains("requester_full_name"));
    assert!(!sub.from_card.contains("child_full_name"));
    assert!(sub.card_verified);
    assert!(sub.consent);
    assert_eq!(sub.requester_id_number.as_deref(), Some("079303001234"));
    assert_eq!(sub.papers[0].images.len(), 2);
    // The receipt waits for the store.
    assert_eq!(k.screen(), Screen::Review);

    // Stored: the receipt, and the card's draft is forgotten.
    let receipt = Receipt {
        tracking_code: "79001-261123-00003-01".into(),
        procedure: "birth-registration".into(),
        expected_date: k.today,
        submitted_at: "2026-11-23T02:30:00Z".parse().unwrap(),
    };
    let effects = k.go(Input::Stored(receipt.clone()));
    assert_eq!(k.screen(), Screen::Receipt);
    assert_eq!(k.journey.receipt(), Some(&receipt));
    assert_eq!(
        effects,
        [Effect::DeleteDraft {
            id_number: "079303001234".into()
        }]
    );
    assert_eq!(
        k.journey.next_step().map(|p| p.code.as_str()),
        Some("permanent-residence-registration")
    );

    // Rating: a level is needed, the reason is optional.
    k.go(Input::Open(Screen::Rating));
    assert_eq!(k.go(Input::SendRating), []);
    assert!(k.journey.rating_missing());
    assert_eq!(k.screen(), Screen::Rating);
    k.go(Input::ChooseRating(Satisfaction::VerySatisfied));
    for ch in "nhanh".chars() {
        k.go(Input::Key(ch));
    }
    let effects = k.go(Input::SendRating);
    assert_eq!(
        effects,
        [Effect::StoreRating(RatingRecord {
            tracking_code: receipt.tracking_code.clone(),
            procedure: "birth-registration".into(),
            level: Satisfaction::VerySatisfied,
            reason: "nhanh".into(),
        })]
    );
    assert_eq!(k.screen(), Screen::Thanks);

    // The life event goes on with what was entered.
    k.go(Input::ContinueLifeEvent);
    assert_eq!(k.screen(), Screen::Form);
    let form = k.journey.form().unwrap();
    assert_eq!(form.procedure, "permanent-residence-registration");
    assert_eq!(form.values["requester_full_name"], "Nguyễn Minh Khang");
    assert_eq!(
        form.sources.get("requester_full_name"),
        Some(&ValueSource::Earlier)
    );

    // Home ends the session.
    assert_eq!(k.go(Input::GoHome), [Effect::Wiped]);
    assert_eq!(k.screen(), Screen::Home);
    assert!(k.journey.card().is_none());
    assert!(k.journey.form().is_none());
    assert!(k.journey.receipt().is_none());
}

#[test]
fn the_submission_maps_one_to_one_into_services() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    k.go(add_page("birth_certificate", 7));
    k.go(Input::PapersNext);
    k.go(Input::SetConsent(true));
    let effects = k.go(Input::Submit);
    let [Effect::StoreDossier(sub)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let s = sub.to_services();
    assert_eq!(s.procedure.as_str(), sub.procedure);
    assert_eq!(s.values, sub.values);
    assert_eq!(s.from_card, sub.from_card);
    assert_eq!(s.card_verified, sub.card_verified);
    assert_eq!(s.requester_id_number, sub.requester_id_number);
    assert_eq!(s.consent, sub.consent);
    assert_eq!(s.channel, xaso_services::Channel::Kiosk);
    assert_eq!(s.attachments.len(), 1);
    assert_eq!(s.attachments[0].paper, "birth_certificate");
    assert_eq!(s.attachments[0].sha256, "07".repeat(32));
    assert_eq!(s.attachments[0].bytes, 3);
    // and services makes the dossier of it
    let d = s
        .into_dossier(
            k.journey.catalog(),
            "d-1".into(),
            &xaso_services::Actor {
                role: xaso_services::Role::Resident,
                id: "kiosk:79001:3".into(),
                device: None,
            },
            CONSENT_TEXT_VERSION,
            "2026-11-23T02:30:00Z".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(d.applicant.id_number, "079303001234");
    assert_eq!(d.consent.unwrap().text_version, CONSENT_TEXT_VERSION);
}

/// The dossier made of a journey through review, "fetch my earlier results" set to `tick`
/// (left alone when `None`).
fn dossier_with_fetch_choice(tick: Option<bool>) -> xaso_services::Dossier {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    k.go(add_page("birth_certificate", 7));
    k.go(Input::PapersNext);
    assert!(!k.journey.fetch_earlier_results(), "unticked by default");
    if let Some(tick) = tick {
        k.go(Input::SetFetchEarlierResults(tick));
    }
    k.go(Input::SetConsent(true));
    let effects = k.go(Input::Submit);
    let [Effect::StoreDossier(sub)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    sub.to_services()
        .into_dossier(
            k.journey.catalog(),
            "d-1".into(),
            &xaso_services::Actor {
                role: xaso_services::Role::Resident,
                id: "kiosk:79001:3".into(),
                device: None,
            },
            CONSENT_TEXT_VERSION,
            "2026-11-23T02:30:00Z".parse().unwrap(),
        )
        .unwrap()
}

#[test]
fn fetching_earlier_results_is_consented_only_when_ticked() {
    let fetch = |tick| {
        dossier_with_fetch_choice(tick)
            .consent
            .unwrap()
            .fetch_earlier_results
    };
    assert!(fetch(Some(true)), "ticked");
    assert!(!fetch(None), "left alone");
    assert!(!fetch(Some(false)), "ticked, then unticked");
    // Only on the consent step.
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    let before = k.state();
    k.refused(Input::SetFetchEarlierResults(true));
    assert_eq!(k.state(), before);
}

#[test]
fn papers_keep_to_the_catalogs_minimum_and_maximum() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    k.go(add_page("birth_certificate", 1));
    k.go(add_page("birth_certificate", 2));
    // Max 2: a third page is refused and nothing changes.
    let before = k.state();
    assert_eq!(
        k.refused(add_page("birth_certificate", 3)),
        Refusal::PaperFull {
            paper: "birth_certificate".into(),
            max: 2
        }
    );
    assert_eq!(k.state(), before);
    // Only the papers of this procedure and this submitter.
    assert_eq!(
        k.refused(add_page("authorisation", 4)),
        Refusal::UnknownPaper("authorisation".into())
    );
    // Reorder, retake, remove.
    k.go(Input::MovePaperImageUp {
        paper: "birth_certificate".into(),
        index: 1,
    });
    let hashes = |k: &Kiosk| -> Vec<String> {
        k.journey.papers()[0]
            .images
            .iter()
            .map(|i| i.sha256.clone())
            .collect()
    };
    assert_eq!(hashes(&k), ["02".repeat(32), "01".repeat(32)]);
    k.go(Input::ReplacePaperImage {
        paper: "birth_certificate".into(),
        index: 0,
        image: page(9),
    });
    assert_eq!(hashes(&k), ["09".repeat(32), "01".repeat(32)]);
    assert_eq!(
        k.refused(Input::MovePaperImageUp {
            paper: "birth_certificate".into(),
            index: 0,
        }),
        Refusal::NoSuchImage {
            paper: "birth_certificate".into(),
            index: 0
        }
    );
    k.go(Input::RemovePaperImage {
        paper: "birth_certificate".into(),
        index: 0,
    });
    k.go(Input::RemovePaperImage {
        paper: "birth_certificate".into(),
        index: 0,
    });
    assert!(hashes(&k).is_empty());
    // Min 1: "next" marks it missing and stays.
    k.go(Input::PapersNext);
    assert_eq!(k.screen(), Screen::Papers);
    assert!(k.journey.papers()[0].missing);
}

#[test]
fn the_papers_follow_who_submits() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    k.go(add_page("birth_certificate", 1));
    // Back to the form: a relative submits instead; the papers are worked out again and the
    // page already taken is kept.
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Form);
    k.go(Input::ChooseValue {
        field: "requester_relationship".into(),
        value: "other_relative".into(),
    });
    k.go(Input::FormNext);
    let papers: Vec<(&str, usize)> = k
        .journey
        .papers()
        .iter()
        .map(|s| (s.paper.as_str(), s.images.len()))
        .collect();
    assert_eq!(
        papers,
        [("birth_certificate", 1), ("marriage_certificate", 0)]
    );
}

#[test]
fn the_idle_warning_counts_down_then_the_session_is_wiped() {
    let mut k = Kiosk::with_idle(IdlePolicy {
        timeout: Duration::from_secs(90),
        warning: Duration::from_secs(20),
    });
    // Nobody at home: no countdown, ever.
    k.wait(Duration::from_secs(600));
    assert_eq!(k.go(Input::Tick), []);
    assert_eq!(k.journey.idle_countdown(k.at().now), None);

    at_the_birth_form(&mut k);
    k.typed("child_full_name", "Khang");
    k.wait(Duration::from_secs(60));
    assert_eq!(k.journey.idle_countdown(k.at().now), None);
    k.wait(Duration::from_secs(15));
    assert_eq!(k.journey.idle_countdown(k.at().now), Some(15));
    // A tick is not a touch: the countdown goes on.
    k.go(Input::Tick);
    assert_eq!(k.journey.idle_countdown(k.at().now), Some(14));
    k.go(Input::StillHere);
    assert_eq!(k.journey.idle_countdown(k.at().now), None);
    assert_eq!(k.screen(), Screen::Form);

    k.wait(Duration::from_secs(89));
    assert_eq!(k.go(Input::Tick), [Effect::Wiped]);
    assert_eq!(k.screen(), Screen::Home);
    assert!(k.journey.card().is_none());
    assert!(k.journey.form().is_none());
    assert_eq!(k.journey.idle_countdown(k.at().now), None);
}

#[test]
fn taking_the_card_away_wipes_the_session() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    k.go(Input::SetLang(Lang::En));
    k.typed("child_full_name", "Khang");
    assert_eq!(k.go(Input::Card(CardEvent::Removed)), [Effect::Wiped]);
    assert_eq!(k.screen(), Screen::Home);
    assert!(k.journey.card().is_none());
    assert!(k.journey.form().is_none());
    assert_eq!(
        k.journey.lang(),
        Lang::Vi,
        "the next resident starts in Vietnamese"
    );

    // Lifted while reading (no card read yet): the identify screen says so, nothing wiped.
    k.go(Input::Open(Screen::Identify));
    k.go(Input::Card(CardEvent::Present));
    assert_eq!(k.go(Input::Card(CardEvent::Removed)), []);
    assert_eq!(
        k.journey.card_state(),
        CardState::Failed(CardProblem::RemovedTooEarly)
    );
    assert_eq!(k.screen(), Screen::Identify);
}

#[test]
fn a_different_card_wipes_the_session_before_it_is_shown() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    k.typed("child_full_name", "Khang");
    let effects = k.go(read(hung(), true));
    assert_eq!(effects[0], Effect::Wiped, "{effects:?}");
    assert!(effects.contains(&Effect::LoadDraft {
        id_number: "001090067890".into()
    }));
    assert!(k.journey.form().is_none(), "nothing of Mai Anh's form");
    assert_eq!(
        k.journey.card().and_then(CardIdentity::full_name),
        Some("Trần Văn Hùng")
    );
    assert_eq!(k.screen(), Screen::Identify);
    // The same card again is no new session.
    assert!(!k.go(read(hung(), true)).contains(&Effect::Wiped));
}

#[test]
fn a_draft_is_offered_only_for_a_verified_card() {
    let mut k = Kiosk::new();
    k.go(Input::Open(Screen::Identify));
    // Not verified: no draft is looked up, nothing is pre-filled.
    let effects = k.go(read(mai_anh(), false));
    assert_eq!(effects, []);
    assert_eq!(k.journey.card_state(), CardState::NotVerified);
    k.go(Input::ContinueAfterIdentify);
    k.go(Input::ChooseProcedure("birth-registration".into()));
    assert!(
        !k.journey
            .form()
            .unwrap()
            .values
            .contains_key("requester_full_name")
    );
    // … and typing saves no draft for an unverified card.
    assert_eq!(k.typed("child_full_name", "Khang"), []);

    // Verified: the draft is looked up, offered and resumed.
    let mut k = Kiosk::new();
    k.go(Input::Open(Screen::Identify));
    assert_eq!(
        k.go(read(mai_anh(), true)),
        [Effect::LoadDraft {
            id_number: "079303001234".into()
        }]
    );
    assert_eq!(k.refused(Input::ResumeDraft), Refusal::NoDraft);
    k.go(Input::DraftFound {
        procedure: "birth-registration".into(),
        values: BTreeMap::from([("child_full_name".into(), "Nguyễn Minh Khang".into())]),
    });
    assert!(k.journey.has_draft_offer());
    k.go(Input::ResumeDraft);
    assert_eq!(k.screen(), Screen::Form);
    let form = k.journey.form().unwrap();
    assert_eq!(form.values["child_full_name"], "Nguyễn Minh Khang");
    assert_eq!(
        form.sources.get("requester_full_name"),
        Some(&ValueSource::Card)
    );
    // A draft of a procedure no longer in the catalog is not offered.
    let mut k = Kiosk::new();
    k.go(read(mai_anh(), true));
    k.go(Input::DraftFound {
        procedure: "retired-procedure".into(),
        values: BTreeMap::new(),
    });
    assert!(!k.journey.has_draft_offer());
}

#[test]
fn back_goes_one_step_back() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    assert_eq!(k.screen(), Screen::Papers);
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Form);
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::LifeEvent, "chosen through a life event");
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Services);
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Home);
    assert!(k.journey.card().is_some(), "going back is not leaving");

    // Review goes back to papers.
    k.go(Input::ChooseProcedure("birth-registration".into()));
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    k.go(add_page("birth_certificate", 1));
    k.go(Input::PapersNext);
    assert_eq!(k.screen(), Screen::Review);
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Papers);

    // An error goes back to where "try again" makes sense.
    k.go(Input::Failed(ErrorKind::CameraFailed));
    assert_eq!(k.screen(), Screen::Error);
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Papers);
    k.go(Input::Failed(ErrorKind::Card(CardProblem::Unreadable)));
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Identify);

    // From the receipt, back is home: the session ends.
    k.go(Input::Open(Screen::Services));
    k.go(Input::ChooseProcedure("birth-registration".into()));
    fill_the_birth_form(&mut k);
    k.go(Input::FormNext);
    k.go(add_page("birth_certificate", 1));
    k.go(Input::PapersNext);
    k.go(Input::SetConsent(true));
    k.go(Input::Submit);
    k.go(Input::Stored(Receipt {
        tracking_code: "79001-261123-00003-01".into(),
        procedure: "birth-registration".into(),
        expected_date: k.today,
        submitted_at: "2026-11-23T02:30:00Z".parse().unwrap(),
    }));
    assert_eq!(k.go(Input::Back), [Effect::Wiped]);
    assert_eq!(k.screen(), Screen::Home);
    assert!(k.journey.card().is_none());
}

#[test]
fn a_refused_input_changes_nothing_and_says_why() {
    let mut k = Kiosk::new();
    at_the_birth_form(&mut k);
    k.typed("child_full_name", "Khang");
    let before = k.state();
    let cases = [
        (
            Input::ChooseProcedure("no-such-procedure".into()),
            Refusal::UnknownProcedure("no-such-procedure".into()),
        ),
        (
            Input::ChooseLifeEvent("no-such-event".into()),
            Refusal::UnknownLifeEvent("no-such-event".into()),
        ),
        (
            Input::FocusField("no_such_field".into()),
            Refusal::UnknownField("no_such_field".into()),
        ),
        (
            Input::ChooseValue {
                field: "no_such_field".into(),
                value: "x".into(),
            },
            Refusal::UnknownField("no_such_field".into()),
        ),
        (Input::Key('a'), Refusal::NothingToType),
        (
            Input::Submit,
            Refusal::WrongScreen {
                expected: Screen::Review,
                actual: Screen::Form,
            },
        ),
        (
            Input::SetConsent(true),
            Refusal::WrongScreen {
                expected: Screen::Review,
                actual: Screen::Form,
            },
        ),
        (
            Input::PapersNext,
            Refusal::WrongScreen {
                expected: Screen::Papers,
                actual: Screen::Form,
            },
        ),
        (
            Input::Open(Screen::Receipt),
            Refusal::CannotOpen(Screen::Receipt),
        ),
        (
            Input::Open(Screen::Rating),
            Refusal::CannotOpen(Screen::Rating),
        ),
        (Input::ResumeDraft, Refusal::NoDraft),
        (Input::ContinueLifeEvent, Refusal::NoNextStep),
        (
            Input::SendRating,
            Refusal::WrongScreen {
                expected: Screen::Rating,
                actual: Screen::Form,
            },
        ),
    ];
    for (input, why) in cases {
        assert_eq!(k.refused(input.clone()), why, "{input:?}");
        assert_eq!(k.state(), before, "{input:?} changed something");
    }
    // Not even the idle timer moved: the refused inputs were no touch.
    k.wait(Duration::from_secs(100));
    assert_eq!(k.journey.idle_countdown(k.at().now), Some(7));

    // Status: an empty code is refused.
    let mut k = Kiosk::new();
    k.go(Input::Open(Screen::Status));
    let before = k.state();
    assert_eq!(k.refused(Input::LookupStatus), Refusal::EmptyTrackingCode);
    assert_eq!(k.state(), before);
}

#[test]
fn status_by_code_and_by_card() {
    let mut k = Kiosk::new();
    k.go(Input::Open(Screen::Status));
    for ch in "79001-261123-00003-01".chars() {
        k.go(Input::Key(ch));
    }
    assert_eq!(k.journey.status_code_text(), "79001-261123-00003-01");
    assert_eq!(
        k.go(Input::LookupStatus),
        [Effect::LookupCode("79001-261123-00003-01".into())]
    );
    k.go(Input::StatusFound(None));
    assert_eq!(k.screen(), Screen::Error);
    assert_eq!(k.journey.error(), Some(ErrorKind::UnknownTrackingCode));
    k.go(Input::Back);
    assert_eq!(k.screen(), Screen::Status);

    // A card on the reader while on the status screen looks up its holder's dossiers.
    let effects = k.go(read(mai_anh(), true));
    assert!(effects.contains(&Effect::LookupCard("079303001234".into())));
    let view = StatusView {
        tracking_code: "79001-261123-00003-01".into(),
        procedure: "birth-registration".into(),
        state: xaso_services::DossierState::Submitted,
        history: Vec::new(),
        missing: Vec::new(),
        ready_on: k.today,
        yours: true,
        result: None,
    };
    k.go(Input::StatusFound(Some(view.clone())));
    assert_eq!(k.screen(), Screen::Status);
    assert_eq!(k.journey.status(), Some(&view));
}

#[test]
fn the_card_holder_adds_the_pages_asked_for_from_the_status_screen() {
    let mut k = Kiosk::new();
    k.go(Input::Open(Screen::Status));
    let effects = k.go(read(mai_anh(), true));
    assert!(effects.contains(&Effect::LookupCard("079303001234".into())));
    let waiting = StatusView {
        tracking_code: "79001-261123-00003-01".into(),
        procedure: "birth-registration".into(),
        state: xaso_services::DossierState::SupplementRequested,
        history: Vec::new(),
        missing: vec!["Cần thêm trang 2 của giấy chứng sinh".into()],
        ready_on: k.today,
        yours: true,
        result: None,
    };
    // Someone else's dossier (or one that waits for nothing) cannot be supplemented.
    k.go(Input::StatusFound(Some(StatusView {
        yours: false,
        ..waiting.clone()
    })));
    assert_eq!(
        k.refused(Input::StartSupplement),
        Refusal::NoSupplementAsked
    );
    k.go(Input::StatusFound(Some(waiting.clone())));
    k.go(Input::StartSupplement);
    assert_eq!(k.screen(), Screen::Papers);
    assert_eq!(k.journey.supplementing(), Some("79001-261123-00003-01"));
    // No page yet: nothing is sent, the papers are marked.
    assert!(k.go(Input::PapersNext).is_empty());
    assert!(k.journey.papers().iter().all(|s| s.missing));
    k.go(add_page("birth_certificate", 2));
    let effects = k.go(Input::PapersNext);
    let [
        Effect::StoreSupplement {
            tracking_code,
            id_number,
            papers,
        },
    ] = effects.as_slice()
    else {
        panic!("one supplement to store: {effects:?}");
    };
    assert_eq!(tracking_code, "79001-261123-00003-01");
    assert_eq!(id_number, "079303001234");
    assert_eq!(papers.len(), 1);
    assert_eq!(papers[0].paper, "birth_certificate");
    let done = StatusView {
        state: xaso_services::DossierState::Supplemented,
        missing: Vec::new(),
        ..waiting
    };
    k.go(Input::SupplementStored(done.clone()));
    assert_eq!(k.screen(), Screen::Status);
    assert_eq!(k.journey.status(), Some(&done));
    assert_eq!(k.journey.supplementing(), None);
}

#[test]
fn the_qr_code_on_the_card_gives_the_next_tap_its_key() {
    let mut k = Kiosk::new();
    k.go(Input::Open(Screen::Identify));
    k.go(Input::Card(CardEvent::Failed(CardProblem::NeedsKey)));
    k.go(Input::StartQrScan);
    assert_eq!(k.journey.qr_state(), Some(QrState::Scanning));
    k.go(Input::QrScanned(Err(QrProblem::NotAnIdCard)));
    assert_eq!(
        k.journey.qr_state(),
        Some(QrState::Failed(QrProblem::NotAnIdCard))
    );
    k.go(Input::QrScanned(Ok(())));
    assert_eq!(k.journey.qr_state(), Some(QrState::Ready));
    assert_eq!(
        k.journey.card_state(),
        CardState::Waiting,
        "try the tap again"
    );
    // Cancelling keeps keys already read.
    k.go(Input::CancelQrScan);
    assert_eq!(k.journey.qr_state(), Some(QrState::Ready));
}

#[test]
fn read_aloud_names_what_is_on_screen() {
    let mut k = Kiosk::new();
    assert_eq!(k.go(Input::ReadAloud), [Effect::Speak(Speech::Welcome)]);
    at_the_birth_form(&mut k);
    assert_eq!(
        k.go(Input::ReadAloud),
        [Effect::Speak(Speech::Procedure(
            "birth-registration".into()
        ))]
    );
    k.go(Input::Back);
    assert_eq!(
        k.go(Input::ReadAloud),
        [Effect::Speak(Speech::LifeEvent("birth".into()))]
    );
}
