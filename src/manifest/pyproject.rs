//! `pyproject.toml` as a manifest (SPEC §2): `[project]` (PEP 621) `dependencies` and
//! `requires-python`, the extras, dependency groups (PEP 735, see `groups.rs`) and settings of
//! `[tool.cove]`, plus the requirements files beside it; and the `[project]` table of a local
//! project folder that a requirements file names (`-e .[test]`).
//!
//! Only what cove uses is read and checked: `[project]`'s dependency fields, `[tool.cove]`,
//! `[dependency-groups]` and `[tool.uv].default-groups`. Other tables are never validated:
//! they belong to other tools.

use std::path::{Path, PathBuf};

use crate::error::{Error, Pos, Result};
use crate::manifest::groups::Groups;
use crate::manifest::parts::{Index, Parsed, PythonConstraint, Reader};
use crate::manifest::requirement::{Requirement, normalise_name};
use crate::manifest::requirements_txt;
use crate::tomlx::Doc;

/// The keys of `[tool.cove]`.
const TOOL_KEYS: &[&str] = &["python", "extras", "groups", "index", "requirements", "install-project", "remote"];

use crate::manifest::project_table::{Located, ProjectTable};

/// `[tool.cove]`, read.
#[derive(Default)]
struct ToolCove {
    python: Option<PythonConstraint>,
    extras: Vec<Located>,
    groups: Option<Vec<Located>>,
    index: Index,
    requirements: Option<Vec<Located>>,
    install_project: Option<bool>,
    /// `[tool.cove].remote` was written (and is ignored: SPEC §8).
    remote: bool,
}

impl ToolCove {
    fn read(doc: &Doc, dir: &Path) -> Result<ToolCove> {
        let Some(item) = doc.root().get("tool").and_then(|t| t.get("cove")) else { return Ok(ToolCove::default()) };
        let table = doc.table_like(item, "tool.cove")?;
        doc.check_keys(table, TOOL_KEYS, "tool.cove.")?;
        let strings = |key: &str| table.get(key).map(|i| doc.strings(i, &format!("tool.cove.{key}"))).transpose();
        let python =
            |i: &toml_edit::Item| PythonConstraint::parse(&doc.string(i, "tool.cove.python")?, doc.item_pos(i));
        let index = |i| super::cove_toml::index_table(doc, i, "tool.cove.index", dir);
        // Read in this order, so the first error is the same whatever else is wrong.
        Ok(ToolCove {
            python: table.get("python").map(python).transpose()?,
            extras: strings("extras")?.unwrap_or_default(),
            groups: strings("groups")?,
            index: table.get("index").map(index).transpose()?.unwrap_or_default(),
            requirements: strings("requirements")?,
            install_project: table
                .get("install-project")
                .map(|i| doc.bool(i, "tool.cove.install-project"))
                .transpose()?,
            remote: table.contains_key("remote"),
        })
    }
}

/// The dependency groups chosen, each with where it was named, and why.
struct Selection {
    groups: Vec<Located>,
    why: &'static str,
}

/// `[tool.cove].groups`, else `[tool.uv].default-groups` (a list or `"all"`), else `dev` when
/// it exists (SPEC §2).
fn select(doc: &Doc, cove: &ToolCove, groups: &Groups) -> Result<Selection> {
    let check = |list: Vec<Located>, whence: &str| -> Result<Vec<Located>> {
        match list.iter().find(|(g, _)| !groups.contains(g)) {
            Some((g, pos)) => Err(groups.unknown(g, pos, whence)),
            None => Ok(list),
        }
    };
    if let Some(list) = &cove.groups {
        return Ok(Selection {
            groups: check(list.clone(), "named in [tool.cove].groups")?,
            why: "[tool.cove].groups",
        });
    }
    let uv = doc.root().get("tool").and_then(|t| t.get("uv")).and_then(|u| u.get("default-groups"));
    if let Some(item) = uv {
        let list = if item.as_str() == Some("all") {
            let pos = doc.item_pos(item);
            groups.names().into_iter().map(|g| (g, pos.clone())).collect()
        } else if item.is_str() {
            return Err(doc.type_error(item, "tool.uv.default-groups", "a list of group names or \"all\""));
        } else {
            doc.strings(item, "tool.uv.default-groups")?
        };
        return Ok(Selection {
            groups: check(list, "named in [tool.uv].default-groups")?,
            why: "[tool.uv].default-groups",
        });
    }
    let pos = Pos { file: doc.path.clone(), line: 1, column: 1 };
    let dev = if groups.contains("dev") { vec![("dev".to_string(), pos)] } else { Vec::new() };
    Ok(Selection { groups: dev, why: "the `dev` group, by default" })
}

