//! The open-data export: no direct identifier leaves, small counts are suppressed and
//! cannot be recovered by subtraction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use xaso_i18n::{Lang, Translations};
use xaso_reports::Period;
use xaso_reports::open_data::open_data;
use xaso_services::catalog::Catalog;
use xaso_services::dossier::{Action, Channel, Dossier};

/// Seven cells with known counts (see `suppression_is_primary_and_secondary`).
fn open_fixture() -> Vec<Dossier> {
    use Action::*;
    use Channel::*;
    let mut n = 0;
    let mut out = Vec::new();
    let mut add = |count: usize, procedure: &str, channel: Channel, steps: &[(Action, &str)]| {
        for _ in 0..count {
            n += 1;
            out.push(dossier(
                n,
                COMMUNE,
                procedure,
                channel,
                "2026-11-03T02:00:00Z",
                steps,
            ));
        }
    };
    let approve = [(Approve, "2026-11-04T02:00:00Z")];
    let reject = [(Reject, "2026-11-04T02:00:00Z")];
    add(12, "birth-registration", Kiosk, &approve);
    add(7, "birth-registration", Online, &approve);
    add(3, "birth-registration", Online, &reject);
    add(6, "permanent-residence-registration", Kiosk, &approve);
    add(2, "permanent-residence-registration", Kiosk, &[]);
    add(8, "marriage-registration", Officer, &approve);
    add(5, "marriage-registration", Online, &approve);
    out
}

fn export(dossiers: &[Dossier]) -> (String, String) {
    let (from, to) = november();
    let o = open_data(
        &commune(),
        Period::new(from, to).unwrap(),
        dossiers,
        &Catalog::bundled().unwrap(),
        &Translations::bundled().unwrap(),
        Lang::Vi,
    )
    .unwrap();
    (o.csv, o.schema_json)
}

#[test]
fn suppression_is_primary_and_secondary() {
    let (csv, _) = export(&open_fixture());
    let lines: Vec<&str> = csv.lines().collect();
    let p = "79001,2026-11-01,2026-11-30";
    assert_eq!(
        lines,
        [
            "commune,period_start,period_end,procedure_code,channel,state_group,count,suppressed",
            // 12 published; 7 suppressed as well, else birth registrations' total minus
            // 12 and 7 would give back the 3 rejected online
            &format!("{p},birth-registration,kiosk,approved,12,false"),
            &format!("{p},birth-registration,online,approved,,true"),
            &format!("{p},birth-registration,online,rejected,,true"),
            &format!("{p},marriage-registration,officer,approved,8,false"),
            &format!("{p},marriage-registration,online,approved,5,false"),
            // 2 in progress: primary; 6 approved: secondary
            &format!("{p},permanent-residence-registration,kiosk,in_progress,,true"),
            &format!("{p},permanent-residence-registration,kiosk,approved,,true"),
        ]
    );
}

#[test]
fn no_suppressed_count_can_be_derived_from_a_group_total() {
    // Every procedure, channel and state group holds zero or at least two suppressed
    // cells, unless it has a single cell.
    let (csv, _) = export(&open_fixture());
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for column in [3, 4, 5] {
        let mut groups = std::collections::BTreeMap::<String, (usize, usize)>::new();
        for r in &rows {
            let g = groups.entry(r[column].to_owned()).or_default();
            g.0 += 1;
            g.1 += usize::from(&r[7] == "true");
        }
        for (name, (cells, suppressed)) in groups {
            assert!(
                cells == 1 || suppressed != 1,
                "{name}: {suppressed} of {cells}"
            );
        }
    }
    // every published count is at least 5; every suppressed cell is empty
    for r in &rows {
        match &r[7] {
            "true" => assert_eq!(&r[6], ""),
            _ => assert!(r[6].parse::<u64>().unwrap() >= 5),
        }
    }
}

#[test]
fn no_direct_identifier_leaves() {
    let mut dossiers = open_fixture();
    dossiers.extend(dossiers_fixture_with_everything());
    let (csv, schema) = export(&dossiers);
    for out in [&csv, &schema] {
        for secret in NAMES
            .iter()
            .chain(ID_NUMBERS.iter())
            .chain(PHONES.iter())
            .chain(ADDRESSES.iter())
        {
            assert!(!out.contains(secret), "{secret} leaked");
        }
        // no token of a name
        let tokens: Vec<&str> = out
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .collect();
        for name in NAMES {
            for part in name.split_whitespace() {
                assert!(
                    !tokens.iter().any(|t| t.eq_ignore_ascii_case(part)),
                    "name token {part} leaked"
                );
            }
        }
        // no run of 9 to 12 digits (ID numbers, phone numbers)
        let mut run = 0;
        for c in out.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_digit() {
                run += 1;
            } else {
                assert!(run < 9, "a run of {run} digits");
                run = 0;
            }
        }
        // nothing of the addresses or the free-text words
        for word in ["Lạc", "Long", "Quân", "Tây", "Hòa", "CCCD", "phàn", "Ông"] {
            assert!(!tokens.contains(&word), "{word} leaked");
        }
    }
    // The procedure code of a dossier is not free text either: one the catalog does not
    // know is counted as `other`.
    assert!(csv.contains(",other,"));
}

/// Dossiers whose every free field (and even the procedure code) carries personal data.
fn dossiers_fixture_with_everything() -> Vec<Dossier> {
    use Action::*;
    let mut out = dossiers();
    for n in 100..106 {
        out.push(dossier(
            n,
            COMMUNE,
            "Trần Thị Mai 079123456789",
            Channel::Kiosk,
            "2026-11-05T02:00:00Z",
            &[(Reject, "2026-11-05T03:00:00Z")],
        ));
    }
    out
}

#[test]
fn the_schema_is_a_table_schema() {
    let (csv, schema) = export(&open_fixture());
    let v: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let fields = v["fields"].as_array().unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(names, header);
    for f in fields {
        assert!(f["type"].is_string());
        assert!(!f["description"].as_str().unwrap().is_empty());
    }
    assert_eq!(v["missingValues"], serde_json::json!([""]));
    assert_eq!(fields[6]["type"], "integer");
    assert_eq!(fields[7]["type"], "boolean");
    // an empty period still has a header
    let (csv, _) = export(&[]);
    assert_eq!(csv.lines().count(), 1);
}
