//! Find Python interpreters and know their facts without starting them.
//!
//! Facts (implementation, exact version, PEP 508 marker values) are learned once by running the
//! interpreter and cached under `$COVE_CACHE_DIR/interpreters/`, kept with the real file's
//! [`Stamp`]: an interpreter upgraded in place is probed again, so its new version gives a new
//! key, and the warm path never starts Python.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use pep440_rs::Version;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::inputs;
use crate::manifest::PythonConstraint;
use crate::stamp::Stamp;

/// PEP 508 marker values plus what cove needs to key an environment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Facts {
    pub implementation_name: String,
    pub implementation_version: String,
    pub os_name: String,
    pub platform_machine: String,
    pub platform_python_implementation: String,
    pub platform_release: String,
    pub platform_system: String,
    pub platform_version: String,
    pub python_full_version: String,
    pub python_version: String,
    pub sys_platform: String,
    /// Where the interpreter's own `ensurepip` takes pip's wheel from, in its order: the
    /// build's `WHEEL_PKG_DIR` (a distribution's shared wheels), then `ensurepip/_bundled` in
    /// its standard library. Learned from the interpreter rather than guessed from its path,
    /// so that a binary copied over another (upgraded in place) still finds its own pip
    /// (issue 18, finding 8). Not a marker value: no part of an environment's key.
    pub pip_wheel_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Interpreter {
    /// The real path (symlinks resolved).
    pub path: PathBuf,
    pub facts: Facts,
}

impl Interpreter {
    pub fn version(&self) -> Version {
        self.facts.python_full_version.parse().unwrap_or_else(|_| Version::new([0]))
    }

    /// "CPython 3.12.1"
    pub fn describe(&self) -> String {
        format!("{} {}", self.facts.platform_python_implementation, self.facts.python_full_version)
    }

    pub fn markers(&self) -> pep508_rs::MarkerEnvironment {
        let f = &self.facts;
        pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
            implementation_name: &f.implementation_name,
            implementation_version: &f.implementation_version,
            os_name: &f.os_name,
            platform_machine: &f.platform_machine,
            platform_python_implementation: &f.platform_python_implementation,
            platform_release: &f.platform_release,
            platform_system: &f.platform_system,
            platform_version: &f.platform_version,
            python_full_version: &f.python_full_version,
            python_version: &f.python_version,
            sys_platform: &f.sys_platform,
        })
        .expect("facts come from a real interpreter")
    }
}

const PROBE: &str = r#"
import os, sys, sysconfig
def fv(i):
    v = "%d.%d.%d" % (i.major, i.minor, i.micro)
    if i.releaselevel != "final":
        v += i.releaselevel[0] + str(i.serial)
    return v
def wheel_dirs():
    dirs = [sysconfig.get_config_var("WHEEL_PKG_DIR")]
    stdlib = sysconfig.get_path("stdlib")
    if stdlib:
        dirs.append(os.path.join(stdlib, "ensurepip", "_bundled"))
    return [d for d in dirs if d]
def q(v):
    if isinstance(v, list):
        return "[" + ", ".join(q(x) for x in v) + "]"
    out = []
    for c in v:
        if " " <= c <= "~" and c not in '"\\':
            out.append(c)
        else:
            b = c.encode("utf-16-be", "surrogatepass")
            out.extend("\\u%02x%02x" % (b[i], b[i + 1]) for i in range(0, len(b), 2))
    return '"' + "".join(out) + '"'
impl = getattr(sys, "implementation", None)
names = {"cpython": "CPython", "pypy": "PyPy"}
u = os.uname()
if impl and impl.name in names and sys.platform.startswith("linux"):
    # What `platform` gives, without its import (and that of `re`): a third of the probe.
    full = sys.version.split()[0]
    facts = (names[impl.name], u.machine, u.release, u.sysname, u.version, full)
else:
    import platform
    facts = (platform.python_implementation(), platform.machine(), platform.release(),
             platform.system(), platform.version(), platform.python_version())
