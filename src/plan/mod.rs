//! The plan: what the shim and the commands decide from a project before anything runs or is
//! built — its manifest, the base interpreter, the key, and where the environment (and the
//! project's layer over it) live. [`Brief`] is the part the warm path needs. Made by `resolve`.

pub mod interpreter;
pub mod key;
pub mod memo;
pub mod overlay;
pub mod project;
pub mod resolve;
pub mod trust;

use std::path::{Path, PathBuf};

use crate::manifest::requirement::Requirement;
use crate::manifest::{LocalProject, Manifest};
use crate::plan::key::Key;
use crate::plan::project::Project;
use interpreter::Choice;

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: Project,
    pub manifest: Manifest,
    pub choice: Choice,
    /// What the shared environment gets: the manifest's requirements, or a lock's pins.
    pub install: Vec<Requirement>,
    /// The lock file in use.
    pub lock: Option<PathBuf>,
    /// The files that lock names for `install`, when it names them all: installed from their
    /// URLs and checked against their hashes, no index asked.
    pub lock_files: Option<Vec<crate::manifest::locks::Files>>,
    /// Why a lock file beside the manifest is not used (said when building).
    pub lock_note: Option<crate::error::StaleLock>,
    pub key: Key,
    /// The shared environment.
    pub env_dir: PathBuf,
    /// The project's own layer over it (SPEC §2 "The project itself"), if it has one.
    pub layer_dir: Option<PathBuf>,
    /// Set for a `cove run --with` overlay (see `overlay`): not the project's own environment.
    pub overlay: Option<Overlay>,
}

/// A plan in brief: what checking, using and recording a ready environment needs, not what
/// building one does. The warm path needs no more, and a remembered plan keeps no more (see
/// `memo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brief {
    pub project: Project,
    /// The manifest's digest, what trust is recorded against.
    pub digest: String,
    /// The environment's key (hex).
    pub key: String,
    pub env_dir: PathBuf,
    pub layer_dir: Option<PathBuf>,
    /// The base interpreter's real path.
    pub python: PathBuf,
    /// A `cove run --with` overlay: its use is not the project's.
    pub overlay: bool,
}

impl Brief {
    /// The venv `python` runs here (see [`Plan::venv`]).
    pub fn venv(&self) -> crate::shim::exec::Venv<'_> {
        crate::shim::exec::Venv::of(&self.env_dir, self.layer_dir.as_deref())
    }
}

impl Plan {
    /// What the environment was built from (its `cove-env.json`), and its size (measured once, at
    /// publish, so `cove list` need not walk an environment that shares no file with another:
    /// `linked`, the part in hard-linked files, is 0); `origin` is `built` or `pulled from
    /// <remote>`.
    pub fn env_info(&self, backend: &str, usage: crate::fsx::Usage, origin: &str) -> crate::cache::EnvInfo {
        let lossy = |p: &std::path::Path| Some(crate::fsx::lossy(p));
        crate::cache::EnvInfo {
            key: Some(self.key.hex.clone()),
            canonical: Some(self.key.canonical.clone()),
            python: lossy(&self.interpreter().path),
            python_version: Some(self.interpreter().facts.python_full_version.clone()),
            requirements: Some(self.install.len()),
            lock: self.lock.as_deref().and_then(lossy),
            manifest: lossy(&self.manifest.path),
            backend: Some(backend.to_string()),
            with: self.overlay.as_ref().map(|o| o.with.iter().map(|r| r.canonical.clone()).collect()),
            over: self.overlay.as_ref().map(|o| o.base_key.clone()),
            origin: Some(origin.to_string()),
            size: Some(usage.size),
            linked: Some(usage.linked),
            created: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).ok(),
        }
    }

    pub fn interpreter(&self) -> &interpreter::Interpreter {
        &self.choice.interpreter
    }

    /// Where `python` runs from: the project's layer when it has one, else the environment.
    pub fn run_dir(&self) -> &Path {
        self.venv().dir
    }

    /// The venv `python` runs here, as the exec step needs it.
    pub fn venv(&self) -> crate::shim::exec::Venv<'_> {
        crate::shim::exec::Venv::of(&self.env_dir, self.layer_dir.as_deref())
    }

    pub fn brief(&self) -> Brief {
        Brief {
            project: self.project.clone(),
            digest: self.manifest.digest.clone(),
            key: self.key.hex.clone(),
            env_dir: self.env_dir.clone(),
            layer_dir: self.layer_dir.clone(),
            python: self.interpreter().path.clone(),
            overlay: self.overlay.is_some(),
        }
    }

    /// The folder of its layer in `cache`, when it has local projects to install there.
    pub fn layer_in(&self, cache: &crate::cache::Cache) -> Option<PathBuf> {
        let layered = self.local_projects(false);
        let name = (!layered.is_empty()).then(|| key::layer_key(&self.key.hex, &layered))?;
        Some(cache.entry(crate::cache::Kind::Layer, &name).into_dir())
    }

    /// The local projects (the project itself first) whose dependencies are static, installed in
    /// the layer; or with `dynamic`, those with dynamic dependencies, installed with them into an
    /// unshared env.
    pub fn local_projects(&self, dynamic: bool) -> Vec<LocalProject> {
        let all = self.manifest.install_project.iter().chain(&self.manifest.other_projects);
        all.filter(|p| p.dynamic == dynamic).cloned().collect()
    }

    /// Whether the project itself is installed (SPEC §2; `status --json` `installs_project`).
    pub fn installs_project(&self) -> bool {
        self.manifest.install_project.is_some()
    }
}

/// What makes a plan an overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// The extra requirements, canonical, sorted.
    pub with: Vec<Requirement>,
    /// The key of the project's own environment.
    pub base_key: String,
}
