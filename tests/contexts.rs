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
        if backend == "uv" && no_uv() {
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

/// The newest installed pyenv CPython `X.Y.*`'s `bin/pythonX.Y`.
fn pyenv_python(minor: &str) -> Option<std::path::PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".pyenv")))?;
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{minor}.")))
        .map(|e| e.path().join(format!("bin/python{minor}")))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// Put a copy of `from` at `to` the way an upgrade does: written aside, renamed over.
fn install_binary(from: &std::path::Path, to: &std::path::Path) {
    let aside = to.with_extension("new");
    std::fs::copy(from, &aside).unwrap();
    std::fs::rename(&aside, to).unwrap();
}

/// The `cove-seed.json` of every pip seed, by folder name.
fn seed_infos(t: &TestEnv) -> Vec<(String, serde_json::Value)> {
    let mut v: Vec<(String, serde_json::Value)> = std::fs::read_dir(t.cache.join("seeds"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let info = std::fs::read(e.path().join("cove-seed.json")).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), serde_json::from_slice(&info).unwrap_or_default())
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// An interpreter upgraded in place — the file at one path a CPython 3.12 where a 3.11 was —
/// gets a pip seed of its own, made from the pip its own `ensurepip` ships, found from its
/// standard library rather than its path: never the 3.11 seed, nor Debian's pip 23.0.1 from
/// `/usr/share/python-wheels`, which fails on 3.12 (issue 18, finding 8). A symlink repointed
/// from one pyenv Python to another resolves to the other's real path, and so its own prefix:
/// a copy of the binary is what an in-place upgrade leaves.
#[test]
fn an_interpreter_upgraded_in_place_gets_a_pip_seed_it_can_run() {
    let (Some(old), Some(new)) = (pyenv_python("3.11"), pyenv_python("3.12")) else {
        eprintln!("SKIPPED: needs pyenv CPython 3.11.* and 3.12.* (~/.pyenv/versions)");
        return;
    };
    let t = TestEnv::with_backend("pip");
    let bin = t.path().join("upgraded/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let python = bin.join("python3");
    install_binary(&old, &python);
    let p = t.project("proj", &["alpha==1.0"]);
    std::fs::write(p.join(".python-version"), format!("{}\n", python.display())).unwrap();
    t.trust(&p);
    assert_ok(&t.cove(&p, &["sync"]));
    let before = seed_infos(&t);
    assert_eq!(before.len(), 1, "{before:?}");
    let own = |interp: &std::path::Path, info: &serde_json::Value| {
        let prefix = interp.parent().unwrap().parent().unwrap();
        info["wheel"].as_str().is_some_and(|w| std::path::Path::new(w).starts_with(prefix))
    };
    assert!(own(&old, &before[0].1), "the 3.11 seed is made from 3.11's own pip wheel: {before:?}");

    install_binary(&new, &python);
    let out = t.cove(&p, &["sync"]);
    assert_ok(&out);
    let env = t.status(&p)["env"].as_str().unwrap().to_string();
    let pip = t.cmd(format!("{env}/bin/pip"), &p).arg("--version").output().unwrap();
    assert_ok(&pip);
    assert!(stdout(&pip).contains("(python 3.12)"), "{}", stdout(&pip));
    let after = seed_infos(&t);
    let (name, info) = after
        .iter()
        .find(|(_, i)| i["python_version"].as_str().is_some_and(|v| v.starts_with("3.12.")))
        .unwrap_or_else(|| panic!("no seed for 3.12: {after:?}"));
    assert_ne!(name, &before[0].0);
    assert!(own(&new, info), "the 3.12 seed is made from 3.12's own pip wheel: {info}");
    let log = std::fs::read_to_string(t.cache.join("logs").join(format!("{}.log", env.rsplit('/').next().unwrap())))
        .unwrap_or_default();
    assert!(log.contains(&format!("/seeds/{name} (")), "the env's pip came from the 3.12 seed: {log}");
}

/// A project asking for `alpha` and, on the manifest's third line, a package the wheelhouse
/// lacks: its install fails, offline (`no-index`).
fn project_with_a_missing_package(t: &TestEnv) -> std::path::PathBuf {
    let p = t.path().join("missing");
    std::fs::create_dir_all(&p).unwrap();
    let text = format!(
        "dependencies = [\n  \"alpha==1.0\",\n  \"Nosuch_Pkg>=2\",\n]\n\n[index]\nfind-links = [{:?}]\nno-index = true\n",
        wheelhouse().display().to_string()
    );
    std::fs::write(p.join("cove.toml"), text).unwrap();
    t.trust(&p);
    p
}

/// A failing install names the manifest line of the requirement the installer found nothing
/// for, as written, and under COVE_OFFLINE=1 says that offline mode may be why (issue 18,
/// finding 10).
#[test]
fn a_failing_install_names_the_manifest_line_and_offline_mode() {
    for backend in ["pip", "uv"] {
        if backend == "uv" && no_uv() {
            continue;
        }
        let t = TestEnv::with_backend(backend);
        let p = project_with_a_missing_package(&t);
        let at = format!("{}:3: Nosuch_Pkg>=2: ", p.join("cove.toml").display());
        let out = t.cmd(COVE, &p).env("COVE_OFFLINE", "1").arg("sync").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{backend}: {}", stderr(&out));
        let err = stderr(&out);
        let error = err.lines().find(|l| l.starts_with("cove: error:")).unwrap_or_default();
        assert!(error.starts_with(&format!("cove: error: {at}")), "{backend}: {err}");
        let hint = err.lines().find(|l| l.trim_start().starts_with("hint:")).unwrap_or_default();
        assert!(hint.contains("offline mode is on") && hint.contains("may be why"), "{backend}: {err}");
        let out = t.cove(&p, &["sync"]);
        let err = stderr(&out);
        assert!(err.contains(&format!("cove: error: {at}")), "{backend}: {err}");
        assert!(!err.contains("offline mode"), "{backend}: not offline: {err}");
    }
}

/// What uv says about the environment it installs into names the environment's own path, not
/// the slot (`slots/slot-0-000…`) or attempt folder it is built through, with `-v` and in a
/// failure's output (issue 18, finding 10).
#[test]
fn installer_output_names_the_environment_not_the_staging_path() {
    if no_uv() {
        return;
    }
    let t = TestEnv::with_backend("uv");
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.cove(&p, &["-v", "sync"]);
    assert_ok(&out);
    let env = t.status(&p)["env"].as_str().unwrap().to_string();
    let err = stderr(&out);
    assert!(err.contains(&format!("environment at: {env}\n")), "{err}");
    let internal = [format!("{}/slots/", t.cache.display()), format!("{}/tmp/", t.cache.display())];
    assert!(!internal.iter().any(|i| err.contains(i)), "{err}");

    let p = project_with_a_missing_package(&t);
    let out = t.cove(&p, &["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("environment at: ") && err.contains("/envs/"), "{err}");
    assert!(!internal.iter().any(|i| err.contains(i)), "{err}");
}

/// Disk usage of `dirs` as `du` counts it (blocks), each inode once across all of them.
fn on_disk(dirs: &[std::path::PathBuf]) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for dir in dirs {
        total += std::fs::symlink_metadata(dir).unwrap().blocks() * 512;
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let meta = entry.metadata().unwrap();
                if meta.is_dir() {
                    stack.push(entry.path());
                } else if meta.nlink() > 1 && !seen.insert((meta.dev(), meta.ino())) {
                    continue;
                }
                total += meta.blocks() * 512;
            }
        }
    }
    total
}

/// cove's `format_size`.
fn format_size(bytes: u64) -> String {
    if bytes < 1024 {
        return bytes.to_string();
    }
    let (mut value, mut unit) = (bytes as f64, "");
    for u in ["K", "M", "G", "T", "P"] {
        value /= 1024.0;
        unit = u;
        if value < 1024.0 {
            break;
        }
    }
    if value < 9.95 { format!("{value:.1}{unit}") } else { format!("{value:.0}{unit}") }
}

/// `cove list` and `cove gc` count pip's files, hard-linked from the seed into every pip-backend
/// environment, once: the sizes listed add up to what the environments take on disk, and a gc
/// cap of exactly that removes nothing (issue 18, finding 10).
#[test]
fn list_and_gc_count_files_hard_linked_into_several_environments_once() {
    let t = TestEnv::with_backend("pip");
    for (name, dep) in [("one", "alpha==1.0"), ("two", "gamma==1.0")] {
        let p = t.project(name, &[dep]);
        t.trust(&p);
        assert_ok(&t.cove(&p, &["sync"]));
    }
    let envs = t.envs();
    assert_eq!(envs.len(), 2);
    let disk = on_disk(&envs);
    let apart: u64 = envs.iter().map(|e| on_disk(std::slice::from_ref(e))).sum();
    assert!(apart > disk + 1_000_000, "pip is linked into both: {apart} apart, {disk} on disk");

    let out = t.cove(t.path(), &["list", "--json"]);
    assert_ok(&out);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sizes: u64 = list.as_array().unwrap().iter().map(|e| e["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, disk, "{list}");
    let out = t.cove(t.path(), &["list"]);
    assert_ok(&out);
    let table = stdout(&out);
    let total = table.lines().last().unwrap_or_default();
    assert!(total.starts_with(&format!("2 environments, {} in all (on disk", format_size(disk))), "{table}");
    assert!(total.contains("counts once"), "{table}");

    let out = t.cove(t.path(), &["gc", "--max-size", &disk.to_string()]);
    assert_ok(&out);
    assert_eq!(t.envs().len(), 2, "the cache fits the cap on disk: {}", stdout(&out));
    assert!(stdout(&out).contains("nothing to remove"), "{}", stdout(&out));
}
