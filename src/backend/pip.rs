//! The pip backend: `python -m venv --without-pip`, then pip run from the interpreter's bundled
//! wheel installs itself and the requirements in one process — ensurepip's extra seconds are
//! never paid. Interpreters that ship no pip wheel fall back to plain `venv` with ensurepip.

use std::path::Path;
use std::process::Command;

use super::{Backend, Install, Output, bundled_pip, constraint_args, env_python, index_args};
use crate::error::Result;
use crate::interpreter::Interpreter;

pub struct Pip;

fn pip_cmd(python: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1").env("PIP_NO_INPUT", "1");
    cmd
}

impl Backend for Pip {
    fn name(&self) -> &'static str {
        "pip"
    }

    fn create(&self, base: &Interpreter, env: &Path, out: &Output) -> Result<()> {
        let mut cmd = Command::new(&base.path);
        cmd.args(["-m", "venv"]);
        if bundled_pip(base).is_some() {
            cmd.arg("--without-pip");
        }
        cmd.arg(env);
        out.run(cmd, "the virtual environment")
    }

    fn install(&self, base: &Interpreter, env: &Path, what: &Install, out: &Output) -> Result<()> {
        let mut cmd = pip_cmd(&env_python(env));
        let pip = bundled_pip(base);
        match &pip {
            Some(wheel) => {
                cmd.arg(wheel.join("pip"));
            }
            None if what.requirements.is_empty() => return Ok(()),
            None => {
                cmd.args(["-m", "pip"]);
            }
        }
        cmd.args(["install", "--no-warn-script-location"]);
        cmd.args(index_args(what.index, what.offline, true));
        if let Some(wheel) = pip {
            cmd.arg(wheel);
        }
        cmd.args(constraint_args(env, what)?);
        cmd.args(what.requirements);
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
