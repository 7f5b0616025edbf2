//! Issue 9: the pip backend's seed — pip installed once per interpreter under `seeds/` and
//! hard-linked into every environment (see `src/backend/seed.rs`). Every test forces the pip
//! backend and has a cache of its own, so each makes its own seed (a few seconds) and the tests
//! run in parallel.

mod common;
use common::*;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn seeds(t: &TestEnv) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(t.cache.join("seeds")).into_iter().flatten().flatten().map(|e| e.path()).collect();
    v.sort();
    v
}

fn attempts(t: &TestEnv) -> Vec<PathBuf> {
    std::fs::read_dir(t.cache.join("tmp")).into_iter().flatten().flatten().map(|e| e.path()).collect()
}

fn ino(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).ino()
}

/// One of pip's modules and its bytecode, relative to site-packages.
const PIP_FILES: &[&str] = &["pip/__init__.py", "pip/_internal/cli/main.py"];

fn pyc_of(site: &Path, module: &str) -> PathBuf {
    let (dir, file) = module.rsplit_once('/').unwrap();
    let stem = file.strip_suffix(".py").unwrap();
    let cache = site.join(dir).join("__pycache__");
    let found = std::fs::read_dir(&cache).unwrap().flatten().map(|e| e.path()).find(|p| {
        p.file_name().unwrap().to_string_lossy().starts_with(&format!("{stem}."))
            && p.extension().is_some_and(|x| x == "pyc")
    });
    found.unwrap_or_else(|| panic!("no bytecode for {module} in {}", cache.display()))
}

/// The env's pip files are the seed's: the same inodes (or, where the filesystem cannot link,
/// equal copies, which the build log then says).
#[track_caller]
fn assert_from_seed(t: &TestEnv, env: &Path, seed: &Path) {
    let log = std::fs::read_to_string(
        t.cache.join("logs").join(format!("{}.log", env.file_name().unwrap().to_string_lossy())),
    )
    .unwrap_or_default();
    let copied = log.contains("pip copied from the seed");
    let (es, ss) = (site(env), site(seed));
    for f in PIP_FILES {
        for (a, b) in [(es.join(f), ss.join(f)), (pyc_of(&es, f), pyc_of(&ss, f))] {
            if copied {
                assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "{}", a.display());
            } else {
                assert_eq!(ino(&a), ino(&b), "{} is a hard link to the seed's", a.display());
            }
        }
    }
}

fn sync(t: &TestEnv, dir: &Path) {
    let out = t.cove(dir, &["sync"]);
    assert_ok(&out);
}

fn env_of(t: &TestEnv, dir: &Path) -> PathBuf {
    PathBuf::from(t.status(dir)["env"].as_str().unwrap())
}

#[test]
fn a_pip_backend_env_gets_a_working_pip_from_the_seed() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    sync(&t, &p);
    let env = env_of(&t, &p);
    let seed = seeds(&t);
    assert_eq!(seed.len(), 1, "one seed: {seed:?}");
    assert!(seed[0].join(".cove-ready").exists());
    assert_from_seed(&t, &env, &seed[0]);

    // pip, pip3 and pipX.Y, each pointing at the env's python at its final path.
    let version = "import sys; print('%d.%d' % sys.version_info[:2])";
    let x_y = stdout(&t.cmd(env.join("bin/python"), &p).args(["-c", version]).output().unwrap()).trim().to_string();
    for name in ["pip".to_string(), "pip3".into(), format!("pip{x_y}")] {
        let script = std::fs::read_to_string(env.join("bin").join(&name)).unwrap();
        assert!(script.contains(&format!("{}/bin/python", env.display())), "{name}: {script}");
        assert!(!script.contains(&t.cache.join("tmp").display().to_string()), "no attempt path left: {script}");
        let out = t.cmd(env.join("bin").join(&name), &p).arg("--version").output().unwrap();
        assert_ok(&out);
        assert!(
            stdout(&out).contains(&format!("{}", site(&env).display())),
            "{name} runs the env's pip: {}",
            stdout(&out)
        );
    }
    let out = t.cmd(env.join("bin/python"), &p).args(["-m", "pip", "list"]).output().unwrap();
    assert_ok(&out);
    assert!(stdout(&out).contains("alpha") && stdout(&out).contains("pip "), "{}", stdout(&out));
    // Through the shim too.
    let out = t.shim("pip", &p, &["--version"]);
    assert_ok(&out);
    assert!(stdout(&out).contains(&format!("{}", env.display())), "{}", stdout(&out));

    // `.cove-files` lists the linked files with their sizes.
    let listing = std::fs::read_to_string(env.join(".cove-files")).unwrap();
    let init = site(&env).join("pip/__init__.py");
    let rel = init.strip_prefix(&env).unwrap().display().to_string();
    let size = std::fs::metadata(&init).unwrap().len();
    assert!(listing.lines().any(|l| l == format!("{size}\t{rel}")), "{rel} in .cove-files");

    // pip inside the env installs (the env's own pip, by `python -m pip`).
    let out = t
        .cmd(env.join("bin/python"), &p)
        .args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
        .arg(wheelhouse())
        .arg("gamma")
        .output()
        .unwrap();
    assert_ok(&out);
    let out = t.cmd(env.join("bin/python"), &p).args(["-c", "import gamma"]).output().unwrap();
    assert_ok(&out);
}

