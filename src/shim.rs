//! The shim: cove run as `python`, `python3`, `pip`, `pip3` or a console script (SPEC §4).
//!
//! Warm path: settings → project → the remembered plan (a stat per input; see `memo`) → trust
//! (a stat) → ready (a stat) → exec. No process is spawned, and once the environment is ready
//! nothing is written but the plan memo, once, when a plan had to be made again.

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, Result};
use crate::interpreter::Finder;
use crate::project::{Kind, Project};
use crate::settings::{Flags, Settings};

/// How deep pass-throughs may nest before cove calls it a loop.
const MAX_DEPTH: u32 = 8;

/// Run the shim `name`; returns only when there is nothing to exec (or on error).
pub fn run(name: &str, args: Vec<OsString>) -> Result<u8> {
    let depth: u32 = std::env::var(crate::exec::DEPTH_VAR).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
    if depth >= MAX_DEPTH {
        return Err(Error::Recursion { name: name.to_string() });
    }
    let settings = Settings::load(&Flags::default())?;
    let shims = settings.shims_dir();
    let finder = Finder::new(&settings.cache_dir, shims.clone());
    let is_python = matches!(name, "python" | "python3");

    let project = if is_python { crate::manifest::script::from_args(&args) } else { None };
    let project = match project {
        Some(p) => Some(p),
        None => crate::resolve::current_project()?,
    };
    let Some(project) = project else { match pass_through(&finder, name, &args, &shims)? {} };
    if !is_python && !matches!(name, "pip" | "pip3") {
        match console_script(project, &settings, &finder, name, &args)? {}
    }
    if !is_python {
        let cwd = std::env::current_dir().unwrap_or_default();
        let change = match crate::pip::classify(&args, &cwd)? {
            crate::pip::Action::Read => None,
            crate::pip::Action::Install { reqs, upgrade } => {
                Some(crate::commands::edit::Change::Install { reqs, upgrade })
            }
            crate::pip::Action::Uninstall(names) => Some(crate::commands::edit::Change::Uninstall(names)),
        };
        if let Some(change) = change {
            crate::commands::edit::apply(&settings, &project, change, &Default::default())?;
            return Ok(0);
        }
    }
    let plan = crate::resolve::plan_to_build(project, &settings, &finder, true)?;
    crate::build::ensure(&plan, &settings, crate::build::Options { prompt: true, ..Default::default() })?;
    let program = plan.run_dir().join("bin").join(name);
    match crate::exec::in_env(plan.venv(), &program, &args)? {}
}

/// A console-script shim: the project's environment has it → run it (building what is missing
/// first, when the manifest is trusted and cove knows the environment provides `name`); else
/// the next one of that name on PATH; else "command not found" (exit 127), or the trust error
/// when trusting would have given it. A system command's name (a link made before cove refused
/// them) passes through at once, and a name cove does not know the environment provides never
/// starts a build: `ls` in a project is never a build that fails with the installer's error.
fn console_script(
    project: Project,
    settings: &Settings,
    finder: &Finder,
    name: &str,
    args: &[OsString],
) -> Result<std::convert::Infallible> {
    let shims = settings.shims_dir();
    if crate::shims::shadows_system(name) {
        return pass_through(finder, name, args, &shims);
    }
    let manifest = project.manifest.clone();
    let mut untrusted = None;
    let mut not_built = false;
    let plan = if project.kind == Kind::Script { None } else { Some(crate::resolve::plan(project, settings, finder)) };
    match plan {
        Some(Ok(plan)) if crate::trust::is_trusted(&plan.manifest, settings) => {
            if provides(&plan, settings, name) {
                crate::build::ensure(&plan, settings, crate::build::Options::default())?;
                if let Some(program) = plan.venv().find(name) {
                    return crate::exec::in_env(plan.venv(), &program, args);
                }
            } else {
                not_built = !is_built(&plan, settings);
            }
        }
        Some(Ok(plan)) => untrusted = Some(plan.manifest),
        Some(Err(e @ Error::UnsafeFolder { .. })) => return Err(e),
        Some(Err(_)) | None => {}
    }
    if finder.path_candidates(name).next().is_none() {
        if let Some(m) = untrusted {
            crate::trust::require(&m, settings, false)?;
        }
        if not_built {
            return Err(Error::CommandNotBuilt { name: name.to_string(), manifest });
        }
        return Err(Error::CommandNotFound { name: name.to_string(), manifest: Some(manifest) });
    }
    pass_through(finder, name, args, &shims)
}

/// Whether cove knows the plan's environment provides `name`: its environment (or layer) has
/// it, or the environment the project last used had it (its manifest changed since). With
/// neither built, cove does not know, and builds nothing for it.
fn provides(plan: &crate::resolve::Plan, settings: &Settings, name: &str) -> bool {
    if plan.venv().find(name).is_some() {
        return true;
    }
    let cache = crate::cache::Cache::new(&settings.cache_dir);
    let user = if plan.project.kind == Kind::Script { &plan.manifest.path } else { &plan.project.dir };
    crate::usage::last_key(&cache, user).is_some_and(|key| {
        crate::interpreter::is_executable(&cache.entry(crate::cache::Kind::Env, &key).dir().join("bin").join(name))
    })
}

/// The plan's environment, and its layer when it has one, are ready.
fn is_built(plan: &crate::resolve::Plan, settings: &Settings) -> bool {
    crate::cache::Cache::new(&settings.cache_dir).is_usable(&plan.key.hex)
        && plan.layer_dir.as_ref().is_none_or(|l| crate::cache::ready_at(l))
}

fn pass_through(finder: &Finder, name: &str, args: &[OsString], shims: &Path) -> Result<std::convert::Infallible> {
    let (found, mut cove_dirs) = finder.split_path(name);
    cove_dirs.push(shims.to_path_buf());
    match found.into_iter().next() {
        Some(program) => crate::exec::pass_through(&program, args, &cove_dirs),
        None if crate::shims::CORE.contains(&name) => Err(Error::NotFound { name: name.to_string() }),
        None => Err(Error::CommandNotFound { name: name.to_string(), manifest: None }),
    }
}
