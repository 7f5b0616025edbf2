//! The shell hook (SPEC §6). `cove hook SHELL` fills the script from `shell/` with the binary's
//! absolute path and the shims folder; `cove hook-env SHELL` (or `--json`), run by that script at
//! every prompt, decides once what makes the environment match the current folder
//! ([`Changes`](crate::hook::shells::Changes)), and each shell renders it (`shells.rs`).
//!
//! What the hook did is kept in one exported variable, [`STATE_VAR`]: the project folder and
//! manifest, the files whose stamps decide the answer (and a fingerprint of those stamps),
//! the environment, the PATH entry it inserted (and those it inserted before), whether it set
//! `VIRTUAL_ENV`, and the folders already told they are untrusted. So:
//!
//! - the steady case (same project, same files) is a few `stat`s: no TOML is parsed, nothing is
//!   printed, no Python is started and nothing is spawned;
//! - leaving removes exactly the entry it inserted, so PATH comes back byte for byte; an entry of
//!   its own that a venv's `deactivate` put back is taken out at the next prompt;
//! - a `VIRTUAL_ENV` the hook did not set (the user's own venv) is left alone;
//! - messages (untrusted, trust lost by an edit, background build started or failed, invalid
//!   manifest) are said once, when they happen;
//! - `cove off` (the hook script's `cove` function sets [`OFF_VAR`]) counts as outside any
//!   project until `cove on`.
//!
//! The hook never builds in the foreground and never reaches the network: a trusted project
//! whose environment is missing gets a detached `cove sync` with its output in the cache's
//! `logs/`; a `python` typed meanwhile waits on the key's lock (see `build.rs`).

pub mod shells;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::cache::{self, Cache};
use crate::error::{Error, IoContext, Result};
use crate::hook::shells::{Changes, Shell, join_path};
use crate::plan::project::Project;
use crate::settings::{Flags, Locations, Settings};
use crate::stamp::Stamp;

/// The exported variable holding the hook's state (format [`FORMAT`]).
pub const STATE_VAR: &str = "__COVE_STATE";
/// Non-empty while `cove off` is in effect in this shell: the hook activates nothing.
pub const OFF_VAR: &str = "__COVE_OFF";
/// Version tag of the state's text; a state in another format is ignored.
const FORMAT: &str = "cove1";
/// Variables whose values change what the hook decides, so they are part of the fingerprint.
const FINGERPRINT_VARS: &[&str] =
    &["COVE_PYTHON", "COVE_CONFIG", "COVE_CACHE_DIR", "COVE_HOME", "COVE_PREBUILD", "COVE_TRUST_ALL", "PYENV_VERSION"];
/// How long a background build counts as under way while its lock is not (yet) taken.
const START_GRACE_SECS: u64 = 30;
/// How many untrusted folders the state remembers having told about.
const TOLD_MAX: usize = 32;
/// How many PATH entries the state remembers having inserted in this shell.
const OURS_MAX: usize = 8;

/// The hook script for `shell`, with the binary and the shims folder baked in.
pub fn render(shell: &dyn Shell, exe: &Path, shims: &Path) -> String {
    shell
        .script()
        .replace("__COVE_EXE__", &shell.quote(exe.as_os_str()))
        .replace("__COVE_SHIMS__", &shell.quote(shims.as_os_str()))
}

/// Where the hook stands in the current project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Status {
    /// Not in a project.
    #[default]
    Outside,
    /// The environment is active in the shell.
    Active,
    /// The environment is being built (by the hook's background build, or by someone else).
    Pending,
    /// The manifest is not trusted; the user has been told how to trust it.
    Untrusted,
    /// The environment is missing and `prebuild` is off.
    Missing,
    /// The background build ended without a ready environment; said once.
    Failed,
    /// The manifest or settings are invalid, or no interpreter fits; said once.
    Invalid,
    /// The interpreter's facts are not cached, so the key is unknown without starting Python.
    Unknown,
}

impl Status {
    /// Each status with its name in [`STATE_VAR`].
    const NAMES: [(Status, &'static str); 8] = [
        (Status::Outside, "outside"),
        (Status::Active, "active"),
        (Status::Pending, "pending"),
        (Status::Untrusted, "untrusted"),
        (Status::Missing, "missing"),
        (Status::Failed, "failed"),
        (Status::Invalid, "invalid"),
        (Status::Unknown, "unknown"),
    ];

    fn as_str(self) -> &'static str {
        Status::NAMES.iter().find(|(st, _)| *st == self).map_or("", |&(_, name)| name)
    }

    fn parse(s: &str) -> Option<Status> {
        Status::NAMES.iter().find(|(_, name)| *name == s).map(|(st, _)| *st)
    }
}

