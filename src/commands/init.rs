//! `cove init [--python SPEC] [--force] [REQ…]`: write cove.toml here (importing requirements.txt
//! when present: all of it, or a refusal naming each line a cove.toml cannot say) and trust it.
//! What is imported is shown, one requirement a line, before it is trusted: the user ran `init`
//! in this folder to adopt that file. Beside a pyproject.toml that is the manifest, `init`
//! refuses (a cove.toml would take precedence over it) unless `--force`.

use std::path::Path;

use crate::error::{Error, Pos, Result, file_name};
use crate::manifest::requirement::Requirement;
use crate::manifest::{Index, PythonConstraint};
use crate::plan::project::{Kind, Project};
use crate::settings::Settings;

pub fn run(settings: &Settings, python: Option<String>, requirements: Vec<String>, force: bool) -> Result<()> {
    let dir = std::env::current_dir().map_err(|e| Error::io("read", "the current folder", e))?;
    let path = dir.join("cove.toml");
    if path.exists() {
        return Err(Error::AlreadyExists { path });
    }
    let shadowed = crate::plan::project::in_dir(&dir).filter(|p| p.kind == Kind::Pyproject);
    if let (Some(p), false) = (&shadowed, force) {
        return Err(Error::PyprojectIsManifest { pyproject: p.manifest.clone() });
    }
    let arg_pos = Pos { file: "command line".into(), line: 1, column: 1 };
    if let Some(p) = &python {
        PythonConstraint::parse(p, arg_pos.clone())?;
    }
    let imported = dir.join("requirements.txt");
    let import = imported.is_file().then(|| crate::manifest::requirements_txt::import(&imported)).transpose()?;
    let mut lines: Vec<String> = import.as_ref().map(|i| i.requirements.clone()).unwrap_or_default();
    let index = import.as_ref().map(|i| i.index.clone()).unwrap_or_default();
    for r in &requirements {
        Requirement::parse(r, &arg_pos, &dir)?;
        lines.push(r.clone());
    }
    let text = render(python.as_deref(), &lines, &index, &dir);
    let project = Project { dir: dir.clone(), manifest: path.clone(), kind: Kind::CoveToml };
    let manifest = crate::manifest::load_with(&project, &text)?;
    if let Some(import) = &import {
        let name = file_name(&imported);
        crate::ui::note(settings.quiet, &format!("imported from {name} ({} requirements):", import.requirements.len()));
        for r in &import.requirements {
            crate::ui::note(settings.quiet, &format!("  {}", shown(r)));
        }
        if index != Index::default() {
            crate::ui::note(settings.quiet, "  and its index options, as [index]");
        }
        for n in &import.notes {
            crate::ui::note(settings.quiet, n);
        }
    }
    crate::fsx::write_atomic(&path, text.as_bytes())?;
    crate::plan::trust::trust(&manifest, settings)?;
    let from = if import.is_some() { format!(" (imported {})", file_name(&imported)) } else { String::new() };
    crate::ui::note(settings.quiet, &format!("wrote and trusted {}{from}", path.display()));
    if let Some(p) = &shadowed {
        crate::ui::note(
            settings.quiet,
            &format!(
                "warning: cove.toml now takes precedence over {}: cove reads only cove.toml here; delete it to go back",
                p.manifest.display()
            ),
        );
    }
    Ok(())
}

/// `text` with control characters escaped, so what is shown is what will be installed.
fn shown(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn render(python: Option<&str>, requirements: &[String], index: &Index, dir: &Path) -> String {
    let s = |v: &str| toml_edit::Value::from(v).to_string();
    let list = |items: &[String]| items.iter().map(|i| s(i)).collect::<Vec<_>>().join(", ");
    let mut t = String::new();
    if let Some(p) = python {
        t.push_str(&format!("python = {}\n", s(p)));
    }
    if requirements.is_empty() {
        t.push_str("dependencies = []\n");
    } else {
        t.push_str("dependencies = [\n");
        t.extend(requirements.iter().map(|r| format!("  {},\n", s(r))));
        t.push_str("]\n");
    }
    if *index != Index::default() {
        t.push_str("\n[index]\n");
        if let Some(url) = &index.url {
            t.push_str(&format!("url = {}\n", s(url)));
        }
        if !index.extra_urls.is_empty() {
            t.push_str(&format!("extra-urls = [{}]\n", list(&index.extra_urls)));
        }
        if !index.find_links.is_empty() {
            // Paths beneath the project are written relative to it, as the file had them.
            let links: Vec<String> = index
                .find_links
                .iter()
                .map(|l| Path::new(l).strip_prefix(dir).map_or(l.clone(), |r| format!("./{}", r.display())))
                .collect();
            t.push_str(&format!("find-links = [{}]\n", list(&links)));
        }
        if index.no_index {
            t.push_str("no-index = true\n");
        }
    }
    t
}
