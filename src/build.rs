//! Build an environment on a cache miss, so that it is never seen half-built (SPEC §3).
//!
//! Under the key's lock: re-check, then build in an attempt folder of its own (`staging`):
//! create the venv, install, then seal it (`cove-env.json`, the size listing, the ready marker)
//! and rename the folder onto `envs/<key>` (swapping out an old one on `--refresh`, so
//! processes running it are never left without one). A failed install removes the attempt. Any
//! number of processes asking for one key build it once; the rest wait.
//!
//! Every use that finds the environment ready or builds it also records the use and keeps a
//! `.venv` link cove made current (see [`after_use`]): a few stats, a small read and a readlink.

use crate::backend::{self, Install, Output};
use crate::cache::{self, Cache};
use crate::error::Result;
use crate::progress::Progress;
use crate::project::{Kind, Project};
use crate::resolve::{Brief, Plan};
use crate::settings::Settings;

#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// Rebuild even when ready (`cove sync --refresh`).
    pub refresh: bool,
    /// Ask on a terminal when the manifest is untrusted.
    pub prompt: bool,
    /// Rebuild what is ready but has lost installed files ([`damage`]; `cove sync`). Costs a
    /// stat per installed file: never on the warm path.
    pub repair: bool,
}

/// The first installed file missing from the plan's ready environment or layer (full path):
/// someone removed it by hand. See [`cache::missing_file`].
pub fn damage(plan: &Plan) -> Option<std::path::PathBuf> {
    let dirs = std::iter::once(&plan.env_dir).chain(plan.layer_dir.as_ref());
    dirs.filter(|d| cache::ready_at(d)).find_map(|d| cache::missing_file(d).map(|f| d.join(f)))
}

/// What `ensure` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    AlreadyReady,
    Built,
}

/// Make sure the plan's environment (and the project's layer over it) is ready, building what
/// is missing. The warm path is [`reuse`].
pub fn ensure(plan: &Plan, settings: &Settings, opts: Options) -> Result<Outcome> {
    if !opts.refresh && !opts.repair && reuse(&plan.brief(), settings)? {
        return Ok(Outcome::AlreadyReady);
    }
    crate::trust::require(&plan.manifest, settings, opts.prompt)?;
    Cache::new(&settings.cache_dir).check_private()?;
    let layer_ready = plan.layer_dir.as_ref().is_none_or(|l| cache::ready_at(l));
    let layer_damaged =
        opts.repair && layer_ready && plan.layer_dir.as_ref().is_some_and(|l| cache::missing_file(l).is_some());
    let outcome = ensure_env(plan, settings, opts)?;
    if !layer_ready || opts.refresh || layer_damaged {
        crate::layer::ensure(plan, settings, opts.refresh || layer_damaged)?;
        return Ok(Outcome::Built);
    }
    Ok(outcome)
}

fn ensure_env(plan: &Plan, settings: &Settings, opts: Options) -> Result<Outcome> {
    let cache = Cache::new(&settings.cache_dir);
    cache.check_private()?;
    // A damaged environment is rebuilt (swapped in like a refresh, see `staging`).
    let damaged = || opts.repair && cache::missing_file(&plan.env_dir).is_some();
    if !opts.refresh && cache.is_usable(&plan.key.hex) && !damaged() {
        after_use(&plan.brief(), &cache);
        return Ok(Outcome::AlreadyReady);
    }
    cache.prepare()?;
    let what = format!("environment {}", plan.key.short());
    let guard = crate::lock::exclusive(&cache.lock_path(&plan.key.hex), &what, settings.quiet)?;
    let outcome = if !opts.refresh && cache.is_usable(&plan.key.hex) && !damaged() {
        Outcome::AlreadyReady
    } else {
        if plan.manifest.notes.iter().any(|n| n == crate::manifest::REMOTE_IGNORED) {
            crate::ui::note(
                settings.quiet,
                &format!("{}: {}", plan.manifest.path.display(), crate::manifest::REMOTE_IGNORED),
            );
        }
        // The team cache first (SPEC §8): published as a build is, or nothing and a build.
        if !opts.refresh && settings.remote.is_some() && crate::remote::pull(plan, settings, &cache) {
            crate::shims::link_env_scripts(settings, &plan.env_dir);
        } else {
            build_locked(plan, settings, &cache)?;
            if settings.remote.as_ref().is_some_and(|r| r.push) && crate::remote::shareable(&plan.key.canonical) {
                crate::remote::push_in_background(settings, &plan.key.hex);
            }
        }
        Outcome::Built
    };
    drop(guard);
    after_use(&plan.brief(), &cache);
    Ok(outcome)
}

/// The warm path, for a plan in brief (a remembered one, see `memo`): when it is trusted and
/// its environment (and layer) ready, record the use as [`ensure`] does and say so; else
/// `false`, and [`ensure`] with the whole plan asks, refuses or builds. A trust stat, two that
/// `COVE_HOME` and its trust store are private, the cache's check (once per process), a ready
/// stat and a `python` stat, and with a layer a layer-ready stat.
pub fn reuse(brief: &Brief, settings: &Settings) -> Result<bool> {
    if !crate::trust::allows(&brief.project.manifest, &brief.digest, settings) {
        return Ok(false);
    }
    let cache = Cache::new(&settings.cache_dir);
    cache.check_private()?;
    let ready = brief.layer_dir.as_ref().is_none_or(|l| cache::ready_at(l)) && cache.is_usable(&brief.key);
    if ready {
        after_use(brief, &cache);
    }
    Ok(ready)
}

