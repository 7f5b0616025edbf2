//! `cove trust [PATH]` / `cove untrust [PATH]` (SPEC §5).

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::plan::project::{Kind, Project};
use crate::settings::Settings;

/// The manifest named by PATH (a project folder, a manifest file or a script), or this project's.
fn target(path: Option<PathBuf>) -> Result<Project> {
    let Some(path) = path else { return crate::plan::resolve::require_project() };
    let abs = crate::settings::absolute(&path);
    let abs = std::fs::canonicalize(&abs).ctx("find", &abs)?;
    if abs.is_dir() {
        return crate::plan::project::in_dir(&abs).ok_or(Error::NoProject { cwd: abs });
    }
    let dir = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
    let kind = match abs.file_name().and_then(|n| n.to_str()) {
        Some("cove.toml") => Kind::CoveToml,
        Some("pyproject.toml") => Kind::Pyproject,
        Some("requirements.txt") => Kind::Requirements,
        _ if crate::manifest::script::from_args(&[abs.clone().into_os_string()]).is_some() => Kind::Script,
        _ => return Err(Error::NotAManifest { path: abs }),
    };
    Ok(Project { dir, manifest: abs, kind })
}

pub fn trust(settings: &Settings, path: Option<PathBuf>) -> Result<()> {
    let project = target(path)?;
    let manifest = crate::manifest::load(&project)?;
    crate::plan::trust::trust(&manifest, settings)?;
    // Every file the trust covers (SPEC §5): what it includes, `.python-version`, the lock.
    let others: Vec<String> = manifest
        .files
        .iter()
        .skip(1)
        .map(|f| f.strip_prefix(&manifest.dir).unwrap_or(f).display().to_string())
        .collect();
    let also = if others.is_empty() { String::new() } else { format!(" (and {})", others.join(", ")) };
    crate::ui::note(settings.quiet, &format!("trusted {}{also}", manifest.path.display()));
    Ok(())
}

pub fn untrust(settings: &Settings, path: Option<PathBuf>) -> Result<()> {
    let project = target(path)?;
    let digest = crate::manifest::load(&project).ok().map(|m| m.digest);
    if crate::plan::trust::untrust(&project.manifest, digest.as_deref(), settings)? {
        crate::ui::note(settings.quiet, &format!("untrusted {}", project.manifest.display()));
    } else {
        crate::ui::note(settings.quiet, &format!("{} was not trusted", project.manifest.display()));
    }
    Ok(())
}
