//! Pictures of papers from image files in a directory (a USB stick, the demo's sample papers).

use std::path::{Path, PathBuf};

use crate::image_source::{ImageSource, PaperError};

/// Imports image files from a directory (a USB stick, the demo's sample papers), in name
/// order, one per tap. It has no camera: capturing reports [`PaperError::NoCamera`], which
/// the kiosk shows as an error telling the resident to import a file or hand the paper to
/// the officer.
pub struct DirectoryImages {
    dir: PathBuf,
    next: usize,
}

impl DirectoryImages {
    pub fn new(dir: &Path) -> DirectoryImages {
        DirectoryImages {
            dir: dir.to_owned(),
            next: 0,
        }
    }

    fn files(&self) -> Result<Vec<PathBuf>, PaperError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                })
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

impl ImageSource for DirectoryImages {
    fn capture(&mut self) -> Result<Vec<u8>, PaperError> {
        Err(PaperError::NoCamera)
    }

    fn import(&mut self) -> Result<Vec<u8>, PaperError> {
        let files = self.files()?;
        if files.is_empty() {
            return Err(PaperError::NoMoreFiles(self.dir.clone()));
        }
        let path = &files[self.next % files.len()];
        self.next += 1;
        Ok(std::fs::read(path)?)
    }
}
