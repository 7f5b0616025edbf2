//! The cache layout under `$COVE_CACHE_DIR`, and what state an environment is in. This module
//! alone spells the layout: a folder's name is a [`Bucket`]'s, an environment, layer or seed is
//! an [`Entry`] of a [`Kind`] that names its folder, lock, log and info file, and each info file
//! has one type ([`EnvInfo`], [`LayerInfo`], [`SeedInfo`]) for writing and reading it.
//!
//! ```text
//! CACHEDIR.TAG  .gitignore
//! envs/<key>/               one venv per key; ready only once `envs/<key>/.cove-ready` exists
//! envs/<key>/cove-env.json  what it was built from (canonical text, interpreter, manifest, size)
//! envs/<key>/.cove-used     its mtime is the last use (see `usage`)
//! layers/<key>/             a project's editable install over an environment (see `layer`)
//! layers/<key>/cove-layer.json  its environment and project (for list and gc), and its key
//!                           without the folder (for another checkout to copy it)
//! seeds/<name>/             pip installed once per interpreter, linked into pip-backend venvs
//!                           (see `backend::seed`)
//! seeds/<name>/cove-seed.json   the interpreter and wheel it was made from (for gc)
//! locks/<name>.lock         held while an entry is built, linked from or removed; <name> is an
//!                           environment's key, `layer-<key>` or `seed-<name>` ([`Entry::name`])
//! logs/<name>.log           the last build's installer output
//! interpreters/             cached interpreter facts
//! projects/<sha>            which key each project last used (see `usage`)
//! plans/<sha>               plans remembered per manifest and folder (see `memo`)
//! lock-pins/<sha>           a lock file's pins that apply, per lock and interpreter
//! tmp/<name>.<pid>.<nanos>/ a build attempt, renamed onto its entry when complete
//! slots/slot-<i>-000…       a link to the attempt being built in slot <i> (see `staging`)
//! trash/                    entries being removed by `cove gc`
//! ```
//!
//! Invariants: an entry is built in `tmp/` and appears in its bucket only by a rename, its ready
//! marker written before, all under its lock ([`crate::cache::staging::ensure`]), so no process ever
//! runs one that is half built, and an installer orphaned by a killed build can only spoil its
//! own attempt's folder. `cove gc` first renames an entry into `trash/` under its lock
//! ([`Entry::remove`]), so a removal cut short never leaves a half-deleted one that looks ready.
//!
//! The cache decides what `python` runs, so it must be the user's alone: its root and the
//! folders that hold code or decide what runs (`envs/`, `layers/`, `plans/`, `interpreters/`)
//! are refused when another user owns them or others may write them ([`Cache::check_private`],
//! done before cove reads or writes anything in the cache; five stats, once per process).

pub mod filelock;
pub mod inventory;
pub mod staging;
pub mod usage;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::error::{CacheProblem, Error, IoContext, Result};

pub const READY: &str = ".cove-ready";
/// Every file's size at publish time (see `staging.rs`), checked on first use after a reboot.
pub const FILES: &str = ".cove-files";
/// The first word of a listing that gives its count (see `staging.rs`).
pub const FILES_HEADER: &str = "cove-files 2";

/// A folder of the cache root; its name is spelled here only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket(&'static str);

impl Bucket {
    pub const ENVS: Bucket = Bucket("envs");
    pub const LAYERS: Bucket = Bucket("layers");
    pub const SEEDS: Bucket = Bucket("seeds");
    pub const LOCKS: Bucket = Bucket("locks");
    pub const LOGS: Bucket = Bucket("logs");
    pub const INTERPRETERS: Bucket = Bucket("interpreters");
    pub const PROJECTS: Bucket = Bucket("projects");
    pub const PLANS: Bucket = Bucket("plans");
    pub const LOCK_PINS: Bucket = Bucket("lock-pins");
    pub const TMP: Bucket = Bucket("tmp");
    pub const SLOTS: Bucket = Bucket("slots");
    pub const TRASH: Bucket = Bucket("trash");

    /// This folder of the cache whose root is `root`.
    pub fn under(self, root: &Path) -> PathBuf {
        root.join(self.0)
    }
}

