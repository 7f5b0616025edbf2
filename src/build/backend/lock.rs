//! The backends' resolvers, for `cove lock`: write a PEP 751 `pylock.toml` for requirements on
//! one interpreter. uv: `uv pip compile --format pylock.toml`; pip: `pip lock` (pip ≥ 25.1).
//!
//! The resolver runs isolated from the project: in a work folder of its own (its working
//! folder too), on files cove wrote there, with every path absolute and no config file read.

use std::path::Path;
use std::process::Command;

use super::installer::{Output, index_args};
use crate::error::{Error, Result};
use crate::manifest::Index;
use crate::plan::interpreter::Interpreter;

/// What to resolve.
pub struct Resolve<'a> {
    pub interpreter: &'a Interpreter,
    /// The requirements file cove wrote (canonical requirements, one a line).
    pub input: &'a Path,
    /// `-c` constraints file, when there are constraints.
    pub constraints: Option<&'a Path>,
    /// Where the lock goes; an existing file there gives uv the versions to keep.
    pub output: &'a Path,
    pub index: &'a Index,
    pub offline: bool,
    pub upgrade: bool,
    pub upgrade_packages: &'a [String],
}

/// Resolve with uv.
pub fn uv(exe: &Path, r: &Resolve, out: &Output) -> Result<()> {
    let mut cmd = Command::new(exe);
    cmd.args(["pip", "compile", "--no-config", "--quiet", "--no-header", "--format", "pylock.toml", "--python"])
        .arg(&r.interpreter.path)
        .args(index_args(r.index, r.offline, false))
        .arg("--output-file")
        .arg(r.output);
    if let Some(c) = r.constraints {
        cmd.arg("--constraint").arg(c);
    }
    if r.upgrade {
        cmd.arg("--upgrade");
    }
    for p in r.upgrade_packages {
        cmd.arg("--upgrade-package").arg(p);
    }
    cmd.arg(r.input);
    run(cmd, r, out)
}

/// The base interpreter's pip, if it has one that can lock (`pip lock`, pip ≥ 25.1): `Err`
/// names what it has instead.
pub fn pip_that_locks(interp: &Interpreter) -> std::result::Result<(), String> {
    let out = Command::new(&interp.path)
        .args(["-I", "-m", "pip", "--version"])
        .current_dir("/")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", interp.path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().nth(1).unwrap_or_default().to_string();
    let parts: Vec<u64> = version.split('.').map_while(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        _ if !out.status.success() => Err(format!("{} has no pip", interp.path.display())),
        [major, minor, ..] if (*major, *minor) >= (25, 1) => Ok(()),
        [major] if *major > 25 => Ok(()),
        _ => Err(format!("{} has pip {version}", interp.path.display())),
    }
}

/// Resolve with the base interpreter's `pip lock`. pip resolves afresh every time (it reads no
/// earlier lock), so every package is upgraded as far as the requirements allow.
pub fn pip(r: &Resolve, out: &Output) -> Result<()> {
    let mut cmd = Command::new(&r.interpreter.path);
    cmd.args(["-I", "-m", "pip", "lock", "--isolated", "--no-input", "--disable-pip-version-check"])
        .args(index_args(r.index, r.offline, true))
        .arg("--output")
        .arg(r.output);
    if let Some(c) = r.constraints {
        cmd.arg("--constraint").arg(c);
    }
    cmd.arg("--requirement").arg(r.input);
    run(cmd, r, out)
}

fn run(mut cmd: Command, r: &Resolve, out: &Output) -> Result<()> {
    cmd.current_dir(r.output.parent().unwrap_or(Path::new("/")));
    out.run(cmd, "the lock").map_err(|e| match e {
        Error::Install { status, log, .. } => Error::LockFailed { status, log },
        e => e,
    })
}
