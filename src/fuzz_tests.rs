//! Property tests (issue 8, part 4): random bytes and near-valid input fed to every parser of
//! user files — `cove.toml`, `pyproject.toml`, `requirements.txt`, PEP 723 blocks, lock files,
//! requirement strings, Python constraints — and to the manifest editor. The properties: no
//! panic, and every error is `Error::Invalid` with a position inside the text (or a filesystem
//! error naming its path, for includes).
//!
//! Each test adds its number of cases to a figures file beside the test binaries
//! (`target/<profile>/cove-fuzz-figures/<test>`), which `tests/reliability.rs` adds to its
//! summary line. `COVE_FUZZ_CASES` sets the cases per test (default 3,000).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::error::Error;
use crate::manifest::{self, Reader};

fn cases() -> u32 {
    std::env::var("COVE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

/// Record `n` cases tried by test `name` for the reliability summary.
fn record(name: &str, n: usize) {
    let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent()?.parent().map(Path::to_path_buf)) else {
        return;
    };
    let dir = dir.join("cove-fuzz-figures");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(name), format!("{n}\n"));
}

/// Run `property` on `strategy`, counting cases; fail on the first counter-example (shrunk).
fn run<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let count = AtomicUsize::new(0);
    // A fixed seed by default, so CI sees the same cases every run; `COVE_FUZZ_SEED=random` (or
    // a number) explores further.
    let rng_seed = match std::env::var("COVE_FUZZ_SEED").ok().as_deref() {
        Some("random") => proptest::test_runner::RngSeed::Random,
        Some(n) => {
            n.parse().map_or(proptest::test_runner::RngSeed::Fixed(20261124), proptest::test_runner::RngSeed::Fixed)
        }
        None => proptest::test_runner::RngSeed::Fixed(20261124),
    };
    let mut runner =
        TestRunner::new(Config { cases: cases(), failure_persistence: None, rng_seed, ..Config::default() });
    let result = runner.run(&strategy, |v| {
        count.fetch_add(1, Ordering::Relaxed);
        property(v)
    });
    record(name, count.load(Ordering::Relaxed));
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// The property every parse result must have: success, or an error with a position inside
/// `text` (line 1 ..= its line count + 1, column ≥ 1), or a filesystem error.
fn check<T>(result: crate::error::Result<T>, file: &Path, text: &str) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(Error::Invalid { pos, message, .. }) => {
            prop_assert!(pos.line >= 1 && pos.column >= 1, "position {pos} of {message:?}");
            if pos.file == file {
                let lines = text.split('\n').count();
                prop_assert!(pos.line <= lines, "line {} of {} in {pos}: {message}", pos.line, lines);
            }
            Ok(())
        }
        Err(Error::Io { .. } | Error::NotAFile { .. }) => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("error without a position: {e:?}"))),
    }
}

/// A temp folder for a parser's file; includes are looked up in it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("other.txt"), "alpha==1.0\n-c cons.txt\n").unwrap();
        std::fs::write(dir.path().join("cons.txt"), "beta<2\n").unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        std::fs::write(
            dir.path().join("lib/pyproject.toml"),
            "[project]\nname = \"lib\"\ndependencies = [\"gamma\"]\n[project.optional-dependencies]\nx = [\"delta\"]\n",
        )
        .unwrap();
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Parse `bytes` as the manifest `name` with `parse`, never touching the disk for it.
    fn parse(
        &self,
        name: &str,
        bytes: &[u8],
        parse: fn(&Path, &mut Reader) -> crate::error::Result<manifest::Parsed>,
    ) -> Result<(), TestCaseError> {
        let path = self.path(name);
        let text = String::from_utf8_lossy(bytes).into_owned();
        let mut reader = Reader::new();
        match reader.insert(&path, bytes.to_vec()) {
            Ok(_) => check(parse(&path, &mut reader), &path, &text),
            Err(e) => check::<()>(Err(e), &path, &text),
        }
    }
}

// ---- generators ----

fn fragment(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(str::to_string)
}

