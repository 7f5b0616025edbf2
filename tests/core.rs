//! Issue 2: `python` typed in a project runs the project's own cached environment.

mod common;
use common::*;

const PRINT_ALPHA: &str = "import alpha; print(alpha.__version__)";

#[test]
fn python_in_a_project_gets_its_requirements_and_a_pin_change_switches() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "1.0\n");
    let st = t.status(&p);
    assert_eq!(st["state"], "ready");
    let env1 = st["env"].as_str().unwrap().to_string();

    t.write_cove_toml(&p, &["alpha==2.0"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "2.0\n");
    assert_ne!(t.status(&p)["env"].as_str().unwrap(), env1);
}

#[test]
fn the_process_runs_as_if_activated_and_exit_status_passes_through() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    t.trust(&p);
    let out = t.shim(
        "python",
        &p,
        &["-c", "import os,sys; print(os.environ['VIRTUAL_ENV'] == sys.prefix, os.environ['PATH'].split(':')[0] == sys.prefix + '/bin'); sys.exit(7)"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out), "True True\n");
    let args = t.shim("python", &p, &["-c", "import sys; print(sys.argv[1:])", "a b", "", "--x"]);
    assert_eq!(stdout(&args), "['a b', '', '--x']\n");
}

#[test]
fn stdout_holds_only_the_programs_output_on_the_first_run() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["alpha==1.0", "beta"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", "print('only this')"]);
    assert_stdout(&out, "only this\n");
    let key = t.status(&p)["key"].as_str().unwrap().to_string();
    let log = std::fs::read_to_string(t.cache.join("logs").join(format!("{key}.log"))).unwrap();
    assert!(log.contains("alpha"), "the installer's output is in the build log: {log}");
    // With --verbose it streams live, to stderr.
    let q = t.project("verbose", &["alpha==2.0"]);
    t.trust(&q);
    let out = t
        .cmd(t.shims().join("python"), &q)
        .env("COVE_VERBOSE", "1")
        .args(["-c", "print('only this')"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "only this\n");
    assert!(stderr(&out).contains("alpha"), "verbose streams the installer: {}", stderr(&out));
}

#[test]
fn two_projects_with_equal_requirements_share_one_environment() {
    let t = TestEnv::new();
    let a = t.project("a", &["alpha==1.0", "beta"]);
    let b = t.project("b", &["BETA", "alpha == 1.0"]);
    t.trust(&a);
    t.trust(&b);
    assert_ok(&t.shim("python", &a, &["-c", "import beta"]));
    let out = t.shim("python", &b, &["-c", "import beta"]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("building"), "second project must not build: {}", stderr(&out));
    assert_eq!(t.status(&a)["key"], t.status(&b)["key"]);
    assert_eq!(t.envs().len(), 1);
}

#[test]
fn a_failed_install_leaves_no_environment_and_shows_the_error() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["doesnotexist==9.9"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", "pass"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("doesnotexist"), "installer error shown: {err}");
    assert!(err.contains("cove: error: ") && err.contains("installing the requirements failed"), "{err}");
    assert!(err.contains("cove.toml:1: doesnotexist==9.9"), "the manifest line of the failing requirement: {err}");
    assert!(err.contains("hint: the full log is in "), "the failure names its log: {err}");
    assert!(stdout(&out).is_empty());
    assert!(t.envs().is_empty(), "no env left: {:?}", t.envs());
    assert_eq!(t.status(&p)["state"], "missing");
}

#[test]
fn outside_a_project_python_is_the_next_one_on_path() {
    let t = TestEnv::new();
    let dir = t.path().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let out = t.shim(
        "python3",
        &dir,
        &["-c", "import sys, os; print(sys.prefix == sys.base_prefix, 'VIRTUAL_ENV' in os.environ)"],
    );
    assert_stdout(&out, "True False\n");
}

#[test]
fn shims_folder_twice_on_path_does_not_loop() {
    let t = TestEnv::new();
    t.shims_on();
    let dir = t.path().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let link = t.path().join("linked-shims");
    std::os::unix::fs::symlink(t.shims(), &link).unwrap();
    let path = format!("{}:{}:{}:{}", t.shims().display(), link.display(), t.shims().display(), t.base_path);
    let out = t.cmd(t.shims().join("python3"), &dir).env("PATH", &path).args(["-c", "print('real')"]).output().unwrap();
    assert_stdout(&out, "real\n");

    // With only the shims on PATH there is no real interpreter: say so, do not loop.
    let out = t.cmd(t.shims().join("python3"), &dir).env("PATH", t.shims()).args(["-c", "pass"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(stderr(&out).contains("`python3` not found"), "{}", stderr(&out));
}

#[test]
fn a_build_killed_midway_is_never_taken_for_ready() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    t.shims_on();
    let mut child =
        t.cmd(t.shims().join("python"), &p).args(["-c", "pass"]).stderr(std::process::Stdio::null()).spawn().unwrap();
    // Wait until the build attempt's folder appears (venv being made; see src/staging.rs),
    // then kill.
    let attempts = || std::fs::read_dir(t.cache.join("tmp")).into_iter().flatten().count();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while attempts() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().unwrap();
    child.wait().unwrap();
    let st = t.status(&p);
    assert_ne!(st["state"], "ready", "a killed build must not look ready");
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "1.0\n");
}

#[test]
fn eight_shims_at_once_on_a_cold_key_build_once() {
    let t = TestEnv::with_backend("pip");
    let p = t.project("proj", &["alpha==1.0", "beta"]);
    t.trust(&p);
    t.shims_on();
    let children: Vec<_> = (0..8)
        .map(|_| {
            t.cmd(t.shims().join("python"), &p)
                .args(["-c", PRINT_ALPHA])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let mut builds = 0;
    let mut waits = 0;
    for o in &outs {
        assert_ok(o);
        assert_eq!(stdout(o), "1.0\n");
        builds += stderr(o).matches("cove: building environment").count();
        waits += stderr(o).matches("waiting for another process").count();
    }
    assert_eq!(builds, 1, "exactly one build");
    assert!(waits >= 1, "the others said they waited");
    assert_eq!(t.envs().len(), 1);
}

#[test]
fn uv_backend_builds_a_standard_venv_with_pip() {
    if no_uv() {
        return;
    }
    let t = TestEnv::with_backend("uv");
    let p = t.project("proj", &["alpha==2.0"]);
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", PRINT_ALPHA]);
    assert_stdout(&out, "2.0\n");
    let pip = t.shim("pip", &p, &["list"]);
    assert_ok(&pip);
    assert!(stdout(&pip).contains("alpha") && stdout(&pip).contains("pip"), "{}", stdout(&pip));
}

#[test]
fn cache_is_private_and_tagged() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    t.trust(&p);
    assert_ok(&t.shim("python", &p, &["-c", "pass"]));
    let mode = std::fs::metadata(&t.cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert!(t.cache.join("CACHEDIR.TAG").is_file());
}

#[test]
fn pip_reading_commands_run_the_environments_pip_and_mutations_are_refused() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.shim("pip", &p, &["freeze"]);
    assert_ok(&out);
    assert!(stdout(&out).contains("alpha==1.0"), "{}", stdout(&out));
    let out = t.shim("pip", &p, &["install", "--user", "gamma"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("cove: error:"), "{}", stderr(&out));
}

#[test]
fn which_and_status_describe_the_environment() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    let st = t.status(&p);
    assert_eq!(st["trusted"], false);
    assert_eq!(st["state"], "missing");
    assert!(st["canonical"].as_str().unwrap().contains("requirement: alpha==1.0"));
    assert_eq!(st["key"].as_str().unwrap().len(), 64);
    let which = t.cove(&p, &["which"]);
    assert_ok(&which);
    assert_eq!(stdout(&which).trim(), format!("{}/bin/python", st["env"].as_str().unwrap()));
}

#[test]
fn a_constraint_no_interpreter_satisfies_names_its_place_and_lists_what_was_found() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("cove.toml"), "python = \">=3.99\"\ndependencies = []\n").unwrap();
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "cove: error: no installed Python satisfies \">=3.99\" (from {}:1:10)",
            p.join("cove.toml").display()
        )),
        "{err}"
    );
    let python = system_python();
    let real = std::fs::canonicalize(&python).unwrap();
    assert!(err.contains("hint: found: ") && err.contains(&real.display().to_string()), "lists what it found: {err}");
}