sys.stdout.write("{" + ", ".join(q(k) + ": " + q(v) for k, v in [
    ("implementation_name", impl.name if impl else "cpython"),
    ("implementation_version", fv(impl.version) if impl else fv(sys.version_info)),
    ("os_name", os.name),
    ("platform_machine", facts[1]),
    ("platform_python_implementation", facts[0]),
    ("platform_release", facts[2]),
    ("platform_system", facts[3]),
    ("platform_version", facts[4]),
    ("python_full_version", facts[5]),
    ("python_version", "%d.%d" % sys.version_info[:2]),
    ("sys_platform", sys.platform),
    ("pip_wheel_dirs", wheel_dirs()),
]) + "}\n")
"#;

/// Facts as cached. Ones an older cove wrote, lacking a field, do not read: they are learned
/// again.
#[derive(Serialize, Deserialize)]
struct CachedFacts {
    path: PathBuf,
    stamp: Stamp,
    facts: Facts,
}

/// Facts about the interpreter at `path` (any path; symlinks are resolved).
pub fn inspect(cache_dir: &Path, path: &Path) -> Result<Interpreter> {
    let (real, stamp, file) = facts_file(cache_dir, path)?;
    if let Some(found) = read_cached(&real, stamp, &file) {
        return Ok(found);
    }
    let facts = probe(&real)?;
    let cached = CachedFacts { path: real.clone(), stamp, facts: facts.clone() };
    // Best effort: a read-only cache only costs a probe next time.
    let _ = crate::fsx::write_atomic(&file, serde_json::to_string(&cached).unwrap_or_default().as_bytes());
    Ok(Interpreter { path: real, facts })
}

/// The real path, its stamp and where its facts are cached.
fn facts_file(cache_dir: &Path, path: &Path) -> Result<(PathBuf, Stamp, PathBuf)> {
    // Nothing is read from or written to a cache others could write (see `cache`).
    crate::cache::Cache::new(cache_dir).check_private()?;
    let real = inputs::canonicalize(path).ctx("find interpreter", path)?;
    let meta = inputs::metadata(&real).ctx("read", &real)?;
    let digest = Sha256::digest(real.as_os_str().as_encoded_bytes());
    let facts = crate::cache::Bucket::INTERPRETERS.under(cache_dir);
    let file = facts.join(format!("{}.json", crate::digest::hex(&digest[..12])));
    Ok((real, Stamp::of(&meta), file))
}

fn read_cached(real: &Path, stamp: Stamp, file: &Path) -> Option<Interpreter> {
    let c = serde_json::from_slice::<CachedFacts>(&std::fs::read(file).ok()?).ok()?;
    (c.stamp == stamp && c.path == real).then(|| Interpreter { path: real.to_path_buf(), facts: c.facts })
}

fn probe(real: &Path) -> Result<Facts> {
    let mut cmd = crate::isolated::python(real);
    crate::isolated::isolate(&mut cmd);
    let out = cmd
        // No `site`: the facts do not depend on it, and importing it is half the probe's time.
        .args(["-S", "-c", PROBE])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn { program: real.to_path_buf(), source })?;
    if !out.status.success() {
        return Err(Error::NotAnInterpreter { path: real.to_path_buf(), status: out.status.to_string() });
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::NotAnInterpreter { path: real.to_path_buf(), status: format!("unexpected facts: {e}") })
}

/// Where interpreters are looked for, and how to tell a cove shim from a real program.
pub struct Finder<'a> {
    pub cache_dir: &'a Path,
    /// The running cove binary's file identity (device, inode), learned on first need: never
    /// chosen as an interpreter or pass-through target. Comparing identities costs nothing per
    /// PATH candidate beyond the stat that checks it is executable, where resolving each
    /// candidate's real path costs a readlink per path component.
    self_id: std::cell::OnceCell<Option<(u64, u64)>>,
    /// The shims folder: skipped when walking PATH.
    pub shims_dir: PathBuf,
    /// Whether an interpreter whose facts are not cached may be started to learn them. The shell
    /// hook turns this off: a prompt never starts Python.
    pub probe: bool,
    /// Set when facts were needed but not cached and `probe` was off: the choice made may not
    /// be the one a probing run would make.
    pub missed: std::cell::Cell<bool>,
}

