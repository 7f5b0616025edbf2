//! A change to a project's requirements, made whole or not at all: for `cove add REQ…` /
//! `cove remove NAME…` and for `pip install` / `pip uninstall` through the shim. Edit the
//! manifest in place, trust what was written, sync. A failed or interrupted sync puts the
//! previous manifest and its trust records back, so the manifest never names an environment
//! that cannot be built or was never confirmed.
//!
//! Trust (SPEC §5): an edit trusts what it writes only in a project that was already trusted.
//! In an untrusted one it asks on a terminal, showing every requirement the edited manifest
//! asks for, or fails with the trust error, having changed nothing.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::build::{self, Options};
use crate::error::{Error, IoContext, Pos, Result, file_name};
use crate::manifest::Manifest;
use crate::manifest::edit::{self, NewReq, Target};
use crate::manifest::requirement::{Requirement, normalise_name};
use crate::plan::interpreter::Finder;
use crate::plan::project::{Kind, Project};
use crate::settings::Settings;

pub enum Change {
    /// `cove add REQ…`
    Add(Vec<String>),
    /// `cove remove NAME…`
    Remove(Vec<String>),
    /// `pip install [--upgrade] REQ…`: a requirement the manifest already satisfies changes
    /// nothing, as pip installs nothing for it.
    Install { reqs: Vec<String>, upgrade: bool },
    /// `pip uninstall NAME…`
    Uninstall(Vec<String>),
}

/// Packages that make up the installer cove runs; never recorded as project requirements.
const INSTALLERS: &[&str] = &["pip", "uv"];

pub fn run(settings: &Settings, change: Change, target: Target) -> Result<()> {
    let project = crate::plan::resolve::require_project()?;
    apply(settings, &project, change, &target)
}

/// What an edit makes of the manifest's text, and what to tell.
struct Planned {
    text: String,
    /// One line per requirement: `added six`, `requests==2.31.0 → requests==2.32.3`, …
    said: Vec<String>,
    /// Rebuild the environment within the manifest's specifiers (`pip install --upgrade`).
    refresh: bool,
}

/// Edit `project`'s manifest, trust it and sync; restore the old text (and trust) if anything
/// fails or the process is interrupted.
pub fn apply(settings: &Settings, project: &Project, change: Change, target: &Target) -> Result<()> {
    if project.kind == Kind::Script {
        return Err(Error::NotForScripts { command: "add/remove" });
    }
    let path = &project.manifest;
    let old_text = std::fs::read_to_string(path).ctx("read", path)?;
    let old_manifest = crate::manifest::load(project)?;
    let was_trusted = crate::plan::trust::is_trusted(&old_manifest, settings);
    let planned = plan_edit(project, &old_text, &old_manifest, &change, target)?;
    if !was_trusted && !crate::plan::trust::can_ask() {
        // Nothing was added or removed: say only that.
        crate::ui::note(settings.quiet, &format!("{} is not trusted, so it was not changed", file_name(path)));
        return crate::plan::trust::require(&old_manifest, settings, false);
    }
    for line in &planned.said {
        crate::ui::note(settings.quiet, line);
    }
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    if planned.text == old_text && !planned.refresh {
        if was_trusted {
            let plan = crate::plan::resolve::plan(project.clone(), settings, &finder)?;
            build::ensure(&plan, settings, Options::default())?;
        }
        return Ok(());
    }
    // What the edited manifest asks for, read before anything is written: on a terminal an
    // untrusted project is shown all of it and asked.
    let proposed = crate::manifest::load_with(project, &planned.text)?;
    let records = crate::plan::trust::snapshot(path, Some(&old_manifest.digest), settings);
    if !was_trusted {
        crate::plan::trust::require(&proposed, settings, true)?;
    }
    let old_plan = if was_trusted { crate::plan::resolve::plan(project.clone(), settings, &finder).ok() } else { None };
    let guard = Interrupt::arm();
    let result = crate::fsx::write_atomic(path, planned.text.as_bytes()).and_then(|()| {
        crate::plan::trust::trust(&proposed, settings)?;
        let plan = crate::plan::resolve::plan(project.clone(), settings, &finder)?;
        build::ensure(&plan, settings, Options { refresh: planned.refresh, ..Options::default() })?;
        Ok(plan)
    });
    let interrupted = guard.disarm();
    match result {
        Ok(plan) if !interrupted => {
            let keys = match &old_plan {
                Some(o) if o.key.hex != plan.key.hex => format!("; key {} → {}", o.key.short(), plan.key.short()),
                _ => String::new(),
            };
            if planned.text != old_text {
                crate::ui::note(settings.quiet, &format!("{} updated{keys}", file_name(path)));
            }
            unselected(settings, &plan.manifest, target);
            Ok(())
        }
        result => {
            crate::fsx::write_atomic(path, old_text.as_bytes())?;
            records.restore(settings)?;
            if interrupted {
                return Err(Error::Interrupted { manifest: path.clone() });
            }
            crate::ui::note(settings.quiet, &format!("the sync failed; {} is back as it was", path.display()));
            result.map(drop)
        }
    }
}

