//! Small filesystem helpers: atomic writes and private folders.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use crate::error::{IoContext, Result};

/// Write `bytes` to `path` through a temp file in the same folder and a rename, so a reader
/// sees the old content or the new, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).ctx("write", &tmp)?;
    f.write_all(bytes).ctx("write", &tmp)?;
    f.sync_all().ctx("write", &tmp)?;
    drop(f);
    std::fs::rename(&tmp, path).ctx("write", path)
}

/// Create `dir` and its parents; folders cove creates are private to the user (mode 0700).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).ctx("create folder", dir)
}

/// Make an existing folder private (used for the cache root).
pub fn make_private(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir).ctx("read", dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).ctx("set permissions of", dir)?;
    }
    Ok(())
}

/// Remove a folder tree if it exists.
pub fn remove_tree(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(crate::error::Error::io("remove", dir, e)),
        _ => Ok(()),
    }
}