impl<'a> Finder<'a> {
    pub fn new(cache_dir: &'a Path, shims_dir: PathBuf) -> Finder<'a> {
        Finder { cache_dir, self_id: Default::default(), shims_dir, probe: true, missed: std::cell::Cell::new(false) }
    }

    /// Facts about the interpreter at `path`: [`inspect`], or with `probe` off only the cached.
    pub fn inspect(&self, path: &Path) -> Result<Interpreter> {
        if self.probe {
            return inspect(self.cache_dir, path);
        }
        let (real, stamp, file) = facts_file(self.cache_dir, path)?;
        read_cached(&real, stamp, &file).ok_or_else(|| {
            self.missed.set(true);
            Error::FactsNotCached { path: real.to_path_buf() }
        })
    }

    /// Is `path` cove itself (a shim link, or the binary under another name)?
    pub fn is_cove(&self, path: &Path) -> bool {
        path.parent() == Some(self.shims_dir.as_path()) || inputs::metadata(path).is_ok_and(|m| self.is_self(&m))
    }

    /// Whether `meta` (of a path, links followed) is the running binary's file.
    fn is_self(&self, meta: &std::fs::Metadata) -> bool {
        let me = self.self_id.get_or_init(|| {
            // `/proc/self/exe` is the binary itself in one stat; elsewhere, its path.
            let meta =
                std::fs::metadata("/proc/self/exe").or_else(|_| std::env::current_exe().and_then(std::fs::metadata));
            meta.ok().map(|m| (m.dev(), m.ino()))
        });
        *me == Some((meta.dev(), meta.ino()))
    }

    /// Whether a PATH folder is cove's own: the shims, or the `bin` of an environment or layer
    /// in the cache (the hook puts the active one on PATH). Neither is ever an interpreter to
    /// build on or to pass through to, so what a project gets does not depend on which
    /// environment was active where `python` was typed (SPEC §2).
    /// A relative entry (`.`, `bin`) counts too: it names a folder of wherever `python` was
    /// typed, so a cloned checkout could put its own `python3` there to be probed before it is
    /// trusted (SPEC §5). Such folders are skipped, never started.
    fn is_cove_dir(&self, dir: &Path) -> bool {
        dir == self.shims_dir || dir.starts_with(self.cache_dir) || dir.is_relative()
    }

    /// Every executable named `name` on PATH, in order, skipping cove and its shims.
    pub fn on_path(&self, name: &str) -> Vec<PathBuf> {
        self.split_path(name).0
    }

    /// The executables named `name` on PATH that are not cove, and the PATH folders where
    /// `name` is cove: the shims folder, also when reached through a symlinked folder or named
    /// twice, and any other link to the cove binary. A pass-through takes all of the latter off
    /// PATH, so a program that looks `name` up again (pyenv's `system`) cannot come back.
    pub fn split_path(&self, name: &str) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let path = inputs::var_os("PATH").unwrap_or_default();
        let (mut found, mut cove) = (Vec::new(), Vec::new());
        for dir in std::env::split_paths(&path).filter(|d| !d.as_os_str().is_empty()) {
            let p = dir.join(name);
            if self.is_cove_dir(&dir) {
                cove.push(dir);
                continue;
            }
            match inputs::metadata(&p) {
                Ok(m) if is_executable_meta(&m) && self.is_self(&m) => cove.push(dir),
                Ok(m) if is_executable_meta(&m) => found.push(p),
                _ => {}
            }
        }
        (found, cove)
    }

    /// [`Finder::on_path`], lazily: one stat per folder tried, and none past the first a caller
    /// takes.
    pub fn path_candidates<'s>(&'s self, name: &'s str) -> impl Iterator<Item = PathBuf> + 's {
        let path = inputs::var_os("PATH").unwrap_or_default();
        let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        dirs.into_iter()
            .filter(|dir| !dir.as_os_str().is_empty() && !self.is_cove_dir(dir))
            .map(move |dir| dir.join(name))
            .filter(|p| inputs::metadata(p).is_ok_and(|m| is_executable_meta(&m) && !self.is_self(&m)))
    }

