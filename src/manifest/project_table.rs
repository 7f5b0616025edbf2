//! A project folder's `pyproject.toml` `[project]` table (PEP 621), as both manifests use it:
//! the pyproject manifest for its own dependencies and extras, and a requirements file for the
//! local project a line names (`-e .[test]`), with what it installs and requires.

use std::path::{Path, PathBuf};

use toml_edit::{Item, TableLike, Value};

use crate::error::{Error, Pos, Result, nearest};
use crate::manifest::parts::{LocalProject, Reader};
use crate::manifest::requirement::{Requirement, normalise_name};
use crate::tomlx::Doc;

/// A string as written, with where it was written.
pub type Located = (String, Pos);

/// What cove reads of a pyproject's `[project]` table, and whether it has a `[build-system]`.
#[derive(Debug, Clone)]
pub struct ProjectTable {
    pub dir: PathBuf,
    /// Whether there is a `[project]` table at all.
    pub present: bool,
    /// PEP 503 normalised.
    pub name: Option<String>,
    dependencies: Vec<Located>,
    /// Extra (PEP 685 normalised) → its requirement strings.
    optional: Vec<(String, Vec<Located>)>,
    dynamic: Vec<Located>,
    pub build_system: bool,
    /// See [`LocalProject::tables_digest`].
    pub digest: String,
}

impl ProjectTable {
    /// Read `[project]` and note `[build-system]` from `doc`, the pyproject.toml in `dir`.
    pub fn read(doc: &Doc, dir: &Path) -> Result<ProjectTable> {
        let root = doc.root();
        let mut t = ProjectTable {
            dir: dir.to_path_buf(),
            present: false,
            name: None,
            dependencies: Vec::new(),
            optional: Vec::new(),
            dynamic: Vec::new(),
            build_system: root.contains_key("build-system"),
            digest: tables_digest(root.get("project"), root.get("build-system")),
        };
        let Some(project) = root.get("project") else { return Ok(t) };
        let project = doc.table_like(project, "project")?;
        t.present = true;
        let strings = |key: &str| project.get(key).map(|i| doc.strings(i, &format!("project.{key}"))).transpose();
        t.name = project.get("name").map(|i| doc.string(i, "project.name")).transpose()?.map(|n| normalise_name(&n));
        t.dependencies = strings("dependencies")?.unwrap_or_default();
        t.dynamic = strings("dynamic")?.unwrap_or_default();
        if let Some(item) = project.get("optional-dependencies") {
            let table = doc.table_like(item, "project.optional-dependencies")?;
            for (extra, list) in table.iter() {
                let strings = doc.strings(list, &format!("project.optional-dependencies.{extra}"))?;
                t.optional.push((normalise_name(extra), strings));
            }
        }
        Ok(t)
    }

    /// Where `[project].dynamic` lists `field`, if it does.
    pub fn dynamic(&self, field: &str) -> Option<&Pos> {
        self.dynamic.iter().find(|(f, _)| f == field).map(|(_, p)| p)
    }

    /// Whether its dependencies (or, with extras asked, its optional ones) are not static.
    fn is_dynamic(&self, with_extras: bool) -> bool {
        !self.present
            || self.dynamic("dependencies").is_some()
            || (with_extras && self.dynamic("optional-dependencies").is_some())
    }

    /// The project's dependencies plus those of `extras` (each with where it was asked for),
    /// extras that name the project itself (`all = ["pkg[a,b]"]`) expanded.
    pub fn requirements(&self, extras: &[Located]) -> Result<Vec<Requirement>> {
        let mut out: Vec<Requirement> =
            self.dependencies.iter().map(|(s, pos)| Requirement::parse(s, pos, &self.dir)).collect::<Result<_>>()?;
        let mut queue: Vec<Located> = extras.to_vec();
        let mut seen: Vec<String> = Vec::new();
        while let Some((extra, pos)) = queue.pop() {
            let norm = normalise_name(&extra);
            if seen.contains(&norm) {
                continue;
            }
            let list = self.extra(&extra, &pos)?;
            seen.push(norm);
            for (s, p) in list {
                let r = crate::manifest::requirement::parse_pep508(s, &self.dir)
                    .map_err(|e| crate::manifest::requirement::invalid(p.clone(), s, &e.message))?;
                if self.is_self(r.name.as_ref()) {
                    queue.extend(r.extras.iter().map(|x| (x.to_string(), p.clone())));
                } else {
                    out.push(Requirement::from_pep508(&r, s));
                }
            }
        }
        Ok(out)
    }

    /// Whether `name` names this project.
    pub fn is_self(&self, name: &str) -> bool {
        self.name.as_deref() == Some(normalise_name(name).as_str())
    }

