//! Small filesystem helpers: atomic writes, private folders, unique names, byte rewrites.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};

/// Write `bytes` to `path` through a temp file in the same folder and a rename, so a reader
/// sees the old content or the new, never a part. The content is flushed to disk before the
/// rename, so after a power loss too the file holds the old content or the new.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_temp(path, bytes, true)
}

/// [`write_atomic`] without the flush to disk: a running process still sees the old content or
/// the new, never a part, but a power loss may leave the file short or empty. For files whose
/// loss is detected — those inside a build attempt, checked against its size listing after a
/// reboot (see `staging`) — or harmless (best-effort records). A flush costs from a fraction of a
/// millisecond to several when other programs have data waiting to be written, because the
/// filesystem's journal commit waits for it.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_temp(path, bytes, false)
}

fn write_via_temp(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    // Unique to this process and this write: two threads (a layer built beside its
    // environment) may write the same file at once.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut f = std::fs::File::create(&tmp).ctx("write", &tmp)?;
    f.write_all(bytes).ctx("write", &tmp)?;
    if sync {
        f.sync_all().ctx("write", &tmp)?;
    }
    drop(f);
    std::fs::rename(&tmp, path).ctx("write", path)
}

/// The largest manifest (or included file, or script) cove reads. 10,000 requirements take
/// about 200 KB; anything near this is not a manifest.
pub const MAX_MANIFEST: u64 = 32 << 20;

/// Read a manifest, an included file or a script: a regular file of at most [`MAX_MANIFEST`]
/// bytes. A FIFO, a device (`-r /dev/zero`, a `pyproject.toml` linked to `/dev/stdin`) or a
/// huge file in a cloned repository must not hang cove or eat the memory of every `python`.
pub fn read_manifest(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let meta = crate::inputs::metadata(path).ctx("read", path)?;
    if !meta.is_file() {
        return Err(crate::error::Error::NotAFile { path: path.to_path_buf(), size: None });
    }
    if meta.len() > MAX_MANIFEST {
        return Err(crate::error::Error::NotAFile { path: path.to_path_buf(), size: Some(meta.len()) });
    }
    let file = std::fs::File::open(path).ctx("read", path)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_MANIFEST + 1).read_to_end(&mut bytes).ctx("read", path)?;
    if bytes.len() as u64 > MAX_MANIFEST {
        return Err(crate::error::Error::NotAFile { path: path.to_path_buf(), size: Some(bytes.len() as u64) });
    }
    Ok(bytes)
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

/// A path as text for a key or a digest: itself when it is UTF-8, else `bytes:` and its bytes
/// in hex. Never lossy, so two folders whose names differ only in bytes that are not UTF-8
/// (`display()` shows both as `\u{FFFD}`) never share a key, and UTF-8 paths (absolute, so
/// never starting with `bytes:`) keep the text they always had.
pub fn path_text(p: &Path) -> String {
    match p.to_str() {
        Some(s) => s.to_string(),
        None => format!("bytes:{}", crate::digest::hex(p.as_os_str().as_encoded_bytes())),
    }
}

/// A path for JSON output: its text, with bytes that are not UTF-8 shown as U+FFFD. (A `Path`
/// given to `json!` as it is makes serde fail on such bytes, and `json!` panics on that.)
pub fn lossy(p: impl AsRef<Path>) -> String {
    p.as_ref().to_string_lossy().into_owned()
}

