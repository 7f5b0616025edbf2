//! The manifest, whatever file it came from: the requirements, the Python constraint and the
//! index settings, validated. Raw file formats live in the sub-modules; this is the domain type.
//!
//! Every file that decides the environment (the manifest, `-r`/`-c` includes, a local
//! project's `pyproject.toml`, and beside the manifest `.python-version` and the lock file) is
//! read once, through [`Reader`], so the trust digest covers it.

pub mod cove_toml;
pub mod edit;
pub mod groups;
pub mod locate;
pub mod locks;
pub mod parts;
pub mod project_table;
pub mod pyproject;
pub mod requirement;
pub mod requirements_txt;
pub mod script;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::plan::project::{Kind, Project};

pub use parts::{Index, LocalProject, Parsed, PythonConstraint, Reader};

/// A [`Parsed`] manifest (its fields are read through it: `manifest.requirements`), finished:
/// requirements and constraints sorted and de-duplicated, the project's own folder installed
/// first, and where it came from.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub kind: Kind,
    /// The manifest file (or the script).
    pub path: PathBuf,
    /// The project folder (for a script: the script's folder).
    pub dir: PathBuf,
    pub parsed: Parsed,
    /// Every file read to make this manifest, in reading order (the manifest first).
    pub files: Vec<PathBuf>,
    /// SHA-256 over each file's path and content: what trust is recorded against.
    pub digest: String,
}

impl std::ops::Deref for Manifest {
    type Target = Parsed;

    fn deref(&self) -> &Parsed {
        &self.parsed
    }
}

impl Manifest {
    /// Whether a file read to make this manifest has changed on disk since (or is gone).
    pub fn changed_on_disk(&self) -> bool {
        let mut reader = Reader::new();
        for file in &self.files {
            let Ok(bytes) = crate::fsx::read_manifest(file) else { return true };
            reader.add(file, &bytes);
        }
        reader.finish().1 != self.digest
    }
}

/// Load and validate the project's manifest.
pub fn load(project: &Project) -> Result<Manifest> {
    load_from(project, Reader::new())
}

/// The manifest `project` would have if its manifest file held `text` (the files it includes
/// as they are on disk): what an edit would make, before it is written.
pub fn load_with(project: &Project, text: &str) -> Result<Manifest> {
    let mut reader = Reader::new();
    reader.insert(&project.manifest, text.as_bytes().to_vec())?;
    load_from(project, reader)
}

fn load_from(project: &Project, mut reader: Reader) -> Result<Manifest> {
    let parsed = match project.kind {
        Kind::CoveToml => cove_toml::parse(&project.manifest, &mut reader)?,
        Kind::Pyproject => pyproject::parse(&project.manifest, &mut reader)?,
        Kind::Requirements => requirements_txt::parse_root(&project.manifest, &mut reader)?,
        Kind::Script => script::parse(&project.manifest, &mut reader)?,
    };
    for file in decisive_files(&project.dir) {
        // As planning does, a `.python-version` that is not a regular file is not read.
        if crate::inputs::is_file(&file) {
            let bytes = crate::fsx::read_manifest(&file)?;
            reader.add(&file, &bytes);
        }
    }
    Ok(finish(project, parsed, reader))
}

/// The files beside the manifest that decide what runs or is installed (SPEC §5 "What trust
/// covers"): `.python-version` (which interpreter, possibly a path) and the lock file planning
/// would read (`locks::find`). Their content joins the digest, so changing them needs trusting
/// again, as the manifest does.
fn decisive_files(dir: &Path) -> Vec<PathBuf> {
    std::iter::once(dir.join(".python-version")).chain(locks::find(dir).map(|(path, _)| path)).collect()
}

/// Whether `file` is one of [`decisive_files`] of `dir` (not a source of requirements).
pub fn is_decisive_file(dir: &Path, file: &Path) -> bool {
    file.parent() == Some(dir)
        && file.file_name().is_some_and(|n| n == ".python-version" || n == "pylock.toml" || n == "uv.lock")
}

pub fn finish(project: &Project, mut parsed: Parsed, reader: Reader) -> Manifest {
    crate::manifest::requirement::normalise_set(&mut parsed.requirements);
    crate::manifest::requirement::normalise_set(&mut parsed.constraints);
    parsed.prefer_project_in(&project.dir);
    let (files, digest) = reader.finish();
    Manifest { kind: project.kind, path: project.manifest.clone(), dir: project.dir.clone(), parsed, files, digest }
}
