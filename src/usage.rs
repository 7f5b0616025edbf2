//! Usage records: when each environment was last used, and which projects use which key. They
//! let `cove list` show last use and projects, and `cove gc` pick what to remove.
//!
//! - `envs/<key>/.cove-used`: its mtime is the last use. Every run stats it and touches it only
//!   when it is over an hour old, so the warm path pays one stat and at most one write an hour.
//! - `projects/<sha of the project folder>`: `<key>\n<folder>\n`, the key the project last
//!   used. Read on each use (one small file), written only when the project's key changes.
//!   A PEP 723 script is recorded under its own path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::cache::Cache;

/// The stamp file in an environment; its mtime is the last use.
pub const USED: &str = ".cove-used";

/// How stale the stamp may get before a run refreshes it.
const STAMP_EVERY: Duration = Duration::from_secs(3600);

/// Record a use of the environment at `env`. Best effort: a read-only cache only loses the date.
pub fn touch(env: &Path) {
    let stamp = env.join(USED);
    let fresh = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|age| age < STAMP_EVERY));
    if fresh {
        return;
    }
    if let Ok(f) = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&stamp) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// When the environment at `env` was last used, if ever.
pub fn last_used(env: &Path) -> Option<SystemTime> {
    std::fs::metadata(env.join(USED)).and_then(|m| m.modified()).ok()
}

fn record_path(cache: &Cache, user: &Path) -> PathBuf {
    let digest = Sha256::digest(user.as_os_str().as_encoded_bytes());
    cache.projects_dir().join(crate::manifest::hex(&digest[..16]))
}

/// Remember that the project (or script) `user` now uses `key`; writes only on a change.
pub fn record_project(cache: &Cache, user: &Path, key: &str) {
    let path = record_path(cache, user);
    let text = format!("{key}\n{}\n", user.display());
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return;
    }
    // Not flushed: a record a power loss empties is skipped when read, and rewritten next use.
    let _ = crate::fsx::write_atomic_unsynced(&path, text.as_bytes());
}

/// The key the project (or script) `user` last used, if recorded.
pub fn last_key(cache: &Cache, user: &Path) -> Option<String> {
    let text = std::fs::read_to_string(record_path(cache, user)).ok()?;
    let (key, folder) = text.split_once('\n')?;
    let ours = folder.strip_suffix('\n') == Some(user.display().to_string().as_str());
    (ours && !key.is_empty() && key.bytes().all(|b| b.is_ascii_hexdigit())).then(|| key.to_string())
}

/// One project's record.
#[derive(Debug, Clone)]
pub struct ProjectRecord {
    pub folder: PathBuf,
    pub key: String,
    /// The record file itself.
    pub record: PathBuf,
}

impl ProjectRecord {
    /// The project folder (or script) is gone.
    pub fn is_gone(&self) -> bool {
        std::fs::symlink_metadata(&self.folder).is_err()
    }
}

/// Every project record in the cache.
pub fn projects(cache: &Cache) -> Vec<ProjectRecord> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(cache.projects_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let Some((key, folder)) = text.split_once('\n') else { continue };
        let folder = folder.strip_suffix('\n').unwrap_or(folder);
        out.push(ProjectRecord { folder: folder.into(), key: key.to_string(), record: entry.path() });
    }
    out.sort_by(|a, b| a.folder.cmp(&b.folder));
    out
}

/// Project records grouped by key.
pub fn projects_by_key(cache: &Cache) -> HashMap<String, Vec<ProjectRecord>> {
    let mut map: HashMap<String, Vec<ProjectRecord>> = HashMap::new();
    for p in projects(cache) {
        map.entry(p.key.clone()).or_default().push(p);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_refreshed_only_when_an_hour_old() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(last_used(t.path()), None);
        touch(t.path());
        let first = last_used(t.path()).unwrap();
        let stamp = std::fs::File::options().write(true).open(t.path().join(USED)).unwrap();
        let recent = SystemTime::now() - Duration::from_secs(600);
        stamp.set_modified(recent).unwrap();
        touch(t.path());
        assert_eq!(last_used(t.path()), Some(recent), "a 10-minute-old stamp is left alone");
        stamp.set_modified(SystemTime::now() - Duration::from_secs(7200)).unwrap();
        touch(t.path());
        assert!(last_used(t.path()).unwrap() >= first, "a 2-hour-old stamp is refreshed");
    }

    #[test]
    fn project_records_follow_key_changes() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let a = t.path().join("proj a");
        record_project(&cache, &a, "k1");
        record_project(&cache, &a, "k2");
        record_project(&cache, &t.path().join("b"), "k2");
        let by_key = projects_by_key(&cache);
        assert!(!by_key.contains_key("k1"));
        let users: Vec<_> = by_key["k2"].iter().map(|p| p.folder.clone()).collect();
        assert_eq!(users, vec![t.path().join("b"), a], "sorted by folder");
        assert!(by_key["k2"].iter().all(ProjectRecord::is_gone));
    }
}