/// What an [`Entry`] is. All three are built aside and published under their lock
/// ([`crate::cache::staging::ensure`]) and removed the same way ([`Entry::remove`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Env,
    Layer,
    Seed,
}

impl Kind {
    /// In the order `cove gc` walks them: a layer is looked at once its environment is.
    pub const ALL: [Kind; 3] = [Kind::Env, Kind::Layer, Kind::Seed];

    /// Its bucket, its info file, and how its lock, log and attempt names begin (the kinds share
    /// `locks/`, `logs/` and `tmp/`).
    fn layout(self) -> (Bucket, &'static str, &'static str) {
        match self {
            Kind::Env => (Bucket::ENVS, "cove-env.json", ""),
            Kind::Layer => (Bucket::LAYERS, "cove-layer.json", "layer-"),
            Kind::Seed => (Bucket::SEEDS, "cove-seed.json", "seed-"),
        }
    }

    pub fn bucket(self) -> Bucket {
        self.layout().0
    }

    pub fn info_file(self) -> &'static str {
        self.layout().1
    }
}

/// An environment, a layer or a seed: `<root>/<bucket>/<key>`, and the way to its lock, log and
/// info file. Made only here, so its folder is always two levels below the cache root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    kind: Kind,
    dir: PathBuf,
}

impl Entry {
    /// The entry whose folder is `dir`, when `dir` is one (`<root>/envs/<key>`, …).
    pub fn at(dir: &Path) -> Option<Entry> {
        let bucket = dir.parent()?.file_name()?;
        let kind = Kind::ALL.into_iter().find(|k| bucket == k.bucket().0)?;
        dir.file_name()?.to_str()?;
        Some(Entry { kind, dir: dir.to_path_buf() })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn key(&self) -> &str {
        self.dir.file_name().and_then(|n| n.to_str()).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn into_dir(self) -> PathBuf {
        self.dir
    }

    fn root(&self) -> &Path {
        self.dir.parent().and_then(Path::parent).unwrap_or(Path::new(""))
    }

    /// The name of its lock, log and attempt folders: its key, after its kind's prefix.
    pub fn name(&self) -> String {
        format!("{}{}", self.kind.layout().2, self.key())
    }

    pub fn lock(&self) -> PathBuf {
        named(self.root(), Bucket::LOCKS, &self.name(), "lock")
    }

    pub fn log(&self) -> PathBuf {
        named(self.root(), Bucket::LOGS, &self.name(), "log")
    }

    /// Its log, emptied for a new build (not removed: keeps its file, and making one is slow on a
    /// filesystem busy deleting).
    pub fn fresh_log(&self) -> Result<PathBuf> {
        let log = self.log();
        crate::fsx::create_private_dir(&Bucket::LOGS.under(self.root()))?;
        std::fs::File::create(&log).ctx("write log", &log)?;
        Ok(log)
    }

    /// What its info file says ([`EnvInfo`], [`LayerInfo`], [`SeedInfo`]: one type per kind,
    /// for writing it and reading it); `None` when it is missing or does not read as `T`.
    pub fn info<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&std::fs::read(self.dir.join(self.kind.info_file())).ok()?).ok()
    }

    /// Its ready marker is there: one stat, no check of the files (for listing many).
    pub fn has_marker(&self) -> bool {
        self.dir.join(READY).exists()
    }

    /// See [`ready_at`]: the warm-path check.
    pub fn is_ready(&self) -> bool {
        ready_at(&self.dir)
    }

    /// Ready, and its `python` still resolves (the base interpreter it links to is there): two
    /// stats. An environment whose interpreter vanished is rebuilt rather than run into a
    /// loader error.
    pub fn is_usable(&self) -> bool {
        self.is_ready() && env_python(&self.dir).exists()
    }

    pub fn state(&self) -> State {
        if self.is_usable() {
            State::Ready
        } else if crate::cache::filelock::is_held(&self.lock()) {
            State::Building
        } else if self.dir.exists() {
            State::Broken
        } else {
            State::Missing
        }
    }

