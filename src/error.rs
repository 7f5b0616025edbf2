//! The one place where cove's errors are worded.
//!
//! Every variant carries the data a user needs (file, line, column, the command to run);
//! `Display` gives the one-line message and [`Error::hint`] the line that says what to do.
//! `main` prints them as `cove: error: …` / `  hint: …` and exits 1 (2 for usage errors).

use std::fmt;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A place in a file, 1-based, as editors show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// The line and column of byte `offset` in `text`.
    pub fn at(file: &Path, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        // A byte inside a character counts as the character's start.
        let before = &text[..(0..=offset).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Pos { file: file.to_path_buf(), line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// How to get uv, said where it is missing. Not `pip install uv`: in a project that would be
/// `pip` through cove's shim, which edits the project's manifest.
pub const INSTALL_UV: &str = "rerun cove's `./install.sh` (it puts uv in cove's data folder), put uv on PATH (https://docs.astral.sh/uv/), set COVE_UV to its path, or use `--backend pip`";

/// A requirement as written, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    pub text: String,
}

/// A lock file beside the manifest that no longer matches it (`why`), so it is not used;
/// `refresh` is the command that makes it match again. Said when building, by `cove status`,
/// and as `cove lock --check`'s error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleLock {
    pub lock: PathBuf,
    pub manifest: PathBuf,
    pub why: String,
    pub refresh: String,
}

impl fmt::Display for StaleLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} no longer matches {} ({}), so it is not used; run `{}` to refresh it",
            file_name(&self.lock),
            file_name(&self.manifest),
            self.why,
            self.refresh
        )
    }
}

/// The exit statuses cove itself gives (a program it execs gives its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Success = 0,
    /// Any error not named below.
    Failure = 1,
    /// Wrong use of the command line or of a flag's value.
    Usage = 2,
    /// No program by that name (as a shell says "command not found").
    NotFound = 127,
    /// Stopped by Ctrl-C (128 + SIGINT), with what it was doing undone.
    Interrupted = 130,
}

