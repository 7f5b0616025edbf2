//! How cove talks on stderr: colour only on a terminal (never under `NO_COLOR` or `TERM=dumb`),
//! the error format, and the one place the error and hint lines are printed.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

/// Whether stderr gets colour.
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && std::io::stderr().is_terminal()
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const HINT: Style = Style::new().dimmed();

/// `cove: error: …` and, when there is something to do, `  hint: …`.
pub fn print_error(e: &crate::error::Error) {
    let c = color();
    let paint = |style: Style, text: &str| {
        if c { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_string() }
    };
    eprintln!("{} {e}", paint(ERROR, "cove: error:"));
    if let Some(hint) = e.hint() {
        eprintln!("  {}", paint(HINT, &format!("hint: {hint}")));
    }
}

/// `print_error`'s text without colour, as one message (the shell hook's, which may be JSON).
pub fn error_text(e: &crate::error::Error) -> String {
    match e.hint() {
        Some(hint) => format!("cove: error: {e}\n  hint: {hint}"),
        None => format!("cove: error: {e}"),
    }
}

/// The hook's message when an edit (or `cove untrust`) took the trust of the manifest it had
/// active: what changed and the command that turns the environment back on.
pub fn trust_lapsed(manifest: &std::path::Path, changes: &[String], trust_cmd: &str) -> String {
    let name = manifest.file_name().map_or_else(|| manifest.display().to_string(), |n| n.to_string_lossy().into());
    if changes.is_empty() {
        format!("cove: {name} is no longer trusted; the environment is off until `{trust_cmd}`")
    } else {
        format!("cove: {name} changed ({}); the environment is off until `{trust_cmd}`", changes.join(", "))
    }
}

/// The hook's message when it starts a background build.
pub fn prebuild_started(project: &std::path::Path, log: &std::path::Path) -> String {
    format!(
        "cove: building the environment for {} in the background; `python` waits for it (log: {})",
        project.display(),
        log.display()
    )
}

/// One of the hook's messages, on stderr.
pub fn say(message: &str) {
    eprintln!("{message}");
}