/// The warm path of the shim and `cove run`: the plan remembered for `project` (see `memo`), in
/// brief, when [`reuse`] takes it; `None` when the whole plan must be made.
pub fn reuse_remembered(project: &Project, settings: &Settings) -> Result<Option<Brief>> {
    match crate::resolve::remembered(project, settings)? {
        Some(brief) if reuse(&brief, settings)? => Ok(Some(brief)),
        _ => Ok(None),
    }
}

/// Record the use (stamp, project → key) and repoint the project's `.venv` link if cove made
/// one and it is stale. Cheap enough for the shim's warm path; writes only when something changed.
fn after_use(brief: &Brief, cache: &Cache) {
    crate::usage::touch(&brief.env_dir);
    if brief.overlay {
        return; // one run's overlay: the project's own environment stays its record and its link
    }
    if brief.project.kind == Kind::Script {
        crate::usage::record_project(cache, &brief.project.manifest, &brief.key, &brief.python);
    } else {
        crate::usage::record_project(cache, &brief.project.dir, &brief.key, &brief.python);
        crate::link::refresh(&brief.project.dir, brief.venv().dir, cache);
    }
}

fn build_locked(plan: &Plan, settings: &Settings, cache: &Cache) -> Result<()> {
    let mut staging = crate::staging::Staging::new(cache, &plan.key.hex)?;
    let backend = backend::select(settings)?;
    // The venv is made in the attempt's folder; installs go through a stable path to it when
    // the installer profits (see `staging`).
    let through = if backend.remembers_interpreters_by_path() {
        staging.stable_path(cache, &plan.env_dir)
    } else {
        staging.dir.clone()
    };
    let env = &staging.dir;
    let log = cache.log_path(&plan.key.hex);
    crate::fsx::create_private_dir(log.parent().expect("logs folder"))?;
    // Emptied, not removed: keeps its file (making one is slow on a filesystem busy deleting).
    std::fs::File::create(&log).map_err(|e| crate::error::Error::io("write log", &log, e))?;
    let interp = plan.interpreter();
    if let Some(note) = &plan.lock_note {
        crate::ui::warn(note);
    }
    let with = plan.overlay.as_ref().map(|o| o.with.as_slice()).unwrap_or_default();
    let n = plan.install.len() - with.len();
    let what = if plan.lock.is_some() { "locked version" } else { "requirement" };
    let mut counted = format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    if !with.is_empty() {
        let names: Vec<&str> = with.iter().map(|r| r.canonical.as_str()).collect();
        counted.push_str(&format!(" + --with {}", names.join(" ")));
    }
    let header =
        format!("building environment {} ({}, {counted}) with {}", plan.key.short(), interp.describe(), backend.name());
    let label = format!("env {}", plan.key.short());
    let progress = Progress::start(label, Some(&header), "creating the venv", settings.quiet, settings.verbose);
    let out = Output { log, verbose: settings.verbose, hand_down: staging.slot_lock() };
    let requirements: Vec<String> = plan.install.iter().map(|r| r.canonical.clone()).collect();
    let constraints: Vec<String> = plan.manifest.constraints.iter().map(|r| r.canonical.clone()).collect();
    let install = Install {
        requirements: &requirements,
        constraints: &constraints,
        index: &plan.manifest.index,
        offline: settings.offline,
    };
    let result = backend
        .create(interp, env, &out)
        .and_then(|()| {
            progress.phase(&format!("installing {counted}"));
            backend.install(interp, &through, &install, &out)
        })
        .and_then(|()| {
            // Local projects with dynamic dependencies (setup.py): the installer resolves them,
            // into this environment of their own (its key names the project).
            plan.dynamic_projects().iter().try_for_each(|p| {
                backend.install_editable(&through, &crate::layer::with_extras(p), true, &install, &out)
            })
        })
        .map(|()| crate::usage::touch(env))
        .and_then(|()| {
            staging.publish_with_info(&plan.env_dir, cache::INFO, |size| info(plan, backend.name(), size, "built"))
        });
    if let Err(e) = result {
        progress.fail();
        return Err(e);
    }
    if plan.overlay.is_none() {
        crate::shims::link_env_scripts(settings, &plan.env_dir);
    }
    progress.finish(&format!("{}, {counted}", interp.describe()));
    note_changed_manifest(plan);
    Ok(())
}

/// The build used the manifest as read before it started; say so when it changed meanwhile
/// (the environment built is the one for what was read, and it is what runs now).
fn note_changed_manifest(plan: &Plan) {
    if plan.manifest.changed_on_disk() {
        crate::ui::warn(&format!(
            "{} changed during the build; this run uses what was read before, the next one the new content",
            plan.manifest.path.display()
        ));
    }
}

/// `cove-env.json`: what the environment was built from, and its size (measured once, at
/// publish, so `cove list` need not walk every environment); `origin` is `built` or `pulled
/// from <remote>`.
pub fn info(plan: &Plan, backend: &str, size: u64, origin: &str) -> Vec<u8> {
    serde_json::json!({
        "key": plan.key.hex,
        "canonical": plan.key.canonical,
        "python": crate::fsx::lossy(&plan.interpreter().path),
        "python_version": plan.interpreter().facts.python_full_version,
        "requirements": plan.install.len(),
        "lock": plan.lock.as_ref().map(crate::fsx::lossy),
        "manifest": crate::fsx::lossy(&plan.manifest.path),
        "backend": backend,
        "with": plan.overlay.as_ref().map(|o| o.with.iter().map(|r| r.canonical.as_str()).collect::<Vec<_>>()),
        "over": plan.overlay.as_ref().map(|o| o.base_key.as_str()),
        "origin": origin,
        "size": size,
        "created": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
    })
    .to_string()
    .into_bytes()
}