/// Read the pyproject.toml at `path` as the project's manifest.
pub fn parse(path: &Path, reader: &mut Reader) -> Result<Parsed> {
    let text = reader.read(path)?;
    let doc = Doc::parse(path, &text)?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let table = ProjectTable::read(&doc, dir)?;
    let cove = ToolCove::read(&doc, dir)?;
    // `[tool.cove].python`, else `[project].requires-python`.
    let python = if cove.python.is_some() { cove.python.clone() } else { requires_python(&doc)? };
    let mut parsed = Parsed { index: cove.index.clone(), python, ..Parsed::default() };
    if let Some(pos) = table.dynamic("dependencies").filter(|_| table.present) {
        return Err(dynamic_error(pos, "dependencies"));
    }
    let groups = doc.root().get("dependency-groups");
    let groups = groups.map_or_else(|| Ok(Groups::none(path)), |item| Groups::parse(&doc, item))?;
    let selection = select(&doc, &cove, &groups)?;
    let mut extras = cove.extras.clone();
    extras.extend(group_requirements(&groups, &selection, &table, &mut parsed)?);
    if let Some(pos) = table.dynamic("optional-dependencies").filter(|_| !extras.is_empty()) {
        return Err(dynamic_error(pos, "optional-dependencies"));
    }
    parsed.requirements.extend(table.requirements(&extras)?);
    notes(&mut parsed, &selection, &extras);
    if cove.remote {
        parsed.notes.push(crate::manifest::parts::REMOTE_IGNORED.to_string());
    }
    parsed.lock_selection = crate::manifest::locks::Selection {
        project: table.name.clone(),
        extras: extras.iter().map(|(x, _)| normalise_name(x)).collect(),
        groups: Some(selection.groups.iter().map(|(g, _)| g.clone()).collect()),
    };
    if cove.install_project.unwrap_or(table.build_system) {
        parsed.add_project(table.local(&extras));
    }
    for (file, at) in requirement_files(dir, &cove, &selection) {
        let at = at.as_ref().map(|(given, pos)| (pos, given.as_str()));
        requirements_txt::read_into(&file, at, reader, &mut parsed, Some(&table))?;
        let name = file.strip_prefix(dir).unwrap_or(&file).display().to_string();
        parsed.notes.push(format!("{name} read too, as development requirements"));
    }
    if cove.install_project == Some(false) {
        parsed.install_project.take_if(|p| p.dir == dir);
        parsed.other_projects.retain(|p| p.dir != dir);
    }
    Ok(parsed)
}

/// `[project].requires-python`, when it has one.
pub fn requires_python(doc: &Doc) -> Result<Option<PythonConstraint>> {
    let Some(i) = doc.root().get("project").and_then(|p| p.get("requires-python")) else { return Ok(None) };
    Ok(Some(PythonConstraint::parse(&doc.string(i, "project.requires-python")?, doc.item_pos(i))?))
}

/// Add the selected groups' requirements to `parsed`; return the extras asked for by entries
/// that name the project itself (`"mypkg[full]"`).
fn group_requirements(
    groups: &Groups,
    selection: &Selection,
    table: &ProjectTable,
    parsed: &mut Parsed,
) -> Result<Vec<Located>> {
    let mut extras = Vec::new();
    for (group, pos) in &selection.groups {
        for (s, p) in groups.resolve(group, pos, "selected")? {
            let r = crate::manifest::requirement::parse_pep508(&s, &table.dir)
                .map_err(|e| crate::manifest::requirement::invalid(p.clone(), &s, &e.message))?;
            if table.is_self(r.name.as_ref()) {
                extras.extend(r.extras.iter().map(|x| (x.to_string(), p.clone())));
            } else {
                parsed.requirements.push(Requirement::from_pep508(&r, &s));
            }
        }
    }
    Ok(extras)
}

