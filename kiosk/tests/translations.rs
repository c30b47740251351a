//! Both languages are complete: every `@tr("…")` string of the `.slint` screens (Vietnamese
//! source) has an English translation in `lang/en/LC_MESSAGES/xaso-kiosk.po`.

use std::collections::BTreeSet;

fn tr_strings(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("@tr(\"") {
        rest = &rest[i + 5..];
        let mut s = String::new();
        let mut chars = rest.char_indices();
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        s.push('\\');
                        s.push(n);
                    }
                }
                '"' => {
                    rest = &rest[j + 1..];
                    break;
                }
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

fn translated(po: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut msgid: Option<String> = None;
    for line in po.lines() {
        if let Some(v) = line.strip_prefix("msgid \"") {
            msgid = Some(v.trim_end_matches('"').to_owned());
        } else if let Some(v) = line.strip_prefix("msgstr \"")
            && let Some(id) = msgid.take()
            && !id.is_empty()
            && !v.trim_end_matches('"').is_empty()
        {
            out.insert(id);
        }
    }
    out
}

#[test]
fn every_ui_string_has_an_english_translation() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let po = std::fs::read_to_string(format!("{dir}/lang/en/LC_MESSAGES/xaso-kiosk.po")).unwrap();
    let have = translated(&po);
    let mut all = Vec::new();
    for file in ["ui/app.slint", "ui/widgets.slint"] {
        let src = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        all.extend(tr_strings(&src));
    }
    assert!(all.len() > 100, "found {} strings", all.len());
    let missing: Vec<&String> = all.iter().filter(|s| !have.contains(*s)).collect();
    assert!(missing.is_empty(), "untranslated: {missing:#?}");
}
