//! Checks of the bundled procedure catalog and life events, and of the loader's rejection of
//! bad catalog data.

// Tests may unwrap and panic (house rules); the workspace lints deny it elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::str::FromStr;

use xaso_i18n::{Domain, Lang, Translations};
use xaso_services::{
    CardField, Catalog, CatalogError, Fee, FieldKind, Localized, Procedure, ResultKind, Submitter,
    catalog::card_field_fits,
};

fn bundled() -> Catalog {
    Catalog::bundled().unwrap()
}

fn assert_text(what: &str, text: &Localized) {
    assert!(text.has(Lang::Vi), "{what}: empty Vietnamese text");
    assert!(text.has(Lang::En), "{what}: empty English text");
}

const REQUIRED_PROCEDURES: [&str; 12] = [
    "birth-registration",
    "death-registration",
    "marriage-registration",
    "marital-status-certificate",
    "permanent-residence-registration",
    "temporary-residence-registration",
    "certified-copy-from-original",
    "signature-certification",
    "birth-residence-health-insurance",
    "social-allowance",
    "poor-household-confirmation",
    "household-business-registration",
];

const REQUIRED_LIFE_EVENTS: [&str; 6] = [
    "birth",
    "marriage",
    "death",
    "moving-house",
    "ageing-or-disability",
    "household-business",
];

#[test]
fn bundled_catalog_loads_with_all_required_procedures() {
    let catalog = bundled();
    assert!(catalog.procedures().count() >= 12);
    for code in REQUIRED_PROCEDURES {
        let p = catalog
            .procedure(code)
            .unwrap_or_else(|| panic!("missing procedure {code}"));
        assert_eq!(p.code.as_str(), code);
    }
}

#[test]
fn every_procedure_has_both_languages_everywhere() {
    let catalog = bundled();
    for p in catalog.procedures() {
        let code = p.code.as_str();
        assert_text(&format!("{code} name"), &p.name);
        assert_text(&format!("{code} description"), &p.description);
        assert!(!p.legal_basis.is_empty(), "{code}: no legal basis");
        for basis in &p.legal_basis {
            assert!(!basis.trim().is_empty(), "{code}: empty legal basis entry");
        }
        assert!(!p.fields.is_empty(), "{code}: no fields");
        for f in &p.fields {
            assert_text(&format!("{code}.{} label", f.id), &f.label);
            if let Some(help) = &f.help {
                assert_text(&format!("{code}.{} help", f.id), help);
            }
            for c in &f.choices {
                assert_text(&format!("{code}.{} choice {}", f.id, c.value), &c.label);
            }
        }
        for paper in &p.papers {
            assert_text(&format!("{code} paper {} label", paper.id), &paper.label);
            if let Some(help) = &paper.help {
                assert_text(&format!("{code} paper {} help", paper.id), help);
            }
        }
        if let Fee::SetByProvince { note } = &p.fee {
            assert_text(&format!("{code} fee note"), note);
        }
    }
    for e in catalog.life_events() {
        assert_text(&format!("life event {} name", e.id), &e.name);
        assert_text(&format!("life event {} description", e.id), &e.description);
        for s in &e.steps {
            if let Some(note) = &s.note {
                assert_text(&format!("life event {} step note", e.id), note);
            }
        }
    }
}

#[test]
fn every_prefill_names_a_real_card_field_and_a_fitting_form_field() {
    let catalog = bundled();
    let mut total = 0;
    for p in catalog.procedures() {
        assert!(
            !p.prefill.is_empty(),
            "{}: nothing is pre-filled from the card",
            p.code
        );
        for m in &p.prefill {
            total += 1;
            let card = CardField::from_str(m.card.as_str()).unwrap();
            assert_eq!(card, m.card);
            let field = p
                .field(&m.field)
                .unwrap_or_else(|| panic!("{}: prefill names unknown field {}", p.code, m.field));
            assert!(
                card_field_fits(card, field.kind),
                "{}: card {} cannot fill {:?} field {}",
                p.code,
                card.as_str(),
                field.kind,
                field.id
            );
        }
    }
    assert!(total >= 40, "only {total} pre-fill mappings");
}

