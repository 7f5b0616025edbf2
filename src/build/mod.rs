//! Build an environment on a cache miss, so that it is never seen half-built (SPEC §3).
//!
//! Through [`crate::cache::staging::ensure`], under the key's lock: pull it from the team cache, or
//! build it in an attempt folder of its own: create the venv, install, then seal it
//! (`cove-env.json`, the size listing, the ready marker) and rename the folder onto
//! `envs/<key>` (swapping out an old one on `--refresh`, so processes running it are never left
//! without one). A failed install removes the attempt. Any number of processes asking for one
//! key build it once; the rest wait.
//!
//! Every use that finds the environment ready or builds it also records the use and keeps a
//! `.venv` link cove made current (see [`after_use`]): a few stats, a small read and a readlink.

pub mod backend;
pub mod layer;
pub mod layer_copy;
pub mod link;

use crate::cache::staging::{Published, Staging, Wait};
use crate::cache::{self, Cache, Entry};
use crate::error::Result;
use crate::plan::project::{Kind, Project};
use crate::plan::{Brief, Plan};
use crate::settings::Settings;
use crate::ui::progress::Progress;
use backend::{Install, Output};

#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// Rebuild even when ready (`cove sync --refresh`).
    pub refresh: bool,
    /// Ask on a terminal when the manifest is untrusted.
    pub prompt: bool,
    /// Rebuild what is ready but has lost installed files ([`damage`]; `cove sync`). Costs a
    /// stat per installed file: never on the warm path.
    pub repair: bool,
    /// The project's layer is built beside the environment (set by `ensure`).
    pub beside_layer: bool,
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
    crate::plan::trust::require(&plan.manifest, settings, opts.prompt)?;
    Cache::new(&settings.cache_dir).check_private()?;
    let layer_ready = plan.layer_dir.as_ref().is_none_or(|l| cache::ready_at(l));
    let layer_damaged =
        opts.repair && layer_ready && plan.layer_dir.as_ref().is_some_and(|l| cache::missing_file(l).is_some());
    if !layer_ready || opts.refresh || layer_damaged {
        // The layer is built beside the environment (its installer does not need it until the
        // layer is sealed, see `layer::ensure`), and published only over a ready one.
        let refresh = opts.refresh || layer_damaged;
        let (env, layer) = std::thread::scope(|s| {
            let (ready, wait) = std::sync::mpsc::channel::<bool>();
            let layer = s.spawn(move || {
                // Asked once or more (the pip backend asks before it installs and again
                // before it seals); the answer comes once.
                let known = std::sync::OnceLock::new();
                let base_ready = || *known.get_or_init(|| wait.recv().unwrap_or(false));
                crate::build::layer::ensure(plan, settings, refresh, &base_ready)
            });
            let env = ensure_env(plan, settings, Options { beside_layer: true, ..opts });
            let _ = ready.send(env.is_ok());
            // What the layer adds once the environment is ready (the rest ran beside it).
            (env, crate::timings::time("layer", || layer.join()))
        });
        env?;
        layer.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        crate::timings::flush();
        return Ok(Outcome::Built);
    }
    let outcome = ensure_env(plan, settings, opts)?;
    if outcome == Outcome::Built {
        crate::timings::flush();
    }
    Ok(outcome)
}

fn ensure_env(plan: &Plan, settings: &Settings, opts: Options) -> Result<Outcome> {
    let cache = Cache::new(&settings.cache_dir);
    cache.check_private()?;
    let entry = cache.entry(cache::Kind::Env, &plan.key.hex);
    // A damaged environment is rebuilt (swapped in like a refresh, see `staging`).
    let ready = || !opts.refresh && entry.is_usable() && !(opts.repair && cache::missing_file(entry.dir()).is_some());
    let wait = Wait { what: &|| format!("environment {}", plan.key.short()), quiet: settings.quiet, hold: false };
    let ensured = crate::cache::staging::ensure(&cache, &entry, &wait, ready, |staging| {
        if plan.manifest.notes.iter().any(|n| n == crate::manifest::parts::REMOTE_IGNORED) {
            crate::ui::note(
                settings.quiet,
                &format!("{}: {}", plan.manifest.path.display(), crate::manifest::parts::REMOTE_IGNORED),
            );
        }
        // The team cache first (SPEC §8): published as a build is, or nothing and a build.
        let staging = if opts.refresh || settings.remote.is_none() {
            staging
        } else {
            match crate::remote::pull(plan, settings, staging) {
                Some(published) => {
                    crate::shim::links::link_env_scripts(settings, entry.dir());
                    return Ok(published);
                }
                None => Staging::new(&cache, &entry)?,
            }
        };
        let published = build_locked(plan, settings, &cache, &entry, staging, opts.beside_layer)?;
        if settings.remote.as_ref().is_some_and(|r| r.push) && crate::remote::shareable(&plan.key.canonical) {
            crate::remote::push_in_background(settings, &plan.key.hex);
        }
        Ok(published)
    })?;
    drop(ensured.guard);
    after_use(&plan.brief(), &cache);
    Ok(if ensured.built { Outcome::Built } else { Outcome::AlreadyReady })
}

