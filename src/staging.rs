//! Build aside, then publish by rename (SPEC §3: no process ever runs a half-built environment).
//!
//! Every build attempt of an environment (or a project layer) makes its venv in a folder of its
//! own, `tmp/<name>.<pid>.<nanos>`, where `<name>` is the name of the lock the builder holds
//! (the key, or `layer-<key>`). Only when it is complete (ready marker written last) is it
//! renamed onto its place in `envs/` or `layers/`; if something is already there (a
//! `--refresh`, or an environment whose interpreter went away) the two are swapped in one
//! `renameat2(RENAME_EXCHANGE)`, so a process running the old environment never finds the path
//! missing or half-filled, and the old copy is deleted after.
//!
//! Why not build in place: `kill -9` of cove does not kill its installer. The orphaned `uv` or
//! `pip` goes on writing into the folder it was given; when that folder is the environment's
//! own, the next build removes it under the orphan's feet and the orphan writes into (or
//! re-creates) the new one — the next build failed with "A virtual environment already exists",
//! found by `tests/reliability.rs`. An attempt's own folder is never reused, so an orphan can
//! only spoil a folder nobody will publish. (Installers also get `PR_SET_PDEATHSIG`, see
//! `backend::Output::run`, so they rarely outlive cove at all.)
//!
//! A venv records its own path in its console scripts' `#!` lines and the `activate` scripts,
//! so before publishing, [`relocate`] rewrites the staging path to the final one in the text
//! files of `bin/` and in `pyvenv.cfg` (the staging path is always longer than the final one,
//! so a `#!` line the installer kept short enough for the kernel stays so). Installed modules
//! need nothing: Python fixes the source path of cached bytecode on import.
//!
//! A power loss can leave a published folder whose files never reached the disk (delayed
//! allocation leaves them short or empty). Rather than flush the whole filesystem on every build
//! (tens to hundreds of milliseconds, and waiting on other programs' writes), each attempt
//! records every file's size in `.cove-files` before it is published; the first use after a
//! reboot checks them (see [`crate::cache::ready_at`]).
//!
//! Leftovers — folders of attempts killed before they published — are removed by the next
//! build of the same name (it holds the lock, so no one else is using them) and by `cove gc`
//! (which takes each one's lock first, so it never removes an attempt in progress).

use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::error::{IoContext, Result};

/// One build attempt's folder; removed on drop unless published.
#[derive(Debug)]
pub struct Staging {
    pub dir: PathBuf,
    published: bool,
}

impl Staging {
    /// A fresh folder name under `tmp/` for an attempt at `name`, whose lock the caller holds.
    /// Leftovers of earlier attempts at `name` are removed first. The folder itself is left for
    /// the backend to create.
    pub fn new(cache: &Cache, name: &str) -> Result<Staging> {
        let tmp = cache.tmp_dir();
        crate::fsx::create_private_dir(&tmp)?;
        for (path, of) in leftovers(cache) {
            if of == name {
                let _ = crate::fsx::remove_tree(&path);
            }
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = tmp.join(format!("{name}.{}.{nanos}", std::process::id()));
        Ok(Staging { dir, published: false })
    }

    /// Rewrite paths, then move the finished folder onto `target` (swapping out what is there).
    pub fn publish(mut self, target: &Path) -> Result<()> {
        relocate(&self.dir, target)?;
        if let Some(parent) = target.parent() {
            crate::fsx::create_private_dir(parent)?;
        }
        record_files(&self.dir)?;
        let displaced = swap_into_place(&self.dir, target)?;
        self.published = true;
        if displaced {
            // The old copy now sits at the staging path; processes still running it keep the
            // files they have open.
            let _ = crate::fsx::remove_tree(&self.dir);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = crate::fsx::remove_tree(&self.dir);
        }
    }
}

/// Every attempt folder under `tmp/`, with the lock name it belongs to.
pub fn leftovers(cache: &Cache) -> Vec<(PathBuf, String)> {
    std::fs::read_dir(cache.tmp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let of = attempt_of(&e.file_name().to_string_lossy())?.to_string();
            Some((e.path(), of))
        })
        .collect()
}

/// The lock name in an attempt folder's name, `<name>.<pid>.<nanos>` (or `<name>.<pid>.old`
/// while swapping): read from the right, since a seed's name has dots of its own
/// (`seed-pip-24.0-cpython3.12-…`).
fn attempt_of(folder: &str) -> Option<&str> {
    let mut parts = folder.rsplitn(3, '.');
    let (_, _, name) = (parts.next(), parts.next(), parts.next());
    name.or_else(|| folder.split('.').next()).filter(|n| !n.is_empty())
}

/// Write `.cove-files`: one line per regular file, `size<TAB>path` relative to `dir`, so the first
/// use after a reboot can tell a folder a power loss cut short (cold path only).
fn record_files(dir: &Path) -> Result<()> {
    fn walk(root: &Path, dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() {
                walk(root, &path, out);
            } else if kind.is_file()
                && !entry.file_name().to_string_lossy().starts_with(".cove-")
                && let (Ok(meta), Ok(rel)) = (entry.metadata(), path.strip_prefix(root))
            {
                out.push_str(&format!("{}\t{}\n", meta.len(), rel.display()));
            }
        }
    }
    let mut listing = String::new();
    walk(dir, dir, &mut listing);
    crate::fsx::write_atomic(&dir.join(crate::cache::FILES), listing.as_bytes())
}

