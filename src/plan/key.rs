//! The environment key: SHA-256 over a canonical text of everything that decides an
//! environment's content, and nothing else (SPEC §3).
//!
//! The text is line-based and versioned by its first line, so a change of format gives new keys
//! instead of reading old environments as new:
//!
//! ```text
//! cove-env-v1
//! python: cpython 3.12.1 /home/me/.pyenv/versions/3.12.1/bin/python3.12
//! platform: linux x86_64
//! index-url: https://example.org/simple
//! extra-index-url: …
//! find-links: /abs/wheels
//! no-index: true
//! requirement: requests==2.32.3
//! constraint: urllib3<3
//! ```
//!
//! `constraint:` lines (from `-c` files) appear only when there are constraints, so manifests
//! without them keep their keys. With a lock file in use, `pin: name==version` lines (the
//! locked versions that apply) stand instead of `requirement:` lines, and when the lock names a
//! file with a SHA-256 for every pin, `files: name==version <sha256>…` lines follow. A local project whose
//! dependencies are dynamic (a `setup.py`) is installed into an environment of its own:
//! `project: /path (dynamic)` makes that key unshared.

use crate::manifest::Index;
use crate::manifest::requirement::Requirement;
use crate::plan::interpreter::Interpreter;

pub const FORMAT: &str = "cove-env-v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub hex: String,
    pub canonical: String,
}

impl Key {
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

/// The layer's key: shared key + each project's folder, extras and the tables that make its
/// metadata.
pub fn layer_key(shared_key: &str, projects: &[crate::manifest::LocalProject]) -> String {
    let mut text = format!("cove-layer-v1\nenv: {shared_key}\n");
    for p in projects {
        let dir = crate::fsx::path_text(&p.dir);
        text.push_str(&format!("project: {dir} [{}] {}\n", p.extras.join(","), p.tables_digest));
    }
    crate::digest::sha256_hex(text.as_bytes())
}

/// What a layer's key covers but its folder (cove issue 22): the same for two checkouts of one
/// project whose build backend and metadata are equal, so the layer of one can be copied for the
/// other (see `build::layer_copy`). `build_files` is a digest of the project's build files
/// (`pyproject.toml`, `setup.cfg`, …, read whole: their `[tool.*]` tables choose what an
/// editable install maps). `None` unless the layer installs one project with a pyproject.toml.
pub fn layer_relocation_key(
    shared_key: &str,
    projects: &[crate::manifest::LocalProject],
    build_files: &str,
) -> Option<String> {
    let [p] = projects else { return None };
    if p.tables_digest.is_empty() {
        return None;
    }
    let text = format!(
        "cove-layer-relocation-v1\nenv: {shared_key}\nproject: [{}] {}\nfiles: {build_files}\n",
        p.extras.join(","),
        p.tables_digest
    );
    Some(crate::digest::sha256_hex(text.as_bytes()))
}

#[cfg(test)]
pub fn compute(
    interpreter: &Interpreter,
    requirements: &[Requirement],
    constraints: &[Requirement],
    index: &Index,
) -> Key {
    Key::of(canonical_text(interpreter, requirements, "requirement", constraints, index))
}

impl Key {
    /// The key of a canonical text.
    pub fn of(canonical: String) -> Key {
        let hex = crate::digest::sha256_hex(canonical.as_bytes());
        Key { hex, canonical }
    }
}

/// The key of locked pins (the requirements' place in the text says `pin:`), with the files the
/// lock names for them (`files: name==version sha256…`, one line a package, so that two locks
/// naming other files for the same versions share no environment) and an optional dynamic local
/// project.
pub fn compute_for(
    interpreter: &Interpreter,
    install: &[Requirement],
    pinned: bool,
    files: Option<&[crate::manifest::locks::Files]>,
    constraints: &[Requirement],
    index: &Index,
    dynamic_project: Option<&std::path::Path>,
) -> Key {
    let label = if pinned { "pin" } else { "requirement" };
    let mut t = canonical_text(interpreter, install, label, constraints, index);
    let mut lines: Vec<String> = files
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let mut hashes: Vec<&str> = f.hashes().collect();
            hashes.sort_unstable();
            format!("files: {}=={} {}\n", f.name, f.version, hashes.join(" "))
        })
        .collect();
    lines.sort();
    t.extend(lines);
    if let Some(dir) = dynamic_project {
        t.push_str(&format!("project: {} (dynamic)\n", crate::fsx::path_text(dir)));
    }
    Key::of(t)
}

