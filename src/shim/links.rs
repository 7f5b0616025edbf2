//! The shims folder: `python`, `python3`, `pip`, `pip3` and every environment's console scripts,
//! each a symlink to the cove binary (the shim dispatches on its own name).

use std::path::{Path, PathBuf};

use crate::cache::{EnvInfo, Kind};
use crate::error::{Error, IoContext, Result};
use crate::settings::Settings;

pub const CORE: &[&str] = &["python", "python3", "pip", "pip3"];

/// The system's own command folders: a console script named like a command in one of them gets
/// no shim (SPEC §4), so `ls` or `git` never goes through cove. `/usr/local/bin` is not one: it
/// is where tools installed by hand (a `pip install --user`-less `pytest`) live.
const SYSTEM_DIRS: &[&str] = &["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

/// Shells, tools that run other commands, and cove itself: never a console-script shim,
/// installed on this machine or not.
const BUILTIN_LIKE: &[&str] = &[
    "cove", "sudo", "su", "doas", "pkexec", "sh", "bash", "dash", "zsh", "fish", "ksh", "csh", "tcsh", "env", "exec",
    "command", "nohup", "nice", "time", "timeout", "xargs", "login", "ssh",
];

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

/// Whether a console script called `name` would shadow a system command: a name in the
/// system's folders, a shell or a builtin-like tool, or one of cove's own names (a link named
/// `cove-…` runs the CLI). At most four stats. The core names are cove's and never asked about.
pub fn shadows_system(name: &str) -> bool {
    BUILTIN_LIKE.contains(&name)
        || name.starts_with("cove-")
        || name.starts_with("cove.")
        || SYSTEM_DIRS.iter().any(|d| std::fs::symlink_metadata(Path::new(d).join(name)).is_ok())
}

/// The running cove binary, symlinks resolved: what shims link to and the hook runs.
pub fn cove_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::io("find", "the cove binary", e))?;
    std::fs::canonicalize(&exe).ctx("find", &exe)
}

/// Refuse a shims folder (or a `COVE_HOME` above it) another user owns or others may write:
/// what is there runs as the user whenever a name on it is typed.
fn check(settings: &Settings) -> Result<PathBuf> {
    crate::cache::check_home_dir(&settings.home_dir, "shims")?;
    Ok(settings.shims_dir())
}

/// Create the shims folder with the core links, and make everything in it cove's own: a core
/// name that is anything but a link to this cove is replaced, a link to an older cove binary
/// is repointed, and what else is there (a file, a link to another program or to nothing, a
/// shim for a system command's name) is removed.
pub fn ensure(settings: &Settings) -> Result<PathBuf> {
    let dir = check(settings)?;
    crate::fsx::create_private_dir(&dir)?;
    let exe = cove_exe()?;
    for name in CORE {
        link(&dir.join(name), &exe)?;
    }
    for entry in std::fs::read_dir(&dir).ctx("read", &dir)?.flatten() {
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        // Dot names are links being made (see `link`); no one types them.
        if CORE.contains(&name_s.as_ref()) || name_s.starts_with('.') {
            continue;
        }
        let at = entry.path();
        match std::fs::read_link(&at) {
            Ok(target) if target == exe && !skipped(&name_s) && !shadows_system(&name_s) => {}
            // A link to a cove binary elsewhere (an install that moved), still there.
            Ok(target)
                if target.file_name() == exe.file_name()
                    && dir.join(&target).is_file()
                    && !skipped(&name_s)
                    && !shadows_system(&name_s) =>
            {
                link(&at, &exe)?
            }
            _ => remove(&at)?,
        }
    }
    Ok(dir)
}

fn remove(at: &Path) -> Result<()> {
    if std::fs::symlink_metadata(at).is_ok_and(|m| m.is_dir()) {
        crate::fsx::remove_tree(at)
    } else {
        std::fs::remove_file(at).found("remove", at).map(|_| ())
    }
}

/// Make `at` a link to `exe`, whatever is there now: the link is made under a temporary name and
/// renamed over it, so the name never runs something else meanwhile.
fn link(at: &Path, exe: &Path) -> Result<()> {
    if std::fs::read_link(at).is_ok_and(|target| target == exe) {
        return Ok(());
    }
    if std::fs::symlink_metadata(at).is_ok_and(|m| m.is_dir()) {
        crate::fsx::remove_tree(at)?;
    }
    let name = at.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = at.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(exe, &tmp).ctx("create link", &tmp)?;
    std::fs::rename(&tmp, at).ctx("create link", at)
}

/// Give every executable in `env/bin` a shim, unless its name is a system command's (then any
/// shim by that name is removed). Best effort: a failure here must not fail a build that
/// succeeded, and a shims folder others could write is left alone (`cove shims` says why).
pub fn link_env_scripts(settings: &Settings, env: &Path) {
    let Ok(exe) = cove_exe() else { return };
    let Ok(dir) = check(settings) else { return };
    if crate::fsx::create_private_dir(&dir).is_err() {
        return;
    }
    for name in CORE {
        let _ = link(&dir.join(name), &exe);
    }
    for entry in std::fs::read_dir(env.join("bin")).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        if skipped(&name_s) || !crate::plan::interpreter::is_executable(&entry.path()) {
            continue;
        }
        if shadows_system(&name_s) {
            let _ = remove(&dir.join(&name));
        } else {
            let _ = link(&dir.join(&name), &exe);
        }
    }
}

/// Recreate the console-script shims from every ready environment and project layer in the
/// cache.
pub fn rebuild(settings: &Settings) -> Result<PathBuf> {
    let cache = crate::cache::Cache::new(&settings.cache_dir);
    cache.check_private()?;
    let dir = ensure(settings)?;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        if !CORE.contains(&name_s.as_ref()) && !name_s.starts_with('.') {
            remove(&entry.path())?;
        }
    }
    for kind in [Kind::Env, Kind::Layer] {
        for entry in cache.entries(kind).unwrap_or_default() {
            // A `cove run --with` overlay's scripts belong to one run, not to a project.
            let overlay = kind == Kind::Env && entry.info::<EnvInfo>().is_some_and(|i| i.with.is_some());
            if entry.has_marker() && !overlay {
                link_env_scripts(settings, entry.dir());
            }
        }
    }
    Ok(dir)
}