#[test]
fn shared_facts_use_the_same_field_ids_and_kinds() {
    let catalog = bundled();
    let expected = [
        ("requester_full_name", FieldKind::Text),
        ("requester_id_number", FieldKind::IdNumber),
        ("requester_date_of_birth", FieldKind::Date),
        ("requester_sex", FieldKind::Sex),
        ("requester_address", FieldKind::Address),
        ("phone", FieldKind::Phone),
        ("email", FieldKind::Email),
        ("new_address", FieldKind::Address),
        ("previous_address", FieldKind::Address),
    ];
    for p in catalog.procedures() {
        assert!(p.field("requester_full_name").is_some(), "{}", p.code);
        assert!(p.field("requester_id_number").is_some(), "{}", p.code);
        assert!(p.field("phone").is_some(), "{}", p.code);
        for (id, kind) in expected {
            if let Some(f) = p.field(id) {
                assert_eq!(f.kind, kind, "{}.{id}", p.code);
            }
        }
        // The card's full name and ID number always land in the same fields.
        for m in &p.prefill {
            match m.card {
                CardField::FullName => assert_eq!(m.field, "requester_full_name", "{}", p.code),
                CardField::IdNumber => assert_eq!(m.field, "requester_id_number", "{}", p.code),
                _ => {}
            }
        }
    }
}

#[test]
fn authorisation_papers_are_only_for_authorised_submitters() {
    let catalog = bundled();
    for p in catalog.procedures() {
        let accepts_authorised = p.submitters.contains(&Submitter::Authorised);
        assert_eq!(
            p.paper("authorisation").is_some(),
            accepts_authorised,
            "{}: authorisation paper and `authorised` submitter must go together",
            p.code
        );
        if let Some(paper) = p.paper("authorisation") {
            assert_eq!(paper.only_for, vec![Submitter::Authorised], "{}", p.code);
            assert!(paper.min >= 1, "{}", p.code);
            assert!(
                p.papers_for(Submitter::Authorised)
                    .any(|x| x.id == paper.id)
            );
            assert!(!p.papers_for(Submitter::Oneself).any(|x| x.id == paper.id));
        }
    }
}

#[test]
fn fees_and_processing_times_match_the_legal_texts() {
    let catalog = bundled();
    let fee = |code: &str| catalog.procedure(code).unwrap().fee.clone();
    let days = |code: &str| catalog.procedure(code).unwrap().processing_days;

    assert_eq!(fee("birth-registration"), Fee::Free);
    assert_eq!(fee("death-registration"), Fee::Free);
    assert_eq!(fee("marriage-registration"), Fee::Free);
    assert_eq!(fee("birth-residence-health-insurance"), Fee::Free);
    assert_eq!(fee("social-allowance"), Fee::Free);
    assert_eq!(
        fee("permanent-residence-registration"),
        Fee::Fixed {
            amount_vnd: 20_000,
            online_amount_vnd: Some(10_000)
        }
    );
    assert_eq!(
        fee("temporary-residence-registration"),
        Fee::Fixed {
            amount_vnd: 15_000,
            online_amount_vnd: Some(7_000)
        }
    );
    assert_eq!(
        fee("certified-copy-from-original"),
        Fee::PerPage {
            first_two_pages_vnd: 2_000,
            next_page_vnd: 1_000,
            max_vnd: 200_000
        }
    );
    assert_eq!(
        fee("signature-certification"),
        Fee::PerDocument { amount_vnd: 10_000 }
    );
    assert!(matches!(
        fee("household-business-registration"),
        Fee::SetByProvince { .. }
    ));

    assert_eq!(days("birth-registration"), 0);
    assert_eq!(days("marriage-registration"), 0);
    assert_eq!(days("certified-copy-from-original"), 0);
    assert_eq!(days("signature-certification"), 0);
    assert_eq!(days("marital-status-certificate"), 3);
    assert_eq!(days("temporary-residence-registration"), 3);
    assert_eq!(days("permanent-residence-registration"), 7);
    assert_eq!(days("household-business-registration"), 3);
}