    /// Remove it: under its lock, its folder renamed into `trash/` first (so no crash leaves a
    /// half-deleted one that looks ready), its log and lock file dropped, then the trash copy
    /// deleted. `Ok(false)` when someone holds the lock (building it, or linking from a seed),
    /// or when `unless_ready` and a build finished it since it was looked at.
    pub fn remove(&self, unless_ready: bool) -> Result<bool> {
        let Some(guard) = crate::cache::filelock::try_exclusive(&self.lock())? else { return Ok(false) };
        if unless_ready && self.has_marker() {
            return Ok(false);
        }
        let trash = Bucket::TRASH.under(self.root());
        crate::fsx::create_private_dir(&trash)?;
        let aside = trash.join(format!("{}.{}.{}", self.name(), std::process::id(), crate::fsx::nanos()));
        std::fs::rename(&self.dir, &aside).found("move", &self.dir)?;
        let _ = std::fs::remove_file(self.log());
        guard.remove_file();
        drop(guard);
        crate::fsx::remove_tree(&aside)?;
        Ok(true)
    }
}

/// `<root>/<bucket>/<name>.<ext>`.
fn named(root: &Path, bucket: Bucket, name: &str, ext: &str) -> PathBuf {
    bucket.under(root).join(format!("{name}.{ext}"))
}

/// `cove-env.json`: what the environment was built from, and its size (measured once, at
/// publish, so `cove list` need not walk every environment). Every field may be missing when
/// read, so a file from an older cove, or a damaged one, still lists.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct EnvInfo {
    pub key: Option<String>,
    pub canonical: Option<String>,
    /// The base interpreter's path, and its exact version.
    pub python: Option<String>,
    pub python_version: Option<String>,
    /// How many requirements it was built from.
    pub requirements: Option<usize>,
    /// The lock file in use, and the manifest.
    pub lock: Option<String>,
    pub manifest: Option<String>,
    pub backend: Option<String>,
    /// For a `cove run --with` overlay: its extra requirements, and the key it is over.
    pub with: Option<Vec<String>>,
    pub over: Option<String>,
    /// `built`, or `pulled from <remote>` (SPEC §8); none from an older cove.
    pub origin: Option<String>,
    pub size: Option<u64>,
    /// The part of `size` in files hard-linked into other folders too (the pip seed's, uv's
    /// cache): 0 means the recorded size is the environment's own.
    pub linked: Option<u64>,
    /// When it was published, in seconds since 1970.
    pub created: Option<u64>,
}

/// `cove-layer.json`: the environment a layer sits on, the project it is for and the projects it
/// installs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerInfo {
    pub env: String,
    pub project: String,
    #[serde(default)]
    pub installs: Vec<String>,
    /// Its key without the project folder (`key::layer_relocation_key`): another checkout of
    /// the same project with this one may copy it (see `build::layer_copy`). None from an older
    /// cove, or for a layer of several projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relocation: Option<String>,
}

