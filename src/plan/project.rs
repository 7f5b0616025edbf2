//! Find the project: the nearest folder, from the current one upward, holding a manifest, and
//! which file in it is the manifest (SPEC §2 precedence). No parsing beyond what precedence needs.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CoveToml,
    Pyproject,
    Requirements,
    Script,
}

impl Kind {
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::CoveToml => "cove.toml",
            Kind::Pyproject => "pyproject.toml",
            Kind::Requirements => "requirements.txt",
            Kind::Script => "script",
        }
    }

    /// Why this file was chosen, for `cove status`.
    pub fn reason(self) -> &'static str {
        match self {
            Kind::CoveToml => "cove.toml comes first",
            Kind::Pyproject => "pyproject.toml has a [project] or [tool.cove] table, and there is no cove.toml",
            Kind::Requirements => "requirements.txt, with no cove.toml or pyproject.toml beside it",
            Kind::Script => "the script's inline metadata (PEP 723)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub kind: Kind,
}

impl Project {
    /// Why this file is the manifest, for `cove status`: the precedence rule that chose it.
    pub fn reason(&self) -> String {
        match self.kind {
            Kind::Requirements if self.dir.join("pyproject.toml").is_file() => {
                "requirements.txt: the pyproject.toml beside it has no [project] or [tool.cove] table".into()
            }
            kind => kind.reason().into(),
        }
    }
}

/// The nearest project at or above `start`.
pub fn find(start: &Path) -> Option<Project> {
    start.ancestors().find_map(in_dir)
}

/// The manifest of folder `dir`, if it has one.
pub fn in_dir(dir: &Path) -> Option<Project> {
    let make = |kind: Kind| Project { dir: dir.to_path_buf(), manifest: dir.join(kind.file_name()), kind };
    if dir.join("cove.toml").is_file() {
        return Some(make(Kind::CoveToml));
    }
    let pyproject = dir.join("pyproject.toml");
    if let Ok(bytes) = crate::fsx::read_manifest(&pyproject)
        && pyproject_qualifies(&String::from_utf8_lossy(&bytes))
    {
        return Some(make(Kind::Pyproject));
    }
    if dir.join("requirements.txt").is_file() {
        return Some(make(Kind::Requirements));
    }
    None
}

/// Whether a pyproject.toml has a `[project]` or `[tool.cove]` table (also as dotted headers
/// or keys, or a header with a syntax error), checked by its lines so that finding the project
/// never parses TOML.
pub fn pyproject_qualifies(text: &str) -> bool {
    text.lines().any(|line| {
        let l = line.trim_start();
        let header = |name: &str| {
            l.strip_prefix('[')
                .map(|rest| rest.trim_start())
                .map(|rest| rest.trim_start_matches(['"', '\'']))
                .and_then(|rest| rest.strip_prefix(name))
                // A header cut short (`[project`) still counts, so that the manifest's loader
                // reports its syntax error rather than the project going unseen.
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || "-_".contains(c)))
        };
        header("project") || header("tool.cove") || l.starts_with("project.") || l.starts_with("tool.cove.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsx::temp_tree as tree;

    #[test]
    fn nearest_folder_upward_wins() {
        let t = tree(&[("cove.toml", ""), ("a/b/requirements.txt", "x"), ("a/b/c/d/.keep", "")]);
        let p = find(&t.path().join("a/b/c/d")).unwrap();
        assert_eq!(p.dir, t.path().join("a/b"));
        assert_eq!(p.kind, Kind::Requirements);
        assert_eq!(find(&t.path().join("a")).unwrap().kind, Kind::CoveToml);
    }

    #[test]
    fn precedence_within_a_folder() {
        let t = tree(&[("cove.toml", ""), ("pyproject.toml", "[project]\n"), ("requirements.txt", "")]);
        assert_eq!(find(t.path()).unwrap().kind, Kind::CoveToml);
        let t = tree(&[("pyproject.toml", "[project]\nname='x'\n"), ("requirements.txt", "")]);
        assert_eq!(find(t.path()).unwrap().kind, Kind::Pyproject);
        let t = tree(&[("pyproject.toml", "[tool.black]\n"), ("requirements.txt", "")]);
        assert_eq!(find(t.path()).unwrap().kind, Kind::Requirements);
    }

    #[test]
    fn the_reason_names_the_rule_that_chose_the_file() {
        let t = tree(&[("pyproject.toml", "[tool.black]\n"), ("requirements.txt", "")]);
        assert_eq!(
            find(t.path()).unwrap().reason(),
            "requirements.txt: the pyproject.toml beside it has no [project] or [tool.cove] table"
        );
        let t = tree(&[("requirements.txt", "")]);
        assert_eq!(find(t.path()).unwrap().reason(), "requirements.txt, with no cove.toml or pyproject.toml beside it");
    }

    #[test]
    fn pyproject_tables_are_recognised() {
        assert!(pyproject_qualifies("[ project ]\n"));
        assert!(pyproject_qualifies("[project.optional-dependencies]\n"));
        assert!(pyproject_qualifies("[tool.cove]\n"));
        assert!(!pyproject_qualifies("[projectile]\n[tool.coverage]\n"));
        assert!(!pyproject_qualifies("# [project]\n"));
        assert!(pyproject_qualifies("[project\nname = \"x\"\n"), "a broken header is the manifest's error to report");
        assert!(pyproject_qualifies("[\"project\"]\n"));
    }

    #[test]
    fn nothing_found_outside_projects() {
        let t = tree(&[("a/.keep", "")]);
        assert!(find(&t.path().join("a")).is_none() || t.path().ancestors().count() > 0);
        assert!(in_dir(&t.path().join("a")).is_none());
    }
}