#[test]
fn validation_rules_express_the_legal_conditions() {
    let catalog = bundled();
    let marriage = catalog.procedure("marriage-registration").unwrap();
    for id in ["requester_date_of_birth", "partner_date_of_birth"] {
        let f = marriage.field(id).unwrap();
        assert_eq!(f.kind, FieldKind::Date);
        assert!(f.required && f.not_future);
        // Women may marry from 18; the 20-year rule for men is explained in the help text
        // because the schema has no rule that depends on another field.
        assert_eq!(f.min_age_years, Some(18));
        let help = f.help.as_ref().unwrap();
        assert!(help.get(Lang::Vi).contains("20") && help.get(Lang::En).contains("20"));
    }
    assert_eq!(marriage.submitters, vec![Submitter::Oneself]);

    let linked = catalog
        .procedure("birth-residence-health-insurance")
        .unwrap();
    let child_dob = linked.field("child_date_of_birth").unwrap();
    assert_eq!(child_dob.max_age_years, Some(5), "children under 6 only");
    assert!(child_dob.not_future);

    let temporary = catalog
        .procedure("temporary-residence-registration")
        .unwrap();
    let months = temporary.field("stay_months").unwrap();
    assert_eq!(
        (months.kind, months.min, months.max),
        (FieldKind::Number, Some(1), Some(24))
    );

    let business = catalog
        .procedure("household-business-registration")
        .unwrap();
    assert_eq!(
        business
            .field("requester_date_of_birth")
            .unwrap()
            .min_age_years,
        Some(18)
    );

    for p in catalog.procedures() {
        for f in &p.fields {
            if f.kind == FieldKind::Date && f.id.ends_with("date_of_birth") {
                assert!(
                    f.not_future,
                    "{}.{} allows a future birth date",
                    p.code, f.id
                );
            }
            if f.kind == FieldKind::Text {
                assert!(f.max_len.is_some(), "{}.{} has no max_len", p.code, f.id);
            }
        }
    }
}

#[test]
fn required_life_events_exist_and_name_existing_procedures_and_fields() {
    let catalog = bundled();
    for id in REQUIRED_LIFE_EVENTS {
        let event = catalog
            .life_event(id)
            .unwrap_or_else(|| panic!("missing life event {id}"));
        assert!(!event.steps.is_empty(), "{id}: no steps");
    }
    for event in catalog.life_events() {
        let positions: Vec<&str> = event.steps.iter().map(|s| s.procedure.as_str()).collect();
        for step in &event.steps {
            let p = catalog
                .procedure(step.procedure.as_str())
                .unwrap_or_else(|| panic!("{}: unknown procedure {}", event.id, step.procedure));
            assert!(p.life_events.contains(&event.id));
            if step.optional {
                assert!(
                    step.note.is_some(),
                    "{}: optional step without a note",
                    event.id
                );
            }
        }
        let mut targets = BTreeSet::new();
        for flow in &event.flows {
            let from = flow.source().unwrap();
            let to = flow.target().unwrap();
            let from_field = catalog
                .procedure(from.procedure)
                .and_then(|p| p.field(from.field))
                .unwrap_or_else(|| panic!("{}: unknown flow source {}", event.id, flow.from));
            let to_field = catalog
                .procedure(to.procedure)
                .and_then(|p| p.field(to.field))
                .unwrap_or_else(|| panic!("{}: unknown flow target {}", event.id, flow.to));
            assert_eq!(
                from_field.kind, to_field.kind,
                "{}: flow {} -> {} joins different kinds",
                event.id, flow.from, flow.to
            );
            let i = positions.iter().position(|c| *c == from.procedure).unwrap();
            let j = positions.iter().position(|c| *c == to.procedure).unwrap();
            assert!(i < j, "{}: flow {} goes backwards", event.id, flow.from);
            assert!(
                targets.insert(flow.to.as_str()),
                "{}: {} filled twice",
                event.id,
                flow.to
            );
        }
    }
    // Every procedure that names a life event is one of its steps (checked by the loader too).
    for p in catalog.procedures() {
        for id in &p.life_events {
            let event = catalog.life_event(id).unwrap();
            assert!(event.steps.iter().any(|s| s.procedure == p.code));
        }
    }
}