/// Text made of `pieces` (and, now and then, random characters) with damage: a byte dropped,
/// a quote or bracket inserted, a line ending changed.
fn near(pieces: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![8 => fragment(pieces), 1 => "\\PC{0,8}", 1 => "[\"'\\[\\]{}=#\\\\\r\n\t ,;@<>!~.]{1,4}"];
    (proptest::collection::vec(piece, 0..max), proptest::collection::vec((any::<u16>(), 0u8..6), 0..4)).prop_map(
        |(parts, damage)| {
            let mut b: Vec<u8> = parts.concat().into_bytes();
            for (at, kind) in damage {
                if b.is_empty() {
                    break;
                }
                let i = at as usize % b.len();
                match kind {
                    0 => {
                        b.remove(i);
                    }
                    1 => b.insert(i, b'"'),
                    2 => b.insert(i, b'['),
                    3 => b.insert(i, b'\n'),
                    4 => {
                        b.splice(i..i, *b"\r\n");
                    }
                    _ => b.insert(i, 0xff),
                }
            }
            b
        },
    )
}

const TOML_PIECES: &[&str] = &[
    "dependencies = [",
    "\"alpha==1.0\"",
    "\"beta>=1,<2 ; python_version >= '3.8'\"",
    "\"gamma[x,y]\"",
    "\"bad >>= 1\"",
    ", ",
    "]\n",
    "python = \">=3.11\"\n",
    "python = \"3.12\"\n",
    "python = 3.11\n",
    "[index]\n",
    "url = \"https://example.org/simple\"\n",
    "find-links = [\"wheels\", \"../x\"]\n",
    "no-index = true\n",
    "extra-urls = []\n",
    "[project]\n",
    "name = \"demo\"\n",
    "version = \"1.0\"\n",
    "requires-python = \">=3.8\"\n",
    "dynamic = [\"dependencies\"]\n",
    "[project.optional-dependencies]\n",
    "test = [\"demo[x]\", \"delta\"]\n",
    "x = []\n",
    "[build-system]\n",
    "requires = []\n",
    "[dependency-groups]\n",
    "dev = [\"alpha\", {include-group = \"test\"}]\n",
    "test = [{include-group = \"dev\"}]\n",
    "Dev = []\n",
    "[tool.cove]\n",
    "groups = [\"dev\"]\n",
    "extras = [\"test\"]\n",
    "requirements = [\"other.txt\", \"missing.txt\"]\n",
    "install-project = false\n",
    "[tool.uv]\n",
    "default-groups = \"all\"\n",
    "[tool.cove.index]\n",
    "a.b.c = 1\n",
    "x = { y = [1, { z = \"",
    "'''\n",
    "\"\"\"",
    "\\u00e9",
    "# comment\n",
    "\u{feff}",
    "\n",
];

const REQ_PIECES: &[&str] = &[
    "alpha",
    "Beta_Pkg",
    "gamma.x",
    "a",
    "[",
    "]",
    "x,y",
    "extra",
    "==",
    ">=",
    "<",
    "~=",
    "!=",
    "===",
    "1.0",
    "2.*",
    "1.0a1",
    "1!2.0+local",
    ",",
    " ",
    ";",
    " and ",
    " or ",
    "python_version",
    "'3.8'",
    "\"3.8\"",
    "extra == 'T_x'",
    "os.name",
    "sys_platform",
    " in ",
    " not in ",
    "(",
    ")",
    "@",
    " https://e.org/p.whl",
    " file:///tmp/x",
    "#sha256=ab",
    "é",
    "\t",
    "\\",
];

const REQS_FILE_PIECES: &[&str] = &[
    "alpha==1.0\n",
    "beta ; python_version >= '3.8'\n",
    "-r other.txt\n",
    "-r missing.txt\n",
    "--requirement=other.txt\n",
    "-c cons.txt\n",
    "-e ./lib[x]\n",
    "-e lib\n",
    "./lib\n",
    "-e alpha\n",
    "--index-url https://e.org/simple\n",
    "-i\n",
    "--extra-index-url=https://x\n",
    "-f ./wheels\n",
    "--no-index\n",
    "--no-index=1\n",
    "--hash=sha256:abcd\n",
    "gamma==1 --hash=sha256:ab --hash sha256:cd\n",
    "delta --index-url x\n",
    "--pre\n",
    "--frobnicate\n",
    "https://e.org/pkg-1.0.tar.gz#egg=pkg\n",
    "pkg @ https://e.org/p.whl\n",
    "\\\n",
    "# comment \\\n",
    " # x\n",
    "'unclosed\n",
    "\"q\" \"r\"\n",
    "-r 'sp ace.txt'\n",
    "\r\n",
    "\n",
];