    /// The first `name` on PATH after the shims that really runs, with pyenv shims resolved to
    /// the interpreter they would run (and skipped when they would fail). An error when the
    /// version a pyenv shim would run is named outside pyenv's folder (`../…`).
    pub fn first_real(&self, name: &str) -> Result<Option<PathBuf>> {
        let mut pyenv_system = false;
        for candidate in self.path_candidates(name) {
            let Some(root) = pyenv_root_of_shim(&candidate) else { return Ok(Some(candidate)) };
            if pyenv_system {
                continue;
            }
            match pyenv_resolve(&root, name)? {
                PyenvTarget::Path(p) => return Ok(Some(p)),
                PyenvTarget::System => pyenv_system = true,
                PyenvTarget::Missing => {}
            }
        }
        Ok(None)
    }

    /// The first `python3` on PATH after the shims that is neither pyenv's shim nor one of its
    /// versions: what pyenv's `system` runs.
    fn first_real_system(&self) -> Option<PathBuf> {
        self.path_candidates("python3").find(|p| pyenv_root_of_shim(p).is_none() && !is_under_pyenv(p))
    }

    /// Every interpreter installed on this machine, highest version first, de-duplicated by
    /// real path.
    pub fn all(&self) -> Vec<Interpreter> {
        let mut paths: Vec<PathBuf> = Vec::new();
        for name in ["python3", "python"] {
            // A refused pyenv version adds nothing here; `first_real`'s callers say why.
            if let Ok(Some(p)) = self.first_real(name) {
                paths.push(p);
            }
        }
        paths.extend(self.on_path("python3").into_iter().filter(|p| pyenv_root_of_shim(p).is_none()));
        if let Some(root) = pyenv_root() {
            paths.extend(versioned_bins(&root.join("versions"), "bin/python3"));
        }
        for dir in uv_python_dirs() {
            paths.extend(versioned_bins(&dir, "bin/python3"));
        }
        for dir in ["/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"] {
            paths.extend(numbered_pythons(Path::new(dir)));
        }
        let mut seen = std::collections::HashSet::new();
        let mut found: Vec<Interpreter> = paths
            .into_iter()
            .filter_map(|p| inputs::canonicalize(&p).ok())
            .filter(|p| seen.insert(p.clone()) && !self.is_cove(p))
            .filter_map(|p| self.inspect(&p).ok())
            .collect();
        found.sort_by_key(|i| std::cmp::Reverse(i.version()));
        found
    }
}

/// A version request, as in `.python-version` or `COVE_PYTHON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Path(PathBuf),
    System,
    /// Implementation (lower case, empty for any) and version prefix components.
    Version {
        implementation: String,
        prefix: Vec<u64>,
    },
}

impl Request {
    pub fn parse(text: &str, base: &Path) -> Option<Request> {
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            return None;
        }
        if t.contains('/') {
            return Some(Request::Path(crate::settings::expand_home_from(t, base)));
        }
        if t == "system" {
            return Some(Request::System);
        }
        let lower = t.to_ascii_lowercase();
        let split = |i: usize| (lower[..i].trim_end_matches(['-', '@']).to_string(), &lower[i..]);
        let (implementation, rest) =
            lower.find(|c: char| c.is_ascii_digit()).map_or_else(|| (lower.clone(), ""), split);
        let implementation = match implementation.as_str() {
            "" | "python" | "cpython" | "py" => String::new(),
            other => other.to_string(),
        };
        let prefix: Option<Vec<u64>> = rest.split('.').filter(|s| !s.is_empty()).map(|s| s.parse().ok()).collect();
        Some(Request::Version { implementation, prefix: prefix? })
    }

    pub fn matches(&self, interp: &Interpreter) -> bool {
        match self {
            Request::Path(p) => inputs::canonicalize(p).is_ok_and(|r| r == interp.path),
            Request::System => !is_under_pyenv(&interp.path),
            Request::Version { implementation, prefix } => {
                let imp_ok = implementation.is_empty() || interp.facts.implementation_name == *implementation;
                let release = interp.version();
                let release = release.release();
                imp_ok && prefix.iter().enumerate().all(|(i, v)| release.get(i) == Some(v))
            }
        }
    }
}

/// How the interpreter was chosen, for `cove status`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub interpreter: Interpreter,
    pub reason: String,
    /// `.python-version` names an interpreter path that was left out because the project is not
    /// trusted (SPEC §5): once it is, the choice may differ.
    pub withheld: bool,
}

