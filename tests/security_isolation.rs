//! Security issue 16, findings 7, 11 and 12.
//!
//! 7: every installer and interpreter process cove starts runs isolated from the project's
//! files (`python -I`, a neutral working folder, no `PYTHON*` variables), so a project's own
//! `venv.py` or `pip/__main__.py` cannot stand in for the real ones and publish a broken
//! environment under the key other projects share.
//! 11: `cove gc` never removes an environment a running process uses.
//! 12: `cove status` tells an environment whose installed files were removed (`broken`), and
//! `cove sync` repairs it.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Python that appends `what` to `canary` when run.
fn plant(canary: &Path, what: &str) -> String {
    format!("open({:?}, 'a').write({what:?} + '\\n')\n", canary.display().to_string())
}

/// The files a hostile (but trusted) project could ship to stand in for the installer's
/// modules, each writing its name to `canary` when imported or run.
fn plant_shadows(dir: &Path, canary: &Path) {
    let files = [
        "venv.py",
        "venv/__init__.py",
        "venv/__main__.py",
        "pip/__init__.py",
        "pip/__main__.py",
        "ensurepip/__init__.py",
        "ensurepip/__main__.py",
        "sitecustomize.py",
        "usercustomize.py",
    ];
    for f in files {
        // `venv.py` and `venv/` cannot both be found: `venv/` (a package) wins; plant both in
        // two folders so either kind of lookup is covered.
        let (base, name) = if f == "venv.py" { (dir.join("single"), f) } else { (dir.to_path_buf(), f) };
        let path = base.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, plant(canary, &format!("{}:{f}", dir.display()))).unwrap();
    }
    std::fs::write(dir.join("single/pip.py"), plant(canary, "pip.py")).unwrap();
}

/// A project with `alpha` as its requirement and shadowing modules in its folder and in
/// `single/` (its working folder for the second check).
fn hostile_project(t: &TestEnv, name: &str, canary: &Path) -> PathBuf {
    let dir = t.project(name, &["alpha==1.0"]);
    plant_shadows(&dir, canary);
    t.trust(&dir);
    dir
}

fn canary_text(canary: &Path) -> String {
    std::fs::read_to_string(canary).unwrap_or_default()
}

