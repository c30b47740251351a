//! The port pictures of papers come through: the document camera or image files.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PaperError {
    #[error("not a readable JPEG or PNG image: {0}")]
    Unreadable(#[from] image::ImageError),
    #[error("cannot read the image file: {0}")]
    Io(#[from] std::io::Error),
    #[error("no document camera on this kiosk")]
    NoCamera,
    #[error("the document camera failed: {0}")]
    Camera(String),
    #[error("no more image files to import in {0}")]
    NoMoreFiles(PathBuf),
}

/// Where the pictures of papers come from.
pub trait ImageSource {
    /// Takes a photo with the document camera.
    fn capture(&mut self) -> Result<Vec<u8>, PaperError>;
    /// The next image file offered for import.
    fn import(&mut self) -> Result<Vec<u8>, PaperError>;
    /// Whether there is a camera to photograph with (the papers screen shows "Chụp" only
    /// then).
    fn has_camera(&self) -> bool {
        false
    }
}
