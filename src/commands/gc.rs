//! `cove gc [--older-than DUR] [--max-size SIZE] [--dry-run]`: free the cache (SPEC §7).
//!
//! In order: what an interrupted gc left in `trash/`; attempts in `tmp/` whose build was
//! killed (see `staging`); unfinished builds and environments whose
//! interpreter is gone or was replaced; environments unused for longer than DUR (default 30d,
//! config `gc.older-than`); then the least recently used until the cache fits SIZE (config
//! `gc.max-size`; no cap by default). An environment whose lock is held is being built: it is
//! skipped and reported, never removed. So is one a running process uses, or one of its layers
//! (`usage::in_use`: their `VIRTUAL_ENV`, arguments, executable, working folder, mapped files):
//! removing it would pull files from under a program that may still import them. Removing one a
//! project still uses when nothing runs it is fine (the next use rebuilds it) and is reported
//! as such.
//!
//! pip seeds (`seeds/`, see `backend::seed`) are kept while their interpreter would still use
//! them: about 10 MB each, one per interpreter, and they save every pip-backend build seconds.
//! A seed goes when its interpreter is gone, was upgraded, or now bundles another pip; never
//! while its lock is held (being made, or linked into a build).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::cache::inventory::{self, Broken, Env};
use crate::cache::{Bucket, Cache, Entry, Kind, State};
use crate::error::{Error, Result};
use crate::settings::{Settings, parse_duration, parse_size};
use crate::ui::units::{format_duration, format_size};

const DEFAULT_OLDER_THAN: u64 = 30 * 86400;

/// Why an environment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Broken(Broken),
    Unused { age: Duration },
    OverSize { cap: u64 },
}

impl Reason {
    fn describe(self) -> String {
        match self {
            Reason::Broken(b) => b.describe().to_string(),
            Reason::Unused { age } => format!("unused for {}", format_duration(age)),
            Reason::OverSize { cap } => format!("least recently used; the cache is over {}", format_size(cap)),
        }
    }
}

/// What the selection needs to know of an environment.
#[derive(Debug, Clone)]
struct Candidate {
    state: State,
    /// A running process uses it or one of its layers (see `usage::in_use`).
    in_use: bool,
    broken: Option<Broken>,
    last_activity: SystemTime,
    size: u64,
}

/// The environments to remove outright, in order, and the rest that may go (least recently
/// used first) while the cache is over the cap. Ones being built or in use are in neither.
fn select(c: &[Candidate], now: SystemTime, older_than: Duration) -> (Vec<(usize, Reason)>, Vec<usize>) {
    let mut doomed = Vec::new();
    let mut rest = Vec::new();
    for (i, e) in c.iter().enumerate() {
        let age = now.duration_since(e.last_activity).unwrap_or(Duration::ZERO);
        match (e.state, e.broken) {
            (State::Building, _) => {}
            _ if e.in_use => {}
            (_, Some(b)) => doomed.push((i, Reason::Broken(b))),
            _ if age > older_than => doomed.push((i, Reason::Unused { age })),
            _ => rest.push(i),
        }
    }
    rest.sort_by_key(|&i| c[i].last_activity);
    (doomed, rest)
}

/// An entry to remove, and why (as reported; an environment's reason too).
struct Doomed {
    entry: Entry,
    size: u64,
    why: String,
    reason: Option<Reason>,
}