    fn extra(&self, extra: &str, pos: &Pos) -> Result<&Vec<Located>> {
        let norm = normalise_name(extra);
        if let Some((_, list)) = self.optional.iter().find(|(e, _)| *e == norm) {
            return Ok(list);
        }
        let known: Vec<&str> = self.optional.iter().map(|(e, _)| e.as_str()).collect();
        let err = Error::invalid(pos.clone(), format!("the project has no extra `{extra}`"));
        Err(match nearest(&norm, &known) {
            Some(n) => err.with_hint(format!("did you mean `{n}`?")),
            None if known.is_empty() => err.with_hint(format!(
                "{} has no [project.optional-dependencies]",
                self.dir.join("pyproject.toml").display()
            )),
            None => err.with_hint(format!("extras defined: {}", known.join(", "))),
        })
    }

    pub fn local(&self, extras: &[Located]) -> LocalProject {
        let mut names: Vec<String> = extras.iter().map(|(e, _)| normalise_name(e)).collect();
        names.sort();
        names.dedup();
        LocalProject {
            dir: self.dir.clone(),
            extras: names,
            dynamic: self.is_dynamic(!extras.is_empty()),
            tables_digest: self.digest.clone(),
        }
    }
}

/// A local project folder named by a requirements line (`-e ./lib[test]`, at `at`): the project
/// to install and the requirements it adds. `own` is the pyproject already read as the manifest.
pub fn local(
    dir: &Path,
    extras: &[Located],
    at: &Pos,
    reader: &mut Reader,
    own: Option<&ProjectTable>,
) -> Result<(LocalProject, Vec<Requirement>)> {
    let read;
    let table = match own {
        Some(t) if t.dir == dir => t,
        _ => {
            let path = dir.join("pyproject.toml");
            if crate::inputs::is_file(&path) {
                let text = reader.read(&path)?;
                read = ProjectTable::read(&Doc::parse(&path, &text)?, dir)?;
                &read
            } else if crate::inputs::is_file(&dir.join("setup.py")) || crate::inputs::is_file(&dir.join("setup.cfg")) {
                let project = LocalProject {
                    dir: dir.to_path_buf(),
                    extras: extras.iter().map(|(e, _)| normalise_name(e)).collect(),
                    dynamic: true,
                    tables_digest: String::new(),
                };
                return Ok((project, Vec::new()));
            } else {
                return Err(Error::invalid(
                    at.clone(),
                    format!("{} is not a Python project: it has no pyproject.toml or setup.py", dir.display()),
                )
                .with_hint("name a folder that holds a pyproject.toml, or a wheel or sdist file"));
            }
        }
    };
    let project = table.local(extras);
    let requirements = if project.dynamic { Vec::new() } else { table.requirements(extras)? };
    Ok((project, requirements))
}

/// SHA-256 over a canonical text of the `[project]` and `[build-system]` tables: equal for
/// equal content however it is spelled (key order, quoting, comments).
fn tables_digest(project: Option<&Item>, build: Option<&Item>) -> String {
    let mut text = String::from("[project]\n");
    if let Some(p) = project {
        canonical_item(p, &mut text);
    }
    text.push_str("\n[build-system]\n");
    if let Some(b) = build {
        canonical_item(b, &mut text);
    }
    crate::digest::sha256_hex(text.as_bytes())
}

fn canonical_item(item: &Item, out: &mut String) {
    match item {
        Item::None => out.push_str("null"),
        Item::Value(v) => canonical_value(v, out),
        Item::Table(t) => canonical_table(t, out),
        Item::ArrayOfTables(a) => {
            out.push('[');
            for t in a.iter() {
                canonical_table(t, out);
                out.push(',');
            }
            out.push(']');
        }
    }
}

fn canonical_table(t: &dyn TableLike, out: &mut String) {
    let mut entries: Vec<(&str, &Item)> = t.iter().collect();
    entries.sort_by_key(|(k, _)| *k);
    out.push('{');
    for (k, v) in entries {
        out.push_str(&serde_json::Value::from(k).to_string());
        out.push('=');
        canonical_item(v, out);
        out.push(',');
    }
    out.push('}');
}

fn canonical_value(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(&serde_json::Value::from(s.value().as_str()).to_string()),
        Value::Integer(i) => out.push_str(&i.value().to_string()),
        Value::Float(f) => out.push_str(&f.value().to_string()),
        Value::Boolean(b) => out.push_str(&b.value().to_string()),
        Value::Datetime(d) => out.push_str(&d.value().to_string()),
        Value::Array(a) => {
            out.push('[');
            for x in a.iter() {
                canonical_value(x, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::InlineTable(t) => canonical_table(t, out),
    }
}
