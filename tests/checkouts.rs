//! Issue 22: a second checkout of a project copies the first checkout's layer, re-pointed at
//! its own folder, instead of running the installer and the build backend again — and builds
//! it as usual when anything in the copy is doubtful.

mod common;
use common::*;

use std::path::{Path, PathBuf};

/// Spoils the copy: given the first checkout and its layer.
type Spoiler = fn(&Path, &Path);

const SHOW: &str = "import mypkg, importlib.metadata as m; print(mypkg.__file__); print(m.version('mypkg'))";

/// Two equal checkouts, `x/proj` and `x/proj2` (one's name the start of the other's), both
/// trusted; `finder` maps the package through a setuptools-like finder module.
fn two_checkouts(t: &TestEnv, finder: bool) -> (PathBuf, PathBuf) {
    let root = t.path().join("x");
    let dirs = ["proj", "proj2"].map(|d| {
        let p = package_project(&root, d, "mypkg", "0.1.0", &["alpha==1.0"]);
        if finder {
            write_package_pyproject(&p, "mypkg", "0.1.0", &["alpha==1.0"], "\n[tool.tinybackend]\nfinder = true\n");
        }
        std::fs::write(p.join("src/mypkg/__init__.py"), "def hello():\n    print('hello from', __file__)\n").unwrap();
        t.trust(&p);
        p
    });
    let [a, b] = dirs;
    (a, b)
}

/// The layer a project uses, and its key.
fn layer_of(t: &TestEnv, p: &Path) -> (PathBuf, String) {
    let env = PathBuf::from(t.status(p)["env"].as_str().unwrap());
    assert!(env.starts_with(t.cache.join("layers")), "{}", env.display());
    let key = env.file_name().unwrap().to_string_lossy().into_owned();
    (env, key)
}

/// A `uv` that leaves a mark and fails: any installer run for the second checkout shows.
fn canary_uv(t: &TestEnv) -> (PathBuf, PathBuf) {
    let (uv, mark) = (t.path().join("canary-uv"), t.path().join("uv-ran"));
    std::fs::write(&uv, format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", mark.display())).unwrap();
    std::fs::set_permissions(&uv, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (uv, mark)
}

/// Every whole-path occurrence of `dir` in the text files under `tree`.
fn files_naming(tree: &Path, dir: &Path) -> Vec<PathBuf> {
    let pat = dir.display().to_string();
    let mut out = Vec::new();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let (path, kind) = (e.path(), e.file_type().unwrap());
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                let whole = text.match_indices(&pat).any(|(at, _)| {
                    let next = text[at + pat.len()..].chars().next();
                    !next.is_some_and(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                });
                if whole {
                    out.push(path);
                }
            }
        }
    }
    out
}

#[test]
fn a_second_checkout_copies_the_first_ones_layer_without_running_an_installer() {
    for (backend, finder) in [("uv", false), ("uv", true), ("pip", true)] {
        if backend == "uv" && no_uv() {
            continue;
        }
        let t = TestEnv::with_backend(backend);
        let (a, b) = two_checkouts(&t, finder);
        let first = t.shim("python", &a, &["-c", SHOW]);
        assert_ok(&first);
        assert_eq!(stdout(&first), format!("{}\n0.1.0\n", a.join("src/mypkg/__init__.py").display()));
        let (layer_a, _) = layer_of(&t, &a);

        t.shims_on();
        let (fake, mark) = canary_uv(&t);
        let run = |program: &str, args: &[&str]| {
            t.cmd(t.shims().join(program), &b).env("COVE_UV", &fake).args(args).output().unwrap()
        };
        let out = run("python", &["-c", SHOW]);
        assert_ok(&out);
        let case = format!("{backend}, finder {finder}");
        assert_eq!(stdout(&out), format!("{}\n0.1.0\n", b.join("src/mypkg/__init__.py").display()), "{case}");
        assert!(stderr(&out).contains("copied from the layer of"), "{case}: {}", stderr(&out));
        assert!(!mark.exists(), "{case}: an installer ran: {:?}", std::fs::read_to_string(&mark));
        let (layer_b, key_b) = layer_of(&t, &b);
        assert!(!t.cache.join("logs").join(format!("layer-{key_b}.log")).exists(), "{case}: no installer log");
        assert_ne!(layer_a, layer_b);
        assert_eq!(files_naming(&layer_b, &a), Vec::<PathBuf>::new(), "{case}: the first checkout is not named");
        assert_eq!(files_naming(&layer_b, &layer_a), Vec::<PathBuf>::new(), "{case}: nor the first layer");

        let hello = run("mypkg-hello", &[]);
        assert_ok(&hello);
        assert_eq!(stdout(&hello), format!("hello from {}\n", b.join("src/mypkg/__init__.py").display()), "{case}");
        // The first checkout still has its own layer, untouched.
        let again = t.shim("python", &a, &["-c", SHOW]);
        assert_eq!(stdout(&again), format!("{}\n0.1.0\n", a.join("src/mypkg/__init__.py").display()), "{case}");
        let out = t.cove(&b, &["sync"]);
        assert_ok(&out);
        assert!(!stderr(&out).contains("building"), "{case}: the copy is ready and whole: {}", stderr(&out));
    }
}

