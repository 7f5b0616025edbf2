//! Issue 7: the cache's lifecycle — usage records, `cove list`, `cove gc`, `cove link`,
//! `cove watch`, interpreter upgrades and `cove doctor`.
//!
//! list/gc run on synthetic caches (folders with a marker, `cove-env.json` and a usage stamp
//! whose time the test sets); link, watch and the interpreter cases build real environments
//! from the offline wheelhouse.

mod common;
use common::*;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

const DAY: u64 = 86400;
const PRINT_ALPHA: &str = "import alpha; print(alpha.__version__)";

/// A 64-hex key made from one byte, so tests can tell envs apart at a glance.
fn key(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// The real interpreter and its version, as `cove-env.json` records them.
fn python_facts() -> (PathBuf, String) {
    let py = std::fs::canonicalize(system_python()).unwrap();
    let out =
        std::process::Command::new(&py).args(["-c", "import platform; print(platform.python_version())"]).output();
    (py, String::from_utf8_lossy(&out.unwrap().stdout).trim().to_string())
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(t).unwrap();
}

fn days_ago(d: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(d * DAY)
}

/// A synthetic environment in `t`'s cache.
struct Fake {
    ready: bool,
    used: Option<SystemTime>,
    python: Option<PathBuf>,
    payload: usize,
}

impl Default for Fake {
    fn default() -> Fake {
        Fake { ready: true, used: Some(days_ago(1)), python: None, payload: 0 }
    }
}

fn fake_env(t: &TestEnv, n: u8, f: Fake) -> PathBuf {
    let env = t.cache.join("envs").join(key(n));
    std::fs::create_dir_all(env.join("bin")).unwrap();
    let (real, version) = python_facts();
    let python = f.python.unwrap_or(real);
    std::os::unix::fs::symlink(&python, env.join("bin/python")).unwrap();
    let info = serde_json::json!({
        "key": key(n), "python": python, "python_version": version, "requirements": n as usize % 7,
    });
    std::fs::write(env.join("cove-env.json"), info.to_string()).unwrap();
    if f.payload > 0 {
        std::fs::write(env.join("payload"), vec![1u8; f.payload]).unwrap();
    }
    if let Some(t) = f.used {
        std::fs::write(env.join(".cove-used"), b"").unwrap();
        set_mtime(&env.join(".cove-used"), t);
    }
    if f.ready {
        std::fs::write(env.join(".cove-ready"), b"").unwrap();
    }
    env
}

/// A project record, as the shim writes it: `projects/<anything>` = key, folder.
fn fake_project(t: &TestEnv, name: &str, folder: &Path, n: u8) {
    let dir = t.cache.join("projects");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), format!("{}\n{}\n", key(n), folder.display())).unwrap();
}

/// Hold the build lock of env `n` from this process, as a build in progress does.
fn hold_lock(t: &TestEnv, n: u8) -> std::fs::File {
    let dir = t.cache.join("locks");
    std::fs::create_dir_all(&dir).unwrap();
    let f = std::fs::File::create(dir.join(format!("{}.lock", key(n)))).unwrap();
    f.lock().unwrap();
    f
}

fn list_json(t: &TestEnv) -> Vec<serde_json::Value> {
    let out = t.cove(t.path(), &["list", "--json"]);
    assert_ok(&out);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

fn entry(list: &[serde_json::Value], n: u8) -> &serde_json::Value {
    list.iter().find(|e| e["key"] == key(n)).unwrap_or_else(|| panic!("env {n} not listed: {list:#?}"))
}

fn env_keys(t: &TestEnv) -> Vec<String> {
    t.envs().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

/// Every path under `dir` with its mtime and length: what "changes nothing" compares.
fn tree(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path(), m.modified().ok(), m.len()));
        }
    }
    out.sort();
    out
}

