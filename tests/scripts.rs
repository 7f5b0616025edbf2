//! PEP 723 inline script metadata through the shim (SPEC §2, issue 5 part 4).

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn script(dir: &Path, name: &str, deps: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "#!/usr/bin/env python\n# /// script\n# dependencies = [{deps}]\n# [tool.cove.index]\n# find-links = [{:?}]\n# no-index = true\n# ///\nimport sys, alpha\nprint(alpha.__version__, sys.argv[1:])\n",
            wheelhouse().display().to_string()
        ),
    )
    .unwrap();
    p
}

#[test]
fn a_script_with_inline_metadata_gets_its_own_environment_once_trusted() {
    let t = TestEnv::new();
    let dir = t.path().join("scripts");
    let s = script(&dir, "tool.py", "\"alpha==2.0\"");
    let out = t.shim("python", &dir, &["tool.py", "a b", "-c"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("cove trust {}", s.display())), "{}", stderr(&out));
    assert!(t.envs().is_empty());

    assert_ok(&t.cove(&dir, &["trust", "tool.py"]));
    let out = t.shim("python", &dir, &["-u", "tool.py", "a b", "-c"]);
    assert_stdout(&out, "2.0 ['a b', '-c']\n");
    let out = t.cove(&dir, &["run", "tool.py", "x"]);
    assert_stdout(&out, "2.0 ['x']\n");
}

#[test]
fn inside_a_project_a_script_uses_its_block_and_dash_c_uses_the_project() {
    let t = TestEnv::new();
    let p = t.project("proj", &["alpha==1.0"]);
    t.trust(&p);
    script(&p, "tool.py", "\"alpha==2.0\"");
    assert_ok(&t.cove(&p, &["trust", "tool.py"]));
    let out = t.shim("python", &p, &["tool.py"]);
    assert_stdout(&out, "2.0 []\n");
    let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)", "tool.py"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), "1.0\n", "-c is never a script");
    let out = t.shim("python", &p, &["-m", "alpha"]);
    assert!(!stderr(&out).contains("tool.py"));
}

#[test]
fn a_malformed_block_is_an_error_naming_the_line() {
    let t = TestEnv::new();
    let dir = t.path().join("s");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.py"), "# /// script\n# dependencies = [\"alpha\"\nprint(1)\n").unwrap();
    let out = t.shim("python", &dir, &["bad.py"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!(
            "cove: error: {}:1:1: the `# /// script` block is never closed",
            dir.join("bad.py").display()
        )),
        "{}",
        stderr(&out)
    );
}
