//! `cove sync [--refresh]`: build the project's environment now.

use crate::build::{self, Options, Outcome};
use crate::error::Result;
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings, refresh: bool) -> Result<()> {
    let project = crate::plan::resolve::require_project()?;
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let plan = crate::plan::resolve::plan_to_build(project, settings, &finder, true)?;
    let outcome =
        build::ensure(&plan, settings, Options { refresh, prompt: true, repair: true, ..Options::default() })?;
    if outcome == Outcome::AlreadyReady {
        crate::ui::note(
            settings.quiet,
            &format!("environment {} is ready: {}", plan.key.short(), plan.run_dir().display()),
        );
    }
    Ok(())
}