/// Choose the base interpreter (SPEC §2): the constraint bounds; the `python` setting, else
/// `.python-version`, picks; else the first `python3` after the shims when it satisfies; else the
/// highest installed interpreter that does. A path in `.python-version` is the project's own
/// program: it is used (and so probed) only when `trusted()` says the project is trusted.
pub fn choose(
    finder: &Finder,
    constraint: Option<&PythonConstraint>,
    setting: Option<&str>,
    project_dir: Option<&Path>,
    trusted: &dyn Fn() -> bool,
) -> Result<Choice> {
    let mut withheld: Option<String> = None;
    let mut requests: Vec<(Request, String, PathBuf)> = Vec::new();
    if let Some(s) = setting {
        let cwd = inputs::current_dir().unwrap_or_else(|_| "/".into());
        if let Some(r) = Request::parse(s, &cwd) {
            requests.push((r, format!("the python setting ({s})"), PathBuf::from("COVE_PYTHON")));
        }
    } else if let Some(dir) = project_dir {
        let file = dir.join(".python-version");
        if let Ok(bytes) = crate::fsx::read_manifest(&file) {
            for line in String::from_utf8_lossy(&bytes).lines() {
                match Request::parse(line, dir) {
                    Some(Request::Path(_)) if !trusted() => {
                        withheld.get_or_insert_with(|| line.trim().to_string());
                    }
                    Some(r) => requests.push((r, format!(".python-version ({})", line.trim()), file.clone())),
                    None => {}
                }
            }
        }
    }
    // With nothing pinned, the interpreter this project was last built on, while it is still
    // there and within the constraint: the same from every context, whatever PATH says there.
    let nothing_pins = requests.is_empty() && withheld.is_none();
    let remembered = project_dir
        .filter(|_| nothing_pins)
        .and_then(|dir| crate::cache::usage::recorded_python(finder.cache_dir, dir));
    let mut choice = choose_from(finder, constraint, requests, remembered.as_deref())?;
    if let Some(path) = withheld {
        choice
            .reason
            .push_str(&format!("; .python-version names the path {path}, not probed until the project is trusted"));
        choice.withheld = true;
    }
    Ok(choice)
}

fn choose_from(
    finder: &Finder,
    constraint: Option<&PythonConstraint>,
    requests: Vec<(Request, String, PathBuf)>,
    remembered: Option<&Path>,
) -> Result<Choice> {
    let allowed = |i: &Interpreter| constraint.is_none_or(|c| c.allows(&i.version()));
    if !requests.is_empty() {
        let mut all: Option<Vec<Interpreter>> = None;
        let mut matched_outside = Vec::new();
        for (req, reason, _) in &requests {
            let found: Vec<Interpreter> = match req {
                Request::Path(p) => finder.inspect(p).into_iter().collect(),
                Request::System => {
                    finder.first_real_system().and_then(|p| finder.inspect(&p).ok()).into_iter().collect()
                }
                Request::Version { .. } => {
                    all.get_or_insert_with(|| finder.all()).iter().filter(|i| req.matches(i)).cloned().collect()
                }
            };
            if let Some(i) = found.iter().find(|i| allowed(i)) {
                return Ok(chosen(i.clone(), reason));
            }
            matched_outside.extend(found);
        }
        let (_, reason, source) = &requests[0];
        let wanted = match constraint {
            Some(c) if !matched_outside.is_empty() => format!("{reason} within the constraint {:?}", c.text),
            Some(c) => format!("{reason} (constraint {:?})", c.text),
            None => reason.clone(),
        };
        let found = all.unwrap_or_else(|| finder.all());
        return Err(Error::NoInterpreter { wanted, source: Some(source.display().to_string()), found: list(&found) });
    }

    if let Some(p) = remembered
        && is_executable(p)
        && let Ok(i) = finder.inspect(p)
        && allowed(&i)
    {
        return Ok(chosen(i, "the one it was built on before (nothing pins it; `cove pin` changes it)"));
    }
    if let Some(p) = finder.first_real("python3")?
        && let Ok(i) = finder.inspect(&p)
        && allowed(&i)
    {
        return Ok(chosen(i, "the first python3 on PATH"));
    }
    let all = finder.all();
    if let Some(i) = all.iter().find(|i| allowed(i)) {
        return Ok(chosen(i.clone(), "the highest installed that satisfies the constraint"));
    }
    let (wanted, source) = match constraint {
        Some(c) => (format!("{:?}", c.text), Some(c.pos.to_string())),
        None => ("any version".into(), None),
    };
    Err(Error::NoInterpreter { wanted, source, found: list(&all) })
}

