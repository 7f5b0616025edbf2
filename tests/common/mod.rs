//! Test harness: the real `cove` binary in a temp HOME with private cache, data and config
//! folders, a clean environment (no outer VIRTUAL_ENV, PIP_*, UV_*, PYTHON*), and an offline
//! wheelhouse of tiny wheels built by `tests/fixtures/make_wheels.py`.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub const COVE: &str = env!("CARGO_BIN_EXE_cove");

/// The real Python used to build wheels and as the default base interpreter.
pub fn system_python() -> PathBuf {
    match Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output() {
        Ok(out) if out.status.success() => PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        _ => panic!("the tests need a python3 on PATH"),
    }
}

/// The wheelhouse, built once per test binary.
pub fn wheelhouse() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cove-wheelhouse-{}", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_wheels.py");
        let st = Command::new(system_python()).arg(script).arg(&dir).status().expect("run make_wheels.py");
        assert!(st.success(), "building the wheelhouse failed");
        dir
    })
}

/// uv for the uv backend: `COVE_TEST_UV`, `.tools/uv/bin/uv` (what `.ci/run` installs), or PATH.
pub fn uv() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COVE_TEST_UV") {
        return Some(PathBuf::from(p));
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/uv/bin/uv");
    if local.is_file() {
        return Some(local);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("uv")).find(|p| p.is_file())
}

/// Whether uv is missing here (see [`uv`]); says SKIPPED when it is.
pub fn no_uv() -> bool {
    let missing = uv().is_none();
    if missing {
        eprintln!("SKIPPED: uv is not installed (run .ci/run, or set COVE_TEST_UV)");
    }
    missing
}

pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub home: PathBuf,
    pub cache: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
    /// PATH for commands: the shims (when made) first, then the outer PATH.
    pub base_path: String,
    pub backend: String,
}

impl TestEnv {
    /// A fresh environment using the uv backend when uv is installed (builds in ~0.1 s), else
    /// pip. Tests about one backend name it with [`TestEnv::with_backend`].
    pub fn new() -> TestEnv {
        TestEnv::with_backend(if uv().is_some() { "uv" } else { "pip" })
    }

