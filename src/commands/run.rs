//! `cove run CMD [ARG…]`: run any command inside the project's environment (or a PEP 723
//! script's, for `cove run script.py`); with `--with REQ`, inside an overlay of the
//! environment with those extra requirements (see `overlay`).

use std::ffi::OsString;

use crate::error::Result;
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings, mut command: Vec<OsString>, with: Vec<String>) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let is_script = std::path::Path::new(&command[0]).extension().is_some_and(|e| e == "py");
    let script = if is_script { crate::manifest::script::from_args(&command) } else { None };
    let project = script.map_or_else(crate::plan::resolve::require_project, Ok)?;
    // The warm path, as the shim's; an overlay is always planned in full.
    let ready = if with.is_empty() { crate::build::reuse_remembered(&project, settings)? } else { None };
    let brief = match ready {
        Some(brief) => brief,
        None => {
            let mut plan = crate::plan::resolve::plan_to_build(project, settings, &finder, true)?;
            if !with.is_empty() {
                plan = crate::plan::overlay::plan(&plan, &with, &settings.cache_dir)?;
            }
            crate::build::ensure(&plan, settings, crate::build::Options { prompt: true, ..Default::default() })?;
            plan.brief()
        }
    };
    if is_script && brief.project.kind == crate::plan::project::Kind::Script {
        command.insert(0, "python".into());
    }
    match crate::shim::exec::command_in_env(brief.venv(), &command, &brief.project.manifest)? {}
}