const SCRIPT_PIECES: &[&str] = &[
    "# /// script\n",
    "# ///\n",
    "# /// other\n",
    "# dependencies = [\n",
    "#   \"alpha==1.0\",\n",
    "#   \"bad >>= 2\",\n",
    "# ]\n",
    "# requires-python = \">=3.11\"\n",
    "# [tool.cove]\n",
    "# index = { url = \"https://e.org\" }\n",
    "# [tool.cove.index]\n",
    "# nope = 1\n",
    "#\n",
    "#x\n",
    "import alpha\n",
    "print(1)\n",
    "\r\n",
    "# /// script\r\n",
];

const LOCK_PIECES: &[&str] = &[
    "lock-version = \"1.0\"\n",
    "created-by = \"uv\"\n",
    "version = 1\n",
    "requires-python = \">=3.8\"\n",
    "[[packages]]\n",
    "[[package]]\n",
    "name = \"alpha\"\n",
    "version = \"1.0\"\n",
    "version = 1.0\n",
    "marker = \"python_version >= '3.8'\"\n",
    "marker = \"'dev' in dependency_groups\"\n",
    "marker = \"not valid ((\"\n",
    "source = { registry = \"https://pypi.org/simple\" }\n",
    "source = { editable = \".\" }\n",
    "dependencies = [{ name = \"beta\" }, { name = \"gamma\", marker = \"extra == 'x'\" }]\n",
    "[package.optional-dependencies]\n",
    "x = [{ name = \"delta\" }]\n",
    "[package.dev-dependencies]\n",
    "dev = [{ name = \"alpha\" }]\n",
    "default-groups = [\"dev\"]\n",
    "extras = [\"x\"]\n",
    "dependency-groups = [\"dev\"]\n",
    "\n",
];

fn facts() -> crate::plan::interpreter::Interpreter {
    let f = crate::plan::interpreter::Facts {
        implementation_name: "cpython".into(),
        implementation_version: "3.11.7".into(),
        os_name: "posix".into(),
        platform_machine: "x86_64".into(),
        platform_python_implementation: "CPython".into(),
        platform_release: "6.1".into(),
        platform_system: "Linux".into(),
        platform_version: "#1".into(),
        python_full_version: "3.11.7".into(),
        python_version: "3.11".into(),
        sys_platform: "linux".into(),
        pip_wheel_dirs: Vec::new(),
    };
    crate::plan::interpreter::Interpreter { path: "/usr/bin/python3.11".into(), facts: f }
}

/// A requirement shaped like a real one (name, extras, specifiers, marker), now and then with a
/// piece missing, doubled or out of place.
fn requirement_like() -> impl Strategy<Value = String> {
    const NAMES: &[&str] = &["alpha", "Beta_Pkg", "a", "gamma.x", "2x", " a", "", "a-", "b_."];
    const EXTRAS: &[&str] = &["", "[x]", "[x,y]", " [ X_y ] ", "[", "[x", "[]", "[x.]", "[x-", "[y,z_ ]"];
    const SPECS: &[&str] = &[
        "",
        ">=1.0",
        " >= 1.0 , < 2 ",
        "==1.*",
        "!=2.0.*",
        "(>=1,<2)",
        "<3 , >=1.7",
        "~=1.4.2",
        "===1.0",
        "==1!2.0+Local.7",
        "==1.0a1.post2.dev3",
        ">=v1.0",
        "<=01.02",
        "(>=1",
        ">=1)",
        ">=",
        " @ https://e.org/x.whl",
        "@file:///tmp/x.whl#sha256=ab;c",
    ];
    const SEPS: &[&str] = &[";", " ;", " ; ", ";;", "", " "];
    const ATOMS: &[&str] = &[
        "python_version >= '3.8'",
        "python_version>=\"3.13\"",
        "os.name=='nt'",
        "extra == 'T_x'",
        "'Docs.X' != extra",
        "'3.9' <= python_version",
        "python_version >= '3' or python_version < '3'",
        "platform_version == \"#1 'S'\"",
        "'linux' in sys_platform",
        "python_version not in '3.6 3.7'",
        "python_implementation == 'CPython'",
        "python_full_version ~= '3.8.1'",
        "'a' == 'b'",
        "",
    ];
    const JOINS: &[&str] = &[" and ", " or ", "and", ")or (", " ", ";", ")", "(", "'", "@", "#", "=="];
    let join = prop_oneof![8 => fragment(&JOINS[..2]), 1 => fragment(JOINS)];
    let marker =
        (proptest::collection::vec((fragment(ATOMS), join), 1..4), any::<bool>()).prop_map(|(parts, paren)| {
            let last = parts.len() - 1;
            let inner: String =
                parts.into_iter().enumerate().map(|(i, (a, j))| if i < last { a + &j } else { a }).collect();
            if paren { format!("({inner})") } else { inner }
        });
    (fragment(NAMES), fragment(EXTRAS), fragment(SPECS), fragment(SEPS), marker)
        .prop_map(|(name, extras, specs, sep, marker)| format!("{name}{extras}{specs}{sep}{marker}"))
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), "\\PC{0,120}".prop_map(String::into_bytes)]
}

