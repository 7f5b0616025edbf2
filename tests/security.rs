//! Security issue 16: what trust covers (SPEC §5). Nothing from an untrusted checkout is run or
//! probed before it is trusted; a version name never reaches outside the interpreters folder;
//! `trusted-dirs` and script trust are judged on canonical paths. Each test plants a program
//! that would write a canary file, and checks that it never ran.

mod common;
use common::*;

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A planted "interpreter" at `path`: a shell script that touches `canary` (an absolute path, so
/// it is found whatever folder the program runs in).
fn plant(path: &Path, canary: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\ntouch '{}'\n", canary.display())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An untrusted project whose `.python-version` names a planted program (`./evilpy`).
fn project_naming_a_planted_python(t: &TestEnv) -> (PathBuf, PathBuf) {
    let p = t.project("proj", &[]);
    let canary = t.path().join("CANARY");
    plant(&p.join("evilpy"), &canary);
    std::fs::write(p.join(".python-version"), "./evilpy\n").unwrap();
    (p, canary)
}

#[track_caller]
fn assert_not_run(canary: &Path) {
    assert!(!canary.exists(), "the planted program ran ({} exists)", canary.display());
}

/// Wait (up to `secs`) for `canary` to appear: for a program cove may have started in the
/// background.
fn appears_within(canary: &Path, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if canary.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    canary.exists()
}

#[test]
fn f1_python_version_path_is_not_run_by_the_shim_before_trust() {
    let t = TestEnv::new();
    let (p, canary) = project_naming_a_planted_python(&t);
    let out = t.shim("python", &p, &["-c", "1"]);
    assert_not_run(&canary);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not trusted"), "{}", stderr(&out));
    // The commands that plan do not probe it either.
    for args in [&["run", "python", "-c", "1"][..], &["sync"], &["which", "python"], &["--version", "-v"]] {
        let _ = t.cove(&p, args);
        assert_not_run(&canary);
    }
    assert!(t.envs().is_empty());
}

#[test]
fn f1_status_reports_a_python_version_path_as_not_probed_until_trusted() {
    let t = TestEnv::new();
    let (p, canary) = project_naming_a_planted_python(&t);
    let out = t.cove(&p, &["status"]);
    assert_not_run(&canary);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("names the path ./evilpy, not probed until the project is trusted"),
        "{}",
        stdout(&out)
    );
    let st = t.status(&p);
    assert_eq!(st["trusted"], false);
    assert_not_run(&canary);
}

#[test]
fn f1_watch_does_not_probe_a_python_version_path_before_trust() {
    let t = TestEnv::new();
    let (p, canary) = project_naming_a_planted_python(&t);
    let mut child = t
        .cmd(COVE, &p)
        .arg("watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first line is the first evaluation's (planning happens before it is printed).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert_not_run(&canary);
    assert!(line.contains("not trusted"), "{line}");
}

#[test]
fn f1_console_script_shim_refuses_without_running_anything() {
    let t = TestEnv::new();
    let (p, canary) = project_naming_a_planted_python(&t);
    t.shims_on();
    std::os::unix::fs::symlink(COVE, t.shims().join("alpha-cli")).unwrap();
    let out = t.cmd(t.shims().join("alpha-cli"), &p).output().unwrap();
    assert_not_run(&canary);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not trusted"), "the trust error: {}", stderr(&out));
}

/// A pyenv install at `root`, as `pyenv_root_of_shim` recognises one: `versions/`, `bin/pyenv`
/// and a `shims/python3` (never run by cove).
fn fake_pyenv(root: &Path) {
    std::fs::create_dir_all(root.join("versions")).unwrap();
    for f in ["bin/pyenv", "shims/python3"] {
        let path = root.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "#!/bin/sh\nexit 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn f1_doctor_does_not_run_a_program_named_by_the_project() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    let canary = t.path().join("CANARY");
    plant(&p.join("evil/bin/python3"), &canary);
    // From `$PYENV_ROOT/versions`, `../../proj/evil` is the project's own folder.
    std::fs::write(p.join(".python-version"), "../../proj/evil\n").unwrap();
    let root = t.path().join("pyenv");
    fake_pyenv(&root);
    let out = t
        .cmd(COVE, &p)
        .arg("doctor")
        .env("PYENV_ROOT", &root)
        .env("PATH", format!("{}:{}", root.join("shims").display(), t.base_path))
        .output()
        .unwrap();
    assert_not_run(&canary);
    assert!(stdout(&out).contains("python"), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn f1_hook_prebuild_does_not_run_a_python_version_added_after_trust() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    t.trust(&p);
    // A `git pull` brings a `.python-version` naming a program of the checkout.
    let canary = t.path().join("CANARY");
    plant(&p.join("evilpy"), &canary);
    std::fs::write(p.join(".python-version"), "./evilpy\n").unwrap();
    let out = t.cmd(COVE, &p).args(["hook-env", "bash"]).output().unwrap();
    assert_ok(&out);
    let err = stderr(&out);
    if err.contains("in the background") {
        // Give the background build the time to do what it would.
        assert!(!appears_within(&canary, 20), "the hook's background build ran the planted program: {err}");
    }
    assert!(err.contains("changed since you trusted it") && err.contains(".python-version added"), "{err}");
    assert_not_run(&canary);
}

#[test]
fn f1_a_trusted_python_version_path_is_used() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    std::os::unix::fs::symlink(system_python(), p.join("mypython")).unwrap();
    std::fs::write(p.join(".python-version"), "./mypython\n").unwrap();
    t.trust(&p);
    let st = t.status(&p);
    assert_eq!(st["python_reason"], ".python-version (./mypython)", "{st}");
    let out = t.shim("python", &p, &["-c", "print('ran')"]);
    assert_stdout(&out, "ran\n");
}

#[test]
fn f1_a_lock_changed_after_trust_needs_trusting_again() {
    for (file, body) in [("pylock.toml", PYLOCK.to_string()), ("uv.lock", uv_lock(""))] {
        let t = TestEnv::new();
        let p = t.locked_project("\"alpha\"");
        std::fs::write(p.join(file), &body).unwrap();
        t.trust(&p);
        let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
        assert_ok(&out);
        assert_eq!(stdout(&out), "1.0\n", "{file}");

        // A pull that changes only the lock: alpha 1.0 → 2.0.
        std::fs::write(p.join(file), body.replace("version = \"1.0\"", "version = \"2.0\"")).unwrap();
        let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}{}", stdout(&out), stderr(&out));
        assert!(stderr(&out).contains(&format!("{file} changed")), "{file}: {}", stderr(&out));
        assert_eq!(t.envs().len(), 1, "{file}: nothing new installed");

        t.trust(&p);
        let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
        assert_ok(&out);
        assert_eq!(stdout(&out), "2.0\n", "{file}: used once trusted");
    }
}

/// A pyenv root (its shims first on the returned PATH), a planted interpreter outside it at
/// `elsewhere/evil` that touches the returned canary, and a folder `nowhere` outside any project.
fn outside_pyenv(t: &TestEnv) -> (PathBuf, PathBuf, PathBuf, String) {
    let root = t.path().join("pyenv");
    fake_pyenv(&root);
    let canary = t.path().join("CANARY");
    plant(&t.path().join("elsewhere/evil/bin/python3"), &canary);
    let nowhere = t.path().join("nowhere");
    std::fs::create_dir_all(&nowhere).unwrap();
    let path = format!("{}:{}", root.join("shims").display(), t.base_path);
    (root, canary, nowhere, path)
}

#[test]
fn f2_cove_python_refuses_a_pyenv_version_reaching_outside() {
    let t = TestEnv::new();
    let (root, canary, nowhere, path) = outside_pyenv(&t);

    let out = t
        .cmd(COVE, &nowhere)
        .arg("python")
        .env("PYENV_ROOT", &root)
        .env("PYENV_VERSION", "../../elsewhere/evil")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_not_run(&canary);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("PYENV_VERSION: invalid version name"), "{}", stderr(&out));
}

#[test]
fn f2_cove_python_refuses_a_python_version_reaching_outside_outside_any_project() {
    let t = TestEnv::new();
    let (root, canary, nowhere, path) = outside_pyenv(&t);
    // The error names the file and line.
    std::fs::write(nowhere.join(".python-version"), "# pinned\n../../elsewhere/evil\n").unwrap();
    let out = t.cmd(COVE, &nowhere).arg("python").env("PYENV_ROOT", &root).env("PATH", &path).output().unwrap();
    assert_not_run(&canary);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2: invalid version name", nowhere.join(".python-version").display())), "{err}");
}

/// A PEP 723 script needing alpha that, once run, touches `canary`.
fn script(path: &Path, canary: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!(
            "# /// script\n# dependencies = [\"alpha==1.0\"]\n# [tool.cove.index]\n# find-links = [{:?}]\n# no-index = true\n# ///\nimport alpha\nopen({:?}, 'w').close()\nprint(alpha.__version__)\n",
            wheelhouse().display().to_string(),
            canary.display().to_string()
        ),
    )
    .unwrap();
}

