//! Issue 9: what the shim's warm path does, pinned by counting system calls (never by timing:
//! machines are noisy). With the environment ready, `python` in a project starts no process,
//! runs nothing but the final exec of the environment's interpreter, and opens only a handful of
//! files (the config, the manifest, cached facts, the project record; `.python-version` and a
//! pyenv version file when the machine has them). Counted with strace; without it the test says
//! `SKIPPED` and why (`.ci/run` installs strace).

mod common;
use common::*;

use std::path::Path;

/// Files the warm shim may try to open itself (the dynamic loader's, when the build is dynamic,
/// are not counted). Measured: 5 with no pyenv (config, manifest, `.python-version`, cached facts,
/// project record), 6 with a pyenv shim first on PATH (its version file). The headroom is small
/// on purpose: a new read on the warm path should be a choice.
const MAX_OPENS: usize = 8;

/// Opened by the dynamic loader, not by cove.
fn is_loaders(call: &str) -> bool {
    call.contains("/etc/ld.so.") || call.contains(".so\"") || call.contains(".so.")
}

fn strace() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("strace")).find(|p| p.is_file())
}

/// The shim's own system calls: the trace up to the exec of the program it hands over to.
fn shim_calls(trace: &str, target: &Path) -> Vec<String> {
    let target = format!("execve(\"{}", target.display());
    trace
        .lines()
        .map(|l| l.split_once(' ').map(|(_pid, rest)| rest.trim_start()).unwrap_or(l).to_string())
        .take_while(|l| !l.starts_with(&target))
        .collect()
}

#[test]
fn the_warm_shim_spawns_nothing_and_opens_few_files() {
    let Some(strace) = strace() else {
        eprintln!("SKIPPED: strace not installed (.ci/run installs it)");
        return;
    };
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    assert_ok(&t.cove(&p, &["sync", "--quiet"]));
    t.shims_on();
    let env = t.status(&p)["env"].as_str().unwrap().to_string();
    let target = Path::new(&env).join("bin").join("python");

    let log = t.path().join("strace.log");
    let out = t
        .cmd(&strace, &p)
        .arg("-f")
        .arg("-o")
        .arg(&log)
        // Cargo's library path for tests would only lengthen the loader's search.
        .env_remove("LD_LIBRARY_PATH")
        .arg(t.shims().join("python"))
        .args(["-c", "print('ran')"])
        .output()
        .expect("run strace");
    if !out.status.success() && stderr(&out).contains("ptrace") {
        eprintln!("SKIPPED: strace cannot trace here: {}", stderr(&out).trim());
        return;
    }
    assert_stdout(&out, "ran\n");
    let trace = std::fs::read_to_string(&log).unwrap();
    assert!(trace.contains(&format!("execve(\"{}\"", target.display())), "no exec of {}:\n{trace}", target.display());
    let calls = shim_calls(&trace, &target);

    let spawned: Vec<&String> = calls
        .iter()
        .filter(|c| ["fork(", "vfork(", "clone(", "clone3(", "posix_spawn"].iter().any(|s| c.starts_with(s)))
        .collect();
    assert!(spawned.is_empty(), "the warm shim started a process:\n{spawned:#?}");
    // The first execve is the shim itself being started.
    let execs: Vec<&String> = calls.iter().filter(|c| c.starts_with("execve(")).skip(1).collect();
    assert!(execs.is_empty(), "the warm shim ran something before the final exec:\n{execs:#?}");
    let opens: Vec<&String> =
        calls.iter().filter(|c| (c.starts_with("open(") || c.starts_with("openat(")) && !is_loaders(c)).collect();
    assert!(opens.len() <= MAX_OPENS, "the warm shim opened {} files (at most {MAX_OPENS}):\n{opens:#?}", opens.len());
    let writes: Vec<&String> = calls
        .iter()
        .filter(|c| {
            c.starts_with("openat(") && (c.contains("O_WRONLY") || c.contains("O_RDWR") || c.contains("O_CREAT"))
        })
        .collect();
    assert!(writes.is_empty(), "the warm shim opened a file for writing:\n{writes:#?}");
}

/// How long the plan memo waits before it trusts a file's times (`src/memo.rs`), and a margin.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(2300);

fn alpha_version(t: &TestEnv, p: &Path) -> String {
    let out = t.shim("python", p, &["-c", "import alpha; print(alpha.__version__)"]);
    assert_ok(&out);
    stdout(&out).trim().to_string()
}