/// `cove-seed.json`: the interpreter and pip wheel a seed was made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedInfo {
    pub python: String,
    #[serde(default)]
    pub python_version: String,
    #[serde(default)]
    pub wheel: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Missing,
    Building,
    Broken,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Missing => "missing",
            State::Building => "building",
            State::Broken => "broken",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache { root: root.to_path_buf() }
    }

    pub fn entry(&self, kind: Kind, key: &str) -> Entry {
        Entry { kind, dir: kind.bucket().under(&self.root).join(key) }
    }

    /// The entry whose lock, log or attempt is called `name` ([`Entry::name`]): a name no kind
    /// claims by its prefix is an environment's.
    pub fn entry_named(&self, name: &str) -> Entry {
        let kind = [Kind::Layer, Kind::Seed].into_iter().find_map(|k| Some((k, name.strip_prefix(k.layout().2)?)));
        kind.map_or_else(|| self.entry(Kind::Env, name), |(k, key)| self.entry(k, key))
    }

    /// Every entry of `kind` there is (a folder in its bucket; hidden names are not entries).
    pub fn entries(&self, kind: Kind) -> Result<Vec<Entry>> {
        let dir = kind.bucket().under(&self.root);
        let Some(read) = std::fs::read_dir(&dir).found("read", &dir)? else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for e in read {
            let e = e.ctx("read", &dir)?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && e.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(self.entry(kind, &name));
            }
        }
        Ok(out)
    }

    /// A lock that belongs to no entry (`slot-<i>`, `push-<key>`, …).
    pub fn lock_path(&self, name: &str) -> PathBuf {
        named(&self.root, Bucket::LOCKS, name, "lock")
    }

    /// A log that belongs to no entry (`lock`, `push-<key>`, `prebuild-<sha>`).
    pub fn log_path(&self, name: &str) -> PathBuf {
        named(&self.root, Bucket::LOGS, name, "log")
    }

    /// Refuse a cache that someone else could have planted an environment (or a plan, or the
    /// facts that choose an interpreter) in: the root and the folders holding those must belong
    /// to this user and be writable by no one else. A folder not made yet passes (cove makes it
    /// private). Checked once per process and cache: callers ask before every first read or
    /// write, and only the first asking costs the stats.
    pub fn check_private(&self) -> Result<()> {
        static CHECKED: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
        if CHECKED.lock().is_ok_and(|c| c.as_deref() == Some(self.root.as_path())) {
            return Ok(());
        }
        self.check_private_now()?;
        // Only a root that exists is remembered: one made later is made private by cove, or
        // refused (see `prepare`).
        if self.root.is_dir()
            && let Ok(mut c) = CHECKED.lock()
        {
            *c = Some(self.root.clone());
        }
        Ok(())
    }

    /// [`Cache::check_private`], every time.
    fn check_private_now(&self) -> Result<()> {
        check_private_dir(&self.root, "COVE_CACHE_DIR")?;
        for bucket in [Bucket::ENVS, Bucket::LAYERS, Bucket::PLANS, Bucket::INTERPRETERS] {
            check_private_dir(&bucket.under(&self.root), "COVE_CACHE_DIR")?;
        }
        Ok(())
    }

    /// The environment of `key` is usable ([`Entry::is_usable`]).
    pub fn is_usable(&self, key: &str) -> bool {
        self.entry(Kind::Env, key).is_usable()
    }

    /// The state of the environment of `key`.
    pub fn state(&self, key: &str) -> State {
        self.entry(Kind::Env, key).state()
    }

    /// Create the cache root, private to the user and marked as a cache.
    pub fn prepare(&self) -> Result<()> {
        let fresh = !self.root.exists();
        crate::fsx::create_private_dir(&self.root)?;
        if fresh {
            crate::fsx::make_private(&self.root)?;
        }
        let tag = self.root.join("CACHEDIR.TAG");
        if !tag.exists() {
            crate::fsx::write_atomic(
                &tag,
                b"Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cove.\n",
            )?;
            crate::fsx::write_atomic(&self.root.join(".gitignore"), b"*\n")?;
        }
        Ok(())
    }
}

/// `COVE_HOME` and its folder `sub` (`shims`, `trust`), held to the cache's rule: what is in
/// them runs as the user (a shim) or decides what may be built (a trust record).
pub fn check_home_dir(home: &Path, sub: &str) -> Result<()> {
    check_private_dir(home, "COVE_HOME")?;
    check_private_dir(&home.join(sub), "COVE_HOME")
}

/// See [`Cache::check_private`] (also used for the trust store). `setting` is the variable
/// that moves the folder elsewhere. Symlinks are followed: a cache moved to another disk and
/// linked back is fine when the folder it points to is private.
pub fn check_private_dir(dir: &Path, setting: &'static str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Some(meta) = std::fs::metadata(dir).found("read", dir)? else { return Ok(()) };
    // SAFETY: geteuid has no failure mode and touches no memory.
    let me = unsafe { libc::geteuid() };
    let problem = if meta.uid() != me {
        CacheProblem::Owner(meta.uid())
    } else if meta.mode() & 0o022 != 0 {
        CacheProblem::Writable(meta.mode() & 0o7777)
    } else {
        return Ok(());
    };
    Err(Error::UnsafeFolder { path: dir.to_path_buf(), problem, setting })
}

/// A venv's interpreter, `<venv>/bin/python`.
pub fn env_python(env: &Path) -> PathBuf {
    env.join("bin").join("python")
}

