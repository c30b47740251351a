//! A lessons directory (laid out like `training/modules/`) read into the map a pack is built
//! from: path relative to the directory, with `/`, → bytes. The authors' `README.md` at the
//! top is not content (as in `xaso_training::bundled_files`). Symbolic links are refused
//! rather than followed, and the whole is limited to what a kiosk accepts.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Reads every file under `root`.
pub fn read(root: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut total = 0usize;
    collect(root, root, &mut files, &mut total)?;
    files.remove("README.md");
    if files.is_empty() {
        bail!("{} holds no lesson files", root.display());
    }
    Ok(files)
}

fn collect(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
    total: &mut usize,
) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            collect(root, &path, files, total)?;
        } else if kind.is_file() {
            let name = relative_name(root, &path)?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            *total = total.saturating_add(bytes.len());
            if *total > xaso_training::pack::MAX_CONTENT {
                bail!(
                    "{} holds more than a kiosk accepts in one pack ({} MiB)",
                    root.display(),
                    xaso_training::pack::MAX_CONTENT / (1024 * 1024)
                );
            }
            files.insert(name, bytes);
        } else {
            bail!(
                "{} is not a plain file or directory (symbolic links are not followed: copy \
                 the file instead)",
                path.display()
            );
        }
    }
    Ok(())
}

/// `path` relative to `root`, components joined with `/`.
fn relative_name(root: &Path, path: &Path) -> Result<String> {
    let relative = path
        .strip_prefix(root)
        .with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
    let parts = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<Vec<_>>>()
        .with_context(|| format!("{}: the file name is not UTF-8", path.display()))?;
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_like_the_bundled_ones() -> Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("scams/pages"))?;
        std::fs::write(dir.path().join("README.md"), "authors' notes")?;
        std::fs::write(dir.path().join("tracks.toml"), "x")?;
        std::fs::write(dir.path().join("scams/pages/01.vi.md"), "y")?;
        let files = read(dir.path())?;
        assert_eq!(
            files.keys().map(String::as_str).collect::<Vec<_>>(),
            ["scams/pages/01.vi.md", "tracks.toml"]
        );
        assert_eq!(files.get("tracks.toml").map(Vec::as_slice), Some(&b"x"[..]));
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_refused() -> Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("tracks.toml"), "x")?;
        std::os::unix::fs::symlink(dir.path().join("tracks.toml"), dir.path().join("link"))?;
        let err = read(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("symbolic links"), "{err}");
        Ok(())
    }
}