#[test]
fn f4_dotdot_does_not_escape_trusted_dirs() {
    let t = TestEnv::new();
    let work = t.path().join("work/sub");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(&t.config, format!("trusted-dirs = [{:?}]\n", t.path().join("work").display().to_string())).unwrap();
    let canary = t.path().join("CANARY");
    script(&t.path().join("dl/evil.py"), &canary);
    let out = t.shim("python", &work, &["../../dl/evil.py"]);
    assert_not_run(&canary);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("is not trusted"), "{}", stderr(&out));
    assert!(t.envs().is_empty(), "nothing built");

    // What is really beneath it stays trusted.
    script(&t.path().join("work/ok.py"), &canary);
    let out = t.shim("python", &work, &["../ok.py"]);
    assert_stdout(&out, "1.0\n");
}

#[test]
fn f4_a_script_trusted_by_a_relative_path_runs_by_that_path_and_through_a_link() {
    let t = TestEnv::new();
    let canary = t.path().join("CANARY");
    script(&t.path().join("a/s.py"), &canary);
    let b = t.path().join("b");
    std::fs::create_dir_all(&b).unwrap();
    assert_ok(&t.cove(&b, &["trust", "../a/s.py"]));
    let out = t.shim("python", &b, &["../a/s.py"]);
    assert_stdout(&out, "1.0\n");

    std::os::unix::fs::symlink("../a/s.py", b.join("link.py")).unwrap();
    let out = t.shim("python", &b, &["link.py"]);
    assert_stdout(&out, "1.0\n");
}