/// Whether the environment or layer folder `dir` is ready: its marker exists and, when it was
/// written before this boot, its files still have the sizes they were published with. A power
/// loss shortly after a build can leave files short or empty behind a durable marker; checking
/// once per boot (then re-stamping the marker) costs the warm path one `sysinfo` call, not a
/// filesystem flush on every build.
pub fn ready_at(dir: &Path) -> bool {
    let marker = dir.join(READY);
    let Ok(meta) = std::fs::metadata(&marker) else { return false };
    let Ok(written) = meta.modified() else { return true };
    if written >= boot_time() {
        return true;
    }
    if !files_intact(dir) {
        return false;
    }
    if let Ok(f) = std::fs::File::options().write(true).open(&marker) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
    true
}

/// When this boot began, a little early (uptime is whole seconds).
fn boot_time() -> std::time::SystemTime {
    // SAFETY: sysinfo fills the struct it is given.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        return std::time::SystemTime::UNIX_EPOCH;
    }
    let up = std::time::Duration::from_secs(info.uptime.max(0) as u64 + 2);
    std::time::SystemTime::now().checked_sub(up).unwrap_or(std::time::SystemTime::UNIX_EPOCH)
}

/// Every file listed in `.cove-files` has its recorded size, and the listing is whole: as many
/// lines as its header counts. The listing is not flushed to disk when written, so a power loss
/// may leave it short or empty, which fails the check. A folder without the listing (built by
/// an older cove) cannot be checked and is taken as it is; an older listing (no header, flushed
/// when written) is checked line by line.
fn files_intact(dir: &Path) -> bool {
    let listing = match std::fs::read(dir.join(FILES)) {
        Ok(bytes) => bytes,
        Err(e) => return e.kind() == std::io::ErrorKind::NotFound,
    };
    // Whole lines only: a listing cut short (or empty) is damaged.
    let Some(body) = listing.strip_suffix(b"\n") else { return false };
    let mut lines = body.split(|&b| b == b'\n').peekable();
    let expected = match lines.peek().and_then(|first| first.strip_prefix(FILES_HEADER.as_bytes())) {
        Some(count) => {
            let count = std::str::from_utf8(count).ok().and_then(|c| c.strip_prefix(' ')?.parse::<usize>().ok());
            let Some(count) = count else { return false };
            lines.next();
            Some(count)
        }
        None => None,
    };
    let mut seen = 0;
    for line in lines {
        seen += 1;
        if !listed_file_intact(dir, line) {
            return false;
        }
    }
    expected.map_or(seen > 0, |count| count == seen)
}

/// The first file the size listing of the ready folder `dir` names that is no longer there
/// (relative to `dir`): an environment someone removed installed files from by hand. Bytecode
/// is left out (Python writes it again), and so is everything when there is no listing (built
/// by an older cove). A stat per installed file: for `cove status` and `cove sync`, never the
/// warm path.
pub fn missing_file(dir: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let listing = std::fs::read(dir.join(FILES)).ok()?;
    listing.split(|&b| b == b'\n').find_map(|line| {
        let tab = line.iter().position(|&b| b == b'\t')?;
        let rel = Path::new(std::ffi::OsStr::from_bytes(&line[tab + 1..]));
        let bytecode =
            rel.extension().is_some_and(|x| x == "pyc") || rel.components().any(|c| c.as_os_str() == "__pycache__");
        (!bytecode && std::fs::symlink_metadata(dir.join(rel)).is_err()).then(|| rel.to_path_buf())
    })
}

/// One `size<TAB>path` line of the listing: the file is there with that size.
fn listed_file_intact(dir: &Path, line: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(tab) = line.iter().position(|&b| b == b'\t') else { return false };
    let size = std::str::from_utf8(&line[..tab]).ok().and_then(|s| s.parse::<u64>().ok());
    let path = dir.join(std::ffi::OsStr::from_bytes(&line[tab + 1..]));
    size.is_some_and(|size| std::fs::symlink_metadata(path).is_ok_and(|m| m.len() == size))
}

#[cfg(test)]
mod ready_tests {
    use super::*;

