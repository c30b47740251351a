//! The port pictures of the card's QR code arrive through: a directory where a phone, a
//! scanner or the camera drops them (the newest is read).

use std::path::{Path, PathBuf};

use xaso_kiosk_core::QrProblem;

/// Where pictures of the card's QR code come from.
pub trait QrPictures {
    /// The bytes of the newest picture (PNG or JPEG).
    fn latest(&mut self) -> Result<Vec<u8>, QrProblem>;
}

/// The newest image file in a directory (`--qr-images DIR`).
pub struct QrPictureDirectory {
    dir: PathBuf,
}

impl QrPictureDirectory {
    pub fn new(dir: &Path) -> QrPictureDirectory {
        QrPictureDirectory {
            dir: dir.to_owned(),
        }
    }
}

impl QrPictures for QrPictureDirectory {
    fn latest(&mut self) -> Result<Vec<u8>, QrProblem> {
        let path = newest_image(&self.dir).ok_or(QrProblem::NotFound)?;
        std::fs::read(&path).map_err(|e| {
            tracing::warn!("QR picture not readable: {e}");
            QrProblem::Unreadable
        })
    }
}

/// No pictures: the scanner only.
pub struct NoQrPictures;

impl QrPictures for NoQrPictures {
    fn latest(&mut self) -> Result<Vec<u8>, QrProblem> {
        Err(QrProblem::NotFound)
    }
}

/// The newest image file (PNG or JPEG) in `dir`.
pub fn newest_image(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            name.ends_with(".png") || name.ends_with(".jpg") || name.ends_with(".jpeg")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
}