/// The new text of the manifest for `change`, with what to say about each requirement.
fn plan_edit(project: &Project, text: &str, manifest: &Manifest, change: &Change, target: &Target) -> Result<Planned> {
    let path = &project.manifest;
    let file = file_name(path);
    let mut said = Vec::new();
    let mut refresh = false;
    let find = |name: &str| -> Result<Option<String>> {
        match project.kind {
            Kind::Requirements => Ok(edit::find_line(text, name)),
            kind => edit::find_toml(path, text, kind, target, name),
        }
    };
    let text = match change {
        Change::Add(reqs) | Change::Install { reqs, .. } => {
            let pip = matches!(change, Change::Install { .. });
            let upgrade = matches!(change, Change::Install { upgrade: true, .. });
            let pos = Pos { file: "command line".into(), line: 1, column: 1 };
            let mut new = Vec::new();
            for r in reqs {
                let parsed = Requirement::parse(r, &pos, &project.dir)?;
                if INSTALLERS.contains(&parsed.name.as_str()) {
                    said.push(format!(
                        "{} is the installer cove manages in each environment, not a project requirement: not added to {file}",
                        parsed.name
                    ));
                    continue;
                }
                let text = r.trim().to_string();
                let included = (project.kind == Kind::Requirements).then(|| in_include(manifest, &parsed.name));
                if let (None, Some(Some((file, old)))) = (find(&parsed.name)?, included) {
                    // A line of an included file: adding it here too would make two.
                    if decide(&old, &text, pip, &project.dir) == Decision::Keep {
                        said.push(format!("{old} is already in {}; nothing changed", file.display()));
                        continue;
                    }
                    return Err(Error::InIncludedFile {
                        requirement: old,
                        file,
                        manifest: path.to_path_buf(),
                        removing: false,
                    });
                }
                match find(&parsed.name)? {
                    None => {
                        said.push(format!("added {text} to {file}"));
                        new.push(NewReq { text, name: parsed.name });
                    }
                    Some(old) => match decide(&old, &text, pip, &project.dir) {
                        Decision::Keep if upgrade && is_pin(&old, &project.dir) => said.push(format!(
                            "{old} is pinned in {file}; to move it, `pip install '{}==VERSION'` or edit the pin",
                            parsed.name
                        )),
                        Decision::Keep if upgrade => {
                            refresh = true;
                            said.push(format!("{old} stays in {file}; the environment is rebuilt within it"));
                        }
                        Decision::Keep => said.push(format!("{old} is already in {file}; nothing changed")),
                        Decision::Replace => {
                            said.push(format!("{old} → {text} in {file}"));
                            new.push(NewReq { text, name: parsed.name });
                        }
                    },
                }
            }
            match project.kind {
                _ if new.is_empty() => text.to_string(),
                Kind::Requirements => edit::add_lines(text, &new),
                kind => edit::add_toml(path, text, kind, target, &new)?,
            }
        }
        Change::Remove(names) | Change::Uninstall(names) => {
            let mut names: Vec<String> = names.iter().map(|n| normalise_name(n)).collect();
            let absent =
                names.iter().filter_map(|n| find(n).map(|found| found.is_none().then(|| n.clone())).transpose());
            let (installers, absent): (Vec<String>, Vec<String>) =
                absent.collect::<Result<Vec<_>>>()?.into_iter().partition(|n| INSTALLERS.contains(&n.as_str()));
            for n in &installers {
                said.push(format!("{n} is the installer cove manages in each environment: left in place"));
            }
            names.retain(|n| !installers.contains(n));
            if !absent.is_empty() {
                return Err(not_here(project, manifest, &absent));
            }
            said.extend(names.iter().map(|n| format!("removed {n} from {file}")));
            match project.kind {
                _ if names.is_empty() => text.to_string(),
                Kind::Requirements => edit::remove_lines(path, text, &names)?,
                kind => edit::remove_toml(path, text, kind, target, &names)?,
            }
        }
    };
    Ok(Planned { text, said, refresh })
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// The manifest already has it (or, for pip, something that satisfies it).
    Keep,
    Replace,
}

/// Whether requirement `new` replaces `old` (same name) in the manifest. A bare name keeps
/// what the manifest says (its pin stays); so does the same requirement however spelled; and for
/// `pip install`, a specifier the manifest's exact pin satisfies.
fn decide(old: &str, new: &str, pip: bool, dir: &std::path::Path) -> Decision {
    let parse = |t: &str| crate::manifest::requirement::parse_pep508(t, dir).ok();
    let (Some(o), Some(n)) = (parse(old), parse(new)) else { return Decision::Replace };
    let (oc, nc) = (Requirement::from_pep508(&o, old).canonical, Requirement::from_pep508(&n, new).canonical);
    if oc == nc || nc == n.name.as_ref() {
        return Decision::Keep;
    }
    if pip && o.extras == n.extras && o.marker == n.marker {
        use pep508_rs::VersionOrUrl::VersionSpecifier;
        if let (Some(pin), Some(VersionSpecifier(wanted))) = (pinned_version(&o), &n.version_or_url)
            && wanted.contains(&pin)
        {
            return Decision::Keep;
        }
    }
    Decision::Replace
}

