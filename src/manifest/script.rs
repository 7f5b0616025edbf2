//! PEP 723 inline script metadata: a `# /// script` block's `dependencies` and
//! `requires-python` (plus `[tool.cove] index`), found the way the PEP's reference regex does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Pos, Result};
use crate::manifest::parts::{Parsed, Reader};
use crate::plan::project::{Kind, Project};
use crate::tomlx::Doc;

/// The script `python ARGS…` would run, when it carries a `script` block.
pub fn from_args(args: &[OsString]) -> Option<Project> {
    let script = script_arg(args)?;
    // The canonical path (`..` and links resolved): trust and `trusted-dirs` are judged on it,
    // as `cove trust` records it (SPEC §5).
    let path = std::fs::canonicalize(crate::settings::absolute(Path::new(&script))).ok()?;
    // Only a regular file: `python <(…)` names a pipe, which reading here would drain.
    let bytes = crate::fsx::read_manifest(&path).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if !text.lines().any(|l| l.trim_end_matches('\r') == "# /// script") {
        return None;
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
    Some(Project { dir, manifest: path, kind: Kind::Script })
}

/// The script argument of a `python` command line: the first argument after the interpreter's
/// own options; `None` for `-c`, `-m`, `-` and the interactive interpreter.
pub fn script_arg(args: &[OsString]) -> Option<OsString> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_str()?;
        if a == "--" {
            return args.get(i + 1).cloned();
        }
        if a == "-" || !a.starts_with('-') {
            return (a != "-").then(|| args[i].clone());
        }
        if a.starts_with("--") {
            // --help, --version and friends: no script.
            if matches!(a, "--check-hash-based-pycs") {
                i += 2;
                continue;
            }
            return None;
        }
        let flags = &a[1..];
        for (j, c) in flags.char_indices() {
            match c {
                'c' | 'm' => return None,
                'W' | 'X' => {
                    if j + 1 == flags.len() {
                        i += 1;
                    }
                    break;
                }
                'h' | '?' | 'V' => return None,
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The content of the `script` block and the line it starts on, per the PEP's reference regex:
/// `(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$`.
fn block(path: &Path, text: &str) -> Result<Option<(String, usize)>> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let mut found: Option<(String, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let Some(kind) = lines[i].strip_prefix("# /// ") else {
            i += 1;
            continue;
        };
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = None;
        let mut j = i + 1;
        while j < lines.len() && (lines[j] == "#" || lines[j].starts_with("# ")) {
            if lines[j] == "# ///" {
                end = Some(j);
            }
            j += 1;
        }
        let Some(end) = end else {
            if kind == "script" {
                return Err(Error::invalid(
                    Pos { file: path.to_path_buf(), line: start + 1, column: 1 },
                    "the `# /// script` block is never closed",
                )
                .with_hint("end it with a line that is exactly `# ///`"));
            }
            i += 1;
            continue;
        };
        if kind == "script" {
            if found.is_some() {
                return Err(Error::invalid(
                    Pos { file: path.to_path_buf(), line: start + 1, column: 1 },
                    "a second `# /// script` block",
                )
                .with_hint("PEP 723 allows one script block; merge them"));
            }
            let content: String = lines[start + 1..end]
                .iter()
                .map(|l| {
                    let body = l.strip_prefix("# ").unwrap_or(l.strip_prefix('#').unwrap_or(l));
                    format!("{body}\n")
                })
                .collect();
            found = Some((content, start + 2));
        }
        i = end + 1;
    }
    Ok(found)
}

pub fn parse(path: &Path, reader: &mut Reader) -> Result<Parsed> {
    let text = reader.read(path)?;
    let Some((content, first_line)) = block(path, &text)? else {
        return Err(Error::invalid(Pos { file: path.to_path_buf(), line: 1, column: 1 }, "no `# /// script` block"));
    };
    // Errors point into the script: shift lines by where the block starts, columns by "# ".
    let shift = |e: Error| match e {
        Error::Invalid { pos, message, hint } => Error::Invalid {
            pos: Pos { file: path.to_path_buf(), line: pos.line + first_line - 1, column: pos.column + 2 },
            message,
            hint,
        },
        e => e,
    };
    parse_block(path, &content).map_err(shift)
}

fn parse_block(path: &Path, content: &str) -> Result<Parsed> {
    let doc = Doc::parse(path, content)?;
    let root = doc.root();
    doc.check_keys(root, &["dependencies", "requires-python", "tool"], "")?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut parsed = super::cove_toml::python_and_dependencies(&doc, "requires-python", dir)?;
    if let Some(cove) = root.get("tool").and_then(|t| t.get("cove")) {
        let table = doc.table_like(cove, "tool.cove")?;
        for (key, value) in table.iter() {
            if key != "index" {
                return Err(doc
                    .error(value, format!("unknown key `tool.cove.{key}`"))
                    .with_hint("did you mean `tool.cove.index`?"));
            }
        }
        if let Some(i) = table.get("index") {
            parsed.index = super::cove_toml::index_table(&doc, i, "tool.cove.index", dir)?;
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn script_argument_follows_python_rules() {
        assert_eq!(script_arg(&args(&["x.py", "-c"])), Some("x.py".into()));
        assert_eq!(script_arg(&args(&["-u", "-W", "ignore", "x.py"])), Some("x.py".into()));
        assert_eq!(script_arg(&args(&["-Wignore", "-X", "dev", "x.py"])), Some("x.py".into()));
        assert_eq!(script_arg(&args(&["-c", "pass", "x.py"])), None);
        assert_eq!(script_arg(&args(&["-m", "pytest"])), None);
        assert_eq!(script_arg(&args(&["-uc", "pass"])), None);
        assert_eq!(script_arg(&args(&["-"])), None);
        assert_eq!(script_arg(&args(&[])), None);
        assert_eq!(script_arg(&args(&["-i"])), None);
    }

    fn parse_text(text: &str) -> Result<Parsed> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.py");
        std::fs::write(&p, text).unwrap();
        parse(&p, &mut Reader::new()).map_err(|e| Error::Usage(e.to_string().replace(&p.display().to_string(), "s.py")))
    }

    #[test]
    fn block_is_read() {
        let p = parse_text(
            "#!/usr/bin/env python\n# /// script\n# requires-python = \">=3.11\"\n# dependencies = [\n#   \"Alpha==1.0\",\n# ]\n# ///\nimport alpha\n",
        )
        .unwrap();
        assert_eq!(p.requirements[0].canonical, "alpha==1.0");
        assert_eq!(p.python.unwrap().text, ">=3.11");
    }

    #[test]
    fn malformed_blocks_name_the_line() {
        let e = parse_text("# /// script\n# dependencies = []\nprint()\n").unwrap_err();
        assert_eq!(e.to_string(), "s.py:1:1: the `# /// script` block is never closed");
        let e = parse_text("# /// script\n# ///\n\n# /// script\n# ///\n").unwrap_err();
        assert_eq!(e.to_string(), "s.py:4:1: a second `# /// script` block");
        let e = parse_text("x = 1\n# /// script\n# dependencies = [\"ok\", \"bad >>= 1\"]\n# ///\n").unwrap_err();
        assert!(e.to_string().starts_with("s.py:3:25: invalid requirement"), "{e}");
    }
}