fn import_alpha(t: &TestEnv, cwd: &Path, envs: &[(&str, &Path)]) -> std::process::Output {
    t.shims_on();
    let mut cmd = t.cmd(t.shims().join("python"), cwd);
    // `-I`: the check itself must not import the planted `pip` from its working folder.
    cmd.args(["-I", "-c", "import alpha, pip; print(alpha.__version__, pip.__file__)"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[track_caller]
fn assert_imports(out: &std::process::Output, env: &Path) {
    assert_ok(out);
    let text = stdout(out);
    assert!(text.starts_with("1.0 "), "alpha 1.0 installed: {text}");
    assert!(Path::new(text.split_whitespace().nth(1).unwrap()).starts_with(env), "the env's own pip: {text}");
}

fn env_of(t: &TestEnv, dir: &Path) -> PathBuf {
    PathBuf::from(t.status(dir)["shared_env"].as_str().unwrap())
}

fn shadowing_modules_do_not_reach_the_installer(backend: &str) {
    let t = TestEnv::with_backend(backend);
    let canary = t.path().join("canary");
    let a = hostile_project(&t, "hostile", &canary);
    // Built by the shim (pip's seed too), then rebuilt from the folder holding `venv.py`.
    assert_imports(&import_alpha(&t, &a, &[]), &env_of(&t, &a));
    assert_eq!(canary_text(&canary), "", "no planted module ran");
    assert_ok(&t.cove(&a.join("single"), &["sync", "--refresh"]));
    assert_imports(&import_alpha(&t, &a.join("single"), &[]), &env_of(&t, &a));
    assert_eq!(canary_text(&canary), "", "no planted module ran on a rebuild");

    // Another project with the same requirements shares the environment and finds it whole.
    let b = t.project("innocent", &["alpha==1.0"]);
    t.trust(&b);
    assert_eq!(env_of(&t, &b), env_of(&t, &a), "one key, one shared environment");
    assert_imports(&import_alpha(&t, &b, &[]), &env_of(&t, &b));
    assert_eq!(t.status(&b)["state"], "ready");
}

#[test]
fn a_projects_own_venv_and_pip_never_stand_in_for_the_real_ones_pip_backend() {
    shadowing_modules_do_not_reach_the_installer("pip");
}

#[test]
fn a_projects_own_venv_and_pip_never_stand_in_for_the_real_ones_uv_backend() {
    if no_uv() {
        return;
    }
    shadowing_modules_do_not_reach_the_installer("uv");
}

/// `PYTHONPATH`, `PYTHONUSERBASE` and `PYTHONSTARTUP` of the shim's caller reach the program run,
/// not the installers that build the shared environment.
#[test]
fn python_variables_of_the_caller_do_not_reach_the_installer() {
    let t = TestEnv::with_backend("pip");
    let canary = t.path().join("canary");
    let planted = t.path().join("planted");
    plant_shadows(&planted, &canary);
    // A user site (`PYTHONUSERBASE`) with a `usercustomize`: imported by a base interpreter
    // that is not isolated.
    let python = system_python();
    let v = std::process::Command::new(&python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    let userbase = t.path().join("userbase");
    let user_site = userbase.join(format!("lib/python{}/site-packages", String::from_utf8_lossy(&v.stdout).trim()));
    std::fs::create_dir_all(&user_site).unwrap();
    std::fs::write(user_site.join("usercustomize.py"), plant(&canary, "userbase:usercustomize.py")).unwrap();
    let startup = t.path().join("startup.py");
    std::fs::write(&startup, plant(&canary, "startup")).unwrap();

    let dir = t.project("plain", &["alpha==1.0"]);
    t.trust(&dir);
    // The program run sees the caller's variables; its own import of `pip` would find the
    // planted one, so the check imports only what the environment holds.
    t.shims_on();
    let out = t
        .cmd(t.shims().join("python"), &dir)
        .args(["-c", "import alpha; print(alpha.__version__)"])
        .env("PYTHONPATH", planted.join("single"))
        .env("PYTHONUSERBASE", &userbase)
        .env("PYTHONSTARTUP", &startup)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "1.0");
    assert_eq!(canary_text(&canary), "", "nothing planted ran while building");
    // And the published environment is whole for a caller without them.
    let other = t.project("other", &["alpha==1.0"]);
    t.trust(&other);
    assert_imports(&import_alpha(&t, &other, &[]), &env_of(&t, &other));
}

/// The project's editable install legitimately runs its build backend in its folder, but pip,
/// venv and the interpreter's start-up still come from the interpreter, not the project.
fn the_layer_build_uses_the_real_pip_and_venv(backend: &str) {
    let t = TestEnv::with_backend(backend);
    let canary = t.path().join("canary");
    let dir = package_project(t.path(), "pkg", "hostilepkg", "1.0", &["alpha==1.0"]);
    plant_shadows(&dir, &canary);
    t.trust(&dir);
    t.shims_on();
    let out = t
        .cmd(t.shims().join("python"), &dir)
        .args(["-I", "-c", "import hostilepkg, alpha, pip; print(alpha.__version__, pip.__file__)"])
        .output()
        .unwrap();
    assert_imports(&out, &env_of(&t, &dir));
    assert_eq!(canary_text(&canary), "", "no planted module ran");
    assert_eq!(t.status(&dir)["state"], "ready");
}

#[test]
fn the_layer_build_uses_the_real_pip_and_venv_pip_backend() {
    the_layer_build_uses_the_real_pip_and_venv("pip");
}

#[test]
fn the_layer_build_uses_the_real_pip_and_venv_uv_backend() {
    if no_uv() {
        return;
    }
    the_layer_build_uses_the_real_pip_and_venv("uv");
}

#[test]
fn an_environment_missing_installed_files_is_broken_until_sync_repairs_it() {
    let t = TestEnv::new();
    let dir = t.project("damaged", &["alpha==1.0"]);
    t.trust(&dir);
    assert_ok(&t.cove(&dir, &["sync"]));
    assert_eq!(t.status(&dir)["state"], "ready");
    let env = env_of(&t, &dir);
    std::fs::remove_dir_all(site(&env).join("alpha")).unwrap();

    let status = t.status(&dir);
    assert_eq!(status["state"], "broken", "{status:#}");
    assert!(status["missing_file"].as_str().unwrap().ends_with("alpha/__init__.py"), "{status:#}");
    let text = stdout(&t.cove(&dir, &["status"]));
    assert!(text.contains("state:     broken (") && text.contains("`cove sync`"), "{text}");

    assert_ok(&t.cove(&dir, &["sync"]));
    assert_eq!(t.status(&dir)["state"], "ready");
    assert_eq!(env_of(&t, &dir), env, "repaired in place, under the same key");
    let out = t.shim("python", &dir, &["-c", "import alpha; print(alpha.__version__)"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "1.0");
}

#[test]
fn a_layer_missing_installed_files_is_broken_until_sync_repairs_it() {
    let t = TestEnv::new();
    let dir = package_project(t.path(), "pkg", "layered", "1.0", &["alpha==1.0"]);
    t.trust(&dir);
    assert_ok(&t.cove(&dir, &["sync"]));
    let layer = PathBuf::from(t.status(&dir)["env"].as_str().unwrap());
    assert_ne!(layer, env_of(&t, &dir), "the project has a layer");
    let pth: Vec<PathBuf> = std::fs::read_dir(site(&layer))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy() != "_cove_base.pth")
        .filter(|p| p.extension().is_some_and(|x| x == "pth"))
        .collect();
    assert!(!pth.is_empty(), "the editable install's .pth");
    for p in &pth {
        std::fs::remove_file(p).unwrap();
    }
    assert_eq!(t.status(&dir)["state"], "broken");
    assert_ok(&t.cove(&dir, &["sync"]));
    assert_eq!(t.status(&dir)["state"], "ready");
    let out = t.shim("python", &dir, &["-c", "import layered, alpha; print(alpha.__version__)"]);
    assert_ok(&out);
}

/// A program started through the shim, waiting for a line on stdin before it imports `alpha`.
fn waiting_program(
    mut cmd: std::process::Command,
) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>) {
    let code = "import sys\nprint('up', flush=True)\nsys.stdin.readline()\nimport alpha\nprint(alpha.__version__, flush=True)\n";
    cmd.args(["-c", code]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "up\n", "the program started");
    (child, out)
}

/// Let the program go on: it imports `alpha` now and prints its version.
fn finish(mut child: std::process::Child, mut out: std::io::BufReader<std::process::ChildStdout>) -> String {
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "the program failed: {rest}");
    rest
}

#[test]
fn gc_never_removes_an_environment_a_running_program_uses() {
    let t = TestEnv::new();
    let dir = t.project("running", &["alpha==1.0"]);
    t.trust(&dir);
    assert_ok(&t.cove(&dir, &["sync"]));
    let env = env_of(&t, &dir);
    let key = env.file_name().unwrap().to_string_lossy().to_string();
    t.shims_on();

    // Through the shim (VIRTUAL_ENV set), and started by the env's python path directly.
    let (a, a_out) = waiting_program(t.cmd(t.shims().join("python"), &dir));
    let mut direct = t.cmd(env.join("bin/python"), t.path());
    direct.env_remove("VIRTUAL_ENV");
    let (b, b_out) = waiting_program(direct);
    let (a_pid, b_pid) = (a.id(), b.id());
    if let Some(why) = proc_hides(a_pid).or_else(|| proc_hides(b_pid)) {
        eprintln!("SKIPPED: cove gc cannot see running programs on this system: {why}");
        return;
    }

    let out = t.cove(&dir, &["gc", "--older-than", "0m", "--max-size", "0"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(env.join("bin/python").exists(), "kept: {text}");
    assert!(text.contains(&format!("kept {}", &key[..12])), "gc names what it kept: {text}");
    assert!(text.contains(&format!("in use by pids {}, {}", a_pid.min(b_pid), a_pid.max(b_pid))), "{text}");
    assert_eq!(finish(a, a_out).trim(), "1.0", "the program imports from its environment after gc");
    assert_eq!(t.status(&dir)["state"], "ready");
    // Only the direct one still runs: still kept.
    let out = t.cove(&dir, &["gc", "--older-than", "0m", "--max-size", "0"]);
    assert!(stdout(&out).contains(&format!("in use by pid {b_pid}")), "{}", stdout(&out));
    assert_eq!(finish(b, b_out).trim(), "1.0");

    // Nothing runs it any more: gc removes it.
    let out = t.cove(&dir, &["gc", "--older-than", "0m", "--max-size", "0"]);
    assert_ok(&out);
    assert!(!env.exists(), "removed once nothing uses it: {}", stdout(&out));
    assert!(stdout(&out).contains(&format!("removed {}", &key[..12])), "{}", stdout(&out));
}

#[test]
fn gc_keeps_a_layer_and_its_environment_while_a_program_runs_in_the_layer() {
    let t = TestEnv::new();
    let dir = package_project(t.path(), "pkg", "layeredrun", "1.0", &["alpha==1.0"]);
    t.trust(&dir);
    assert_ok(&t.cove(&dir, &["sync"]));
    let (layer, env) = (PathBuf::from(t.status(&dir)["env"].as_str().unwrap()), env_of(&t, &dir));
    t.shims_on();
    let (p, p_out) = waiting_program(t.cmd(t.shims().join("python"), &dir));
    if let Some(why) = proc_hides(p.id()) {
        eprintln!("SKIPPED: cove gc cannot see running programs on this system: {why}");
        return;
    }
    let out = t.cove(&dir, &["gc", "--older-than", "0m", "--max-size", "0"]);
    assert_ok(&out);
    assert!(layer.exists() && env.exists(), "both kept: {}", stdout(&out));
    assert_eq!(finish(p, p_out).trim(), "1.0");
    let out = t.cove(&dir, &["gc", "--older-than", "0m", "--max-size", "0"]);
    assert!(!env.exists() && !layer.exists(), "both removed once nothing runs: {}", stdout(&out));
}

/// Installers run in `/` now: a relative `find-links` still means the manifest's folder.
#[test]
fn relative_find_links_still_resolve_against_the_manifest() {
    for backend in ["pip", "uv"] {
        if backend == "uv" && uv().is_none() {
            continue;
        }
        let t = TestEnv::with_backend(backend);
        let dir = t.path().join("rel");
        std::fs::create_dir_all(dir.join("wheels")).unwrap();
        let wheel = "alpha-1.0-py3-none-any.whl";
        std::fs::copy(wheelhouse().join(wheel), dir.join("wheels").join(wheel)).unwrap();
        std::fs::write(
            dir.join("cove.toml"),
            "dependencies = [\"alpha\"]\n\n[index]\nfind-links = [\"./wheels\"]\nno-index = true\n",
        )
        .unwrap();
        t.trust(&dir);
        let out = t.shim("python", &dir.join("wheels"), &["-c", "import alpha; print(alpha.__version__)"]);
        assert_ok(&out);
        assert_eq!(stdout(&out).trim(), "1.0", "{backend}");
    }
}
