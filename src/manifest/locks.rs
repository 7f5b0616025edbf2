//! Lock files (SPEC §2): `pylock.toml` (PEP 751) and `uv.lock` in the project folder. The
//! environment gets exactly the versions they lock for the chosen extras and groups on this
//! interpreter and platform; the key is made from those pins. cove writes a lock only when
//! asked (`cove lock`, see `commands::lock`).
//!
//! Reading a lock needs no process: markers are evaluated with the interpreter's cached facts.
//! PEP 751's `extras` / `dependency_groups` marker variables are mapped onto PEP 508's `extra`
//! (`'dev' in dependency_groups` → `extra == 'cove-group-dev'`) so `pep508_rs` evaluates them.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerEnvironment, MarkerTree};
use toml_edit::{Item, Table};

use crate::error::{Error, IoContext, Pos, Result};
use crate::manifest::requirement::{Requirement, normalise_name};
use crate::stamp::Stamp;
use crate::tomlx::Doc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pylock,
    UvLock,
}

/// What the manifest selects.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The project's own name (PEP 503), if it has one.
    pub project: Option<String>,
    pub extras: Vec<String>,
    /// The groups chosen explicitly (`None`: the lock's defaults for pylock, `dev` for uv).
    pub groups: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Lock {
    /// `name==version`, sorted.
    pub pins: Vec<Requirement>,
    /// The files the lock names for those pins, one entry per pin: `None` unless every pin has
    /// at least one file with a URL and a SHA-256 (see [`Files`]).
    pub files: Option<Vec<Files>>,
    /// The command that refreshes this lock.
    pub refresh: String,
}

/// One locked package's files (wheels and source distribution), each a URL with its SHA-256:
/// what an installer can fetch and check without asking an index (cove issue 22). The hashes are
/// part of the environment's key (`plan::key`), so an environment is shared only by locks that
/// name the same files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub name: String,
    pub version: String,
    pub wheels: Vec<Artifact>,
    pub sdist: Option<Artifact>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub url: String,
    /// Lower-case hex.
    pub sha256: String,
}

impl Files {
    /// Every file's hash, the wheels' first.
    pub fn hashes(&self) -> impl Iterator<Item = &str> {
        self.wheels.iter().chain(&self.sdist).map(|a| a.sha256.as_str())
    }
}

/// What one package of a lock says: its name, version and files (`None`: none usable).
type Locked = (String, String, Option<(Vec<Artifact>, Option<Artifact>)>);

/// The lock file in `dir`, if any (`pylock.toml` first).
pub fn find(dir: &Path) -> Option<(PathBuf, Kind)> {
    let pylock = dir.join("pylock.toml");
    if crate::inputs::is_file(&pylock) {
        return Some((pylock, Kind::Pylock));
    }
    let uv = dir.join("uv.lock");
    crate::inputs::is_file(&uv).then_some((uv, Kind::UvLock))
}

/// Read the pins that apply from the lock at `path`.
pub fn load(path: &Path, kind: Kind, text: &str, sel: &Selection, env: &MarkerEnvironment) -> Result<Lock> {
    let doc = Doc::parse(path, text)?;
    let (mut pins, refresh) = match kind {
        Kind::Pylock => pylock(&doc, sel, env)?,
        Kind::UvLock => (uv_lock(&doc, sel, env)?, "uv lock".to_string()),
    };
    let pos = Pos { file: path.to_path_buf(), line: 1, column: 1 };
    let dir = path.parent().unwrap_or(Path::new("/"));
    pins.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    pins.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut reqs: Vec<Requirement> = pins
        .iter()
        .map(|(name, version, _)| Requirement::parse(&format!("{name}=={version}"), &pos, dir))
        .collect::<Result<_>>()?;
    crate::manifest::requirement::normalise_set(&mut reqs);
    let files = (reqs.len() == pins.len())
        .then(|| {
            pins.into_iter()
                .map(|(name, version, files)| files.map(|(wheels, sdist)| Files { name, version, wheels, sdist }))
                .collect::<Option<Vec<_>>>()
        })
        .flatten();
    Ok(Lock { pins: reqs, files, refresh })
}

