//! Photographs of papers: normalised before they are stored (upright, at most
//! [`MAX_SIDE`] pixels on the long side, JPEG), with a small preview for the screen.
//!
//! Images come from the document camera or from image files (a USB stick, the demo's
//! sample papers) through [`crate::image_source::ImageSource`].

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, imageops::FilterType};
use sha2::{Digest, Sha256};
use xaso_kiosk_core::PaperImage;

use crate::image_source::PaperError;

/// Longest side of a stored page, in pixels: enough to read an A4 page, small enough to
/// send over 2G.
pub const MAX_SIDE: u32 = 1600;
/// Longest side of the on-screen preview.
pub const PREVIEW_SIDE: u32 = 260;

/// Turns image bytes (JPEG or PNG, any orientation and size) into a stored page.
pub fn normalise(bytes: &[u8]) -> Result<PaperImage, PaperError> {
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()?
        .into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);
    if img.width().max(img.height()) > MAX_SIDE {
        img = img.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let preview = img.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).to_rgba8();
    // `into_rgb8` reuses the decoded buffer when it already is RGB (no second full-size copy).
    let rgb = img.into_rgb8();
    let mut jpeg = Vec::with_capacity(rgb.as_raw().len() / 8);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&rgb)?;
    jpeg.shrink_to_fit();
    let (width, height) = (rgb.width(), rgb.height());
    drop(rgb);
    release_freed_memory();
    Ok(PaperImage {
        sha256: hex::encode(Sha256::digest(&jpeg)),
        jpeg: jpeg.into(),
        width,
        height,
        preview_width: preview.width(),
        preview_height: preview.height(),
        preview_rgba: preview.into_raw().into(),
    })
}

/// Gives the memory of the decoded page (several MB) back to the system. glibc raises its
/// mmap threshold after a large buffer is freed, so the next page's buffers come from the
/// heap and stay resident after use; on a kiosk with little RAM that would grow with every
/// page photographed.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it takes no pointers
    // and is thread-safe in glibc.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A synthetic photo of a paper (a white page with ruled lines), for the demo and tests.
pub fn sample_page(seed: u8, width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let margin = width / 10;
        if x > margin && x < width - margin && y % 40 < 3 && y > height / 8 {
            image::Rgb([60, 60, 90])
        } else if y < height / 10 && x > margin && x < width / 2 {
            image::Rgb([180, seed.wrapping_mul(40).wrapping_add(30), 30])
        } else {
            image::Rgb([250, 248, 240])
        }
    });
    let mut out = Vec::new();
    // Writing PNG to a Vec cannot fail for an RGB buffer; an empty result would be rejected
    // later as unreadable.
    let _ =
        DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_pages_are_scaled_down_and_stored_as_jpeg() {
        let page = normalise(&sample_page(1, 1800, 2000)).unwrap();
        assert_eq!((page.width, page.height), (1440, 1600));
        assert_eq!(&page.jpeg[..2], &[0xFF, 0xD8]);
        assert!(page.preview_width <= PREVIEW_SIDE && page.preview_height <= PREVIEW_SIDE);
        assert_eq!(
            page.preview_rgba.len(),
            (page.preview_width * page.preview_height * 4) as usize
        );
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(matches!(
            normalise(b"not an image"),
            Err(PaperError::Unreadable(_))
        ));
    }
}
