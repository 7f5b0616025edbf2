//! The pip backend: `python -m venv --without-pip`, pip linked in from the interpreter's seed
//! (pip installed once per interpreter from its bundled wheel, see `seed`), then the venv's own
//! pip installs the requirements. Neither ensurepip's extra seconds nor pip installing itself
//! are paid on a build. Interpreters that ship no pip wheel fall back to plain `venv` with
//! ensurepip.

use std::path::Path;
use std::process::Command;

use super::installer::{Backend, Install, Output, constraint_args, index_args};
use super::locked;
use super::pip_wheel::bundled_pip;
use super::seed;
use crate::cache::Cache;
use crate::cache::env_python;
use crate::error::Result;
use crate::plan::interpreter::Interpreter;

pub struct Pip {
    /// Where seeds live.
    pub cache: Cache,
    /// No "waiting for …" while another process makes the seed.
    pub quiet: bool,
}

fn pip_cmd(python: &Path) -> Command {
    let mut cmd = crate::isolated::python(python);
    cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1").env("PIP_NO_INPUT", "1");
    cmd
}

impl Backend for Pip {
    fn name(&self) -> &'static str {
        "pip"
    }

    fn create(&self, base: &Interpreter, env: &Path, out: &Output) -> Result<()> {
        let mut cmd = crate::isolated::python(&base.path);
        cmd.args(["-m", "venv"]);
        if bundled_pip(base).is_some() {
            cmd.arg("--without-pip");
        }
        cmd.arg(env);
        out.run(cmd, "the virtual environment")
    }

    fn install(&self, base: &Interpreter, env: &Path, what: &Install, out: &Output) -> Result<()> {
        if let Some(wheel) = bundled_pip(base) {
            seed::install(&self.cache, self.quiet, base, &wheel, env, out)?;
        }
        if what.requirements.is_empty() {
            return Ok(());
        }
        let mut cmd = pip_cmd(&env_python(env));
        cmd.args(["-m", "pip", "install", "--no-warn-script-location"]);
        cmd.args(index_args(what.index, what.offline, true));
        cmd.args(constraint_args(env, what)?);
        // Hash-checking mode: each file must be one the lock names.
        if let Some(files) = what.locked {
            let file = env.join(locked::HASHED_FILE);
            crate::fsx::write_atomic(&file, locked::hashed_requirements(files).as_bytes())?;
            cmd.arg("-r").arg(file);
        } else {
            cmd.args(what.requirements);
        }
        out.run(cmd, "the requirements")
    }

    fn install_editable(&self, env: &Path, project: &Path, deps: bool, what: &Install, out: &Output) -> Result<()> {
        let mut cmd = pip_cmd(&env_python(env));
        cmd.args(["-m", "pip", "install", "--no-warn-script-location"]);
        if !deps {
            cmd.arg("--no-deps");
        }
        cmd.args(index_args(what.index, what.offline, true));
        cmd.arg("-e").arg(project);
        out.run(cmd, "the project (editable)")
    }
}