#[test]
fn list_shows_state_last_use_requirements_and_projects() {
    let t = TestEnv::new();
    let used = days_ago(2);
    fake_env(&t, 1, Fake { used: Some(used), ..Fake::default() });
    fake_env(&t, 2, Fake { ready: false, used: None, ..Fake::default() });
    fake_env(&t, 3, Fake { ready: false, used: None, ..Fake::default() });
    fake_env(&t, 4, Fake { python: Some(t.path().join("gone/bin/python3")), ..Fake::default() });
    let alive = t.path().join("alive");
    std::fs::create_dir_all(&alive).unwrap();
    fake_project(&t, "p1", &alive, 1);
    fake_project(&t, "p2", &t.path().join("deleted"), 1);
    let _lock = hold_lock(&t, 3);

    let list = list_json(&t);
    assert_eq!(list.len(), 4);
    let one = entry(&list, 1);
    assert_eq!(one["state"], "ready");
    assert_eq!(one["python_version"], python_facts().1);
    assert_eq!(one["requirements"], 1);
    assert!(one["size"].as_u64().unwrap() > 0);
    assert_eq!(one["path"], t.cache.join("envs").join(key(1)).display().to_string());
    let secs = used.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let stamp = one["last_used"].as_str().unwrap();
    assert!(stamp.ends_with('Z') && stamp.len() == 20, "RFC 3339 UTC: {stamp}");
    let date = std::process::Command::new("date").args(["-u", "-d", stamp, "+%s"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&date.stdout).trim(), secs.to_string());
    let projects: Vec<&str> = one["projects"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(projects, [alive.to_str().unwrap(), t.path().join("deleted").to_str().unwrap()]);
    assert_eq!(one["projects_gone"], serde_json::json!([t.path().join("deleted")]));

    let two = entry(&list, 2);
    assert_eq!((two["state"].as_str(), two["broken"].as_str()), (Some("broken"), Some("unfinished build")));
    assert_eq!(two["last_used"], serde_json::Value::Null);
    assert_eq!(entry(&list, 3)["state"], "building");
    let four = entry(&list, 4);
    assert_eq!((four["state"].as_str(), four["broken"].as_str()), (Some("broken"), Some("its interpreter is gone")));

    let out = t.cove(t.path(), &["list"]);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("KEY "), "{text}");
    let col = lines[0].find("LAST USED").unwrap();
    let row = lines.iter().find(|l| l.starts_with(&key(1)[..12])).unwrap();
    assert_eq!(&row[col..col + 6], "2d ago", "columns line up:\n{text}");
    assert!(row.contains(&format!("{} (gone)", t.path().join("deleted").display())), "{text}");
    assert!(text.contains("building") && text.contains("broken: unfinished build"), "{text}");
    assert!(lines.last().unwrap().starts_with("4 environments, "), "{text}");
}

