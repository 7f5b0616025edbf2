//! PEP 735 dependency groups: the `[dependency-groups]` table of a pyproject.toml.
//!
//! Each group is a list of PEP 508 strings and `{include-group = "name"}` tables. Names are
//! compared normalised (PEP 503), includes expand to any depth, a group may be empty, and a
//! cycle of includes is an error naming the groups in it. The structure of every group is
//! checked when the table is read; requirement strings are parsed by the caller, only for the
//! groups it selects.

use std::path::PathBuf;

use toml_edit::Value;

use crate::error::{Error, Pos, Result, nearest};
use crate::manifest::requirement::normalise_name;
use crate::tomlx::{Doc, value_kind};

/// One entry of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Requirement(String, Pos),
    Include(String, Pos),
}

#[derive(Debug, Clone)]
struct Group {
    /// As written.
    name: String,
    entries: Vec<Entry>,
}

/// The `[dependency-groups]` table, checked.
#[derive(Debug, Clone)]
pub struct Groups {
    groups: Vec<Group>,
    file: PathBuf,
}

impl Groups {
    /// Read and check `[dependency-groups]` (`item`).
    pub fn parse(doc: &Doc, item: &toml_edit::Item) -> Result<Groups> {
        let table = doc.table_like(item, "dependency-groups")?;
        let mut groups: Vec<Group> = Vec::new();
        for (name, value) in table.iter() {
            let label = format!("dependency-groups.{name}");
            if let Some(other) = groups.iter().find(|g| normalise_name(&g.name) == normalise_name(name)) {
                return Err(doc
                    .error(
                        value,
                        format!("dependency groups `{}` and `{name}` have the same normalised name", other.name),
                    )
                    .with_hint("group names are compared with case, `-`, `_` and `.` folded (PEP 735); keep one"));
            }
            let array = value.as_array().ok_or_else(|| doc.type_error(value, &label, "an array"))?;
            let entries = array.iter().map(|v| entry(doc, v, &label)).collect::<Result<Vec<_>>>()?;
            groups.push(Group { name: name.to_string(), entries });
        }
        let groups = Groups { groups, file: doc.path.clone() };
        for g in &groups.groups {
            for e in &g.entries {
                if let Entry::Include(name, pos) = e {
                    groups.find(name, pos, &format!("included by `{}`", g.name))?;
                }
            }
        }
        Ok(groups)
    }

    /// No groups: the pyproject.toml at `file` has no `[dependency-groups]` table.
    pub fn none(file: &std::path::Path) -> Groups {
        Groups { groups: Vec::new(), file: file.to_path_buf() }
    }