// ---- the properties ----

#[test]
fn cove_toml_never_panics_and_errors_have_positions() {
    let s = Scratch::new();
    let input = prop_oneof![1 => bytes(), 3 => near(TOML_PIECES, 16)];
    run("cove_toml", input, |b| s.parse("cove.toml", &b, manifest::cove_toml::parse));
}

#[test]
fn pyproject_never_panics_and_errors_have_positions() {
    let s = Scratch::new();
    let input = prop_oneof![1 => bytes(), 3 => near(TOML_PIECES, 20)];
    run("pyproject", input, |b| s.parse("pyproject.toml", &b, manifest::pyproject::parse));
}

#[test]
fn requirements_files_never_panic_and_errors_have_positions() {
    let s = Scratch::new();
    let input = prop_oneof![1 => bytes(), 3 => near(REQS_FILE_PIECES, 12)];
    run("requirements_txt", input, |b| s.parse("requirements.txt", &b, manifest::requirements_txt::parse_root));
}

#[test]
fn script_blocks_never_panic_and_errors_have_positions() {
    let s = Scratch::new();
    let input = prop_oneof![1 => bytes(), 3 => near(SCRIPT_PIECES, 14)];
    run("script", input, |b| s.parse("script.py", &b, manifest::script::parse));
}

#[test]
fn requirement_strings_and_constraints_never_panic() {
    let file = Path::new("/p/cove.toml");
    let pos = crate::error::Pos { file: file.to_path_buf(), line: 1, column: 1 };
    let input = prop_oneof![1 => "\\PC{0,60}", 4 => proptest::collection::vec(fragment(REQ_PIECES), 0..14).prop_map(|v| v.concat())];
    run("requirement", input, |text| {
        let r = crate::manifest::requirement::Requirement::parse(&text, &pos, Path::new("/p"));
        if let Ok(r) = &r {
            // The canonical form is what the installer gets: it must parse again, to itself.
            let again = crate::manifest::requirement::Requirement::parse(&r.canonical, &pos, Path::new("/p"));
            prop_assert!(again.as_ref().is_ok_and(|a| a.canonical == r.canonical), "{text:?} → {r:?} → {again:?}");
            let _ = r.applies(&facts().markers());
            let _ = r.allows_version("1.0");
        }
        check(r, file, &text)?;
        check(manifest::PythonConstraint::parse(&text, pos.clone()), file, &text)
    });
}

