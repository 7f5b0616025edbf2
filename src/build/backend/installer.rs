//! What every installer backend is ([`Backend`]): what it is asked to install ([`Install`]),
//! where its output goes ([`Output`]: the build log, the user's terminal with `--verbose`), and
//! the arguments both backends give pip-style installers.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, IoContext, Result};
use crate::manifest::Index;
use crate::plan::interpreter::Interpreter;

/// What to install.
pub struct Install<'a> {
    pub requirements: &'a [String],
    /// `-c` constraints: written to a file in the environment and passed as `-c FILE`.
    pub constraints: &'a [String],
    /// The lock's files for exactly `requirements`, when it names them all: the installer
    /// fetches these and checks their hashes (see `locked`).
    pub locked: Option<&'a [crate::manifest::locks::Files]>,
    pub index: &'a Index,
    pub offline: bool,
    /// Another installer downloads at the same time (the project's layer, built beside its
    /// environment): this one opens fewer connections at once (see `uv::BESIDE_DOWNLOADS`).
    pub beside: bool,
}

pub trait Backend {
    fn name(&self) -> &'static str;
    /// Create an empty venv at `env` on `base`.
    fn create(&self, base: &Interpreter, env: &Path, out: &Output) -> Result<()>;
    /// Give the venv at `env` pip, then install the requirements into it.
    fn install(&self, base: &Interpreter, env: &Path, what: &Install, out: &Output) -> Result<()>;
    /// Install the folder `project` in editable mode (PEP 660), without its dependencies.
    fn install_editable(&self, env: &Path, project: &Path, deps: bool, what: &Install, out: &Output) -> Result<()>;
    /// Install the project at `project` editable (no dependencies: every package of the lock
    /// named in `skip` is left out) from its `uv.lock`, which says what a separate metadata call
    /// would: `Ok(false)` when this backend cannot.
    fn install_editable_locked(
        &self,
        _env: &Path,
        _project: &Path,
        _skip: &[&str],
        _what: &Install,
        _out: &Output,
    ) -> Result<bool> {
        Ok(false)
    }
    /// Whether the installer remembers what it learns about an environment's interpreter by
    /// the interpreter's path (uv does, in its cache), so that installing through a path used
    /// before spares it starting Python to ask (see `staging::Staging::stable_path`).
    fn remembers_interpreters_by_path(&self) -> bool {
        false
    }
    /// Whether installing a project editable into a layer runs the installer from the layer's
    /// base environment (pip does, found through the layer's `.pth`), so the environment must
    /// be ready first; uv installs on its own, so a layer can be built while its environment is.
    fn needs_base_to_install_editable(&self) -> bool {
        true
    }
}

/// Where installer output goes: always the build log (named when a build fails); also the
/// user's stderr, live, with `--verbose`. On failure the log is shown in full.
pub struct Output {
    pub log: PathBuf,
    pub verbose: bool,
    /// A lock the installer inherits, so that it stays held while the installer runs, even
    /// when cove is killed: the slot its attempt is built through (see `staging`).
    pub hand_down: Option<std::os::fd::RawFd>,
    /// Internal paths the installer is given (an attempt's folder, its slot), each with the
    /// path to show in its place: where the folder is published (see `ui::InstallerOutput`).
    pub shown_paths: Vec<(PathBuf, PathBuf)>,
    /// Whether a failed installer's output is shown (`false` for an attempt with a fallback:
    /// the log keeps it).
    pub show_failure: bool,
}

impl Output {
    /// This output, with `from` also shown as `to` (a seed's attempt folder as the seed's).
    pub fn showing(&self, from: &Path, to: &Path) -> Output {
        let mut shown_paths = self.shown_paths.clone();
        shown_paths.push((from.to_path_buf(), to.to_path_buf()));
        Output { shown_paths, show_failure: self.show_failure, ..self.trial() }
    }

    /// This output for an attempt that has a fallback: a failure is written to the log only.
    pub fn trial(&self) -> Output {
        Output {
            log: self.log.clone(),
            verbose: self.verbose,
            hand_down: self.hand_down,
            shown_paths: self.shown_paths.clone(),
            show_failure: false,
        }
    }

