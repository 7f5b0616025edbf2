//! Issue 21 parts 2–4: `cove pin`, `cove lock`, `cove run --with`, through the real binary.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Output;

/// pyenv's root when it holds the interpreters these tests pin (3.11.7, 3.12.1).
fn pyenv() -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))?;
    ["3.11.7", "3.12.1"].iter().all(|v| root.join("versions").join(v).join("bin/python3").is_file()).then_some(root)
}

macro_rules! need_pyenv {
    () => {
        match pyenv() {
            Some(root) => root,
            None => {
                eprintln!("SKIPPED: no pyenv with 3.11.7 and 3.12.1 (under $PYENV_ROOT or ~/.pyenv)");
                return;
            }
        }
    };
}

/// A fresh environment with the uv backend, or SKIPPED when uv is missing.
macro_rules! need_uv {
    () => {{
        if no_uv() {
            return;
        }
        TestEnv::with_backend("uv")
    }};
}

/// `cove ARGS…` with pyenv's interpreters findable.
fn cove(t: &TestEnv, root: &Path, dir: &Path, args: &[&str]) -> Output {
    t.cmd(COVE, dir).env("PYENV_ROOT", root).args(args).output().expect("run cove")
}

fn status(t: &TestEnv, root: &Path, dir: &Path) -> serde_json::Value {
    let out = cove(t, root, dir, &["status", "--json"]);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `dir/cove.toml` as [`TestEnv::write_cove_toml`] writes it, with `head` (settings) first.
fn cove_toml(t: &TestEnv, dir: &Path, head: &str, deps: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    t.write_cove_toml(dir, deps);
    let text = std::fs::read_to_string(dir.join("cove.toml")).unwrap();
    std::fs::write(dir.join("cove.toml"), format!("{head}{text}")).unwrap();
}

#[test]
fn pin_writes_python_version_and_status_shows_the_new_interpreter_and_key() {
    let root = need_pyenv!();
    let t = TestEnv::new();
    let p = t.path().join("proj");
    cove_toml(&t, &p, "python = \">=3.11\"\n", &["alpha==1.0"]);
    t.trust(&p);
    let before = status(&t, &root, &p);

    let out = cove(&t, &root, &p, &["pin", "3.12"]);
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(p.join(".python-version")).unwrap(), "3.12\n");
    assert!(stdout(&out).contains("CPython 3.12.1") && stdout(&out).contains("key: "), "{}", stdout(&out));
    let after = status(&t, &root, &p);
    assert_eq!(after["python_version"], "3.12.1");
    assert_ne!(after["key"], before["key"]);
    assert_eq!(after["trusted"], true, "a trusted project stays trusted");
    let run = cove(&t, &root, &p, &["run", "python", "-c", "import sys, alpha; print(sys.version_info[:2])"]);
    assert_stdout(&run, "(3, 12)\n");

    assert_ok(&cove(&t, &root, &p, &["pin", "3.11"]));
    assert_eq!(status(&t, &root, &p)["python_version"], "3.11.7");
}