    /// Whether a group of this name (normalised) exists.
    pub fn contains(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    /// Every group name, as written, in file order.
    pub fn names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.name.clone()).collect()
    }

    /// The error for a group name that is not defined, at `pos`; `whence` says who named it.
    pub fn unknown(&self, name: &str, pos: &Pos, whence: &str) -> Error {
        let err = Error::invalid(pos.clone(), format!("unknown dependency group `{name}` ({whence})"));
        let names = self.names();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        match nearest(name, &refs) {
            Some(n) => err.with_hint(format!("did you mean `{n}`?")),
            None if refs.is_empty() => {
                err.with_hint(format!("{} has no [dependency-groups] table", self.file.display()))
            }
            None => err.with_hint(format!("groups defined: {}", refs.join(", "))),
        }
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        let n = normalise_name(name);
        self.groups.iter().position(|g| normalise_name(&g.name) == n)
    }

    fn find(&self, name: &str, pos: &Pos, whence: &str) -> Result<usize> {
        self.index_of(name).ok_or_else(|| self.unknown(name, pos, whence))
    }

    /// The requirement strings of group `name` with its includes expanded, each with its
    /// position, in order. `pos` is where the group was asked for (for an unknown name).
    pub fn resolve(&self, name: &str, pos: &Pos, whence: &str) -> Result<Vec<(String, Pos)>> {
        let start = self.find(name, pos, whence)?;
        let mut out = Vec::new();
        self.expand(start, &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    fn expand(&self, i: usize, path: &mut Vec<usize>, out: &mut Vec<(String, Pos)>) -> Result<()> {
        path.push(i);
        for e in &self.groups[i].entries {
            match e {
                Entry::Requirement(s, p) => out.push((s.clone(), p.clone())),
                Entry::Include(name, p) => {
                    let j = self.find(name, p, "included")?;
                    if let Some(k) = path.iter().position(|&x| x == j) {
                        return Err(self.cycle(&path[k..], j, p));
                    }
                    self.expand(j, path, out)?;
                }
            }
        }
        path.pop();
        Ok(())
    }

    fn cycle(&self, chain: &[usize], back: usize, pos: &Pos) -> Error {
        let names: Vec<String> =
            chain.iter().chain(std::iter::once(&back)).map(|&i| format!("`{}`", self.groups[i].name)).collect();
        Error::invalid(pos.clone(), format!("dependency groups include each other in a cycle: {}", names.join(" → ")))
            .with_hint("remove one of these `include-group` entries")
    }
}

fn entry(doc: &Doc, v: &Value, label: &str) -> Result<Entry> {
    let pos = doc.pos(v.span());
    match v {
        Value::String(s) => Ok(Entry::Requirement(s.value().clone(), pos)),
        Value::InlineTable(t) => {
            let mut include = None;
            for (key, value) in t.iter() {
                if key != "include-group" {
                    let err = Error::invalid(doc.pos(value.span()), format!("unknown key `{key}` in `{label}`"));
                    return Err(err.with_hint("a group's tables have one key, `include-group` (PEP 735)"));
                }
                include = Some(value.as_str().map(str::to_string).ok_or_else(|| {
                    Error::invalid(
                        doc.pos(value.span()),
                        format!("`include-group` must be a string, found {}", value_kind(value)),
                    )
                })?);
            }
            include.map(|name| Entry::Include(name, pos.clone())).ok_or_else(|| {
                Error::invalid(pos, format!("an empty table in `{label}`"))
                    .with_hint("write `{include-group = \"name\"}` or a requirement string")
            })
        }
        other => Err(Error::invalid(
            pos,
            format!(
                "`{label}` must hold requirement strings and `{{include-group = …}}` tables, found {}",
                value_kind(other)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn groups(text: &str) -> Result<Groups> {
        let doc = Doc::parse(Path::new("pyproject.toml"), text)?;
        let item = doc.root().get("dependency-groups").expect("table");
        Groups::parse(&doc, item)
    }

    fn names(g: &Groups, name: &str) -> Result<Vec<String>> {
        let pos = Pos { file: "here".into(), line: 1, column: 1 };
        Ok(g.resolve(name, &pos, "asked")?.into_iter().map(|(s, _)| s).collect())
    }

    #[test]
    fn includes_expand_nested_and_empty_groups_are_fine() {
        let g = groups(
            "[dependency-groups]\ntest = [\"pytest>=8\", {include-group = \"Typing\"}]\ntyping = [\"mypy\", {include-group = \"empty\"}]\nempty = []\ndev = [{include-group = \"test\"}, \"ruff\"]\n",
        )
        .unwrap();
        assert_eq!(names(&g, "dev").unwrap(), ["pytest>=8", "mypy", "ruff"]);
        assert_eq!(names(&g, "EMPTY").unwrap(), Vec::<String>::new());
        assert!(g.contains("Test"));
    }

    #[test]
    fn cycles_name_the_groups() {
        let g = groups("[dependency-groups]\na = [{include-group = \"b\"}]\nb = [\"x\", {include-group = \"c\"}]\nc = [{include-group = \"a\"}]\n")
            .unwrap();
        let e = names(&g, "a").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pyproject.toml:4:6: dependency groups include each other in a cycle: `a` → `b` → `c` → `a`"
        );
        let g = groups("[dependency-groups]\nself = [{include-group = \"self\"}]\n").unwrap();
        assert_eq!(
            names(&g, "self").unwrap_err().to_string(),
            "pyproject.toml:2:9: dependency groups include each other in a cycle: `self` → `self`"
        );
    }

    #[test]
    fn bad_entries_name_the_position() {
        let e = groups("[dependency-groups]\ndev = [\"ok\", 3]\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pyproject.toml:2:14: `dependency-groups.dev` must hold requirement strings and `{include-group = …}` tables, found an integer"
        );
        let e = groups("[dependency-groups]\ndev = [{include = \"x\"}]\n").unwrap_err();
        assert_eq!(e.to_string(), "pyproject.toml:2:19: unknown key `include` in `dependency-groups.dev`");
        let e = groups("[dependency-groups]\ndev = \"pytest\"\n").unwrap_err();
        assert_eq!(e.to_string(), "pyproject.toml:2:7: `dependency-groups.dev` must be an array, found a string");
        let e = groups("[dependency-groups]\ndev = [{include-group = \"tset\"}]\ntest = []\n").unwrap_err();
        assert_eq!(e.to_string(), "pyproject.toml:2:8: unknown dependency group `tset` (included by `dev`)");
        assert_eq!(e.hint().as_deref(), Some("did you mean `test`?"));
        let e = groups("[dependency-groups]\nDev = []\ndev = []\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pyproject.toml:3:7: dependency groups `Dev` and `dev` have the same normalised name"
        );
    }
}
