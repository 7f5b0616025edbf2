//! `cove status [--json]`: project, manifest, trust, interpreter, key, canonical text,
//! environment path and state.

use serde_json::{Value, json};

use crate::cache::{Cache, State};
use crate::error::Result;
use crate::fsx::lossy;
use crate::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings, as_json: bool) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let Some(project) = crate::resolve::current_project()? else {
        if as_json {
            let v = json!({
                "project": Value::Null, "manifest": Value::Null, "trusted": false, "python": Value::Null,
                "python_version": Value::Null, "key": Value::Null, "canonical": Value::Null, "env": Value::Null,
                "state": Value::Null, "lock": Value::Null, "installs_project": false,
            });
            super::out(&format!("{v:#}\n"));
        } else {
            super::out("no project here (no cove.toml, pyproject.toml or requirements.txt in this folder or above)\n");
        }
        return Ok(());
    };
    let reason = project.reason();
    let plan = crate::resolve::plan(project, settings, &finder)?;
    let trusted = crate::trust::is_trusted(&plan.manifest, settings);
    let mut state = Cache::new(&settings.cache_dir).state(&plan.key.hex);
    if state == State::Ready && plan.layer_dir.as_ref().is_some_and(|l| !crate::cache::ready_at(l)) {
        state = State::Missing;
    }
    let interp = plan.interpreter();
    if as_json {
        let v = json!({
            "project": lossy(&plan.project.dir),
            "manifest": lossy(&plan.manifest.path),
            "manifest_reason": reason,
            "trusted": trusted,
            "python": lossy(&interp.path),
            "python_version": interp.facts.python_full_version,
            "python_reason": plan.choice.reason,
            "key": plan.key.hex,
            "canonical": plan.key.canonical,
            "env": lossy(plan.run_dir()),
            "shared_env": lossy(&plan.env_dir),
            "state": state.as_str(),
            "lock": plan.lock.as_ref().map(lossy),
            "lock_note": plan.lock_note,
            "installs_project": plan.installs_project(),
            "requirements": plan.manifest.requirements.iter().map(|r| r.canonical.clone()).collect::<Vec<_>>(),
            "constraints": plan.manifest.constraints.iter().map(|r| r.canonical.clone()).collect::<Vec<_>>(),
            "local_projects": plan.manifest.install_project.iter().chain(&plan.manifest.other_projects)
                .map(|p| json!({"dir": lossy(&p.dir), "extras": p.extras, "dynamic": p.dynamic}))
                .collect::<Vec<_>>(),
            "files": plan.manifest.files.iter().map(lossy).collect::<Vec<_>>(),
            "notes": plan.manifest.notes,
        });
        super::out(&format!("{v:#}\n"));
        return Ok(());
    }
    let mut t = String::new();
    t.push_str(&format!("project:   {}\n", plan.project.dir.display()));
    t.push_str(&format!("manifest:  {} ({reason})\n", plan.manifest.path.display()));
    for file in plan.manifest.files.iter().skip(1) {
        t.push_str(&format!("also read: {}\n", file.display()));
    }
    for note in &plan.manifest.notes {
        t.push_str(&format!("note:      {note}\n"));
    }
    for p in plan.manifest.install_project.iter().chain(&plan.manifest.other_projects) {
        let extras = if p.extras.is_empty() { String::new() } else { format!(" [{}]", p.extras.join(",")) };
        let dynamic = if p.dynamic { " (dependencies not declared statically)" } else { "" };
        t.push_str(&format!("installs:  {}{extras}, editable{dynamic}\n", p.dir.display()));
    }
    t.push_str(&format!(
        "trusted:   {}\n",
        if trusted { "yes".to_string() } else { format!("no (run `{}`)", crate::trust::trust_command(&plan.manifest)) }
    ));
    t.push_str(&format!("python:    {} {} ({})\n", interp.describe(), interp.path.display(), plan.choice.reason));
    t.push_str(&format!("key:       {}\n", plan.key.hex));
    t.push_str(&format!("env:       {}\n", plan.run_dir().display()));
    if plan.layer_dir.is_some() {
        t.push_str(&format!("shared:    {}\n", plan.env_dir.display()));
    }
    if let Some(lock) = &plan.lock {
        t.push_str(&format!("lock:      {}\n", lock.display()));
    }
    if let Some(note) = &plan.lock_note {
        t.push_str(&format!("lock:      {note}\n"));
    }
    t.push_str(&format!("state:     {}\n", state.as_str()));
    t.push_str("canonical:\n");
    for line in plan.key.canonical.lines() {
        t.push_str(&format!("  {line}\n"));
    }
    super::out(&t);
    Ok(())
}
