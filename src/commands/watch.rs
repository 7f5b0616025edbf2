//! `cove watch`: rebuild the project's environment whenever a file that feeds its key changes,
//! until Ctrl-C (exit 0).
//!
//! Watched: the manifest and every file it read (includes), `.python-version` and the other
//! manifest names in the project folder (a new `cove.toml` takes over), and the chosen
//! interpreter's file (upgraded in place → new key). Folders are watched, not files, and events
//! are filtered by name, so editors that save by writing a temp file and renaming it over the
//! original are seen. Events are debounced (200 ms of quiet); each settled change prints one
//! line: the key's change and the build's time, or the error. An untrusted manifest builds
//! nothing: on a terminal the change is shown and one `y` trusts and builds; otherwise (or on
//! `n`) the trust hint is printed and the trust store is watched until it is trusted.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::build::{self, Options, Outcome};
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::plan::interpreter::Finder;
use crate::plan::project::Project;
use crate::settings::Settings;

const QUIET: Duration = Duration::from_millis(200);
/// However busy the folder, act at least this often.
const MAX_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often the loop looks at the Ctrl-C flag.
const TICK: Duration = Duration::from_millis(100);

static STOP: AtomicBool = AtomicBool::new(false);
/// Set while the trust question waits for an answer on the terminal: Ctrl-C then ends watch at
/// once (the question reads only; nothing is half-done), where the read would go on waiting.
static ASKING: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    if ASKING.load(Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) };
    }
}

/// Folder → names in it that matter.
type Targets = BTreeMap<PathBuf, BTreeSet<OsString>>;

pub fn run(settings: &Settings) -> Result<()> {
    let project = crate::plan::resolve::require_project()?;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    let (tx, rx) = channel();
    let mut watcher =
        notify::recommended_watcher(tx).map_err(|e| Error::Watch { path: project.dir.clone(), source: e })?;
    let mut w = Watch {
        settings,
        finder: Finder::new(&settings.cache_dir, settings.shims_dir()),
        dir: project.dir.clone(),
        trust_store: settings.home_dir.join("trust"),
        key: None,
        targets: Targets::new(),
    };
    let targets = w.evaluate(None, project);
    w.rewatch(&mut watcher, targets)?;
    crate::ui::out(&format!("watching {} (Ctrl-C to stop)\n", w.describe_targets()));

    while !STOP.load(Ordering::SeqCst) {
        let Some(changed) = w.next_change(&rx) else { continue };
        let Some(project) = crate::plan::project::in_dir(&w.dir) else {
            crate::ui::out(&format!("{changed}: no manifest in {} any more; waiting for one\n", w.dir.display()));
            continue;
        };
        let targets = w.evaluate(Some(&changed), project);
        w.rewatch(&mut watcher, targets)?;
    }
    Ok(())
}

struct Watch<'a> {
    settings: &'a Settings,
    finder: Finder<'a>,
    dir: PathBuf,
    trust_store: PathBuf,
    /// The key last evaluated (`None` while untrusted).
    key: Option<String>,
    targets: Targets,
}

