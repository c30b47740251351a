//! Laid-out pages to PDF bytes: the one place that drives krilla for the result documents,
//! the indicators report and the training's certificate and class report (A4 portrait or
//! landscape, the bundled Noto Sans embedded and subset, metadata).

use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::text::{Font, TextDirection};
use xaso_i18n::Lang;

use crate::DocumentError;
use crate::render::{FONT_BOLD, FONT_REGULAR, MARGIN, Measure, PAGE_H, PAGE_W};

/// One thing placed on a page (top-left origin, y down; text at its baseline).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Placed {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    /// A filled rectangle (a rule).
    Rule { x: f32, y: f32, w: f32, h: f32 },
    /// A PNG image scaled to `w` × `h`.
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        png: Vec<u8>,
    },
    /// A QR code's dark modules (`modules` per side, row by row) in a square of `side`, with
    /// the four-module quiet zone the standard asks for.
    Qr {
        x: f32,
        y: f32,
        side: f32,
        modules: usize,
        dark: Vec<bool>,
    },
}

/// The size of a page, in PDF points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PageSize {
    pub(crate) w: f32,
    pub(crate) h: f32,
}

impl PageSize {
    pub(crate) const A4: PageSize = PageSize {
        w: PAGE_W,
        h: PAGE_H,
    };
    pub(crate) const A4_LANDSCAPE: PageSize = PageSize {
        w: PAGE_H,
        h: PAGE_W,
    };
}

/// Places content on pages of one size, starting a new page when one is full. The result
/// document, the report and the training's documents add their own ways of placing text
/// (`render`, `report`, `training`).
pub(crate) struct Pages<'m> {
    pub(crate) measure: &'m Measure<'m>,
    pub(crate) size: PageSize,
    pub(crate) pages: Vec<Vec<Placed>>,
    pub(crate) y: f32,
}

impl<'m> Pages<'m> {
    /// Empty A4 portrait pages, at the top margin of the first page.
    pub(crate) fn new(measure: &'m Measure<'m>) -> Pages<'m> {
        Pages::with_size(measure, PageSize::A4)
    }

    /// Empty pages of `size`, at the top margin of the first page.
    pub(crate) fn with_size(measure: &'m Measure<'m>, size: PageSize) -> Pages<'m> {
        Pages {
            measure,
            size,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    /// Whether `height` fits below the current position on this page.
    pub(crate) fn fits(&self, height: f32) -> bool {
        self.y + height <= self.size.h - MARGIN
    }

    /// Continues at the top margin of a new page.
    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Reserves `height` below the current position (on a new page if it does not fit) and
    /// returns its top.
    pub(crate) fn reserve(&mut self, height: f32) -> f32 {
        if !self.fits(height) && self.y > MARGIN {
            self.new_page();
        }
        let top = self.y;
        self.y += height;
        top
    }

    pub(crate) fn place(&mut self, item: Placed) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    /// `text` with its baseline at (`x`, `y`).
    pub(crate) fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        self.place(Placed::Text {
            x,
            y,
            size,
            bold,
            text: text.to_owned(),
        });
    }
}

fn fill(surface: &mut krilla::surface::Surface<'_>, rects: impl IntoIterator<Item = Option<Rect>>) {
    let mut path = PathBuilder::new();
    for rect in rects.into_iter().flatten() {
        path.push_rect(rect);
    }
    if let Some(path) = path.finish() {
        surface.draw_path(&path);
    }
}

/// The pages, all of `size`, as a PDF titled `title` in `lang`.
pub(crate) fn write(
    title: String,
    lang: Lang,
    size: PageSize,
    pages: Vec<Vec<Placed>>,
) -> Result<Vec<u8>, DocumentError> {
    let regular = Font::new(FONT_REGULAR.into(), 0).ok_or(DocumentError::Font)?;
    let bold = Font::new(FONT_BOLD.into(), 0).ok_or(DocumentError::Font)?;
    let mut doc = krilla::Document::new();
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(title)
            .language(lang.code().into())
            .creator("Xã Số".into()),
    );
    for items in pages {
        let settings =
            krilla::page::PageSettings::from_wh(size.w, size.h).ok_or(DocumentError::Layout)?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(krilla::paint::Fill::default()));
        for item in items {
            match item {
                Placed::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    text,
                } => surface.draw_text(
                    Point::from_xy(x, y),
                    if b { bold.clone() } else { regular.clone() },
                    size,
                    &text,
                    false,
                    TextDirection::Auto,
                ),
                Placed::Rule { x, y, w, h } => fill(&mut surface, [Rect::from_xywh(x, y, w, h)]),
                Placed::Image { x, y, w, h, png } => {
                    let image = Image::from_png(png.into(), true).map_err(DocumentError::Image)?;
                    let size = Size::from_wh(w, h).ok_or(DocumentError::Layout)?;
                    surface.push_transform(&Transform::from_translate(x, y));
                    surface.draw_image(image, size);
                    surface.pop();
                }
                Placed::Qr {
                    x,
                    y,
                    side,
                    modules,
                    dark,
                } => {
                    let unit = side / (modules + 8) as f32;
                    let squares = dark.iter().enumerate().filter(|(_, d)| **d).map(|(i, _)| {
                        let mx = (i % modules.max(1) + 4) as f32;
                        let my = (i / modules.max(1) + 4) as f32;
                        Rect::from_xywh(x + mx * unit, y + my * unit, unit, unit)
                    });
                    fill(&mut surface, squares);
                }
            }
        }
        surface.finish();
        page.finish();
    }
    Ok(doc.finish()?)
}
