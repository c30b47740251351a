//! Every message key the domain can produce has Vietnamese and English text.

use xaso_i18n::{Lang, Translations};
use xaso_services::dossier::{Action, DossierState, LifecycleError, Role};
use xaso_services::{IdNumberError, Satisfaction, SubmissionError, TrackingError};

#[test]
fn every_domain_key_is_translated() {
    let t = Translations::bundled().unwrap();
    let mut keys: Vec<&str> = vec![
        "field.required",
        "field.unknown",
        "field.text.control",
        "field.text.too_short",
        "field.text.too_long",
        "field.address.too_short",
        "field.phone.invalid",
        "field.email.invalid",
        "field.number.invalid",
        "field.number.too_small",
        "field.number.too_large",
        "field.choice.invalid",
        "field.date.invalid",
        "field.date.future",
        "field.date.past",
        "field.date.min_age",
        "field.date.max_age",
        "paper.unknown",
        "paper.too_few",
        "paper.too_many",
    ];
    let id_errors = [
        IdNumberError::Empty,
        IdNumberError::NotDigits,
        IdNumberError::OldNineDigit,
        IdNumberError::WrongLength(3),
        IdNumberError::UnknownProvince("003".into()),
        IdNumberError::CenturyMismatch,
        IdNumberError::SexMismatch,
        IdNumberError::BirthYearMismatch,
    ];
    keys.extend(id_errors.iter().map(|e| e.key()));
    let tracking = [
        TrackingError::Length(1),
        TrackingError::Character {
            position: 1,
            found: 'x',
        },
        TrackingError::Date,
        TrackingError::Check,
        TrackingError::Commune,
        TrackingError::Device,
        TrackingError::Exhausted,
    ];
    keys.extend(tracking.iter().map(|e| e.key()));
    let lifecycle = [
        LifecycleError::NotAllowedInState {
            action: Action::Submit,
            state: DossierState::Draft,
        },
        LifecycleError::RoleNotAllowed {
            action: Action::Submit,
            role: Role::System,
        },
        LifecycleError::ReasonRequired(Action::Reject),
        LifecycleError::ConsentMissing,
        LifecycleError::TrackingCodeMissing,
    ];
    keys.extend(lifecycle.iter().map(|e| e.key()));
    let submission = [
        SubmissionError::UnknownProcedure("x".into()),
        SubmissionError::ConsentMissing,
        SubmissionError::ConsentVersionMissing,
        SubmissionError::UnknownPaper {
            procedure: "x".into(),
            paper: "y".into(),
        },
    ];
    keys.extend(submission.iter().map(|e| e.key()));
    keys.extend(DossierState::ALL.iter().map(|s| s.key()));
    keys.extend(Satisfaction::ALL.iter().map(|s| s.key()));
    for key in keys {
        for lang in Lang::ALL {
            assert!(t.has(lang, key), "`{key}` has no {lang:?} text");
        }
    }
}
