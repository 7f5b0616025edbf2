//! Security issue 16, findings 6, 8 and 10: the folders cove takes code and trust from must be
//! the user's alone (`COVE_HOME`, its `shims/` and `trust/`, the cache), nothing is written in a
//! cache before it is checked, and console scripts never hijack system commands.
//!
//! Each test plants what an attacker (or a hostile wheel) would, with a canary file the planted
//! program writes if it ever runs, and checks that cove refuses or removes it.

mod common;
use common::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An executable shell script at `path`.
fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    chmod(path, 0o755);
}

/// A planted program that writes `canary` when it runs.
fn planted(path: &Path, canary: &Path) {
    script(path, &format!("echo ran > '{}'", canary.display()));
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Whether a system folder has `name` (then cove makes no shim for it).
fn in_system_dirs(name: &str) -> bool {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].iter().any(|d| Path::new(d).join(name).exists())
}

/// A wheel `sneaky 1.0` whose console scripts are named `ls`, `git`, `sudo` and `sneaky-tool`;
/// each writes the file named by `$SNEAKY_CANARY` and prints `sneaky`. Returns its folder.
fn sneaky_wheel(t: &TestEnv) -> PathBuf {
    let out = t.path().join("wheels");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let code = format!(
        "import sys; sys.path.insert(0, {fixtures:?}); import make_wheels as m\n\
         main = 'def main():\\n    import os\\n    open(os.environ[\"SNEAKY_CANARY\"], \"w\").write(\"ran\")\\n    print(\"sneaky\")\\n'\n\
         m.wheel({out:?}, 'sneaky', '1.0', {{'sneaky/__init__.py': main}}, scripts={{n: 'sneaky:main' for n in ('ls', 'git', 'sudo', 'sneaky-tool')}})\n",
        fixtures = fixtures.display().to_string(),
        out = out.display().to_string(),
    );
    std::fs::create_dir_all(&out).unwrap();
    let st = std::process::Command::new(system_python()).args(["-c", &code]).status().unwrap();
    assert!(st.success(), "building the sneaky wheel failed");
    out
}

/// A trusted project needing `deps` from the wheelhouse and `extra` find-links.
fn project_with(t: &TestEnv, name: &str, deps: &[&str], extra: &[&Path]) -> PathBuf {
    let p = t.path().join(name);
    std::fs::create_dir_all(&p).unwrap();
    let list: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
    let mut links: Vec<String> = extra.iter().map(|d| format!("{:?}", d.display().to_string())).collect();
    links.push(format!("{:?}", wheelhouse().display().to_string()));
    let text = format!(
        "dependencies = [{}]\n\n[index]\nfind-links = [{}]\nno-index = true\n",
        list.join(", "),
        links.join(", ")
    );
    std::fs::write(p.join("cove.toml"), text).unwrap();
    t.trust(&p);
    p
}

fn cove_binary() -> PathBuf {
    std::fs::canonicalize(COVE).unwrap()
}

fn is_cove_link(path: &Path) -> bool {
    std::fs::read_link(path).is_ok_and(|t| t == cove_binary())
}

/// Whether this process may give a folder to another user (root only).
fn can_chown() -> bool {
    // SAFETY: geteuid has no failure mode.
    unsafe { libc::geteuid() == 0 }
}

/// Give `path` (and what is in it) to uid 65534 (nobody).
fn give_away(path: &Path) {
    let st = std::process::Command::new("chown").args(["-R", "65534"]).arg(path).status().unwrap();
    assert!(st.success(), "chown 65534 {}", path.display());
}

// ---------------------------------------------------------------------------------------------
// Finding 8: console scripts named like system commands.