#[test]
fn birth_data_flows_into_the_later_steps() {
    let catalog = bundled();
    let birth = catalog.life_event("birth").unwrap();
    let order: Vec<&str> = birth.steps.iter().map(|s| s.procedure.as_str()).collect();
    assert_eq!(
        order,
        [
            "birth-registration",
            "permanent-residence-registration",
            "birth-residence-health-insurance"
        ]
    );
    assert!(birth.steps[2].optional);

    let mut entered = std::collections::BTreeMap::new();
    entered.insert(
        "birth-registration".to_owned(),
        [
            ("child_full_name", "Nguyễn Minh An"),
            ("child_date_of_birth", "2026-11-01"),
            ("child_sex", "female"),
            ("requester_address", "Thôn 3, xã Tân Phú, tỉnh Đồng Nai"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    let carried = birth.carried_values("permanent-residence-registration", &entered);
    assert_eq!(carried["requester_full_name"], "Nguyễn Minh An");
    assert_eq!(carried["requester_date_of_birth"], "2026-11-01");
    assert_eq!(carried["requester_sex"], "female");
    assert_eq!(carried["new_address"], "Thôn 3, xã Tân Phú, tỉnh Đồng Nai");

    let carried = birth.carried_values("birth-residence-health-insurance", &entered);
    assert_eq!(carried["child_full_name"], "Nguyễn Minh An");
    assert_eq!(carried["child_date_of_birth"], "2026-11-01");
    assert_eq!(carried["child_sex"], "female");
}

#[test]
fn search_is_accent_insensitive_and_ranks_names_first() {
    let catalog = bundled();
    let codes = |q: &str| -> Vec<String> {
        catalog
            .search(q)
            .into_iter()
            .map(|p: &Procedure| p.code.0.clone())
            .collect()
    };
    let hits = codes("khai sinh");
    assert_eq!(hits.first().map(String::as_str), Some("birth-registration"));
    assert!(hits.iter().any(|c| c == "birth-residence-health-insurance"));
    assert_eq!(codes("Khai Sinh"), hits);

    let hits = codes("dang ky ket hon");
    assert_eq!(
        hits.first().map(String::as_str),
        Some("marriage-registration")
    );
    assert_eq!(codes("Đăng ký kết hôn").first(), hits.first());

    // A whole-word match beats the start of a word: "tu" is the whole of "tử" in
    // "khai tử" but only the start of "tuổi" in the linked birth procedure's name.
    let hits = codes("khai tu");
    assert_eq!(
        hits.first().map(String::as_str),
        Some("death-registration"),
        "{hits:?}"
    );
    assert_eq!(
        codes("khai tử người chết").first().map(String::as_str),
        Some("death-registration")
    );
    assert_eq!(
        codes("tam tru").first().map(String::as_str),
        Some("temporary-residence-registration")
    );
    assert_eq!(
        codes("ho kinh doanh").first().map(String::as_str),
        Some("household-business-registration")
    );
    assert_eq!(
        codes("chung thuc chu ky").first().map(String::as_str),
        Some("signature-certification")
    );
    assert_eq!(
        codes("household business").first().map(String::as_str),
        Some("household-business-registration")
    );
    assert!(codes("xyzzy khong co").is_empty());
}

// ---- Negative tests: bad data is rejected with the right error. ----

const GOOD_PROCEDURE: &str = r#"
code = "sample"
domain = "certification"
legal_basis = ["Nghị định 23/2015/NĐ-CP"]
fee = { kind = "free" }
processing_days = 0
submitters = ["self"]
life_events = ["sample-event"]
prefill = [{ card = "full_name", field = "requester_full_name" }]

[result]
kind = "confirmation"
lines = [{ field = "requester_full_name" }]

[[fields]]
id = "requester_full_name"
kind = "text"
required = true

[[fields]]
id = "phone"
kind = "phone"
"#;

const OTHER_PROCEDURE: &str = r#"
code = "other"
domain = "certification"
legal_basis = ["Nghị định 23/2015/NĐ-CP"]
fee = { kind = "free" }
processing_days = 1
submitters = ["self"]
life_events = ["sample-event"]

[result]
kind = "certificate"
lines = [{ field = "requester_full_name" }]

[[fields]]
id = "requester_full_name"
kind = "text"
"#;

const GOOD_EVENT: &str = r#"
id = "sample-event"

[[steps]]
procedure = "sample"

[[steps]]
procedure = "other"

[[flows]]
from = "sample.requester_full_name"
to = "other.requester_full_name"
"#;

/// The fixture's texts, as the `catalog` domain of `i18n/po` holds the real ones.
const FIXTURE_VI: &str = r#"
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "catalog.sample.name"
msgstr "Thủ tục mẫu"

msgid "catalog.sample.description"
msgstr "Mô tả"

msgid "catalog.sample.field.requester_full_name"
msgstr "Họ tên"

msgid "catalog.sample.field.phone"
msgstr "Điện thoại"

msgid "catalog.sample.field.phone.help"
msgstr "Số di động của bạn"

msgid "catalog.other.name"
msgstr "Thủ tục khác"

msgid "catalog.other.description"
msgstr "Mô tả"

msgid "catalog.other.field.requester_full_name"
msgstr "Họ tên"

msgid "catalog.event.sample-event.name"
msgstr "Sự kiện mẫu"

msgid "catalog.event.sample-event.description"
msgstr "Mô tả"

msgid "catalog.sample.result.title"
msgstr "GIẤY XÁC NHẬN MẪU"

msgid "catalog.sample.result.line.requester_full_name"
msgstr "Họ và tên:"

msgid "catalog.other.result.title"
msgstr "GIẤY CHỨNG NHẬN KHÁC"

msgid "catalog.other.result.line.requester_full_name"
msgstr "Họ và tên:"
"#;

const FIXTURE_EN: &str = r#"
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "catalog.sample.name"
msgstr "Sample procedure"

msgid "catalog.sample.description"
msgstr "Description"

msgid "catalog.sample.field.requester_full_name"
msgstr "Full name"

msgid "catalog.sample.field.phone"
msgstr "Phone"

msgid "catalog.sample.field.phone.help"
msgstr "Your mobile number"

msgid "catalog.other.name"
msgstr "Other procedure"

msgid "catalog.other.description"
msgstr "Description"

msgid "catalog.other.field.requester_full_name"
msgstr "Full name"

msgid "catalog.event.sample-event.name"
msgstr "Sample event"

msgid "catalog.event.sample-event.description"
msgstr "Description"

msgid "catalog.sample.result.title"
msgstr "SAMPLE CONFIRMATION"

msgid "catalog.sample.result.line.requester_full_name"
msgstr "Full name:"

msgid "catalog.other.result.title"
msgstr "OTHER CERTIFICATE"

msgid "catalog.other.result.line.requester_full_name"
msgstr "Full name:"
"#;

fn texts(vi: &'static str, en: &'static str) -> Translations {
    Translations::from_domains(&[Domain {
        name: "catalog",
        catalogs: [(Lang::Vi, vi), (Lang::En, en)],
    }])
    .unwrap()
}

/// Loads with the fixture's texts.
fn load(procedures: &[(&str, &str)], events: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
    Catalog::from_sources(procedures, events, &texts(FIXTURE_VI, FIXTURE_EN))
}

fn good_procedures() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sample.toml", GOOD_PROCEDURE),
        ("other.toml", OTHER_PROCEDURE),
    ]
}

#[test]
fn the_inline_fixture_itself_loads() {
    let catalog = load(&good_procedures(), &[("sample-event.toml", GOOD_EVENT)]).unwrap();
    assert_eq!(catalog.procedures().count(), 2);
    assert_eq!(catalog.life_event("sample-event").unwrap().flows.len(), 1);
}

#[test]
fn texts_come_from_the_catalog_domain_by_their_place_in_the_catalog() {
    let catalog = load(&good_procedures(), &[("sample-event.toml", GOOD_EVENT)]).unwrap();
    let sample = catalog.procedure("sample").unwrap();
    assert_eq!(sample.name.key(), "catalog.sample.name");
    assert_eq!(sample.name.get(Lang::Vi), "Thủ tục mẫu");
    assert_eq!(sample.name.get(Lang::En), "Sample procedure");
    let phone = sample.field("phone").unwrap();
    assert_eq!(phone.label.get(Lang::En), "Phone");
    assert_eq!(
        phone.help.as_ref().map(|h| h.get(Lang::Vi)),
        Some("Số di động của bạn")
    );
    // No help text in the catalogs: no help.
    assert!(sample.field("requester_full_name").unwrap().help.is_none());
    assert_eq!(
        catalog
            .life_event("sample-event")
            .unwrap()
            .name
            .get(Lang::En),
        "Sample event"
    );
}

#[test]
fn a_missing_or_one_language_text_is_refused() {
    let vi = FIXTURE_VI.replace(
        "msgid \"catalog.other.name\"\nmsgstr \"Thủ tục khác\"\n",
        "",
    );
    assert_ne!(vi, FIXTURE_VI);
    let vi: &'static str = Box::leak(vi.into_boxed_str());
    let err = Catalog::from_sources(
        &good_procedures(),
        &[("sample-event.toml", GOOD_EVENT)],
        &texts(vi, FIXTURE_EN),
    )
    .unwrap_err();
    assert_eq!(
        err,
        CatalogError::MissingText {
            file: "other.toml".into(),
            key: "catalog.other.name".into()
        }
    );
    // Only in Vietnamese: the English side is checked too.
    let en = FIXTURE_EN.replace(
        "msgid \"catalog.other.name\"\nmsgstr \"Other procedure\"\n",
        "",
    );
    let en: &'static str = Box::leak(en.into_boxed_str());
    let err = Catalog::from_sources(
        &good_procedures(),
        &[("sample-event.toml", GOOD_EVENT)],
        &texts(FIXTURE_VI, en),
    )
    .unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { file, message } if file == "other.toml" && message.contains("name")),
        "{err:?}"
    );
}

