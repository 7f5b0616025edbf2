//! Usage records: when each environment was last used, and which projects use which key. They
//! let `cove list` show last use and projects, and `cove gc` pick what to remove.
//!
//! - `envs/<key>/.cove-used`: its mtime is the last use. Every run stats it and touches it only
//!   when it is over an hour old, so the warm path pays one stat and at most one write an hour.
//! - `projects/<sha of the project folder>`: `<key>\npython: <interpreter>\n<folder>\n`, the
//!   key the project last used and the base interpreter it was built on (older records have no
//!   `python:` line). Read on each use (one small file), written only when either changes. A
//!   PEP 723 script is recorded under its own path. The interpreter keeps a project's choice the
//!   same from every context when its pin does not decide (SPEC §2; see `interpreter::choose`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::cache::{Bucket, Cache, Kind};

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
    Bucket::PROJECTS.under(&cache.root).join(crate::digest::hex(&digest[..16]))
}

const PYTHON_LINE: &str = "python: ";

/// Remember that the project (or script) `user` now uses `key`, built on `python`; writes only
/// on a change.
pub fn record_project(cache: &Cache, user: &Path, key: &str, python: &Path) {
    let path = record_path(cache, user);
    let text = format!("{key}\n{PYTHON_LINE}{}\n{}\n", python.display(), user.display());
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return;
    }
    // Not flushed: a record a power loss empties is skipped when read, and rewritten next use.
    let _ = crate::fsx::write_atomic_unsynced(&path, text.as_bytes());
}

/// The base interpreter the project (or script) `user` was last built on, as its record says.
/// Read through `inputs`, so a plan remembered with it is made again when the record changes.
pub fn recorded_python(cache_dir: &Path, user: &Path) -> Option<PathBuf> {
    let text = crate::inputs::read_to_string(&record_path(&Cache::new(cache_dir), user)).ok()?;
    let line = text.lines().nth(1)?.strip_prefix(PYTHON_LINE)?;
    Some(PathBuf::from(line)).filter(|p| p.is_absolute())
}

