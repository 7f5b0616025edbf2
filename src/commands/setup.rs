//! `cove setup [--undo]`: put the shims folder on PATH for the shells that read no interactive rc
//! file — login shells, `zsh -c`, fish scripts — so coding agents, IDE task runners, `make` and
//! cron reach the project's environment without a hand-wired PATH (SPEC §7).
//!
//! Each file gets one block between two marker lines, rewritten in place when it is there
//! already (so running it twice changes nothing) and taken out exactly by `--undo`, which gives
//! back the file's bytes from before (a file cove created is removed again).
//!
//! | file | read by |
//! |---|---|
//! | `~/.profile` (and `~/.bash_profile`, `~/.bash_login` when they exist) | login shells: `bash -l`, `sh -l`, desktop sessions and the programs they start |
//! | `~/.zshenv` | every zsh, `zsh -c` included |
//! | `$XDG_CONFIG_HOME/fish/conf.d/cove.fish` | every fish |

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::settings::Settings;

const BEGIN: &str = "# >>> cove setup: the shims on PATH (`cove setup --undo` takes this out) >>>";
/// The begin line when cove had to end the file's last line before its block.
const BEGIN_NL: &str =
    "# >>> cove setup: the shims on PATH (`cove setup --undo` takes this out; it added the newline above) >>>";
const END: &str = "# <<< cove setup <<<";

/// One file `setup` writes.
struct Target {
    path: PathBuf,
    /// The block's body, between the markers.
    body: String,
    /// The whole file is cove's (fish's conf.d): created and removed whole.
    owned: bool,
}

pub fn run(settings: &Settings, undo: bool) -> Result<()> {
    let home = home()?;
    let shims = if undo { settings.shims_dir() } else { crate::shim::links::ensure(settings)? };
    for target in targets(&home, &shims) {
        let shown = shown(&target.path, &home);
        let old = std::fs::read(&target.path).found("read", &target.path)?;
        let old_text = old.as_deref().map(String::from_utf8_lossy).map(|t| t.into_owned());
        let new =
            if undo { without_block(old_text.as_deref()) } else { Some(with_block(old_text.as_deref(), &target)) };
        if new.as_deref() == old_text.as_deref() {
            say(&format!("{shown}: unchanged{}", if undo { " (no cove block)" } else { "" }));
            continue;
        }
        // No file before, or nothing left of one that is cove's: removed.
        match new {
            Some(text) if !(text.is_empty() && (target.owned || undo)) => {
                if let Some(parent) = target.path.parent() {
                    std::fs::create_dir_all(parent).ctx("create", parent)?;
                }
                crate::fsx::write_atomic(&target.path, text.as_bytes())?;
            }
            _ => std::fs::remove_file(&target.path).ctx("remove", &target.path)?,
        }
        if undo {
            say(&format!("{shown}: took out cove's block"));
        } else {
            say(&format!("{shown}: wrote"));
            for line in target.body.lines() {
                say(&format!("    {line}"));
            }
        }
    }
    if !undo {
        say("New login shells, `zsh -c` and fish now find cove's shims first; `cove doctor` checks each.");
    }
    Ok(())
}

fn say(line: &str) {
    crate::ui::out(&format!("{line}\n"));
}

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).ok_or(Error::NoHome)
}

fn shown(path: &Path, home: &Path) -> String {
    path.strip_prefix(home).map_or_else(|_| path.display().to_string(), |rest| format!("~/{}", rest.display()))
}

fn targets(home: &Path, shims: &Path) -> Vec<Target> {
    let (posix, q) = (posix_body(shims), sh_quote(shims));
    let mut out = vec![Target { path: home.join(".profile"), body: posix.clone(), owned: false }];
    // bash reads only the first of these it finds for a login shell, so each one that exists
    // gets the block too.
    for name in [".bash_profile", ".bash_login"] {
        let path = home.join(name);
        if path.is_file() {
            out.push(Target { path, body: posix.clone(), owned: false });
        }
    }
    out.push(Target { path: home.join(".zshenv"), body: posix, owned: false });
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"));
    out.push(Target {
        path: config.join("fish/conf.d/cove.fish"),
        body: format!("contains -- {q} $PATH; or set -gx PATH {q} $PATH\n"),
        owned: true,
    });
    out
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

fn posix_body(shims: &Path) -> String {
    let q = sh_quote(shims);
    format!("case \":$PATH:\" in *:{q}:*) ;; *) PATH={q}\":$PATH\"; export PATH ;; esac\n")
}

/// `text` with cove's block in it: the old block replaced in place, or a new one at the end.
fn with_block(text: Option<&str>, target: &Target) -> String {
    let text = text.unwrap_or("");
    if let Some((before, begin, after)) = split_block(text) {
        return format!("{before}{begin}\n{}{END}\n{after}", target.body);
    }
    if target.owned && text.is_empty() {
        return format!("{BEGIN}\n{}{END}\n", target.body);
    }
    let (sep, begin) = if text.is_empty() || text.ends_with('\n') { ("", BEGIN) } else { ("\n", BEGIN_NL) };
    format!("{text}{sep}{begin}\n{}{END}\n", target.body)
}

/// `text` without cove's block, as it was before `setup` wrote it; `None` for no file.
fn without_block(text: Option<&str>) -> Option<String> {
    let text = text?;
    let Some((before, begin, after)) = split_block(text) else { return Some(text.to_string()) };
    let before = if begin == BEGIN_NL { before.strip_suffix('\n').unwrap_or(before) } else { before };
    Some(format!("{before}{after}"))
}

/// The text before cove's block, its begin line, and the text after its end line.
fn split_block(text: &str) -> Option<(&str, &str, &str)> {
    let (i, begin) = [BEGIN_NL, BEGIN].iter().find_map(|b| text.find(&format!("{b}\n")).map(|i| (i, *b)))?;
    let rest = &text[i..];
    let end = rest.find(&format!("{END}\n"))? + END.len() + 1;
    Some((&text[..i], begin, &rest[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(owned: bool) -> Target {
        Target { path: PathBuf::from("/x"), body: posix_body(Path::new("/h/o'k/shims")), owned }
    }

    #[test]
    fn setup_twice_is_once_and_undo_gives_back_the_bytes() {
        for original in [None, Some(""), Some("export A=1\n"), Some("export A=1"), Some("a\n\nb\n")] {
            let t = target(false);
            let once = with_block(original, &t);
            assert_eq!(with_block(Some(&once), &t), once, "{original:?}");
            assert_eq!(without_block(Some(&once)).as_deref(), Some(original.unwrap_or("")), "{original:?}");
        }
    }

    #[test]
    fn a_block_in_the_middle_is_replaced_in_place() {
        let t = target(false);
        let text = format!("a\n{BEGIN}\nold line\n{END}\nb\n");
        let new = with_block(Some(&text), &t);
        assert_eq!(new, format!("a\n{BEGIN}\n{}{END}\nb\n", t.body));
        assert_eq!(without_block(Some(&new)).unwrap(), "a\nb\n");
    }

    #[test]
    fn the_path_line_quotes_the_folder() {
        assert_eq!(
            posix_body(Path::new("/h/o'k/shims")),
            "case \":$PATH:\" in *:'/h/o'\\''k/shims':*) ;; *) PATH='/h/o'\\''k/shims'\":$PATH\"; export PATH ;; esac\n"
        );
    }
}
