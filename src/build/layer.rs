//! The project itself, installed in editable mode (PEP 660) in a thin per-project layer over
//! the shared environment (SPEC §2 "The project itself").
//!
//! A layer is a venv on the same base interpreter whose site-packages holds `_cove_base.pth`,
//! naming the shared environment's site-packages, plus the project's editable install, its
//! metadata and console scripts. Two projects with equal requirements share one environment
//! and have a layer each. A layer's key covers the shared key, the project folder and its
//! `[project]` + `[build-system]` tables, so a source edit needs nothing and a metadata change
//! remakes only the layer. Built like an environment ([`crate::cache::staging::ensure`]): under its
//! lock, in an attempt folder of its own, sealed (ready marker, size listing), then renamed into
//! place. A second checkout of a project copies the first's layer when it can
//! ([`crate::build::layer_copy`]).
//!
//! ```text
//! layers/<layer key>/               the venv
//! layers/<layer key>/.cove-ready    written when sealed, before the rename
//! layers/<layer key>/cove-layer.json  shared key and project folder (for list and gc)
//! ```

use std::path::{Path, PathBuf};

use crate::build::backend::{self, Install, Output};
use crate::cache::staging::{Staging, Wait};
use crate::cache::{Cache, Entry, Kind, LayerInfo};
use crate::error::{Error, IoContext, Result};
use crate::manifest::LocalProject;
use crate::plan::Plan;
use crate::settings::Settings;

/// The site-packages folder of a venv made on `plan`'s interpreter.
fn site_packages(venv: &Path, plan: &Plan) -> PathBuf {
    let v = &plan.interpreter().facts.python_version;
    venv.join("lib").join(format!("python{v}")).join("site-packages")
}

/// Make sure the plan's layer over its environment exists. `base_ready` waits until the
/// environment is ready (`false`: it will not be): the layer may be built while the
/// environment is, and is published only over a ready one.
pub fn ensure(plan: &Plan, settings: &Settings, refresh: bool, base_ready: &dyn Fn() -> bool) -> Result<()> {
    let projects = plan.local_projects(false);
    if plan.layer_dir.is_none() {
        return Ok(());
    }
    let cache = Cache::new(&settings.cache_dir);
    let entry = cache.entry(Kind::Layer, &crate::plan::key::layer_key(&plan.key.hex, &projects));
    let what = || format!("the project layer of {}", plan.project.dir.display());
    let wait = Wait { what: &what, quiet: settings.quiet, hold: false };
    crate::cache::staging::ensure(
        &cache,
        &entry,
        &wait,
        || !refresh && entry.is_ready(),
        |mut staging| {
            let names: Vec<String> = projects.iter().map(|p| p.dir.display().to_string()).collect();
            // Another checkout's layer, copied, when nothing in it is doubtful (see `layer_copy`).
            let copied = if refresh {
                Err("--refresh".to_string())
            } else {
                crate::build::layer_copy::copy(plan, &projects, &cache, &entry, &staging.dir)
            };
            if let Err(doubt) = &copied
                && settings.verbose
            {
                crate::ui::note(settings.quiet, &format!("no layer of another checkout to copy ({doubt})"));
            }
            let first = match &copied {
                Ok((_, from)) => format!("copying the layer of {}", from.display()),
                Err(_) => format!("installing {} in editable mode", names.join(", ")),
            };
            let progress = crate::ui::progress::Progress::start(
                format!("the project layer {}", &entry.key()[..12]),
                None,
                &first,
                settings.quiet,
                settings.verbose,
            );
            let editable = format!("{} editable", names.join(", "));
            let (result, done) = match copied {
                Ok((info, from)) => (
                    wait_for_base(plan, base_ready).and_then(|()| staging.publish(|_| info)),
                    format!("{editable}, copied from the layer of {}", from.display()),
                ),
                Err(_) => {
                    let built = build(plan, &projects, settings, &cache, &entry, &mut staging, base_ready);
                    (built.and_then(|info| staging.publish(|_| info)), editable)
                }
            };
            let published = match result {
                Ok(published) => published,
                Err(e) => {
                    progress.fail();
                    return Err(crate::build::backend::blame(e, &plan.manifest, settings.offline));
                }
            };
            if plan.overlay.is_none() {
                crate::shim::links::link_env_scripts(settings, entry.dir());
            }
            progress.finish(&done);
            Ok(published)
        },
    )?;
    Ok(())
}

