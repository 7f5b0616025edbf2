//! Issue 6: cove add/remove/init and `pip install` that records what it installs.

mod common;
use common::*;

fn manifest(wheels: &str) -> String {
    format!(
        "# the demo project\ndependencies = [\n  'alpha==1.0',  # pinned: 2.0 breaks us\n  \"beta\",\n]\n\n[index]\nfind-links = [{wheels:?}]  # local wheels\nno-index = true\n"
    )
}

#[test]
fn pip_install_and_uninstall_through_the_shim_edit_the_manifest() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    let wheels = wheelhouse().display().to_string();
    std::fs::write(p.join("cove.toml"), manifest(&wheels)).unwrap();
    t.trust(&p);

    let out = t.shim("pip", &p, &["install", "gamma"]);
    assert_ok(&out);
    assert!(stdout(&out).is_empty(), "nothing on stdout: {}", stdout(&out));
    let text = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    assert_eq!(
        text,
        format!(
            "# the demo project\ndependencies = [\n  'alpha==1.0',  # pinned: 2.0 breaks us\n  \"beta\",\n  \"gamma\",\n]\n\n[index]\nfind-links = [{wheels:?}]  # local wheels\nno-index = true\n"
        )
    );
    let list = t.shim("pip", &p, &["list"]);
    assert_ok(&list);
    assert!(stdout(&list).contains("gamma"), "{}", stdout(&list));
    assert_eq!(t.status(&p)["trusted"], true, "own edits stay trusted");

    let out = t.shim("pip", &p, &["uninstall", "-y", "gamma"]);
    assert_ok(&out);
    assert_eq!(std::fs::read_to_string(p.join("cove.toml")).unwrap(), manifest(&wheels));
    let list = t.shim("pip", &p, &["list"]);
    assert!(!stdout(&list).contains("gamma"), "{}", stdout(&list));
}

#[test]
fn refused_pip_forms_exit_non_zero_and_change_nothing() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let before = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    for args in [
        &["install", "--user", "gamma"][..],
        &["install", "-e", "."],
        &["install", "--target", "x", "gamma"],
        &["download-everything"],
    ] {
        let out = t.shim("pip", &p, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with("cove: error:") && err.contains("hint:"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(p.join("cove.toml")).unwrap(), before);
}

#[test]
fn a_failed_sync_after_add_leaves_the_manifest_as_it_was() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let before = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    let out = t.cove(&p, &["add", "nonexistent-pkg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is back as it was"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(p.join("cove.toml")).unwrap(), before);
    assert_eq!(t.status(&p)["trusted"], true);
}

#[test]
fn add_validates_before_writing_and_remove_names_what_is_absent() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let before = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    let out = t.cove(&p, &["add", "bad >>= 1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid requirement"), "{}", stderr(&out));
    let out = t.cove(&p, &["remove", "zeta"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no requirement named zeta"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(p.join("cove.toml")).unwrap(), before);
}

#[test]
fn add_replaces_by_name_and_reports_the_key_change() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    let out = t.cove(&p, &["add", "Alpha==2.0"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("alpha==1.0 → Alpha==2.0 in cove.toml"), "{}", stderr(&out));
    assert!(stderr(&out).contains("cove.toml updated; key "), "{}", stderr(&out));
    let text = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    assert!(text.contains("dependencies = [\"Alpha==2.0\"]"), "{text}");
    let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
    assert_eq!(stdout(&out), "2.0\n");
}

#[test]
fn init_writes_cove_toml_imports_requirements_and_refuses_to_overwrite() {
    let t = TestEnv::new();
    let p = t.path().join("proj");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("requirements.txt"), "# deps\nalpha==1.0\nbeta  # needed\n").unwrap();
    let out = t.cove(&p, &["init", "--python", ">=3.8", "gamma"]);
    assert_ok(&out);
    let text = std::fs::read_to_string(p.join("cove.toml")).unwrap();
    assert_eq!(text, "python = \">=3.8\"\ndependencies = [\n  \"alpha==1.0\",\n  \"beta\",\n  \"gamma\",\n]\n");
    let out = t.cove(&p, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"));
}
