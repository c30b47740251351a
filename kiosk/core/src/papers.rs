//! Photographed or imported pages of the papers a procedure needs.
//!
//! The pixels arrive already normalised by the app (orientation, size, JPEG, a preview);
//! the journey only keeps them per paper, within the catalog's minimum and maximum.

use std::sync::Arc;

use xaso_services::AttachmentRef;

/// One page of a paper, as stored in the dossier, with a small preview for the screen.
/// Cloning is cheap: the bytes are shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperImage {
    /// JPEG bytes as stored in the dossier.
    pub jpeg: Arc<[u8]>,
    /// SHA-256 of `jpeg`, lowercase hex: the page's address in the store (computed where
    /// the page was made).
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// Small RGBA preview for the screen.
    pub preview_rgba: Arc<[u8]>,
    pub preview_width: u32,
    pub preview_height: u32,
}

impl PaperImage {
    /// The page as the dossier refers to it.
    pub fn reference(&self, paper: &str) -> AttachmentRef {
        AttachmentRef {
            paper: paper.to_owned(),
            sha256: self.sha256.clone(),
            media_type: "image/jpeg".into(),
            bytes: self.jpeg.len() as u64,
        }
    }
}

/// The pages of one paper.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaperSlot {
    /// The paper's id in the procedure (`PaperDef::id`).
    pub paper: String,
    pub images: Vec<PaperImage>,
    /// Set when "next" found fewer pages than the procedure needs.
    pub missing: bool,
}

impl PaperSlot {
    pub fn new(paper: &str) -> PaperSlot {
        PaperSlot {
            paper: paper.to_owned(),
            images: Vec::new(),
            missing: false,
        }
    }
}
