//! `cove lock [--check] [--upgrade] [--upgrade-package NAME]` (SPEC §2, §7): resolve the
//! project's requirements (the chosen groups and extras, as the manifest reads) for its
//! interpreter and write `pylock.toml` with the backend's resolver. From then on the existing
//! lock support uses it: the environment gets its pins and the key is made from them.
//!
//! The resolver may build packages from source, so the project must be trusted first, as for a
//! build. It runs in a work folder of its own on a requirements file cove writes there from the
//! manifest's canonical requirements; the lock it writes there is checked, marked as cove's
//! (`created-by = "cove"`, so a stale lock's message says `cove lock`), and only then renamed
//! into the project. An earlier `pylock.toml` is copied in first, so uv keeps its versions
//! unless asked to upgrade.
//!
//! `--check` writes nothing: exit 0 when the lock in use matches the manifest, 1 when it is
//! missing or stale (the same test a build makes, `manifest::locks::stale`).

use std::path::{Path, PathBuf};

use crate::build::backend::lock::Resolve;
use crate::error::{Error, IoContext, Result};
use crate::manifest::locks::{self, Use};
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub struct Options {
    pub check: bool,
    pub upgrade: bool,
    pub upgrade_packages: Vec<String>,
}

pub const FILE: &str = "pylock.toml";

pub fn run(settings: &Settings, opts: Options) -> Result<()> {
    let project = crate::plan::resolve::require_project()?;
    if project.kind == crate::plan::project::Kind::Script {
        return Err(Error::NotForScripts { command: "lock" });
    }
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    if opts.check {
        return check(settings, &crate::plan::resolve::plan(project, settings, &finder)?);
    }
    // A lock that does not read (damaged, cut short) must not stop `cove lock` from replacing it.
    let plan = match crate::plan::resolve::plan(project.clone(), settings, &finder) {
        Ok(plan) => plan,
        Err(e) if crate::manifest::locks::find(&project.dir).is_some() => {
            let unlocked = Settings { use_lock: false, ..settings.clone() };
            crate::plan::resolve::plan(project.clone(), &unlocked, &finder).map_err(|_| e)?
        }
        Err(e) => return Err(e),
    };
    crate::plan::trust::require(&plan.manifest, settings, true)?;
    let was_trusted = crate::plan::trust::is_trusted(&plan.manifest, settings);
    let interp = plan.interpreter();

    let work = WorkDir::new()?;
    // The requirements (and constraints) as canonical lines, one file each.
    let write = |name: &str, reqs: &[crate::manifest::requirement::Requirement]| -> Result<PathBuf> {
        let file = work.0.join(name);
        let text: String = reqs.iter().map(|r| format!("{}\n", r.canonical)).collect();
        crate::fsx::write_atomic_unsynced(&file, text.as_bytes())?;
        Ok(file)
    };
    let input = write("requirements.in", &plan.manifest.requirements)?;
    let constraints = &plan.manifest.constraints;
    let constraints = (!constraints.is_empty()).then(|| write("constraints.txt", constraints)).transpose()?;
    let output = work.0.join(FILE);
    let target = project.dir.join(FILE);
    if !opts.upgrade && std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file()) {
        // The versions locked so far are uv's preferences: kept unless asked to upgrade. A
        // lock that does not read is not handed on (uv would fail on it): it is replaced.
        let earlier = crate::fsx::read_manifest(&target).ok().and_then(|b| String::from_utf8(b).ok());
        if let Some(text) = earlier.filter(|t| t.parse::<toml_edit::DocumentMut>().is_ok()) {
            crate::fsx::write_atomic_unsynced(&output, text.as_bytes())?;
        }
    }
    let cache = crate::cache::Cache::new(&settings.cache_dir);
    cache.prepare()?;
    let log = cache.log_path("lock");
    crate::fsx::create_private_dir(log.parent().expect("logs folder"))?;
    std::fs::File::create(&log).ctx("write log", &log)?;
    let out = crate::build::backend::Output {
        log,
        verbose: settings.verbose,
        hand_down: None,
        shown_paths: vec![(output.clone(), target.clone())],
        show_failure: true,
    };
    let resolve = Resolve {
        interpreter: interp,
        input: &input,
        constraints: constraints.as_deref(),
        output: &output,
        index: &plan.manifest.index,
        offline: settings.offline,
        upgrade: opts.upgrade,
        upgrade_packages: &opts.upgrade_packages,
    };
    let backend = crate::build::backend::select(settings)?;
    let resolver = if backend.name() == "uv" {
        let uv = crate::build::backend::find_uv(&settings.home_dir)?.ok_or(Error::NoUv { asked: false })?;
        crate::build::backend::lock::uv(&uv, &resolve, &out)?;
        "uv"
    } else {
        if let Err(has) = crate::build::backend::lock::pip_that_locks(interp) {
            return Err(Error::NoLocker { has });
        }
        crate::build::backend::lock::pip(&resolve, &out)?;
        "pip"
    };
    let written = std::fs::read_to_string(&output).ctx("read", &output)?;
    let text = mark_as_cove(&output, &written, resolver)?;
    // Read back as a build will read it: it must parse and match the manifest.
    let lock = locks::load(&target, locks::Kind::Pylock, &text, &plan.manifest.lock_selection, &interp.markers())?;
    if let Some(why) = locks::stale(&lock, &plan.manifest.requirements, &interp.markers()) {
        return Err(Error::LockMismatch { why });
    }
    crate::fsx::write_atomic(&target, text.as_bytes())?;
    drop(work);

    let after = crate::plan::resolve::plan(project, settings, &finder)?;
    if was_trusted {
        crate::plan::trust::trust(&after.manifest, settings)?;
    }
    let n = lock.pins.len();
    let mut t = format!(
        "wrote {}: {n} package{} for {} ({resolver})\n",
        target.display(),
        if n == 1 { "" } else { "s" },
        interp.describe()
    );
    if plan.key.hex != after.key.hex {
        t.push_str(&format!("key: {} → {}\n", plan.key.short(), after.key.short()));
    } else {
        t.push_str(&format!("key: {} (unchanged)\n", after.key.short()));
    }
    if after.lock.is_none() {
        t.push_str("note: lock files are turned off here (use-lock = false, or --no-lock), so builds do not use it\n");
    }
    crate::ui::out(&t);
    Ok(())
}

