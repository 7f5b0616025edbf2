//! From a project to a plan: its manifest, the base interpreter, the key and the environment's
//! path. Everything the shim and the commands need to decide what runs; nothing is built here.

use std::path::PathBuf;

use crate::cache::Cache;
use crate::error::Result;
use crate::interpreter::{self, Choice, Finder};
use crate::key::{self, Key};
use crate::manifest::{self, Manifest};
use crate::project::Project;
use crate::settings::Settings;

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: Project,
    pub manifest: Manifest,
    pub choice: Choice,
    pub key: Key,
    pub env_dir: PathBuf,
}

impl Plan {
    pub fn interpreter(&self) -> &interpreter::Interpreter {
        &self.choice.interpreter
    }
}

/// Load the manifest, choose the interpreter and compute the key.
pub fn plan(project: Project, settings: &Settings, finder: &Finder) -> Result<Plan> {
    let manifest = manifest::load(&project)?;
    plan_manifest(project, manifest, settings, finder)
}

pub fn plan_manifest(project: Project, manifest: Manifest, settings: &Settings, finder: &Finder) -> Result<Plan> {
    let choice =
        interpreter::choose(finder, manifest.python.as_ref(), settings.python.as_deref(), Some(project.dir.as_path()))?;
    let key = key::compute(&choice.interpreter, &manifest.requirements, &manifest.constraints, &manifest.index);
    let env_dir = Cache::new(&settings.cache_dir).env_dir(&key.hex);
    Ok(Plan { project, manifest, choice, key, env_dir })
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
