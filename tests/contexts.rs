//! One project, one environment, from every context (issue 18): `cove run` for any command.

mod common;
use common::*;

/// `cove run CMD` finds a command that is not in the environment on the environment's PATH, as
/// a shell would, and passes its exit status through (issue 18, finding 2).
#[test]
fn run_finds_commands_outside_the_env_and_keeps_their_status() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.cove(&p, &["run", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = t.cove(&p, &["run", "sh", "-c", "echo \"$VIRTUAL_ENV\"; command -v alpha-cli"]);
    assert_ok(&out);
    let text = stdout(&out);
    let env = text.lines().next().unwrap_or_default().to_string();
    assert!(!env.is_empty() && text.contains(&format!("{env}/bin/alpha-cli")), "{text}");
    let out = t.cove(&p, &["run", "alpha-cli"]);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "alpha-cli 1.0");
    let out = t.cove(&p, &["run", "no-such-command-anywhere"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no-such-command-anywhere: command not found"), "{err}");
    assert!(!err.contains("install Python"), "{err}");
}

/// A pyproject.toml whose `[project]` header is itself broken is an error with file:line:col,
/// not a folder with no project (issue 18, finding 7).
#[test]
fn a_pyproject_with_a_broken_header_is_an_error() {
    let t = TestEnv::new();
    let p = t.path().join("broken");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("pyproject.toml"), "[project\nname = \"x\"\nversion = \"1\"\n").unwrap();
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("pyproject.toml:1:"), "{err}");
    t.shims_on();
    let out = t.shim("python", &p, &["-c", "print('ran')"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stdout(&out).contains("ran"));
}

/// A package project's layer `bin` offers every executable of the shared environment, not only
/// its Python scripts: `source .venv/bin/activate; epsilon-tool` works (issue 18, finding 6).
#[test]
fn the_layer_bin_has_the_environments_non_python_tools() {
    for backend in ["pip", "uv"] {
        if backend == "uv" && uv().is_none() {
            eprintln!("SKIPPED (uv backend): uv is not installed");
            continue;
        }
        let t = TestEnv::with_backend(backend);
        let p = package_project(t.path(), "mypkg", "mypkg", "0.1.0", &["epsilon==1.0"]);
        t.trust(&p);
        assert_ok(&t.cove(&p, &["sync"]));
        assert_ok(&t.cove(&p, &["link"]));
        // Without cove's shims on PATH, as an editor's terminal that only activates `.venv`.
        let out = t
            .cmd("bash", &p)
            .env("PATH", &t.base_path)
            .args(["-c", ". .venv/bin/activate && command -v epsilon-tool && epsilon-tool"])
            .output()
            .unwrap();
        assert_ok(&out);
        let text = stdout(&out);
        assert!(
            text.contains("/layers/") && text.contains("/bin/epsilon-tool\n") && text.ends_with("epsilon-tool ran\n"),
            "{backend}: {text}"
        );
    }
}

fn has(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `cove setup` puts the shims on PATH for login bash, `sh -l`, `zsh -c` and fish without any
/// interactive rc file; running it twice changes nothing and `--undo` gives back each file's
/// bytes (issue 18, "the non-interactive contexts").
#[test]
fn setup_reaches_login_and_non_interactive_shells_and_undo_restores_the_files() {
    let t = TestEnv::new();
    let profile = t.home.join(".profile");
    std::fs::write(&profile, "export KEEP=1").unwrap(); // no newline at the end, on purpose
    let out = t.cove(t.path(), &["setup"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("~/.profile: wrote"), "{}", stdout(&out));
    let after: Vec<_> = [".profile", ".zshenv", ".config/fish/conf.d/cove.fish"]
        .iter()
        .map(|f| std::fs::read(t.home.join(f)).unwrap_or_else(|_| panic!("{f} written")))
        .collect();
    assert_ok(&t.cove(t.path(), &["setup"]));
    let again: Vec<_> = [".profile", ".zshenv", ".config/fish/conf.d/cove.fish"]
        .iter()
        .map(|f| std::fs::read(t.home.join(f)).unwrap())
        .collect();
    assert_eq!(after, again, "a second setup changes nothing");

    let shim = t.shims().join("python");
    let bare = "/usr/bin:/bin";
    let mut contexts: Vec<(&str, Vec<&str>)> =
        vec![("bash", vec!["-lc", "command -v python"]), ("sh", vec!["-lc", "command -v python"])];
    for (shell, args) in [("zsh", vec!["-c", "command -v python"]), ("fish", vec!["-c", "command -v python"])] {
        if has(shell) {
            contexts.push((shell, args));
        } else {
            eprintln!("SKIPPED ({shell}): not installed");
        }
    }
    for (shell, args) in &contexts {
        let out = t.cmd(shell, t.path()).env("PATH", bare).args(args).output().unwrap();
        assert_eq!(stdout(&out).trim(), shim.display().to_string(), "{shell} {args:?}: {}", stderr(&out));
    }

    // `cove doctor` runs each context for real and finds them all reaching the shims.
    let doctor =
        t.cmd(COVE, t.path()).env("PATH", format!("{}:{bare}", t.shims().display())).arg("doctor").output().unwrap();
    let text = stdout(&doctor);
    let line = text.lines().find(|l| l.contains("contexts")).unwrap_or_default().to_string();
    assert!(line.starts_with("ok"), "{text}");

    let out = t.cove(t.path(), &["setup", "--undo"]);
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), "export KEEP=1");
    assert!(!t.home.join(".zshenv").exists() && !t.home.join(".config/fish/conf.d/cove.fish").exists());
    let out =
        t.cmd("bash", t.path()).env("PATH", bare).args(["-lc", "command -v python || echo none"]).output().unwrap();
    assert!(!stdout(&out).contains(&t.shims().display().to_string()), "{}", stdout(&out));
}

/// With backend auto and no uv on PATH, the uv that `install.sh` puts in cove's data folder
/// is used, and `cove doctor` says so (issue 22, "uv by default").
#[test]
fn the_uv_in_coves_data_folder_is_used_when_none_is_on_path() {
    let Some(uv) = uv() else {
        eprintln!("SKIPPED: uv is not installed");
        return;
    };
    let t = TestEnv::with_backend("auto");
    let bundled = t.data.join("tools/uv/bin");
    std::fs::create_dir_all(&bundled).unwrap();
    std::os::unix::fs::symlink(&uv, bundled.join("uv")).unwrap();
    let no_uv_path: String = std::env::split_paths(&t.base_path)
        .filter(|d| !d.join("uv").exists())
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.cmd(COVE, &p).env_remove("COVE_UV").env("PATH", &no_uv_path).args(["sync"]).output().unwrap();
    assert_ok(&out);
    assert!(stderr(&out).contains("with uv"), "{}", stderr(&out));
    let out = t.cmd(COVE, &p).env_remove("COVE_UV").env("PATH", &no_uv_path).arg("doctor").output().unwrap();
    assert!(stdout(&out).contains("uv from cove's data folder"), "{}", stdout(&out));
}

/// Another project's active environment on PATH (as the hook leaves it inside that project)
/// is never the interpreter a project is built on: `cd ../B && python` gets what a fresh prompt
/// in B gets (issue 18, finding 1).
#[test]
fn an_active_environment_on_path_is_not_an_interpreter_candidate() {
    let t = TestEnv::new();
    let b = t.project("b", &["alpha==1.0"]);
    let fresh = t.status(&b)["python"].as_str().unwrap().to_string();
    // A project pinned to another interpreter than B's, with its environment built.
    let other = (|| {
        let pyenv = std::env::var_os("PYENV_ROOT")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".pyenv")))?;
        let mut versions: Vec<String> = std::fs::read_dir(pyenv.join("versions"))
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin/python3"))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        versions.sort();
        versions.into_iter().rev().find(|p| std::fs::canonicalize(p).ok() != std::fs::canonicalize(&fresh).ok())
    })();
    let Some(other) = other else {
        eprintln!("SKIPPED: needs a second interpreter (pyenv versions) besides {fresh}");
        return;
    };
    let a = t.project("a", &["gamma==1.0"]);
    std::fs::write(a.join(".python-version"), format!("{other}\n")).unwrap();
    t.trust(&a);
    assert_ok(&t.cove(&a, &["sync"]));
    let a_env = t.status(&a)["env"].as_str().unwrap().to_string();
    let path = format!("{}:{a_env}/bin:{}", t.shims().display(), t.base_path);
    let out = t.cmd(COVE, &b).env("PATH", &path).args(["status", "--json"]).output().unwrap();
    assert_ok(&out);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["python"].as_str().unwrap(), fresh, "A's env on PATH changed B's interpreter");
    // Outside any project, `python` passes through to the user's python, not A's environment.
    let outside = t.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    t.shims_on();
    let out = t
        .cmd(t.shims().join("python"), &outside)
        .env("PATH", &path)
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(!stdout(&out).contains(&a_env), "outside a project python ran A's env: {}", stdout(&out));
}

