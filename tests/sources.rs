//! Issue 5 (and issue 11 parts 3–4): cove works in a project that declares its dependencies in
//! pyproject.toml or requirements.txt, with no new file. The manifests below copy the shapes of
//! well-known open-source projects' files (hatchling/setuptools pyproject tables, PEP 735
//! groups, `requirements-dev.txt` with `-e .[extras]`), written for the test wheelhouse:
//! alpha 1.0/2.0, beta (needs alpha), gamma, delta.

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn folder(t: &TestEnv, name: &str) -> PathBuf {
    let d = t.path().join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The `[build-system]` table of a test package: the tiny in-tree backend
/// (`tests/fixtures/tinybackend.py`, copied into `dir/_backend`), so that installing the
/// project itself works offline with pip and uv.
fn inplace_build_system(dir: &Path) -> &'static str {
    let backend = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tinybackend.py");
    std::fs::create_dir_all(dir.join("_backend")).unwrap();
    std::fs::copy(backend, dir.join("_backend/tinybackend.py")).unwrap();
    "[build-system]\nrequires = []\nbuild-backend = \"tinybackend\"\nbackend-path = [\"_backend\"]\n"
}

/// `[tool.cove.index]` pointing at the wheelhouse, offline.
fn cove_index() -> String {
    format!("[tool.cove.index]\nfind-links = [{:?}]\nno-index = true\n", wheelhouse().display().to_string())
}

/// The same, as requirements-file lines.
fn req_index() -> String {
    format!("--find-links {}\n--no-index\n", wheelhouse().display())
}