#[test]
fn a_text_no_procedure_uses_is_refused() {
    // A typo in a key would leave a help text unseen for good.
    let vi =
        format!("{FIXTURE_VI}\nmsgid \"catalog.sample.field.phnoe.help\"\nmsgstr \"Số di động\"\n");
    let en =
        format!("{FIXTURE_EN}\nmsgid \"catalog.sample.field.phnoe.help\"\nmsgstr \"Mobile\"\n");
    let err = Catalog::from_sources(
        &good_procedures(),
        &[("sample-event.toml", GOOD_EVENT)],
        &texts(
            Box::leak(vi.into_boxed_str()),
            Box::leak(en.into_boxed_str()),
        ),
    )
    .unwrap_err();
    assert_eq!(
        err,
        CatalogError::UnusedText {
            key: "catalog.sample.field.phnoe.help".into()
        }
    );
}

#[test]
fn unknown_key_in_a_procedure_is_rejected() {
    let text = GOOD_PROCEDURE.replace(
        "processing_days = 0",
        "processing_days = 0\ncolour = \"red\"",
    );
    let err = load(
        &[("sample.toml", &text), ("other.toml", OTHER_PROCEDURE)],
        &[("sample-event.toml", GOOD_EVENT)],
    )
    .unwrap_err();
    let CatalogError::Parse { file, message } = &err else {
        panic!("expected a parse error, got {err:?}");
    };
    assert_eq!(file, "sample.toml");
    assert!(message.contains("colour"), "{message}");

    // Unknown keys inside a field are rejected too.
    let text = GOOD_PROCEDURE.replace("required = true", "required = true\nmandatory = true");
    let err = load(&[("sample.toml", &text)], &[]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Parse { message, .. } if message.contains("mandatory")),
        "{err:?}"
    );
}

