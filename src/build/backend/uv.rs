//! The uv backend: `uv venv` then `uv pip install` (pip itself from the interpreter's bundled
//! wheel, or `--seed` when it ships none).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::installer::{Backend, Install, Output, constraint_args, index_args};
use super::locked;
use super::pip_wheel::bundled_pip;
use crate::cache::env_python;
use crate::error::Result;
use crate::plan::interpreter::Interpreter;

/// uv's downloads at once while another uv downloads beside it (`UV_CONCURRENT_DOWNLOADS`, 50
/// by default, unless the user sets it). Each connection starts with a name lookup: two uv
/// processes' bursts at once made a resolver drop a reply, and the layer's uv waited out the
/// resolver's 5-second timeout on every cold build of a project here (cove issue 22); a dozen
/// connections download a project's wheels as fast.
const BESIDE_DOWNLOADS: &str = "12";

pub struct Uv {
    pub exe: PathBuf,
}

impl Backend for Uv {
    fn name(&self) -> &'static str {
        "uv"
    }

    fn create(&self, base: &Interpreter, env: &Path, out: &Output) -> Result<()> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["venv", "--no-project", "--no-config", "--quiet", "--python"]).arg(&base.path);
        if bundled_pip(base).is_none() {
            cmd.arg("--seed");
        }
        cmd.arg(env);
        out.run(cmd, "the virtual environment")
    }

    fn install(&self, base: &Interpreter, env: &Path, what: &Install, out: &Output) -> Result<()> {
        let pip = bundled_pip(base);
        if what.requirements.is_empty() && pip.is_none() {
            return Ok(());
        }
        let mut cmd = Command::new(&self.exe);
        cmd.args(["pip", "install", "--no-config", "--python"]).arg(env_python(env));
        cmd.args(index_args(what.index, what.offline, false));
        if what.beside && std::env::var_os("UV_CONCURRENT_DOWNLOADS").is_none() {
            cmd.env("UV_CONCURRENT_DOWNLOADS", BESIDE_DOWNLOADS);
        }
        // A lock naming every file: installed from those, pip included (a pylock.toml takes
        // no other requirements beside it).
        if let Some(files) = what.locked
            && let Some(text) = locked::pylock(files, pip.as_deref())?
        {
            let file = env.join(locked::PYLOCK_FILE);
            crate::fsx::write_atomic(&file, text.as_bytes())?;
            cmd.arg("-r").arg(file);
            return out.run(cmd, "the requirements");
        }
        if let Some(p) = pip {
            cmd.arg(p);
        }
        cmd.args(constraint_args(env, what)?);
        cmd.args(what.requirements);
        out.run(cmd, "the requirements")
    }

    fn install_editable(&self, env: &Path, project: &Path, deps: bool, what: &Install, out: &Output) -> Result<()> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["pip", "install", "--no-config"]);
        if !deps {
            cmd.arg("--no-deps");
        }
        cmd.arg("--python").arg(env_python(env));
        cmd.args(index_args(what.index, what.offline, false));
        cmd.arg("-e").arg(project);
        out.run(cmd, "the project (editable)")
    }

    /// `uv sync --frozen` into the layer, as `uv sync` installs a project with a lock: uv builds
    /// the editable wheel without first asking the build backend for the project's metadata.
    fn install_editable_locked(
        &self,
        env: &Path,
        project: &Path,
        skip: &[&str],
        what: &Install,
        out: &Output,
    ) -> Result<bool> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["sync", "--frozen", "--inexact", "--no-default-groups", "--no-config", "--project"])
            .arg(project)
            .arg("--python")
            .arg(env_python(env))
            .env("UV_PROJECT_ENVIRONMENT", env);
        cmd.args(index_args(what.index, what.offline, false));
        for name in skip {
            cmd.args(["--no-install-package", name]);
        }
        out.run(cmd, "the project (editable)")?;
        Ok(true)
    }

    fn remembers_interpreters_by_path(&self) -> bool {
        true
    }

    fn needs_base_to_install_editable(&self) -> bool {
        false
    }
}
