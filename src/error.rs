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
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Pos { file: file.to_path_buf(), line, column }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
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
    /// The installer failed; its output has been shown.
    Install { what: String, status: String, log: Option<PathBuf> },
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
    UnsafeFolder { path: PathBuf, problem: crate::cache::CacheProblem, setting: &'static str },
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
    /// Anything else, with an optional hint.
    Other { message: String, hint: Option<String> },
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { action, path: path.into(), source }
    }

    pub fn invalid(pos: Pos, message: impl Into<String>) -> Error {
        Error::Invalid { pos, message: message.into(), hint: None }
    }

    pub fn other(message: impl Into<String>) -> Error {
        Error::Other { message: message.into(), hint: None }
    }

    pub fn with_hint(self, text: impl Into<String>) -> Error {
        match self {
            Error::Invalid { pos, message, .. } => Error::Invalid { pos, message, hint: Some(text.into()) },
            Error::Other { message, .. } => Error::Other { message, hint: Some(text.into()) },
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
            Error::Install { log: Some(log), .. } => Some(format!("the full log is in {}", log.display())),
            Error::Install { .. } => Some("fix the requirement or index settings, then run `cove sync`".into()),
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
            Error::UnsafeFolder { path, problem: crate::cache::CacheProblem::Owner(_), setting } => Some(format!(
                "what others put there would run as you; `chown -R \"$(id -u)\" {}`, or set {setting} to a folder of your own",
                path.display()
            )),
            Error::UnsafeFolder { path, problem: crate::cache::CacheProblem::Writable(_), setting } => Some(format!(
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
            Error::Other { hint, .. } => hint.clone(),
        }
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::BadSize { .. } | Error::BadDuration { .. } => 2,
            Error::NotFound { .. } | Error::CommandNotFound { .. } | Error::CommandNotBuilt { .. } => 127,
            Error::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid { pos, message, .. } => write!(f, "{pos}: {message}"),
            Error::Io { action, path, source } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::NoProject { cwd } => write!(f, "no project found in {} or any parent folder", cwd.display()),
            Error::NoInterpreter { wanted, source, found } => {
                write!(f, "no installed Python satisfies {wanted}")?;
                if let Some(source) = source {
                    write!(f, " (from {source})")?;
                }
                if found.is_empty() {
                    write!(f, "; no interpreters were found")?;
                }
                Ok(())
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
            Error::UnsafeFolder { path, problem: crate::cache::CacheProblem::Owner(uid), .. } => {
                write!(f, "refusing to use {}: it belongs to another user (uid {uid})", path.display())
            }
            Error::UnsafeFolder { path, problem: crate::cache::CacheProblem::Writable(mode), .. } => {
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
            Error::Other { message, .. } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {}

/// Attach a path to an `io::Result`, so every filesystem error names its path.
pub trait IoContext<T> {
    fn ctx(self, action: &'static str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, action: &'static str, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(action, path, e))
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