#[test]
fn prefill_from_an_unknown_card_field_is_rejected() {
    let text = GOOD_PROCEDURE.replace(r#"card = "full_name""#, r#"card = "blood_type""#);
    let err = load(&[("sample.toml", &text)], &[]).unwrap_err();
    let CatalogError::Parse { file, message } = &err else {
        panic!("expected a parse error, got {err:?}");
    };
    assert_eq!(file, "sample.toml");
    assert!(message.contains("blood_type"), "{message}");

    // The card-field names themselves are checked by `CardField::from_str`.
    assert_eq!(
        CardField::from_str("blood_type"),
        Err(CatalogError::UnknownCardField("blood_type".into()))
    );
    for f in CardField::ALL {
        assert_eq!(CardField::from_str(f.as_str()), Ok(f));
    }
}

#[test]
fn prefill_into_an_unfitting_or_unknown_field_is_rejected() {
    let text = GOOD_PROCEDURE.replace(
        r#"{ card = "full_name", field = "requester_full_name" }"#,
        r#"{ card = "date_of_birth", field = "requester_full_name" }"#,
    );
    let err = load(&[("sample.toml", &text)], &[]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { file, message } if file == "sample.toml" && message.contains("date_of_birth")),
        "{err:?}"
    );

    let text = GOOD_PROCEDURE.replace(
        r#"field = "requester_full_name" }"#,
        r#"field = "nickname" }"#,
    );
    let err = load(&[("sample.toml", &text)], &[]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { message, .. } if message.contains("nickname")),
        "{err:?}"
    );
}

