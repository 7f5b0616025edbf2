//! What the cache holds, for `cove list`, `cove gc` and `cove doctor`, and how an environment
//! leaves it.
//!
//! A scan reads, per environment, the ready marker, `cove-env.json` and the usage stamp; the
//! lock only for folders that are not ready; and each distinct base interpreter once. Sizes come
//! from `cove-env.json` (measured at build time) unless asked to measure, so listing 10,000
//! environments stays well under a second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::cache::{self, Cache, State};
use crate::error::{IoContext, Result};
use crate::usage::{self, ProjectRecord};

/// What `cove-env.json` says; every field optional so an old or damaged file still lists.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Info {
    pub python: Option<PathBuf>,
    pub python_version: Option<String>,
    pub requirements: Option<usize>,
    pub size: Option<u64>,
    /// The part of `size` in hard-linked files (none from an older cove).
    pub linked: Option<u64>,
    /// For a `cove run --with` overlay: its extra requirements, and the key it is over.
    pub with: Option<Vec<String>>,
    pub over: Option<String>,
    /// `built`, or `pulled from <remote>` (SPEC §8); none from an older cove.
    pub origin: Option<String>,
}

/// The `cove-env.json` of the environment at `env`, or an empty one.
pub fn read_info(env: &Path) -> Info {
    std::fs::read(env.join(cache::INFO)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

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

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub path: PathBuf,
    /// `Ready`, `Building` or `Broken`.
    pub state: State,
    pub broken: Option<Broken>,
    pub info: Info,
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
    pub key: String,
    pub path: PathBuf,
    /// The environment it sits on.
    pub env: String,
    pub project: PathBuf,
    pub ready: bool,
}

impl Layer {
    pub fn lock_path(&self, cache: &Cache) -> PathBuf {
        cache.root.join("locks").join(format!("layer-{}.lock", self.key))
    }

    pub fn project_gone(&self) -> bool {
        !self.project.is_dir()
    }
}

#[derive(Deserialize)]
struct LayerInfo {
    env: String,
    project: PathBuf,
}

/// Every layer in the cache. One without its info file (a build killed early) belongs to no
/// environment: `env` is empty.
pub fn layers(cache: &Cache) -> Vec<Layer> {
    folders::<LayerInfo>(&cache.root.join("layers"), crate::layer::INFO)
        .into_iter()
        .map(|f| Layer {
            key: f.name,
            ready: f.ready,
            env: f.info.as_ref().map(|i| i.env.clone()).unwrap_or_default(),
            project: f.info.map(|i| i.project).unwrap_or_default(),
            path: f.path,
        })
        .collect()
}

/// A folder of the cache that is built aside and published (a layer, a pip seed): its name, its
/// path, whether its ready marker is there, and its info file when that reads.
pub struct Folder<T> {
    pub name: String,
    pub path: PathBuf,
    pub ready: bool,
    pub info: Option<T>,
}

/// Every folder in `dir`, with its info file `info_name` read as `T`.
pub fn folders<T: serde::de::DeserializeOwned>(dir: &Path, info_name: &str) -> Vec<Folder<T>> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let path = e.path();
            let info = std::fs::read(path.join(info_name)).ok().and_then(|b| serde_json::from_slice(&b).ok());
            Folder {
                name: e.file_name().to_string_lossy().into_owned(),
                ready: path.join(cache::READY).exists(),
                info,
                path,
            }
        })
        .collect()
}

/// Remove a layer the way [`remove`] removes an environment; `Ok(false)` when it is being built.
pub fn remove_layer(cache: &Cache, layer: &Layer) -> Result<bool> {
    let Some(guard) = crate::lock::try_exclusive(&layer.lock_path(cache))? else {
        return Ok(false);
    };
    let trash = cache.trash_dir();
    crate::fsx::create_private_dir(&trash)?;
    let aside = trash.join(format!("layer-{}.{}", layer.key, std::process::id()));
    match std::fs::rename(&layer.path, &aside) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(crate::error::Error::io("move", &layer.path, e));
        }
        _ => {}
    }
    guard.remove_file();
    drop(guard);
    crate::fsx::remove_tree(&aside)?;
    Ok(true)
}