/// The hook's memory between prompts, kept in [`STATE_VAR`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    /// The project folder and its manifest.
    pub dir: Option<PathBuf>,
    pub manifest: Option<PathBuf>,
    /// Files whose stamps decide the answer, and the fingerprint of those stamps.
    pub watch: Vec<PathBuf>,
    pub fingerprint: String,
    /// The environment (when the key is known).
    pub env: Option<PathBuf>,
    /// The trust record whose existence decides trust (`None`: trusted by the settings).
    pub trust: Option<PathBuf>,
    /// The PATH entry the hook inserted (the environment's `bin`).
    pub inserted: Option<PathBuf>,
    /// Every PATH entry the hook has inserted in this shell (the latest few): one of them back
    /// on PATH where it does not belong (a venv's `deactivate` restores the PATH it saved) is
    /// taken out.
    pub ours: Vec<PathBuf>,
    /// Whether the hook set `VIRTUAL_ENV` (and `VIRTUAL_ENV_PROMPT`); a value it did not set is
    /// the user's and is left alone.
    pub venv_set: bool,
    /// `VIRTUAL_ENV_PROMPT` as it was before the hook set it (`None`: it was unset).
    pub prev_prompt: Option<OsString>,
    /// The background build's process and when it started (seconds since the epoch).
    pub pid: u32,
    pub since: u64,
    /// Project folders already told that they are untrusted.
    pub told: Vec<PathBuf>,
}

impl State {
    /// The state as text for [`STATE_VAR`]; `None` when there is nothing to remember.
    pub fn encode(&self) -> Option<String> {
        if *self == State::default() {
            return None;
        }
        let mut out = String::from(FORMAT);
        let mut field = |key: &str, value: &str| {
            out.push(';');
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        };
        let list = |items: &[PathBuf]| items.iter().map(|p| escape(p.as_os_str())).collect::<Vec<_>>().join(",");
        field("s", self.status.as_str());
        for (key, value) in
            [("d", &self.dir), ("m", &self.manifest), ("e", &self.env), ("t", &self.trust), ("i", &self.inserted)]
        {
            if let Some(v) = value {
                field(key, &escape(v.as_os_str()));
            }
        }
        if !self.ours.is_empty() {
            field("o", &list(&self.ours));
        }
        if self.venv_set {
            field("v", "1");
        }
        if let Some(v) = &self.prev_prompt {
            field("pp", &escape(v));
        }
        if !self.watch.is_empty() {
            field("w", &list(&self.watch));
            field("f", &self.fingerprint);
        }
        if self.pid != 0 {
            field("p", &self.pid.to_string());
            field("at", &self.since.to_string());
        }
        if !self.told.is_empty() {
            field("told", &list(&self.told));
        }
        Some(out)
    }

    /// Read a state written by [`State::encode`]; `None` for anything else.
    pub fn decode(text: &OsStr) -> Option<State> {
        let text = text.to_str()?;
        let mut fields = text.split(';');
        if fields.next()? != FORMAT {
            return None;
        }
        let mut st = State::default();
        let path = |v: &str| unescape(v).map(PathBuf::from);
        let list = |v: &str| v.split(',').filter(|s| !s.is_empty()).map(path).collect::<Option<Vec<_>>>();
        for f in fields {
            let (key, value) = f.split_once('=')?;
            match key {
                "s" => st.status = Status::parse(value)?,
                "d" => st.dir = Some(path(value)?),
                "m" => st.manifest = Some(path(value)?),
                "e" => st.env = Some(path(value)?),
                "t" => st.trust = Some(path(value)?),
                "i" => st.inserted = Some(path(value)?),
                "o" => st.ours = list(value)?,
                "v" => st.venv_set = value == "1",
                "pp" => st.prev_prompt = Some(unescape(value)?),
                "w" => st.watch = list(value)?,
                "f" => st.fingerprint = value.to_string(),
                "p" => st.pid = value.parse().ok()?,
                "at" => st.since = value.parse().ok()?,
                "told" => st.told = list(value)?,
                _ => {}
            }
        }
        Some(st)
    }
}

/// Percent-encode every byte that is not plainly safe in a path, so the state's separators
/// (`;`, `=`, `,`) and any byte at all survive the round trip.
fn escape(value: &OsStr) -> String {
    let mut out = String::new();
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"/._-+@~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape(text: &str) -> Option<OsString> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(std::os::unix::ffi::OsStringExt::from_vec(out))
}

/// The shell's variables that the hook reads and changes.
#[derive(Debug, Clone, Default)]
pub struct ShellVars {
    pub path: OsString,
    pub virtual_env: Option<OsString>,
    pub venv_prompt: Option<OsString>,
    pub cove_project: Option<OsString>,
    pub state: Option<OsString>,
}

impl ShellVars {
    fn from_env() -> ShellVars {
        ShellVars {
            path: std::env::var_os("PATH").unwrap_or_default(),
            virtual_env: std::env::var_os("VIRTUAL_ENV"),
            venv_prompt: std::env::var_os("VIRTUAL_ENV_PROMPT"),
            cove_project: std::env::var_os("COVE_PROJECT"),
            state: std::env::var_os(STATE_VAR),
        }
    }
}