fn dynamic_error(pos: &Pos, field: &str) -> Error {
    Error::invalid(
        pos.clone(),
        format!("`{field}` is dynamic (computed by the build backend), so cove cannot read it from pyproject.toml"),
    )
    .with_hint(
        "list the dependencies in a cove.toml beside pyproject.toml (it comes first), or declare them statically in [project]",
    )
}

/// `[tool.cove].requirements` when set; else `requirements.txt` beside the pyproject.toml
/// when no dependency group is selected and the file exists.
fn requirement_files(dir: &Path, cove: &ToolCove, selection: &Selection) -> Vec<(PathBuf, Option<Located>)> {
    match &cove.requirements {
        Some(list) => list.iter().map(|(f, pos)| (dir.join(f), Some((f.clone(), pos.clone())))).collect(),
        None if selection.groups.is_empty() => {
            let default = dir.join("requirements.txt");
            if crate::inputs::is_file(&default) { vec![(default, None)] } else { Vec::new() }
        }
        None => Vec::new(),
    }
}

fn notes(parsed: &mut Parsed, selection: &Selection, extras: &[Located]) {
    if !selection.groups.is_empty() {
        let names: Vec<&str> = selection.groups.iter().map(|(g, _)| g.as_str()).collect();
        parsed.notes.push(format!("dependency groups: {} ({})", names.join(", "), selection.why));
    }
    if !extras.is_empty() {
        let mut names: Vec<String> = extras.iter().map(|(e, _)| normalise_name(e)).collect();
        names.sort();
        names.dedup();
        parsed.notes.push(format!("extras: {}", names.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fsx::temp_tree;

    /// Files under a temp folder; parse `pyproject.toml` there.
    struct Tree(tempfile::TempDir);

    impl Tree {
        fn with(pyproject: &str) -> Tree {
            Tree(temp_tree(&[("pyproject.toml", pyproject)]))
        }

        fn parse(&self) -> std::result::Result<Parsed, String> {
            parse(&self.0.path().join("pyproject.toml"), &mut Reader::new()).map_err(|e| {
                let s = match e.hint() {
                    Some(h) => format!("{e} | {h}"),
                    None => e.to_string(),
                };
                s.replace(&self.0.path().display().to_string(), "DIR")
            })
        }

        fn reqs(&self) -> Vec<String> {
            let mut v: Vec<String> = self.parse().unwrap().requirements.into_iter().map(|r| r.canonical).collect();
            v.sort();
            v.dedup();
            v
        }

        fn err(&self) -> String {
            self.parse().map(|_| ()).unwrap_err()
        }
    }

    const GROUPS: &str =
        "[dependency-groups]\ndev = [\"ruff\", {include-group = \"test\"}]\ntest = [\"pytest\"]\ndocs = [\"sphinx\"]\n";

    #[test]
    fn project_dependencies_python_and_extras() {
        let t = Tree::with(
            "[project]\nname = \"Demo\"\nrequires-python = \">=3.9\"\ndependencies = [\"Alpha>=1\", \"beta ; os_name == 'posix'\"]\nreadme = 7\n\n[project.optional-dependencies]\nFast = [\"gamma\"]\nall = [\"demo[fast]\", \"delta\"]\n\n[tool.cove]\nextras = [\"all\"]\n\n[tool.ruff]\nline-length = \"whatever: cove never checks other tables\"\n",
        );
        let p = t.parse().unwrap();
        assert_eq!(p.python.as_ref().unwrap().text, ">=3.9");
        assert_eq!(t.reqs(), ["alpha>=1", "beta ; os_name == 'posix'", "delta", "gamma"]);
        assert!(p.install_project.is_none(), "no [build-system]: not a package");
        assert_eq!(p.notes, ["extras: all"]);
        let t = Tree::with("[project]\nrequires-python = \">=3.9\"\n[tool.cove]\npython = \"3.12\"\n");
        assert_eq!(t.parse().unwrap().python.unwrap().text, "3.12");
    }

    #[test]
    fn groups_come_from_tool_cove_then_uv_default_groups_then_dev() {
        let t = Tree::with(&format!("[project]\nname = \"x\"\n{GROUPS}"));
        assert_eq!(t.reqs(), ["pytest", "ruff"]);
        assert_eq!(t.parse().unwrap().notes, ["dependency groups: dev (the `dev` group, by default)"]);
        let t = Tree::with(&format!("[project]\nname = \"x\"\n[tool.uv]\ndefault-groups = [\"docs\"]\n{GROUPS}"));
        assert_eq!(t.reqs(), ["sphinx"]);
        let t = Tree::with(&format!("[project]\nname = \"x\"\n[tool.uv]\ndefault-groups = \"all\"\n{GROUPS}"));
        assert_eq!(t.reqs(), ["pytest", "ruff", "sphinx"]);
        let t = Tree::with(&format!(
            "[project]\nname = \"x\"\n[tool.cove]\ngroups = [\"Test\"]\n[tool.uv]\ndefault-groups = \"all\"\n{GROUPS}"
        ));
        assert_eq!(t.reqs(), ["pytest"]);
        assert_eq!(t.parse().unwrap().notes, ["dependency groups: Test ([tool.cove].groups)"]);
    }

    #[test]
    fn a_group_naming_the_project_means_its_extras() {
        let t = Tree::with(
            "[build-system]\nrequires = []\n[project]\nname = \"my_pkg\"\ndependencies = [\"alpha\"]\n[project.optional-dependencies]\nfull = [\"gamma\"]\n[dependency-groups]\ndev = [\"My.Pkg[full]\", \"pytest\"]\n",
        );
        assert_eq!(t.reqs(), ["alpha", "gamma", "pytest"]);
        let p = t.parse().unwrap().install_project.unwrap();
        assert_eq!(p.extras, ["full"]);
        assert!(!p.dynamic);
    }

    #[test]
    fn requirements_txt_is_read_when_no_group_is_selected() {
        let files = |py: &str| {
            Tree(temp_tree(&[
                ("pyproject.toml", py),
                ("requirements.txt", "-e .[test]\npytest\n"),
                ("requirements-dev.txt", "ruff\n"),
            ]))
        };
        let base = "[build-system]\nrequires = []\n[project]\nname = \"app\"\ndependencies = [\"alpha\"]\n[project.optional-dependencies]\ntest = [\"gamma\"]\n";
        let t = files(base);
        assert_eq!(t.reqs(), ["alpha", "gamma", "pytest"]);
        let p = t.parse().unwrap();
        assert_eq!(p.install_project.as_ref().unwrap().extras, ["test"]);
        assert!(p.other_projects.is_empty());
        assert_eq!(p.notes, ["requirements.txt read too, as development requirements"]);
        // A selected group replaces it; `[tool.cove].requirements` names other files, or none.
        assert_eq!(files(&format!("{base}[dependency-groups]\ndev = [\"delta\"]\n")).reqs(), ["alpha", "delta"]);
        assert_eq!(
            files(&format!("{base}[tool.cove]\nrequirements = [\"requirements-dev.txt\"]\n")).reqs(),
            ["alpha", "ruff"]
        );
        assert_eq!(files(&format!("{base}[tool.cove]\nrequirements = []\n")).reqs(), ["alpha"]);
        assert_eq!(
            files(&format!("{base}[tool.cove]\ngroups = []\n[dependency-groups]\ndev = [\"delta\"]\n")).reqs(),
            ["alpha", "gamma", "pytest"]
        );
    }

    #[test]
    fn install_project_follows_build_system_unless_set() {
        let has = |py: &str| Tree::with(py).parse().unwrap().install_project.is_some();
        assert!(has("[project]\nname = \"a\"\n[build-system]\nrequires = []\n"));
        assert!(!has("[project]\nname = \"a\"\n"));
        assert!(has("[project]\nname = \"a\"\n[tool.cove]\ninstall-project = true\n"));
        assert!(!has("[project]\nname = \"a\"\n[build-system]\nrequires = []\n[tool.cove]\ninstall-project = false\n"));
        let t = Tree(temp_tree(&[
            ("pyproject.toml", "[project]\nname = \"a\"\n[tool.cove]\ninstall-project = false\n"),
            ("requirements.txt", "-e .\n"),
        ]));
        assert!(t.parse().unwrap().install_project.is_none(), "false wins over `-e .`");
    }

    #[test]
    fn tables_digest_ignores_spelling_and_sees_changes() {
        let digest = |py: &str| Tree::with(py).parse().unwrap().install_project.unwrap().tables_digest;
        let a = digest("[project]\nname = \"a\"\nversion = \"1.0\"\n[build-system]\nrequires = [\"x\"]\n");
        let b = digest(
            "[build-system]\nrequires = ['x']  # comment\n\n[project]\nversion = '1.0'\nname = \"a\"\n[tool.other]\nk = 1\n",
        );
        assert_eq!(a, b);
        assert_ne!(a, digest("[project]\nname = \"a\"\nversion = \"1.1\"\n[build-system]\nrequires = [\"x\"]\n"));
    }

    #[test]
    fn errors_name_the_position_and_what_to_do() {
        let cases: &[(&str, &str)] = &[
            (
                "[project]\nname = \"a\"\ndynamic = [\"version\", \"dependencies\"]\n",
                "DIR/pyproject.toml:3:23: `dependencies` is dynamic (computed by the build backend), so cove cannot read it from pyproject.toml | list the dependencies in a cove.toml",
            ),
            (
                "[tool.cove]\ngroup = [\"dev\"]\n",
                "DIR/pyproject.toml:2:1: unknown key `tool.cove.group` | did you mean `tool.cove.groups`?",
            ),
            (
                "[tool.cove]\nextras = \"all\"\n",
                "DIR/pyproject.toml:2:10: `tool.cove.extras` must be an array of strings, found a string",
            ),
            (
                "[project]\nname = \"a\"\n[tool.cove]\ngroups = [\"tset\"]\n[dependency-groups]\ntest = []\n",
                "DIR/pyproject.toml:4:11: unknown dependency group `tset` (named in [tool.cove].groups) | did you mean `test`?",
            ),
            (
                "[project]\nname = \"a\"\n[tool.cove]\ngroups = [\"dev\"]\n",
                "DIR/pyproject.toml:4:11: unknown dependency group `dev` (named in [tool.cove].groups) | DIR/pyproject.toml has no [dependency-groups] table",
            ),
            (
                "[project]\nname = \"a\"\n[tool.uv]\ndefault-groups = \"some\"\n",
                "DIR/pyproject.toml:4:18: `tool.uv.default-groups` must be a list of group names or \"all\", found a string",
            ),
            (
                "[project]\nname = \"a\"\n[project.optional-dependencies]\ntest = []\n[tool.cove]\nextras = [\"tests\"]\n",
                "DIR/pyproject.toml:6:11: the project has no extra `tests` | did you mean `test`?",
            ),
            (
                "[project]\nname = \"a\"\n[dependency-groups]\ndev = [\n  \"ok\",\n  \"bad >>= 1\",\n]\n",
                "DIR/pyproject.toml:6:3: invalid requirement \"bad >>= 1\"",
            ),
            (
                "[project]\ndependencies = \"alpha\"\n",
                "DIR/pyproject.toml:2:16: `project.dependencies` must be an array of strings, found a string",
            ),
            (
                "[project]\nrequires-python = \">=3.x\"\n",
                "DIR/pyproject.toml:2:19: invalid Python constraint \">=3.x\"",
            ),
            (
                "[tool.cove]\nrequirements = [\"dev.txt\"]\n",
                "DIR/pyproject.toml:2:17: cannot read dev.txt (DIR/dev.txt): No such file or directory",
            ),
            (
                "[project]\nname = \"a\"\ndynamic = [\"optional-dependencies\"]\n[tool.cove]\nextras = [\"x\"]\n",
                "DIR/pyproject.toml:3:12: `optional-dependencies` is dynamic",
            ),
        ];
        for (text, want) in cases {
            let got = Tree::with(text).err();
            assert!(got.starts_with(want), "{text}\n got: {got}\nwant: {want}");
        }
    }
}
