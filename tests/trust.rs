//! Issue 3: nothing is installed from a manifest the user has not approved.

mod common;
use common::*;

#[test]
fn an_untrusted_project_builds_nothing_and_says_what_to_run() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    let out = t.shim("python", &p, &["-c", "print('ran')"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(err.starts_with(&format!("cove: error: {}/cove.toml is not trusted", p.display())), "{err}");
    assert!(err.contains("`cove trust`"), "{err}");
    assert_eq!(err.lines().count(), 2, "one error line and one hint: {err}");
    assert!(t.envs().is_empty());
    for args in [&["sync"][..], &["run", "python", "-c", "pass"]] {
        let out = t.cove(&p, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains("not trusted"));
    }
    assert!(!t.cache.join("envs").exists() || t.envs().is_empty());

    t.trust(&p);
    let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
    assert_stdout(&out, "1.0\n");
}

#[test]
fn an_edit_outside_cove_revokes_trust_and_shows_the_change() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0", "gamma"]);
    t.trust(&p);
    assert_ok(&t.shim("python", &p, &["-c", "pass"]));
    t.write_cove_toml(&p, &["alpha==2.0", "beta"]);
    let out = t.shim("python", &p, &["-c", "pass"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("changed since you trusted it"), "{err}");
    assert!(err.contains("+beta"), "added shown: {err}");
    assert!(err.contains("~alpha==1.0 → alpha==2.0"), "changed shown: {err}");
    assert!(err.contains("-gamma"), "removed shown: {err}");
    assert_eq!(t.envs().len(), 1, "nothing new built");
}

#[test]
fn an_existing_environment_is_not_used_from_an_untrusted_manifest() {
    let t = TestEnv::new();
    let a = t.project("a", &["alpha==1.0"]);
    let b = t.project("b", &["alpha==1.0"]);
    t.trust(&a);
    assert_ok(&t.shim("python", &a, &["-c", "pass"]));
    let out = t.shim("python", &b, &["-c", "print('ran')"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
}

#[test]
fn untrust_withdraws_and_init_trusts_what_it_writes() {
    let t = TestEnv::new();
    let p = t.path().join("fresh");
    std::fs::create_dir_all(&p).unwrap();
    let out = t.cove(&p, &["init", "alpha==1.0"]);
    assert_ok(&out);
    assert_eq!(t.status(&p)["trusted"], true);
    let out = t.cove(&p, &["untrust"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("untrusted"));
    assert_eq!(t.status(&p)["trusted"], false);
}

#[test]
fn trusted_dirs_in_config_trust_everything_beneath() {
    let t = TestEnv::new();
    let p = t.project("work/proj", &["alpha==1.0"]);
    std::fs::write(&t.config, format!("trusted-dirs = [{:?}]\n", t.path().join("work").display().to_string())).unwrap();
    assert_eq!(t.status(&p)["trusted"], true);
    assert_ok(&t.shim("python", &p, &["-c", "import alpha"]));
}

#[test]
fn trust_all_env_var_trusts_everything() {
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    let out = t.cmd(COVE, &p).args(["status", "--json"]).env("COVE_TRUST_ALL", "1").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["trusted"], true);
}

#[test]
fn a_broken_or_foreign_writable_config_is_an_error_naming_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestEnv::new();
    let p = t.project("proj", &[]);
    std::fs::write(&t.config, "prebuild = true\ntrusted-dir = []\n").unwrap();
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2:1: unknown key `trusted-dir`", t.config.display())), "{err}");
    assert!(err.contains("did you mean `trusted-dirs`?"), "{err}");

    std::fs::write(&t.config, "prebuild = true\n").unwrap();
    std::fs::set_permissions(&t.config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("others can write it"), "{}", stderr(&out));
}

#[test]
fn on_a_terminal_the_shim_asks_and_only_yes_builds() {
    if !have_script() {
        return;
    }
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.shims_on();
    let inner = format!("{} -c 'import alpha; print(\"v\", alpha.__version__)'", t.shims().join("python").display());
    let run = |answer: &str| on_terminal(&t, &p, &inner, answer);
    let no = run("n\n");
    let screen = stdout(&no);
    assert!(screen.contains("Trust and build? [y/N]"), "{screen}");
    assert!(!no.status.success());
    assert!(t.envs().is_empty(), "answering no builds nothing");
    let yes = run("y\n");
    let screen = stdout(&yes);
    assert!(yes.status.success(), "{screen}");
    assert!(screen.contains("v 1.0"), "{screen}");
    assert_eq!(t.status(&p)["trusted"], true);
}