#[test]
fn console_scripts_named_like_system_commands_get_no_shim() {
    let t = TestEnv::new();
    let wheels = sneaky_wheel(&t);
    let p = project_with(&t, "proj", &["sneaky==1.0"], &[&wheels]);
    t.shims_on();
    assert_ok(&t.cove(&p, &["sync"]));
    let shims = t.shims();
    assert!(
        is_cove_link(&shims.join("sneaky-tool")),
        "an ordinary console script gets its shim: {:?}",
        entries(&shims)
    );
    assert!(!shims.join("ls").exists() && !shims.join("ls").is_symlink(), "no shim for ls: {:?}", entries(&shims));
    assert!(!shims.join("sudo").is_symlink(), "no shim for sudo (builtin-like): {:?}", entries(&shims));
    if in_system_dirs("git") {
        assert!(!shims.join("git").is_symlink(), "no shim for git: {:?}", entries(&shims));
    } else {
        eprintln!("SKIPPED (part): git is in no system folder here");
    }
    assert!(!t.path().join("canary").exists());

    // `ls` in the project, with the shims first on PATH, is the real `ls`.
    let canary = t.path().join("canary");
    let out = t.cmd("sh", &p).env("SNEAKY_CANARY", &canary).args(["-c", "ls"]).output().unwrap();
    assert_ok(&out);
    assert!(stdout(&out).contains("cove.toml"), "{}", stdout(&out));
    assert!(!canary.exists(), "the environment's `ls` ran");
    // Its own tool still runs from the environment through its shim.
    let out = t.cmd(shims.join("sneaky-tool"), &p).env("SNEAKY_CANARY", &canary).output().unwrap();
    assert_stdout(&out, "sneaky\n");
}

#[test]
fn cove_shims_removes_planted_and_system_named_links() {
    let t = TestEnv::new();
    t.shims_on();
    let shims = t.shims();
    let canary = t.path().join("canary");
    // As an older cove made them: links to cove for system names.
    std::os::unix::fs::symlink(cove_binary(), shims.join("ls")).unwrap();
    std::os::unix::fs::symlink(cove_binary(), shims.join("sudo")).unwrap();
    std::os::unix::fs::symlink(cove_binary(), shims.join("a-tool")).unwrap();
    // Planted: a program in place of a core shim, a link to another program, a file.
    std::fs::remove_file(shims.join("python")).unwrap();
    planted(&shims.join("python"), &canary);
    std::os::unix::fs::symlink("/bin/sh", shims.join("helper")).unwrap();
    planted(&shims.join("a-file"), &canary);

    assert_ok(&t.cove(t.path(), &["shims"]));
    assert_eq!(entries(&shims), ["a-tool", "pip", "pip3", "python", "python3"], "what is left");
    for name in ["a-tool", "pip", "pip3", "python", "python3"] {
        assert!(is_cove_link(&shims.join(name)), "{name} links to cove");
    }
    let nowhere = t.path().join("nowhere");
    std::fs::create_dir_all(&nowhere).unwrap();
    let out = t.cmd(shims.join("python"), &nowhere).args(["-c", "print('real')"]).output().unwrap();
    assert_stdout(&out, "real\n");
    assert!(!canary.exists(), "the planted python ran");

    // The same through the hook, which also makes the shims.
    planted(&shims.join("git"), &canary);
    std::fs::remove_file(shims.join("pip")).unwrap();
    planted(&shims.join("pip"), &canary);
    assert_ok(&t.cove(t.path(), &["hook", "bash"]));
    assert!(!shims.join("git").exists() && is_cove_link(&shims.join("pip")), "{:?}", entries(&shims));
}

/// A shim for a system command's name, made before cove refused them, runs the real command.
#[test]
fn a_leftover_system_named_shim_passes_through() {
    let t = TestEnv::new();
    let wheels = sneaky_wheel(&t);
    let p = project_with(&t, "proj", &["sneaky==1.0"], &[&wheels]);
    assert_ok(&t.cove(&p, &["sync", "--quiet"]));
    t.shims_on();
    std::os::unix::fs::symlink(cove_binary(), t.shims().join("ls")).unwrap();
    let canary = t.path().join("canary");
    let out = t.cmd(t.shims().join("ls"), &p).env("SNEAKY_CANARY", &canary).output().unwrap();
    assert_ok(&out);
    assert!(stdout(&out).contains("cove.toml"), "the real ls: {}", stdout(&out));
    assert!(!canary.exists(), "the environment's `ls` ran");
}

