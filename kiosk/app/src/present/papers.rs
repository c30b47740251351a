//! The papers screen: one row per paper, its pages as previews. A page's preview becomes a
//! `slint::Image` once (cached by the page's SHA-256), not on every presentation.

use std::collections::HashMap;
use std::rc::Rc;

use slint::{Image, ModelRc, Rgba8Pixel, SharedPixelBuffer, VecModel};
use xaso_kiosk_core::PaperImage;

use super::View;
use super::rows::{SpecRows, sync_rows};
use crate::ui::{AppWindow, PaperRow};

/// Everything a paper row shows, as plain data to compare (pages by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PaperSpec {
    id: String,
    label: String,
    help: String,
    min: u32,
    max: u32,
    missing: bool,
    pages: Vec<String>,
}

pub struct PapersPresenter {
    papers: Rc<VecModel<PaperRow>>,
    specs: SpecRows<PaperSpec>,
    /// Each row's pages, a model kept with the row.
    pages: Vec<Rc<VecModel<Image>>>,
    /// Previews converted so far, by page hash; pages no longer in the session are dropped.
    previews: HashMap<String, Image>,
}

impl PapersPresenter {
    pub fn new(ui: &AppWindow) -> PapersPresenter {
        let papers = Rc::new(VecModel::default());
        ui.set_papers(ModelRc::from(papers.clone()));
        PapersPresenter {
            papers,
            specs: SpecRows::default(),
            pages: Vec::new(),
            previews: HashMap::new(),
        }
    }

    pub fn present(&mut self, _ui: &AppWindow, v: &View<'_>) {
        let k = v.journey;
        let l = v.l();
        let procedure = k.procedure();
        let slots = if procedure.is_some() { k.papers() } else { &[] };
        // Convert new previews once; forget those of pages gone from the session.
        self.previews.retain(|hash, _| {
            slots
                .iter()
                .any(|s| s.images.iter().any(|i| &i.sha256 == hash))
        });
        for image in slots.iter().flat_map(|s| &s.images) {
            self.previews
                .entry(image.sha256.clone())
                .or_insert_with(|| preview(image));
        }
        let specs = slots
            .iter()
            .map(|slot| {
                let def = procedure.and_then(|p| p.paper(&slot.paper));
                PaperSpec {
                    id: slot.paper.clone(),
                    label: def.map_or("", |d| d.label.get(l)).to_owned(),
                    help: def
                        .and_then(|d| d.help.as_ref())
                        .map_or("", |h| h.get(l))
                        .to_owned(),
                    min: def.map_or(0, |d| d.min),
                    max: def.map_or(0, |d| d.max),
                    missing: slot.missing,
                    pages: slot.images.iter().map(|i| i.sha256.clone()).collect(),
                }
            })
            .collect();
        let (pages, previews) = (&mut self.pages, &self.previews);
        self.specs.sync(&self.papers, specs, |i, s| {
            while pages.len() <= i {
                pages.push(Rc::new(VecModel::default()));
            }
            let model = &pages[i];
            sync_rows(
                model,
                s.pages
                    .iter()
                    .filter_map(|hash| previews.get(hash).cloned())
                    .collect(),
            );
            PaperRow {
                id: s.id.as_str().into(),
                label: s.label.as_str().into(),
                help: s.help.as_str().into(),
                min: i32::try_from(s.min).unwrap_or(0),
                max: i32::try_from(s.max).unwrap_or(0),
                count: i32::try_from(s.pages.len()).unwrap_or(0),
                missing: s.missing,
                images: ModelRc::from(model.clone()),
            }
        });
    }
}

/// A page's preview as an image for the window.
fn preview(image: &PaperImage) -> Image {
    let mut buf = SharedPixelBuffer::<Rgba8Pixel>::new(image.preview_width, image.preview_height);
    let bytes = buf.make_mut_bytes();
    if bytes.len() == image.preview_rgba.len() {
        bytes.copy_from_slice(&image.preview_rgba);
    }
    Image::from_rgba8(buf)
}
