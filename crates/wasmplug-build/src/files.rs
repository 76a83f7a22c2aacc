//! Writing and copying the files of a project.

use std::path::Path;

use crate::error::{BuildError, Result};

/// Writes `contents` to `path`, making its folder first.
pub(crate) fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
    }
    std::fs::write(path, contents).map_err(|e| BuildError::io(path, e))
}

/// Copies the folder `from` into `to`, keeping the entries for which
/// `keep(path relative to from, is a folder)` holds.
pub(crate) fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path, bool) -> bool) -> Result<()> {
    copy_below(from, to, Path::new(""), keep)
}

fn copy_below(
    from: &Path,
    to: &Path,
    relative: &Path,
    keep: &dyn Fn(&Path, bool) -> bool,
) -> Result<()> {
    let source = from.join(relative);
    std::fs::create_dir_all(to.join(relative)).map_err(|e| BuildError::io(to, e))?;
    for entry in std::fs::read_dir(&source).map_err(|e| BuildError::io(&source, e))? {
        let entry = entry.map_err(|e| BuildError::io(&source, e))?;
        let path = entry.path();
        let inner = relative.join(entry.file_name());
        let is_dir = path.is_dir();
        if !keep(&inner, is_dir) {
            continue;
        }
        if is_dir {
            copy_below(from, to, &inner, keep)?;
        } else if path.is_file() {
            std::fs::copy(&path, to.join(&inner)).map_err(|e| BuildError::io(&path, e))?;
        }
    }
    Ok(())
}