#[test]
fn a_missing_environment_is_not_built_for_a_name_it_is_not_known_to_provide() {
    let t = TestEnv::new();
    // Its build would fail (no such package), as a build for `ls` in an unbuilt project did.
    let p = project_with(&t, "proj", &["alpha==1.0", "nosuchpkg==9.9"], &[]);
    t.shims_on();
    let shims = t.shims();
    for name in ["ls", "mytool"] {
        std::os::unix::fs::symlink(cove_binary(), shims.join(name)).unwrap();
    }
    let real = t.path().join("realbin");
    script(&real.join("mytool"), "echo real mytool");
    let path = format!("{}:{}:{}", shims.display(), real.display(), t.base_path);

    let out = t.cmd(shims.join("mytool"), &p).env("PATH", &path).output().unwrap();
    assert_stdout(&out, "real mytool\n");
    assert!(!stderr(&out).contains("building"), "{}", stderr(&out));
    let out = t.cmd(shims.join("ls"), &p).env("PATH", &path).output().unwrap();
    assert_ok(&out);
    assert!(stdout(&out).contains("cove.toml"), "the real ls: {}", stdout(&out));

    // Nothing by that name anywhere: command not found, and what to run.
    let out = t.cmd(shims.join("mytool"), &p).output().unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("cove: error: mytool: command not found\n"), "{err}");
    assert!(err.contains("`cove sync`"), "{err}");

    assert!(t.envs().is_empty(), "an environment was built: {:?}", t.envs());
    assert!(!t.cache.join("logs").exists(), "a build was started: {:?}", entries(&t.cache.join("logs")));
    assert!(!t.cache.join("tmp").exists() || entries(&t.cache.join("tmp")).is_empty());
}

/// The other side: a name the project's last environment had (its manifest changed since) still
/// builds the new environment and runs from it.
#[test]
fn a_name_the_last_environment_had_builds_the_new_one() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    assert_ok(&t.cove(&p, &["sync", "--quiet"]));
    t.shims_on();
    t.write_cove_toml(&p, &["alpha==2.0"]);
    t.trust(&p);
    let out = t.cmd(t.shims().join("alpha-cli"), &p).output().unwrap();
    assert_stdout(&out, "alpha-cli 2.0\n");
    assert_eq!(t.envs().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Finding 6: COVE_HOME, shims/ and trust/ others could write.

/// `COVE_HOME` (or `sub` in it) pre-made with a planted `shims/python`, then made unsafe by
/// `unsafe_it`: `cove shims`, `cove trust` and the hook refuse it, naming the folder.
fn home_is_refused(unsafe_it: impl Fn(&Path), sub: Option<&str>, says: &str) {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    let canary = t.path().join("canary");
    std::fs::create_dir_all(t.data.join("trust")).unwrap();
    planted(&t.data.join("shims/python"), &canary);
    let bad = match sub {
        Some(s) => t.data.join(s),
        None => t.data.clone(),
    };
    unsafe_it(&bad);
    let commands: &[&[&str]] = match sub {
        None => &[&["shims"], &["hook", "bash"], &["trust"]],
        Some("shims") => &[&["shims"], &["hook", "bash"]],
        _ => &[&["trust"]],
    };
    for args in commands {
        let out = t.cove(&p, args);
        assert_eq!(out.status.code(), Some(1), "{args:?} accepted {}: {}", bad.display(), stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("refusing to use {}: {says}", bad.display())), "{args:?}: {err}");
        assert!(err.contains("COVE_HOME"), "the hint names the setting: {err}");
    }
    assert!(!t.data.join("shims/python").is_symlink(), "nothing was changed there");
    assert!(!canary.exists());
    assert!(t.envs().is_empty());
}

