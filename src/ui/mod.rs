//! How cove talks: the one writer to stderr (notes, warnings, errors, the progress line, an
//! installer's output) and the door to stdout. Colour only on a terminal (never under
//! `NO_COLOR` or `TERM=dumb`).
//!
//! Text that comes from a manifest or a path could hold control characters: an `ESC[2K` in a
//! marker's string would erase a URL requirement from the review the user answers `y` to
//! (SPEC §5). So every line said here has them escaped (see [`escape`]), and what goes to
//! stdout too, but for the newlines and tabs of its layout (values in it are escaped with
//! [`shown`]).

pub mod progress;
pub mod units;

use std::borrow::Cow;
use std::fmt;
use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use crate::error::Error;

/// Whether stderr gets colour.
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && std::io::stderr().is_terminal()
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const HINT: Style = Style::new().dimmed();

/// Whether `c` could change what a terminal shows beyond itself: C0 and C1 controls, DEL, and
/// the invisible marks that reorder text (bidi embeddings, overrides and isolates).
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every character [`needs_escape`] says could act on the terminal written
/// visibly, as Rust writes it: `\n`, `\r`, `\t`, else `\u{1b}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_but(text, &[])
}

/// [`escape`], keeping the characters in `keep` (the layout of a document).
fn escape_but<'t>(text: &'t str, keep: &[char]) -> Cow<'t, str> {
    let odd = |c: char| needs_escape(c) && !keep.contains(&c);
    if !text.chars().any(odd) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !odd(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// A value shown inside cove's own text, escaped: `format!("project: {}", shown(dir.display()))`.
pub fn shown<T: fmt::Display>(value: T) -> Shown<T> {
    Shown(value)
}

pub struct Shown<T>(T);

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.0.to_string()))
    }
}

/// One `cove: …` line on stderr.
fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    // Over a build's live line, which the next tick draws again below.
    if LIVE_SHOWN.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = write!(err, "\r\x1b[2K");
    }
    let _ = writeln!(err, "cove: {}", escape(text));
}

/// What cove did or is doing (`cove: trusted …`); nothing when quiet.
pub fn note(quiet: bool, text: &str) {
    if !quiet {
        say(text);
    }
}

/// What the user should know even when quiet (`cove: … changed during the build`).
pub fn warn(text: &str) {
    say(text);
}