pub fn canonical_text(
    interpreter: &Interpreter,
    requirements: &[Requirement],
    label: &str,
    constraints: &[Requirement],
    index: &Index,
) -> String {
    let lines =
        |list: &[Requirement], label: &str| list.iter().map(|r| label.len() + 3 + r.canonical.len()).sum::<usize>();
    let mut t = String::with_capacity(512 + lines(requirements, label) + lines(constraints, "constraint"));
    let f = &interpreter.facts;
    t.push_str(FORMAT);
    t.push('\n');
    t.push_str(&format!(
        "python: {} {} {}\n",
        f.implementation_name,
        f.python_full_version,
        crate::fsx::path_text(&interpreter.path)
    ));
    t.push_str(&format!("platform: {} {}\n", std::env::consts::OS, std::env::consts::ARCH));
    if let Some(url) = &index.url {
        t.push_str(&format!("index-url: {url}\n"));
    }
    for url in &index.extra_urls {
        t.push_str(&format!("extra-index-url: {url}\n"));
    }
    for link in &index.find_links {
        t.push_str(&format!("find-links: {link}\n"));
    }
    if index.no_index {
        t.push_str("no-index: true\n");
    }
    for r in requirements {
        t.push_str(label);
        t.push_str(": ");
        t.push_str(&r.canonical);
        t.push('\n');
    }
    for c in constraints {
        t.push_str("constraint: ");
        t.push_str(&c.canonical);
        t.push('\n');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Pos;
    use crate::plan::interpreter::Facts;
    use std::path::Path;

    fn interp(version: &str, path: &str) -> Interpreter {
        Interpreter {
            path: path.into(),
            facts: Facts {
                implementation_name: "cpython".into(),
                implementation_version: version.into(),
                os_name: "posix".into(),
                platform_machine: "x86_64".into(),
                platform_python_implementation: "CPython".into(),
                platform_release: "".into(),
                platform_system: "Linux".into(),
                platform_version: "".into(),
                python_full_version: version.into(),
                python_version: version[..4].into(),
                sys_platform: "linux".into(),
                pip_wheel_dirs: Vec::new(),
            },
        }
    }

    fn reqs(list: &[&str]) -> Vec<Requirement> {
        let pos = Pos { file: "t".into(), line: 1, column: 1 };
        let mut v: Vec<_> = list.iter().map(|s| Requirement::parse(s, &pos, Path::new("/")).unwrap()).collect();
        crate::manifest::requirement::normalise_set(&mut v);
        v
    }

    #[test]
    fn order_spacing_case_and_duplicates_do_not_change_the_key() {
        let i = interp("3.12.1", "/py/3.12.1/bin/python3.12");
        let a = compute(&i, &reqs(&["requests==2.32.3", "rich>=13,<15"]), &[], &Index::default());
        let b =
            compute(&i, &reqs(&["Rich <15, >=13", "REQUESTS == 2.32.3", "requests==2.32.3"]), &[], &Index::default());
        assert_eq!(a, b);
        assert_eq!(a.hex.len(), 64);
    }

    #[test]
    fn versions_interpreters_and_index_change_the_key() {
        let i = interp("3.12.1", "/py/3.12.1/bin/python3.12");
        let base = compute(&i, &reqs(&["alpha==1.0"]), &[], &Index::default());
        assert_ne!(base, compute(&i, &reqs(&["alpha==2.0"]), &[], &Index::default()));
        assert_ne!(
            base,
            compute(&interp("3.12.2", "/py/3.12.1/bin/python3.12"), &reqs(&["alpha==1.0"]), &[], &Index::default())
        );
        assert_ne!(
            base,
            compute(&interp("3.12.1", "/other/python3.12"), &reqs(&["alpha==1.0"]), &[], &Index::default())
        );
        let idx = Index { url: Some("https://example.org/simple".into()), ..Index::default() };
        assert_ne!(base, compute(&i, &reqs(&["alpha==1.0"]), &[], &idx));
    }

    #[test]
    fn canonical_text_is_documented_shape() {
        let i = interp("3.12.1", "/py/bin/python3.12");
        let idx = Index { find_links: vec!["/w".into()], no_index: true, ..Index::default() };
        let t = canonical_text(&i, &reqs(&["B>=1", "a"]), "requirement", &[], &idx);
        let want = format!(
            "cove-env-v1\npython: cpython 3.12.1 /py/bin/python3.12\nplatform: {} {}\nfind-links: /w\nno-index: true\nrequirement: a\nrequirement: b>=1\n",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        assert_eq!(t, want);
    }

    /// Requirements whose canonical text is easy to change by accident (specifier spelling and
    /// order, epochs and local versions, markers re-spelled, markers that simplify away, URLs).
    /// These texts, and so every user's environment key, must stay exactly as they are: a
    /// change here rebuilds every environment. Change them only with a new `FORMAT`.
    const PINNED: &[(&str, &str)] = &[
        (
            "Foo_Bar.baz[B,a,b]==1.0.0,>=0.9 ; python_version>='3.8' and extra=='Te_St'",
            "foo-bar-baz[a,b]==1.0.0,>=0.9 ; python_version >= '3.8' and extra == 'te-st'",
        ),
        ("x (>=1.0,<2)", "x<2,>=1.0"),
        ("name==1!2.0rc1.post3.dev4+Local.7", "name==1!2.0rc1.post3.dev4+local.7"),
        ("name==1.*,!=2.0.*,~=1.4.2", "name!=2.0.*,==1.*,~=1.4.2"),
        (
            "name>=v1.0,<=01.02,!=1.0-post1,>1.0RC1,<2.0a,>=1.0.dev",
            "name!=1.0.post1,<2.0a0,<=1.2,>1.0rc1,>=1.0,>=1.0.dev0",
        ),
        ("name===1.0", "name===1.0"),
        ("name<=1.0.0.0,>=2.0b2.post0", "name<=1.0.0.0,>=2.0b2.post0"),
        ("Name >= 1.0 , != 1.5 , < 2.0 , >=1.0", "name!=1.5,<2.0,>=1.0"),
        ("a>=1,>=1.0", "a>=1,>=1.0"),
        ("pkg-7[extra]>=1.7,<3 ; python_version >= '3.8'", "pkg-7[extra]<3,>=1.7 ; python_version >= '3.8'"),
        (
            "A.B-C_D [ X_Y ] ( < 3 , >= 1.7 ) ; python_version>=\"3.8\"",
            "a-b-c-d[x-y]<3,>=1.7 ; python_version >= '3.8'",
        ),
        ("x;python_version>=\"3.13\"", "x ; python_version >= '3.13'"),
        ("x ;python_version>='3.8'   ", "x ; python_version >= '3.8'"),
        ("x ; (python_version >= '3.8')", "x ; (python_version >= '3.8')"),
        (
            "x ; python_version >= '3.8' and python_version >= '3.8'",
            "x ; python_version >= '3.8' and python_version >= '3.8'",
        ),
        (
            "x ; ( os.name=='nt' or sys_platform == \"darwin\" )and extra==\"Te_St\"",
            "x ; (os_name == 'nt' or sys_platform == 'darwin') and extra == 'te-st'",
        ),
        ("x; '3.9' <= python_version and 'Docs.X' != extra", "x ; '3.9' <= python_version and 'docs-x' != extra"),
        ("x; platform_version == \"#1 'SMP'\"", "x ; platform_version == \"#1 'SMP'\""),
        (
            "x @ https://e.org/x.whl#sha256=ab;c ; python_version not in '3.6 3.7'",
            "x @ https://e.org/x.whl#sha256=ab;c ; python_version not in '3.6 3.7'",
        ),
        ("x@file:///tmp/x.whl", "x @ file:///tmp/x.whl"),
        ("x ; python_version >= '3' or python_version < '3'", "x"),
        ("x ; extra == 'a' or extra != 'a'", "x"),
        ("x ; 'a' == 'b'", "x"),
        (
            "x ; platform_release ~= '5.0' and platform.machine=='x86_64' and python_implementation == 'CPython'",
            "x ; platform_release ~= '5.0' and platform_machine == 'x86_64' and platform_python_implementation == 'CPython'",
        ),
        (
            "x ; (python_version < '3.8' or (sys_platform == 'win32' and implementation_name == \"pypy\")) and os_name != 'nt'",
            "x ; (python_version < '3.8' or (sys_platform == 'win32' and implementation_name == 'pypy')) and os_name != 'nt'",
        ),
        ("x ; 'linux' in sys_platform", "x ; 'linux' in sys_platform"),
        (
            "x[Extra_One , extra-two] ; python_full_version >= '3.8.1'",
            "x[extra-one,extra-two] ; python_full_version >= '3.8.1'",
        ),
        ("x ; python_version > '3.8.1'", "x ; python_version > '3.8.1'"),
    ];

    #[test]
    fn canonical_texts_and_keys_are_pinned() {
        for (input, want) in PINNED {
            assert_eq!(reqs(&[input])[0].canonical, *want, "{input}");
        }
        let i = interp("3.12.1", "/py/bin/python3.12");
        let all: Vec<&str> = PINNED.iter().map(|(input, _)| *input).collect();
        let key = compute(&i, &reqs(&all), &reqs(&["c<3"]), &Index::default());
        let mut want: Vec<&str> = PINNED.iter().map(|(_, canonical)| *canonical).collect();
        want.sort();
        want.dedup();
        let lines: Vec<String> = want.iter().map(|c| format!("requirement: {c}\n")).collect();
        let text = format!(
            "cove-env-v1\npython: cpython 3.12.1 /py/bin/python3.12\nplatform: {} {}\n{}constraint: c<3\n",
            std::env::consts::OS,
            std::env::consts::ARCH,
            lines.concat()
        );
        assert_eq!(key.canonical, text);
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(key.hex, "d6c3178aea72b75972d47062feee5d425390cfa18b28c3d817f1b742b838221f");
        }
    }

    #[test]
    fn constraints_are_keyed_apart_from_requirements() {
        let i = interp("3.12.1", "/py/bin/python3.12");
        let plain = compute(&i, &reqs(&["beta"]), &[], &Index::default());
        let bounded = compute(&i, &reqs(&["beta"]), &reqs(&["alpha==1.0"]), &Index::default());
        assert_ne!(plain, bounded);
        assert!(bounded.canonical.ends_with("requirement: beta\nconstraint: alpha==1.0\n"), "{}", bounded.canonical);
        assert_ne!(bounded, compute(&i, &reqs(&["beta", "alpha==1.0"]), &[], &Index::default()));
    }
}