impl Entry {
    /// The last sign of life: use, else the build's end, else the folder's change.
    pub fn last_activity(&self) -> SystemTime {
        self.last_used
            .or_else(|| std::fs::metadata(self.path.join(cache::READY)).and_then(|m| m.modified()).ok())
            .or_else(|| std::fs::metadata(&self.path).and_then(|m| m.modified()).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }

    /// Its size in a listing (see [`crate::fsx::Counted`]): the one recorded at build time
    /// when it has no hard-linked file, which no other folder can share then; else measured
    /// now, without the files `counted` already.
    pub fn size(&self, counted: &mut crate::fsx::Counted) -> u64 {
        match (self.info.size, self.info.linked) {
            (Some(size), Some(0)) => size,
            _ => self.measure(counted),
        }
    }

    /// Its size on disk now, without the files `counted` already.
    pub fn measure(&self, counted: &mut crate::fsx::Counted) -> u64 {
        crate::fsx::disk_usage_counted(&self.path, counted)
    }
}

/// Every environment folder in the cache, most recently used first.
pub fn scan(cache: &Cache) -> Result<Vec<Entry>> {
    let dir = cache.envs_dir();
    let read = match std::fs::read_dir(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::error::Error::io("read", &dir, e)),
    };
    let mut projects = usage::projects_by_key(cache);
    let mut by_env: HashMap<String, Vec<Layer>> = HashMap::new();
    for l in layers(cache) {
        by_env.entry(l.env.clone()).or_default().push(l);
    }
    let mut interpreters: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.ctx("read", &dir)?;
        let name = entry.file_name();
        let key = name.to_string_lossy().into_owned();
        if key.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        let info: Info = std::fs::read(path.join(cache::INFO))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let (state, broken) = if path.join(cache::READY).exists() {
            match interpreter_problem(cache, &info, &mut interpreters) {
                None => (State::Ready, None),
                Some(b) => (State::Broken, Some(b)),
            }
        } else if crate::lock::is_held(&cache.lock_path(&key)) {
            (State::Building, None)
        } else {
            (State::Broken, Some(Broken::Unfinished))
        };
        out.push(Entry {
            projects: projects.remove(&key).unwrap_or_default(),
            layers: by_env.remove(&key).unwrap_or_default(),
            last_used: usage::last_used(&path),
            key,
            path,
            state,
            broken,
            info,
        });
    }
    out.sort_by(|a, b| b.last_used.cmp(&a.last_used).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}

/// Whether the base interpreter recorded in `info` is still there in the same version. Each
/// distinct interpreter is looked at once (its facts are cached by file identity, so this starts
/// Python only for one that changed since last seen).
fn interpreter_problem(cache: &Cache, info: &Info, seen: &mut HashMap<PathBuf, Option<String>>) -> Option<Broken> {
    let python = info.python.as_ref()?;
    let now = seen
        .entry(python.clone())
        .or_insert_with(|| crate::interpreter::inspect(&cache.root, python).ok().map(|i| i.facts.python_full_version));
    match (now, &info.python_version) {
        (None, _) => Some(Broken::InterpreterGone),
        (Some(v), Some(built)) if v != built => Some(Broken::InterpreterChanged),
        _ => None,
    }
}

/// Remove the environment `key`: under its lock, rename its folder into `trash/` (so no crash
/// leaves a half-deleted folder that looks ready), drop its lock file and log, then delete the
/// trash copy. `Ok(false)` when someone holds the lock (it is being built), or when
/// `unless_ready` and a build finished it since it was scanned.
pub fn remove(cache: &Cache, key: &str, unless_ready: bool) -> Result<bool> {
    let Some(guard) = crate::lock::try_exclusive(&cache.lock_path(key))? else {
        return Ok(false);
    };
    let env = cache.env_dir(key);
    if unless_ready && env.join(cache::READY).exists() {
        return Ok(false);
    }
    let trash = cache.trash_dir();
    crate::fsx::create_private_dir(&trash)?;
    let stamp = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let aside = trash.join(format!("{key}.{}.{stamp}", std::process::id()));
    match std::fs::rename(&env, &aside) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(crate::error::Error::io("move", &env, e)),
        _ => {}
    }
    let _ = std::fs::remove_file(cache.log_path(key));
    guard.remove_file();
    drop(guard);
    crate::fsx::remove_tree(&aside)?;
    Ok(true)
}

/// What is left in `trash/` by removals cut short: (path, size).
pub fn trash(cache: &Cache) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(cache.trash_dir())
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