fn chosen(interpreter: Interpreter, reason: &str) -> Choice {
    Choice { interpreter, reason: reason.to_string(), withheld: false }
}

/// Interpreters as errors list them: `3.12.1 (/usr/bin/python3.12)`.
pub fn list<'i>(found: impl IntoIterator<Item = &'i Interpreter>) -> Vec<String> {
    found.into_iter().map(|i| format!("{} ({})", i.facts.python_full_version, i.path.display())).collect()
}

pub fn is_executable(p: &Path) -> bool {
    inputs::metadata(p).is_ok_and(|m| is_executable_meta(&m))
}

fn is_executable_meta(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.is_file() && m.permissions().mode() & 0o111 != 0
}

fn pyenv_root() -> Option<PathBuf> {
    let home = || inputs::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv"));
    let root = inputs::var_os("PYENV_ROOT").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(home);
    root.filter(|r| inputs::is_dir(&r.join("versions")))
}

fn is_under_pyenv(p: &Path) -> bool {
    pyenv_root().is_some_and(|r| p.starts_with(r))
}

/// If `p` is a pyenv shim, the pyenv root it belongs to.
fn pyenv_root_of_shim(p: &Path) -> Option<PathBuf> {
    let dir = p.parent()?;
    if dir.file_name()? != "shims" {
        return None;
    }
    let root = dir.parent()?;
    (inputs::is_dir(&root.join("versions")) && inputs::exists(&root.join("libexec/pyenv"))
        || inputs::exists(&root.join("bin/pyenv")))
    .then(|| root.to_path_buf())
}

enum PyenvTarget {
    Path(PathBuf),
    System,
    Missing,
}

/// What a pyenv shim named `name` would run: `PYENV_VERSION`, else the nearest
/// `.python-version`, else `$PYENV_ROOT/version` (pyenv's own order). A name that would reach
/// outside `versions/` is refused (see [`check_version_name`]), except that a path line in a
/// cove project's `.python-version` is cove's own (used once the project is trusted), which
/// pyenv ignores: so is it here.
fn pyenv_resolve(root: &Path, name: &str) -> Result<PyenvTarget> {
    // Each name with where it was read, for an error.
    let mut in_project = false;
    let names: Vec<(String, String)> = if let Some(v) =
        inputs::var_os("PYENV_VERSION").map(|v| v.to_string_lossy().into_owned()).filter(|v| !v.is_empty())
    {
        v.split(':').map(|n| (n.to_string(), "PYENV_VERSION".to_string())).collect()
    } else {
        let cwd = inputs::current_dir().unwrap_or_default();
        let file = cwd
            .ancestors()
            .map(|d| d.join(".python-version"))
            .find(|f| inputs::is_file(f))
            .unwrap_or_else(|| root.join("version"));
        in_project = file.parent().and_then(crate::plan::project::in_dir).is_some();
        match inputs::read_to_string(&file) {
            Ok(t) => t
                .lines()
                .enumerate()
                .flat_map(|(i, l)| {
                    let at = format!("{}:{}", file.display(), i + 1);
                    l.split_whitespace().map(move |w| (w.to_string(), at.clone()))
                })
                .filter(|(w, _)| !w.starts_with('#'))
                .collect(),
            Err(_) => vec![("system".into(), String::new())],
        }
    };
    for (v, source) in names {
        if v == "system" {
            return Ok(PyenvTarget::System);
        }
        if in_project && v.contains('/') {
            continue;
        }
        check_version_name(&v, &source)?;
        let exact = root.join("versions").join(&v).join("bin").join(name);
        if is_executable(&exact) {
            return Ok(PyenvTarget::Path(exact));
        }
        // pyenv ≥ 2.3 resolves a prefix such as "3.12" to the latest installed 3.12.x.
        let mut prefixed: Vec<PathBuf> = inputs::read_dir(&root.join("versions"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{v}.")))
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| is_executable(p))
            .collect();
        prefixed.sort_by_key(|p| version_of_dir(p));
        if let Some(p) = prefixed.pop() {
            return Ok(PyenvTarget::Path(p));
        }
    }
    Ok(PyenvTarget::Missing)
}

/// A version name is joined under an interpreter folder (`$PYENV_ROOT/versions/<name>`), so it
/// must not reach outside it: like pyenv, refuse one with `/`, `..` or NUL (SPEC §5).
/// `source` says where it was read (`file:line`, or the variable).
pub fn check_version_name(name: &str, source: &str) -> Result<()> {
    if name.is_empty() || name.contains('/') || name.contains("..") || name.contains('\0') {
        return Err(Error::BadVersionName { name: name.to_string(), source: source.to_string() });
    }
    Ok(())
}

fn version_of_dir(bin: &Path) -> Vec<u64> {
    bin.ancestors()
        .nth(2)
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().split('.').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default()
}

fn versioned_bins(dir: &Path, rel: &str) -> Vec<PathBuf> {
    inputs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(rel))
        .filter(|p| is_executable(p))
        .collect()
}