    #[test]
    fn a_folder_from_before_this_boot_is_checked_once() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::write(dir.join("a.py"), "print(1)\n").unwrap();
        std::fs::write(dir.join(FILES), "9\ta.py\n").unwrap();
        std::fs::write(dir.join(READY), "").unwrap();
        assert!(ready_at(dir), "written in this boot");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let stamp =
            |when| std::fs::File::options().write(true).open(dir.join(READY)).unwrap().set_modified(when).unwrap();
        stamp(old);
        assert!(ready_at(dir), "intact files pass the check");
        assert!(std::fs::metadata(dir.join(READY)).unwrap().modified().unwrap() > old, "and the marker is re-stamped");
        stamp(old);
        std::fs::write(dir.join("a.py"), "").unwrap();
        assert!(!ready_at(dir), "a file a power loss emptied makes the folder not ready");
    }

    #[test]
    fn a_listing_cut_short_is_damaged() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::write(dir.join("a.py"), "print(1)\n").unwrap();
        std::fs::write(dir.join("b.py"), "").unwrap();
        let whole = format!("{FILES_HEADER} 2\n9\ta.py\n0\tb.py\n");
        let check = |listing: &str| {
            std::fs::write(dir.join(FILES), listing).unwrap();
            files_intact(dir)
        };
        assert!(check(&whole));
        assert!(!check(""), "emptied");
        assert!(!check(&whole[..whole.len() - 1]), "cut in a line");
        assert!(!check(&format!("{FILES_HEADER} 2\n9\ta.py\n")), "a line short");
        assert!(!check(&"\0".repeat(whole.len())), "zeros");
        assert!(check("9\ta.py\n"), "an older listing (no count) is checked line by line");
        std::fs::remove_file(dir.join(FILES)).unwrap();
        assert!(files_intact(dir), "no listing at all: built by an older cove, taken as it is");
    }

    #[test]
    fn a_listed_file_removed_by_hand_is_named() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::create_dir_all(dir.join("pkg/__pycache__")).unwrap();
        std::fs::write(dir.join("pkg/__init__.py"), "x = 1\n").unwrap();
        let listing = format!("{FILES_HEADER} 2\n6\tpkg/__init__.py\n3\tpkg/__pycache__/__init__.cpython-312.pyc\n");
        std::fs::write(dir.join(FILES), listing).unwrap();
        assert_eq!(missing_file(dir), None, "bytecode Python writes again is not asked for");
        std::fs::remove_dir_all(dir.join("pkg")).unwrap();
        assert_eq!(missing_file(dir), Some(PathBuf::from("pkg/__init__.py")));
        std::fs::remove_file(dir.join(FILES)).unwrap();
        assert_eq!(missing_file(dir), None, "no listing: nothing to check against");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn entries_keep_the_layout_and_are_found_from_their_folder() {
        let cache = Cache::new(Path::new("/c"));
        let cases = [
            (Kind::Env, "/c/envs/k", "/c/locks/k.lock", "/c/logs/k.log"),
            (Kind::Layer, "/c/layers/k", "/c/locks/layer-k.lock", "/c/logs/layer-k.log"),
            (Kind::Seed, "/c/seeds/k", "/c/locks/seed-k.lock", "/c/logs/seed-k.log"),
        ];
        for (kind, dir, lock, log) in cases {
            let e = cache.entry(kind, "k");
            assert_eq!((e.dir(), e.lock(), e.log()), (Path::new(dir), lock.into(), log.into()));
            assert_eq!(Entry::at(e.dir()), Some(e.clone()), "the hook finds an entry's lock from its folder");
            assert_eq!(cache.entry_named(&e.name()), e, "a lock or log name names its entry");
        }
        assert_eq!(Entry::at(Path::new("/c/tmp/k")), None);
        assert_eq!(cache.entry_named("slot-3").dir(), Path::new("/c/envs/slot-3"), "no entry's: no folder");
    }

    #[test]
    fn a_cache_others_can_write_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(&t.path().join("c"));
        cache.check_private_now().unwrap();
        cache.prepare().unwrap();
        for sub in ["envs", "plans", "interpreters"] {
            let dir = cache.root.join(sub);
            crate::fsx::create_private_dir(&dir).unwrap();
            cache.check_private_now().unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            let e = cache.check_private_now().unwrap_err();
            assert!(
                matches!(e, Error::UnsafeFolder { problem: crate::error::CacheProblem::Writable(0o777), .. }),
                "{sub}: {e}"
            );
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            cache.check_private_now().unwrap();
        }
    }
}