/// `cove hook-env`: what brings the shell up to date; nothing when nothing changed. The hook
/// itself never fails the prompt: problems are messages, said once.
pub fn hook_env() -> Changes {
    let vars = ShellVars::from_env();
    let prev = vars.state.as_deref().and_then(State::decode).unwrap_or_default();
    let off = std::env::var_os(OFF_VAR).is_some_and(|v| !v.is_empty());
    let project =
        if off { None } else { std::env::current_dir().ok().and_then(|cwd| crate::plan::project::find(&cwd)) };
    if is_steady(&prev, project.as_ref(), &vars) {
        return Changes::default();
    }
    let shims = Locations::from_env().shims_dir();
    // Decide with the PATH the user would have without this hook's insertions: it decides which
    // `python3` is "the first on PATH after the shims" (SPEC §2), here and in a prebuild.
    let user_path = join_path(&without_ours(&vars.path, &prev, &shims));
    // SAFETY: hook-env is single-threaded and no other code reads the environment concurrently.
    unsafe { std::env::set_var("PATH", &user_path) };
    let mut messages = Vec::new();
    let mut next = evaluate(&prev, project, &user_path, &mut messages);
    let mut changes = changes(&prev, &mut next, &vars, &shims);
    changes.messages = messages;
    changes
}

/// Whether nothing can have changed since `prev` was decided: the same project, the same
/// watched files, the environment, build or trust still as it was, and PATH and `VIRTUAL_ENV`
/// as the hook left them. A few `stat`s and string compares.
pub fn is_steady(prev: &State, project: Option<&Project>, vars: &ShellVars) -> bool {
    if !path_as_left(&vars.path, prev) {
        return false;
    }
    let Some(p) = project else { return prev.dir.is_none() };
    if prev.dir.as_deref() != Some(p.dir.as_path()) || prev.manifest.as_deref() != Some(p.manifest.as_path()) {
        return false;
    }
    if fingerprint(&prev.watch) != prev.fingerprint {
        return false;
    }
    let ready = prev.env.as_ref().is_some_and(|e| cache::ready_at(e));
    // While the hook's VIRTUAL_ENV holds, it must still be there; while the user's own holds,
    // the hook takes over once it is gone.
    let venv_as_left = if prev.venv_set {
        vars.virtual_env.as_deref() == prev.env.as_deref().map(Path::as_os_str)
    } else {
        foreign_venv(vars, prev)
    };
    match prev.status {
        Status::Active => ready && venv_as_left && prev.trust.as_ref().is_none_or(|t| t.exists()),
        Status::Pending => !ready && still_building(prev),
        Status::Untrusted => prev.trust.as_ref().is_some_and(|t| !t.exists()),
        Status::Missing | Status::Failed => !ready,
        Status::Invalid | Status::Unknown => true,
        Status::Outside => false,
    }
}

/// A pending build is under way while its lock is held, or for a short while after the hook
/// started it (before it takes the lock) as long as its process lives.
fn still_building(prev: &State) -> bool {
    let held =
        prev.env.as_deref().and_then(cache::Entry::at).is_some_and(|e| crate::cache::filelock::is_held(&e.lock()));
    held || (prev.pid != 0 && process_alive(prev.pid) && now_secs().saturating_sub(prev.since) < START_GRACE_SECS)
}

/// Whether PATH holds the hook's entry (when it inserted one) and none of its earlier ones.
fn path_as_left(path: &OsStr, prev: &State) -> bool {
    if prev.ours.is_empty() && prev.inserted.is_none() {
        return true;
    }
    let mut has_inserted = prev.inserted.is_none();
    for entry in path.as_bytes().split(|b| *b == b':') {
        if prev.inserted.as_ref().is_some_and(|i| i.as_os_str().as_bytes() == entry) {
            has_inserted = true;
        } else if prev.ours.iter().any(|o| o.as_os_str().as_bytes() == entry) {
            return false;
        }
    }
    has_inserted
}

