//! `cove which [NAME]`: the path that NAME would run here.

use crate::error::{Error, Result};
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings, name: &str) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    if let Some(project) = crate::plan::resolve::current_project()? {
        // The remembered plan when nothing it was made from changed, as the shim takes it: a
        // large lock is not read again.
        let (env_dir, layer_dir) = match crate::plan::resolve::remembered(&project, settings)? {
            Some(brief) => (brief.env_dir, brief.layer_dir),
            None => {
                let plan = crate::plan::resolve::plan(project, settings, &finder)?;
                (plan.env_dir, plan.layer_dir)
            }
        };
        let venv = crate::shim::exec::Venv::of(&env_dir, layer_dir.as_deref());
        let core = crate::shim::links::CORE.contains(&name);
        if let Some(program) = venv.find(name).or_else(|| core.then(|| venv.dir.join("bin").join(name))) {
            crate::ui::out(&format!("{}\n", program.display()));
            return Ok(());
        }
    }
    let p = finder.path_candidates(name).next().ok_or_else(|| Error::NotFound { name: name.to_string() })?;
    crate::ui::out(&format!("{}\n", p.display()));
    Ok(())
}