#[derive(Debug)]
pub enum Error {
    /// Bad input in a manifest, config file or script block.
    Invalid { pos: Pos, message: String, hint: Option<String> },
    /// A filesystem operation failed.
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    /// The command needs a project and there is none from here upward.
    NoProject { cwd: PathBuf },
    /// No interpreter satisfies the request.
    /// `source` says where the request came from: a `file:line:column`, or a setting's name.
    NoInterpreter { wanted: String, source: Option<String>, found: Vec<String> },
    /// `cove pin`: the version is outside the manifest's constraint (`constraint`: its text and
    /// where it is written), or no installed interpreter matches it (`install`: the command that
    /// would provide one).
    PinUnsatisfied { pin: String, constraint: Option<String>, found: Vec<String>, install: Option<String> },
    /// There is no real interpreter (or command) to pass through to.
    NotFound { name: String },
    /// The manifest is not trusted (yet, or any more).
    Untrusted { manifest: PathBuf, changes: Vec<String>, trust_cmd: String },
    /// The user declined the trust prompt.
    TrustDeclined { manifest: PathBuf },
    /// The installer failed; its output has been shown. `failed`: the packages its output
    /// says it found no version of; `at`: where the manifest asks for the first of them;
    /// `offline`: offline mode was on (no index was asked).
    Install {
        what: String,
        status: String,
        log: Option<PathBuf>,
        failed: Vec<String>,
        at: Option<Box<Written>>,
        offline: bool,
    },
    /// A program cove runs could not be started.
    Spawn { program: PathBuf, source: std::io::Error },
    /// Waited too long for a lock.
    LockTimeout { what: String, path: PathBuf, seconds: u64 },
    /// A console-script shim found its command neither in the project's environment nor on PATH.
    CommandNotFound { name: String, manifest: Option<PathBuf> },
    /// A console-script shim in a trusted project whose environment is not built, for a name
    /// cove does not know it provides (so it built nothing), with nothing by that name on PATH.
    CommandNotBuilt { name: String, manifest: PathBuf },
    /// A build the shell hook started in the background did not finish the environment.
    PrebuildFailed { project: PathBuf, log: PathBuf },
    /// A version name that would reach outside the interpreter folder it is joined to (`../x`),
    /// and where it was read (`file:line`, or the variable).
    BadVersionName { name: String, source: String },
    /// The shims called themselves.
    Recursion { name: String },
    /// A pip command cove will not run in a project.
    PipRefused { reason: String, instead: String },
    /// Wrong use of the command line.
    Usage(String),
    /// A size that is not like `500M` or `10G` (`--max-size`).
    BadSize { value: String },
    /// A duration that is not like `30d`, `12h` or `90m` (`--older-than`).
    BadDuration { value: String },
    /// `.venv` is a real folder, or a link cove did not make (`target`): cove leaves it alone.
    VenvInTheWay { path: PathBuf, target: Option<PathBuf> },
    /// A folder could not be watched for changes.
    Watch { path: PathBuf, source: notify::Error },
    /// `cove doctor` found problems (already described on stdout).
    DoctorFound { problems: usize },
    /// A cache or trust-store folder could be written by someone else (it could be used to
    /// plant an environment that `python` would run, or trust in a manifest); `setting` moves it.
    UnsafeFolder { path: PathBuf, problem: CacheProblem, setting: &'static str },
    /// An environment variable or config value that must be an absolute path is not.
    BadPath { setting: String, value: String },
    /// `COVE_UV` names no executable file.
    BadUv { value: PathBuf },
    /// A manifest or a file it includes is not a regular file (a FIFO, a device), or is too
    /// large to be one.
    NotAFile { path: PathBuf, size: Option<u64> },
    /// `cove add`/`cove remove` (or pip in a project) was stopped by a signal; the manifest and
    /// its trust were put back.
    Interrupted { manifest: PathBuf },
    /// `cove push` without a team cache set.
    NoRemote,
    /// An upload to the team cache failed.
    Push { key: String, url: String, why: String },
    /// A manifest whose structure leaves no place for the edit asked for (`what`).
    CannotEdit { path: PathBuf, what: String },
    /// `cove remove` (or `pip uninstall`) named requirements the manifest does not have.
    NoSuchRequirement { path: PathBuf, names: Vec<String> },
    /// The requirement to change is a line of a file the manifest includes (`-r`), not its own.
    InIncludedFile { requirement: String, file: PathBuf, manifest: PathBuf, removing: bool },
    /// A command that edits a project's manifest was run for a PEP 723 script.
    NotForScripts { command: &'static str },
    /// uv is needed (asked for, or to lock) and cannot be found.
    NoUv { asked: bool },
    /// `cove lock` found neither uv nor a pip that locks (`has`: what the interpreter has).
    NoLocker { has: String },
    /// The resolver failed; its output was shown (and kept in `log`).
    LockFailed { status: String, log: Option<PathBuf> },
    /// The resolver's lock does not give what the manifest asks for (`why`).
    LockMismatch { why: String },
    /// The resolver wrote a lock file that is not TOML.
    LockUnreadable { path: PathBuf, message: String },
    /// `cove lock --check`: no lock file beside the manifest.
    NoLockFile { dir: PathBuf },
    /// `cove lock --check`: the lock file does not match the manifest.
    StaleLock(StaleLock),
    /// `cove init` where a cove.toml already is.
    AlreadyExists { path: PathBuf },
    /// `cove init` beside a pyproject.toml that is the project's manifest (without `--force`).
    PyprojectIsManifest { pyproject: PathBuf },
    /// `cove init` could not import every line of a requirements file (`refused`: why, each).
    CannotImport { file: PathBuf, refused: Vec<String> },
    /// `cove pin --manifest` for a requirements.txt, which has no place for a Python pin.
    NoPinPlace { manifest: PathBuf, version: String },
    /// `cove pin --manifest`: `.python-version` (at `file`) picks `names`, which the new pin rules out.
    PinRuledOut { file: PathBuf, names: String, version: String },
    /// `cove push` of an environment that is not built.
    NotBuilt { key: String },
    /// `cove trust PATH` of a file cove does not read as a manifest.
    NotAManifest { path: PathBuf },
    /// HOME is not set, and the command writes into the home folder.
    NoHome,
    /// A venv without a `lib/pythonX.Y/site-packages` folder.
    NoSitePackages { venv: PathBuf },
    /// A program that does not run as a Python interpreter (`status`), or tells unexpected facts.
    NotAnInterpreter { path: PathBuf, status: String },
    /// An interpreter's facts were asked for from the cache only, and it has none yet.
    FactsNotCached { path: PathBuf },
    /// A config file others could have written (a config can grant trust).
    UnsafeConfig { path: PathBuf },
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { action, path: path.into(), source }
    }

    pub fn invalid(pos: Pos, message: impl Into<String>) -> Error {
        Error::Invalid { pos, message: message.into(), hint: None }
    }

    pub fn with_hint(self, text: impl Into<String>) -> Error {
        match self {
            Error::Invalid { pos, message, .. } => Error::Invalid { pos, message, hint: Some(text.into()) },
            e => e,
        }
    }

    /// What to do about it, when there is something to do.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid { hint, .. } => hint.clone(),
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                Some("check the folder's owner and permissions".into())
            }
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::ReadOnlyFilesystem => {
                Some("the cache is on a read-only filesystem; set COVE_CACHE_DIR to a writable folder".into())
            }
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                Some("the disk is full; free some space (`cove gc` frees unused environments), then try again".into())
            }
            Error::Io { .. } => None,
            Error::NoProject { .. } => Some(
                "create one with `cove init`, or cd into a folder with cove.toml, pyproject.toml or requirements.txt"
                    .into(),
            ),
            Error::NoInterpreter { found, .. } => Some(if found.is_empty() {
                "install one (e.g. `pyenv install 3.12` or `uv python install 3.12`)".into()
            } else {
                format!(
                    "found: {}; install a matching one (e.g. `uv python install`) or change the constraint",
                    found.join(", ")
                )
            }),
            Error::PinUnsatisfied { constraint: Some(_), found, .. } => Some(format!(
                "pin a version within it, or change the constraint (found: {})",
                if found.is_empty() { "none".to_string() } else { found.join(", ") }
            )),
            Error::PinUnsatisfied { pin, found, install, .. } => {
                let get = match install {
                    Some(cmd) => format!("`{cmd}` would provide one (cove does not download interpreters)"),
                    None => format!("install one (e.g. `pyenv install {pin}`)"),
                };
                Some(if found.is_empty() { get } else { format!("found: {}; {get}", found.join(", ")) })
            }
            Error::NotFound { name } => Some(format!(
                "no `{name}` found on PATH after cove's shims; install Python or fix PATH (see `cove doctor`)"
            )),
            Error::Untrusted { trust_cmd, .. } => Some(format!("review it, then run `{trust_cmd}`")),
            Error::TrustDeclined { manifest } => {
                Some(format!("run `cove trust {}` when you are ready", manifest.display()))
            }
            Error::Install { log, offline, .. } => {
                let offline = offline.then_some(
                    "offline mode is on (COVE_OFFLINE, --offline or `offline = true`), so no index was asked: that may be why",
                );
                let log = log.as_ref().map(|log| format!("the full log is in {}", log.display()));
                let said: Vec<String> = offline.map(String::from).into_iter().chain(log).collect();
                let fix = || "fix the requirement or index settings, then run `cove sync`".to_string();
                Some(if said.is_empty() { fix() } else { said.join("; ") })
            }
            Error::Spawn { .. } => Some("install it, or set `backend` (see `cove doctor`)".into()),
            Error::LockTimeout { .. } => {
                Some("is another cove process stuck? set COVE_LOCK_TIMEOUT (seconds) to wait longer".into())
            }
            Error::CommandNotFound { name, manifest: Some(manifest) } => Some(format!(
                "`{name}` is not in the environment of {} nor on PATH; add the package that provides it to that manifest",
                manifest.display()
            )),
            Error::CommandNotBuilt { name, manifest } => Some(format!(
                "the environment of {} is not built, and cove builds it only for a command it knows it provides; run `cove sync` there, then `{name}` again",
                manifest.display()
            )),
            Error::CommandNotFound { name, manifest: None } => Some(format!(
                "`{name}` comes from a cove environment: run it in a project that has it, or install it for all projects"
            )),
            Error::BadVersionName { .. } => {
                Some("name an installed version such as `3.12` (pyenv refuses such names too)".into())
            }
            Error::PrebuildFailed { log, .. } => {
                Some(format!("see {}, or run `cove sync` in the project to build it in view", log.display()))
            }
            Error::Recursion { .. } => {
                Some("remove cove's shims folder from the PATH that the target program sets".into())
            }
            Error::PipRefused { instead, .. } => Some(instead.clone()),
            Error::Usage(_) => Some("see `cove --help`".into()),
            Error::BadSize { .. } => Some("write it like 500M or 10G (powers of 1024)".into()),
            Error::BadDuration { .. } => Some("write it like 30d, 12h or 90m".into()),
            Error::VenvInTheWay { target: None, .. } => {
                Some("move it aside (`mv .venv .venv.old`), then run `cove link` again".into())
            }
            Error::VenvInTheWay { target: Some(_), .. } => {
                Some("remove that link (`rm .venv`), then run `cove link` again".into())
            }
            Error::Watch { source, .. } if matches!(source.kind, notify::ErrorKind::MaxFilesWatch) => {
                Some("raise the inotify limit: `sudo sysctl fs.inotify.max_user_watches=524288`".into())
            }
            Error::Watch { .. } => None,
            Error::DoctorFound { .. } => Some("fix what is marked above, then run `cove doctor` again".into()),
            Error::UnsafeFolder { path, problem: CacheProblem::Owner(_), setting } => Some(format!(
                "what others put there would run as you; `chown -R \"$(id -u)\" {}`, or set {setting} to a folder of your own",
                path.display()
            )),
            Error::UnsafeFolder { path, problem: CacheProblem::Writable(_), setting } => Some(format!(
                "what others put there would run as you; run `chmod go-w {}`, or set {setting} to a folder of your own",
                path.display()
            )),
            Error::BadPath { setting, .. } => {
                Some(format!("set {setting} to a full path (starting with `/` or `~/`), or unset it for the default"))
            }
            Error::BadUv { .. } => {
                Some("point COVE_UV at the uv program, unset it to find uv on PATH, or use `--backend pip`".into())
            }
            Error::NotAFile { size: None, .. } => {
                Some("cove reads manifests only from regular files (not pipes or devices); replace it with one".into())
            }
            Error::NotAFile { size: Some(_), .. } => {
                Some("no manifest is that large; check what the file holds (or what the include names)".into())
            }
            Error::Interrupted { .. } => None,
            Error::NoRemote => Some(
                "set `url` in the `[remote]` table of your config file, or COVE_REMOTE (e.g. oci://ghcr.io/team/cove)"
                    .into(),
            ),
            Error::Push { .. } => Some("`cove doctor` checks the remote; nothing local changed".into()),
            Error::CannotEdit { .. } => Some("edit the file by hand; cove changed nothing".into()),
            Error::NoSuchRequirement { .. } => Some("see the names with `cove status`".into()),
            Error::InIncludedFile { file, removing: true, .. } => Some(format!("remove it from {}", file.display())),
            Error::InIncludedFile { file, .. } => Some(format!("change it there, in {}", file.display())),
            Error::NotForScripts { command: "pin" } => {
                Some("write `requires-python` in the script's `# /// script` block".into())
            }
            Error::NotForScripts { command: "lock" } => Some("run it in the folder of the project's manifest".into()),
            Error::NotForScripts { .. } => Some("edit the script's `# /// script` block".into()),
            Error::NoUv { .. } => Some(INSTALL_UV.into()),
            Error::NoLocker { .. } => Some(format!("{INSTALL_UV}; or upgrade that interpreter's pip")),
            Error::LockFailed { log: Some(log), .. } => {
                Some(format!("the resolver's output is above and in {}", log.display()))
            }
            Error::LockFailed { log: None, .. } => {
                Some("fix the requirement or index settings, then run `cove lock` again".into())
            }
            Error::LockMismatch { .. } | Error::LockUnreadable { .. } => {
                Some("run `cove lock -v` to see the resolver's output".into())
            }
            Error::NoLockFile { .. } => Some("run `cove lock` to write pylock.toml".into()),
            Error::StaleLock(_) => None,
            Error::AlreadyExists { .. } => Some("edit it, or use `cove add REQ` / `cove remove NAME`".into()),
            Error::PyprojectIsManifest { .. } => Some(
                "add requirements to it with `cove add REQ`, or run `cove init --force` to use a cove.toml instead"
                    .into(),
            ),
            Error::CannotImport { .. } => Some(
                "cove uses requirements.txt as the manifest as it is, no `cove init` needed; or rewrite those lines and run `cove init` again"
                    .into(),
            ),
            Error::NoPinPlace { version, .. } => {
                Some(format!("run `cove pin {version}` to write .python-version instead"))
            }
            Error::PinRuledOut { version, .. } => {
                Some(format!("run `cove pin {version}` to change .python-version too, or remove it"))
            }
            Error::NotBuilt { .. } => Some("run `cove sync` first".into()),
            Error::NotAManifest { .. } => Some(
                "name a cove.toml, pyproject.toml, requirements.txt, a script with a `# /// script` block, or a project folder"
                    .into(),
            ),
            Error::NoHome => Some("set HOME to your home folder".into()),
            Error::NoSitePackages { .. } => Some("`cove sync --refresh` builds it again".into()),
            Error::NotAnInterpreter { .. } => {
                Some("check that file, or pick another interpreter (`cove python` lists them)".into())
            }
            Error::FactsNotCached { .. } => None,
            Error::UnsafeConfig { path } => {
                Some(format!("run `chmod go-w {}` (and chown it to yourself)", path.display()))
            }
        }
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> Exit {
        match self {
            Error::Usage(_) | Error::BadSize { .. } | Error::BadDuration { .. } => Exit::Usage,
            Error::NotFound { .. } | Error::CommandNotFound { .. } | Error::CommandNotBuilt { .. } => Exit::NotFound,
            Error::Interrupted { .. } => Exit::Interrupted,
            _ => Exit::Failure,
        }
    }
}

