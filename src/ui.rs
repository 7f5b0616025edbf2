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

/// A one-line note on stderr (`cove: …`), unless quiet.
pub fn note(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("cove: {text}");
    }
}