impl Watch<'_> {
    /// Wait for a relevant event, then for 200 ms of quiet; the names that changed, joined.
    /// `None` on a tick without one (so Ctrl-C is seen).
    fn next_change(&self, rx: &Receiver<notify::Result<notify::Event>>) -> Option<String> {
        let mut names = BTreeSet::new();
        let first = match rx.recv_timeout(TICK) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => return None,
            Err(RecvTimeoutError::Disconnected) => {
                STOP.store(true, Ordering::SeqCst);
                return None;
            }
        };
        self.collect(first, &mut names);
        if names.is_empty() {
            return None;
        }
        let started = Instant::now();
        while started.elapsed() < MAX_DEBOUNCE && !STOP.load(Ordering::SeqCst) {
            let Ok(event) = rx.recv_timeout(QUIET) else { break };
            self.collect(event, &mut names);
        }
        Some(names.into_iter().collect::<Vec<_>>().join(", "))
    }

    /// Add the watched names an event touches (reads and attribute-only changes do not count).
    fn collect(&self, event: notify::Result<notify::Event>, names: &mut BTreeSet<String>) {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                crate::ui::out(&format!("watch error: {e}\n"));
                return;
            }
        };
        if matches!(event.kind, EventKind::Access(_) | EventKind::Modify(notify::event::ModifyKind::Metadata(_))) {
            return;
        }
        for path in &event.paths {
            let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { continue };
            if dir == self.trust_store {
                names.insert("trust store".into());
            } else if self.targets.get(dir).is_some_and(|wanted| wanted.contains(name)) {
                names.insert(display_name(&self.dir, path));
            }
        }
    }

    /// Plan the project; build when the environment is missing; print one line. Returns what to
    /// watch next.
    fn evaluate(&mut self, changed: Option<&str>, project: Project) -> Targets {
        let prefix = changed.map(|c| format!("{c} changed: ")).unwrap_or_default();
        let mut targets = base_targets(&self.dir);
        let cache = Cache::new(&self.settings.cache_dir);
        let plan = match crate::plan::resolve::plan(project.clone(), self.settings, &self.finder) {
            Ok(plan) => plan,
            Err(e) => {
                // Keep watching what the manifest read last time, and the manifest itself.
                add(&mut targets, &project.manifest);
                for (dir, names) in &self.targets {
                    targets.entry(dir.clone()).or_default().extend(names.iter().cloned());
                }
                crate::ui::out(&format!("{prefix}{}\n", error_line(&e)));
                return targets;
            }
        };
        for file in &plan.manifest.files {
            add(&mut targets, file);
        }
        add(&mut targets, &plan.interpreter().path);
        let new = plan.key.short().to_string();
        let transition = match self.key.as_deref() {
            Some(old) if old != plan.key.hex => format!("key {} → {new}", &old[..12]),
            _ => format!("key {new}"),
        };
        let key_changed = self.key.as_deref() != Some(plan.key.hex.as_str());
        self.key = Some(plan.key.hex.clone());
        // On a terminal the change is shown and asked about, as `python` does (SPEC §5).
        ASKING.store(true, Ordering::SeqCst);
        let trusted = crate::plan::trust::require(&plan.manifest, self.settings, true);
        ASKING.store(false, Ordering::SeqCst);
        if let Err(e) = trusted {
            crate::ui::out(&format!("{prefix}{transition}; nothing built: {}\n", error_line(&e)));
            // `cove trust` writes the trust store: watch it (any name) to build once trusted.
            if crate::fsx::create_private_dir(&self.trust_store).is_ok() {
                targets.entry(self.trust_store.clone()).or_default();
            }
            self.key = None;
            return targets;
        }
        if cache.is_usable(&plan.key.hex) {
            if key_changed || changed.is_none() {
                let _ = build::ensure(&plan, self.settings, Options::default());
                crate::ui::out(&format!("{prefix}{transition}, already built\n"));
            } else {
                crate::ui::out(&format!("{prefix}key unchanged ({new})\n"));
            }
            return targets;
        }
        let started = Instant::now();
        match build::ensure(&plan, self.settings, Options::default()) {
            Ok(Outcome::Built) => {
                crate::ui::out(&format!("{prefix}{transition}, built in {:.1}s\n", started.elapsed().as_secs_f64()))
            }
            Ok(Outcome::AlreadyReady) => crate::ui::out(&format!("{prefix}{transition}, already built\n")),
            Err(e) => crate::ui::out(&format!("{prefix}{transition}: {}\n", error_line(&e))),
        }
        targets
    }

    /// Watch the folders of `targets` (and stop watching the ones no longer needed).
    fn rewatch(&mut self, watcher: &mut impl Watcher, targets: Targets) -> Result<()> {
        for dir in self.targets.keys() {
            if !targets.contains_key(dir) {
                let _ = watcher.unwatch(dir);
            }
        }
        for dir in targets.keys() {
            if !self.targets.contains_key(dir)
                && let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive)
            {
                let e = Error::Watch { path: dir.clone(), source: e };
                if *dir == self.dir {
                    return Err(e);
                }
                crate::ui::out(&format!("{}\n", error_line(&e)));
            }
        }
        self.targets = targets;
        Ok(())
    }

    fn describe_targets(&self) -> String {
        let mut names = Vec::new();
        for (dir, files) in &self.targets {
            for f in files {
                let p = dir.join(f);
                if p.exists() {
                    names.push(display_name(&self.dir, &p));
                }
            }
        }
        names.join(", ")
    }
}

/// The manifest names and `.python-version` in the project folder, whether or not they exist.
fn base_targets(dir: &Path) -> Targets {
    let names = ["cove.toml", "pyproject.toml", "requirements.txt", ".python-version"];
    Targets::from([(dir.to_path_buf(), names.iter().map(OsString::from).collect())])
}

fn add(targets: &mut Targets, file: &Path) {
    if let (Some(dir), Some(name)) = (file.parent(), file.file_name()) {
        targets.entry(dir.to_path_buf()).or_default().insert(name.to_os_string());
    }
}

/// A path relative to the project folder when inside it.
fn display_name(project_dir: &Path, path: &Path) -> String {
    path.strip_prefix(project_dir).unwrap_or(path).display().to_string()
}

/// An error as one line: the message, then the hint.
fn error_line(e: &Error) -> String {
    e.hint().map_or_else(|| format!("error: {e}"), |hint| format!("error: {e} (hint: {hint})"))
}
