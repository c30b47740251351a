//! The document camera over V4L2 (the `linuxvideo` crate, pure Rust).
//!
//! [`capture_devices`] lists the video capture devices; the papers screen offers "Chụp"
//! only when the kiosk has one. [`V4l2Camera::capture`] opens the device, prefers MJPEG
//! (a JPEG per frame) over YUYV (packed 4:2:2), lets auto-exposure settle for a few frames
//! and turns the next one into image bytes with [`frame_to_image`], the pure conversion
//! that [`crate::papers::normalise`] then treats like any imported photo.
//!
//! Only the conversion is tested (with synthetic frames): this machine has no camera and
//! cannot load `v4l2loopback`, so capture itself has never run against a device.

use std::path::{Path, PathBuf};

use crate::image_files::DirectoryImages;
use crate::image_source::{ImageSource, PaperError};

/// The pixel formats the kiosk takes from a camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFormat {
    /// Motion JPEG: each frame is a JPEG image.
    Mjpeg,
    /// YUYV 4:2:2: Y0 U Y1 V for each pair of pixels, BT.601 limited range.
    Yuyv,
}

/// Frames thrown away after the stream starts, while exposure and focus settle.
const SETTLE_FRAMES: usize = 5;

/// The Huffman tables JPEG Annex K gives as typical, which MJPEG cameras leave out of their
/// frames (the "AVI1" convention); inserted when a frame has no DHT segment of its own.
const STANDARD_DHT: &[u8] = &[
    0xFF, 0xC4, 0x01, 0xA2, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
    0x0B, 0x01, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x10, 0x00,
    0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7D, 0x01,
    0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
    0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0, 0x24,
    0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A,
    0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8,
    0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6,
    0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3,
    0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9,
    0xFA, 0x11, 0x00, 0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01,
    0x02, 0x77, 0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07,
    0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33,
    0x52, 0xF0, 0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19,
    0x1A, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85,
    0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3,
    0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA,
    0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8,
    0xD9, 0xDA, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6,
    0xF7, 0xF8, 0xF9, 0xFA,
];