/// A path's last part, for messages that name a file beside another.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid { pos, message, .. } => write!(f, "{pos}: {message}"),
            Error::Io { action, path, source } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::NoProject { cwd } => write!(f, "no project found in {} or any parent folder", cwd.display()),
            Error::NoInterpreter { wanted, source, found } => {
                let from = source.as_ref().map(|source| format!(" (from {source})")).unwrap_or_default();
                let none = if found.is_empty() { "; no interpreters were found" } else { "" };
                write!(f, "no installed Python satisfies {wanted}{from}{none}")
            }
            Error::PinUnsatisfied { pin, constraint: Some(c), .. } => {
                write!(f, "Python {pin} is outside the project's constraint {c}; nothing was written")
            }
            Error::PinUnsatisfied { pin, constraint: None, .. } => {
                write!(f, "no installed Python matches {pin}; nothing was written")
            }
            Error::NotFound { name } => write!(f, "`{name}` not found"),
            Error::Untrusted { manifest, changes, .. } => {
                if changes.is_empty() {
                    write!(f, "{} is not trusted; cove installs nothing from it until you trust it", manifest.display())
                } else {
                    write!(
                        f,
                        "{} changed since you trusted it ({}); cove installs nothing from it until you trust it again",
                        manifest.display(),
                        changes.join(", ")
                    )
                }
            }
            Error::TrustDeclined { manifest } => write!(f, "not trusted: {}; nothing was built", manifest.display()),
            Error::Install { what, status, at: Some(at), .. } => write!(
                f,
                "{}:{}: {}: no version of it could be installed (installing {what} failed, {status}); no environment was kept",
                at.file.display(),
                at.line,
                at.text
            ),
            Error::Install { what, status, .. } => {
                write!(f, "installing {what} failed ({status}); no environment was kept")
            }
            Error::Spawn { program, source } => write!(f, "cannot run {}: {source}", program.display()),
            Error::LockTimeout { what, path, seconds } => {
                write!(f, "gave up after {seconds}s waiting for {what} (lock {})", path.display())
            }
            Error::CommandNotFound { name, .. } | Error::CommandNotBuilt { name, .. } => {
                write!(f, "{name}: command not found")
            }
            Error::PrebuildFailed { project, .. } => {
                write!(f, "the background build of the environment for {} failed", project.display())
            }
            Error::BadVersionName { name, source } => write!(
                f,
                "{source}: invalid version name {name:?}: a version name may not contain `/`, `..` or NUL (it would reach outside the interpreters folder)"
            ),
            Error::Recursion { name } => write!(f, "the `{name}` shim keeps calling itself"),
            Error::PipRefused { reason, .. } => write!(f, "{reason}"),
            Error::Usage(message) => write!(f, "{message}"),
            Error::BadSize { value } => write!(f, "invalid size {value:?}"),
            Error::BadDuration { value } => write!(f, "invalid duration {value:?}"),
            Error::VenvInTheWay { path, target: None } => {
                write!(f, "{} is a real folder, not a link cove made; cove leaves it alone", path.display())
            }
            Error::VenvInTheWay { path, target: Some(target) } => {
                write!(f, "{} links to {}, not to cove's cache; cove leaves it alone", path.display(), target.display())
            }
            Error::Watch { path, source } => write!(f, "cannot watch {}: {source}", path.display()),
            Error::DoctorFound { problems: 1 } => write!(f, "cove doctor found 1 problem"),
            Error::DoctorFound { problems } => write!(f, "cove doctor found {problems} problems"),
            Error::UnsafeFolder { path, problem: CacheProblem::Owner(uid), .. } => {
                write!(f, "refusing to use {}: it belongs to another user (uid {uid})", path.display())
            }
            Error::UnsafeFolder { path, problem: CacheProblem::Writable(mode), .. } => {
                write!(f, "refusing to use {}: others can write to it (mode {mode:o})", path.display())
            }
            Error::BadPath { setting, value } => write!(f, "{setting} must be an absolute path, not {value:?}"),
            Error::BadUv { value } => write!(f, "COVE_UV={} is not an executable file", value.display()),
            Error::NotAFile { path, size: None } => write!(f, "cannot read {}: not a regular file", path.display()),
            Error::NotAFile { path, size: Some(size) } => {
                write!(f, "cannot read {}: {size} bytes is too large for a manifest", path.display())
            }
            Error::Interrupted { manifest } => {
                write!(
                    f,
                    "interrupted: {} and its trust are back as they were; nothing was changed",
                    manifest.display()
                )
            }
            Error::NoRemote => write!(f, "no team cache is set, so there is nowhere to push to"),
            Error::Push { key, url, why } => write!(f, "cannot push environment {key} to {url}: {why}"),
            Error::CannotEdit { path, what } => write!(f, "{}: {what}", path.display()),
            Error::NoSuchRequirement { path, names } => {
                write!(f, "{} has no requirement named {}", path.display(), names.join(", "))
            }
            Error::InIncludedFile { requirement, file, manifest, removing: true } => write!(
                f,
                "{requirement} is not in {} itself but in {}, which it includes",
                file_name(manifest),
                file.display()
            ),
            Error::InIncludedFile { requirement, file, manifest, .. } => {
                write!(f, "{requirement} is in {}, which {} includes", file.display(), file_name(manifest))
            }
            Error::NotForScripts { command: "pin" } => write!(f, "cove pin pins a project's Python, not a script's"),
            Error::NotForScripts { command: "lock" } => write!(f, "cove lock locks a project, not a script"),
            Error::NotForScripts { command } => write!(f, "cove {command} edit project manifests, not scripts"),
            Error::NoUv { asked: true } => write!(f, "backend \"uv\" was asked for but uv is not installed"),
            Error::NoUv { asked: false } => write!(f, "uv is not installed"),
            Error::NoLocker { has } => write!(f, "cove lock needs uv, or pip 25.1 or newer (`pip lock`): {has}"),
            Error::LockFailed { status, .. } => {
                write!(f, "resolving the requirements failed ({status}); the lock file was left as it was")
            }
            Error::LockMismatch { why } => {
                write!(f, "the resolver's lock does not match the manifest ({why}); nothing was written")
            }
            Error::LockUnreadable { path, message } => write!(f, "{}: invalid TOML: {message}", path.display()),
            Error::NoLockFile { dir } => write!(f, "{} has no lock file", dir.display()),
            Error::StaleLock(stale) => write!(f, "{stale}"),
            Error::AlreadyExists { path } => write!(f, "{} already exists", path.display()),
            Error::PyprojectIsManifest { pyproject } => write!(
                f,
                "{} is already this project's manifest; a cove.toml here would take precedence over it",
                pyproject.display()
            ),
            Error::CannotImport { file, refused } => {
                write!(f, "cove init cannot import {} as a cove.toml: {}", file_name(file), refused.join("; "))
            }
            Error::NoPinPlace { manifest, .. } => write!(f, "{} has no place for a Python pin", manifest.display()),
            Error::PinRuledOut { file, names, version } => write!(
                f,
                "{} picks {names}, which the new python {version:?} rules out; nothing was written",
                file.display()
            ),
            Error::NotBuilt { key } => write!(f, "environment {key} is not built yet"),
            Error::NotAManifest { path } => write!(f, "{} is not a manifest cove reads", path.display()),
            Error::NoHome => write!(f, "HOME is not set: cove setup writes into your home folder's shell files"),
            Error::NoSitePackages { venv } => write!(f, "{} has no site-packages folder", venv.display()),
            Error::NotAnInterpreter { path, status } => {
                write!(f, "{} does not run as a Python interpreter ({status})", path.display())
            }
            Error::FactsNotCached { path } => write!(f, "the facts about {} are not cached yet", path.display()),
            Error::UnsafeConfig { path } => {
                write!(f, "refusing config file {}: it is not owned by you or others can write it", path.display())
            }
        }
    }
}