/// The files of a package table (`wheels`, `sdist`): each `{ url, hash = "sha256:…" }` (uv.lock)
/// or `{ url, hashes = { sha256 = "…" } }` (PEP 751). `None` when it names none with both a URL
/// (http, https or file, no spaces or control characters) and a SHA-256: such a package is
/// installed by its pin.
fn artifacts(t: &Table) -> Option<(Vec<Artifact>, Option<Artifact>)> {
    fn one(t: &dyn toml_edit::TableLike) -> Option<Artifact> {
        let url = t.get("url")?.as_str()?;
        let sane = ["https://", "http://", "file://"].iter().any(|s| url.starts_with(s))
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        let sha = match t.get("hash").and_then(Item::as_str) {
            Some(h) => h.strip_prefix("sha256:")?,
            None => t.get("hashes")?.as_table_like()?.get("sha256")?.as_str()?,
        };
        let hex = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        (sane && hex).then(|| Artifact { url: url.to_string(), sha256: sha.to_ascii_lowercase() })
    }
    let wheels: Vec<Artifact> = match t.get("wheels") {
        Some(Item::Value(toml_edit::Value::Array(a))) => {
            a.iter().filter_map(|v| v.as_inline_table().and_then(|t| one(t))).collect()
        }
        Some(Item::ArrayOfTables(a)) => a.iter().filter_map(|t| one(t)).collect(),
        _ => Vec::new(),
    };
    let sdist = t.get("sdist").and_then(Item::as_table_like).and_then(one);
    (!wheels.is_empty() || sdist.is_some()).then_some((wheels, sdist))
}

/// Why the lock no longer matches the manifest: the first requirement (that applies here)
/// whose name it lacks or whose locked version is outside the requirement's range.
pub fn stale(lock: &Lock, requirements: &[Requirement], env: &MarkerEnvironment) -> Option<String> {
    let locked: BTreeMap<&str, &str> = lock.pins.iter().filter_map(|p| p.canonical.split_once("==")).collect();
    for r in requirements {
        if r.name.is_empty() || !r.applies(env) {
            continue;
        }
        let Some(version) = locked.get(r.name.as_str()) else { return Some(format!("{} is not in it", r.canonical)) };
        if !r.allows_version(version) {
            return Some(format!("it locks {} {version}, outside {}", r.name, r.canonical));
        }
    }
    None
}

fn pylock(doc: &Doc, sel: &Selection, env: &MarkerEnvironment) -> Result<(Vec<Locked>, String)> {
    let root = doc.root();
    let groups = match (&sel.groups, root.get("default-groups")) {
        (Some(g), _) => g.clone(),
        (None, Some(i)) => doc.strings(i, "default-groups")?.into_iter().map(|(s, _)| s).collect(),
        (None, None) => Vec::new(),
    };
    let created_by = root.get("created-by").map(|i| doc.string(i, "created-by")).transpose()?;
    let created_by = created_by.unwrap_or_else(|| "the tool that made it".into());
    let refresh = match created_by.as_str() {
        "cove" => "cove lock".to_string(),
        "uv" => "uv export --format pylock.toml -o pylock.toml".to_string(),
        "pdm" => "pdm export -f pylock -o pylock.toml".to_string(),
        other => format!("{other} (re-create pylock.toml)"),
    };
    let active = active_extras(&sel.extras, &groups);
    let mut pins = Vec::new();
    let Some(packages) = root.get("packages") else { return Ok((pins, refresh)) };
    let packages =
        packages.as_array_of_tables().ok_or_else(|| doc.type_error(packages, "packages", "an array of tables"))?;
    for p in packages.iter() {
        let name = field(doc, p, "name")?;
        let Some(version) = p.get("version").map(|v| doc.string(v, "packages.version")).transpose()? else {
            continue; // a direct URL or path package without a version: nothing to pin
        };
        if let Some(m) = p.get("marker") {
            let text = doc.string(m, "packages.marker")?;
            if !marker_holds(doc, m, &text, env, &active)? {
                continue;
            }
        }
        pins.push((normalise_name(&name), version, artifacts(p)));
    }
    Ok((pins, refresh))
}

