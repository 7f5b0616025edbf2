//! What a plan is made from: every path looked at (stat'ed, read or listed) and every
//! environment variable consulted while [`record`] runs, so that [`crate::plan::memo`] can later tell
//! with stats alone whether the same plan would be made again.
//!
//! The functions here are the `std` calls they are named after; inside [`record`] they also
//! note what they saw. Code that decides a plan (manifest loading, interpreter finding, lock
//! reading) must look at the world only through them, or a memo could outlive a change.

use std::cell::RefCell;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::stamp::Stamp;

/// Everything one [`record`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// Paths stat'ed with links followed, and what was there (`None`: nothing).
    pub paths: Vec<(PathBuf, Option<Stamp>)>,
    /// Environment variables read, and their values (`None`: unset).
    pub vars: Vec<(String, Option<String>)>,
    /// The current folder, if it was asked for.
    pub cwd: Option<PathBuf>,
}

impl Inputs {
    /// Whether every path, variable and the current folder are as they were seen.
    pub fn unchanged(&self) -> bool {
        self.cwd.as_ref().is_none_or(|cwd| std::env::current_dir().is_ok_and(|now| now == *cwd))
            && self.vars.iter().all(|(name, value)| var_text(std::env::var_os(name)) == *value)
            && self.paths.iter().all(|(path, stamp)| Stamp::at(path) == *stamp)
    }

    /// Whether every file seen was last changed before `cutoff_ns`: a file changed within the
    /// same clock tick as it was read could change again without its times moving (file times
    /// have the kernel tick's granularity), so what was just written is not remembered yet.
    pub fn settled_before(&self, cutoff_ns: u64) -> bool {
        self.paths.iter().all(|(_, s)| s.is_none_or(|s| s.changed_ns() < cutoff_ns))
    }
}

thread_local! {
    static SEEN: RefCell<Option<Inputs>> = const { RefCell::new(None) };
}

/// Run `f`, noting what it looks at through this module.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Inputs) {
    let outer = SEEN.with(|s| s.borrow_mut().replace(Inputs::default()));
    let value = f();
    let seen = SEEN.with(|s| std::mem::replace(&mut *s.borrow_mut(), outer)).unwrap_or_default();
    (value, seen)
}

fn note(f: impl FnOnce(&mut Inputs)) {
    SEEN.with(|s| {
        if let Some(inputs) = s.borrow_mut().as_mut() {
            f(inputs);
        }
    });
}

fn var_text(v: Option<OsString>) -> Option<String> {
    v.map(|v| v.to_string_lossy().into_owned())
}

/// `std::fs::metadata`, noted.
pub fn metadata(path: &Path) -> io::Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path);
    note(|i| {
        let stamp = meta.as_ref().ok().map(Stamp::of);
        if !i.paths.iter().any(|(p, s)| p == path && *s == stamp) {
            i.paths.push((path.to_path_buf(), stamp));
        }
    });
    meta
}

pub fn is_file(path: &Path) -> bool {
    metadata(path).is_ok_and(|m| m.is_file())
}

pub fn is_dir(path: &Path) -> bool {
    metadata(path).is_ok_and(|m| m.is_dir())
}

pub fn exists(path: &Path) -> bool {
    metadata(path).is_ok()
}

/// `std::fs::read_dir`, noted as the folder's stamp (adding or removing an entry changes it).
pub fn read_dir(path: &Path) -> io::Result<std::fs::ReadDir> {
    metadata(path)?;
    std::fs::read_dir(path)
}

/// `std::fs::read_to_string`, noted.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    metadata(path)?;
    std::fs::read_to_string(path)
}

/// `std::fs::canonicalize`, noted as the stamp of the file reached: a link pointed elsewhere
/// reaches another inode.
pub fn canonicalize(path: &Path) -> io::Result<PathBuf> {
    metadata(path)?;
    std::fs::canonicalize(path)
}

/// `std::env::var_os`, noted.
pub fn var_os(name: &str) -> Option<OsString> {
    let value = std::env::var_os(name);
    note(|i| {
        if !i.vars.iter().any(|(n, _)| n == name) {
            i.vars.push((name.to_string(), var_text(value.clone())));
        }
    });
    value
}

/// `std::env::current_dir`, noted.
pub fn current_dir() -> io::Result<PathBuf> {
    let cwd = std::env::current_dir();
    if let Ok(dir) = &cwd {
        note(|i| i.cwd = Some(dir.clone()));
    }
    cwd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_looked_at_is_noted_and_a_change_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "one").unwrap();
        let absent = dir.path().join("absent");
        let ((), seen) = record(|| {
            assert!(is_file(&file));
            assert!(!exists(&absent));
            let _ = var_os("COVE_INPUTS_TEST_UNSET");
        });
        assert_eq!(seen.paths.len(), 2);
        assert_eq!(seen.paths[1], (absent.clone(), None));
        assert_eq!(seen.vars, vec![("COVE_INPUTS_TEST_UNSET".to_string(), None)]);
        assert!(seen.unchanged());
        // Outside `record`, nothing is noted.
        let ((), nested) = record(|| ());
        assert!(nested.paths.is_empty());

        std::fs::write(&absent, "now here").unwrap();
        assert!(!seen.unchanged(), "a file that appeared is a change");
        std::fs::remove_file(&absent).unwrap();
        assert!(seen.unchanged());
        std::fs::write(&file, "three").unwrap();
        assert!(!seen.unchanged(), "a rewrite is a change");
    }

    #[test]
    fn files_changed_just_now_are_not_settled() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "one").unwrap();
        let ((), seen) = record(|| assert!(is_file(&file)));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        assert!(!seen.settled_before(now - 2_000_000_000));
        assert!(seen.settled_before(now + 2_000_000_000));
    }
}