pub fn run(settings: &Settings, older_than: Option<String>, max_size: Option<String>, dry_run: bool) -> Result<()> {
    let older_than = match older_than {
        Some(v) => parse_duration(&v).ok_or(Error::BadDuration { value: v })?,
        None => settings.gc_older_than.unwrap_or(DEFAULT_OLDER_THAN),
    };
    let cap = match max_size {
        Some(v) => Some(parse_size(&v).ok_or(Error::BadSize { value: v })?),
        None => settings.gc_max_size,
    };
    let cache = Cache::new(&settings.cache_dir);
    let envs = inventory::scan(&cache)?;
    let in_use = crate::cache::usage::in_use(&cache);
    let mut gc = Gc { cache: &cache, dry_run, in_use, text: String::new(), freed: 0, removed: 0, total: 0 };

    for (path, size) in inventory::trash(&cache) {
        // Best effort: another gc may be removing it too.
        if !dry_run && inventory::remove_trash(&path).is_err() && path.exists() {
            continue;
        }
        gc.freed += size;
        gc.line("", size, &format!("{} (left by an interrupted gc)", path.display()));
    }
    for (path, name) in crate::cache::staging::leftovers(&cache) {
        let size = crate::fsx::disk_usage(&path);
        let short = &name[..name.len().min(18)];
        // The attempt's lock is held while it builds: never remove one in progress.
        let lock = cache.lock_path(&name);
        let free = if dry_run {
            !crate::cache::filelock::is_held(&lock)
        } else {
            // Removed under the lock: the guard lives until the removal is done.
            crate::cache::filelock::try_exclusive(&lock)?.is_some_and(|_guard| crate::fsx::remove_tree(&path).is_ok())
        };
        if free {
            gc.freed += size;
            gc.line("", size, &format!("{short}… unfinished build"));
        } else {
            gc.text.push_str(&format!("skipped {short}… {:>6}  being built (its lock is held)\n", format_size(size)));
        }
    }

    // Each kind's reasons are asked once the kind before is done: a layer goes with its
    // environment in one run.
    for kind in Kind::ALL {
        let doomed = match kind {
            Kind::Env => gc.envs(&envs, Duration::from_secs(older_than), cap),
            Kind::Layer => gc.layers(),
            Kind::Seed => seeds(&cache),
        };
        for d in doomed {
            gc.remove(d)?;
        }
    }

    if !dry_run {
        tidy(&cache, Duration::from_secs(older_than));
    }
    let left = envs.len() - gc.removed;
    let (verb, now) = if dry_run { ("would free", "would be") } else { ("freed", "is now") };
    let total = gc.total;
    if gc.freed == 0 && gc.removed == 0 {
        gc.text.push_str(&format!(
            "nothing to remove; the cache holds {left} environment{} ({})\n",
            plural(left),
            format_size(total)
        ));
    } else {
        gc.text.push_str(&format!(
            "{verb} {} ({} environment{}); the cache {now} {} in {left} environment{}\n",
            format_size(gc.freed),
            gc.removed,
            plural(gc.removed),
            format_size(total),
            plural(left)
        ));
    }
    crate::ui::out(&gc.text);
    Ok(())
}

struct Gc<'a> {
    cache: &'a Cache,
    dry_run: bool,
    /// Which entries' folders running processes use (see `usage::in_use`).
    in_use: HashMap<PathBuf, Vec<u32>>,
    text: String,
    freed: u64,
    /// Environments removed, and the size of those left.
    removed: usize,
    total: u64,
}