/// A `VIRTUAL_ENV` the hook did not set: the user's own venv.
fn foreign_venv(vars: &ShellVars, prev: &State) -> bool {
    let ours = prev.venv_set && vars.virtual_env.as_deref() == prev.env.as_deref().map(Path::as_os_str);
    vars.virtual_env.as_ref().is_some_and(|v| !v.is_empty()) && !ours
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// SHA-256 over each watched path's [`Stamp`] and the [`FINGERPRINT_VARS`]; a missing file
/// counts too, so creating it is a change.
pub fn fingerprint(watch: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    for p in watch {
        h.update(p.as_os_str().as_bytes());
        crate::stamp::hash(&mut h, Stamp::at(p));
    }
    for var in FINGERPRINT_VARS {
        h.update(var.as_bytes());
        match std::env::var_os(var) {
            Some(v) => {
                h.update(b"=");
                h.update(v.as_bytes());
            }
            None => h.update(b"\0unset"),
        }
        h.update(b"\0");
    }
    crate::digest::hex(&h.finalize()[..8])
}

/// Decide the new state for `project` from scratch (settings, manifest, trust, key, cache),
/// telling the user what needs telling and starting a background build when one is due.
fn evaluate(prev: &State, project: Option<Project>, user_path: &OsStr, say: &mut Vec<String>) -> State {
    let mut next = State { told: prev.told.clone(), ..State::default() };
    let Some(project) = project else { return next };
    let locations = Locations::from_env();
    next.dir = Some(project.dir.clone());
    next.manifest = Some(project.manifest.clone());
    next.watch = watch_list(&project, std::slice::from_ref(&project.manifest), &locations);
    let same_place = prev.dir == next.dir && prev.manifest == next.manifest;

    let loaded = Settings::load(&Flags::default()).and_then(|s| Ok((crate::manifest::load(&project)?, s)));
    let (manifest, settings) = match loaded {
        Ok(both) => both,
        Err(e) => return invalid(next, &e, say),
    };
    next.watch = watch_list(&project, &manifest.files, &locations);
    // A trust store or cache others could write decides nothing, and gets no prebuild's log.
    let private =
        crate::plan::trust::check_store(&settings).and_then(|()| Cache::new(&settings.cache_dir).check_private());
    if let Err(e) = private {
        return invalid(next, &e, say);
    }
    next.trust = crate::plan::trust::record(&manifest, &settings);
    if !crate::plan::trust::is_trusted(&manifest, &settings) {
        next.status = Status::Untrusted;
        next.fingerprint = fingerprint(&next.watch);
        // Trusted at the last prompt here: an edit (or `cove untrust`) turned it off just now.
        let lapsed = same_place && !matches!(prev.status, Status::Untrusted | Status::Invalid | Status::Outside);
        if lapsed || !next.told.contains(&project.dir) {
            let changes = crate::plan::trust::changes(&manifest, &settings);
            let cmd = crate::plan::trust::trust_command(&manifest);
            if lapsed {
                say.push(crate::ui::trust_lapsed(&manifest.path, &changes, &cmd));
            } else {
                let e = Error::Untrusted { manifest: manifest.path.clone(), changes, trust_cmd: cmd };
                say.push(crate::ui::told_text(&e));
            }
            next.told.retain(|d| d != &project.dir);
            if next.told.len() >= TOLD_MAX {
                next.told.remove(0);
            }
            next.told.push(project.dir.clone());
        }
        return next;
    }
    // Trusted: should it lose trust later, that is news again.
    next.told.retain(|d| d != &project.dir);

    let mut finder = crate::plan::interpreter::Finder::new(&settings.cache_dir, settings.shims_dir());
    finder.probe = false;
    let plan = crate::plan::resolve::plan_manifest(project.clone(), manifest, &settings, &finder);
    let cache = Cache::new(&settings.cache_dir);
    if finder.missed.get() {
        // The key needs facts only a run of Python gives: leave that to the background build
        // (which caches them), or, without one, wait for any `python` run to cache them.
        // Either way the facts' folder is watched: once they are cached the key is known at the
        // next prompt, so a finished background build is seen there (and not after its grace).
        let attempted = same_place && prev.status == Status::Pending && prev.env.is_none();
        next.watch.push(cache::Bucket::INTERPRETERS.under(&settings.cache_dir));
        next.fingerprint = fingerprint(&next.watch);
        if settings.prebuild && !attempted {
            return start_prebuild(next, &project.dir, &settings, user_path, say);
        }
        next.status = Status::Unknown;
        return next;
    }
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return invalid(next, &e, say),
    };
    next.watch.push(plan.interpreter().path.clone());
    next.fingerprint = fingerprint(&next.watch);
    next.env = Some(plan.run_dir().to_path_buf());
    let attempted =
        same_place && prev.fingerprint == next.fingerprint && matches!(prev.status, Status::Pending | Status::Failed);
    let layer_missing = plan.layer_dir.as_ref().is_some_and(|l| !cache::ready_at(l));
    let state = match cache.state(&plan.key.hex) {
        cache::State::Ready if layer_missing => cache::State::Missing,
        s => s,
    };
    match state {
        cache::State::Ready => {
            next.status = Status::Active;
            next.inserted = Some(plan.run_dir().join("bin"));
        }
        cache::State::Building => next.status = Status::Pending,
        cache::State::Missing | cache::State::Broken if attempted => {
            next.status = Status::Failed;
            if prev.status == Status::Pending && prev.pid != 0 {
                let e = Error::PrebuildFailed { project: project.dir.clone(), log: prebuild_log(&cache, &project.dir) };
                say.push(crate::ui::told_text(&e));
            }
        }
        cache::State::Missing | cache::State::Broken if settings.prebuild => {
            return start_prebuild(next, &project.dir, &settings, user_path, say);
        }
        cache::State::Missing | cache::State::Broken => next.status = Status::Missing,
    }
    next
}

/// The files whose change could change the hook's answer: the manifest and what it includes,
/// the files that could join it (lock files, `requirements.txt`, `.python-version`) and the
/// config file.
fn watch_list(project: &Project, manifest_files: &[PathBuf], locations: &Locations) -> Vec<PathBuf> {
    let beside = [".python-version", "requirements.txt", "pylock.toml", "uv.lock"].map(|name| project.dir.join(name));
    let all = manifest_files.iter().cloned().chain(beside).chain([locations.config_file.clone()]);
    let mut seen = std::collections::HashSet::new();
    all.filter(|p| seen.insert(p.clone())).collect()
}

/// Invalid input: say so once (the state stays until a watched file changes).
fn invalid(mut next: State, e: &Error, say: &mut Vec<String>) -> State {
    say.push(crate::ui::error_text(e));
    next.status = Status::Invalid;
    next.fingerprint = fingerprint(&next.watch);
    next
}

fn prebuild_log(cache: &Cache, project_dir: &Path) -> PathBuf {
    let digest = Sha256::digest(project_dir.as_os_str().as_bytes());
    cache.log_path(&format!("prebuild-{}", crate::digest::hex(&digest[..6])))
}

