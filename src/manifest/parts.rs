//! The parts a manifest is made of, as each file format fills them in ([`Parsed`]), and the
//! [`Reader`] every format reads its files through, so the trust digest covers them all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use sha2::{Digest, Sha256};

use crate::error::{Error, Pos, Result};
use crate::manifest::locks;
use crate::manifest::requirement::Requirement;

/// Index settings, passed to the installer and part of the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    pub url: Option<String>,
    pub extra_urls: Vec<String>,
    /// Absolute paths (resolved against the manifest's folder) or URLs.
    pub find_links: Vec<String>,
    pub no_index: bool,
}

/// A `python` constraint: a PEP 440 specifier set, or "3.12" meaning 3.12.*.
#[derive(Debug, Clone)]
pub struct PythonConstraint {
    pub text: String,
    pub specs: VersionSpecifiers,
    pub pos: Pos,
}

impl PythonConstraint {
    pub fn parse(text: &str, pos: Pos) -> Result<PythonConstraint> {
        let t = text.trim();
        let spec_text = if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
            if t.matches('.').count() >= 2 { format!("=={t}") } else { format!("=={t}.*") }
        } else {
            t.to_string()
        };
        let specs = VersionSpecifiers::from_str(&spec_text).map_err(|e| {
            // The parser's message goes on to repeat the text with a caret line: the position
            // is already in `pos`, so its first line is all that is said.
            let message = e.to_string();
            let reason = message.lines().next().unwrap_or_default().trim_end_matches(':');
            Error::invalid(pos.clone(), format!("invalid Python constraint {text:?}: {reason}"))
                .with_hint("write it like \">=3.11\", \"3.12\" or \">=3.10,<3.13\"")
        })?;
        Ok(PythonConstraint { text: text.to_string(), specs, pos })
    }

    pub fn allows(&self, version: &pep440_rs::Version) -> bool {
        self.specs.contains(version)
    }
}

/// A local project folder (`-e .[test]`, or a pyproject.toml project that is a package), to be
/// installed in editable mode (PEP 660) in a thin layer over the shared environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalProject {
    /// Absolute.
    pub dir: PathBuf,
    /// PEP 685 normalised, sorted, de-duplicated.
    pub extras: Vec<String>,
    /// Its dependencies are not declared statically (a `setup.py`, or `dynamic =
    /// ["dependencies"]`), so they are not in the manifest's requirements: the installer must
    /// resolve them itself.
    pub dynamic: bool,
    /// SHA-256 over the canonical text of its `[project]` and `[build-system]` tables (empty
    /// without a pyproject.toml): the layer is remade when this changes.
    pub tables_digest: String,
}

/// Reads files while keeping the digest of everything read. A file read twice (a diamond of
/// `-r` includes) is read from disk and counted once.
#[derive(Default)]
pub struct Reader {
    files: Vec<PathBuf>,
    texts: HashMap<PathBuf, String>,
    hasher: Sha256,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    pub fn read(&mut self, path: &Path) -> Result<String> {
        if let Some(text) = self.texts.get(path) {
            return Ok(text.clone());
        }
        let bytes = crate::fsx::read_manifest(path)?;
        self.insert(path, bytes)
    }

    /// Take `bytes` as the content of `path` (what [`Reader::read`] does after reading it).
    pub fn insert(&mut self, path: &Path, bytes: Vec<u8>) -> Result<String> {
        let text = Self::decode(path, bytes)?;
        self.add(path, text.as_bytes());
        self.texts.insert(path.to_path_buf(), text.clone());
        Ok(text)
    }

    fn decode(path: &Path, bytes: Vec<u8>) -> Result<String> {
        String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&e.into_bytes()[..offset]).into_owned();
            Error::invalid(Pos::at(path, &text, offset), "the file is not valid UTF-8").with_hint("save it as UTF-8")
        })
    }

    pub fn add(&mut self, path: &Path, bytes: &[u8]) {
        self.hasher.update(path.as_os_str().as_encoded_bytes());
        self.hasher.update(b"\n");
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
        self.files.push(path.to_path_buf());
    }

    pub fn finish(self) -> (Vec<PathBuf>, String) {
        (self.files, crate::digest::hex(&self.hasher.finalize()))
    }
}

/// The note for a manifest that names a team cache: only the user's config or environment may
/// (SPEC §8), since a remote decides what gets installed.
pub const REMOTE_IGNORED: &str =
    "the manifest's `remote` setting is ignored: a team cache is set only in your config file or COVE_REMOTE";

/// The parts each format fills in.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub python: Option<PythonConstraint>,
    pub requirements: Vec<Requirement>,
    /// `-c` constraints: they bound versions without asking for packages.
    pub constraints: Vec<Requirement>,
    pub index: Index,
    /// The project itself, to install in editable mode over the shared environment (SPEC §2
    /// "The project itself"); its dependencies and extras' are already in `requirements`.
    pub install_project: Option<LocalProject>,
    /// Further local projects named by requirements files (`-e ../lib`): their dependencies are
    /// in `requirements` too, and they are installed editable like `install_project`.
    pub other_projects: Vec<LocalProject>,
    /// What `cove status` should tell about how the manifest was read (groups chosen, files
    /// read beside it, options ignored).
    pub notes: Vec<String>,
    /// The project name, extras and groups a lock file is read for.
    pub lock_selection: locks::Selection,
}

impl Parsed {
    /// Record a local project to install editable; the same folder twice merges its extras.
    pub fn add_project(&mut self, project: LocalProject) {
        if self.install_project.is_none() {
            self.install_project = Some(project);
            return;
        }
        let slot = self.install_project.iter_mut().chain(self.other_projects.iter_mut()).find(|p| p.dir == project.dir);
        let Some(p) = slot else { return self.other_projects.push(project) };
        p.extras.extend(project.extras);
        p.extras.sort();
        p.extras.dedup();
        p.dynamic |= project.dynamic;
    }

    /// Make the project in `dir` (when named) the one installed first.
    pub fn prefer_project_in(&mut self, dir: &Path) {
        if let Some(i) = self.other_projects.iter().position(|p| p.dir == dir) {
            let own = self.other_projects.remove(i);
            if let Some(first) = self.install_project.replace(own) {
                self.other_projects.insert(0, first);
            }
        }
    }
}

/// Resolve a `find-links` entry: URLs stay, paths become absolute against `base` (with `.`
/// and `..` folded, so `./wheels` and `wheels` key alike).
pub fn resolve_link(entry: &str, base: &Path) -> String {
    if entry.contains("://") {
        entry.to_string()
    } else {
        let p = crate::fsx::normal_path(&crate::settings::expand_home_from(entry, base));
        p.to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_python_constraint_is_one_line_at_its_position() {
        let pos = Pos { file: PathBuf::from("cove.toml"), line: 1, column: 10 };
        let e = PythonConstraint::parse("./evilpy", pos).unwrap_err().to_string();
        assert!(e.starts_with("cove.toml:1:10: invalid Python constraint \"./evilpy\": "), "{e}");
        assert!(!e.contains('\n') && !e.contains("^^^"), "the parser's caret lines are left out: {e}");
    }
}