#[test]
fn pin_in_an_untrusted_project_does_not_trust_it() {
    let root = need_pyenv!();
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    let out = cove(&t, &root, &p, &["pin", "3.12"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("not trusted"), "{}", stdout(&out));
    assert_eq!(status(&t, &root, &p)["trusted"], false);
}

#[test]
fn pin_outside_requires_python_fails_naming_both_and_changes_nothing() {
    let root = need_pyenv!();
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let pyproject = "[project]\nname = \"demo\"\nversion = \"0.1\"\nrequires-python = \">=3.12\"\ndependencies = []\n";
    std::fs::write(p.join("pyproject.toml"), pyproject).unwrap();
    std::fs::write(p.join(".python-version"), "3.12\n").unwrap();
    for args in [&["pin", "3.11"][..], &["pin", "--manifest", "3.11"], &["pin", "3.10"]] {
        let out = cove(&t, &root, &p, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(args[args.len() - 1]) && err.contains("\">=3.12\""), "{args:?}: {err}");
        assert!(err.contains("pyproject.toml:4:"), "names where the constraint is: {err}");
        assert_eq!(std::fs::read_to_string(p.join(".python-version")).unwrap(), "3.12\n");
        assert_eq!(std::fs::read_to_string(p.join("pyproject.toml")).unwrap(), pyproject);
    }
}

#[test]
fn pin_refuses_paths_and_names_what_would_provide_a_missing_version() {
    let root = need_pyenv!();
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    for bad in ["../../evil", "/usr/bin/python3", "3.12/../x"] {
        let out = cove(&t, &root, &p, &["pin", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(!p.join(".python-version").exists());
    }
    let out = cove(&t, &root, &p, &["pin", "3.99"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no installed Python matches 3.99") && err.contains("3.12.1"), "lists the found: {err}");
    if t.backend == "uv" {
        assert!(err.contains("`uv python install 3.99`"), "{err}");
    }
    assert!(!p.join(".python-version").exists());
}

#[test]
fn pin_manifest_edits_the_python_setting_keeping_comments() {
    let root = need_pyenv!();
    let t = TestEnv::new();
    let p = t.path().join("proj");
    cove_toml(&t, &p, "# the demo\npython = \">=3.11\"  # keep me\n", &["alpha==1.0"]);
    t.trust(&p);
    let out = cove(&t, &root, &p, &["pin", "--manifest", "3.12"]);
    assert_ok(&out);
    let text = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    assert!(text.starts_with("# the demo\npython = \"3.12\"  # keep me\ndependencies"), "{text}");
    assert!(!p.join(".python-version").exists());
    let st = status(&t, &root, &p);
    assert_eq!(st["python_version"], "3.12.1");
    assert_eq!(st["trusted"], true, "what cove wrote in a trusted project is trusted");

    // pyproject.toml: [tool.cove].python, made when missing.
    let q = t.path().join("pyproj");
    std::fs::create_dir_all(&q).unwrap();
    let py = "# top\n[project]\nname = \"demo\"  # name\nversion = \"0.1\"\nrequires-python = \">=3.11\"\n";
    std::fs::write(q.join("pyproject.toml"), py).unwrap();
    assert_ok(&cove(&t, &root, &q, &["pin", "--manifest", "3.11"]));
    let text = std::fs::read_to_string(q.join("pyproject.toml")).unwrap();
    assert_eq!(text, format!("{py}\n[tool.cove]\npython = \"3.11\"\n"));
    assert_eq!(status(&t, &root, &q)["python_version"], "3.11.7");
}

#[test]
fn pin_alone_shows_the_pin_and_where_it_comes_from() {
    let root = need_pyenv!();
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    let show = |extra: &[(&str, &str)]| {
        let mut c = t.cmd(COVE, &p);
        c.env("PYENV_ROOT", &root).arg("pin");
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert_ok(&out);
        stdout(&out)
    };
    assert!(show(&[]).contains("none: the first python3 on PATH"), "{}", show(&[]));
    assert_ok(&cove(&t, &root, &p, &["pin", "3.12"]));
    let s = show(&[]);
    assert!(s.contains("3.12 (from ") && s.contains(".python-version") && s.contains("CPython 3.12.1"), "{s}");
    let s = show(&[("COVE_PYTHON", "3.11")]);
    assert!(s.contains("COVE_PYTHON") && s.contains("CPython 3.11.7"), "{s}");
    std::fs::remove_file(p.join(".python-version")).unwrap();
    cove_toml(&t, &p, "python = \"3.12\"\n", &[]);
    let s = show(&[]);
    assert!(s.contains("the manifest's python") && s.contains("cove.toml:1:"), "{s}");
}

// ---- cove lock ----

fn pylock_version(dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pylock.toml")).ok()?;
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    doc["packages"].as_array_of_tables()?.iter().find(|p| p["name"].as_str() == Some(name))?["version"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn lock_writes_pylock_toml_that_builds_use_and_check_tells_when_stale() {
    let t = need_uv!();
    let p = t.project("proj", &["beta"]);
    t.trust(&p);
    let before = t.status(&p);
    assert_eq!(before["lock"], serde_json::Value::Null);
    let check = t.cove(&p, &["lock", "--check"]);
    assert_eq!(check.status.code(), Some(1), "no lock yet: {}", stderr(&check));

    let out = t.cove(&p, &["lock"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("2 packages"), "{}", stdout(&out));
    assert_eq!(pylock_version(&p, "alpha").as_deref(), Some("2.0"));
    let text = std::fs::read_to_string(p.join("pylock.toml")).unwrap();
    assert!(text.contains("created-by = \"cove\"") && text.contains("lock-version = \"1.0\""), "{text}");
    let st = t.status(&p);
    assert_eq!(st["lock"], p.join("pylock.toml").display().to_string());
    let canonical = st["canonical"].as_str().unwrap();
    assert!(canonical.contains("pin: alpha==2.0\npin: beta==1.0\n"), "key from the pins: {canonical}");
    assert_ne!(st["key"], before["key"]);
    assert_eq!(st["trusted"], true);
    let run = t.cove(&p, &["run", "python", "-c", "import alpha; print(alpha.__version__)"]);
    assert_stdout(&run, "2.0\n");

    let check = t.cove(&p, &["lock", "--check"]);
    assert_ok(&check);
    assert!(stdout(&check).contains("is current"), "{}", stdout(&check));

    t.write_cove_toml(&p, &["beta", "gamma"]);
    t.trust(&p);
    let lock_before = std::fs::read(p.join("pylock.toml")).unwrap();
    let check = t.cove(&p, &["lock", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(stderr(&check).contains("gamma") && stderr(&check).contains("`cove lock`"), "{}", stderr(&check));
    assert_eq!(std::fs::read(p.join("pylock.toml")).unwrap(), lock_before, "--check writes nothing");
    assert_ok(&t.cove(&p, &["lock"]));
    assert_ok(&t.cove(&p, &["lock", "--check"]));
    assert_eq!(pylock_version(&p, "gamma").as_deref(), Some("1.0"));
}

#[test]
fn lock_keeps_locked_versions_until_asked_to_upgrade() {
    let t = need_uv!();
    let p = t.project("proj", &[]);
    // The dependency on alpha, `cove lock`'s arguments, the alpha locked then.
    for (alpha, args, locked) in [
        ("alpha<2", &["lock"][..], "1.0"),
        ("alpha", &["lock"], "1.0"), // kept: 1.0 still satisfies `alpha`
        ("alpha", &["lock", "--upgrade-package", "alpha"], "2.0"),
        ("alpha<2", &["lock"], "1.0"),
        ("alpha", &["lock", "--upgrade"], "2.0"),
    ] {
        t.write_cove_toml(&p, &["beta", alpha]);
        t.trust(&p);
        assert_ok(&t.cove(&p, args));
        assert_eq!(pylock_version(&p, "alpha").as_deref(), Some(locked), "{alpha}, then {args:?}");
    }
}

#[test]
fn lock_replaces_a_damaged_lock() {
    let t = need_uv!();
    let p = t.project("proj", &["beta"]);
    t.trust(&p);
    std::fs::write(p.join("pylock.toml"), "lock-version = \"1.0\"\n[[packages]\n").unwrap();
    // Trust covers the lock file (SPEC §5): the owner trusts what they wrote there.
    t.trust(&p);
    assert!(!t.cove(&p, &["status"]).status.success(), "a damaged lock is an error");
    assert_ok(&t.cove(&p, &["lock"]));
    assert_eq!(pylock_version(&p, "beta").as_deref(), Some("1.0"));
    assert_ok(&t.cove(&p, &["lock", "--check"]));
}

#[test]
fn lock_in_an_untrusted_project_runs_no_resolver_and_writes_nothing() {
    let t = need_uv!();
    let p = t.project("proj", &["beta"]);
    let out = t.cove(&p, &["lock"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not trusted"), "{}", stderr(&out));
    assert!(!p.join("pylock.toml").exists());
}

#[test]
fn a_lock_cove_wrote_installs_with_uv_and_pip() {
    let t = need_uv!();
    let p = t.project("proj", &["beta"]);
    t.trust(&p);
    assert_ok(&t.cove(&p, &["lock"]));
    let lock = p.join("pylock.toml");
    let uv = uv().unwrap();
    let venv = t.path().join("fresh");
    let python = system_python();
    let out =
        t.cmd(&uv, t.path()).args(["venv", "--no-config", "-q", "--python"]).arg(&python).arg(&venv).output().unwrap();
    assert_ok(&out);
    let wheels = wheelhouse().display().to_string();
    let out = t
        .cmd(&uv, t.path())
        .args(["pip", "install", "--no-config", "--no-index", "--find-links", &wheels, "--python"])
        .arg(venv.join("bin/python"))
        .arg("-r")
        .arg(&lock)
        .output()
        .unwrap();
    assert_ok(&out);
    let out = t
        .cmd(venv.join("bin/python"), t.path())
        .args(["-c", "import alpha, beta; print(alpha.__version__)"])
        .output()
        .unwrap();
    assert_stdout(&out, "2.0\n");

    // pip: only a pip that installs from pylock.toml files can take part.
    let help = t.cmd(&python, t.path()).args(["-m", "pip", "install", "--help"]).output().unwrap();
    if !stdout(&help).contains("pylock") {
        let v = t.cmd(&python, t.path()).args(["-m", "pip", "--version"]).output().unwrap();
        eprintln!("SKIPPED (pip install from pylock.toml): this pip cannot ({})", stdout(&v).trim());
        return;
    }
    let venv = t.path().join("fresh-pip");
    assert_ok(&t.cmd(&python, t.path()).args(["-m", "venv"]).arg(&venv).output().unwrap());
    let out = t
        .cmd(venv.join("bin/python"), t.path())
        .args(["-m", "pip", "install", "--no-index", "--find-links", &wheels, "-r"])
        .arg(&lock)
        .output()
        .unwrap();
    assert_ok(&out);
}

#[test]
fn lock_with_the_pip_backend_needs_pip_lock_or_uv() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["beta"]);
    t.trust(&p);
    let out = t.cove(&p, &["lock"]);
    if out.status.success() {
        eprintln!("this interpreter's pip has `pip lock`: the lock was made with it");
        assert_eq!(pylock_version(&p, "beta").as_deref(), Some("1.0"));
        return;
    }
    assert!(stderr(&out).contains("needs uv, or pip 25.1 or newer"), "{}", stderr(&out));
    assert!(!p.join("pylock.toml").exists());
}

// ---- cove run --with ----

#[test]
fn run_with_layers_extra_requirements_and_leaves_the_manifest_alone() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let manifest = std::fs::read(p.join("cove.toml")).unwrap();
    let key = t.status(&p)["key"].as_str().unwrap().to_string();
    let code = "import gamma, alpha; print(gamma.__version__, alpha.__version__)";
    let out = t.cove(&p, &["run", "--with", "gamma", "python", "-c", code]);
    assert_stdout(&out, "1.0 1.0\n");
    assert!(stderr(&out).contains("building"), "{}", stderr(&out));
    assert_eq!(std::fs::read(p.join("cove.toml")).unwrap(), manifest, "manifest bytes unchanged");
    assert_eq!(t.status(&p)["key"], key.as_str(), "the project's key is its own");

    let again = t.cove(&p, &["run", "--with", "gamma", "python", "-c", code]);
    assert_stdout(&again, "1.0 1.0\n");
    assert!(!stderr(&again).contains("building"), "reused: {}", stderr(&again));

    // Without --with, gamma is not there.
    let plain = t.cove(&p, &["run", "python", "-c", "import gamma"]);
    assert!(!plain.status.success());

    let list = t.cove(&p, &["list", "--json"]);
    assert_ok(&list);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let overlay = list.as_array().unwrap().iter().find(|e| e["with"] == serde_json::json!(["gamma"])).expect("listed");
    assert_eq!(overlay["over"], key.as_str());
    assert_eq!(overlay["projects"], serde_json::json!([]), "its use is not the project's");
    let own = list.as_array().unwrap().iter().find(|e| e["key"] == key.as_str()).expect("the project's env");
    assert_eq!(own["projects"].as_array().unwrap().len(), 1);
    let table = stdout(&t.cove(&p, &["list"]));
    assert!(table.contains("run --with gamma"), "{table}");

    // Unused for long, it goes like any environment.
    let dir = PathBuf::from(overlay["path"].as_str().unwrap());
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 86400);
    std::fs::File::options().write(true).open(dir.join(".cove-used")).unwrap().set_modified(old).unwrap();
    let gc = t.cove(&p, &["gc"]);
    assert_ok(&gc);
    let short = &overlay["key"].as_str().unwrap()[..12];
    assert!(stdout(&gc).contains(&format!("removed {short}")), "{}", stdout(&gc));
    assert!(!dir.exists());
    assert!(t.cache.join("envs").join(&key).exists(), "the project's own environment stays");
}

#[test]
fn run_with_a_console_script_runs_it_without_making_a_shim() {
    let t = TestEnv::new();
    let p = t.project("proj", &["gamma"]);
    t.trust(&p);
    t.shims_on();
    let out = t.cove(&p, &["run", "--with", "alpha==2.0", "alpha-cli"]);
    assert_stdout(&out, "alpha-cli 2.0\n");
    assert!(!t.shims().join("alpha-cli").exists(), "an overlay's scripts belong to the run");
}

#[test]
fn run_with_in_a_package_project_sees_the_project_too() {
    let t = TestEnv::new();
    let p = package_project(t.path(), "mypkg", "mypkg", "0.1.0", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.cove(&p, &["run", "--with", "delta", "python", "-c", "import mypkg, alpha, delta; print('ok')"]);
    assert_stdout(&out, "ok\n");
}
