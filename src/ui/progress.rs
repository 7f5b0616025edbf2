//! Build progress on stderr (never stdout, never on the warm path).
//!
//! On a terminal: one live line ("Building env 3f9a1c… · installing 17 packages · 2.1 s")
//! redrawn every 100 ms and replaced at the end by one summary line. Without a terminal: one
//! plain line per phase. Quiet: nothing. One live line at a time: a build that starts while
//! another's line is live (the project layer, built beside its environment) shows only its
//! summary line.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Progress {
    label: String,
    started: Instant,
    mode: Mode,
    phase: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Plain,
    Live,
    /// On a terminal while another build's line is live: only the summary.
    Summary,
}

/// Whether a build's live line is drawn now.
static LIVE_TAKEN: AtomicBool = AtomicBool::new(false);

impl Progress {
    /// Start reporting on `label` ("env 3f9a1c27e0b4"); `header` is a line for logs and pipes
    /// (the live line says the same); `first` is the first phase.
    pub fn start(label: String, header: Option<&str>, first: &str, quiet: bool, verbose: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() && !verbose && std::env::var("TERM").map_or(true, |t| t != "dumb") {
            if LIVE_TAKEN.swap(true, Ordering::SeqCst) { Mode::Summary } else { Mode::Live }
        } else {
            Mode::Plain
        };
        let mut p = Progress {
            label,
            started: Instant::now(),
            mode,
            phase: Arc::new(Mutex::new(String::new())),
            stop: Arc::new(AtomicBool::new(false)),
            ticker: None,
        };
        if let (Mode::Plain, Some(h)) = (mode, header) {
            crate::ui::note(false, h);
        }
        if mode == Mode::Live {
            let (phase, stop, label, started) = (p.phase.clone(), p.stop.clone(), p.label.clone(), p.started);
            p.ticker = Some(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let text = phase.lock().map(|t| t.clone()).unwrap_or_default();
                    crate::ui::live_line(&format!(
                        "Building {label} · {text} · {:.1} s",
                        started.elapsed().as_secs_f64()
                    ));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }));
        }
        p.phase(first);
        p
    }

    /// Enter a new phase ("installing 17 packages").
    pub fn phase(&self, text: &str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = text.to_string();
        }
        if self.mode == Mode::Plain {
            // A plain progress line: `cove: building env 3f9a…: installing 3 requirements`.
            crate::ui::note(false, &format!("building {}: {text}", self.label));
        }
    }

    fn clear(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
            crate::ui::clear_line();
        }
        if self.mode == Mode::Live {
            self.mode = Mode::Summary;
            LIVE_TAKEN.store(false, Ordering::SeqCst);
        }
    }

    /// Replace the live line with the summary: "Built env 3f9a1c… (…) in 2.4 s".
    pub fn finish(mut self, detail: &str) {
        self.clear();
        if self.mode != Mode::Quiet {
            crate::ui::note(
                false,
                &format!("built {} ({detail}) in {:.1} s", self.label, self.started.elapsed().as_secs_f64()),
            );
        }
    }

    /// Take the live line away before an error is printed.
    pub fn fail(mut self) {
        self.clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