#[test]
fn a_doubtful_copy_is_not_made_and_the_layer_is_built() {
    // A module compiled in place in the first checkout only; the first layer naming its
    // checkout in a binary file.
    let spoilers: [(&str, Spoiler); 2] = [
        ("compiled module", |a, _| {
            std::fs::write(a.join("src/mypkg/_speed.cpython-311-x86_64-linux-gnu.so"), b"\x7fELF").unwrap()
        }),
        ("binary file", |a, layer| {
            let site = std::fs::read_dir(layer.join("lib")).unwrap().next().unwrap().unwrap().path();
            let mut blob = b"\xff\xfe\x00".to_vec();
            blob.extend_from_slice(a.display().to_string().as_bytes());
            std::fs::write(site.join("site-packages/blob.bin"), blob).unwrap();
        }),
    ];
    for (what, spoil) in spoilers {
        let t = TestEnv::new();
        let (a, b) = two_checkouts(&t, false);
        assert_ok(&t.shim("python", &a, &["-c", "import mypkg"]));
        spoil(&a, &layer_of(&t, &a).0);
        let out = t.shim("python", &b, &["-c", SHOW]);
        assert_ok(&out);
        assert_eq!(stdout(&out), format!("{}\n0.1.0\n", b.join("src/mypkg/__init__.py").display()), "{what}");
        assert!(stderr(&out).contains("in editable mode"), "{what}: built: {}", stderr(&out));
        assert!(!stderr(&out).contains("copied from"), "{what}: {}", stderr(&out));
        let (_, key_b) = layer_of(&t, &b);
        assert!(t.cache.join("logs").join(format!("layer-{key_b}.log")).exists(), "{what}: the installer ran");
    }
}

/// A `uv` that notes each run's `UV_CONCURRENT_DOWNLOADS` and arguments, then runs the real one.
fn noting_uv(t: &TestEnv, real: &Path) -> (PathBuf, PathBuf) {
    let (uv, notes) = (t.path().join("noting-uv"), t.path().join("uv-runs"));
    let script = format!(
        "#!/bin/sh\necho \"${{UV_CONCURRENT_DOWNLOADS:-unset}} $*\" >> '{}'\nexec '{}' \"$@\"\n",
        notes.display(),
        real.display()
    );
    std::fs::write(&uv, script).unwrap();
    std::fs::set_permissions(&uv, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (uv, notes)
}

#[test]
fn the_environment_built_beside_a_layer_downloads_a_dozen_at_a_time_unless_the_user_says() {
    // Two uv processes' bursts of name lookups at once made a resolver drop a reply, and the
    // layer's uv waited out a 5-second timeout on every cold build (bench/realworld's click).
    let Some(real) = uv() else {
        no_uv();
        return;
    };
    for (user, want) in [(None, "12"), (Some("3"), "3")] {
        let t = TestEnv::with_backend("uv");
        let p = package_project(t.path(), "proj", "mypkg", "0.1.0", &["alpha==1.0"]);
        t.trust(&p);
        let (fake, notes) = noting_uv(&t, &real);
        let mut sync = t.cmd(COVE, &p);
        sync.env("COVE_UV", &fake).arg("sync");
        if let Some(n) = user {
            sync.env("UV_CONCURRENT_DOWNLOADS", n);
        }
        assert_ok(&sync.output().unwrap());
        let runs = std::fs::read_to_string(&notes).unwrap();
        let install = runs.lines().find(|l| l.contains(" pip install ") && !l.contains(" -e ")).expect(&runs);
        assert!(install.starts_with(&format!("{want} ")), "user {user:?}: {runs}");
        let layer = runs.lines().find(|l| l.contains(" -e ") || l.contains(" sync ")).expect(&runs);
        assert!(layer.starts_with(&format!("{} ", user.unwrap_or("unset"))), "the layer's own: {runs}");
    }
}