impl std::error::Error for Error {}

/// Attach a path to an `io::Result`, so every filesystem error names its path.
pub trait IoContext<T> {
    fn ctx(self, action: &'static str, path: &Path) -> Result<T>;

    /// [`IoContext::ctx`], with a file or folder that is not there `Ok(None)`.
    fn found(self, action: &'static str, path: &Path) -> Result<Option<T>>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, action: &'static str, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(action, path, e))
    }

    fn found(self, action: &'static str, path: &Path) -> Result<Option<T>> {
        match self {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            r => r.ctx(action, path).map(Some),
        }
    }
}

/// The valid key nearest to `unknown`, for "did you mean" hints.
pub fn nearest<'a>(unknown: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (levenshtein(unknown, v), *v))
        .filter(|(d, v)| *d <= (v.len() / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Why a cache folder is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheProblem {
    /// Owned by this uid, not the user.
    Owner(u32),
    /// Group- or world-writable (the mode bits).
    Writable(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pos_counts_lines_and_columns_from_one() {
        let text = "a = 1\nbb = [\n  \"x\"]\n";
        let p = Pos::at(Path::new("f.toml"), text, text.find("\"x\"").unwrap());
        assert_eq!((p.line, p.column), (3, 3));
        assert_eq!(p.to_string(), "f.toml:3:3");
    }

    #[test]
    fn nearest_suggests_close_keys_only() {
        let keys = ["python", "dependencies", "index"];
        assert_eq!(nearest("dependecies", &keys), Some("dependencies"));
        assert_eq!(nearest("pyton", &keys), Some("python"));
        assert_eq!(nearest("zzzzzzzzzz", &keys), None);
    }
}