/// Trusting at the shim's prompt: the environment is built on the interpreter `.python-version`
/// names, which planning had left out while the project was untrusted.
#[test]
fn f1_trusted_at_the_prompt_builds_on_the_python_version_path() {
    if !have_script() {
        return;
    }
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    // Another file than any interpreter on PATH, so it keys another environment.
    let wrapper = p.join("mypython");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec '{}' \"$@\"\n", system_python().display())).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(p.join(".python-version"), "./mypython\n").unwrap();
    t.shims_on();
    let inner = format!("{} -c 'print(\"ran\")'", t.shims().join("python").display());
    let out = on_terminal(&t, &p, &inner, "y\n");
    assert!(out.status.success() && stdout(&out).contains("ran"), "{}", stdout(&out));
    let st = t.status(&p);
    assert_eq!(st["python"], wrapper.display().to_string(), "{st}");
    assert_eq!(st["state"], "ready", "the environment built is the one for ./mypython: {st}");
    assert_eq!(t.envs().len(), 1);
}

/// A sibling of finding 1: a relative PATH entry (`.`) names the checkout itself, so its planted
/// `python3` must not be probed (run) while cove chooses an interpreter for an untrusted project.
#[test]
fn f1_a_relative_path_entry_never_probes_the_checkouts_python() {
    let t = TestEnv::new();
    let p = t.project("dotpath", &["alpha==1.0"]);
    let canary = t.path().join("canary-dotpath");
    let evil = p.join("python3");
    std::fs::write(&evil, format!("#!/bin/sh\ntouch '{}'\nexit 1\n", canary.display())).unwrap();
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(".:{}", t.base_path);
    let _ = t.cmd(COVE, &p).env("PATH", &path).args(["status"]).output().unwrap();
    let _ = t.cmd(COVE, &p).env("PATH", &path).args(["python"]).output().unwrap();
    assert!(!canary.exists(), "the checkout's python3 was run before trust");
}
