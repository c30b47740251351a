//! The receipt, the rating and the life event's next step.

use slint::{Image, Rgba8Pixel, SharedPixelBuffer};

use super::{View, enums};
use crate::ui::AppWindow;

#[derive(Default)]
pub struct ReceiptPresenter {
    /// The tracking code whose QR image the window shows (drawn once per receipt).
    qr_for: Option<String>,
}

impl ReceiptPresenter {
    pub fn present(&mut self, ui: &AppWindow, v: &View<'_>) {
        let k = v.journey;
        match k.receipt() {
            Some(r) => {
                if self.qr_for.as_deref() != Some(r.tracking_code.as_str()) {
                    match crate::receipt::qr_image(&r.tracking_code, 8) {
                        Ok(q) => ui.set_tracking_qr(rgba_image(&q.rgba, q.width, q.width)),
                        Err(e) => tracing::error!("QR: {e}"),
                    }
                    self.qr_for = Some(r.tracking_code.clone());
                }
                ui.set_tracking_code(r.tracking_code.as_str().into());
                ui.set_expected_date(xaso_i18n::format_date(r.expected_date).into());
            }
            None => {
                if self.qr_for.take().is_some() {
                    ui.set_tracking_qr(Image::default());
                }
                ui.set_tracking_code("".into());
                ui.set_expected_date("".into());
            }
        }
        ui.set_receipt_notice(enums::receipt_notice(v.shell.receipt_notice()));
        ui.set_next_step_name(k.next_step().map_or("", |p| p.name.get(v.l())).into());
        ui.set_rating(enums::rating_level(k.rating()));
        ui.set_rating_reason(k.rating_reason().into());
        ui.set_rating_missing(k.rating_missing());
    }
}

pub(crate) fn rgba_image(rgba: &[u8], width: u32, height: u32) -> Image {
    let mut buf = SharedPixelBuffer::<Rgba8Pixel>::new(width, height);
    let bytes = buf.make_mut_bytes();
    if bytes.len() == rgba.len() {
        bytes.copy_from_slice(rgba);
    }
    Image::from_rgba8(buf)
}