/// `--check`: the lock in use, read as a build reads it.
fn check(settings: &Settings, plan: &crate::plan::Plan) -> Result<()> {
    match locks::resolve(&settings.cache_dir, &plan.manifest, plan.interpreter())? {
        None => Err(Error::NoLockFile { dir: plan.project.dir.clone() }),
        Some(Use::Stale(stale)) => Err(Error::StaleLock(stale)),
        Some(Use::Pins { path, pins, .. }) => {
            let name = plan.manifest.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            crate::ui::out(&format!("{} is current for {name} ({} pins)\n", path.display(), pins.len()));
            Ok(())
        }
    }
}

/// The resolver's lock with cove named as its maker (PEP 751 `created-by`, which the stale
/// message turns into the command that refreshes it) and a header saying how it was made.
fn mark_as_cove(path: &Path, text: &str, resolver: &str) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| Error::LockUnreadable {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })?;
    doc.insert("created-by", toml_edit::value("cove"));
    let body = doc.to_string();
    let body = body.trim_start_matches('\n');
    Ok(format!("# Written by `cove lock` (resolved by {resolver}); refresh it with `cove lock`.\n{body}"))
}

/// A private work folder in the system's temp folder, removed on drop.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Result<WorkDir> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = std::env::temp_dir().join(format!("cove-lock-{}-{}", std::process::id(), crate::fsx::nanos()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir).ctx("create", &dir)?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = crate::fsx::remove_tree(&self.0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lock_is_marked_as_made_by_cove() {
        let text = "lock-version = \"1.0\"\ncreated-by = \"uv\"\n\n[[packages]]\nname = \"alpha\"\nversion = \"1.0\"\n";
        let out = super::mark_as_cove(std::path::Path::new("p"), text, "uv").unwrap();
        assert!(out.starts_with("# Written by `cove lock` (resolved by uv)"), "{out}");
        assert!(out.contains("created-by = \"cove\"\n") && !out.contains("\"uv\"\n"), "{out}");
    }
}