fn uv_lock(doc: &Doc, sel: &Selection, env: &MarkerEnvironment) -> Result<Vec<Locked>> {
    let root = doc.root();
    let Some(packages) = root.get("package") else { return Ok(Vec::new()) };
    let packages =
        packages.as_array_of_tables().ok_or_else(|| doc.type_error(packages, "package", "an array of tables"))?;
    let all: Vec<&Table> = packages.iter().collect();
    let is_root = |t: &Table| {
        t.get("source").and_then(Item::as_table_like).is_some_and(|s| {
            s.get("editable").or_else(|| s.get("virtual")).and_then(Item::as_str).is_some_and(|p| p == ".")
        })
    };
    let root_pkg = all
        .iter()
        .find(|t| is_root(t))
        .or_else(|| {
            sel.project.as_ref().and_then(|n| {
                all.iter().find(|t| t.get("name").and_then(Item::as_str).is_some_and(|x| normalise_name(x) == *n))
            })
        })
        .copied()
        .ok_or_else(|| {
            Error::invalid(doc.pos(None), "uv.lock has no package for this project (source `editable = \".\"`)")
                .with_hint("run `uv lock` in the project folder")
        })?;
    let root_name = normalise_name(&field(doc, root_pkg, "name")?);

    // Work list of (package name, optional version, extras asked) starting at the root.
    let mut queue: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
    let push_deps = |queue: &mut Vec<(String, Option<String>, Vec<String>)>, item: Option<&Item>| -> Result<()> {
        let Some(item) = item else { return Ok(()) };
        let Some(array) = item.as_array() else { return Ok(()) };
        for dep in array.iter() {
            let Some(t) = dep.as_inline_table() else { continue };
            let name = t.get("name").and_then(|v| v.as_str()).unwrap_or_default();
            if let Some(m) = t.get("marker").and_then(|v| v.as_str()) {
                crate::manifest::requirement::guard_marker_size(m).map_err(|e| {
                    Error::invalid(
                        doc.pos(t.get("marker").and_then(|v| v.span())),
                        format!("invalid marker: {}", e.message),
                    )
                    .with_hint("the lock file looks damaged; refresh it")
                })?;
                if !MarkerTree::from_str(m).map(|tree| tree.evaluate(env, &[])).unwrap_or(true) {
                    continue;
                }
            }
            let version = t.get("version").and_then(|v| v.as_str()).map(str::to_string);
            let extras = t
                .get("extra")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(normalise_name)).collect())
                .unwrap_or_default();
            queue.push((normalise_name(name), version, extras));
        }
        Ok(())
    };
    push_deps(&mut queue, root_pkg.get("dependencies"))?;
    if let Some(opt) = root_pkg.get("optional-dependencies").and_then(Item::as_table_like) {
        for x in &sel.extras {
            push_deps(&mut queue, opt.get(x))?;
        }
    }
    let groups = sel.groups.clone().unwrap_or_else(|| vec!["dev".into()]);
    if let Some(dev) = root_pkg.get("dev-dependencies").and_then(Item::as_table_like) {
        for g in &groups {
            push_deps(&mut queue, dev.get(g))?;
        }
    }
    let mut seen: HashSet<(String, String, Vec<String>)> = HashSet::new();
    let mut pins: BTreeMap<String, (String, &Table)> = BTreeMap::new();
    while let Some((name, version, extras)) = queue.pop() {
        if name == root_name {
            continue; // a group naming the project itself: its extras are already selected
        }
        let pkg = all.iter().find(|t| {
            t.get("name").and_then(Item::as_str).is_some_and(|n| normalise_name(n) == name)
                && version.as_ref().is_none_or(|v| t.get("version").and_then(Item::as_str) == Some(v.as_str()))
        });
        let Some(pkg) = pkg else {
            return Err(Error::invalid(doc.pos(None), format!("uv.lock names {name} but has no package for it"))
                .with_hint("run `uv lock` to refresh it"));
        };
        let v = field(doc, pkg, "version").unwrap_or_default();
        if !seen.insert((name.clone(), v.clone(), extras.clone())) {
            continue;
        }
        if !v.is_empty() {
            pins.insert(name.clone(), (v, *pkg));
        }
        push_deps(&mut queue, pkg.get("dependencies"))?;
        if let Some(opt) = pkg.get("optional-dependencies").and_then(Item::as_table_like) {
            for x in &extras {
                push_deps(&mut queue, opt.get(x))?;
            }
        }
    }
    Ok(pins.into_iter().map(|(name, (version, pkg))| (name, version, artifacts(pkg))).collect())
}

