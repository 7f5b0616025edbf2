//! The shims folder: `python`, `python3`, `pip`, `pip3` and every environment's console scripts,
//! each a symlink to the cove binary (the shim dispatches on its own name).

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::settings::Settings;

pub const CORE: &[&str] = &["python", "python3", "pip", "pip3"];

/// Names in an environment's `bin` that never get a console-script shim.
fn skipped(name: &str) -> bool {
    CORE.contains(&name)
        || name.starts_with("python")
        || name.starts_with("pip3.")
        || name.starts_with("activate")
        || name.starts_with("Activate")
        || name.starts_with('.')
        || name == "deactivate"
}

/// The running cove binary, symlinks resolved: what shims link to and the hook runs.
pub fn cove_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::io("find", "the cove binary", e))?;
    std::fs::canonicalize(&exe).ctx("find", &exe)
}

/// Create the shims folder and the core links if missing (repointing stale ones).
pub fn ensure(settings: &Settings) -> Result<PathBuf> {
    let dir = settings.shims_dir();
    crate::fsx::create_private_dir(&dir)?;
    let exe = cove_exe()?;
    for name in CORE {
        link(&dir.join(name), &exe)?;
    }
    Ok(dir)
}

fn link(at: &Path, exe: &Path) -> Result<()> {
    match std::fs::read_link(at) {
        Ok(target) if target == exe => return Ok(()),
        Ok(_) => std::fs::remove_file(at).ctx("replace", at)?,
        Err(_) if at.exists() => return Ok(()),
        Err(_) => {}
    }
    let tmp = at.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(exe, &tmp).ctx("create link", &tmp)?;
    std::fs::rename(&tmp, at).ctx("create link", at)
}

/// Give every executable in `env/bin` a shim, if it has none. Best effort: a failure here
/// must not fail a build that succeeded.
pub fn link_env_scripts(settings: &Settings, env: &Path) {
    let Ok(exe) = cove_exe() else { return };
    let dir = settings.shims_dir();
    if crate::fsx::create_private_dir(&dir).is_err() {
        return;
    }
    for name in CORE {
        let _ = link(&dir.join(name), &exe);
    }
    for entry in std::fs::read_dir(env.join("bin")).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        if skipped(&name_s) || !crate::interpreter::is_executable(&entry.path()) {
            continue;
        }
        // Absent → link; a link to another (older, moved) cove → repoint; anything else stays.
        let _ = link(&dir.join(&name), &exe);
    }
}

/// Recreate the console-script shims from every ready environment in the cache.
pub fn rebuild(settings: &Settings) -> Result<PathBuf> {
    let dir = ensure(settings)?;
    let exe = cove_exe()?;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        // Links to this binary, to a cove binary elsewhere (an old install) or to nothing.
        let is_ours = std::fs::read_link(entry.path())
            .is_ok_and(|t| t == exe || t.file_name() == exe.file_name() || !entry.path().exists());
        let name = entry.file_name();
        if is_ours && !CORE.contains(&name.to_string_lossy().as_ref()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let cache = crate::cache::Cache::new(&settings.cache_dir);
    for entry in std::fs::read_dir(cache.envs_dir()).into_iter().flatten().flatten() {
        // A `cove run --with` overlay's scripts belong to one run, not to a project.
        let overlay = std::fs::read(entry.path().join(crate::cache::INFO))
            .ok()
            .and_then(|b| serde_json::from_slice::<crate::inventory::Info>(&b).ok())
            .is_some_and(|i| i.with.is_some());
        if entry.path().join(crate::cache::READY).exists() && !overlay {
            link_env_scripts(settings, &entry.path());
        }
    }
    Ok(dir)
}
