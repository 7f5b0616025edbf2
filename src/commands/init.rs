//! `cove init [--python SPEC] [REQ…]`: write cove.toml here (importing requirements.txt when
//! present) and trust it.

use std::path::Path;

use crate::error::{Error, Pos, Result};
use crate::manifest::PythonConstraint;
use crate::project::{Kind, Project};
use crate::requirement::Requirement;
use crate::settings::Settings;

pub fn run(settings: &Settings, python: Option<String>, requirements: Vec<String>) -> Result<()> {
    let dir = std::env::current_dir().map_err(|e| Error::io("read", "the current folder", e))?;
    let path = dir.join("cove.toml");
    if path.exists() {
        return Err(Error::other(format!("{} already exists", path.display()))
            .with_hint("edit it, or use `cove add REQ` / `cove remove NAME`"));
    }
    let arg_pos = Pos { file: "command line".into(), line: 1, column: 1 };
    if let Some(p) = &python {
        PythonConstraint::parse(p, arg_pos.clone())?;
    }
    let mut lines: Vec<String> = Vec::new();
    let imported = dir.join("requirements.txt");
    if imported.is_file() {
        let reqs = crate::manifest::requirements_txt::plain_requirements(&imported)?;
        lines.extend(reqs);
    }
    for r in &requirements {
        Requirement::parse(r, &arg_pos, &dir)?;
        lines.push(r.clone());
    }
    let text = render(python.as_deref(), &lines);
    crate::fsx::write_atomic(&path, text.as_bytes())?;
    let project = Project { dir: dir.clone(), manifest: path.clone(), kind: Kind::CoveToml };
    let manifest = crate::manifest::load(&project)?;
    crate::trust::trust(&manifest, settings)?;
    let from = if imported.is_file() { format!(" (imported {})", file_name(&imported)) } else { String::new() };
    super::note(settings, &format!("wrote and trusted {}{from}", path.display()));
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn render(python: Option<&str>, requirements: &[String]) -> String {
    let mut t = String::new();
    if let Some(p) = python {
        t.push_str(&format!("python = {}\n", toml_edit::Value::from(p)));
    }
    if requirements.is_empty() {
        t.push_str("dependencies = []\n");
    } else {
        t.push_str("dependencies = [\n");
        for r in requirements {
            t.push_str(&format!("  {},\n", toml_edit::Value::from(r.as_str())));
        }
        t.push_str("]\n");
    }
    t
}
