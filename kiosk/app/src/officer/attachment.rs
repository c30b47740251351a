//! How the desk names and shows a dossier's attachment: a page of a paper of the procedure
//! (by its catalog label, shown as a picture), or a result issued earlier that the commune
//! hub fetched from the public-service portal with the resident's consent (a PDF document:
//! shown by name and size, never as a made-up preview).

use xaso_i18n::Lang;
use xaso_services::AttachmentRef;
use xaso_services::catalog::Procedure;

/// The `paper` of an attachment that is an earlier result fetched from the portal (the
/// hub's `xaso_central::inbound::EARLIER_RESULT_PAPER`; the kiosk does not link that crate).
pub const EARLIER_RESULT_PAPER: &str = "earlier-result";

/// The media type of a PDF document.
pub const PDF: &str = "application/pdf";

/// What an attachment is, for the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentKind {
    /// A page of one of the procedure's papers (`paper` is its id in the catalog).
    Paper,
    /// A result issued earlier, from the portal.
    EarlierResult,
    /// A paper id the catalog does not know.
    Unknown,
}

pub fn kind(procedure: Option<&Procedure>, a: &AttachmentRef) -> AttachmentKind {
    if a.paper == EARLIER_RESULT_PAPER {
        AttachmentKind::EarlierResult
    } else if procedure.and_then(|p| p.paper(&a.paper)).is_some() {
        AttachmentKind::Paper
    } else {
        AttachmentKind::Unknown
    }
}

/// The attachment's name on screen; `t` translates a key.
pub fn label(
    procedure: Option<&Procedure>,
    a: &AttachmentRef,
    lang: Lang,
    t: &dyn Fn(&str) -> String,
) -> String {
    match kind(procedure, a) {
        AttachmentKind::EarlierResult => t("kiosk.officer.dossier.earlier_result"),
        AttachmentKind::Paper => procedure
            .and_then(|p| p.paper(&a.paper))
            .map_or_else(|| a.paper.clone(), |p| p.label.get(lang).to_owned()),
        AttachmentKind::Unknown => a.paper.clone(),
    }
}

/// Whether it is a document (a PDF) rather than a picture.
pub fn is_document(a: &AttachmentRef) -> bool {
    a.media_type == PDF
}

/// A size in bytes as people read it (`48 kB`, `1.2 MB`).
pub fn size_text(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / f64::from(1 << 20))
    } else {
        format!("{} kB", n.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(paper: &str, media_type: &str) -> AttachmentRef {
        AttachmentRef {
            paper: paper.into(),
            sha256: "00".repeat(32),
            media_type: media_type.into(),
            bytes: 48_000,
        }
    }

    #[test]
    fn an_earlier_result_is_named_as_such_and_is_a_document() {
        let a = attachment(EARLIER_RESULT_PAPER, PDF);
        let t = |k: &str| format!("<{k}>");
        assert_eq!(kind(None, &a), AttachmentKind::EarlierResult);
        assert_eq!(
            label(None, &a, Lang::Vi, &t),
            "<kiosk.officer.dossier.earlier_result>"
        );
        assert!(is_document(&a));
        assert_eq!(size_text(a.bytes), "47 kB");
        let page = attachment("birth_certificate", "image/png");
        assert!(!is_document(&page));
        assert_eq!(kind(None, &page), AttachmentKind::Unknown);
        assert_eq!(label(None, &page, Lang::Vi, &t), "birth_certificate");
    }
}
