//! What the cache holds, for `cove list`, `cove gc` and `cove doctor`.
//!
//! A scan reads, per environment, the ready marker, `cove-env.json` and the usage stamp; the
//! lock only for folders that are not ready; and each distinct base interpreter once. Sizes come
//! from `cove-env.json` (measured at build time) unless asked to measure, so listing 10,000
//! environments stays well under a second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cache::usage::{self, ProjectRecord};
use crate::cache::{Bucket, Cache, Entry, EnvInfo, Kind, LayerInfo, State};
use crate::error::{IoContext, Result};

/// Why an environment cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// No ready marker and nobody building it: a killed build.
    Unfinished,
    /// Its base interpreter is no longer there.
    InterpreterGone,
    /// Its base interpreter now reports another version (upgraded in place).
    InterpreterChanged,
}

impl Broken {
    pub fn describe(self) -> &'static str {
        match self {
            Broken::Unfinished => "unfinished build",
            Broken::InterpreterGone => "its interpreter is gone",
            Broken::InterpreterChanged => "its interpreter was replaced by another version",
        }
    }
}

/// An environment in the cache.
#[derive(Debug, Clone)]
pub struct Env {
    pub entry: Entry,
    /// `Ready`, `Building` or `Broken`.
    pub state: State,
    pub broken: Option<Broken>,
    pub info: EnvInfo,
    /// The usage stamp's time; `None` when never used.
    pub last_used: Option<SystemTime>,
    /// The projects whose current key this is.
    pub projects: Vec<ProjectRecord>,
    /// Project layers over this environment (SPEC §2 "The project itself").
    pub layers: Vec<Layer>,
}

/// A project's editable layer over an environment (`layers/<key>/`, see `layer.rs`).
#[derive(Debug, Clone)]
pub struct Layer {
    pub entry: Entry,
    /// The environment it sits on.
    pub env: String,
    pub project: PathBuf,
    pub ready: bool,
}

impl Layer {
    pub fn project_gone(&self) -> bool {
        !self.project.is_dir()
    }
}

/// Every layer in the cache. One without its info file (a build killed early) belongs to no
/// environment: `env` is empty.
pub fn layers(cache: &Cache) -> Vec<Layer> {
    let layers = cache.entries(Kind::Layer).unwrap_or_default().into_iter();
    layers
        .map(|entry| {
            let info = entry.info::<LayerInfo>();
            Layer {
                ready: entry.has_marker(),
                env: info.as_ref().map(|i| i.env.clone()).unwrap_or_default(),
                project: info.map(|i| i.project.into()).unwrap_or_default(),
                entry,
            }
        })
        .collect()
}

impl Env {
    /// The last sign of life: use, else the build's end, else the folder's change.
    pub fn last_activity(&self) -> SystemTime {
        let dir = self.entry.dir();
        self.last_used
            .or_else(|| std::fs::metadata(dir.join(crate::cache::READY)).and_then(|m| m.modified()).ok())
            .or_else(|| std::fs::metadata(dir).and_then(|m| m.modified()).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// Its size in a listing (see [`crate::fsx::Counted`]): the one recorded at build time
    /// when it has no hard-linked file, which no other folder can share then; else measured
    /// now, without the files `counted` already.
    pub fn size(&self, counted: &mut crate::fsx::Counted) -> u64 {
        self.info.size.filter(|_| self.info.linked == Some(0)).unwrap_or_else(|| self.measure(counted))
    }

    /// Its size on disk now, without the files `counted` already.
    pub fn measure(&self, counted: &mut crate::fsx::Counted) -> u64 {
        crate::fsx::disk_usage_counted(self.entry.dir(), counted)
    }
}

/// Every environment folder in the cache, most recently used first.
pub fn scan(cache: &Cache) -> Result<Vec<Env>> {
    let entries = cache.entries(Kind::Env)?;
    let mut projects = usage::projects_by_key(cache);
    let mut by_env: HashMap<String, Vec<Layer>> = HashMap::new();
    for l in layers(cache) {
        by_env.entry(l.env.clone()).or_default().push(l);
    }
    let mut interpreters: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut out: Vec<Env> = entries
        .into_iter()
        .map(|entry| {
            let info: EnvInfo = entry.info().unwrap_or_default();
            let (state, broken) = if entry.has_marker() {
                let broken = interpreter_problem(cache, &info, &mut interpreters);
                (if broken.is_some() { State::Broken } else { State::Ready }, broken)
            } else if crate::cache::filelock::is_held(&entry.lock()) {
                (State::Building, None)
            } else {
                (State::Broken, Some(Broken::Unfinished))
            };
            Env {
                projects: projects.remove(entry.key()).unwrap_or_default(),
                layers: by_env.remove(entry.key()).unwrap_or_default(),
                last_used: usage::last_used(entry.dir()),
                entry,
                state,
                broken,
                info,
            }
        })
        .collect();
    out.sort_by(|a, b| b.last_used.cmp(&a.last_used).then_with(|| a.entry.key().cmp(b.entry.key())));
    Ok(out)
}

/// Whether the base interpreter recorded in `info` is still there in the same version. Each
/// distinct interpreter is looked at once (its facts are cached by file identity, so this starts
/// Python only for one that changed since last seen).
fn interpreter_problem(cache: &Cache, info: &EnvInfo, seen: &mut HashMap<PathBuf, Option<String>>) -> Option<Broken> {
    let python = PathBuf::from(info.python.as_ref()?);
    let now = seen.entry(python.clone()).or_insert_with(|| {
        crate::plan::interpreter::inspect(&cache.root, &python).ok().map(|i| i.facts.python_full_version)
    });
    match (now, &info.python_version) {
        (None, _) => Some(Broken::InterpreterGone),
        (Some(v), Some(built)) if v != built => Some(Broken::InterpreterChanged),
        _ => None,
    }
}

/// What is left in `trash/` by removals cut short: (path, size).
pub fn trash(cache: &Cache) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(Bucket::TRASH.under(&cache.root))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            let size = crate::fsx::disk_usage(&p);
            (p, size)
        })
        .collect()
}

/// Delete a leftover in `trash/` (a folder or a file).
pub fn remove_trash(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        crate::fsx::remove_tree(path)
    } else {
        std::fs::remove_file(path).ctx("remove", path)
    }
}
