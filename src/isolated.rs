//! How cove starts the Python programs it runs itself (interpreter probes, `venv`, installers):
//! isolated from the project's files and the caller's Python settings (issue 16).

use std::path::Path;
use std::process::Command;

/// `python -I`: the interpreter at `python` in isolated mode, for running an installer or
/// venv. Neither its working folder nor a script's folder goes on `sys.path`, `PYTHON*`
/// variables and the user's site-packages are ignored, so a project's own `venv.py`,
/// `pip/__main__.py` or `sitecustomize.py` never stands in for the interpreter's (issue 16).
pub fn python(python: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg("-I");
    cmd
}

/// Keep an installer (and what it starts: build backends, pip's subprocesses, uv's interpreter
/// queries) away from the project's files and the caller's Python settings: it runs in `/`,
/// with every path it is given absolute (find-links, requirements and project folders are made
/// absolute when the manifest is read), and without `PYTHON*`, `VIRTUAL_ENV` or conda's
/// variables. The user's `PIP_*` and `UV_*` settings stay: they are the user's, not the
/// project's.
pub fn isolate(cmd: &mut Command) {
    cmd.current_dir("/");
    for (var, _) in std::env::vars_os() {
        if var.as_encoded_bytes().starts_with(b"PYTHON") {
            cmd.env_remove(var);
        }
    }
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX", "__PYVENV_LAUNCHER__"] {
        cmd.env_remove(var);
    }
}