fn numbered_pythons(dir: &Path) -> Vec<PathBuf> {
    inputs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n == "python3"
                || n.strip_prefix("python3.").is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|e| e.path())
        .filter(|p| is_executable(p))
        .collect()
}

fn uv_python_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        inputs::var_os("UV_PYTHON_INSTALL_DIR").filter(|v| !v.is_empty()).map(PathBuf::from).into_iter().collect();
    // Where `directories` looks: noted, as it reads them itself.
    let _ = (inputs::var_os("XDG_DATA_HOME"), inputs::var_os("HOME"));
    dirs.extend(directories::BaseDirs::new().map(|d| d.data_dir().join("uv/python")));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_writes_json_for_any_text_and_the_facts_platform_gives() {
        let Some(python) = ["/usr/bin/python3", "/usr/local/bin/python3"].into_iter().find(|p| Path::new(p).exists())
        else {
            println!("SKIPPED: no python3 to run the probe");
            return;
        };
        let tricky = "a\"b\\c\u{1}\u{e9}\u{1F600}";
        let helpers = PROBE.split("impl = ").next().unwrap();
        let script = format!("{helpers}\nimport sys\nsys.stdout.write(q([sys.argv[1]]))\n");
        let out = std::process::Command::new(python).args(["-I", "-S", "-c", &script, tricky]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let back: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(back, [tricky], "{}", String::from_utf8_lossy(&out.stdout));
        assert!(out.stdout.is_ascii());
        // Without `platform`, the same facts as with it.
        let facts = probe(Path::new(python)).unwrap();
        let check = "import platform, sys; print(platform.python_implementation(), platform.machine(), \
                     platform.release(), platform.system(), platform.version(), platform.python_version(), sep='\\n')";
        let out = std::process::Command::new(python).args(["-I", "-c", check]).output().unwrap();
        let want = String::from_utf8(out.stdout).unwrap();
        let got = [
            &facts.platform_python_implementation,
            &facts.platform_machine,
            &facts.platform_release,
            &facts.platform_system,
            &facts.platform_version,
            &facts.python_full_version,
        ]
        .map(|s| s.as_str())
        .join("\n");
        assert_eq!(got.trim(), want.trim());
    }

    #[test]
    fn requests_parse_like_pyenv() {
        let b = Path::new("/p");
        assert_eq!(
            Request::parse("3.12", b),
            Some(Request::Version { implementation: "".into(), prefix: vec![3, 12] })
        );
        assert_eq!(
            Request::parse("pypy3.10", b),
            Some(Request::Version { implementation: "pypy".into(), prefix: vec![3, 10] })
        );
        assert_eq!(
            Request::parse("cpython-3.11.7", b),
            Some(Request::Version { implementation: "".into(), prefix: vec![3, 11, 7] })
        );
        assert_eq!(Request::parse("system", b), Some(Request::System));
        assert_eq!(Request::parse("./py/bin/python", b), Some(Request::Path("/p/./py/bin/python".into())));
        assert_eq!(Request::parse("# comment", b), None);
    }
}