fn start_prebuild(
    mut next: State,
    project_dir: &Path,
    settings: &Settings,
    user_path: &OsStr,
    say: &mut Vec<String>,
) -> State {
    let log = prebuild_log(&Cache::new(&settings.cache_dir), project_dir);
    match spawn_prebuild(project_dir, &log, user_path) {
        Ok(pid) => {
            if !settings.quiet {
                say.push(crate::ui::prebuild_started(project_dir, &log));
            }
            next.status = Status::Pending;
            next.pid = pid;
            next.since = now_secs();
            next
        }
        Err(e) => invalid(next, &e, say),
    }
}

/// Start `cove sync` in `project_dir`, detached: its own session (so closing the terminal or
/// Ctrl-C at the prompt does not stop it), stdin from /dev/null, output to `log`, and no handle
/// on the hook's pipe, so the shell's `$(…)` returns at once.
fn spawn_prebuild(project_dir: &Path, log: &Path, user_path: &OsStr) -> Result<u32> {
    let exe = crate::shim::links::cove_exe()?;
    if let Some(dir) = log.parent() {
        crate::fsx::create_private_dir(dir)?;
    }
    let out = std::fs::File::create(log).ctx("write", log)?;
    let err = out.try_clone().ctx("write", log)?;
    let mut cmd = Command::new(&exe);
    cmd.arg("sync")
        .current_dir(project_dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .env("PATH", user_path)
        .env_remove("VIRTUAL_ENV")
        .env_remove("COVE_PROJECT")
        .env_remove(STATE_VAR);
    // SAFETY: setsid is async-signal-safe, as code between fork and exec must be.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| Error::Spawn { program: exe, source })?;
    Ok(child.id())
}

/// What turns `prev`'s shell into `next`'s: PATH (take out the hook's entries, insert the new
/// environment's `bin` right after the shims), `VIRTUAL_ENV` and `VIRTUAL_ENV_PROMPT` (unless the
/// user's own venv holds them), `COVE_PROJECT` and the state itself. Only what differs from the
/// shell's current values is written.
pub fn changes(prev: &State, next: &mut State, vars: &ShellVars, shims: &Path) -> Changes {
    let mut c = Changes::default();
    let mut entries = without_ours(&vars.path, prev, shims);
    if let Some(new) = &next.inserted {
        entries = edit_path(&join_path(&entries), None, Some(new), shims);
    }
    if join_path(&entries) != vars.path {
        c.path = Some(entries);
    }
    next.ours = prev.ours.clone();
    if let Some(new) = &next.inserted
        && !next.ours.contains(new)
    {
        if next.ours.len() >= OURS_MAX {
            next.ours.remove(0);
        }
        next.ours.push(new.clone());
    }

    let ours_venv = prev.venv_set && vars.virtual_env.as_deref() == prev.env.as_deref().map(Path::as_os_str);
    let mut set = |name: &'static str, value: Option<&OsStr>, current: &Option<OsString>| {
        if current.as_deref() != value {
            c.vars.push((name, value.map(OsStr::to_os_string)));
        }
    };
    match (&next.env, &next.dir) {
        (Some(env), Some(dir)) if next.status == Status::Active => {
            if !foreign_venv(vars, prev) {
                next.venv_set = true;
                next.prev_prompt = if ours_venv { prev.prev_prompt.clone() } else { vars.venv_prompt.clone() };
                set("VIRTUAL_ENV", Some(env.as_os_str()), &vars.virtual_env);
                set("VIRTUAL_ENV_PROMPT", Some(dir.file_name().unwrap_or(dir.as_os_str())), &vars.venv_prompt);
            }
            set("COVE_PROJECT", Some(dir.as_os_str()), &vars.cove_project);
        }
        _ => {
            if ours_venv {
                set("VIRTUAL_ENV", None, &vars.virtual_env);
                set("VIRTUAL_ENV_PROMPT", prev.prev_prompt.as_deref(), &vars.venv_prompt);
            }
            if prev.status == Status::Active {
                set("COVE_PROJECT", None, &vars.cove_project);
            }
        }
    }
    let text = next.encode().map(OsString::from);
    set(STATE_VAR, text.as_deref(), &vars.state);
    c
}

/// PATH's entries without the hook's: the one it inserted last (its first occurrence after the
/// shims) and every copy of the ones it inserted before.
fn without_ours(path: &OsStr, prev: &State, shims: &Path) -> Vec<OsString> {
    let mut entries = edit_path(path, prev.inserted.as_deref(), None, shims);
    entries.retain(|e| !prev.ours.iter().any(|o| o.as_os_str() == e && Some(o) != prev.inserted.as_ref()));
    entries
}

