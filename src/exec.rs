//! Replace the process with the real program (exec, not spawn: signals and the exit status are
//! the program's own).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The environment variable that counts nested shim pass-throughs (recursion guard).
pub const DEPTH_VAR: &str = "__COVE_SHIM_DEPTH";

/// Run `program` from the environment `env` as if it were activated. argv[0] is the program's
/// own path: CPython finds its venv (`pyvenv.cfg`) from argv[0], not from the shim's path.
pub fn in_env(env: &Path, program: &Path, args: &[OsString]) -> Result<std::convert::Infallible> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd.env("VIRTUAL_ENV", env).env("PATH", prepend_path(&env.join("bin")));
    cmd.env_remove("PYTHONHOME").env_remove(DEPTH_VAR);
    Err(replace(cmd, program))
}

/// Run `program` (found on PATH after the shims), with the shims folder taken off PATH.
pub fn pass_through(program: &Path, args: &[OsString], shims: &Path) -> Result<std::convert::Infallible> {
    let depth: u32 = std::env::var(DEPTH_VAR).ok().and_then(|d| d.parse().ok()).unwrap_or(0);
    let mut cmd = Command::new(program);
    cmd.args(args);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path).filter(|d| d != shims).collect();
    if let Ok(joined) = std::env::join_paths(kept) {
        cmd.env("PATH", joined);
    }
    cmd.env(DEPTH_VAR, (depth + 1).to_string());
    Err(replace(cmd, program))
}

/// Run any command inside an environment (`cove run`), found on the environment's PATH.
pub fn command_in_env(env: &Path, args: &[OsString]) -> Result<std::convert::Infallible> {
    let name = &args[0];
    let bin = env.join("bin").join(name);
    let program = if crate::interpreter::is_executable(&bin) { bin } else { PathBuf::from(name) };
    let mut cmd = Command::new(&program);
    cmd.args(&args[1..]);
    cmd.env("VIRTUAL_ENV", env).env("PATH", prepend_path(&env.join("bin")));
    cmd.env_remove("PYTHONHOME");
    Err(replace(cmd, &program))
}

fn prepend_path(dir: &Path) -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let rest = std::env::split_paths(&path).filter(|d| d != dir);
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(rest)).unwrap_or(path)
}

fn replace(mut cmd: Command, program: &Path) -> Error {
    let source = cmd.exec();
    if source.kind() == std::io::ErrorKind::NotFound {
        return Error::NotFound { name: program.display().to_string() };
    }
    Error::Spawn { program: program.to_path_buf(), source }
}