fn field(doc: &Doc, t: &Table, key: &str) -> Result<String> {
    match t.get(key) {
        Some(i) => doc.string(i, key),
        None => Err(Error::invalid(doc.pos(t.span()), format!("a package without `{key}`"))
            .with_hint("the lock file looks damaged; refresh it")),
    }
}

fn active_extras(extras: &[String], groups: &[String]) -> Vec<ExtraName> {
    extras
        .iter()
        .map(|x| format!("cove-extra-{}", normalise_name(x)))
        .chain(groups.iter().map(|g| format!("cove-group-{}", normalise_name(g))))
        .filter_map(|s| ExtraName::from_str(&s).ok())
        .collect()
}

fn marker_holds(doc: &Doc, item: &Item, text: &str, env: &MarkerEnvironment, active: &[ExtraName]) -> Result<bool> {
    let mapped = map_pep751_variables(text);
    crate::manifest::requirement::guard_marker_size(&mapped)
        .map_err(|e| doc.error(item, format!("invalid marker: {}", e.message)))?;
    let tree = MarkerTree::from_str(&mapped)
        .map_err(|e| doc.error(item, format!("invalid marker {text:?}: {}", e.message)))?;
    Ok(tree.evaluate(env, active))
}

/// `'x' in extras` → `extra == 'cove-extra-x'`; `'g' not in dependency_groups` →
/// `extra != 'cove-group-g'`.
fn map_pep751_variables(marker: &str) -> String {
    let mut out = String::with_capacity(marker.len());
    let mut rest = marker;
    while let Some(q) = rest.find(['\'', '"']) {
        let quote = rest.as_bytes()[q] as char;
        let Some(end) = rest[q + 1..].find(quote).map(|e| q + 1 + e) else { break };
        let literal = &rest[q + 1..end];
        let Some((negated, var, tail)) = membership(rest[end + 1..].trim_start()) else {
            out.push_str(&rest[..=end]);
            rest = &rest[end + 1..];
            continue;
        };
        out.push_str(&rest[..q]);
        let op = if negated { "!=" } else { "==" };
        out.push_str(&format!("extra {op} 'cove-{var}-{}'", normalise_name(literal)));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// What follows a quoted literal, when it is `in` or `not in` then `extras` or
/// `dependency_groups`: whether negated, `extra` or `group`, and the text after.
fn membership(after: &str) -> Option<(bool, &'static str, &str)> {
    let (negated, after) = match after.strip_prefix("not in") {
        Some(a) => (true, a),
        None => (false, after.strip_prefix("in")?),
    };
    let after = after.trim_start();
    match after.strip_prefix("dependency_groups") {
        Some(t) => Some((negated, "group", t)),
        None => Some((negated, "extra", after.strip_prefix("extras")?)),
    }
}

/// What the lock file means for a build.
#[derive(Debug, Clone)]
pub enum Use {
    /// Install exactly these pins (from these files, when the lock names them all).
    Pins { path: PathBuf, pins: Vec<Requirement>, files: Option<Vec<Files>> },
    /// The lock no longer matches the manifest: build from the manifest and say this.
    Stale(crate::error::StaleLock),
}

/// The lock file's meaning for `manifest` on `interp`, remembered in the cache against the lock
/// file's [`Stamp`], the manifest's digest and the interpreter, so a plan made again (the plan
/// memo's inputs changed, or a command) costs a stat and a small read instead of parsing a large
/// lock.
pub fn resolve(
    cache_dir: &Path,
    manifest: &super::Manifest,
    interp: &crate::plan::interpreter::Interpreter,
) -> Result<Option<Use>> {
    use sha2::{Digest, Sha256};
    let Some((path, kind)) = find(&manifest.dir) else { return Ok(None) };
    let meta = crate::inputs::metadata(&path).ctx("read", &path)?;
    let sel = &manifest.lock_selection;
    let id = format!(
        "v3\n{}\n{}\n{} {}\n{:?}\n",
        path.display(),
        manifest.digest,
        interp.path.display(),
        interp.facts.python_full_version,
        sel
    );
    let pins = crate::cache::Bucket::LOCK_PINS.under(cache_dir);
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    crate::stamp::hash(&mut h, Some(Stamp::of(&meta)));
    let memo = pins.join(crate::digest::hex(&h.finalize()[..16]));
    if let Ok(text) = std::fs::read_to_string(&memo)
        && let Some(u) = decode(&path, &text)
    {
        return Ok(Some(u));
    }
    let bytes = crate::fsx::read_manifest(&path)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let ok = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..ok]).into_owned();
        Error::invalid(Pos::at(&path, &text, ok), "the file is not valid UTF-8").with_hint("save it as UTF-8")
    })?;
    let env = interp.markers();
    let lock = load(&path, kind, &text, sel, &env)?;
    let u = match stale(&lock, &manifest.requirements, &env) {
        None => Use::Pins { path: path.clone(), pins: lock.pins, files: lock.files },
        Some(why) => Use::Stale(crate::error::StaleLock {
            lock: path.clone(),
            manifest: manifest.path.clone(),
            why,
            refresh: lock.refresh,
        }),
    };
    let _ = crate::fsx::write_atomic(&memo, encode(&u).as_bytes());
    Ok(Some(u))
}

