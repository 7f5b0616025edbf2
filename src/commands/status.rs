//! `cove status [--json]`: project, manifest, trust, interpreter, key, canonical text,
//! environment path and state.

use serde::Serialize;
use serde_json::{Value, json};

use crate::cache::{Cache, State};
use crate::error::Result;
use crate::fsx::lossy;
use crate::manifest::requirement::Requirement;
use crate::plan::interpreter::Finder;
use crate::settings::Settings;
use crate::ui::shown;

pub fn run(settings: &Settings, as_json: bool) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let Some(project) = crate::plan::resolve::current_project()? else {
        if as_json {
            let v = json!({
                "project": Value::Null, "manifest": Value::Null, "trusted": false, "python": Value::Null,
                "python_version": Value::Null, "key": Value::Null, "canonical": Value::Null, "env": Value::Null,
                "state": Value::Null, "lock": Value::Null, "installs_project": false,
            });
            crate::ui::out(&format!("{v:#}\n"));
        } else {
            crate::ui::out(
                "no project here (no cove.toml, pyproject.toml or requirements.txt in this folder or above)\n",
            );
        }
        return Ok(());
    };
    let reason = project.reason();
    let plan = crate::plan::resolve::plan(project, settings, &finder)?;
    let trusted = crate::plan::trust::is_trusted(&plan.manifest, settings);
    let mut state = Cache::new(&settings.cache_dir).state(&plan.key.hex);
    if state == State::Ready && plan.layer_dir.as_ref().is_some_and(|l| !crate::cache::ready_at(l)) {
        state = State::Missing;
    }
    // Files removed from a ready environment by hand: `broken`, and `cove sync` rebuilds it.
    let missing_file = if state == State::Ready { crate::build::damage(&plan) } else { None };
    if missing_file.is_some() {
        state = State::Broken;
    }
    let interp = plan.interpreter();
    let env = Cache::new(&settings.cache_dir).entry(crate::cache::Kind::Env, &plan.key.hex);
    let origin = (state == State::Ready).then(|| env.info::<crate::cache::EnvInfo>()?.origin).flatten();
    if as_json {
        let local_projects = plan.manifest.install_project.iter().chain(&plan.manifest.other_projects);
        let v = StatusJson {
            canonical: &plan.key.canonical,
            constraints: Canonical(&plan.manifest.constraints),
            env: lossy(plan.run_dir()),
            files: plan.manifest.files.iter().map(lossy).collect(),
            installs_project: plan.installs_project(),
            key: &plan.key.hex,
            local_projects: local_projects
                .map(|p| LocalProjectJson { dir: lossy(&p.dir), dynamic: p.dynamic, extras: &p.extras })
                .collect(),
            lock: plan.lock.as_ref().map(lossy),
            lock_note: plan.lock_note.as_ref().map(|s| s.to_string()),
            manifest: lossy(&plan.manifest.path),
            manifest_reason: &reason,
            missing_file: missing_file.as_ref().map(lossy),
            notes: &plan.manifest.notes,
            origin: origin.as_deref(),
            project: lossy(&plan.project.dir),
            python: lossy(&interp.path),
            python_reason: &plan.choice.reason,
            python_version: &interp.facts.python_full_version,
            requirements: Canonical(&plan.manifest.requirements),
            shared_env: lossy(&plan.env_dir),
            state: state.as_str(),
            trusted,
        };
        // Written from the plan, not copied into a `Value` first; errors ignored as `out` does
        // (a closed pipe).
        crate::ui::json(&v);
        return Ok(());
    }
    // Every value shown escaped (`shown`): a folder name or a requirement could hold a newline
    // or an escape sequence that would draw a line of its own.
    let mut t = String::new();
    t.push_str(&format!("project:   {}\n", shown(plan.project.dir.display())));
    t.push_str(&format!("manifest:  {} ({})\n", shown(plan.manifest.path.display()), shown(&reason)));
    t.extend(plan.manifest.files.iter().skip(1).map(|file| format!("also read: {}\n", shown(file.display()))));
    t.extend(plan.manifest.notes.iter().map(|note| format!("note:      {}\n", shown(note))));
    for p in plan.manifest.install_project.iter().chain(&plan.manifest.other_projects) {
        let extras = if p.extras.is_empty() { String::new() } else { format!(" [{}]", p.extras.join(",")) };
        let dynamic = if p.dynamic { " (dependencies not declared statically)" } else { "" };
        t.push_str(&format!("installs:  {}{}, editable{dynamic}\n", shown(p.dir.display()), shown(extras)));
    }
    let trust = crate::plan::trust::trust_command(&plan.manifest);
    let trust = if trusted { "yes".to_string() } else { format!("no (run `{}`)", shown(trust)) };
    t.push_str(&format!("trusted:   {trust}\n"));
    t.push_str(&format!(
        "python:    {} {} ({})\n",
        shown(interp.describe()),
        shown(interp.path.display()),
        shown(&plan.choice.reason)
    ));
    t.push_str(&format!("key:       {}\n", plan.key.hex));
    t.push_str(&format!("env:       {}\n", shown(plan.run_dir().display())));
    if plan.layer_dir.is_some() {
        t.push_str(&format!("shared:    {}\n", shown(plan.env_dir.display())));
    }
    if let Some(lock) = &plan.lock {
        t.push_str(&format!("lock:      {}\n", shown(lock.display())));
    }
    if let Some(stale) = &plan.lock_note {
        t.push_str(&format!("lock:      {}\n", shown(stale)));
    }
    match (&missing_file, &origin) {
        (Some(file), _) => t.push_str(&format!(
            "state:     broken ({} is missing; `cove sync` rebuilds the environment)\n",
            file.display()
        )),
        (None, Some(origin)) => t.push_str(&format!("state:     {} ({})\n", state.as_str(), shown(origin))),
        (None, None) => t.push_str(&format!("state:     {}\n", state.as_str())),
    }
    t.push_str("canonical:\n");
    t.extend(plan.key.canonical.lines().map(|line| format!("  {}\n", shown(line))));
    crate::ui::out(&t);
    Ok(())
}

/// `status --json`, written straight from the plan (a 1,000-requirement manifest's text is not
/// copied into a `serde_json::Value` first: issue #9). The fields are in alphabetical order, the
/// order the output has always had.
#[derive(Serialize)]
struct StatusJson<'a> {
    canonical: &'a str,
    constraints: Canonical<'a>,
    env: String,
    files: Vec<String>,
    installs_project: bool,
    key: &'a str,
    local_projects: Vec<LocalProjectJson<'a>>,
    lock: Option<String>,
    lock_note: Option<String>,
    manifest: String,
    manifest_reason: &'a str,
    /// The first installed file found missing when `state` is `broken` for that reason.
    missing_file: Option<String>,
    notes: &'a [String],
    /// Where the shared environment came from: `built`, `pulled from <remote>`.
    origin: Option<&'a str>,
    project: String,
    python: String,
    python_reason: &'a str,
    python_version: &'a str,
    requirements: Canonical<'a>,
    shared_env: String,
    state: &'a str,
    trusted: bool,
}

#[derive(Serialize)]
struct LocalProjectJson<'a> {
    dir: String,
    dynamic: bool,
    extras: &'a [String],
}

/// Requirements as the list of their canonical texts.
struct Canonical<'a>(&'a [Requirement]);

impl Serialize for Canonical<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|r| &r.canonical))
    }
}