/// PATH's entries with `remove` taken out (its first occurrence after the shims, else its first
/// anywhere) and `insert` put right after the shims (first when the shims are not on PATH).
/// Byte-exact: everything else keeps its bytes and order, empty entries included.
pub fn edit_path(path: &OsStr, remove: Option<&Path>, insert: Option<&Path>, shims: &Path) -> Vec<OsString> {
    let mut entries: Vec<&[u8]> =
        if path.is_empty() { Vec::new() } else { path.as_bytes().split(|b| *b == b':').collect() };
    let shims = shims.as_os_str().as_bytes();
    let after_shims = |entries: &[&[u8]]| entries.iter().position(|e| *e == shims).map_or(0, |i| i + 1);
    if let Some(old) = remove {
        let old = old.as_os_str().as_bytes();
        let from = after_shims(&entries);
        let at = entries[from..]
            .iter()
            .position(|e| *e == old)
            .map(|i| i + from)
            .or_else(|| entries.iter().position(|e| *e == old));
        if let Some(i) = at {
            entries.remove(i);
        }
    }
    if let Some(new) = insert {
        let at = after_shims(&entries);
        entries.insert(at, new.as_os_str().as_bytes());
    }
    entries.into_iter().map(|e| OsStr::from_bytes(e).to_os_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::shells::{Bash, Fish, ShellKind, Zsh};

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    fn joined(entries: &[OsString]) -> String {
        join_path(entries).into_string().unwrap()
    }

    #[test]
    fn rendered_scripts_bake_in_quoted_paths_and_no_placeholder_is_left() {
        let exe = Path::new("/opt/my tools/cove");
        let shims = Path::new("/home/u/.local/share/cove/shims");
        for kind in <ShellKind as clap::ValueEnum>::value_variants() {
            let text = render(kind.shell(), exe, shims);
            assert!(!text.contains("__COVE_EXE__") && !text.contains("__COVE_SHIMS__"), "{text}");
        }
        let bash = render(&Bash, exe, shims);
        assert!(bash.contains("__cove_exe='/opt/my tools/cove'\n"), "{bash}");
        assert!(bash.contains("__cove_shims='/home/u/.local/share/cove/shims'\n"));
        assert!(bash.contains("PROMPT_COMMAND=(_cove_hook "));
        let zsh = render(&Zsh, exe, shims);
        assert!(zsh.contains("add-zsh-hook precmd _cove_hook") && zsh.contains("add-zsh-hook chpwd _cove_hook"));
        let fish = render(&Fish, exe, shims);
        assert!(fish.contains("set -g __cove_exe '/opt/my tools/cove'\n"), "{fish}");
        assert!(fish.contains("--on-event fish_prompt --on-variable PWD"));
        let nu = render(ShellKind::Nu.shell(), exe, shims);
        assert!(nu.contains("const __cove_exe = r#'/opt/my tools/cove'#\n"), "{nu}");
        let xonsh = render(ShellKind::Xonsh.shell(), exe, shims);
        assert!(xonsh.contains("_cove_exe = \"/opt/my tools/cove\"\n"), "{xonsh}");
        let elvish = render(ShellKind::Elvish.shell(), exe, shims);
        assert!(elvish.contains("var cove-exe = '/opt/my tools/cove'\n"), "{elvish}");
        let ps = render(ShellKind::Powershell.shell(), exe, shims);
        assert!(ps.contains("$global:__cove_exe = '/opt/my tools/cove'\n"), "{ps}");
    }

    #[test]
    fn state_round_trips_any_bytes() {
        let st = State {
            status: Status::Active,
            dir: Some(PathBuf::from("/p/a;b=c,d%e f")),
            manifest: Some(PathBuf::from("/p/a;b=c,d%e f/cove.toml")),
            watch: vec![PathBuf::from("/x,y"), PathBuf::from(OsStr::from_bytes(b"/\xff"))],
            fingerprint: "0123abcd".into(),
            env: Some(PathBuf::from("/c/envs/k")),
            trust: Some(PathBuf::from("/d/trust/abc")),
            inserted: Some(PathBuf::from("/c/envs/k/bin")),
            ours: vec![PathBuf::from("/c/envs/j/bin"), PathBuf::from("/c/envs/k/bin")],
            venv_set: true,
            prev_prompt: Some(OsString::new()),
            pid: 42,
            since: 1_700_000_000,
            told: vec![PathBuf::from("/q"), PathBuf::from("/r")],
        };
        let text = st.encode().unwrap();
        assert!(text.starts_with("cove1;s=active;"), "{text}");
        assert!(!text.contains(' ') && !text.contains('\''), "shell-safe: {text}");
        assert_eq!(State::decode(OsStr::new(&text)), Some(st));
    }

    #[test]
    fn an_empty_state_is_not_written_and_foreign_text_is_ignored() {
        assert_eq!(State::default().encode(), None);
        assert_eq!(State::decode(os("cove0;s=active")), None);
        assert_eq!(State::decode(os("garbage")), None);
        assert_eq!(State::decode(os("cove1;s=bogus")), None);
    }

    #[test]
    fn entering_inserts_after_the_shims_and_leaving_restores_the_bytes() {
        let shims = Path::new("/s");
        let path = os("/before:/s:/usr/bin::/bin");
        let env = Path::new("/c/envs/k/bin");
        let entered = join_path(&edit_path(path, None, Some(env), shims));
        assert_eq!(entered, "/before:/s:/c/envs/k/bin:/usr/bin::/bin");
        let left = join_path(&edit_path(&entered, Some(env), None, shims));
        assert_eq!(left, path);
        // Switching replaces the entry in place; the user's own copy of it further on stays.
        let other = Path::new("/c/envs/j/bin");
        let user_has_it = os("/s:/c/envs/k/bin:/usr/bin:/c/envs/k/bin");
        assert_eq!(
            joined(&edit_path(user_has_it, Some(env), Some(other), shims)),
            "/s:/c/envs/j/bin:/usr/bin:/c/envs/k/bin"
        );
        // Without the shims on PATH the entry goes first; an empty PATH comes back empty.
        assert_eq!(joined(&edit_path(os("/usr/bin"), None, Some(env), shims)), "/c/envs/k/bin:/usr/bin");
        let empty = join_path(&edit_path(os(""), None, Some(env), shims));
        assert_eq!(join_path(&edit_path(&empty, Some(env), None, shims)), "");
    }

    fn active(dir: &str, env: &str) -> State {
        State {
            status: Status::Active,
            dir: Some(dir.into()),
            manifest: Some(Path::new(dir).join("cove.toml")),
            env: Some(env.into()),
            inserted: Some(Path::new(env).join("bin")),
            ..State::default()
        }
    }

    fn code(shell: &dyn Shell, prev: &State, next: &mut State, vars: &ShellVars) -> String {
        shell.render(&changes(prev, next, vars, Path::new("/s")))
    }

    #[test]
    fn entering_switching_and_leaving_in_bash() {
        let outside = ShellVars { path: "/s:/usr/bin".into(), ..ShellVars::default() };
        let mut a = active("/p/a", "/c/envs/ka");
        let entered = code(&Bash, &State::default(), &mut a, &outside);
        let state_a = a.encode().unwrap();
        assert_eq!(
            entered,
            format!(
                "export PATH='/s:/c/envs/ka/bin:/usr/bin'\nexport VIRTUAL_ENV='/c/envs/ka'\nexport VIRTUAL_ENV_PROMPT='a'\nexport COVE_PROJECT='/p/a'\nexport __COVE_STATE='{state_a}'\n"
            )
        );

        let in_a = ShellVars {
            path: "/s:/c/envs/ka/bin:/usr/bin".into(),
            virtual_env: Some("/c/envs/ka".into()),
            venv_prompt: Some("a".into()),
            cove_project: Some("/p/a".into()),
            state: Some(state_a.into()),
        };
        let mut b = active("/p/b", "/c/envs/kb");
        let switched = code(&Bash, &a, &mut b, &in_a);
        assert!(
            switched.starts_with("export PATH='/s:/c/envs/kb/bin:/usr/bin'\nexport VIRTUAL_ENV='/c/envs/kb'\nexport VIRTUAL_ENV_PROMPT='b'\nexport COVE_PROJECT='/p/b'\n"),
            "{switched}"
        );
        assert_eq!(b.ours, [PathBuf::from("/c/envs/ka/bin"), PathBuf::from("/c/envs/kb/bin")]);

        let mut out = State::default();
        let left = code(&Bash, &a, &mut out, &in_a);
        assert_eq!(
            left,
            "export PATH='/s:/usr/bin'\nunset VIRTUAL_ENV\nunset VIRTUAL_ENV_PROMPT\nunset COVE_PROJECT\nexport __COVE_STATE='cove1;s=outside;o=/c/envs/ka/bin'\n"
        );
    }

    #[test]
    fn a_users_own_venv_is_left_alone() {
        // Active before entering: cove puts its bin on PATH but leaves VIRTUAL_ENV and its prompt.
        let before = ShellVars {
            path: "/mine/bin:/s:/usr/bin".into(),
            virtual_env: Some("/mine".into()),
            venv_prompt: Some("(mine) ".into()),
            ..ShellVars::default()
        };
        let mut a = active("/p/a", "/c/envs/ka");
        let entered = code(&Fish, &State::default(), &mut a, &before);
        assert!(
            entered.starts_with(
                "set -gx PATH '/mine/bin' '/s' '/c/envs/ka/bin' '/usr/bin'\nset -gx COVE_PROJECT '/p/a'\n"
            ),
            "{entered}"
        );
        assert!(!a.venv_set);
        let inside = ShellVars {
            path: "/mine/bin:/s:/c/envs/ka/bin:/usr/bin".into(),
            cove_project: Some("/p/a".into()),
            state: a.encode().map(Into::into),
            ..before.clone()
        };
        assert!(path_as_left(&inside.path, &a) && foreign_venv(&inside, &a));
        let mut out = State::default();
        let left = code(&Fish, &a, &mut out, &inside);
        assert_eq!(
            left,
            "set -gx PATH '/mine/bin' '/s' '/usr/bin'\nset -e -g COVE_PROJECT\nset -gx __COVE_STATE 'cove1;s=outside;o=/c/envs/ka/bin'\n"
        );

        // Its `deactivate` then restores the PATH it saved inside the project, with cove's bin:
        // not as the hook left it, so the next prompt takes the bin out.
        let deactivated = ShellVars {
            path: "/s:/c/envs/ka/bin:/usr/bin".into(),
            state: out.encode().map(Into::into),
            ..ShellVars::default()
        };
        assert!(!path_as_left(&deactivated.path, &out) && !is_steady(&out, None, &deactivated));
        let mut again = State { ours: out.ours.clone(), ..State::default() };
        assert_eq!(code(&Bash, &out, &mut again, &deactivated), "export PATH='/s:/usr/bin'\n");
    }

    #[test]
    fn a_venv_activated_inside_the_project_is_left_alone_and_taken_over_when_gone() {
        let mut a = active("/p/a", "/c/envs/ka");
        let outside = ShellVars { path: "/s:/usr/bin".into(), ..ShellVars::default() };
        code(&Bash, &State::default(), &mut a, &outside);
        assert!(a.venv_set);
        let mine = ShellVars {
            path: "/mine/bin:/s:/c/envs/ka/bin:/usr/bin".into(),
            virtual_env: Some("/mine".into()),
            venv_prompt: Some("(mine) ".into()),
            cove_project: Some("/p/a".into()),
            state: a.encode().map(Into::into),
        };
        // Leaving: the user's VIRTUAL_ENV and prompt stay.
        let mut out = State::default();
        let left = code(&Bash, &a, &mut out, &mine);
        assert_eq!(
            left,
            "export PATH='/mine/bin:/s:/usr/bin'\nunset COVE_PROJECT\nexport __COVE_STATE='cove1;s=outside;o=/c/envs/ka/bin'\n"
        );
        // Staying: not as left (the hook set VIRTUAL_ENV; now it is another); re-deciding keeps
        // the user's, and once it is gone the hook sets its own again.
        let mut stay = active("/p/a", "/c/envs/ka");
        let kept = code(&Bash, &a, &mut stay, &mine);
        assert!(!kept.contains("VIRTUAL_ENV"), "{kept}");
        assert!(!stay.venv_set);
        let gone =
            ShellVars { virtual_env: None, venv_prompt: None, state: stay.encode().map(Into::into), ..mine.clone() };
        let mut back = active("/p/a", "/c/envs/ka");
        let set = code(&Bash, &stay, &mut back, &gone);
        assert!(set.contains("export VIRTUAL_ENV='/c/envs/ka'\nexport VIRTUAL_ENV_PROMPT='a'\n"), "{set}");
    }

    #[test]
    fn untrusted_remembers_the_folder_after_leaving() {
        let vars = ShellVars { path: "/s:/usr/bin".into(), ..ShellVars::default() };
        let untrusted = State {
            status: Status::Untrusted,
            dir: Some("/p/u".into()),
            manifest: Some("/p/u/cove.toml".into()),
            told: vec!["/p/u".into()],
            ..State::default()
        };
        let entered = code(&Zsh, &State::default(), &mut untrusted.clone(), &vars);
        assert!(entered.starts_with("export __COVE_STATE='cove1;s=untrusted;"), "no PATH change: {entered}");
        let vars = ShellVars { state: untrusted.encode().map(Into::into), ..vars };
        let mut left = State { told: untrusted.told.clone(), ..State::default() };
        assert_eq!(code(&Zsh, &untrusted, &mut left, &vars), "export __COVE_STATE='cove1;s=outside;told=/p/u'\n");
    }

    #[test]
    fn outside_any_project_with_no_state_is_steady() {
        let vars = ShellVars::default();
        assert!(is_steady(&State::default(), None, &vars));
        let p = Project {
            dir: "/p/a".into(),
            manifest: "/p/a/cove.toml".into(),
            kind: crate::plan::project::Kind::CoveToml,
        };
        assert!(!is_steady(&State::default(), Some(&p), &vars));
        assert!(!is_steady(&active("/p/a", "/nonexistent/envs/k"), None, &vars));
    }

    #[test]
    fn a_layer_being_built_keeps_the_prompt_steady() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let layer = cache.entry(cache::Kind::Layer, "k");
        let p = Project {
            dir: "/p/a".into(),
            manifest: "/p/a/cove.toml".into(),
            kind: crate::plan::project::Kind::CoveToml,
        };
        let prev = State {
            status: Status::Pending,
            dir: Some(p.dir.clone()),
            manifest: Some(p.manifest.clone()),
            fingerprint: fingerprint(&[]),
            env: Some(layer.dir().to_path_buf()),
            ..State::default()
        };
        let vars = ShellVars::default();
        assert!(!is_steady(&prev, Some(&p), &vars), "nothing building: look again");
        crate::fsx::create_private_dir(&crate::cache::Bucket::LOCKS.under(&cache.root)).unwrap();
        let _building = crate::cache::filelock::exclusive(&layer.lock(), "the layer", true).unwrap();
        assert!(is_steady(&prev, Some(&p), &vars), "its layer's lock is held: still building");
    }

    #[test]
    fn the_fingerprint_sees_a_file_change_and_a_new_file() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("cove.toml");
        let g = t.path().join(".python-version");
        std::fs::write(&f, "dependencies = []\n").unwrap();
        let watch = vec![f.clone(), g.clone()];
        let first = fingerprint(&watch);
        assert_eq!(fingerprint(&watch), first);
        std::fs::write(&g, "3.12\n").unwrap();
        let second = fingerprint(&watch);
        assert_ne!(second, first);
        std::fs::write(&f, "dependencies = [\"alpha\"]\n").unwrap();
        assert_ne!(fingerprint(&watch), second);
    }
}