impl Gc<'_> {
    fn line(&mut self, key: &str, size: u64, why: &str) {
        let verb = if self.dry_run { "would remove" } else { "removed" };
        let key = &key[..key.len().min(12)];
        let key = if key.is_empty() { String::new() } else { format!("{key} ") };
        self.text.push_str(&format!("{verb} {key}{:>6}  {why}\n", format_size(size)));
    }

    /// Kept: running processes `pids` use it.
    fn kept(&mut self, key: &str, size: u64, pids: &[u32]) {
        let key = &key[..key.len().min(12)];
        let list: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
        let s = if pids.len() == 1 { "" } else { "s" };
        self.text.push_str(&format!("kept {key} {:>6}  in use by pid{s} {}\n", format_size(size), list.join(", ")));
    }

    fn skipped(&mut self, key: &str, size: u64) {
        let key = &key[..key.len().min(12)];
        self.text.push_str(&format!("skipped {key} {:>6}  being built (its lock is held)\n", format_size(size)));
    }

    /// The environments to remove: broken, unused for `older_than`, then the least recently
    /// used while over `cap`. Those being built or in use are reported, and kept.
    fn envs(&mut self, envs: &[Env], older_than: Duration, cap: Option<u64>) -> Vec<Doomed> {
        // An environment's users and its layers'.
        let users = |e: &Env| -> Vec<u32> {
            let dirs = std::iter::once(&e.entry).chain(e.layers.iter().map(|l| &l.entry));
            let mut pids: Vec<u32> = dirs.filter_map(|d| self.in_use.get(d.dir())).flatten().copied().collect();
            pids.sort_unstable();
            pids.dedup();
            pids
        };
        let users: Vec<Vec<u32>> = envs.iter().map(users).collect();
        // Sizes on disk, a file hard-linked into several environments counted once: in the most
        // recently used of them (the scan's order), which the cap removes last, so that removing
        // the others frees what they are credited with.
        let mut counted = crate::fsx::Counted::default();
        let candidates: Vec<Candidate> = envs
            .iter()
            .zip(&users)
            .map(|(e, users)| Candidate {
                state: e.state,
                in_use: !users.is_empty(),
                broken: e.broken,
                last_activity: e.last_activity(),
                size: e.measure(&mut counted),
            })
            .collect();
        self.total = candidates.iter().map(|c| c.size).sum();
        for ((e, c), users) in envs.iter().zip(&candidates).zip(&users) {
            if e.state == State::Building {
                self.skipped(e.entry.key(), c.size);
            } else if c.in_use {
                self.kept(e.entry.key(), c.size, users);
            }
        }
        let (doomed, rest) = select(&candidates, SystemTime::now(), older_than);
        let over = cap.map(|cap| rest.into_iter().map(move |i| (i, Reason::OverSize { cap })));
        let doomed = doomed.into_iter().chain(over.into_iter().flatten());
        doomed
            .map(|(i, reason)| {
                let mut why = reason.describe();
                let users: Vec<String> =
                    envs[i].projects.iter().filter(|p| !p.is_gone()).map(|p| p.folder.display().to_string()).collect();
                if !users.is_empty() {
                    why.push_str(&format!("; still used by {} (rebuilt on next use)", users.join(", ")));
                }
                Doomed { entry: envs[i].entry.clone(), size: candidates[i].size, why, reason: Some(reason) }
            })
            .collect()
    }

    /// The layers to remove: unfinished, or their environment or project folder gone. Those
    /// being built are left alone; those in use are reported, and kept.
    fn layers(&mut self) -> Vec<Doomed> {
        let mut doomed = Vec::new();
        for layer in inventory::layers(self.cache) {
            let why = if layer.env.is_empty() || !layer.ready {
                "unfinished build"
            } else if !self.cache.entry(Kind::Env, &layer.env).has_marker() {
                "its environment is gone"
            } else if layer.project_gone() {
                "its project folder is gone"
            } else {
                continue;
            };
            if !layer.ready && crate::cache::filelock::is_held(&layer.entry.lock()) {
                continue;
            }
            let size = crate::fsx::disk_usage(layer.entry.dir());
            if let Some(pids) = self.in_use.get(layer.entry.dir()).cloned() {
                self.kept(layer.entry.key(), size, &pids);
                continue;
            }
            let why = format!("layer of {} ({why})", layer.project.display());
            doomed.push(Doomed { entry: layer.entry, size, why, reason: None });
        }
        doomed
    }

    /// Remove (or, dry, check) one entry; an environment whose lock is held is reported as
    /// being built.
    fn remove(&mut self, d: Doomed) -> Result<()> {
        if let Some(Reason::OverSize { cap }) = d.reason
            && self.total <= cap
        {
            return Ok(());
        }
        // An unfinished build that a build finished since stays.
        let unless_ready = d.reason == Some(Reason::Broken(Broken::Unfinished));
        let gone = if self.dry_run {
            !crate::cache::filelock::is_held(&d.entry.lock())
        } else {
            d.entry.remove(unless_ready)?
        };
        let env = d.entry.kind() == Kind::Env;
        if !gone {
            if env {
                self.skipped(d.entry.key(), d.size);
            }
            return Ok(());
        }
        if env {
            self.removed += 1;
            self.total -= d.size;
        }
        self.freed += d.size;
        // A seed's name says what it is: its line names no key.
        let key = if d.entry.kind() == Kind::Seed { "" } else { d.entry.key() };
        self.line(key, d.size, &d.why);
        Ok(())
    }
}

