//! An opt-in record of where a cold run's time goes, for `bench/realworld`: with
//! `COVE_TIMINGS=<file>`, a build appends one `phase seconds` line per phase to that file.
//!
//! Phases are kept in memory as they end ([`time`]); the variable is read and the file written
//! only when a build is over ([`flush`]), so the warm path, which makes no plan and builds
//! nothing, never looks. The phases: `plan` (manifest, interpreter choice, lock, key), with
//! `interpreter` and `lock` (reading a lock file's pins) inside it; `venv` (creating the
//! environment), `install` (the requirements), `pull` (fetching and unpacking it from the team
//! cache instead), `seal` (publishing it); `layer` (the project's
//! editable layer, whole). A phase that runs twice has two lines.

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

/// The variable naming the file.
pub const VAR: &str = "COVE_TIMINGS";

static PHASES: Mutex<Vec<(&str, f64)>> = Mutex::new(Vec::new());

/// Run `f`, keeping how long it took as `phase`.
pub fn time<T>(phase: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let seconds = start.elapsed().as_secs_f64();
    if let Ok(mut phases) = PHASES.lock() {
        phases.push((phase, seconds));
    }
    out
}

/// Append the phases kept so far to the file `COVE_TIMINGS` names, when it is set, and forget
/// them. Best effort: a file that cannot be written loses the record, never the build.
pub fn flush() {
    let Some(phases) = PHASES.lock().ok().map(|mut phases| std::mem::take(&mut *phases)) else { return };
    let Some(path) = std::env::var_os(VAR).filter(|p| !p.is_empty()) else { return };
    let text: String = phases.iter().map(|(phase, s)| format!("{phase} {s:.3}\n")).collect();
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(text.as_bytes());
    }
}
