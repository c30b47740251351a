//! Prints the procedure catalog and life events, then walks one sample dossier through its
//! lifecycle. `cargo xtask demo` runs this while the kiosk app is not available.

use std::io::Write;

use jiff::civil::date;
use xaso_i18n::Lang;
use xaso_services::{
    Action, Actor, Applicant, Catalog, Channel, CommuneCode, Consent, Dossier, Fee, Role,
    Submitter, TrackingMinter, validate_form,
};

fn fee(f: &Fee) -> String {
    match f {
        Fee::Free => "miễn phí".into(),
        Fee::Fixed {
            amount_vnd,
            online_amount_vnd,
        } => match online_amount_vnd {
            Some(o) => format!(
                "{} (trực tuyến {})",
                xaso_i18n::format_vnd(*amount_vnd),
                xaso_i18n::format_vnd(*o)
            ),
            None => xaso_i18n::format_vnd(*amount_vnd),
        },
        Fee::PerPage {
            first_two_pages_vnd,
            ..
        } => format!("{}/trang", xaso_i18n::format_vnd(*first_two_pages_vnd)),
        Fee::PerDocument { amount_vnd } => {
            format!("{}/văn bản", xaso_i18n::format_vnd(*amount_vnd))
        }
        Fee::SetByProvince { note } => note.get(Lang::Vi).to_owned(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::bundled()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Thủ tục hành chính cấp xã ({}):",
        catalog.procedures().count()
    )?;
    for p in catalog.procedures() {
        writeln!(
            out,
            "  {:<36} {} — {}, {} ngày làm việc, {} trường, {} loại giấy tờ",
            p.code.as_str(),
            p.name.get(Lang::Vi),
            fee(&p.fee),
            p.processing_days,
            p.fields.len(),
            p.papers.len()
        )?;
    }
    writeln!(out, "\nSự kiện trong đời:")?;
    for e in catalog.life_events() {
        let steps: Vec<&str> = e.steps.iter().map(|s| s.procedure.as_str()).collect();
        writeln!(
            out,
            "  {:<22} {}: {}",
            e.id,
            e.name.get(Lang::Vi),
            steps.join(" → ")
        )?;
    }
    let found = catalog.search("khai sinh");
    writeln!(
        out,
        "\nTìm \"khai sinh\" (không dấu cũng được): {}",
        found
            .iter()
            .map(|p| p.name.get(Lang::Vi))
            .collect::<Vec<_>>()
            .join("; ")
    )?;

    let birth = catalog
        .procedure("birth-registration")
        .ok_or("birth-registration missing")?;
    let now = jiff::Timestamp::now();
    let mut dossier = Dossier::new(
        "demo-1".into(),
        birth.code.clone(),
        Applicant {
            id_number: "001190012345".into(),
            full_name: "Nguyễn Thị Mai".into(),
            submitter: Submitter::Oneself,
            card_verified: false,
        },
        Channel::Kiosk,
        now,
    );
    dossier
        .values
        .insert("child_full_name".into(), "Trần Minh Khôi".into());
    let errors = validate_form(birth, &dossier.values, date(2026, 11, 23));
    let t = xaso_i18n::Translations::bundled()?;
    writeln!(
        out,
        "\nHồ sơ mẫu \"{}\" còn thiếu {} thông tin, ví dụ:",
        birth.name.get(Lang::Vi),
        errors.len()
    )?;
    for e in errors.iter().take(3) {
        let label = birth
            .field(&e.field)
            .map(|f| f.label.get(Lang::Vi))
            .unwrap_or(&e.field);
        writeln!(
            out,
            "  - {label}: {}",
            t.get(xaso_i18n::Lang::Vi, &e.key, &e.args())
        )?;
    }
    let mut minter = TrackingMinter::new(CommuneCode::new("27280")?, 1)?;
    dossier.tracking_code = Some(minter.mint(jiff::ZonedDateTime::now().date())?);
    dossier.consent = Some(Consent {
        given_at: now,
        text_version: "consent.v1".into(),
        reuse_for_later: true,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let resident = Actor {
        role: Role::Resident,
        id: "kiosk-1".into(),
        device: None,
    };
    dossier.apply(Action::Submit, resident, None, now)?;
    if let Some(code) = &dossier.tracking_code {
        writeln!(
            out,
            "\nMã hồ sơ: {code}  — trạng thái: {}",
            t.get(xaso_i18n::Lang::Vi, dossier.state().key(), &[])
        )?;
    }
    Ok(())
}