    /// Run `cmd` with its output sent here; fail with the installer's status.
    pub fn run(&self, mut cmd: Command, what: &str) -> Result<()> {
        let mut log =
            std::fs::OpenOptions::new().create(true).append(true).open(&self.log).ctx("write log", &self.log)?;
        // One pipe for both streams, read here until the installer (and anything it left
        // running) closes it: its lines stay in the order written, and no thread is needed.
        let (mut reader, writer) = std::io::pipe().ctx("write log", &self.log)?;
        let writer2 = writer.try_clone().ctx("write log", &self.log)?;
        cmd.stdin(Stdio::null()).stdout(writer).stderr(writer2);
        crate::isolated::isolate(&mut cmd);
        let program = PathBuf::from(cmd.get_program());
        die_with_parent(&mut cmd);
        if let Some(fd) = self.hand_down {
            inherit(&mut cmd, fd);
        }
        let spawned = cmd.spawn();
        // The command holds this process's copies of the pipe's write end: closed now, so the
        // read below ends when the installer's copies do.
        drop(cmd);
        let mut child = spawned.map_err(|source| Error::Spawn { program, source })?;
        let slot = running::enter(child.id() as i32);
        // Kept in memory too: on a full disk the log cannot be written, and the installer's
        // "No space left on device" must still reach the user.
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        let mut live = crate::ui::InstallerOutput::new(&self.shown_paths);
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let _ = log.write_all(&buf[..n]);
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > MAX_SHOWN {
                kept.drain(..kept.len() - MAX_SHOWN);
            }
            if self.verbose {
                live.write(&buf[..n]);
            }
        }
        live.finish();
        let status = child.wait();
        running::leave(slot);
        let status = status.ctx("wait for", &self.log)?;
        if status.success() {
            return Ok(());
        }
        if !self.verbose && self.show_failure {
            let mut shown = crate::ui::InstallerOutput::new(&self.shown_paths);
            shown.write(&kept);
            shown.finish();
        }
        let status = status.code().map_or_else(|| "killed by a signal".into(), |c| format!("exit status {c}"));
        let failed = super::blame::named_in(&String::from_utf8_lossy(&kept));
        Err(Error::Install {
            what: what.to_string(),
            status,
            log: Some(self.log.clone()),
            failed,
            at: None,
            offline: false,
        })
    }
}

/// The installers running now (an environment's and its layer's may run at once), so an
/// interrupted `cove add` can stop them (see `change`) and put the manifest back.
pub mod running {
    use std::sync::atomic::{AtomicI32, Ordering};

    /// Process ids, 0 for a free slot. More installers than slots at once go unrecorded (cove
    /// runs at most two); they still get SIGTERM when cove exits (see `die_with_parent`).
    static SLOTS: [AtomicI32; 4] = [const { AtomicI32::new(0) }; 4];

    pub(super) fn enter(pid: i32) -> Option<usize> {
        SLOTS.iter().position(|s| s.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst).is_ok())
    }

    pub(super) fn leave(slot: Option<usize>) {
        if let Some(i) = slot {
            SLOTS[i].store(0, Ordering::SeqCst);
        }
    }

    /// Send `sig` to every installer running. Async-signal-safe: atomics and `kill` only.
    pub fn signal(sig: libc::c_int) {
        for s in &SLOTS {
            let pid = s.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: kill is async-signal-safe.
                unsafe { libc::kill(pid, sig) };
            }
        }
    }
}

/// How much of a failed installer's output is shown (the end of it; the log has it all).
const MAX_SHOWN: usize = 256 << 10;

/// Have the installer stopped (SIGTERM) when cove dies, so `kill -9` of a build does not leave
/// `uv` or `pip` running on. Correctness does not depend on it (an orphan can only write into
/// its own attempt's folder, see `staging`); it saves the work and the disk. Linux only.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid/prctl/getppid are async-signal-safe and the closure allocates nothing.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // cove died between fork and prctl: the signal will never come.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

/// Have the installer inherit `fd` (cove opens every file close-on-exec).
fn inherit(cmd: &mut Command, fd: std::os::fd::RawFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: fcntl is async-signal-safe; it changes the child's own descriptor table only.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Index options in pip's spelling (uv accepts the same).
pub fn index_args(index: &Index, offline: bool, pip_style: bool) -> Vec<String> {
    let mut a = Vec::new();
    if let Some(url) = &index.url {
        a.extend(["--index-url".to_string(), url.clone()]);
    }
    for url in &index.extra_urls {
        a.extend(["--extra-index-url".to_string(), url.clone()]);
    }
    for link in &index.find_links {
        a.extend(["--find-links".to_string(), link.clone()]);
    }
    if index.no_index || (offline && pip_style) {
        a.push("--no-index".into());
    }
    if offline && !pip_style {
        a.push("--offline".into());
    }
    a
}

/// The file holding the constraints, inside the environment being built.
pub const CONSTRAINTS_FILE: &str = "cove-constraints.txt";

/// `-c FILE` for the installer, after writing the constraints to `env`/[`CONSTRAINTS_FILE`];
/// nothing when there are none.
pub fn constraint_args(env: &Path, what: &Install) -> Result<Vec<std::ffi::OsString>> {
    if what.constraints.is_empty() {
        return Ok(Vec::new());
    }
    let file = env.join(CONSTRAINTS_FILE);
    let text: String = what.constraints.iter().map(|c| format!("{c}\n")).collect();
    crate::fsx::write_atomic(&file, text.as_bytes())?;
    Ok(vec!["-c".into(), file.into_os_string()])
}