/// Nanoseconds since 1970: with the process id, a name no other attempt takes.
pub fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// `hay` with every `old` (not empty) replaced by `new`, left to right: a file's bytes being
/// rewritten, or an installer's output.
pub fn replace_bytes(hay: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let find = |rest: &[u8]| if old.is_empty() { None } else { rest.windows(old.len()).position(|w| w == old) };
    let mut out = Vec::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(at) = find(rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(new);
        rest = &rest[at + old.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Remove a folder tree if it exists.
pub fn remove_tree(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir).found("remove", dir).map(|_| ())
}

/// Disk usage of `dir` in bytes (allocated blocks, as `du` counts them), each hard-linked file
/// counted once. Unreadable parts are skipped: this is for reports and the gc size cap.
pub fn disk_usage(dir: &Path) -> u64 {
    disk_usage_counted(dir, &mut Counted::default())
}

/// Hard-linked files already counted, by (device, inode), so that several folders measured as
/// one listing (`cove list`, `cove gc`) count a file linked into many of them (pip from the
/// seed, a wheel uv linked from its cache) once, in the first one measured: the sum is what
/// they take on disk (issue 18, finding 10).
#[derive(Debug, Default)]
pub struct Counted(std::collections::HashSet<(u64, u64)>);

/// [`disk_usage`] of one folder of a listing: files `counted` already are not counted again.
pub fn disk_usage_counted(dir: &Path, counted: &mut Counted) -> u64 {
    walk(dir, counted, |_, _| {}).size
}

/// A folder's disk usage, and the part of it in files with more than one link (shared with
/// another folder, or not: a folder with none can be counted apart from any other).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub size: u64,
    pub linked: u64,
}

/// [`disk_usage`], calling `each` with the path and metadata (not following symlinks) of
/// everything in the tree that is not a folder, so one walk can also list the files.
pub fn disk_usage_with(dir: &Path, each: impl FnMut(&Path, &std::fs::Metadata)) -> Usage {
    walk(dir, &mut Counted::default(), each)
}

fn walk(dir: &Path, counted: &mut Counted, mut each: impl FnMut(&Path, &std::fs::Metadata)) -> Usage {
    use std::os::unix::fs::MetadataExt;
    let mut usage = Usage::default();
    let mut stack = vec![dir.to_path_buf()];
    if let Ok(meta) = std::fs::symlink_metadata(dir) {
        usage.size += meta.blocks() * 512;
    }
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            // `DirEntry::metadata` does not follow symlinks: a venv's link to its base
            // interpreter counts as the link, not as the interpreter.
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            if meta.is_dir() {
                usage.size += meta.blocks() * 512;
                stack.push(path);
                continue;
            }
            each(&path, &meta);
            if meta.nlink() > 1 {
                if !counted.0.insert((meta.dev(), meta.ino())) {
                    continue;
                }
                usage.linked += meta.blocks() * 512;
            }
            usage.size += meta.blocks() * 512;
        }
    }
    usage
}

/// `p` with `.` and `..` folded, without touching the filesystem.
pub fn normal_path(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// For tests: a temp folder holding `files` (each a path inside it and its text).
#[cfg(test)]
pub fn temp_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let p = t.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_linked_files_count_once() {
        let t = tempfile::tempdir().unwrap();
        let big = vec![7u8; 64 * 1024];
        std::fs::write(t.path().join("a"), &big).unwrap();
        let one = disk_usage(t.path());
        std::fs::hard_link(t.path().join("a"), t.path().join("b")).unwrap();
        assert_eq!(disk_usage(t.path()), one);
        std::fs::write(t.path().join("c"), &big).unwrap();
        assert!(disk_usage(t.path()) >= one + 64 * 1024);
    }

    #[test]
    fn a_file_linked_into_two_folders_counts_once_in_a_listing() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("f"), vec![7u8; 64 * 1024]).unwrap();
        let alone = disk_usage(&b);
        std::fs::hard_link(a.join("f"), b.join("f")).unwrap();
        assert!(disk_usage(&b) >= alone + 64 * 1024, "measured alone, b holds the file");
        let mut counted = Counted::default();
        let first = disk_usage_counted(&a, &mut counted);
        assert_eq!(disk_usage_counted(&b, &mut counted), alone, "in one listing, a counted it");
        assert_eq!(first, disk_usage(&a));
        let usage = disk_usage_with(&b, |_, _| {});
        assert!(usage.linked >= 64 * 1024 && usage.size >= alone + usage.linked, "{usage:?}");
    }
}