/// One project, one environment, from every context: inside another project's activated
/// environment, `sh -c`, a cron-like `env -i` with only the system's PATH, and `make` all run
/// the same key on the same interpreter (issue 18, finding 1 and "what done looks like").
#[test]
fn a_project_gets_one_environment_from_every_context() {
    let t = TestEnv::new();
    t.shims_on();
    let a = t.project("a", &["gamma==1.0"]);
    t.trust(&a);
    assert_ok(&t.cove(&a, &["sync"]));
    let a_env = t.status(&a)["env"].as_str().unwrap().to_string();
    let b = t.project("b", &["alpha==1.0"]);
    t.trust(&b);
    let ask = "python -c 'import sys; print(sys.prefix)'";
    let shims = t.shims().display().to_string();
    let mut seen = Vec::new();
    // A fresh prompt in B builds it.
    let out = t.cmd("sh", &b).args(["-c", ask]).output().unwrap();
    assert_ok(&out);
    seen.push(("sh -c", stdout(&out)));
    // A hooked shell that was inside A: A's env bin right after the shims.
    let out =
        t.cmd("sh", &b).env("PATH", format!("{shims}:{a_env}/bin:{}", t.base_path)).args(["-c", ask]).output().unwrap();
    assert_ok(&out);
    seen.push(("inside A", stdout(&out)));
    // cron-like: nothing but the shims and the system's folders.
    let uv_var = uv().map(|u| format!("COVE_UV={}", u.display())).unwrap_or_else(|| "COVE_UNUSED=1".into());
    let out = t
        .cmd("env", &b)
        .args(["-i"])
        .arg(uv_var)
        .arg(format!("HOME={}", t.home.display()))
        .arg(format!("PATH={shims}:/usr/bin:/bin"))
        .arg(format!("COVE_CACHE_DIR={}", t.cache.display()))
        .arg(format!("COVE_HOME={}", t.data.display()))
        .arg(format!("COVE_CONFIG={}", t.config.display()))
        .arg(format!("COVE_BACKEND={}", t.backend))
        .args(["sh", "-c", ask])
        .output()
        .unwrap();
    assert_ok(&out);
    seen.push(("env -i", stdout(&out)));
    if has("make") {
        std::fs::write(b.join("Makefile"), format!("all:\n\t@{ask}\n")).unwrap();
        let out = t.cmd("make", &b).args(["-s"]).output().unwrap();
        assert_ok(&out);
        seen.push(("make", stdout(&out)));
    } else {
        eprintln!("SKIPPED (make): not installed");
    }
    let first = &seen[0].1;
    assert!(first.contains("/envs/") || first.contains("/layers/"), "{seen:?}");
    for (context, prefix) in &seen {
        assert_eq!(prefix, first, "{context} ran another environment: {seen:?}");
    }
    let st = t.status(&b);
    assert!(st["canonical"].as_str().is_some());
    assert_eq!(t.envs().len(), 2, "A's and B's environments only: {:?}", t.envs());
}
