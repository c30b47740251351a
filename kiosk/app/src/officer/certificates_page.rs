//! The certificates page, from the shell's last check ([`super::certificates`]): whether the
//! tablet can check at all (its trust list and the list's date), the verdict, its explanation
//! in words a person understands, and what a valid certificate holds (rows updated in place).

use slint::{SharedString, VecModel};
use xaso_i18n::format_date;

use super::certificates::{CertificateCheck, PictureProblem, Refusal, ValidCertificate};
use super::shell::OfficerShell;
use crate::present::rows::sync_rows;
use crate::ui::{CertificateVerdict, FieldLine, OfficerWindow};

/// Translates a key with named arguments in the tablet's language.
type Tr<'a> = dyn Fn(&str, &[(&str, &str)]) -> SharedString + 'a;

/// Pushes the certificates page into the window.
pub fn present(ui: &OfficerWindow, shell: &OfficerShell, t: &Tr<'_>, rows: &VecModel<FieldLine>) {
    let trust = shell.trust_list();
    ui.set_can_check_certificates(trust.is_some());
    ui.set_trust_list_date(
        trust
            .map(|l| format_date(l.issued))
            .unwrap_or_default()
            .into(),
    );
    let (verdict, note, lines) = match shell.certificate() {
        None => (CertificateVerdict::None, SharedString::new(), Vec::new()),
        Some(Err(problem)) => (
            CertificateVerdict::NoCode,
            t(picture_key(*problem), &[]),
            Vec::new(),
        ),
        Some(Ok(CertificateCheck::Refused(refusal))) => {
            (CertificateVerdict::Refused, why(refusal, t), Vec::new())
        }
        Some(Ok(CertificateCheck::Valid(v))) => match v.list_old {
            Some(days) => (
                CertificateVerdict::Warning,
                t(
                    "kiosk.officer.certificates.warning.list_old",
                    &[("days", &days.to_string())],
                ),
                holds(v, shell, t),
            ),
            None => (
                CertificateVerdict::Valid,
                SharedString::new(),
                holds(v, shell, t),
            ),
        },
    };
    ui.set_certificate_verdict(verdict);
    ui.set_certificate_note(note);
    sync_rows(rows, lines);
}

/// Why a certificate is refused, in words.
fn why(refusal: &Refusal, t: &Tr<'_>) -> SharedString {
    match refusal {
        Refusal::NotACertificate => t("kiosk.officer.certificates.refused.not_a_certificate", &[]),
        Refusal::Damaged => t("kiosk.officer.certificates.refused.damaged", &[]),
        Refusal::Changed => t("kiosk.officer.certificates.refused.changed", &[]),
        Refusal::UnknownKey {
            kid,
            list_old: Some(days),
        } => t(
            "kiosk.officer.certificates.refused.unknown_key_list_old",
            &[("kid", kid), ("days", &days.to_string())],
        ),
        Refusal::UnknownKey {
            kid,
            list_old: None,
        } => t(
            "kiosk.officer.certificates.refused.unknown_key",
            &[("kid", kid)],
        ),
        Refusal::KeyNotAllowed { kid, date } => t(
            "kiosk.officer.certificates.refused.key_not_allowed",
            &[("kid", kid), ("date", &format_date(*date))],
        ),
        Refusal::BrokenTrustList => t("kiosk.officer.certificates.refused.trust_list", &[]),
    }
}

fn picture_key(problem: PictureProblem) -> &'static str {
    match problem {
        PictureProblem::NoPicture => "kiosk.officer.certificates.picture.none",
        PictureProblem::NoCode => "kiosk.officer.certificates.picture.no_code",
        PictureProblem::Unreadable => "kiosk.officer.certificates.picture.unreadable",
    }
}

/// What a valid certificate holds, one labelled line each.
fn holds(v: &ValidCertificate, shell: &OfficerShell, t: &Tr<'_>) -> Vec<FieldLine> {
    let commune = if v.commune == shell.commune() {
        t(
            "kiosk.officer.certificates.commune_here",
            &[("name", shell.commune_name()), ("code", &v.commune)],
        )
    } else {
        t(
            "kiosk.officer.certificates.commune_code",
            &[("code", &v.commune)],
        )
    };
    let line = |key: &str, value: SharedString| FieldLine {
        label: t(key, &[]),
        value,
    };
    vec![
        line("kiosk.officer.certificates.name", v.name.as_str().into()),
        line(
            "kiosk.officer.certificates.track",
            v.track_title.as_str().into(),
        ),
        line(
            "kiosk.officer.certificates.date",
            format_date(v.date).into(),
        ),
        line("kiosk.officer.certificates.commune", commune),
        line("kiosk.officer.certificates.number", v.id.as_str().into()),
        line(
            "kiosk.officer.certificates.key",
            t(
                "kiosk.officer.certificates.key_value",
                &[("kid", &v.kid), ("province", &v.province)],
            ),
        ),
    ]
}