/// `parse_pep508` reads a requirement with a marker in two parts, the marker's tree remembered
/// (issue #9), and spells plain versions itself: both must give exactly what `pep508_rs` gives
/// for the whole string, error or not, and its `Display`.
#[test]
fn requirements_read_in_two_parts_as_in_one() {
    let input = prop_oneof![
        1 => proptest::collection::vec(fragment(REQ_PIECES), 0..14).prop_map(|v| v.concat()),
        4 => requirement_like(),
    ];
    run("requirement_in_two", input, |text| {
        let base = Path::new("/p");
        // The guards run first either way, and keep `pep508_rs` from panicking on the rest, but
        // for a non-ASCII character right after a marker expression (`x; os_name == 'nt' é`):
        // `pep508_rs` 0.9 panics on that either way (slicing by a count of characters).
        let marker_non_ascii = text.split_once(';').is_some_and(|(_, m)| !m.is_ascii());
        let guarded = crate::manifest::requirement::guard(&text).map_err(|e| (e.offset, e.message));
        let fully = crate::manifest::requirement::guard_fully(&text).map_err(|e| (e.offset, e.message));
        prop_assert_eq!(&guarded, &fully, "the guards' shortcut, on {:?}", text);
        if guarded.is_err() || marker_non_ascii {
            return Ok(());
        }
        let fast = crate::manifest::requirement::parse_pep508(&text, base);
        let whole = crate::manifest::requirement::parse_whole(&text, base);
        let (fast, whole) = match (fast, whole) {
            (Ok(fast), Ok(whole)) => (fast, whole),
            (Err(f), Err(w)) => {
                prop_assert_eq!((f.offset, f.message), (w.offset, w.message), "{:?}", text);
                return Ok(());
            }
            (fast, whole) => return Err(TestCaseError::fail(format!("{text:?}: {fast:?} in two, whole: {whole:?}"))),
        };
        prop_assert_eq!(&fast, &whole, "{:?}", text);
        if let Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) = &fast.version_or_url {
            for spec in specs.iter() {
                let mut spelled = String::new();
                crate::manifest::requirement::push_specifier(&mut spelled, spec);
                prop_assert_eq!(spelled, spec.to_string());
            }
        }
        Ok(())
    });
}

/// A requirements file's line that `is_plain` takes for a requirement alone splits into words
/// with no option among them and no unclosed quote, as the full splitting finds.
#[test]
fn plain_lines_have_no_options_and_no_open_quotes() {
    use crate::manifest::requirements_txt::{is_plain, tokens};
    let input = prop_oneof![
        3 => "[a-z0-9 \t\u{a0}\u{0b}'\"\\\\=;<>.-]{0,16}",
        1 => proptest::collection::vec(fragment(REQ_PIECES), 0..10).prop_map(|v| v.concat()),
    ];
    run("plain_line", input, |text| {
        if is_plain(&text) {
            let words = tokens(&text, 0, text.len());
            prop_assert!(
                words.as_ref().is_ok_and(|w| !w.iter().any(|t| t.text.starts_with('-'))),
                "{text:?}: {words:?}"
            );
        }
        Ok(())
    });
}

#[test]
fn lock_files_never_panic_and_errors_have_positions() {
    let env = facts().markers();
    let path = Path::new("/p/uv.lock");
    let input = prop_oneof![1 => bytes(), 4 => near(LOCK_PIECES, 18)];
    run("locks", input, |b| {
        let text = String::from_utf8_lossy(&b).into_owned();
        let sel = manifest::locks::Selection {
            project: Some("demo".into()),
            extras: vec!["x".into()],
            groups: Some(vec!["dev".into()]),
        };
        for kind in [manifest::locks::Kind::UvLock, manifest::locks::Kind::Pylock] {
            check(manifest::locks::load(path, kind, &text, &sel, &env), path, &text)?;
        }
        Ok(())
    });
}

#[test]
fn the_manifest_editor_never_panics_and_keeps_valid_toml() {
    use manifest::edit::{NewReq, Target};
    let path = Path::new("/p/pyproject.toml");
    let input = (near(TOML_PIECES, 14), 0u8..4, fragment(&["alpha==2.0", "Beta", "new-pkg>=1", "gamma[x]"]));
    run("edit", input, |(b, target, req)| {
        let text = String::from_utf8_lossy(&b).into_owned();
        let target = match target {
            0 => Target::Main,
            1 => Target::Group("dev".into()),
            2 => Target::Optional("test".into()),
            _ => Target::Group("Dev".into()),
        };
        let new = [NewReq { name: manifest::edit::name_of(&req), text: req.clone() }];
        for kind in [crate::plan::project::Kind::Pyproject, crate::plan::project::Kind::CoveToml] {
            if let Ok(out) = manifest::edit::add_toml(path, &text, kind, &target, &new) {
                prop_assert!(out.parse::<toml_edit::DocumentMut>().is_ok(), "edit broke the TOML:\n{out}");
                let _ = manifest::edit::remove_toml(path, &out, kind, &target, &[new[0].name.clone()]);
            }
        }
        let _ = manifest::edit::remove_lines(path, &text, &["alpha".into()]);
        let _ = manifest::edit::add_lines(&text, &new);
        Ok(())
    });
}