#[test]
fn a_remembered_plan_is_taken_until_an_included_file_changes() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let index = format!("--no-index\n--find-links {}\n", wheelhouse().display());
    std::fs::write(p.join("requirements.txt"), format!("{index}-r more.txt\n")).unwrap();
    std::fs::write(p.join("more.txt"), "alpha==1.0\n").unwrap();
    t.trust(&p);
    assert_ok(&t.cove(&p, &["sync", "--quiet"]));
    std::thread::sleep(SETTLE);
    assert_eq!(alpha_version(&t, &p), "1.0");
    let plans = t.path().join("cache/plans");
    assert_eq!(std::fs::read_dir(&plans).map(|d| d.count()).unwrap_or(0), 1, "no plan was remembered");

    // The next run takes the plan: the manifest and its include are stat'ed, not read.
    if let Some(strace) = strace() {
        let log = t.path().join("strace.log");
        let out = t
            .cmd(&strace, &p)
            .args(["-f", "-e", "trace=open,openat", "-o"])
            .arg(&log)
            .arg(t.shims().join("python"))
            .args(["-c", "import alpha; print(alpha.__version__)"])
            .output()
            .unwrap();
        if out.status.success() {
            assert_eq!(stdout(&out), "1.0\n");
            let trace = std::fs::read_to_string(&log).unwrap();
            let shim = shim_calls(&trace, Path::new("/"));
            let read: Vec<&String> =
                shim.iter().filter(|c| c.contains("more.txt") || c.contains("requirements.txt")).collect();
            assert!(read.is_empty(), "a remembered plan read its files again:\n{read:#?}");
        }
    } else {
        eprintln!("SKIPPED (part): strace not installed, the reads of a warm run are not checked");
    }

    // An edit of the included file, even within the second, is seen.
    std::fs::write(p.join("more.txt"), "alpha==2.0\n").unwrap();
    t.trust(&p);
    assert_eq!(alpha_version(&t, &p), "2.0");
}

#[test]
fn a_remembered_plan_sees_a_file_that_appears() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let index =
        format!("[tool.cove.index]\nfind-links = [{:?}]\nno-index = true\n", wheelhouse().display().to_string());
    std::fs::write(
        p.join("pyproject.toml"),
        format!("[project]\nname = \"flat\"\nversion = \"1\"\ndependencies = []\n\n{index}"),
    )
    .unwrap();
    t.trust(&p);
    assert_ok(&t.cove(&p, &["sync", "--quiet"]));
    std::thread::sleep(SETTLE);
    let out = t.shim("python", &p, &["-c", "import alpha"]);
    assert!(!out.status.success(), "alpha should not be installed yet");
    assert_eq!(std::fs::read_dir(t.path().join("cache/plans")).map(|d| d.count()).unwrap_or(0), 1);

    // A requirements.txt beside the pyproject.toml is read too (SPEC §2): its arrival is seen.
    std::fs::write(p.join("requirements.txt"), "alpha==1.0\n").unwrap();
    t.trust(&p);
    assert_eq!(alpha_version(&t, &p), "1.0");
}

/// A project with a ready environment and a remembered plan; then `cove args` under strace.
/// Returns what it printed and the files it opened, or `None` (said) when strace is missing or
/// cannot trace here.
fn opens_with_a_remembered_plan(args: &[&str]) -> Option<(TestEnv, std::path::PathBuf, String, Vec<String>)> {
    let Some(strace) = strace() else {
        eprintln!("SKIPPED: strace not installed (.ci/run installs it)");
        return None;
    };
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let index = format!("--no-index\n--find-links {}\n", wheelhouse().display());
    std::fs::write(p.join("requirements.txt"), format!("{index}alpha==1.0\n")).unwrap();
    t.trust(&p);
    assert_ok(&t.cove(&p, &["sync", "--quiet"]));
    std::thread::sleep(SETTLE);
    // The first run makes the plan and keeps it; the next one takes it.
    assert_ok(&t.cove(&p, &["run", "python", "-c", "pass"]));
    let log = t.path().join("strace.log");
    let out = t
        .cmd(&strace, &p)
        .args(["-f", "-e", "trace=open,openat", "-o"])
        .arg(&log)
        .arg(COVE)
        .args(args)
        .output()
        .unwrap();
    if !out.status.success() && stderr(&out).contains("ptrace") {
        eprintln!("SKIPPED: strace cannot trace here: {}", stderr(&out).trim());
        return None;
    }
    assert_ok(&out);
    let trace = std::fs::read_to_string(&log).unwrap();
    // Only opens are traced (no execve): the whole trace, cove's and python's.
    let calls = shim_calls(&trace, Path::new("/"));
    Some((t, p, stdout(&out), calls))
}

#[test]
fn cove_run_takes_the_remembered_plan_as_the_shim_does() {
    let Some((_t, _p, out, calls)) =
        opens_with_a_remembered_plan(&["run", "python", "-c", "import alpha; print(alpha.__version__)"])
    else {
        return;
    };
    assert_eq!(out, "1.0\n");
    let read: Vec<&String> = calls.iter().filter(|c| c.contains("requirements.txt")).collect();
    assert!(read.is_empty(), "`cove run` with a remembered plan read the manifest again:\n{read:#?}");
}

#[test]
fn cove_which_takes_the_remembered_plan_as_the_shim_does() {
    let Some((t, p, out, calls)) = opens_with_a_remembered_plan(&["which", "python"]) else {
        return;
    };
    let env = t.status(&p)["env"].as_str().unwrap().to_string();
    assert_eq!(out, format!("{env}/bin/python\n"));
    let read: Vec<&String> = calls.iter().filter(|c| c.contains("requirements.txt")).collect();
    assert!(read.is_empty(), "`cove which` with a remembered plan read the manifest again:\n{read:#?}");
}