#[test]
fn a_cove_home_others_can_write_is_refused() {
    home_is_refused(|d| chmod(d, 0o777), None, "others can write to it (mode 777)");
    home_is_refused(|d| chmod(d, 0o777), Some("shims"), "others can write to it (mode 777)");
    home_is_refused(|d| chmod(d, 0o770), Some("trust"), "others can write to it (mode 770)");
}

#[test]
fn a_cove_home_another_user_owns_is_refused() {
    if !can_chown() {
        eprintln!("SKIPPED: not root, so no folder can be given to another user");
        return;
    }
    home_is_refused(give_away, None, "it belongs to another user (uid 65534)");
    home_is_refused(give_away, Some("shims"), "it belongs to another user (uid 65534)");
    home_is_refused(give_away, Some("trust"), "it belongs to another user (uid 65534)");
}

/// A trust record in a trust store another user owns (or could write) trusts nothing: the shim
/// refuses before building.
#[test]
fn a_trust_store_others_could_write_trusts_nothing() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    chmod(&t.data, 0o777);
    let out = t.shim_unchecked("python", &p, &["-c", "print('ran')"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("refusing to use {}", t.data.display())), "{}", stderr(&out));
    assert!(t.envs().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Finding 10: a cache others could write is refused before anything is written in it.

fn cache_is_not_written(unsafe_it: impl Fn(&Path), says: &str) {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    t.shims_on();
    std::os::unix::fs::symlink(cove_binary(), t.shims().join("alpha-cli")).unwrap();
    std::fs::create_dir_all(&t.cache).unwrap();
    unsafe_it(&t.cache);
    let before = entries(&t.cache);
    let runs: Vec<(&str, std::process::Output)> = vec![
        ("python -c 1", t.cmd(t.shims().join("python"), &p).args(["-c", "1"]).output().unwrap()),
        ("alpha-cli", t.cmd(t.shims().join("alpha-cli"), &p).output().unwrap()),
        ("cove python", t.cove(&p, &["python"])),
        ("cove status", t.cove(&p, &["status"])),
        ("cove sync", t.cove(&p, &["sync"])),
        ("cove list", t.cove(&p, &["list"])),
        ("cove shims --rebuild", t.cove(&p, &["shims", "--rebuild"])),
    ];
    for (what, out) in &runs {
        assert_eq!(out.status.code(), Some(1), "{what} ran: {}", stderr(out));
        let err = stderr(out);
        assert!(err.contains(&format!("refusing to use {}: {says}", t.cache.display())), "{what}: {err}");
        assert!(err.contains("COVE_CACHE_DIR"), "{what}: the hint names the setting: {err}");
    }
    // The prompt hook says so too, and starts no build (whose log would go in the cache).
    let out = t.cmd(COVE, &p).args(["hook-env", "bash"]).output().unwrap();
    assert!(stderr(&out).contains("refusing to use"), "{}", stderr(&out));
    assert_eq!(entries(&t.cache), before, "written in a cache it refused");
}

#[test]
fn a_cache_others_can_write_is_not_written_before_it_is_refused() {
    cache_is_not_written(|d| chmod(d, 0o777), "others can write to it (mode 777)");
}

#[test]
fn a_cache_another_user_owns_is_not_written_before_it_is_refused() {
    if !can_chown() {
        eprintln!("SKIPPED: not root, so no folder can be given to another user");
        return;
    }
    cache_is_not_written(
        |d| {
            give_away(d);
            assert_eq!(std::fs::metadata(d).unwrap().uid(), 65534);
        },
        "it belongs to another user (uid 65534)",
    );
}

trait ShimUnchecked {
    fn shim_unchecked(&self, name: &str, cwd: &Path, args: &[&str]) -> std::process::Output;
}

impl ShimUnchecked for TestEnv {
    /// A shim run without `cove shims` first (which would refuse an unsafe `COVE_HOME`).
    fn shim_unchecked(&self, name: &str, cwd: &Path, args: &[&str]) -> std::process::Output {
        let link = self.path().join("bin").join(name);
        if !link.exists() {
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(COVE, &link).unwrap();
        }
        self.cmd(&link, cwd).args(args).output().unwrap()
    }
}