/// Make `entry`'s layer in `staging`'s folder; returns its info file.
fn build(
    plan: &Plan,
    projects: &[LocalProject],
    settings: &Settings,
    cache: &Cache,
    entry: &Entry,
    staging: &mut Staging,
    base_ready: &dyn Fn() -> bool,
) -> Result<LayerInfo> {
    let (log, target) = (entry.fresh_log()?, entry.dir());
    let backend = backend::select(settings)?;
    // An installer that runs from the environment (pip, through the layer's `.pth`) needs it first.
    if backend.needs_base_to_install_editable() {
        wait_for_base(plan, base_ready)?;
    }
    // Installs go through a stable path to the folder when the installer profits (see `staging`).
    let through =
        if backend.remembers_interpreters_by_path() { staging.stable_path(cache) } else { staging.dir.clone() };
    let layer = &staging.dir;
    let shown_paths = vec![(layer.clone(), target.to_path_buf()), (through.clone(), target.to_path_buf())];
    let out =
        Output { log, verbose: settings.verbose, hand_down: staging.slot_lock(), shown_paths, show_failure: true };
    backend.create(plan.interpreter(), layer, &out)?;
    let site = site_packages(layer, plan);
    let base_site = site_packages(&plan.env_dir, plan);
    if !site.is_dir() {
        return Err(Error::NoSitePackages { venv: layer.to_path_buf() });
    }
    // A .pth line naming a folder puts it on sys.path after the layer's own site-packages.
    // Not flushed, like everything in an attempt: the size listing tells a file a power loss
    // cut short (see `staging`).
    let pth = format!("{}\n", base_site.display());
    crate::fsx::write_atomic_unsynced(&site.join("_cove_base.pth"), pth.as_bytes())?;
    let install = Install {
        requirements: &[],
        constraints: &[],
        locked: None,
        index: &plan.manifest.index,
        offline: settings.offline,
        beside: false,
    };
    match locked_project(plan, projects) {
        // A uv.lock says what the project needs: no metadata call (the lock's other packages
        // are the environment's). When that fails, the editable install below says why.
        Some(dir) if backend_installs_locked(&*backend, &through, dir, plan, &install, &out) => {}
        _ => {
            for project in projects {
                backend.install_editable(&through, &with_extras(project), false, &install, &out)?;
            }
        }
    }
    wait_for_base(plan, base_ready)?;
    adopt_scripts(&plan.env_dir, layer)?;
    Ok(LayerInfo {
        env: plan.key.hex.clone(),
        project: crate::fsx::lossy(&plan.project.dir),
        installs: projects.iter().map(|p| crate::fsx::lossy(&p.dir)).collect(),
        relocation: crate::build::layer_copy::relocation_key(&plan.key.hex, projects),
    })
}

/// The project's folder when the layer installs just the project and its `uv.lock` is in use.
fn locked_project<'a>(plan: &Plan, projects: &'a [LocalProject]) -> Option<&'a Path> {
    let lock = plan.lock.as_deref()?;
    let [p] = projects else { return None };
    (lock.file_name()? == "uv.lock" && lock.parent() == Some(p.dir.as_path()) && p.dir == plan.project.dir)
        .then_some(p.dir.as_path())
}

fn backend_installs_locked(
    backend: &dyn backend::Backend,
    layer: &Path,
    dir: &Path,
    plan: &Plan,
    install: &Install,
    out: &Output,
) -> bool {
    let skip: Vec<&str> = plan.install.iter().map(|r| r.name.as_str()).collect();
    matches!(backend.install_editable_locked(layer, dir, &skip, install, &out.trial()), Ok(true))
        && has_dist_info(&site_packages(layer, plan), plan)
}

/// Whether `site` holds the project's `*.dist-info` (a `[tool.uv] package = false` project
/// syncs without being installed).
fn has_dist_info(site: &Path, plan: &Plan) -> bool {
    let Some(name) = plan.manifest.lock_selection.project.as_deref() else { return false };
    let want = format!("{}-", name.replace(['-', '.'], "_").to_lowercase());
    std::fs::read_dir(site).into_iter().flatten().flatten().any(|e| {
        let n = e.file_name().to_string_lossy().to_lowercase();
        n.starts_with(&want) && n.ends_with(".dist-info")
    })
}

/// Wait until the environment under the layer is ready; an error when it will not be.
fn wait_for_base(plan: &Plan, base_ready: &dyn Fn() -> bool) -> Result<()> {
    if base_ready() { Ok(()) } else { Err(Error::NotBuilt { key: plan.key.short().to_string() }) }
}

/// `dir[extra,…]`, the form installers take for a folder with extras.
pub fn with_extras(project: &LocalProject) -> PathBuf {
    if project.extras.is_empty() {
        project.dir.clone()
    } else {
        PathBuf::from(format!("{}[{}]", project.dir.display(), project.extras.join(",")))
    }
}

/// Give the layer the shared environment's console scripts (`pytest`, `pip`, …), re-pointed at
/// the layer's python, so they import the project too. A script's only tie to its environment
/// is the interpreter path in its shebang (or in pip's `/bin/sh` trampoline for long paths).
/// Every other executable (a compiled tool such as ruff, a shell script) gets a link to the
/// environment's own, so whatever the environment's `bin` offers, the layer's does too.
fn adopt_scripts(env: &Path, layer: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let (from, to) = (env.join("bin"), layer.join("bin"));
    let old = format!("{}/python", from.display());
    let new = format!("{}/python", to.display());
    for entry in std::fs::read_dir(&from).ctx("read", &from)?.flatten() {
        let name = entry.file_name();
        let n = name.to_string_lossy();
        let target = to.join(&name);
        if n.starts_with("python") || n.starts_with("activate") || n.starts_with("Activate") || target.exists() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if !text.starts_with("#!") || !text.contains(&old) {
            if crate::plan::interpreter::is_executable(&entry.path()) {
                std::os::unix::fs::symlink(from.join(&name), &target).ctx("link", &target)?;
            }
            continue;
        }
        std::fs::write(&target, text.replace(&old, &new)).ctx("write", &target)?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).ctx("set permissions of", &target)?;
    }
    Ok(())
}
