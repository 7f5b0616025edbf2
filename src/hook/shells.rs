//! The shells cove integrates with: how each quotes a value, sets and unsets an exported
//! variable and sets PATH, and which hook script it gets. `hook.rs` decides once what is to
//! change ([`Changes`]); each shell renders it. bash, zsh and fish evaluate shell code; nushell,
//! xonsh, elvish and PowerShell read the same changes as JSON (`cove hook-env --json`).
//!
//! Values are quoted byte-exactly: PATH is restored byte for byte, so an entry that is not UTF-8
//! is written with the shell's byte escapes rather than lossily (JSON carries text only).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// What the shell must change, decided once for every shell: PATH's new entries, variables to
/// set (`Some`) or unset (`None`) in this order, and what to tell the user (one message each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub path: Option<Vec<OsString>>,
    pub vars: Vec<(&'static str, Option<OsString>)>,
    pub messages: Vec<String>,
}

/// The shells `cove hook` and `cove hook-env` know.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    Nu,
    Xonsh,
    Elvish,
    Powershell,
}

impl ShellKind {
    pub fn shell(self) -> &'static dyn Shell {
        match self {
            ShellKind::Bash => &Bash,
            ShellKind::Zsh => &Zsh,
            ShellKind::Fish => &Fish,
            ShellKind::Nu => &Nu,
            ShellKind::Xonsh => &Xonsh,
            ShellKind::Elvish => &Elvish,
            ShellKind::Powershell => &PowerShell,
        }
    }

    /// The shell called `name` (as on the command line), if cove supports it.
    pub fn by_name(name: &str) -> Option<ShellKind> {
        clap::ValueEnum::from_str(name, false).ok()
    }

    /// The completion script that comes with the hook, where clap has one for this shell.
    pub fn completions(self) -> Option<clap_complete::Shell> {
        match self {
            ShellKind::Bash => Some(clap_complete::Shell::Bash),
            ShellKind::Zsh => Some(clap_complete::Shell::Zsh),
            ShellKind::Fish => Some(clap_complete::Shell::Fish),
            ShellKind::Elvish => Some(clap_complete::Shell::Elvish),
            ShellKind::Powershell => Some(clap_complete::Shell::PowerShell),
            ShellKind::Nu | ShellKind::Xonsh => None,
        }
    }
}

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
    /// What `cove hook-env` prints for `changes`: shell code (its messages go to stderr), or for
    /// the shells whose hook reads JSON, [`json`].
    fn render(&self, changes: &Changes) -> String {
        if self.reads_json() {
            return json(changes);
        }
        let mut code = String::new();
        if let Some(entries) = &changes.path {
            let refs: Vec<&OsStr> = entries.iter().map(|e| e.as_os_str()).collect();
            code.push_str(&self.set_path(&refs));
        }
        for (name, value) in &changes.vars {
            match value {
                Some(v) => code.push_str(&self.set_env(name, v)),
                None => code.push_str(&self.unset_env(name)),
            }
        }
        code
    }
    /// Whether [`Shell::render`] carries the messages itself (JSON) rather than stderr.
    fn reads_json(&self) -> bool {
        false
    }
}

pub struct Bash;
pub struct Zsh;
pub struct Fish;
pub struct Nu;
pub struct Xonsh;
pub struct Elvish;
pub struct PowerShell;

/// `changes` as one JSON object: `set` (name → value, PATH as one string), `unset` (names) and
/// `messages` (lines to show the user), each present even when empty.
pub fn json(changes: &Changes) -> String {
    let text = |v: &OsStr| serde_json::Value::String(v.to_string_lossy().into_owned());
    let mut set = serde_json::Map::new();
    let mut unset = Vec::new();
    if let Some(entries) = &changes.path {
        set.insert("PATH".into(), text(&join_path(entries)));
    }
    for (name, value) in &changes.vars {
        match value {
            Some(v) => {
                set.insert((*name).into(), text(v));
            }
            None => unset.push(serde_json::Value::String((*name).into())),
        }
    }
    let obj = serde_json::json!({ "set": set, "unset": unset, "messages": changes.messages });
    format!("{obj}\n")
}