/// A second environment links the same seed; pip changing itself in one environment (here:
/// uninstalling) never reaches the seed or the other environment through the links, and
/// importing pip writes no bytecode.
#[test]
fn a_second_env_reuses_the_seed_and_changes_never_write_through_links() {
    let t = TestEnv::with_backend("pip");
    let a = t.project("a", &["alpha==1.0"]);
    let b = t.project("b", &["beta"]);
    t.trust(&a);
    t.trust(&b);
    sync(&t, &a);
    let seed = seeds(&t).pop().unwrap();
    let made = std::fs::metadata(seed.join(".cove-ready")).unwrap().modified().unwrap();
    sync(&t, &b);
    assert_eq!(seeds(&t), vec![seed.clone()], "the second build made no seed");
    assert_eq!(std::fs::metadata(seed.join(".cove-ready")).unwrap().modified().unwrap(), made);
    let (ea, eb) = (env_of(&t, &a), env_of(&t, &b));
    assert_ne!(ea, eb);
    assert_from_seed(&t, &ea, &seed);
    assert_from_seed(&t, &eb, &seed);

    let snapshot = |dir: &Path| -> Vec<(PathBuf, u64, Vec<u8>)> {
        let mut v = Vec::new();
        let mut stack = vec![site(dir).join("pip")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    let m = e.metadata().unwrap();
                    v.push((e.path(), m.mtime() as u64, std::fs::read(e.path()).unwrap()));
                }
            }
        }
        v.sort();
        v
    };
    let before = snapshot(&seed);
    let out = t.cmd(ea.join("bin/pip"), &a).arg("list").output().unwrap();
    assert_ok(&out);
    let out = t.cmd(ea.join("bin/python"), &a).args(["-m", "pip", "uninstall", "-y", "pip"]).output().unwrap();
    assert_ok(&out);
    assert!(!site(&ea).join("pip").exists() && !ea.join("bin/pip").exists(), "pip left env a");
    assert_eq!(snapshot(&seed), before, "the seed is untouched");
    let out = t.cmd(eb.join("bin/pip"), &b).arg("--version").output().unwrap();
    assert_ok(&out);
}

