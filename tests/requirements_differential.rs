//! Issue 5: cove's reading of PEP 508 requirement strings agrees with Python's `packaging` (what
//! pip itself uses) on name, extras, specifier set, URL and marker, for a generated corpus of
//! several hundred varied strings, and cove's canonical form means the same to `packaging`.
//!
//! cove's side is the hidden `cove debug-requirement`; packaging's side is
//! `tests/fixtures/requirements_differential.py`, run by the installed interpreter whose
//! `packaging` (or pip's vendored copy) is newest. No network.

mod common;
use common::*;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const NAMES: &[&str] = &[
    "requests",
    "Django",
    "zope.interface",
    "ruamel.yaml",
    "typing_extensions",
    "Flask-SQLAlchemy",
    "A",
    "a1",
    "pkg_Name.with-Mixed",
    "PyYAML",
    "backports.zoneinfo",
    "x-y_z.w",
    "jaraco.text",
    "Sphinx_RTD-Theme",
    "py",
    "B2",
    "scikit-learn",
];

const EXTRAS: &[&str] =
    &["", "[security]", "[Security,Socks]", "[ tests , docs ]", "[a_b.c]", "[]", "[Test_X]", "[pdf,PDF]"];

const SPECIFIERS: &[&str] = &[
    "",
    "==2.0",
    ">=1.0,<2",
    " >= 1.0 , < 2.0 ",
    "~=1.4.2",
    "~=2.2",
    "===1.0.0",
    "==1.*",
    "!=1.3.*",
    "==1.0.post1",
    ">1.0a1",
    "<=2.0.0rc1",
    "==1!2.0",
    "==1.0+local.7",
    "(>=1.0)",
    ">=1.0.dev0",
    "==2.0.0-alpha1",
    ">=1.0.0.0,!=1.5",
    "<3,>2,!=2.5.*,>=2.1",
    "==2013b0",
    "> 0.1 , <= 0.9.9.post2.dev3",
    "==1.0.0.RC1",
    "~=0.9.1.post1",
    "!=0",
    "<1.0.0-beta.2",
    "==v1.2",
];

const MARKERS: &[&str] = &[
    "",
    "python_version >= '3.8'",
    "python_version < \"3.10\" and sys_platform == 'linux'",
    "(os_name == 'nt' or platform_system == 'Darwin') and python_full_version >= '3.9.1'",
    "extra == 'Test_X'",
    "implementation_name == 'pypy' or python_version == '2.7'",
    "platform_machine in 'x86_64 aarch64'",
    "python_version not in '3.6 3.7'",
    "'linux' in sys_platform",
    "python_version > '3.8' and (extra == 'docs' or extra == 'test')",
    "platform_python_implementation != 'CPython'",
    "python_version ~= '3.9'",
    "python_version <= '3.12' or (os_name != 'posix' and extra == \"security\")",
    "sys_platform != 'win32' and (python_version >= '3.10' or implementation_name == 'cpython') and extra != 'te-st'",
    "python_full_version == '3.12.1'",
    "'3.9' <= python_version",
    "python_version == '3.*'",
    "os_name=='posix'and python_version>='3'",
    "python_version >= '3.13'",
    "python_version > '3.12' and python_version <= '3.13'",
    "python_version < '3.13' or extra == 'test'",
    "python_version != '3.13'",
    "os.name == 'nt' or sys.platform == 'darwin'",
    "python_implementation == 'CPython' and platform.machine == 'x86_64'",
    "platform_version == \"#1 SMP 'x'\"",
];

const URLS: &[&str] = &[
    "name @ https://example.org/pkg-1.0.tar.gz",
    "Name[Extra] @ git+https://github.com/org/repo.git@v1.0#egg=name",
    "name @ file:///tmp/pkg-1.0-py3-none-any.whl ; python_version >= '3.8'",
    "name@https://example.org/x.zip#sha256=abc",
    "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686",
    "torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0%2Bcpu-cp312-cp312-linux_x86_64.whl ; sys_platform == 'linux'",
    "my_pkg[a,b] @ git+ssh://git@example.org/org/my-pkg.git@main ; extra == 'vcs'",
];

/// Strings PEP 508 rejects, so both sides must.
const INVALID: &[&str] = &[
    "requests >=",
    "foo[bar",
    "foo==1.0;",
    ">=1.0",
    "foo ~= 1",
    "foo >=1.*",
    "foo ; python_version >= ",
    "foo==1.0 and",
    "-foo",
    "foo bar",
    "foo ; os_name = 'nt'",
    "foo ; (python_version >= '3.8'",
    "foo[bar baz]",
    "foo @",
    "foo ; unknown_marker == '1'",
    "foo==1.0.*.1",
    "foo <= 1.*",
    "foo ; python_version >= '3.8' or",
    "_foo",
    "foo-",
];