/// Whether the JPEG has its own Huffman tables (a DHT marker before the scan).
fn has_dht(jpeg: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= jpeg.len() {
        if jpeg[i] != 0xFF {
            return false;
        }
        let marker = jpeg[i + 1];
        match marker {
            0xC4 => return true,
            0xDA => return false,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        i += 2 + len;
    }
    false
}

/// A camera frame as image bytes (JPEG) for [`crate::papers::normalise`].
pub fn frame_to_image(
    format: FrameFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<Vec<u8>, PaperError> {
    match format {
        FrameFormat::Mjpeg => {
            if data.len() < 4 || data[..2] != [0xFF, 0xD8] {
                return Err(PaperError::Camera("the frame is not a JPEG image".into()));
            }
            if has_dht(data) {
                return Ok(data.to_vec());
            }
            let mut out = Vec::with_capacity(data.len() + STANDARD_DHT.len());
            out.extend_from_slice(&data[..2]);
            out.extend_from_slice(STANDARD_DHT);
            out.extend_from_slice(&data[2..]);
            Ok(out)
        }
        FrameFormat::Yuyv => {
            let (w, h) = (width as usize, height as usize);
            if w == 0 || h == 0 || w % 2 != 0 || data.len() < w * h * 2 {
                return Err(PaperError::Camera(format!(
                    "a YUYV frame of {width}×{height} needs {} bytes, got {}",
                    w * h * 2,
                    data.len()
                )));
            }
            let mut rgb = Vec::with_capacity(w * h * 3);
            for quad in data[..w * h * 2].chunks_exact(4) {
                let (u, v) = (f32::from(quad[1]) - 128.0, f32::from(quad[3]) - 128.0);
                for y in [quad[0], quad[2]] {
                    let y = 1.164 * (f32::from(y) - 16.0);
                    for c in [y + 1.596 * v, y - 0.392 * u - 0.813 * v, y + 2.017 * u] {
                        rgb.push(c.round().clamp(0.0, 255.0) as u8);
                    }
                }
            }
            let img = image::RgbImage::from_raw(width, height, rgb)
                .ok_or_else(|| PaperError::Camera("frame size".into()))?;
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92).encode_image(&img)?;
            Ok(jpeg)
        }
    }
}

/// The V4L2 devices that can capture video.
pub fn capture_devices() -> Vec<PathBuf> {
    let Ok(devices) = linuxvideo::list() else {
        return Vec::new();
    };
    devices
        .filter_map(Result::ok)
        .filter(|d| {
            d.capabilities().is_ok_and(|c| {
                c.device_capabilities()
                    .contains(linuxvideo::CapabilityFlags::VIDEO_CAPTURE)
            })
        })
        .filter_map(|d| d.path().ok())
        .collect()
}

/// The document camera at `device`; image files are still imported from a directory.
pub struct V4l2Camera {
    device: PathBuf,
    files: DirectoryImages,
}

impl V4l2Camera {
    pub fn new(device: &Path, files_dir: &Path) -> V4l2Camera {
        V4l2Camera {
            device: device.to_owned(),
            files: DirectoryImages::new(files_dir),
        }
    }

    fn grab(&self) -> std::io::Result<(FrameFormat, u32, u32, Vec<u8>)> {
        use linuxvideo::format::{PixFormat, PixelFormat};
        let device = linuxvideo::Device::open(&self.device)?;
        let formats = device
            .formats(linuxvideo::BufType::VIDEO_CAPTURE)
            .map(|f| f.map(|f| f.pixel_format()))
            .collect::<std::io::Result<Vec<_>>>()?;
        let (format, pixel) = if formats.contains(&PixelFormat::MJPG) {
            (FrameFormat::Mjpeg, PixelFormat::MJPG)
        } else if formats.contains(&PixelFormat::YUYV) {
            (FrameFormat::Yuyv, PixelFormat::YUYV)
        } else {
            return Err(std::io::Error::other(format!(
                "the camera offers neither MJPEG nor YUYV ({formats:?})"
            )));
        };
        // The largest size the camera offers: the driver lowers the request to it.
        let capture = device.video_capture(PixFormat::new(u32::MAX, u32::MAX, pixel))?;
        let (width, height) = (capture.format().width(), capture.format().height());
        let mut stream = capture.into_stream()?;
        for _ in 0..SETTLE_FRAMES {
            stream.dequeue(|_| Ok(()))?;
        }
        let mut frame = Vec::new();
        stream.dequeue(|buf| {
            frame.extend_from_slice(&buf);
            Ok(())
        })?;
        Ok((format, width, height, frame))
    }
}

impl ImageSource for V4l2Camera {
    fn capture(&mut self) -> Result<Vec<u8>, PaperError> {
        let (format, width, height, frame) = self.grab().map_err(|e| {
            tracing::warn!("document camera {}: {e}", self.device.display());
            PaperError::Camera(e.to_string())
        })?;
        tracing::info!("document camera frame: {format:?} {width}×{height}");
        frame_to_image(format, width, height, &frame)
    }

    fn import(&mut self) -> Result<Vec<u8>, PaperError> {
        self.files.import()
    }

    fn has_camera(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic page: white with a dark bar in the top half.
    fn rgb_page(w: u32, h: u32) -> image::RgbImage {
        image::RgbImage::from_fn(w, h, |_, y| {
            if y < h / 2 && y > h / 4 {
                image::Rgb([20, 20, 120])
            } else {
                image::Rgb([250, 250, 250])
            }
        })
    }

    /// RGB → YUYV (BT.601 limited range), the camera's side of the conversion.
    fn to_yuyv(img: &image::RgbImage) -> Vec<u8> {
        let yuv = |p: &image::Rgb<u8>| {
            let [r, g, b] = p.0.map(f32::from);
            (
                16.0 + 0.257 * r + 0.504 * g + 0.098 * b,
                128.0 - 0.148 * r - 0.291 * g + 0.439 * b,
                128.0 + 0.439 * r - 0.368 * g - 0.071 * b,
            )
        };
        let mut out = Vec::new();
        for row in img.rows() {
            let px: Vec<_> = row.collect();
            for pair in px.chunks_exact(2) {
                let (y0, u0, v0) = yuv(pair[0]);
                let (y1, u1, v1) = yuv(pair[1]);
                out.extend_from_slice(&[
                    y0.round() as u8,
                    ((u0 + u1) / 2.0).round() as u8,
                    y1.round() as u8,
                    ((v0 + v1) / 2.0).round() as u8,
                ]);
            }
        }
        out
    }

    #[test]
    fn a_yuyv_frame_becomes_a_normalised_page_with_its_colours() {
        let src = rgb_page(2592, 1944);
        let frame = to_yuyv(&src);
        let bytes = frame_to_image(FrameFormat::Yuyv, 2592, 1944, &frame).unwrap();
        let page = crate::papers::normalise(&bytes).unwrap();
        // Scaled to the stored size, landscape kept.
        assert_eq!(page.width.max(page.height), crate::papers::MAX_SIDE);
        assert!(page.width > page.height);
        let stored = image::load_from_memory(&page.jpeg).unwrap().to_rgb8();
        let white = stored.get_pixel(page.width / 2, page.height * 7 / 8).0;
        let bar = stored.get_pixel(page.width / 2, page.height * 3 / 8).0;
        for (got, want) in [(white, [250, 250, 250]), (bar, [20, 20, 120])] {
            for c in 0..3 {
                assert!(
                    (i32::from(got[c]) - want[c]).abs() <= 12,
                    "{got:?} is not close to {want:?}"
                );
            }
        }
    }

    #[test]
    fn a_short_or_odd_yuyv_frame_is_an_error() {
        assert!(matches!(
            frame_to_image(FrameFormat::Yuyv, 640, 480, &[0; 100]),
            Err(PaperError::Camera(_))
        ));
        assert!(matches!(
            frame_to_image(FrameFormat::Yuyv, 3, 2, &[0; 12]),
            Err(PaperError::Camera(_))
        ));
    }

    fn jpeg_of(img: &image::RgbImage) -> Vec<u8> {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(img)
            .unwrap();
        jpeg
    }

    /// Drops every DHT segment, as MJPEG cameras send their frames.
    fn without_dht(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut i = 2;
        while jpeg[i + 1] != 0xDA {
            let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
            if jpeg[i + 1] != 0xC4 {
                out.extend_from_slice(&jpeg[i..i + 2 + len]);
            }
            i += 2 + len;
        }
        out.extend_from_slice(&jpeg[i..]);
        out
    }

    #[test]
    fn an_mjpeg_frame_without_huffman_tables_gets_the_standard_ones() {
        let src = rgb_page(1280, 720);
        let jpeg = jpeg_of(&src);
        assert!(has_dht(&jpeg));
        let frame = without_dht(&jpeg);
        assert!(!has_dht(&frame));
        let bytes = frame_to_image(FrameFormat::Mjpeg, 1280, 720, &frame).unwrap();
        assert!(has_dht(&bytes));
        let page = crate::papers::normalise(&bytes).unwrap();
        assert_eq!((page.width, page.height), (1280, 720));
        let stored = image::load_from_memory(&page.jpeg).unwrap().to_rgb8();
        let bar = stored.get_pixel(640, 270).0;
        assert!(bar[2] > 90 && bar[0] < 50, "{bar:?}");
        // A frame with its own tables passes unchanged.
        assert_eq!(
            frame_to_image(FrameFormat::Mjpeg, 1280, 720, &jpeg).unwrap(),
            jpeg
        );
        assert!(matches!(
            frame_to_image(FrameFormat::Mjpeg, 1280, 720, b"garbage"),
            Err(PaperError::Camera(_))
        ));
    }

    #[test]
    fn this_machine_lists_no_capture_device() {
        // There is no /dev/video* here (documented in the crate README); on a kiosk with a
        // camera this lists it.
        if !Path::new("/dev/video0").exists() {
            assert!(capture_devices().is_empty());
        }
    }
}
