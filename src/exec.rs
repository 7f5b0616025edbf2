//! Replace the process with the real program (exec, not spawn: signals and the exit status are
//! the program's own).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The environment variable that counts nested shim pass-throughs (recursion guard).
pub const DEPTH_VAR: &str = "__COVE_SHIM_DEPTH";

/// The folders a run uses: the venv it runs (`VIRTUAL_ENV`) and, for a project layer, the
/// shared environment under it, whose `bin` comes right after the layer's on PATH.
#[derive(Debug, Clone, Copy)]
pub struct Venv<'a> {
    pub dir: &'a Path,
    pub under: Option<&'a Path>,
}

impl Venv<'_> {
    /// `name` from the layer's `bin`, else the shared environment's.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        std::iter::once(self.dir)
            .chain(self.under)
            .map(|d| d.join("bin").join(name))
            .find(|p| crate::interpreter::is_executable(p))
    }

    fn path_var(&self) -> OsString {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let first: Vec<PathBuf> = std::iter::once(self.dir).chain(self.under).map(|d| d.join("bin")).collect();
        let rest = std::env::split_paths(&path).filter(|d| !first.contains(d)).collect::<Vec<_>>();
        std::env::join_paths(first.iter().cloned().chain(rest)).unwrap_or(path)
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("VIRTUAL_ENV", self.dir).env("PATH", self.path_var());
        cmd.env_remove("PYTHONHOME").env_remove(DEPTH_VAR);
        cmd
    }
}

/// Run `program` from `venv` as if it were activated. argv[0] is the program's own path:
/// CPython finds its venv (`pyvenv.cfg`) from argv[0], not from the shim's path.
pub fn in_env(venv: Venv, program: &Path, args: &[OsString]) -> Result<std::convert::Infallible> {
    let mut cmd = venv.command(program);
    cmd.args(args);
    Err(replace(cmd, program))
}

/// Run `program` (found on PATH after the shims), with the folders where the name is cove (the
/// shims folder and its aliases, see `Finder::split_path`) taken off PATH.
pub fn pass_through(program: &Path, args: &[OsString], drop: &[PathBuf]) -> Result<std::convert::Infallible> {
    let depth: u32 = std::env::var(DEPTH_VAR).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
    let mut cmd = Command::new(program);
    cmd.args(args);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path).filter(|d| !drop.contains(d)).collect();
    if let Ok(joined) = std::env::join_paths(kept) {
        cmd.env("PATH", joined);
    }
    cmd.env(DEPTH_VAR, (depth + 1).to_string());
    Err(replace(cmd, program))
}

/// Run any command inside `venv` (`cove run`), found on the environment's PATH.
pub fn command_in_env(venv: Venv, args: &[OsString]) -> Result<std::convert::Infallible> {
    let name = &args[0];
    let program = venv.find(&name.to_string_lossy()).unwrap_or_else(|| PathBuf::from(name));
    let mut cmd = venv.command(&program);
    cmd.args(&args[1..]);
    Err(replace(cmd, &program))
}

fn replace(mut cmd: Command, program: &Path) -> Error {
    let source = cmd.exec();
    if source.kind() == std::io::ErrorKind::NotFound {
        return Error::NotFound { name: program.display().to_string() };
    }
    Error::Spawn { program: program.to_path_buf(), source }
}
