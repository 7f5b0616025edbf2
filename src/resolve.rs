//! From a project to a plan: its manifest, the base interpreter, the key and the environment's
//! path. Everything the shim and the commands need to decide what runs; nothing is built here.

use std::path::{Path, PathBuf};

use crate::cache::{Cache, Kind};
use crate::error::Result;
use crate::interpreter::{self, Choice, Finder};
use crate::key::{self, Key};
use crate::manifest::locks::Use;
use crate::manifest::{self, LocalProject, Manifest};
use crate::project::Project;
use crate::requirement::Requirement;
use crate::settings::Settings;

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: Project,
    pub manifest: Manifest,
    pub choice: Choice,
    /// What the shared environment gets: the manifest's requirements, or a lock's pins.
    pub install: Vec<Requirement>,
    /// The lock file in use.
    pub lock: Option<PathBuf>,
    /// Why a lock file beside the manifest is not used (said when building).
    pub lock_note: Option<String>,
    pub key: Key,
    /// The shared environment.
    pub env_dir: PathBuf,
    /// The project's own layer over it (SPEC §2 "The project itself"), if it has one.
    pub layer_dir: Option<PathBuf>,
    /// Set for a `cove run --with` overlay (see `overlay`): not the project's own environment.
    pub overlay: Option<crate::overlay::Overlay>,
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
    pub fn venv(&self) -> crate::exec::Venv<'_> {
        crate::exec::Venv::of(&self.env_dir, self.layer_dir.as_deref())
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
    pub fn venv(&self) -> crate::exec::Venv<'_> {
        crate::exec::Venv::of(&self.env_dir, self.layer_dir.as_deref())
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

    /// The local projects installed in the layer (the project itself first).
    pub fn layer_projects(&self) -> Vec<LocalProject> {
        self.manifest
            .install_project
            .iter()
            .chain(&self.manifest.other_projects)
            .filter(|p| !p.dynamic)
            .cloned()
            .collect()
    }

    /// A local project with dynamic dependencies, installed with them into an unshared env.
    pub fn dynamic_projects(&self) -> Vec<LocalProject> {
        self.manifest
            .install_project
            .iter()
            .chain(&self.manifest.other_projects)
            .filter(|p| p.dynamic)
            .cloned()
            .collect()
    }

    /// Whether the project itself is installed (SPEC §2; `status --json` `installs_project`).
    pub fn installs_project(&self) -> bool {
        self.manifest.install_project.is_some()
    }
}

/// The plan remembered for `project` from the current folder, in brief (see `memo`): `None`
/// when nothing was kept or anything it was made from changed since.
pub fn remembered(project: &Project, settings: &Settings) -> Result<Option<Brief>> {
    // Before the memo is read: a plan planted in someone else's cache names what runs.
    Cache::new(&settings.cache_dir).check_private()?;
    Ok(crate::memo::recall(project, settings))
}

/// Load the manifest, choose the interpreter and compute the key, and remember the plan in
/// brief for the warm path (see `memo`).
pub fn plan(project: Project, settings: &Settings, finder: &Finder) -> Result<Plan> {
    Cache::new(&settings.cache_dir).check_private()?;
    let (plan, inputs) = crate::inputs::record(|| {
        let manifest = manifest::load(&project)?;
        plan_manifest(project, manifest, settings, finder)
    });
    if let Ok(plan) = &plan {
        crate::memo::keep(plan, inputs, settings, finder);
    }
    plan
}

/// [`plan`], for a caller about to build and run: when the plan had to leave out an interpreter
/// path the project names because it is not trusted, the trust check comes first (asking on a
/// terminal with `prompt`), and the plan is made again with that interpreter.
pub fn plan_to_build(project: Project, settings: &Settings, finder: &Finder, prompt: bool) -> Result<Plan> {
    let plan = plan(project.clone(), settings, finder)?;
    if !plan.choice.withheld {
        return Ok(plan);
    }
    crate::trust::require(&plan.manifest, settings, prompt)?;
    self::plan(project, settings, finder)
}

/// The plan for `manifest`. Nothing from the project is run while planning: an interpreter path
/// its `.python-version` names is used only once the project is trusted (SPEC §5).
pub fn plan_manifest(project: Project, manifest: Manifest, settings: &Settings, finder: &Finder) -> Result<Plan> {
    Cache::new(&settings.cache_dir).check_private()?;
    let trusted = || crate::trust::is_trusted_for_plan(&manifest, settings);
    let choice = interpreter::choose(
        finder,
        manifest.python.as_ref(),
        settings.python.as_deref(),
        Some(project.dir.as_path()),
        &trusted,
    )?;
    let lock_use = if settings.use_lock {
        crate::manifest::locks::resolve(&settings.cache_dir, &manifest, &choice.interpreter)?
    } else {
        None
    };
    let (install, lock, lock_note) = match lock_use {
        Some(Use::Pins { path, pins }) => (pins, Some(path), None),
        Some(Use::Stale { message, .. }) => (manifest.requirements.clone(), None, Some(message)),
        None => (manifest.requirements.clone(), None, None),
    };
    let dynamic = manifest.install_project.iter().chain(&manifest.other_projects).find(|p| p.dynamic);
    let key = key::compute_for(
        &choice.interpreter,
        &install,
        lock.is_some(),
        &manifest.constraints,
        &manifest.index,
        dynamic.map(|p| p.dir.as_path()),
    );
    let cache = Cache::new(&settings.cache_dir);
    let env_dir = cache.entry(Kind::Env, &key.hex).into_dir();
    let mut plan =
        Plan { project, manifest, choice, install, lock, lock_note, key, env_dir, layer_dir: None, overlay: None };
    let layered = plan.layer_projects();
    if !layered.is_empty() {
        plan.layer_dir = Some(cache.entry(Kind::Layer, &crate::layer::key(&plan.key.hex, &layered)).into_dir());
    }
    Ok(plan)
}

/// The project at or above the current folder.
pub fn current_project() -> Result<Option<Project>> {
    let cwd = std::env::current_dir().map_err(|e| crate::error::Error::io("read", "the current folder", e))?;
    Ok(crate::project::find(&cwd))
}

pub fn require_project() -> Result<Project> {
    let cwd = std::env::current_dir().map_err(|e| crate::error::Error::io("read", "the current folder", e))?;
    crate::project::find(&cwd).ok_or(crate::error::Error::NoProject { cwd })
}