fn encode(u: &Use) -> String {
    match u {
        Use::Pins { pins, files, .. } => {
            let mut t = String::from("pins\n");
            for p in pins {
                t.push_str(&p.canonical);
                t.push('\n');
            }
            // `@ name version w|s sha256 url`: URLs hold no spaces (see `artifacts`).
            for f in files.iter().flatten() {
                let kinds = f.wheels.iter().map(|a| ('w', a)).chain(f.sdist.iter().map(|a| ('s', a)));
                t.extend(kinds.map(|(kind, a)| format!("@ {} {} {kind} {} {}\n", f.name, f.version, a.sha256, a.url)));
            }
            t
        }
        Use::Stale(s) => {
            let line = |t: &str| t.replace('\n', " ");
            format!("stale\n{}\n{}\n{}\n", line(&crate::fsx::lossy(&s.manifest)), line(&s.why), line(&s.refresh))
        }
    }
}

fn decode(path: &Path, text: &str) -> Option<Use> {
    let mut lines = text.lines();
    match lines.next()? {
        "pins" => {
            let mut pins = Vec::new();
            let mut files: Vec<Files> = Vec::new();
            for l in lines {
                if let Some(rest) = l.strip_prefix("@ ") {
                    let mut f = rest.splitn(5, ' ');
                    let (name, version, kind, sha256, url) = (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
                    if files.last().is_none_or(|x| x.name != name || x.version != version) {
                        files.push(Files { name: name.into(), version: version.into(), wheels: vec![], sdist: None });
                    }
                    let a = Artifact { url: url.into(), sha256: sha256.into() };
                    let last = files.last_mut()?;
                    match kind {
                        "w" => last.wheels.push(a),
                        "s" => last.sdist = Some(a),
                        _ => return None,
                    }
                    continue;
                }
                let (name, _) = l.split_once("==")?;
                pins.push(Requirement { canonical: l.to_string(), name: name.to_string() });
            }
            let files = (!files.is_empty()).then_some(files);
            Some(Use::Pins { path: path.to_path_buf(), pins, files })
        }
        "stale" => Some(Use::Stale(crate::error::StaleLock {
            lock: path.to_path_buf(),
            manifest: PathBuf::from(lines.next()?),
            why: lines.next()?.to_string(),
            refresh: lines.next()?.to_string(),
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> MarkerEnvironment {
        MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.12.1",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: "3.12.1",
            python_version: "3.12",
            sys_platform: "linux",
        })
        .unwrap()
    }

    fn load_text(kind: Kind, text: &str, sel: &Selection) -> Result<Lock> {
        load(Path::new("/p/lock"), kind, text, sel, &env())
    }

    fn pins(l: &Lock) -> Vec<&str> {
        l.pins.iter().map(|p| p.canonical.as_str()).collect()
    }

    #[test]
    fn pep751_variables_map_to_extra() {
        assert_eq!(
            map_pep751_variables("'dev' in dependency_groups or \"Full\" not in extras"),
            "extra == 'cove-group-dev' or extra != 'cove-extra-full'"
        );
        assert_eq!(map_pep751_variables("python_version >= '3.9'"), "python_version >= '3.9'");
    }

    const PYLOCK: &str = r#"
lock-version = "1.0"
created-by = "uv"
default-groups = ["dev"]
dependency-groups = ["dev", "docs"]
[[packages]]
name = "alpha"
version = "1.0"
[[packages]]
name = "Beta"
version = "1.0"
marker = "'dev' in dependency_groups"
[[packages]]
name = "gamma"
version = "1.0"
marker = "'docs' in dependency_groups"
[[packages]]
name = "delta"
version = "1.0"
marker = "sys_platform == 'win32'"
"#;

    #[test]
    fn pylock_pins_what_applies() {
        let l = load_text(Kind::Pylock, PYLOCK, &Selection::default()).unwrap();
        assert_eq!(pins(&l), ["alpha==1.0", "beta==1.0"]);
        assert_eq!(l.refresh, "uv export --format pylock.toml -o pylock.toml");
        let sel = Selection { groups: Some(vec!["docs".into()]), ..Default::default() };
        assert_eq!(pins(&load_text(Kind::Pylock, PYLOCK, &sel).unwrap()), ["alpha==1.0", "gamma==1.0"]);
    }

    /// A uv.lock `[[package]]` from the registry at version 1.0, with `more` lines.
    fn registry(name: &str, more: &str) -> String {
        format!(
            "[[package]]\nname = \"{name}\"\nversion = \"1.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\n{more}\n"
        )
    }

    /// alpha, beta (needing alpha), gamma and delta from the registry, and the project `demo`.
    fn uvlock() -> String {
        let beta = registry("beta", "dependencies = [{ name = \"alpha\" }]\n");
        let (alpha, gamma, delta) = (registry("alpha", ""), registry("gamma", ""), registry("delta", ""));
        format!("version = 1\nrequires-python = \">=3.8\"\n\n{alpha}{beta}{gamma}{delta}{DEMO}")
    }

    const DEMO: &str = r#"[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "beta" },
    { name = "delta", marker = "sys_platform == 'win32'" },
]

[package.optional-dependencies]
full = [{ name = "gamma" }]

[package.dev-dependencies]
dev = [{ name = "demo", extra = ["full"] }]
"#;

    #[test]
    fn uv_lock_walks_from_the_project() {
        let sel = Selection { project: Some("demo".into()), groups: Some(vec![]), ..Default::default() };
        assert_eq!(pins(&load_text(Kind::UvLock, &uvlock(), &sel).unwrap()), ["alpha==1.0", "beta==1.0"]);
        let sel = Selection { project: Some("demo".into()), extras: vec!["full".into()], groups: Some(vec![]) };
        assert_eq!(pins(&load_text(Kind::UvLock, &uvlock(), &sel).unwrap()), ["alpha==1.0", "beta==1.0", "gamma==1.0"]);
    }

    #[test]
    fn a_lock_that_no_longer_matches_is_stale() {
        let l = load_text(Kind::Pylock, PYLOCK, &Selection::default()).unwrap();
        let pos = Pos { file: "m".into(), line: 1, column: 1 };
        let r = |s: &str| Requirement::parse(s, &pos, Path::new("/")).unwrap();
        assert_eq!(stale(&l, &[r("alpha>=1"), r("beta")], &env()), None);
        assert_eq!(stale(&l, &[r("alpha>=2")], &env()), Some("it locks alpha 1.0, outside alpha>=2".into()));
        assert_eq!(stale(&l, &[r("zeta")], &env()), Some("zeta is not in it".into()));
        assert_eq!(stale(&l, &[r("zeta ; sys_platform == 'win32'")], &env()), None);
    }

    #[test]
    fn files_are_read_from_both_formats_and_kept_only_when_every_pin_has_one() {
        let (a, b) = ("a".repeat(64), "B".repeat(64));
        let uv = format!(
            "version = 1\n[[package]]\nname = \"alpha\"\nversion = \"1.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\n\
             sdist = {{ url = \"https://x/alpha-1.0.tar.gz\", hash = \"sha256:{b}\" }}\n\
             wheels = [{{ url = \"https://x/alpha-1.0-py3-none-any.whl\", hash = \"sha256:{a}\" }}, {{ url = \"https://x/a b.whl\", hash = \"sha256:{a}\" }}]\n\
             [[package]]\nname = \"demo\"\nversion = \"0.1\"\nsource = {{ editable = \".\" }}\ndependencies = [{{ name = \"alpha\" }}]\n"
        );
        let sel = Selection { project: Some("demo".into()), groups: Some(vec![]), ..Default::default() };
        let files = load_text(Kind::UvLock, &uv, &sel).unwrap().files.unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(
            files[0].wheels,
            [Artifact { url: "https://x/alpha-1.0-py3-none-any.whl".into(), sha256: a.clone() }]
        );
        assert_eq!(files[0].sdist.as_ref().unwrap().sha256, b.to_lowercase(), "hashes are kept lower-case");

        let pylock = format!(
            "lock-version = \"1.0\"\n[[packages]]\nname = \"alpha\"\nversion = \"1.0\"\n\
             wheels = [{{ url = \"https://x/alpha.whl\", hashes = {{ sha256 = \"{a}\" }} }}]\n\
             [[packages]]\nname = \"beta\"\nversion = \"1.0\"\n"
        );
        assert!(load_text(Kind::Pylock, &pylock, &Selection::default()).unwrap().files.is_none(), "beta has none");
        let one = pylock.split("[[packages]]\nname = \"beta\"").next().unwrap();
        let files = load_text(Kind::Pylock, one, &Selection::default()).unwrap().files.unwrap();
        assert_eq!(files[0].wheels[0].url, "https://x/alpha.whl");
        for bad in ["ftp://x/alpha.whl\"", "https://x/alpha.whl\", hashes = { md5 = \"00\" } }]\n#"] {
            let text = pylock.replace("https://x/alpha.whl\"", bad);
            let text = text.split("[[packages]]\nname = \"beta\"").next().unwrap();
            assert!(load_text(Kind::Pylock, text, &Selection::default()).unwrap().files.is_none(), "{bad}");
        }
    }

    #[test]
    fn the_remembered_use_keeps_the_files() {
        let f = Files {
            name: "alpha".into(),
            version: "1.0".into(),
            wheels: vec![Artifact { url: "https://x/a.whl".into(), sha256: "a".repeat(64) }],
            sdist: Some(Artifact { url: "file:///w/a.tar.gz".into(), sha256: "b".repeat(64) }),
        };
        let pins = vec![Requirement { canonical: "alpha==1.0".into(), name: "alpha".into() }];
        let u = Use::Pins { path: "/p/uv.lock".into(), pins, files: Some(vec![f.clone()]) };
        match decode(Path::new("/p/uv.lock"), &encode(&u)) {
            Some(Use::Pins { files, pins, .. }) => {
                assert_eq!(files, Some(vec![f]));
                assert_eq!(pins.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }
}