/// `'…'` with the quote doubled: elvish's and PowerShell's literal strings.
fn quote_doubling(value: &OsStr) -> String {
    format!("'{}'", value.to_string_lossy().replace('\'', "''"))
}

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

/// PATH made of `entries`, in this order.
pub fn join_path(entries: &[impl AsRef<OsStr>]) -> OsString {
    let parts: Vec<&[u8]> = entries.iter().map(|e| e.as_ref().as_bytes()).collect();
    std::os::unix::ffi::OsStringExt::from_vec(parts.join(&b':'))
}

impl Shell for Bash {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.bash")
    }
}

impl Shell for Zsh {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.zsh")
    }
}

impl Shell for Fish {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.fish")
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
                out.extend(c.to_string().bytes().map(|b| format!("\\X{b:02x}")));
                rest = &rest[plain + c.len_utf8()..];
            }
            out.extend(chunk.invalid().iter().map(|b| format!("\\X{b:02x}")));
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
        let quoted: Vec<String> = entries.iter().map(|e| format!(" {}", self.quote(e))).collect();
        format!("set -gx PATH{}\n", quoted.concat())
    }
}

impl Shell for Nu {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.nu")
    }
    /// nushell's raw string `r#'…'#`, with as many `#` as it takes.
    fn quote(&self, value: &OsStr) -> String {
        let s = value.to_string_lossy();
        let mut hashes = String::from("#");
        while s.contains(&format!("'{hashes}")) {
            hashes.push('#');
        }
        format!("r{hashes}'{s}'{hashes}")
    }
    fn reads_json(&self) -> bool {
        true
    }
}

impl Shell for Xonsh {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.xsh")
    }
    /// A JSON string is a Python string literal too.
    fn quote(&self, value: &OsStr) -> String {
        serde_json::Value::String(value.to_string_lossy().into_owned()).to_string()
    }
    fn reads_json(&self) -> bool {
        true
    }
}

impl Shell for Elvish {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.elv")
    }
    fn quote(&self, value: &OsStr) -> String {
        quote_doubling(value)
    }
    fn reads_json(&self) -> bool {
        true
    }
}

impl Shell for PowerShell {
    fn script(&self) -> &'static str {
        include_str!("../../shell/cove.ps1")
    }
    fn quote(&self, value: &OsStr) -> String {
        quote_doubling(value)
    }
    fn reads_json(&self) -> bool {
        true
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
            assert!(ShellKind::by_name(name).unwrap().shell().script().contains(&format!("hook-env {name}")));
        }
        for name in ["nu", "xonsh", "elvish", "powershell"] {
            let shell = ShellKind::by_name(name).unwrap().shell();
            assert!(shell.reads_json() && shell.script().contains("hook-env --json"), "{name}");
        }
        assert!(ShellKind::by_name("tcsh").is_none());
    }

    #[test]
    fn literal_quoting_for_the_json_shells() {
        assert_eq!(Nu.quote(OsStr::new("/a b/c")), "r#'/a b/c'#");
        assert_eq!(Nu.quote(OsStr::new("it'#s")), "r##'it'#s'##");
        assert_eq!(Xonsh.quote(OsStr::new(r#"a"b\c"#)), r#""a\"b\\c""#);
        assert_eq!(Elvish.quote(OsStr::new("it's")), "'it''s'");
        assert_eq!(PowerShell.quote(OsStr::new("it's")), "'it''s'");
    }

    #[test]
    fn json_has_set_unset_and_messages() {
        let changes = Changes {
            path: Some(vec!["/s".into(), "/e/bin".into()]),
            vars: vec![("VIRTUAL_ENV", Some("/e".into())), ("COVE_PROJECT", None)],
            messages: vec!["cove: hello".into()],
        };
        let v: serde_json::Value = serde_json::from_str(&json(&changes)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "set": { "PATH": "/s:/e/bin", "VIRTUAL_ENV": "/e" },
                "unset": ["COVE_PROJECT"],
                "messages": ["cove: hello"],
            })
        );
        assert_eq!(json(&Changes::default()), "{\"messages\":[],\"set\":{},\"unset\":[]}\n");
    }
}