/// The warm path, for a plan in brief (a remembered one, see `memo`): when it is trusted and
/// its environment (and layer) ready, record the use as [`ensure`] does and say so; else
/// `false`, and [`ensure`] with the whole plan asks, refuses or builds. A trust stat, two that
/// `COVE_HOME` and its trust store are private, the cache's check (once per process), a ready
/// stat and a `python` stat, and with a layer a layer-ready stat.
pub fn reuse(brief: &Brief, settings: &Settings) -> Result<bool> {
    if !crate::plan::trust::allows(&brief.project.manifest, &brief.digest, settings) {
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
    match crate::plan::resolve::remembered(project, settings)? {
        Some(brief) if reuse(&brief, settings)? => Ok(Some(brief)),
        _ => Ok(None),
    }
}

/// Record the use (stamp, project → key) and repoint the project's `.venv` link if cove made
/// one and it is stale. Cheap enough for the shim's warm path; writes only when something changed.
fn after_use(brief: &Brief, cache: &Cache) {
    crate::cache::usage::touch(&brief.env_dir);
    if brief.overlay {
        return; // one run's overlay: the project's own environment stays its record and its link
    }
    if brief.project.kind == Kind::Script {
        crate::cache::usage::record_project(cache, &brief.project.manifest, &brief.key, &brief.python);
    } else {
        crate::cache::usage::record_project(cache, &brief.project.dir, &brief.key, &brief.python);
        crate::build::link::refresh(&brief.project.dir, brief.venv().dir, cache);
    }
}

/// Build the environment in `staging` and publish it (its lock held).
fn build_locked(
    plan: &Plan,
    settings: &Settings,
    cache: &Cache,
    entry: &Entry,
    mut staging: Staging,
    beside_layer: bool,
) -> Result<Published> {
    let backend = backend::select(settings)?;
    // The venv is made in the attempt's folder; installs go through a stable path to it when
    // the installer profits (see `staging`).
    let through =
        if backend.remembers_interpreters_by_path() { staging.stable_path(cache) } else { staging.dir.clone() };
    let env = &staging.dir;
    let log = entry.fresh_log()?;
    let interp = plan.interpreter();
    if let Some(stale) = &plan.lock_note {
        crate::ui::warn(&stale.to_string());
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
    let shown_paths = vec![(staging.dir.clone(), plan.env_dir.clone()), (through.clone(), plan.env_dir.clone())];
    let out =
        Output { log, verbose: settings.verbose, hand_down: staging.slot_lock(), shown_paths, show_failure: true };
    let requirements: Vec<String> = plan.install.iter().map(|r| r.canonical.clone()).collect();
    let constraints: Vec<String> = plan.manifest.constraints.iter().map(|r| r.canonical.clone()).collect();
    let install = Install {
        requirements: &requirements,
        constraints: &constraints,
        locked: plan.lock_files.as_deref(),
        index: &plan.manifest.index,
        offline: settings.offline,
        beside: beside_layer,
    };
    use crate::timings::time;
    let result = time("venv", || backend.create(interp, env, &out))
        .and_then(|()| {
            progress.phase(&format!("installing {counted}"));
            time("install", || backend.install(interp, &through, &install, &out))
        })
        .and_then(|()| {
            // Local projects with dynamic dependencies (setup.py): the installer resolves them,
            // into this environment of their own (its key names the project).
            time("install", || {
                plan.local_projects(true).iter().try_for_each(|p| {
                    backend.install_editable(&through, &crate::build::layer::with_extras(p), true, &install, &out)
                })
            })
        })
        .map(|()| crate::cache::usage::touch(env))
        .and_then(|()| time("seal", || staging.publish(|usage| plan.env_info(backend.name(), usage, "built"))));
    let published = match result {
        Ok(published) => published,
        Err(e) => {
            progress.fail();
            return Err(backend::blame(e, &plan.manifest, settings.offline));
        }
    };
    if plan.overlay.is_none() {
        crate::shim::links::link_env_scripts(settings, &plan.env_dir);
    }
    progress.finish(&format!("{}, {counted}", interp.describe()));
    note_changed_manifest(plan);
    Ok(published)
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
