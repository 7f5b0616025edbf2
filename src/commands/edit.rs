//! `cove add REQ…` / `cove remove NAME…` (and `pip install` / `pip uninstall` in a project):
//! edit the manifest in place, trust what was written, sync. A failed sync puts the previous
//! manifest back, so the manifest never names an environment that cannot be built.

use crate::build::{self, Options};
use crate::error::{Error, Pos, Result};
use crate::interpreter::Finder;
use crate::manifest::edit::{self, NewReq, Target};
use crate::project::{Kind, Project};
use crate::requirement::{Requirement, normalise_name};
use crate::settings::Settings;

pub enum Change {
    Add(Vec<String>),
    Remove(Vec<String>),
}

pub fn run(settings: &Settings, change: Change, target: Target) -> Result<()> {
    let project = crate::resolve::require_project()?;
    apply(settings, &project, change, &target)
}

/// Edit `project`'s manifest, trust it and sync; restore the old text if anything fails.
pub fn apply(settings: &Settings, project: &Project, change: Change, target: &Target) -> Result<()> {
    if project.kind == Kind::Script {
        return Err(Error::other("cove add/remove edit project manifests, not scripts")
            .with_hint("edit the script's `# /// script` block"));
    }
    let path = &project.manifest;
    let old_text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let old = crate::resolve::plan(project.clone(), settings, &finder).ok();
    let was_trusted = old.as_ref().is_some_and(|p| crate::trust::is_trusted(&p.manifest, settings));

    let (new_text, summary) = match &change {
        Change::Add(reqs) => {
            let pos = Pos { file: "command line".into(), line: 1, column: 1 };
            let mut new = Vec::new();
            for r in reqs {
                let parsed = Requirement::parse(r, &pos, &project.dir)?;
                new.push(NewReq { text: r.trim().to_string(), name: parsed.name });
            }
            let text = match project.kind {
                Kind::Requirements => edit::add_lines(&old_text, &new),
                kind => edit::add_toml(path, &old_text, kind, target, &new)?,
            };
            (text, format!("added {}", reqs.join(", ")))
        }
        Change::Remove(names) => {
            let names: Vec<String> = names.iter().map(|n| normalise_name(n)).collect();
            let text = match project.kind {
                Kind::Requirements => edit::remove_lines(path, &old_text, &names)?,
                kind => edit::remove_toml(path, &old_text, kind, target, &names)?,
            };
            (text, format!("removed {}", names.join(", ")))
        }
    };
    crate::fsx::write_atomic(path, new_text.as_bytes())?;
    let result = crate::resolve::plan(project.clone(), settings, &finder).and_then(|plan| {
        crate::trust::trust(&plan.manifest, settings)?;
        // Planned before it was trusted: an interpreter path the project names is used now.
        let plan = if plan.choice.withheld { crate::resolve::plan(project.clone(), settings, &finder)? } else { plan };
        build::ensure(&plan, settings, Options::default())?;
        Ok(plan)
    });
    match result {
        Ok(plan) => {
            let keys = match &old {
                Some(o) if o.key.hex != plan.key.hex => format!("; key {} → {}", o.key.short(), plan.key.short()),
                _ => String::new(),
            };
            crate::ui::note(settings.quiet, &format!("{summary} in {}{keys}", file_name(path)));
            Ok(())
        }
        Err(e) => {
            crate::fsx::write_atomic(path, old_text.as_bytes())?;
            if let (true, Some(o)) = (was_trusted, &old) {
                let _ = crate::trust::trust(&o.manifest, settings);
            }
            crate::ui::warn(&format!("the sync failed; {} is back as it was", path.display()));
            Err(e)
        }
    }
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