#[test]
fn gc_removes_leftovers_and_unused_envs_but_never_one_whose_lock_is_held() {
    let t = TestEnv::new();
    fake_env(&t, 1, Fake { used: Some(days_ago(1)), ..Fake::default() });
    fake_env(&t, 2, Fake { used: Some(days_ago(40)), ..Fake::default() });
    fake_env(&t, 3, Fake { ready: false, used: None, ..Fake::default() });
    fake_env(&t, 4, Fake { used: Some(days_ago(90)), ..Fake::default() });
    fake_env(&t, 5, Fake { ready: false, used: None, ..Fake::default() });
    let proj = t.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    fake_project(&t, "p", &proj, 2);
    fake_project(&t, "gone", &t.path().join("gone"), 1);
    // An interrupted gc's leftover.
    std::fs::create_dir_all(t.cache.join("trash/old.1.2/bin")).unwrap();
    std::fs::write(t.cache.join("trash/old.1.2/bin/python"), b"x").unwrap();
    let lock4 = hold_lock(&t, 4);
    let lock5 = hold_lock(&t, 5);

    let out = t.cove(t.path(), &["gc"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert_eq!(env_keys(&t), [key(1), key(4), key(5)], "{text}");
    assert!(text.contains(&format!("removed {}", &key(2)[..12])), "{text}");
    assert!(text.contains("unused for 40d"), "{text}");
    assert!(text.contains(&format!("still used by {} (rebuilt on next use)", proj.display())), "{text}");
    assert!(text.contains("unfinished build"), "{text}");
    assert!(text.contains(&format!("skipped {}", &key(4)[..12])), "{text}");
    assert!(text.contains(&format!("skipped {}", &key(5)[..12])), "{text}");
    assert!(text.contains("being built (its lock is held)"), "{text}");
    assert!(text.contains("left by an interrupted gc"), "{text}");
    assert!(text.lines().last().unwrap().starts_with("freed "), "{text}");
    assert!(std::fs::read_dir(t.cache.join("trash")).unwrap().next().is_none(), "trash emptied");
    assert!(!t.cache.join("locks").join(format!("{}.lock", key(2))).exists(), "its lock file went with it");
    let records: Vec<_> =
        std::fs::read_dir(t.cache.join("projects")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(records, ["p"], "the record of a project whose folder is gone is dropped");

    drop((lock4, lock5));
    let out = t.cove(t.path(), &["gc", "--older-than", "30d"]);
    assert_ok(&out);
    assert_eq!(env_keys(&t), [key(1)], "{}", stdout(&out));
}

#[test]
fn gc_dry_run_changes_nothing() {
    let t = TestEnv::new();
    fake_env(&t, 1, Fake { used: Some(days_ago(100)), payload: 4096, ..Fake::default() });
    fake_env(&t, 2, Fake { ready: false, used: None, ..Fake::default() });
    fake_env(&t, 3, Fake { used: Some(days_ago(1)), payload: 4096, ..Fake::default() });
    std::fs::create_dir_all(t.cache.join("trash/x.1.1")).unwrap();
    // Interpreter facts are cached on first sight; see them once so the tree is settled.
    assert_ok(&t.cove(t.path(), &["list"]));
    let before = tree(&t.cache);
    let out = t.cove(t.path(), &["gc", "--dry-run", "--max-size", "1K"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert_eq!(tree(&t.cache), before, "{text}");
    for n in [1, 2, 3] {
        assert!(text.contains(&format!("would remove {}", &key(n)[..12])), "{text}");
    }
    assert!(text.lines().last().unwrap().starts_with("would free "), "{text}");
}

#[test]
fn gc_size_cap_removes_least_recently_used_first() {
    let t = TestEnv::new();
    let mib = 1 << 20;
    for (n, age) in [(1, 3), (2, 1), (3, 4), (4, 2)] {
        fake_env(&t, n, Fake { used: Some(days_ago(age)), payload: mib, ..Fake::default() });
    }
    // Each env is a little over 1M: a 2.5M cap keeps the two most recently used.
    let out = t.cove(t.path(), &["gc", "--max-size", "2.5M"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert_eq!(env_keys(&t), [key(2), key(4)], "{text}");
    let order: Vec<usize> = [3, 1].iter().map(|&n| text.find(&key(n)[..12]).unwrap()).collect();
    assert!(order[0] < order[1], "oldest first:\n{text}");
    assert!(text.contains("least recently used; the cache is over 2.5M"), "{text}");

    // The config's cap applies when no flag is given; a held lock still protects.
    std::fs::write(&t.config, "[gc]\nmax-size = \"1500K\"\n").unwrap();
    let _lock = hold_lock(&t, 4);
    let out = t.cove(t.path(), &["gc"]);
    assert_ok(&out);
    assert_eq!(env_keys(&t), [key(4)], "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("skipped {}", &key(4)[..12])), "{}", stdout(&out));

    let bad = t.cove(t.path(), &["gc", "--max-size", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("invalid size \"lots\""), "{}", stderr(&bad));
}

#[test]
fn venv_link_and_project_record_follow_a_pin_change() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.cove(&p, &["link"]);
    assert_ok(&out);
    let env1 = PathBuf::from(t.status(&p)["env"].as_str().unwrap());
    assert_eq!(std::fs::read_link(p.join(".venv")).unwrap(), env1);
    assert!(stdout(&out).starts_with("linked "), "{}", stdout(&out));
    let direct = t.cmd(p.join(".venv/bin/python"), &p).args(["-c", PRINT_ALPHA]).output().unwrap();
    assert_eq!(stdout(&direct), "1.0\n", "{}", stderr(&direct));

    t.write_cove_toml(&p, &["alpha==2.0"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_eq!(stdout(&out), "2.0\n", "{}", stderr(&out));
    let env2 = PathBuf::from(t.status(&p)["env"].as_str().unwrap());
    assert_ne!(env1, env2);
    assert_eq!(std::fs::read_link(p.join(".venv")).unwrap(), env2, "the link follows the new key");
    let list = list_json(&t);
    let users = |env: &Path| -> serde_json::Value {
        list.iter().find(|e| e["path"] == env.display().to_string()).unwrap()["projects"].clone()
    };
    assert_eq!(users(&env2), serde_json::json!([p]));
    assert_eq!(users(&env1), serde_json::json!([]), "the project moved on");

    // Back to a key that is already built: no build, and the link still follows.
    t.write_cove_toml(&p, &["alpha==1.0"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_eq!(stdout(&out), "1.0\n");
    assert!(!stderr(&out).contains("building"), "{}", stderr(&out));
    assert_eq!(std::fs::read_link(p.join(".venv")).unwrap(), env1);

    let out = t.cove(&p, &["link", "--remove"]);
    assert_ok(&out);
    assert!(std::fs::symlink_metadata(p.join(".venv")).is_err());
}

#[test]
fn link_refuses_to_replace_a_real_venv_and_hints_about_gitignore() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    t.trust(&p);
    std::fs::create_dir(p.join(".venv")).unwrap();
    let out = t.cove(&p, &["link"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a real folder, not a link cove made; cove leaves it alone"), "{}", stderr(&out));
    assert!(stderr(&out).contains("hint: move it aside"), "{}", stderr(&out));
    assert!(t.envs().is_empty(), "nothing built when the link cannot be made");
    assert!(p.join(".venv").is_dir());
    std::fs::remove_dir(p.join(".venv")).unwrap();

    let git = t.cmd("git", &p).args(["init", "-q"]).status();
    if !git.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: the .gitignore hint needs git");
        return;
    }
    let out = t.cove(&p, &["link"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("echo .venv >> .gitignore"), "{}", stderr(&out));
    std::fs::write(p.join(".gitignore"), ".venv\n").unwrap();
    let out = t.cove(&p, &["link"]);
    assert_ok(&out);
    assert!(stdout(&out).starts_with("already linked: "), "{}", stdout(&out));
    assert!(!stderr(&out).contains(".gitignore"), "{}", stderr(&out));
}

/// `cove watch` running in `dir`, its stdout lines on a channel.
struct Watching {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watching {
    fn start(t: &TestEnv, dir: &Path) -> Watching {
        let mut child = t.cmd(COVE, dir).arg("watch").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Watching { child, lines, seen: Vec::new() }
    }

    /// The next line containing all of `parts` (other lines are kept for the failure message).
    fn expect(&mut self, parts: &[&str]) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if parts.iter().all(|p| line.contains(p)) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        panic!("no line with {parts:?}; saw {:#?}", self.seen);
    }

    /// Ctrl-C, and the exit status.
    fn interrupt(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
        self.child.wait().unwrap().code()
    }
}

/// Replace `path` the way many editors save: write a temp file beside it, rename it over.
fn save_by_rename(path: &Path, text: &str) {
    let tmp = path.with_file_name(".cove.toml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn watch_rebuilds_after_an_edit_saved_by_rename_and_exits_0_on_ctrl_c() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    std::fs::write(&t.config, format!("trusted-dirs = [{:?}]\n", p.display().to_string())).unwrap();
    let mut w = Watching::start(&t, &p);
    let first = w.expect(&["key ", "built in"]);
    let old = t.status(&p)["key"].as_str().unwrap().to_string();
    assert!(first.contains(&old[..12]), "{first}");
    w.expect(&["watching ", "cove.toml"]);

    let text = std::fs::read_to_string(p.join("cove.toml")).unwrap().replace("alpha==1.0", "alpha==2.0");
    save_by_rename(&p.join("cove.toml"), &text);
    let line = w.expect(&["cove.toml changed", "→", "built in"]);
    let st = t.status(&p);
    let new = st["key"].as_str().unwrap();
    assert_eq!(
        line,
        format!("cove.toml changed: key {} → {}, {}", &old[..12], &new[..12], &line[line.find("built in").unwrap()..])
    );
    assert_eq!(st["state"], "ready");

    // A change that does not alter the key says so and builds nothing.
    save_by_rename(&p.join("cove.toml"), &format!("# a comment\n{text}"));
    w.expect(&["cove.toml changed: key unchanged", &new[..12]]);

    // A .python-version naming a missing interpreter: the error, in one line.
    std::fs::write(p.join(".python-version"), "2.1\n").unwrap();
    w.expect(&[".python-version changed: error: no installed Python satisfies"]);
    std::fs::remove_file(p.join(".python-version")).unwrap();
    w.expect(&[".python-version changed: key unchanged", &new[..12]]);

    assert_eq!(w.interrupt(), Some(0));
}

#[test]
fn watch_builds_nothing_for_an_untrusted_manifest_until_it_is_trusted() {
    let t = TestEnv::new();
    let p = t.project("proj", &["gamma"]);
    let mut w = Watching::start(&t, &p);
    let line = w.expect(&["nothing built", "is not trusted"]);
    assert!(line.contains("cove trust"), "the trust hint: {line}");
    w.expect(&["watching "]);
    assert!(t.envs().is_empty());
    t.trust(&p);
    w.expect(&["trust store changed: key ", "built in"]);
    assert_eq!(t.status(&p)["state"], "ready");
    assert_eq!(w.interrupt(), Some(0));
}

/// A copy of a real interpreter in its own prefix (`bin/python3` a copied file, `lib` linked to
/// the original's), so its file can be replaced in place the way an upgrade does.
fn copied_interpreter(root: &Path, python: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new(python)
        .args(["-c", "import os, sys; print(os.path.realpath(sys.executable)); print(sys.base_prefix)"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let (exe, prefix) = (PathBuf::from(lines.next()?), PathBuf::from(lines.next()?));
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let tmp = bin.join(".python3.new");
    std::fs::copy(&exe, &tmp).unwrap();
    std::fs::rename(&tmp, bin.join("python3")).unwrap();
    let _ = std::fs::remove_file(root.join("lib"));
    std::os::unix::fs::symlink(prefix.join("lib"), root.join("lib")).unwrap();
    let copy = bin.join("python3");
    let ok = std::process::Command::new(&copy).args(["-c", "import venv, ensurepip"]).output();
    ok.is_ok_and(|o| o.status.success()).then_some(copy)
}

/// A second interpreter whose minor version differs from `than`'s: from PATH or pyenv.
fn another_python(than: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(root) = pyenv {
        for e in std::fs::read_dir(root.join("versions")).into_iter().flatten().flatten() {
            dirs.push(e.path().join("bin"));
        }
    }
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    for d in dirs {
        let py = d.join("python3");
        let Ok(out) = std::process::Command::new(&py)
            .args(["-c", "import platform, venv, ensurepip; print(platform.python_version())"])
            .output()
        else {
            continue;
        };
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && v.starts_with("3.") && minor(&v) != minor(than) {
            return Some(py);
        }
    }
    None
}

#[test]
fn an_interpreter_upgraded_in_place_gives_a_new_key_and_one_that_vanished_is_not_run() {
    let t = TestEnv::new();
    let (system, version) = python_facts();
    let prefix = t.path().join("py");
    let Some(copy) = copied_interpreter(&prefix, &system) else {
        eprintln!("SKIPPED: a copied interpreter does not run outside its prefix here");
        return;
    };
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    t.shims_on();
    // The copy is the first python3 after the shims.
    let path = format!("{}:{}:{}", t.shims().display(), prefix.join("bin").display(), t.base_path);
    let run = |args: &[&str]| t.cmd(t.shims().join("python"), &p).env("PATH", &path).args(args).output().unwrap();
    let status = || -> serde_json::Value {
        let out = t.cmd(COVE, &p).env("PATH", &path).args(["status", "--json"]).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = run(&["-c", "import sys; print(sys.base_prefix)"]);
    assert_ok(&out);
    assert_eq!(std::fs::canonicalize(stdout(&out).trim()).unwrap(), std::fs::canonicalize(&prefix).unwrap());
    let first = status();
    assert_eq!(first["python"], copy.display().to_string());
    let old_env = PathBuf::from(first["env"].as_str().unwrap());

    match another_python(&version) {
        Some(other) => {
            // Upgrade: a new version's file renamed over the same path.
            assert!(copied_interpreter(&prefix, &other).is_some());
            let second = status();
            assert_eq!(second["python"], first["python"], "same path");
            assert_ne!(second["python_version"], first["python_version"]);
            assert_ne!(second["key"], first["key"], "a new version gives a new key");
            let list = list_json(&t);
            let old = list.iter().find(|e| e["path"] == old_env.display().to_string()).unwrap();
            assert_eq!(old["broken"], "its interpreter was replaced by another version");
            let out = run(&["-c", "import platform; print(platform.python_version())"]);
            assert_eq!(stdout(&out).trim(), second["python_version"].as_str().unwrap(), "{}", stderr(&out));
            let gc = t.cove(&p, &["gc"]);
            assert_ok(&gc);
            assert!(stdout(&gc).contains("its interpreter was replaced by another version"), "{}", stdout(&gc));
            assert!(!old_env.exists());
        }
        None => {
            eprintln!("SKIPPED (upgrade half): no second Python minor version on PATH or in pyenv");
            // A new file with the same version is probed again and keeps the key.
            assert!(copied_interpreter(&prefix, &system).is_some());
            assert_eq!(status()["key"], first["key"]);
        }
    }

    // The interpreter vanishes: its environments are broken, and `python` here builds on the
    // next python3 on PATH instead of running a dangling one.
    let env_before = PathBuf::from(status()["env"].as_str().unwrap());
    std::fs::remove_dir_all(&prefix).unwrap();
    let list = list_json(&t);
    let gone = list.iter().find(|e| e["path"] == env_before.display().to_string()).unwrap();
    assert_eq!(gone["broken"], "its interpreter is gone");
    let out = run(&["-c", PRINT_ALPHA]);
    assert_stdout(&out, "1.0\n");
    assert_ne!(PathBuf::from(status()["env"].as_str().unwrap()), env_before);
}

#[test]
fn a_ready_env_whose_python_no_longer_resolves_is_rebuilt_not_run() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==2.0"]);
    t.trust(&p);
    assert_ok(&t.shim("python", &p, &["-c", "pass"]));
    let env = PathBuf::from(t.status(&p)["env"].as_str().unwrap());
    std::fs::remove_file(env.join("bin/python")).unwrap();
    assert_eq!(t.status(&p)["state"], "broken");
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "2.0\n");
    assert!(stderr(&out).contains("building environment"), "{}", stderr(&out));
}

#[test]
fn the_shim_stamps_last_use_at_most_hourly() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    t.trust(&p);
    assert_ok(&t.shim("python", &p, &["-c", "pass"]));
    let stamp = PathBuf::from(t.status(&p)["env"].as_str().unwrap()).join(".cove-used");
    let recent = SystemTime::now() - Duration::from_secs(600);
    set_mtime(&stamp, recent);
    assert_ok(&t.shim("python", &p, &["-c", "pass"]));
    assert_eq!(std::fs::metadata(&stamp).unwrap().modified().unwrap(), recent, "not rewritten within the hour");
    set_mtime(&stamp, SystemTime::now() - Duration::from_secs(2 * 3600));
    assert_ok(&t.shim("python", &p, &["-c", "pass"]));
    let age = SystemTime::now().duration_since(std::fs::metadata(&stamp).unwrap().modified().unwrap()).unwrap();
    assert!(age < Duration::from_secs(60), "refreshed: {age:?}");
}

#[test]
fn doctor_exits_0_when_all_is_well_and_1_with_what_to_fix() {
    let t = TestEnv::new();
    t.shims_on();
    let out = t.cove(t.path(), &["doctor"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    for check in ["config", "shims", "PATH", "hook", "python", "backend", "cache", "trust"] {
        assert!(text.lines().any(|l| l.split_whitespace().nth(1) == Some(check)), "{check} checked:\n{text}");
    }
    assert!(text.contains("ok       PATH     the shims folder comes first"), "{text}");
    assert!(text.ends_with("all good\n"), "{text}");

    let out = t.cmd(COVE, t.path()).env("PATH", &t.base_path).arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("problem  PATH     the shims folder"), "{}", stdout(&out));
    assert!(stdout(&out).contains("fix: add `eval \"$(cove hook"), "{}", stdout(&out));
    assert!(stderr(&out).contains("cove: error: cove doctor found 2 problems"), "{}", stderr(&out));

    std::fs::write(&t.config, "backend = \"uv\"\nquite = true\n").unwrap();
    let out = t.cove(t.path(), &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("problem  config"), "{}", stdout(&out));
    assert!(stdout(&out).contains("unknown key `quite`"), "{}", stdout(&out));
    assert!(stdout(&out).contains("ok       cache"), "the other checks still run: {}", stdout(&out));
}