/// The key the project (or script) `user` last used, if recorded.
pub fn last_key(cache: &Cache, user: &Path) -> Option<String> {
    let text = std::fs::read_to_string(record_path(cache, user)).ok()?;
    let (key, folder) = parse_record(&text)?;
    let ours = folder == user.display().to_string();
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

/// A project record's key and folder (its `python:` line, when there is one, skipped).
fn parse_record(text: &str) -> Option<(&str, &str)> {
    let (key, rest) = text.split_once('\n')?;
    let folder = rest.strip_prefix(PYTHON_LINE).and_then(|r| r.split_once('\n')).map_or(rest, |(_, folder)| folder);
    Some((key, folder.strip_suffix('\n').unwrap_or(folder)))
}

/// Every project record in the cache.
pub fn projects(cache: &Cache) -> Vec<ProjectRecord> {
    let entries = std::fs::read_dir(Bucket::PROJECTS.under(&cache.root)).into_iter().flatten().flatten();
    let records = entries.filter(|e| !e.file_name().to_string_lossy().starts_with('.')).filter_map(|entry| {
        let text = std::fs::read_to_string(entry.path()).ok()?;
        let (key, folder) = parse_record(&text)?;
        Some(ProjectRecord { folder: folder.into(), key: key.to_string(), record: entry.path() })
    });
    let mut out: Vec<ProjectRecord> = records.collect();
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

/// Which of the cache's environments and layers (`envs/<key>`, `layers/<key>`, as the cache
/// names them) running processes use, with their pids: for `cove gc`, which never removes
/// one in use (issue 16). Costs nothing on the warm path: a run records nothing, the kernel
/// already knows. A process uses a folder when, under it, is
///
/// - its `VIRTUAL_ENV` (every run through cove sets it),
/// - an argument it was started with (`envs/<key>/bin/python app.py`, a console script's `#!`),
/// - its executable, its working folder, or a file it maps (an extension module).
///
/// Processes whose details cannot be read (another user's) are skipped: only the user's own can
/// run the user's private cache. Linux only (`/proc`); elsewhere nothing is found.
pub fn in_use(cache: &Cache) -> HashMap<PathBuf, Vec<u32>> {
    let mut roots = Vec::new();
    for dir in [Kind::Env, Kind::Layer].map(|k| k.bucket().under(&cache.root)) {
        if let Ok(real) = std::fs::canonicalize(&dir)
            && real != dir
        {
            roots.push((real, dir.clone()));
        }
        roots.push((dir.clone(), dir));
    }
    let me = std::process::id();
    let mut found: HashMap<PathBuf, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let mut folders: Vec<PathBuf> = Vec::new();
        for path in process_paths(&entry.path()) {
            for (prefix, named) in &roots {
                if let Ok(rest) = path.strip_prefix(prefix)
                    && let Some(std::path::Component::Normal(first)) = rest.components().next()
                {
                    let folder = named.join(first);
                    if !folders.contains(&folder) {
                        folders.push(folder);
                    }
                }
            }
        }
        for folder in folders {
            found.entry(folder).or_default().push(pid);
        }
    }
    found
}

/// The paths `/proc/<pid>` (`proc`) tells of: `VIRTUAL_ENV`, the arguments, the executable, the
/// working folder and the mapped files.
fn process_paths(proc: &Path) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let read = |file: &str| std::fs::read(proc.join(file)).unwrap_or_default();
    let path = |bytes: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(bytes));
    let environ = read("environ");
    let mut paths: Vec<PathBuf> =
        environ.split(|&b| b == 0).filter_map(|var| var.strip_prefix(b"VIRTUAL_ENV=")).map(path).collect();
    paths.extend(read("cmdline").split(|&b| b == 0).filter(|a| a.starts_with(b"/")).map(path));
    for link in ["exe", "cwd"] {
        paths.extend(std::fs::read_link(proc.join(link)));
    }
    // `address perms offset dev inode path`: the path starts at the first `/`.
    let maps = read("maps");
    let mapped = maps.split(|&b| b == b'\n').filter_map(|line| Some(&line[line.iter().position(|&b| b == b'/')?..]));
    paths.extend(mapped.map(|p| path(p.strip_suffix(b" (deleted)").unwrap_or(p))));
    paths
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
    fn a_process_running_in_an_environment_is_found_using_it() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let env = cache.entry(Kind::Env, "k1").into_dir();
        std::fs::create_dir_all(env.join("bin")).unwrap();
        std::fs::create_dir_all(cache.entry(Kind::Env, "k2").into_dir()).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(env.join("bin"))
            .env("VIRTUAL_ENV", cache.entry(Kind::Layer, "l1").into_dir())
            .spawn()
            .unwrap();
        let own = std::fs::read_link("/proc/self").ok().and_then(|p| p.to_str()?.parse::<u32>().ok());
        let cwd = std::fs::read_link(format!("/proc/{}/cwd", child.id()));
        if own != Some(std::process::id()) || cwd.is_err() {
            let _ = child.kill();
            let _ = child.wait();
            println!("SKIPPED: /proc does not show this system's processes (/proc/self {own:?}, cwd {cwd:?})");
            return;
        }
        // /proc can show a process just started before all it is made of: asked again for a
        // while, until both ways of using an environment are seen (or the asserts say which not).
        let layer = cache.entry(Kind::Layer, "l1").into_dir();
        let pid = child.id();
        let uses = |found: &HashMap<PathBuf, Vec<u32>>, dir: &Path| found.get(dir).is_some_and(|p| p.contains(&pid));
        let mut found = in_use(&cache);
        for _ in 0..100 {
            if uses(&found, &env) && uses(&found, &layer) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            found = in_use(&cache);
        }
        let _ = child.kill();
        let _ = child.wait();
        let real = std::fs::canonicalize(env.join("bin")).unwrap();
        assert_eq!(cwd.unwrap(), real, "the kernel tells the working folder set");
        assert!(uses(&found, &env), "its working folder: {found:?}");
        assert!(uses(&found, &layer), "its VIRTUAL_ENV: {found:?}");
        assert!(!found.contains_key(&cache.entry(Kind::Env, "k2").into_dir()));
    }

    #[test]
    fn project_records_follow_key_changes() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let a = t.path().join("proj a");
        let py = Path::new("/usr/bin/python3");
        record_project(&cache, &a, "k1", py);
        record_project(&cache, &a, "k2", py);
        record_project(&cache, &t.path().join("b"), "k2", py);
        let by_key = projects_by_key(&cache);
        assert!(!by_key.contains_key("k1"));
        let users: Vec<_> = by_key["k2"].iter().map(|p| p.folder.clone()).collect();
        assert_eq!(users, vec![t.path().join("b"), a], "sorted by folder");
        assert!(by_key["k2"].iter().all(ProjectRecord::is_gone));
    }
}