#[test]
fn life_event_naming_an_unknown_procedure_is_rejected() {
    let event = GOOD_EVENT.replace(r#"procedure = "other""#, r#"procedure = "ghost-procedure""#);
    let err = load(&good_procedures(), &[("sample-event.toml", &event)]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { file, message } if file == "sample-event.toml" && message.contains("ghost-procedure")),
        "{err:?}"
    );
}

#[test]
fn flow_going_backwards_is_rejected() {
    let event = GOOD_EVENT.replace(
        "from = \"sample.requester_full_name\"\nto = \"other.requester_full_name\"",
        "from = \"other.requester_full_name\"\nto = \"sample.requester_full_name\"",
    );
    assert_ne!(event, GOOD_EVENT);
    let err = load(&good_procedures(), &[("sample-event.toml", &event)]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { file, message } if file == "sample-event.toml" && message.contains("earlier step")),
        "{err:?}"
    );
}

#[test]
fn flow_naming_an_unknown_field_is_rejected() {
    let event = GOOD_EVENT.replace(
        "to = \"other.requester_full_name\"",
        "to = \"other.shoe_size\"",
    );
    let err = load(&good_procedures(), &[("sample-event.toml", &event)]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { message, .. } if message.contains("other.shoe_size")),
        "{err:?}"
    );
}

#[test]
fn duplicate_procedure_code_is_rejected() {
    let err = load(
        &[
            ("sample.toml", GOOD_PROCEDURE),
            ("province/sample.toml", GOOD_PROCEDURE),
        ],
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err,
        CatalogError::DuplicateProcedure {
            file: "province/sample.toml".into(),
            code: "sample".into()
        }
    );
}

#[test]
fn file_name_must_match_the_code() {
    let err = load(&[("renamed.toml", GOOD_PROCEDURE)], &[]).unwrap_err();
    assert_eq!(
        err,
        CatalogError::FileNameMismatch {
            file: "renamed.toml".into(),
            code: "sample".into()
        }
    );
}

#[test]
fn life_event_links_must_agree_both_ways() {
    // The procedures name `sample-event`, but no such event is supplied.
    let err = load(&good_procedures(), &[]).unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { message, .. } if message.contains("sample-event")),
        "{err:?}"
    );
    // The event lists `other` as a step, but `other` does not list the event.
    let other = OTHER_PROCEDURE.replace("life_events = [\"sample-event\"]\n", "");
    let err = load(
        &[("sample.toml", GOOD_PROCEDURE), ("other.toml", &other)],
        &[("sample-event.toml", GOOD_EVENT)],
    )
    .unwrap_err();
    assert!(
        matches!(&err, CatalogError::Invalid { file, message } if file == "sample-event.toml" && message.contains("other")),
        "{err:?}"
    );
}

#[test]
fn a_result_line_naming_an_unknown_field_is_refused() {
    let text = GOOD_PROCEDURE.replace(
        "lines = [{ field = \"requester_full_name\" }]",
        "lines = [{ field = \"requester_full_name\" }, { field = \"requester_nmae\" }]",
    );
    assert_ne!(text, GOOD_PROCEDURE);
    let err = load(
        &[("sample.toml", &text), ("other.toml", OTHER_PROCEDURE)],
        &[("sample-event.toml", GOOD_EVENT)],
    )
    .unwrap_err();
    assert_eq!(
        err,
        CatalogError::Invalid {
            file: "sample.toml".into(),
            message: "result line names unknown field `requester_nmae`".into()
        }
    );
}