/// `cove: error: …` and, when there is something to do, `  hint: …`.
pub fn error(e: &Error) {
    let c = color();
    let paint = |style: Style, text: &str| {
        if c { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_string() }
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {}", paint(ERROR, "cove: error:"), escape(&e.to_string()));
    if let Some(hint) = e.hint() {
        let _ = writeln!(err, "  {}", paint(HINT, &format!("hint: {}", escape(&hint))));
    }
}

/// The trust prompt's review (SPEC §5), escaped, one line each, as shown before `Trust and
/// build? [y/N]`: what changed since it was last trusted (`~rich>=13 → rich==13.7.1`), one a
/// line, or that it is not trusted yet; then every requirement it asks for.
pub fn trust_review(manifest: &std::path::Path, changes: &[String], asks: &[&str]) -> String {
    let path = escape(&manifest.display().to_string()).into_owned();
    let mut text = if changes.is_empty() {
        format!("cove: {path} is not trusted yet\n")
    } else {
        let mut t = format!("cove: {path} changed since you trusted it:\n");
        t.extend(changes.iter().map(|c| format!("cove:   {}\n", escape(c))));
        t
    };
    if !asks.is_empty() {
        let list: Vec<Cow<str>> = asks.iter().map(|r| escape(r)).collect();
        text.push_str(&format!("cove: it asks for: {}\n", list.join(", ")));
    }
    text
}

/// Show the trust review on stderr.
pub fn show_review(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The live progress line on a terminal: drawn over the previous one.
pub fn live_line(text: &str) {
    let mut err = std::io::stderr().lock();
    LIVE_SHOWN.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = write!(err, "\r\x1b[2K{}", escape(text));
    let _ = err.flush();
}

/// Take the live progress line away.
pub fn clear_line() {
    let mut err = std::io::stderr().lock();
    LIVE_SHOWN.store(false, std::sync::atomic::Ordering::SeqCst);
    let _ = write!(err, "\r\x1b[2K");
}

/// Whether a live progress line is on the terminal now.
static LIVE_SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// An installer's output passed through (`--verbose`, or the end of it when it failed), a line
/// at a time: each of cove's internal paths in it (an attempt's folder, the slot it is built
/// through, see `staging`) written as the path it is published at, so what the user reads
/// names the environment, not a folder that is gone once the build ends (issue 18, finding
/// 10); its lines and tabs kept, any other control character escaped, so a package's build
/// output cannot draw over what cove says.
pub struct InstallerOutput<'a> {
    /// Each internal path, with the path to show in its place.
    paths: &'a [(std::path::PathBuf, std::path::PathBuf)],
    /// The line begun but not ended yet.
    pending: Vec<u8>,
}

/// A line longer than this is shown without waiting for its end (a progress bar drawn with
/// carriage returns, or no newline at all).
const LONG_LINE: usize = 16 << 10;

impl<'a> InstallerOutput<'a> {
    pub fn new(paths: &'a [(std::path::PathBuf, std::path::PathBuf)]) -> InstallerOutput<'a> {
        InstallerOutput { paths, pending: Vec::new() }
    }

    /// Show every line `bytes` completes; keep the last, unfinished one for later.
    pub fn write(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let cut = match self.pending.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            // A C1 control is 0xC2 0x80..=0x9F in UTF-8: a trailing 0xC2 waits for its byte.
            None if self.pending.len() > LONG_LINE => self.pending.len() - usize::from(self.pending.ends_with(&[0xc2])),
            None => return,
        };
        let rest = self.pending.split_off(cut);
        let lines = std::mem::replace(&mut self.pending, rest);
        self.show(&lines);
    }

    /// Show what is left (the output ended without a newline).
    pub fn finish(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        self.show(&rest);
    }

    fn show(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let _ = std::io::stderr().lock().write_all(&installer_text(bytes, self.paths));
    }
}

/// `data` as [`InstallerOutput`] shows it: paths replaced, then controls escaped.
fn installer_text(data: &[u8], paths: &[(std::path::PathBuf, std::path::PathBuf)]) -> Vec<u8> {
    let mut data = Cow::Borrowed(data);
    // The longest first: one internal path may begin another.
    let mut paths: Vec<_> = paths.iter().collect();
    paths.sort_by_key(|(from, _)| std::cmp::Reverse(from.as_os_str().len()));
    for (from, to) in paths {
        let (from, to) = (from.as_os_str().as_encoded_bytes(), to.as_os_str().as_encoded_bytes());
        if !from.is_empty() && data.windows(from.len()).any(|w| w == from) {
            data = Cow::Owned(crate::fsx::replace_bytes(&data, from, to));
        }
    }
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        match b {
            b'\n' | b'\t' => out.push(b),
            // CRLF is a line end; a lone CR would draw over the line.
            b'\r' if data.get(i + 1) == Some(&b'\n') => {}
            0x00..=0x1f | 0x7f => out.extend_from_slice(escape(&char::from(b).to_string()).as_bytes()),
            0xc2 if data.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) => {
                out.extend_from_slice(format!("\\u{{{:x}}}", data[i + 1]).as_bytes());
                i += 1;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Print to stdout, every control character escaped but the newlines and tabs of the layout;
/// a closed pipe (`cove list | head`) is not an error.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(escape_but(text, &['\n', '\t']).as_bytes());
    let _ = stdout.flush();
}

/// `value` as pretty JSON on stdout. serde_json escapes C0 controls in strings; this also
/// writes DEL, C1 controls and bidi marks as `\u` escapes (the same strings to a JSON reader).
pub fn json(value: &impl serde::Serialize) {
    if let Some(text) = json_text(value) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }
}

/// `value` as [`json`] writes it, without the last newline. A raw newline in serde_json's
/// output is always layout (one in a string is written `\n`), so only it is kept.
fn json_text(value: &impl serde::Serialize) -> Option<String> {
    let text = serde_json::to_string_pretty(value).ok()?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `print_error`'s text without colour, as one message (the shell hook's, which may be JSON).
pub fn error_text(e: &crate::error::Error) -> String {
    let hint = e.hint().map(|hint| format!("\n  hint: {hint}")).unwrap_or_default();
    escape_but(&format!("cove: error: {e}{hint}"), &['\n']).into_owned()
}

/// A problem said in passing, on one line (`cove: … is not trusted; review it, then run …`),
/// escaped: for the hook, which says it (or hands it to a shell
/// reading JSON) itself.
pub fn told_text(e: &Error) -> String {
    let text = e.hint().map_or_else(|| e.to_string(), |hint| format!("{e}; {hint}"));
    format!("cove: {}", escape(&text))
}

/// The hook's message when an edit (or `cove untrust`) took the trust of the manifest it had
/// active: what changed and the command that turns the environment back on. Escaped.
pub fn trust_lapsed(manifest: &std::path::Path, changes: &[String], trust_cmd: &str) -> String {
    let name = crate::error::file_name(manifest);
    let text = if changes.is_empty() {
        format!("{name} is no longer trusted; the environment is off until `{trust_cmd}`")
    } else {
        format!("{name} changed ({}); the environment is off until `{trust_cmd}`", changes.join(", "))
    };
    format!("cove: {}", escape(&text))
}

/// The hook's message when it starts a background build. Escaped.
pub fn prebuild_started(project: &std::path::Path, log: &std::path::Path) -> String {
    let text = format!(
        "building the environment for {} in the background; `python` waits for it (log: {})",
        project.display(),
        log.display()
    );
    format!("cove: {}", escape(&text))
}

/// One of the hook's messages (made by the functions above), on stderr; escaped again, in case.
pub fn said(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape_but(message, &['\n']));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "requests>=2.31 ; python_version >= '3.8' — café /tmp/a b";
        assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn controls_and_reordering_marks_are_written_visibly() {
        assert_eq!(escape("a\x1b[2Kb"), "a\\u{1b}[2Kb");
        assert_eq!(escape("x\x1b]8;;http://e\x07y"), "x\\u{1b}]8;;http://e\\u{7}y");
        assert_eq!(escape("nul\0 del\x7f"), "nul\\u{0} del\\u{7f}");
        assert_eq!(escape("l1\nl2\r\tend"), "l1\\nl2\\r\\tend");
        assert_eq!(escape("c1\u{9b}2K"), "c1\\u{9b}2K");
        assert_eq!(escape("abc\u{202e}fed\u{2066}\u{2069}"), "abc\\u{202e}fed\\u{2066}\\u{2069}");
        assert_eq!(escape("\u{200f}\u{2028}"), "\\u{200f}\\u{2028}");
        // The escaped form is plain ASCII: escaping again changes nothing.
        let once = escape("\x1b\u{202e}\n").into_owned();
        assert_eq!(escape(&once), once);
    }

    #[test]
    fn documents_keep_their_layout_but_nothing_else() {
        assert_eq!(escape_but("a\tb\nc\x1b[2K\r", &['\n', '\t']), "a\tb\nc\\u{1b}[2K\\r");
        assert_eq!(shown("dir\nname\x1b").to_string(), "dir\\nname\\u{1b}");
    }

    #[test]
    fn the_trust_review_shows_every_requirement_escaped() {
        let asks = ["alpha ; os_name == '\x1b[1A\x1b[2K'", "beta @ https://evil.example/b.whl"];
        let text = trust_review(std::path::Path::new("/p/evil\x1b[2K/cove.toml"), &[], &asks);
        assert!(!text.bytes().any(|b| b == 0x1b), "{text:?}");
        assert!(text.starts_with("cove: /p/evil\\u{1b}[2K/cove.toml is not trusted"), "{text}");
        assert!(
            text.ends_with(
                "cove: it asks for: alpha ; os_name == '\\u{1b}[1A\\u{1b}[2K', beta @ https://evil.example/b.whl\n"
            ),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2);
        let changed = trust_review(std::path::Path::new("/p/cove.toml"), &["~a>=1 → a==\x1b1".into()], &[]);
        assert_eq!(changed, "cove: /p/cove.toml changed since you trusted it:\ncove:   ~a>=1 → a==\\u{1b}1\n");
    }

    #[test]
    fn installer_output_names_the_published_path_and_escapes_controls() {
        let paths = [
            ("/c/slots/slot-0-000".into(), "/c/envs/k".into()),
            ("/c/tmp/k.1.2".into(), "/c/envs/k".into()),
            ("/c/tmp/k.1.2/lib".into(), "/c/envs/k/lib".into()),
        ];
        let text = installer_text(
            b"Using Python 3.12 environment at: /c/slots/slot-0-000\r\nbad\x1b[2K /c/tmp/k.1.2/lib/x\n",
            &paths,
        );
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "Using Python 3.12 environment at: /c/envs/k\nbad\\u{1b}[2K /c/envs/k/lib/x\n"
        );
        assert_eq!(crate::fsx::replace_bytes(b"aXbXX", b"X", b"yy"), b"ayybyyyy");
    }

    #[test]
    fn json_strings_escape_c1_and_bidi_too() {
        let value = serde_json::json!({"a": "x\u{1b}\u{9b}\u{202e}y"});
        let text = json_text(&value).unwrap();
        assert_eq!(text, "{\n  \"a\": \"x\\u001b\\u009b\\u202ey\"\n}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
