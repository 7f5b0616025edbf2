//! `cove link [--remove]`: `.venv` in the project becomes a link to its environment (built
//! first if needed), so editors find it; every later use keeps it current (see `link`).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::build::link::{self, Venv};
use crate::build::{self, Options};
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings, remove: bool) -> Result<()> {
    let project = crate::plan::resolve::require_project()?;
    let cache = Cache::new(&settings.cache_dir);
    let at = project.dir.join(link::NAME);
    if remove {
        if link::remove(&project.dir, &cache)? {
            crate::ui::out(&format!("removed the link {}\n", at.display()));
        } else {
            crate::ui::out(&format!("no .venv link in {}\n", project.dir.display()));
        }
        return Ok(());
    }
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let plan = crate::plan::resolve::plan_to_build(project, settings, &finder, true)?;
    // Refuse before building anything when `.venv` is not ours to replace.
    let before = link::inspect(&plan.project.dir, &cache);
    match &before {
        Venv::Real => return Err(Error::VenvInTheWay { path: at, target: None }),
        Venv::Foreign(target) => return Err(Error::VenvInTheWay { path: at, target: Some(target.clone()) }),
        Venv::Missing | Venv::Ours(_) => {}
    }
    // Using the environment repoints a stale link already; `make` creates a missing one.
    build::ensure(&plan, settings, Options { prompt: true, ..Default::default() })?;
    link::make(&plan.project.dir, plan.run_dir(), &cache)?;
    let verb = match before {
        Venv::Ours(target) if target == plan.run_dir() => "already linked:",
        Venv::Ours(_) => "repointed",
        _ => "linked",
    };
    crate::ui::out(&format!("{verb} {} → {}\n", at.display(), plan.run_dir().display()));
    if !is_ignored(&plan.project.dir) {
        crate::ui::note(settings.quiet, "hint: .venv is not ignored by git; add it: echo .venv >> .gitignore");
    }
    Ok(())
}

/// Whether git ignores `.venv` here. Outside a git repository (or without git) there is
/// nothing to hint about.
fn is_ignored(dir: &Path) -> bool {
    let status = Command::new("git")
        .args(["check-ignore", "-q", link::NAME])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    // 0: ignored; 1: not ignored; 128: not a repository.
    !matches!(status.map(|s| s.code()), Ok(Some(1)))
}