#[test]
fn a_procedure_without_a_result_section_or_its_title_is_refused() {
    let text = GOOD_PROCEDURE.replace(
        "[result]\nkind = \"confirmation\"\nlines = [{ field = \"requester_full_name\" }]\n",
        "",
    );
    assert_ne!(text, GOOD_PROCEDURE);
    let err = load(
        &[("sample.toml", &text), ("other.toml", OTHER_PROCEDURE)],
        &[("sample-event.toml", GOOD_EVENT)],
    )
    .unwrap_err();
    assert!(
        matches!(&err, CatalogError::Parse { file, message } if file == "sample.toml" && message.contains("result")),
        "{err:?}"
    );
    let vi = FIXTURE_VI.replace(
        "msgid \"catalog.other.result.title\"\nmsgstr \"GIẤY CHỨNG NHẬN KHÁC\"\n",
        "",
    );
    assert_ne!(vi, FIXTURE_VI);
    let err = Catalog::from_sources(
        &good_procedures(),
        &[("sample-event.toml", GOOD_EVENT)],
        &texts(Box::leak(vi.into_boxed_str()), FIXTURE_EN),
    )
    .unwrap_err();
    assert_eq!(
        err,
        CatalogError::MissingText {
            file: "other.toml".into(),
            key: "catalog.other.result.title".into()
        }
    );
}

#[test]
fn every_procedure_has_a_result_document_with_real_vietnamese_titles() {
    let catalog = bundled();
    for p in catalog.procedures() {
        assert!(!p.result.lines.is_empty(), "{}", p.code);
        assert_text(&format!("{} result title", p.code), &p.result.title);
        let title = p.result.title.get(Lang::Vi);
        assert_eq!(
            title,
            title.to_uppercase(),
            "{}: titles are in capitals",
            p.code
        );
        for line in &p.result.lines {
            assert!(p.field(&line.field).is_some(), "{}: {}", p.code, line.field);
            assert_text(&format!("{} result {}", p.code, line.field), &line.label);
        }
    }
    let title = |code: &str| {
        let p = catalog.procedure(code).unwrap();
        (p.result.kind, p.result.title.get(Lang::Vi).to_owned())
    };
    assert_eq!(
        title("birth-registration"),
        (ResultKind::Extract, "TRÍCH LỤC KHAI SINH".into())
    );
    assert_eq!(
        title("death-registration"),
        (ResultKind::Extract, "TRÍCH LỤC KHAI TỬ".into())
    );
    assert_eq!(
        title("marital-status-certificate"),
        (
            ResultKind::Certificate,
            "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN".into()
        )
    );
    assert_eq!(
        title("marriage-registration"),
        (ResultKind::Certificate, "GIẤY CHỨNG NHẬN KẾT HÔN".into())
    );
    assert_eq!(title("social-allowance").0, ResultKind::Decision);
}

#[test]
fn result_lines_show_values_the_way_a_person_reads_them() {
    let catalog = bundled();
    let translations = Translations::bundled().unwrap();
    let p = catalog.procedure("birth-registration").unwrap();
    let values: std::collections::BTreeMap<String, String> = [
        ("child_full_name", "Nguyễn Thị Ánh Dương"),
        ("child_date_of_birth", "2026-01-05"),
        ("child_sex", "female"),
        ("child_ethnicity", "Kinh"),
        ("child_place_of_birth", "Bệnh viện Hùng Vương"),
        ("mother_full_name", "Trần Thị Hoa"),
        ("father_full_name", "  "),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let lines = p.result_lines(&values, Lang::Vi, &translations);
    assert_eq!(
        lines,
        vec![
            ("Họ, chữ đệm, tên:".into(), "Nguyễn Thị Ánh Dương".into()),
            ("Ngày, tháng, năm sinh:".into(), "05/01/2026".into()),
            ("Giới tính:".into(), "Nữ".into()),
            ("Dân tộc:".into(), "Kinh".into()),
            ("Nơi sinh:".into(), "Bệnh viện Hùng Vương".into()),
            ("Họ, chữ đệm, tên người mẹ:".into(), "Trần Thị Hoa".into()),
        ]
    );
    let en = p.result_lines(&values, Lang::En, &translations);
    assert_eq!(en[2], ("Sex:".into(), "Female".into()));
    // A choice by its label.
    let m = catalog.procedure("marital-status-certificate").unwrap();
    let status = m.field("current_status").unwrap();
    let choice = &status.choices[0];
    let values = [("current_status".to_owned(), choice.value.clone())].into();
    assert_eq!(
        m.result_lines(&values, Lang::Vi, &translations),
        vec![(
            "Tình trạng hôn nhân:".into(),
            choice.label.get(Lang::Vi).to_owned()
        )]
    );
}
