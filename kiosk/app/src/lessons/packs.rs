//! The kiosk's lesson shelf: the installed content pack and the one before it.
//!
//! `<store>/lessons/current.pack` is what the kiosk shows; `previous.pack` is kept for
//! going back by hand. A new pack is verified completely ([`xaso_training::pack::open`]:
//! the province's keys, signature, digest, a newer version, valid content) before anything
//! is written; then it is written to a temporary file, synced, and renamed over
//! `current.pack` (the old one renamed to `previous.pack` first), and the directory synced —
//! a power cut leaves either the old pack or the new one, never half of one. A refused pack
//! changes nothing and says why.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use xaso_training::pack::{self, Pack, PackError, TrustedKey};

#[derive(Debug, thiserror::Error)]
pub enum ShelfError {
    #[error("lesson pack refused: {0}")]
    Refused(#[from] PackError),
    #[error("lesson pack file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ShelfError + '_ {
    move |source| ShelfError::Io {
        path: path.to_owned(),
        source,
    }
}

pub struct Shelf {
    dir: PathBuf,
    trusted: Vec<TrustedKey>,
}

impl Shelf {
    pub fn new(dir: &Path, trusted: Vec<TrustedKey>) -> Shelf {
        Shelf {
            dir: dir.to_owned(),
            trusted,
        }
    }

    fn current_path(&self) -> PathBuf {
        self.dir.join("current.pack")
    }

    /// The installed pack, verified again on every start (a file changed on disk is not
    /// shown). `Ok(None)` when none is installed.
    pub fn load(&self) -> Result<Option<Pack>, ShelfError> {
        let path = self.current_path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        Ok(Some(pack::open(&bytes, &self.trusted, None)?))
    }

    /// Verifies `bytes` against the province's keys and the installed version, then
    /// installs it. On any error the installed pack stays as it was.
    pub fn install(&self, bytes: &[u8]) -> Result<Pack, ShelfError> {
        let installed = match self.load() {
            Ok(p) => p.map(|p| p.header.version),
            // An installed pack that no longer verifies (a key withdrawn) may be replaced.
            Err(ShelfError::Refused(e)) => {
                tracing::warn!("the installed lesson pack no longer verifies: {e}");
                None
            }
            Err(e) => return Err(e),
        };
        let pack = pack::open(bytes, &self.trusted, installed)?;
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let tmp = self.dir.join("incoming.pack.tmp");
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(bytes).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        let current = self.current_path();
        if current.exists() {
            let previous = self.dir.join("previous.pack");
            fs::rename(&current, &previous).map_err(io(&previous))?;
        }
        fs::rename(&tmp, &current).map_err(io(&current))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        tracing::info!(version = pack.header.version, "lesson pack installed");
        Ok(pack)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use ed25519_dalek::SigningKey;

    fn pack(version: u64, key: u8) -> Vec<u8> {
        pack::build(
            &xaso_training::bundled_files(),
            "79",
            version,
            jiff::civil::date(2026, 12, 1),
            "p79",
            &SigningKey::from_bytes(&[key; 32]),
        )
        .unwrap()
    }

    fn shelf(dir: &Path) -> Shelf {
        Shelf::new(
            dir,
            vec![TrustedKey {
                key_id: "p79".into(),
                key: SigningKey::from_bytes(&[1; 32]).verifying_key(),
            }],
        )
    }

    #[test]
    fn a_bad_pack_is_refused_with_its_reason_and_the_installed_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let shelf = shelf(dir.path());
        assert!(shelf.load().unwrap().is_none());
        let v2 = pack(2, 1);
        assert_eq!(shelf.install(&v2).unwrap().header.version, 2);
        let current = dir.path().join("current.pack");
        let mut tampered = v2.clone();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 0x40;
        type Expected = fn(&PackError) -> bool;
        let cases: [(&str, Vec<u8>, Expected); 5] = [
            ("tampered", tampered, |e| matches!(e, PackError::Signature)),
            ("foreign key", pack(3, 9), |e| {
                matches!(e, PackError::Signature)
            }),
            ("older", pack(1, 1), |e| {
                matches!(
                    e,
                    PackError::NotNewer {
                        candidate: 1,
                        installed: 2
                    }
                )
            }),
            ("same", v2.clone(), |e| {
                matches!(e, PackError::NotNewer { .. })
            }),
            ("truncated", v2[..v2.len() - 10].to_vec(), |e| {
                matches!(e, PackError::Truncated)
            }),
        ];
        for (what, bytes, expected) in cases {
            match shelf.install(&bytes) {
                Err(ShelfError::Refused(e)) => assert!(expected(&e), "{what}: {e}"),
                other => panic!("{what}: {:?}", other.map(|p| p.header)),
            }
            assert_eq!(
                std::fs::read(&current).unwrap(),
                v2,
                "{what}: the installed pack changed"
            );
            assert_eq!(shelf.load().unwrap().unwrap().header.version, 2);
        }
        // A newer pack replaces it; the old one is kept beside it.
        assert_eq!(shelf.install(&pack(3, 1)).unwrap().header.version, 3);
        assert_eq!(std::fs::read(dir.path().join("previous.pack")).unwrap(), v2);
        // A pack changed on disk is not shown.
        let mut on_disk = std::fs::read(&current).unwrap();
        on_disk[100] ^= 1;
        std::fs::write(&current, on_disk).unwrap();
        assert!(matches!(shelf.load(), Err(ShelfError::Refused(_))));
    }
}