/// Several hundred requirement strings, walking the tables above with strides that mix them
/// (deterministic: a failure names the string, and it is the same string next run).
fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    let n = 360;
    for i in 0..n {
        let name = NAMES[i % NAMES.len()];
        let extras = EXTRAS[(i / 3) % EXTRAS.len()];
        let spec = SPECIFIERS[(i * 7) % SPECIFIERS.len()];
        let marker = MARKERS[(i * 5 + i / SPECIFIERS.len()) % MARKERS.len()];
        let space = if i % 4 == 0 { " " } else { "" };
        let mut s = format!("{name}{space}{extras}{space}{spec}");
        if !marker.is_empty() {
            s.push_str(if i % 3 == 0 { ";" } else { " ; " });
            s.push_str(marker);
        }
        out.push(s);
    }
    // Every specifier and marker at least once, with a plain name.
    out.extend(SPECIFIERS.iter().map(|s| format!("demo{s}")));
    out.extend(MARKERS.iter().filter(|m| !m.is_empty()).map(|m| format!("demo ; {m}")));
    out.extend(URLS.iter().map(|s| s.to_string()));
    out.extend(INVALID.iter().map(|s| s.to_string()));
    out.sort();
    out.dedup();
    out
}

/// `(interpreter, packaging version)` for the installed interpreter with the newest packaging.
fn python_with_newest_packaging() -> (PathBuf, String) {
    let mut candidates = vec![system_python()];
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    for root in
        pyenv.into_iter().chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/uv/python")))
    {
        let versions = if root.ends_with("python") { root.clone() } else { root.join("versions") };
        for entry in std::fs::read_dir(versions).into_iter().flatten().flatten() {
            candidates.push(entry.path().join("bin/python3"));
        }
    }
    let probe = "try:\n import packaging\nexcept ImportError:\n from pip._vendor import packaging\nprint(packaging.__version__)";
    let mut best: Option<(Vec<u64>, PathBuf, String)> = None;
    for python in candidates.into_iter().filter(|p| p.is_file()) {
        let Ok(out) = Command::new(&python).args(["-c", probe]).stderr(Stdio::null()).output() else { continue };
        if !out.status.success() {
            continue;
        }
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        if best.as_ref().is_none_or(|(b, _, _)| parts > *b) {
            best = Some((parts, python, version));
        }
    }
    let (_, python, version) = best.expect("no interpreter with `packaging` (or pip's vendored copy) was found");
    (python, version)
}

fn cove_parse(t: &TestEnv, corpus: &[String]) -> Vec<serde_json::Value> {
    let mut child = t
        .cmd(COVE, t.path())
        .arg("debug-requirement")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run cove debug-requirement");
    child.stdin.take().unwrap().write_all(corpus.join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    stdout(&out).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn cove_reads_requirements_as_packaging_does() {
    let t = TestEnv::new();
    let corpus = corpus();
    assert!(corpus.len() >= 300, "the corpus has {} strings", corpus.len());
    let cases = cove_parse(&t, &corpus);
    assert_eq!(cases.len(), corpus.len());
    let file = t.path().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&cases).unwrap()).unwrap();

    let (python, version) = python_with_newest_packaging();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/requirements_differential.py");
    let out = Command::new(&python).arg(script).arg(&file).output().expect("run the packaging side");
    assert_ok(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    eprintln!(
        "differential: {} strings ({} valid) checked against packaging {version} ({}), markers on {} environments",
        report["checked"],
        report["accepted"],
        python.display(),
        report["environments"]
    );
    let disagreements: Vec<String> =
        report["disagreements"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s) with packaging {version}:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    let valid = cases.iter().filter(|c| c["ok"] == true).count();
    assert!(valid >= 300, "only {valid} valid strings were compared");
}

/// A known gap, kept visible: `===` with a string that is not a PEP 440 version (PEP 440's
/// "arbitrary equality" for legacy versions) is accepted by packaging but rejected by cove's
/// parser, with an error that names the requirement.
#[test]
fn arbitrary_equality_with_a_non_pep440_version_is_rejected_clearly() {
    let t = TestEnv::new();
    let cases = cove_parse(&t, &["legacy===foobar".to_string()]);
    assert_eq!(cases[0]["ok"], false);
    assert!(cases[0]["error"].as_str().unwrap().contains("expected version to start with a number"), "{}", cases[0]);
}