fn requirements(st: &serde_json::Value) -> Vec<String> {
    st["requirements"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

/// Shaped like an httpx/attrs pyproject.toml (with the test backend in place of hatchling):
/// dynamic readme and version, extras that name the project itself, PEP 735 groups with nested
/// and empty includes, other tools' tables.
fn httpx_like(dir: &Path) -> String {
    format!(
        r#"{}
[project]
name = "demo_http"
description = "The next generation HTTP client."
readme = "README.md"
license = "BSD-3-Clause"
requires-python = ">=3.8"
authors = [{{ name = "Someone", email = "someone@example.org" }}]
classifiers = [
    "Development Status :: 4 - Beta",
    "Programming Language :: Python :: 3",
]
dependencies = [
    "alpha>=1.0",
]
dynamic = ["readme", "version"]

[project.optional-dependencies]
brotli = ["gamma"]
all = ["demo-http[brotli]"]

[project.scripts]
demo-http = "demo_http:main"

[dependency-groups]
dev = [
    {{ include-group = "test" }},
    {{ include-group = "lint" }},
    "Demo.HTTP[all]",
]
test = ["beta", {{ include-group = "typing" }}]
typing = []
lint = []

[tool.hatch.version]
path = "demo_http/__version__.py"

[tool.ruff.lint]
select = ["E", "F", "I"]

[tool.pytest.ini_options]
addopts = "-rxXs"
filterwarnings = ["error"]

{}"#,
        inplace_build_system(dir),
        cove_index()
    )
}

#[test]
fn a_pyproject_with_groups_and_extras_builds_and_imports() {
    let t = TestEnv::new();
    let p = folder(&t, "httpx-like");
    write(&p, "pyproject.toml", &httpx_like(&p));
    t.trust(&p);
    let st = t.status(&p);
    assert_eq!(requirements(&st), ["alpha>=1.0", "beta", "gamma"]);
    assert_eq!(st["installs_project"], true, "[build-system] makes it a package");
    let out = t.shim("python", &p, &["-c", "import alpha, beta, gamma; print(alpha.__version__)"]);
    assert_stdout(&out, "2.0\n");
    let text = stdout(&t.cove(&p, &["status"]));
    assert!(
        text.contains("(pyproject.toml has a [project] or [tool.cove] table, and there is no cove.toml)"),
        "{text}"
    );
    assert!(text.contains("note:      dependency groups: dev (the `dev` group, by default)"), "{text}");
    assert!(text.contains("note:      extras: all"), "{text}");
}

/// Shaped like requests' repository: setup.cfg/pyproject with `[project]`, and a
/// `requirements-dev.txt` that installs the project with extras plus test tools, including a
/// shared file and pinning through a constraints file.
#[test]
fn requirements_txt_with_includes_constraints_and_a_local_project() {
    let t = TestEnv::new();
    let p = folder(&t, "requests-like");
    let build = inplace_build_system(&p.join("client"));
    write(
        &p,
        "client/pyproject.toml",
        &format!(
            "{build}\n[project]\nname = \"client\"\ndynamic = [\"version\"]\ndependencies = [\"beta\"]\n\n[project.optional-dependencies]\nsocks = [\"gamma\"]\nuse_chardet_on_py3 = [\"chardet>=3.0.2,<6\"]\n"
        ),
    );
    write(
        &p,
        "requirements.txt",
        &format!(
            "# Development requirements.\n{}\n-e ./client[socks]\n-r requirements/test.txt  # shared with CI\n-c requirements/constraints.txt\n",
            req_index()
        ),
    );
    write(&p, "requirements/test.txt", "delta ; python_version >= \"3.8\" \\\n    --hash=sha256:0000\n");
    write(&p, "requirements/constraints.txt", "# beta accepts any alpha; pin the old one\nalpha==1.0\n");
    t.trust(&p);
    let st = t.status(&p);
    assert_eq!(requirements(&st), ["beta", "delta ; python_version >= '3.8'", "gamma"]);
    assert_eq!(st["constraints"], serde_json::json!(["alpha==1.0"]));
    assert_eq!(st["installs_project"], true);
    assert_eq!(st["local_projects"][0]["dir"], p.join("client").display().to_string());
    assert_eq!(st["local_projects"][0]["extras"], serde_json::json!(["socks"]));
    assert!(st["canonical"].as_str().unwrap().ends_with("constraint: alpha==1.0\n"), "{}", st["canonical"]);
    let out = t.shim("python", &p, &["-c", "import alpha, beta, gamma, delta; print(alpha.__version__)"]);
    assert_ok(&out);
    assert_eq!(stdout(&out), "1.0\n", "the constraint reached the installer");
    let notes = st["notes"].to_string();
    assert!(notes.contains("requirements/test.txt: 1 `--hash` option not checked"), "{notes}");
}

/// The uv backend gets the constraints too.
#[test]
fn the_uv_backend_honours_constraints() {
    if no_uv() {
        return;
    }
    let t = TestEnv::with_backend("uv");
    let p = folder(&t, "proj");
    write(&p, "requirements.txt", &format!("{}beta\n-c constraints.txt\n", req_index()));
    write(&p, "constraints.txt", "alpha<2\n");
    t.trust(&p);
    let out = t.shim("python", &p, &["-c", "import alpha; print(alpha.__version__)"]);
    assert_stdout(&out, "1.0\n");
}

/// Shaped like a Flask-style repository: `[project]` without `[dependency-groups]`, test
/// dependencies in `requirements.txt` beside it through `-e .[extras]`.
#[test]
fn requirements_txt_beside_a_pyproject_without_groups_is_read_too() {
    let t = TestEnv::new();
    let p = folder(&t, "flask-like");
    let build = inplace_build_system(&p);
    write(
        &p,
        "pyproject.toml",
        &format!(
            "{build}\n[project]\nname = \"Flask_Like\"\nversion = \"3.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [\"alpha==1.0\"]\n\n[project.optional-dependencies]\nasync = [\"gamma\"]\ndotenv = [\"delta\"]\n\n[tool.mypy]\nstrict = true\n\n{}",
            cove_index()
        ),
    );
    write(&p, "requirements.txt", "-e .[async]\nbeta\n");
    t.trust(&p);
    let st = t.status(&p);
    assert_eq!(requirements(&st), ["alpha==1.0", "beta", "gamma"]);
    assert_eq!(st["installs_project"], true, "`-e .` names the project itself");
    let files: Vec<&str> = st["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(files, [p.join("pyproject.toml").to_str().unwrap(), p.join("requirements.txt").to_str().unwrap()]);
    assert_ok(&t.shim("python", &p, &["-c", "import alpha, beta, gamma"]));
    let text = stdout(&t.cove(&p, &["status"]));
    assert!(text.contains("also read: "), "{text}");
    assert!(text.contains("requirements.txt read too, as development requirements"), "{text}");

    // Without [build-system] and without `-e .`, the project is not installed.
    write(&p, "pyproject.toml", &format!("[project]\nname = \"flask-like\"\ndependencies = []\n{}", cove_index()));
    write(&p, "requirements.txt", "beta\n");
    t.trust(&p);
    assert_eq!(t.status(&p)["installs_project"], false);
}

#[test]
fn default_groups_self_reference_and_empty_groups_select_requirements() {
    let t = TestEnv::new();
    let p = folder(&t, "uv-like");
    let base = "[project]\nname = \"uvlike\"\nversion = \"0.1.0\"\ndependencies = []\n\n[project.optional-dependencies]\nfull = [\"gamma\"]\n\n[dependency-groups]\ndev = [\"delta\"]\ndocs = [{include-group = \"nothing\"}]\nnothing = []\ntest = [\"beta\", \"uvlike[full]\", {include-group = \"docs\"}]\n";
    let with = |extra: &str| {
        write(&p, "pyproject.toml", &format!("{base}{extra}\n{}", cove_index()));
        t.trust(&p);
        requirements(&t.status(&p))
    };
    assert_eq!(with(""), ["delta"], "the dev group by default");
    assert_eq!(with("[tool.uv]\ndefault-groups = [\"test\"]\n"), ["beta", "gamma"]);
    assert_eq!(with("[tool.uv]\ndefault-groups = \"all\"\n"), ["beta", "delta", "gamma"]);
    assert_eq!(with("[tool.uv]\ndefault-groups = []\n"), Vec::<String>::new());
    assert_eq!(with("[tool.cove]\ngroups = [\"docs\"]\n[tool.uv]\ndefault-groups = \"all\"\n"), Vec::<String>::new());
    // Build the test group: the self-reference means the project's `full` extra.
    with("[tool.uv]\ndefault-groups = [\"test\"]\n");
    let out = t.shim("python", &p, &["-c", "import beta, gamma, alpha; print('ok')"]);
    assert_stdout(&out, "ok\n");
}

/// Equal requirements, spelled differently in each kind of manifest, give one key.
#[test]
fn equivalent_spellings_in_every_kind_of_manifest_give_one_key() {
    let t = TestEnv::new();
    let wh = wheelhouse().display().to_string();
    let a = folder(&t, "cove-toml");
    write(
        &a,
        "cove.toml",
        &format!(
            "dependencies = [\"alpha==1.0\", \"beta>=1,<3 ; python_version >= '3.8'\", \"gamma[x]\"]\n[index]\nfind-links = [{wh:?}]\nno-index = true\n"
        ),
    );
    let b = folder(&t, "requirements");
    write(&b, "requirements.txt", &format!("--no-index\n-f {wh}/.\nGamma [X]\n-r more.txt\n",));
    write(&b, "more.txt", "BETA < 3 , >= 1;python_version>=\"3.8\"   # range\nALPHA == 1.0\nalpha==1.0\n");
    let c = folder(&t, "pyproject");
    write(
        &c,
        "pyproject.toml",
        &format!(
            "[project]\nname = \"c\"\ndependencies = [\"Alpha == 1.0\"]\n[dependency-groups]\ndev = [\"beta <3, >=1 ; python_version >= \\\"3.8\\\"\", {{include-group = \"g\"}}]\ng = [\"gamma[X]\"]\n{}",
            cove_index()
        ),
    );
    let keys: Vec<String> = [&a, &b, &c].iter().map(|dir| t.status(dir)["key"].as_str().unwrap().to_string()).collect();
    assert_eq!(keys[0], keys[1], "cove.toml and requirements.txt");
    assert_eq!(keys[0], keys[2], "cove.toml and pyproject.toml");
    let canonical = t.status(&a)["canonical"].as_str().unwrap().to_string();
    assert!(
        canonical.ends_with(
            "requirement: alpha==1.0\nrequirement: beta<3,>=1 ; python_version >= '3.8'\nrequirement: gamma[x]\n"
        ),
        "{canonical}"
    );
}

#[test]
fn editing_an_included_file_changes_the_key_and_revokes_trust() {
    let t = TestEnv::new();
    let p = folder(&t, "proj");
    write(&p, "requirements.txt", &format!("{}-r requirements/base.txt\n-c requirements/pins.txt\n", req_index()));
    write(&p, "requirements/base.txt", "beta\n");
    write(&p, "requirements/pins.txt", "alpha==1.0\n");
    t.trust(&p);
    let first = t.status(&p);
    assert_eq!(first["trusted"], true);

    write(&p, "requirements/base.txt", "beta\ngamma\n");
    let second = t.status(&p);
    assert_ne!(second["key"], first["key"], "a requirement added in an include");
    assert_eq!(second["trusted"], false, "trust covers included files");
    let out = t.shim("python", &p, &["-c", "pass"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("changed since you trusted it (+gamma)"), "{}", stderr(&out));

    t.trust(&p);
    write(&p, "requirements/pins.txt", "alpha==2.0\n");
    let third = t.status(&p);
    assert_ne!(third["key"], second["key"], "a constraint changed");
    t.trust(&p);
    write(&p, "requirements/pins.txt", "# pinned for CI\nalpha==2.0\n");
    let fourth = t.status(&p);
    assert_eq!(fourth["key"], third["key"], "a comment changes nothing installed");
    assert_eq!(fourth["trusted"], false, "but the file changed, so trust is asked again");
}

#[test]
fn bad_manifests_fail_with_file_line_and_column() {
    let t = TestEnv::new();
    let p = folder(&t, "proj");
    write(&p, "requirements.txt", "alpha\n-r dev.txt\n");
    write(&p, "dev.txt", "# tools\ngamma\n  beta >>= 2\n");
    let out = t.cove(&p, &["status"]);
    assert_eq!(out.status.code(), Some(1));
    let want = format!(
        "cove: error: {}:3:8: invalid requirement \"beta >>= 2\": no such comparison operator \">>=\", must be one of ~= == != <= >= < > ===\n  hint: write it as PEP 508, e.g. \"requests>=2.31\" or \"rich[jupyter]==13.7.1\"\n",
        p.join("dev.txt").display()
    );
    assert_eq!(stderr(&out), want);

    let q = folder(&t, "dynamic");
    write(
        &q,
        "pyproject.toml",
        "[project]\nname = \"q\"\ndynamic = [\"version\", \"dependencies\"]\n\n[tool.setuptools.dynamic]\ndependencies = {file = [\"requirements.in\"]}\n",
    );
    let out = t.cove(&q, &["status"]);
    assert_eq!(
        stderr(&out),
        format!(
            "cove: error: {}:3:23: `dependencies` is dynamic (computed by the build backend), so cove cannot read it from pyproject.toml\n  hint: list the dependencies in a cove.toml beside pyproject.toml (it comes first), or declare them statically in [project]\n",
            q.join("pyproject.toml").display()
        )
    );

    let r = folder(&t, "typo");
    write(&r, "pyproject.toml", "[project]\nname = \"r\"\n\n[tool.cove]\npyhton = \"3.12\"\n");
    let out = t.cove(&r, &["status"]);
    assert_eq!(
        stderr(&out),
        format!(
            "cove: error: {}:5:1: unknown key `tool.cove.pyhton`\n  hint: did you mean `tool.cove.python`?\n",
            r.join("pyproject.toml").display()
        )
    );

    let s = folder(&t, "cycle");
    write(
        &s,
        "pyproject.toml",
        "[project]\nname = \"s\"\n[dependency-groups]\ndev = [{include-group = \"test\"}]\ntest = [\"beta\", {include-group = \"dev\"}]\n",
    );
    let out = t.cove(&s, &["status"]);
    let err = stderr(&out);
    assert!(err.ends_with(":5:17: dependency groups include each other in a cycle: `dev` → `test` → `dev`\n  hint: remove one of these `include-group` entries\n"), "{err}");
}

/// SPEC §2: with no constraint, `.python-version` in the project folder picks the interpreter.
#[test]
fn python_version_file_picks_the_interpreter_when_nothing_constrains_it() {
    let t = TestEnv::new();
    let listed = stdout(&t.cove(t.path(), &["python"]));
    let versions: Vec<(String, String)> = listed
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let v = w.next()?.to_string();
            let _imp = w.next()?;
            Some((v, w.next()?.to_string()))
        })
        .collect();
    let p = folder(&t, "proj");
    write(&p, "requirements.txt", "");
    let default = t.status(&p)["python_version"].as_str().unwrap().to_string();
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    let Some((other, path)) = versions.iter().find(|(v, _)| minor(v) != minor(&default)) else {
        eprintln!("SKIPPED: fewer than 2 Python minor versions installed ({} found)", versions.len());
        return;
    };
    write(&p, ".python-version", &format!("{}\n", minor(other)));
    let st = t.status(&p);
    assert_eq!(minor(st["python_version"].as_str().unwrap()), minor(other), "{st}");
    assert_eq!(st["python_reason"], format!(".python-version ({})", minor(other)));
    eprintln!("picked {} ({path}) over the default {default}", st["python_version"]);
}