/// Move `staged` onto `target`. Returns whether something was displaced (it is then at
/// `staged`).
fn swap_into_place(staged: &Path, target: &Path) -> Result<bool> {
    if std::fs::symlink_metadata(target).is_err() {
        match std::fs::rename(staged, target) {
            Ok(()) => return Ok(false),
            // Someone put it there since the look (only a legacy builder could); swap below.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {}
            Err(e) => return Err(crate::error::Error::io("move into place", target, e)),
        }
    }
    if exchange(staged, target).is_ok() {
        return Ok(true);
    }
    // No atomic exchange on this filesystem: move the old one aside first. A run starting in
    // between finds no environment and waits for the lock this builder holds.
    let aside = staged.with_extension("old");
    std::fs::rename(target, &aside).ctx("move aside", target)?;
    std::fs::rename(staged, target).ctx("move into place", target)?;
    std::fs::rename(&aside, staged).ctx("move aside", &aside)?;
    Ok(true)
}

/// Swap two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; the call reads them only.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Text files in `bin/` larger than this are not scripts; they are left alone.
const MAX_SCRIPT: u64 = 1 << 20;

/// Replace the staging path `from` by `to` in the venv's `bin/` scripts and `pyvenv.cfg`.
/// Files are replaced by rename, never written in place: an installer may have hard-linked a
/// file from its own cache.
pub fn relocate(from: &Path, to: &Path) -> Result<()> {
    let (old, new) = (from.as_os_str().as_encoded_bytes(), to.as_os_str().as_encoded_bytes());
    let bin = from.join("bin");
    let files = std::fs::read_dir(&bin).into_iter().flatten().flatten().map(|e| e.path());
    for file in files.chain([from.join("pyvenv.cfg")]) {
        let Ok(meta) = std::fs::symlink_metadata(&file) else { continue };
        if !meta.is_file() || meta.len() > MAX_SCRIPT {
            continue;
        }
        let bytes = std::fs::read(&file).ctx("read", &file)?;
        // Only text: a binary executable is not rewritten even if it holds the path.
        if std::str::from_utf8(&bytes).is_err() || !contains(&bytes, old) {
            continue;
        }
        let rewritten = replace(&bytes, old, new);
        crate::fsx::write_atomic(&file, &rewritten)?;
        std::fs::set_permissions(&file, meta.permissions()).ctx("set permissions of", &file)?;
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn replace(haystack: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(old) {
            out.extend_from_slice(new);
            i += old.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn relocate_rewrites_scripts_and_keeps_their_mode() {
        let t = tempfile::tempdir().unwrap();
        let from = t.path().join("tmp/abc.1.2");
        let to = t.path().join("envs/abc");
        std::fs::create_dir_all(from.join("bin")).unwrap();
        let script = from.join("bin/tool");
        std::fs::write(&script, format!("#!{}/bin/python\nimport x\n", from.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(from.join("bin/blob"), [0xff, 0xfe, 0x00]).unwrap();
        std::os::unix::fs::symlink("/usr/bin/python3", from.join("bin/python")).unwrap();
        relocate(&from, &to).unwrap();
        assert_eq!(std::fs::read_to_string(&script).unwrap(), format!("#!{}/bin/python\nimport x\n", to.display()));
        assert_eq!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(std::fs::read_link(from.join("bin/python")).unwrap(), Path::new("/usr/bin/python3"));
    }

    #[test]
    fn publish_swaps_out_what_is_there_and_drop_cleans_up() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let target = cache.env_dir("k");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("old"), "").unwrap();
        let s = Staging::new(&cache, "k").unwrap();
        std::fs::create_dir_all(&s.dir).unwrap();
        std::fs::write(s.dir.join("new"), "").unwrap();
        s.publish(&target).unwrap();
        assert!(target.join("new").exists() && !target.join("old").exists());
        assert!(leftovers(&cache).is_empty());

        let s = Staging::new(&cache, "k").unwrap();
        std::fs::create_dir_all(&s.dir).unwrap();
        let dir = s.dir.clone();
        drop(s);
        assert!(!dir.exists(), "an attempt that does not publish leaves nothing");
    }

    #[test]
    fn attempt_folders_name_their_lock_even_with_dots() {
        assert_eq!(attempt_of("3fd6a4.12.1700000000"), Some("3fd6a4"));
        assert_eq!(attempt_of("seed-pip-24.0-cpython3.12-abc.12.1700000000"), Some("seed-pip-24.0-cpython3.12-abc"));
        assert_eq!(attempt_of("3fd6a4.12.old"), Some("3fd6a4"));
        assert_eq!(attempt_of("stray"), Some("stray"));
        assert_eq!(attempt_of(".hidden"), None);
    }

    #[test]
    fn a_new_attempt_removes_leftovers_of_its_own_name_only() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        std::fs::create_dir_all(cache.tmp_dir().join("k.1.1/bin")).unwrap();
        std::fs::create_dir_all(cache.tmp_dir().join("other.1.1")).unwrap();
        let _s = Staging::new(&cache, "k").unwrap();
        let left: Vec<String> = leftovers(&cache).into_iter().map(|(_, n)| n).collect();
        assert_eq!(left, vec!["other".to_string()]);
    }
}