/// The version of an exact pin (`==1.2.3`, `===1.2.3`).
fn pinned_version(r: &pep508_rs::Requirement<pep508_rs::VerbatimUrl>) -> Option<pep508_rs::pep440_rs::Version> {
    use pep508_rs::pep440_rs::Operator;
    let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) = &r.version_or_url else { return None };
    match &specs[..] {
        [s] if matches!(s.operator(), Operator::Equal | Operator::ExactEqual) => Some(s.version().clone()),
        _ => None,
    }
}

fn is_pin(text: &str, dir: &std::path::Path) -> bool {
    crate::manifest::requirement::parse_pep508(text, dir).ok().is_some_and(|r| pinned_version(&r).is_some())
}

/// The included requirements file (`-r`) that has a line for `name`, and that line.
fn in_include(manifest: &Manifest, name: &str) -> Option<(std::path::PathBuf, String)> {
    manifest.files.iter().skip(1).filter(|f| f.extension().is_some_and(|e| e != "toml")).find_map(|file| {
        let text = std::fs::read_to_string(file).ok()?;
        edit::find_line(&text, name).map(|line| (file.clone(), line))
    })
}

/// "no requirement named …", naming the included file a requirement comes from when it is
/// not in the manifest's own text.
fn not_here(project: &Project, manifest: &Manifest, absent: &[String]) -> Error {
    let path = &project.manifest;
    for n in absent {
        if let Some((file, _)) = in_include(manifest, n) {
            return Error::InIncludedFile {
                requirement: n.clone(),
                file,
                manifest: path.to_path_buf(),
                removing: true,
            };
        }
    }
    Error::NoSuchRequirement { path: path.to_path_buf(), names: absent.to_vec() }
}

/// Say so when the group or extra just edited is not one the environment is made with.
fn unselected(settings: &Settings, manifest: &Manifest, target: &Target) {
    let sel = &manifest.lock_selection;
    let (what, name, how, chosen) = match target {
        Target::Main => return,
        Target::Group(g) => ("group", g, "groups", sel.groups.clone().unwrap_or_default()),
        Target::Optional(x) => ("extra", x, "extras", sel.extras.clone()),
    };
    if chosen.iter().any(|c| normalise_name(c) == normalise_name(name)) {
        return;
    }
    let mut list: Vec<String> = chosen.iter().map(|c| format!("{c:?}")).collect();
    list.push(format!("{name:?}"));
    crate::ui::note(
        settings.quiet,
        &format!(
            "the {what} `{name}` is not selected, so nothing of it was installed; select it in {} with `[tool.cove] {how} = [{}]`",
            file_name(&manifest.path),
            list.join(", ")
        ),
    );
}

/// Set by SIGINT/SIGTERM while an edit is being synced.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // Stop the installers, so the sync ends now and the edit is rolled back.
    crate::build::backend::running::signal(sig);
}

/// While armed, SIGINT and SIGTERM do not kill cove: they stop the installer and mark the edit
/// interrupted, so it is rolled back like a failed one.
struct Interrupt {
    old: [libc::sighandler_t; 2],
}

impl Interrupt {
    fn arm() -> Interrupt {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only touches atomics and calls kill, both async-signal-safe.
        let old = unsafe { [libc::signal(libc::SIGINT, handler), libc::signal(libc::SIGTERM, handler)] };
        Interrupt { old }
    }

    /// Put the old handlers back; whether a signal came.
    fn disarm(self) -> bool {
        // SAFETY: restoring the dispositions saved by `arm`.
        unsafe {
            libc::signal(libc::SIGINT, self.old[0]);
            libc::signal(libc::SIGTERM, self.old[1]);
        }
        INTERRUPTED.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_keep_what_the_manifest_says() {
        let d = |old: &str, new: &str, pip: bool| decide(old, new, pip, std::path::Path::new("/"));
        assert_eq!(d("requests==2.32.3", "requests", true), Decision::Keep);
        assert_eq!(d("requests==2.32.3", "Requests", false), Decision::Keep);
        assert_eq!(d("requests==2.32.3", "requests == 2.32.3", false), Decision::Keep);
        assert_eq!(d("requests==2.32.3", "requests>=2", true), Decision::Keep);
        assert_eq!(d("requests==2.32.3", "requests>=2", false), Decision::Replace);
        assert_eq!(d("requests==2.32.3", "requests>=3", true), Decision::Replace);
        assert_eq!(d("requests==2.32.3", "requests==2.31.0", true), Decision::Replace);
        assert_eq!(d("requests>=2", "requests>=2.1", true), Decision::Replace);
    }
}
