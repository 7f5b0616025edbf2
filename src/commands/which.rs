//! `cove which [NAME]`: the path that NAME would run here.

use crate::error::{Error, Result};
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings, name: &str) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    if let Some(project) = crate::plan::resolve::current_project()? {
        let plan = crate::plan::resolve::plan(project, settings, &finder)?;
        let found = plan.venv().find(name);
        let core = crate::shim::links::CORE.contains(&name);
        if let Some(program) = found.or_else(|| core.then(|| plan.run_dir().join("bin").join(name))) {
            crate::ui::out(&format!("{}\n", program.display()));
            return Ok(());
        }
    }
    match finder.path_candidates(name).next() {
        Some(p) => {
            crate::ui::out(&format!("{}\n", p.display()));
            Ok(())
        }
        None => Err(Error::NotFound { name: name.to_string() }),
    }
}
