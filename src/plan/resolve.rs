//! From a project to a plan: its manifest, the base interpreter, the key and the environment's
//! path. Everything the shim and the commands need to decide what runs; nothing is built here. The
//! plan itself is in `plan`.

use crate::cache::{Cache, Kind};
use crate::error::Result;
use crate::manifest::locks::Use;
use crate::manifest::{self, Manifest};
use crate::plan::interpreter::{self, Finder};
use crate::plan::key;
use crate::plan::project::Project;
use crate::plan::{Brief, Plan};
use crate::settings::Settings;

/// The plan remembered for `project` from the current folder, in brief (see `memo`): `None`
/// when nothing was kept or anything it was made from changed since.
pub fn remembered(project: &Project, settings: &Settings) -> Result<Option<Brief>> {
    // Before the memo is read: a plan planted in someone else's cache names what runs.
    Cache::new(&settings.cache_dir).check_private()?;
    Ok(crate::plan::memo::recall(project, settings))
}

/// Load the manifest, choose the interpreter and compute the key, and remember the plan in
/// brief for the warm path (see `memo`).
pub fn plan(project: Project, settings: &Settings, finder: &Finder) -> Result<Plan> {
    Cache::new(&settings.cache_dir).check_private()?;
    let (plan, inputs) = crate::timings::time("plan", || {
        crate::inputs::record(|| {
            let manifest = manifest::load(&project)?;
            plan_manifest(project, manifest, settings, finder)
        })
    });
    if let Ok(plan) = &plan {
        crate::plan::memo::keep(plan, inputs, settings, finder);
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
    crate::plan::trust::require(&plan.manifest, settings, prompt)?;
    self::plan(project, settings, finder)
}

/// The plan for `manifest`. Nothing from the project is run while planning: an interpreter path
/// its `.python-version` names is used only once the project is trusted (SPEC §5).
pub fn plan_manifest(project: Project, manifest: Manifest, settings: &Settings, finder: &Finder) -> Result<Plan> {
    Cache::new(&settings.cache_dir).check_private()?;
    let trusted = || crate::plan::trust::is_trusted_for_plan(&manifest, settings);
    let choice = crate::timings::time("interpreter", || {
        interpreter::choose(
            finder,
            manifest.python.as_ref(),
            settings.python.as_deref(),
            Some(project.dir.as_path()),
            &trusted,
        )
    })?;
    let lock_use = if settings.use_lock {
        crate::timings::time("lock", || {
            crate::manifest::locks::resolve(&settings.cache_dir, &manifest, &choice.interpreter)
        })?
    } else {
        None
    };
    let (install, lock, lock_files, lock_note) = match lock_use {
        Some(Use::Pins { path, pins, files }) => (pins, Some(path), files, None),
        Some(Use::Stale(stale)) => (manifest.requirements.clone(), None, None, Some(stale)),
        None => (manifest.requirements.clone(), None, None, None),
    };
    let dynamic = manifest.install_project.iter().chain(&manifest.other_projects).find(|p| p.dynamic);
    let key = key::compute_for(
        &choice.interpreter,
        &install,
        lock.is_some(),
        lock_files.as_deref(),
        &manifest.constraints,
        &manifest.index,
        dynamic.map(|p| p.dir.as_path()),
    );
    let cache = Cache::new(&settings.cache_dir);
    let env_dir = cache.entry(Kind::Env, &key.hex).into_dir();
    let mut plan = Plan {
        project,
        manifest,
        choice,
        install,
        lock,
        lock_files,
        lock_note,
        key,
        env_dir,
        layer_dir: None,
        overlay: None,
    };
    plan.layer_dir = plan.layer_in(&cache);
    Ok(plan)
}

/// The project at or above the current folder.
pub fn current_project() -> Result<Option<Project>> {
    let cwd = std::env::current_dir().map_err(|e| crate::error::Error::io("read", "the current folder", e))?;
    Ok(crate::plan::project::find(&cwd))
}

pub fn require_project() -> Result<Project> {
    let cwd = std::env::current_dir().map_err(|e| crate::error::Error::io("read", "the current folder", e))?;
    crate::plan::project::find(&cwd).ok_or(crate::error::Error::NoProject { cwd })
}