/// A seed build SIGKILLed while pip installs itself leaves no seed; the next build removes
/// the attempt and makes a whole one. A seed whose marker is gone is made again too.
#[test]
fn a_seed_build_killed_midway_is_never_used_and_is_made_again() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let mut child = t.cmd(COVE, &p).arg("sync").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Kill once pip is being unpacked into the seed attempt.
    let in_progress = || {
        attempts(&t).iter().any(|a| {
            a.file_name().unwrap().to_string_lossy().starts_with("seed-")
                && std::fs::read_dir(a.join("lib"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|py| py.path().join("site-packages/pip").exists())
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !in_progress() {
        assert!(Instant::now() < deadline, "the seed build never started");
        assert!(child.try_wait().unwrap().is_none(), "the build ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seeds(&t).is_empty(), "a killed seed build published nothing: {:?}", seeds(&t));
    assert!(t.envs().is_empty());
    assert!(attempts(&t).iter().any(|a| a.file_name().unwrap().to_string_lossy().starts_with("seed-")));
    assert_ne!(t.status(&p)["state"], "ready");

    sync(&t, &p);
    let seed = seeds(&t).pop().expect("a seed");
    assert!(seed.join(".cove-ready").exists());
    assert!(attempts(&t).is_empty(), "the killed attempt was removed: {:?}", attempts(&t));
    let env = env_of(&t, &p);
    assert_from_seed(&t, &env, &seed);
    let out = t.cmd(env.join("bin/pip"), &p).arg("--version").output().unwrap();
    assert_ok(&out);

    // A seed that is not ready (its marker lost) is never linked: the next build makes a new one.
    std::fs::remove_file(seed.join(".cove-ready")).unwrap();
    let old = ino(&site(&seed).join("pip/__init__.py"));
    let out = t.cove(&p, &["sync", "--refresh"]);
    assert_ok(&out);
    assert!(seed.join(".cove-ready").exists());
    assert_ne!(ino(&site(&seed).join("pip/__init__.py")), old, "made anew");
    assert_from_seed(&t, &env_of(&t, &p), &seed);
}

/// Two first builds at once on two keys: one makes the seed, the other waits for it; both
/// link it.
#[test]
fn concurrent_first_builds_on_two_keys_make_one_seed() {
    let t = TestEnv::with_backend("pip");
    let a = t.project("a", &["alpha==1.0"]);
    let b = t.project("b", &["alpha==2.0"]);
    t.trust(&a);
    t.trust(&b);
    let children: Vec<_> = [&a, &b]
        .iter()
        .map(|dir| t.cmd(COVE, dir).arg("sync").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_ok(&out);
    }
    let seed = seeds(&t);
    assert_eq!(seed.len(), 1, "one seed: {seed:?}");
    let logs: String = t
        .envs()
        .iter()
        .map(|e| {
            let key = e.file_name().unwrap().to_string_lossy().into_owned();
            std::fs::read_to_string(t.cache.join("logs").join(format!("{key}.log"))).unwrap()
        })
        .collect();
    assert_eq!(logs.matches("Successfully installed pip-").count(), 1, "pip was installed once:\n{logs}");
    assert_eq!(t.envs().len(), 2);
    for env in t.envs() {
        assert_from_seed(&t, &env, &seed[0]);
    }
    assert!(attempts(&t).is_empty());
}

/// `cove gc` keeps a seed its interpreter still uses and never one whose lock is held; it
/// removes one whose interpreter is gone.
#[test]
fn gc_keeps_seeds_in_use_and_removes_those_of_a_gone_interpreter() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    sync(&t, &p);
    let seed = seeds(&t).pop().unwrap();
    let out = t.cove(&p, &["gc"]);
    assert_ok(&out);
    assert!(seed.join(".cove-ready").exists(), "kept: {}", stdout(&out));

    // Its interpreter gone (as recorded).
    let info = seed.join("cove-seed.json");
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&info).unwrap()).unwrap();
    json["python"] = t.path().join("gone/bin/python3").display().to_string().into();
    std::fs::write(&info, json.to_string()).unwrap();

    // Not while its lock is held (a build making or linking it).
    let name = seed.file_name().unwrap().to_string_lossy().into_owned();
    let lock = std::fs::File::create(t.cache.join("locks").join(format!("seed-{name}.lock"))).unwrap();
    lock.lock().unwrap();
    let out = t.cove(&p, &["gc"]);
    assert_ok(&out);
    assert!(seed.exists(), "never removed under its lock: {}", stdout(&out));
    drop(lock);

    let out = t.cove(&p, &["gc"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("pip seed whose interpreter is gone"), "{}", stdout(&out));
    assert!(!seed.exists() && std::fs::read_dir(t.cache.join("trash")).unwrap().next().is_none());
    // The environment linked to it keeps its files (the next build makes a new seed, as the
    // killed-build test shows).
    let env = env_of(&t, &p);
    let out = t.cmd(env.join("bin/pip"), &p).arg("--version").output().unwrap();
    assert_ok(&out);
}
