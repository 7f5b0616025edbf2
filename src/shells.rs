//! The shells cove integrates with (bash, zsh, fish): how each quotes a value, sets and unsets
//! an exported variable and sets PATH, and which hook script it gets. The hook-env logic in
//! `hook.rs` is written once against the [`Shell`] trait.
//!
//! Values are quoted byte-exactly: PATH is restored byte for byte, so an entry that is not UTF-8
//! is written with the shell's byte escapes rather than lossily.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// The provided methods speak POSIX sh, which bash and zsh share (in zsh `export` is
/// `typeset -gx`: global even when evaluated inside the hook function); fish overrides them.
pub trait Shell {
    /// The hook script, with `__COVE_EXE__` and `__COVE_SHIMS__` to be filled with quoted values.
    fn script(&self) -> &'static str;
    /// `value` as one word of this shell's code, evaluating to exactly its bytes.
    fn quote(&self, value: &OsStr) -> String {
        quote_posix(value)
    }
    /// Code that sets and exports `name` (a plain identifier) to `value`.
    fn set_env(&self, name: &str, value: &OsStr) -> String {
        format!("export {name}={}\n", self.quote(value))
    }
    /// Code that unsets `name`; harmless when it is not set.
    fn unset_env(&self, name: &str) -> String {
        format!("unset {name}\n")
    }
    /// Code that sets PATH to exactly these entries, in this order.
    fn set_path(&self, entries: &[&OsStr]) -> String {
        self.set_env("PATH", &join_path(entries))
    }
}

/// The shell called `name`, if cove supports it.
pub fn by_name(name: &str) -> Option<&'static dyn Shell> {
    match name {
        "bash" => Some(&Bash),
        "zsh" => Some(&Zsh),
        "fish" => Some(&Fish),
        _ => None,
    }
}

pub struct Bash;
pub struct Zsh;
pub struct Fish;

/// POSIX-style quoting shared by bash and zsh: `'…'`, with `'\''` for a quote; a value that is
/// not UTF-8, or holds a control character (a folder named with an escape sequence), becomes
/// `$'…'` with `\xHH` escapes, which both shells turn back into the bytes: the code cove prints
/// holds no raw control character, wherever it is shown.
fn quote_posix(value: &OsStr) -> String {
    match value.to_str().filter(|s| !s.chars().any(crate::ui::needs_escape)) {
        Some(s) => format!("'{}'", s.replace('\'', r"'\''")),
        None => {
            let mut out = String::from("$'");
            for &b in value.as_bytes() {
                match b {
                    b'\\' | b'\'' => {
                        out.push('\\');
                        out.push(b as char);
                    }
                    0x20..=0x7e => out.push(b as char),
                    _ => out.push_str(&format!("\\x{b:02x}")),
                }
            }
            out.push('\'');
            out
        }
    }
}

fn join_path(entries: &[&OsStr]) -> std::ffi::OsString {
    let mut bytes = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            bytes.push(b':');
        }
        bytes.extend_from_slice(e.as_bytes());
    }
    OsStr::from_bytes(&bytes).to_os_string()
}

impl Shell for Bash {
    fn script(&self) -> &'static str {
        include_str!("../shell/cove.bash")
    }
}

impl Shell for Zsh {
    fn script(&self) -> &'static str {
        include_str!("../shell/cove.zsh")
    }
}

impl Shell for Fish {
    fn script(&self) -> &'static str {
        include_str!("../shell/cove.fish")
    }
    /// fish: `'…'` with `\\` and `\'` escaped; bytes that are not UTF-8, and control characters,
    /// go outside the quotes as `\XHH` (fish's raw-byte escape).
    fn quote(&self, value: &OsStr) -> String {
        let mut out = String::new();
        for chunk in value.as_bytes().utf8_chunks() {
            let mut rest = chunk.valid();
            while !rest.is_empty() {
                let plain = rest.find(crate::ui::needs_escape).unwrap_or(rest.len());
                if plain > 0 {
                    out.push('\'');
                    out.push_str(&rest[..plain].replace('\\', r"\\").replace('\'', r"\'"));
                    out.push('\'');
                }
                let Some(c) = rest[plain..].chars().next() else { break };
                for b in c.to_string().bytes() {
                    out.push_str(&format!("\\X{b:02x}"));
                }
                rest = &rest[plain + c.len_utf8()..];
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\X{b:02x}"));
            }
        }
        if out.is_empty() {
            out.push_str("''");
        }
        out
    }
    fn set_env(&self, name: &str, value: &OsStr) -> String {
        format!("set -gx {name} {}\n", self.quote(value))
    }
    fn unset_env(&self, name: &str) -> String {
        format!("set -e -g {name}\n")
    }
    fn set_path(&self, entries: &[&OsStr]) -> String {
        let mut out = String::from("set -gx PATH");
        for e in entries {
            out.push(' ');
            out.push_str(&self.quote(e));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_quoting_survives_quotes_and_newlines() {
        assert_eq!(Bash.quote(OsStr::new("a b")), "'a b'");
        assert_eq!(Bash.quote(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(Zsh.quote(OsStr::new("")), "''");
        assert_eq!(Bash.quote(OsStr::new("x\ny")), r"$'x\x0ay'");
    }

    #[test]
    fn control_characters_never_reach_the_code_raw() {
        let v = OsStr::new("/p/a\x1b[2Kb\n\u{202e}'c");
        assert_eq!(Bash.quote(v), r"$'/p/a\x1b[2Kb\x0a\xe2\x80\xae\'c'");
        assert_eq!(Fish.quote(v), r"'/p/a'\X1b'[2Kb'\X0a\Xe2\X80\Xae'\'c'");
    }

    #[test]
    fn non_utf8_bytes_are_escaped_not_lost() {
        let v = OsStr::from_bytes(b"/opt/\xff'd");
        assert_eq!(Bash.quote(v), r"$'/opt/\xff\'d'");
        assert_eq!(Fish.quote(v), r"'/opt/'\Xff'\'d'");
    }

    #[test]
    fn fish_quoting() {
        assert_eq!(Fish.quote(OsStr::new(r"a'b\c")), r"'a\'b\\c'");
        assert_eq!(Fish.quote(OsStr::new("")), "''");
        assert_eq!(Fish.set_path(&[OsStr::new("/a b"), OsStr::new("/c")]), "set -gx PATH '/a b' '/c'\n");
        assert_eq!(Fish.unset_env("VIRTUAL_ENV"), "set -e -g VIRTUAL_ENV\n");
    }

    #[test]
    fn path_is_joined_with_colons_keeping_empty_entries() {
        let entries = [OsStr::new("/s"), OsStr::new(""), OsStr::new("/b")];
        assert_eq!(Bash.set_path(&entries), "export PATH='/s::/b'\n");
    }

    #[test]
    fn shells_by_name() {
        for name in ["bash", "zsh", "fish"] {
            assert!(by_name(name).unwrap().script().contains(&format!("hook-env {name}")));
        }
        assert!(by_name("tcsh").is_none());
    }
}