    pub fn with_backend(backend: &str) -> TestEnv {
        let root = tempfile::Builder::new().prefix("cove-test-").tempdir().expect("tempdir");
        let home = root.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let base_path = std::env::var("PATH").unwrap_or_default();
        TestEnv {
            cache: root.path().join("cache"),
            data: root.path().join("data"),
            config: root.path().join("config.toml"),
            home,
            root,
            base_path,
            backend: backend.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn shims(&self) -> PathBuf {
        self.data.join("shims")
    }

    /// A project folder with `cove.toml` using the wheelhouse.
    pub fn project(&self, name: &str, deps: &[&str]) -> PathBuf {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.write_cove_toml(&dir, deps);
        dir
    }

    /// A folder `locked` with a `[project]` pyproject.toml named `locked` needing `deps` (TOML
    /// strings, comma-separated), with the wheelhouse as its index.
    pub fn locked_project(&self, deps: &str) -> PathBuf {
        let p = self.path().join("locked");
        std::fs::create_dir_all(&p).unwrap();
        let index = format!("find-links = [{:?}]\nno-index = true\n", wheelhouse().display().to_string());
        let text = format!(
            "[project]\nname = \"locked\"\nversion = \"1\"\ndependencies = [{deps}]\n[tool.cove.index]\n{index}"
        );
        std::fs::write(p.join("pyproject.toml"), text).unwrap();
        p
    }

    pub fn write_cove_toml(&self, dir: &Path, deps: &[&str]) {
        let list: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
        let text = format!(
            "dependencies = [{}]\n\n[index]\nfind-links = [{:?}]\nno-index = true\n",
            list.join(", "),
            wheelhouse().display().to_string()
        );
        std::fs::write(dir.join("cove.toml"), text).unwrap();
    }

    /// A command with the clean environment; `program` is looked up on the test PATH.
    pub fn cmd(&self, program: impl AsRef<OsStr>, cwd: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(cwd).env_clear().stdin(Stdio::null());
        for (k, v) in std::env::vars_os() {
            let k_s = k.to_string_lossy();
            let dropped = k_s.starts_with("PIP_")
                || k_s.starts_with("UV_")
                || k_s.starts_with("PYTHON")
                || k_s.starts_with("COVE_")
                || k_s.starts_with("__COVE")
                || k_s == "VIRTUAL_ENV"
                || k_s == "CONDA_PREFIX"
                || k_s == "HOME"
                || k_s == "PATH"
                || k_s.starts_with("XDG_");
            if !dropped {
                c.env(&k, &v);
            }
        }
        c.env("HOME", &self.home)
            .env("COVE_CACHE_DIR", &self.cache)
            .env("COVE_HOME", &self.data)
            .env("COVE_CONFIG", &self.config)
            .env("COVE_BACKEND", &self.backend)
            .env("PATH", format!("{}:{}", self.shims().display(), self.base_path));
        if let Some(uv) = uv() {
            c.env("COVE_UV", uv);
        }
        c
    }

    /// `cove ARGS…` in `cwd`.
    pub fn cove(&self, cwd: &Path, args: &[&str]) -> Output {
        self.cmd(COVE, cwd).args(args).output().expect("run cove")
    }

    /// Create the shims folder.
    pub fn shims_on(&self) {
        let out = self.cove(self.path(), &["shims"]);
        assert!(out.status.success(), "cove shims: {}", stderr(&out));
    }

    /// Run a shim (e.g. `python`) by name through PATH.
    pub fn shim(&self, name: &str, cwd: &Path, args: &[&str]) -> Output {
        self.shims_on();
        self.cmd(self.shims().join(name), cwd).args(args).output().expect("run shim")
    }

    pub fn trust(&self, dir: &Path) {
        let out = self.cove(dir, &["trust"]);
        assert!(out.status.success(), "cove trust: {}", stderr(&out));
    }

    /// `cove status --json` parsed.
    pub fn status(&self, dir: &Path) -> serde_json::Value {
        let out = self.cove(dir, &["status", "--json"]);
        assert!(out.status.success(), "cove status: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("status json")
    }

    pub fn envs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.cache.join("envs"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        v
    }
}

/// A uv.lock pinning alpha 1.0 (with `alpha_wheels`: a `wheels = […]` line, or nothing) for the
/// project whose `name`, `version` and `source` lines are `project`; the project needs alpha.
pub fn uv_lock_for(project: &str, alpha_wheels: &str) -> String {
    format!(
        "version = 1\nrequires-python = \">=3.8\"\n\n[[package]]\nname = \"alpha\"\nversion = \"1.0\"\n\
         source = {{ registry = \"https://pypi.org/simple\" }}\n{alpha_wheels}\n\
         [[package]]\n{project}dependencies = [{{ name = \"alpha\" }}]\n"
    )
}

/// [`uv_lock_for`] the virtual project of [`TestEnv::locked_project`].
pub fn uv_lock(alpha_wheels: &str) -> String {
    uv_lock_for("name = \"locked\"\nversion = \"1\"\nsource = { virtual = \".\" }\n", alpha_wheels)
}

/// The `wheels` line of a uv.lock package: one wheel at `url` with SHA-256 `hash`.
pub fn uv_lock_wheel(url: &str, hash: &str) -> String {
    format!("wheels = [{{ url = \"{url}\", hash = \"sha256:{hash}\" }}]\n")
}

/// A pylock.toml pinning alpha 1.0.
pub const PYLOCK: &str =
    "lock-version = \"1.0\"\ncreated-by = \"uv\"\n[[packages]]\nname = \"alpha\"\nversion = \"1.0\"\n";

/// Whether `script` (util-linux) can make a pseudo-terminal; says SKIPPED when it cannot.
pub fn have_script() -> bool {
    let have = Command::new("script").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("SKIPPED: `script` (util-linux) is not installed; cannot make a pseudo-terminal");
    }
    have
}

/// `inner` (a shell command line) run on a pseudo-terminal in `cwd`, typing `answer` after 300 ms.
pub fn on_terminal(t: &TestEnv, cwd: &Path, inner: &str, answer: &str) -> Output {
    use std::io::Write;
    let mut child = t
        .cmd("script", cwd)
        .args(["-qec", inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    stdin.write_all(answer.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// `lib/pythonX.Y/site-packages` of a venv.
pub fn site(venv: &Path) -> PathBuf {
    let lib = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("python"));
    lib.expect("lib/pythonX.Y").path().join("site-packages")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "failed ({:?})\nstdout:\n{}\nstderr:\n{}", o.status, stdout(o), stderr(o));
}

/// `o` succeeded and printed exactly `want` on stdout.
#[track_caller]
pub fn assert_stdout(o: &Output, want: &str) {
    assert_ok(o);
    assert_eq!(stdout(o), want);
}

/// A src-layout package project using the in-tree build backend (`tests/fixtures/tinybackend.py`):
/// `[project]` named `name` with `deps`, an extra `extra = ["gamma"]`, a console script
/// `<name>-hello`, and the wheelhouse as its index.
pub fn package_project(root: &Path, dir: &str, name: &str, version: &str, deps: &[&str]) -> PathBuf {
    let p = root.join(dir);
    std::fs::create_dir_all(p.join("_backend")).unwrap();
    std::fs::create_dir_all(p.join("src").join(name)).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tinybackend.py"),
        p.join("_backend/tinybackend.py"),
    )
    .unwrap();
    std::fs::write(p.join("src").join(name).join("__init__.py"), "def hello():\n    print('hello from', __name__)\n")
        .unwrap();
    write_package_pyproject(&p, name, version, deps, "");
    p
}

pub fn write_package_pyproject(p: &Path, name: &str, version: &str, deps: &[&str], extra_toml: &str) {
    let list: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
    let text = format!(
        "[build-system]\nrequires = []\nbuild-backend = \"tinybackend\"\nbackend-path = [\"_backend\"]\n\n[project]\nname = {name:?}\nversion = {version:?}\ndependencies = [{}]\n\n[project.optional-dependencies]\nextra = [\"gamma\"]\n\n[project.scripts]\n{name}-hello = \"{name}:hello\"\n\n[tool.cove.index]\nfind-links = [{:?}]\nno-index = true\n{extra_toml}",
        list.join(", "),
        wheelhouse().display().to_string()
    );
    std::fs::write(p.join("pyproject.toml"), text).unwrap();
}

/// Why this system's `/proc` cannot tell what process `pid` (a child of the test) uses, or
/// `None` when it can. `cove gc` reads `/proc/<pid>/{cwd,environ,exe,cmdline,maps}` to keep
/// what runs; a sandbox can hide them (another pid namespace's `/proc`, unreadable details).
pub fn proc_hides(pid: u32) -> Option<String> {
    let own = std::fs::read_link("/proc/self").ok().and_then(|p| p.to_str()?.parse::<u32>().ok());
    if own != Some(std::process::id()) {
        return Some(format!(
            "/proc/self is {own:?}, not this process ({}): /proc is another pid namespace's",
            std::process::id()
        ));
    }
    for detail in ["cwd", "exe"] {
        if let Err(e) = std::fs::read_link(format!("/proc/{pid}/{detail}")) {
            return Some(format!("/proc/{pid}/{detail} cannot be read here: {e}"));
        }
    }
    None
}