/// The pip seeds to remove: those their interpreter would no longer use.
fn seeds(cache: &Cache) -> Vec<Doomed> {
    let seeds = cache.entries(Kind::Seed).unwrap_or_default().into_iter();
    seeds
        .filter_map(|entry| {
            let why = format!("{} ({})", entry.key(), crate::build::backend::seed::stale(cache, &entry)?);
            Some(Doomed { size: crate::fsx::disk_usage(entry.dir()), entry, why, reason: None })
        })
        .collect()
}

/// Forget projects whose folder is gone, and drop lock files and logs no entry owns. Best effort.
fn tidy(cache: &Cache, older_than: Duration) {
    for p in crate::cache::usage::projects(cache) {
        if p.is_gone() {
            let _ = std::fs::remove_file(&p.record);
        }
    }
    // Remembered plans and lock pins are made again when missing: those not rewritten for as
    // long as an unused environment is kept go (a memo in use is rewritten when it changes).
    let now = SystemTime::now();
    for dir in [Bucket::PLANS, Bucket::LOCK_PINS].map(|b| b.under(&cache.root)) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(now);
            if now.duration_since(modified).unwrap_or_default() > older_than {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    for dir in [Bucket::LOCKS, Bucket::LOGS].map(|b| b.under(&cache.root)) {
        for file in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = file.file_name();
            let name = name.to_string_lossy();
            let Some(name) = name.strip_suffix(".lock").or_else(|| name.strip_suffix(".log")) else { continue };
            let owner = cache.entry_named(name);
            if owner.dir().exists() {
                continue;
            }
            if let Ok(Some(guard)) = crate::cache::filelock::try_exclusive(&owner.lock())
                && !owner.dir().exists()
            {
                let _ = std::fs::remove_file(owner.log());
                guard.remove_file();
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(state: State, broken: Option<Broken>, days_ago: u64, size: u64) -> Candidate {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000 * 86400);
        Candidate { state, in_use: false, broken, last_activity: now - Duration::from_secs(days_ago * 86400), size }
    }

    #[test]
    fn broken_and_old_go_first_then_least_recently_used() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000 * 86400);
        let list = [
            c(State::Ready, None, 1, 10),
            c(State::Broken, Some(Broken::Unfinished), 0, 10),
            c(State::Ready, None, 40, 10),
            c(State::Building, None, 400, 10),
            c(State::Ready, None, 5, 10),
            c(State::Ready, None, 3, 10),
        ];
        let (doomed, rest) = select(&list, now, Duration::from_secs(30 * 86400));
        assert_eq!(
            doomed,
            vec![(1, Reason::Broken(Broken::Unfinished)), (2, Reason::Unused { age: Duration::from_secs(40 * 86400) })]
        );
        assert_eq!(rest, vec![4, 5, 0], "least recently used first; the one being built is never picked");

        let mut used = c(State::Ready, None, 400, 10);
        used.in_use = true;
        let mut broken_used = c(State::Broken, Some(Broken::InterpreterGone), 400, 10);
        broken_used.in_use = true;
        let (doomed, rest) = select(&[used, broken_used], now, Duration::from_secs(30 * 86400));
        assert!(doomed.is_empty() && rest.is_empty(), "one in use is never picked");
    }
}
