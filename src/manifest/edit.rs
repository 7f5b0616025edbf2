//! Edit a manifest in place, keeping its comments and layout (`toml_edit` for TOML files, line
//! edits for requirements files). A requirement replaces one with the same normalised name
//! instead of duplicating it. These functions only compute the new text; callers write it.

use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, Value};

use crate::error::{Error, Pos, Result};
use crate::manifest::requirement::normalise_name;
use crate::plan::project::Kind;

/// Where in the manifest requirements go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// `dependencies` (cove.toml, `[project]`) or the file's lines (requirements.txt).
    #[default]
    Main,
    /// A PEP 735 dependency group (pyproject.toml).
    Group(String),
    /// An extra in `[project.optional-dependencies]` (pyproject.toml).
    Optional(String),
}

/// A requirement to add: its text as the user wrote it and its normalised name.
pub struct NewReq {
    pub text: String,
    pub name: String,
}

/// The name a requirement string starts with, normalised (for matching, not validation).
pub fn name_of(req: &str) -> String {
    let s = req.trim();
    let s = s.strip_prefix("-e ").unwrap_or(s).trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))).unwrap_or(s.len());
    normalise_name(&s[..end])
}

fn toml_error(path: &Path, text: &str, e: toml_edit::TomlError) -> Error {
    let offset = e.span().map_or(0, |s| s.start);
    Error::invalid(Pos::at(path, text, offset), format!("invalid TOML: {}", e.message().trim()))
}

/// The array the target names, created if missing (only for groups and extras).
fn target_array<'d>(doc: &'d mut DocumentMut, kind: Kind, target: &Target, path: &Path) -> Result<&'d mut Array> {
    let wrong = |what: &str| Error::CannotEdit { path: path.to_path_buf(), what: what.to_string() };
    let item: &mut Item = match (kind, target) {
        (Kind::CoveToml | Kind::Script, Target::Main) => {
            doc.entry("dependencies").or_insert(Item::Value(Value::Array(Array::new())))
        }
        (Kind::Pyproject, Target::Main) => {
            let project = doc.entry("project").or_insert_with(|| new_project_table(path));
            let project = project.as_table_like_mut().ok_or_else(|| wrong("[project] is not a table"))?;
            project.entry("dependencies").or_insert(Item::Value(Value::Array(Array::new())))
        }
        (Kind::Pyproject, Target::Group(g)) => {
            let groups = doc.entry("dependency-groups").or_insert(toml_edit::table());
            let groups = groups.as_table_like_mut().ok_or_else(|| wrong("[dependency-groups] is not a table"))?;
            groups.entry(g).or_insert(Item::Value(Value::Array(Array::new())))
        }
        (Kind::Pyproject, Target::Optional(x)) => {
            let project = doc.entry("project").or_insert_with(|| new_project_table(path));
            let project = project.as_table_like_mut().ok_or_else(|| wrong("[project] is not a table"))?;
            let opt = project.entry("optional-dependencies").or_insert(toml_edit::table());
            let opt = opt.as_table_like_mut().ok_or_else(|| wrong("optional-dependencies is not a table"))?;
            opt.entry(x).or_insert(Item::Value(Value::Array(Array::new())))
        }
        _ => return Err(Error::Usage("--group and --optional need a pyproject.toml manifest".into())),
    };
    item.as_array_mut().ok_or_else(|| wrong("the requirements entry is not an array"))
}

/// A `[project]` table for a pyproject.toml that had none (only `[tool.cove]`): PEP 621 asks
/// for a `name` and a `version`, so other tools can still read the file. The name is the
/// project folder's, made a valid distribution name.
fn new_project_table(manifest: &Path) -> Item {
    let folder = manifest.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
    let name: String = folder
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' })
        .collect();
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut table = toml_edit::Table::new();
    table.insert("name", toml_edit::value(if name.is_empty() { "project" } else { name }));
    table.insert("version", toml_edit::value("0.1.0"));
    Item::Table(table)
}

/// Add (or replace by name) `reqs` in the TOML manifest `text`.
pub fn add_toml(path: &Path, text: &str, kind: Kind, target: &Target, reqs: &[NewReq]) -> Result<String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| toml_error(path, text, e))?;
    let array = target_array(&mut doc, kind, target, path)?;
    for req in reqs {
        let existing = array.iter().position(|v| v.as_str().is_some_and(|s| name_of(s) == req.name));
        match existing {
            Some(i) => replace_keeping_decor(array, i, &req.text),
            None => push_in_style(array, &req.text),
        }
    }
    Ok(doc.to_string())
}

/// The requirement text for `name` in the target array, if there is one (the array is not made).
pub fn find_toml(path: &Path, text: &str, kind: Kind, target: &Target, name: &str) -> Result<Option<String>> {
    let mut doc: DocumentMut = text.parse().map_err(|e| toml_error(path, text, e))?;
    let array = target_array(&mut doc, kind, target, path)?;
    Ok(array.iter().filter_map(|v| v.as_str()).find(|s| name_of(s) == name).map(str::to_string))
}

/// The requirement of requirement line `name` in a requirements file (its comment cut off).
pub fn find_line(text: &str, name: &str) -> Option<String> {
    text.lines().find(|l| line_name(l).as_deref() == Some(name)).map(|l| split_comment(l).0.trim().to_string())
}

/// A line's requirement and its comment (from the whitespace before `#`, as pip cuts it).
fn split_comment(line: &str) -> (&str, &str) {
    let b = line.as_bytes();
    match (1..b.len()).find(|&i| b[i] == b'#' && b[i - 1].is_ascii_whitespace()) {
        Some(i) => {
            let start = line[..i].trim_end().len();
            (&line[..start], &line[start..])
        }
        None => (line, ""),
    }
}

/// Remove `names` from the TOML manifest; fails naming the ones that are not there.
pub fn remove_toml(path: &Path, text: &str, kind: Kind, target: &Target, names: &[String]) -> Result<String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| toml_error(path, text, e))?;
    let array = target_array(&mut doc, kind, target, path)?;
    let missing: Vec<&String> =
        names.iter().filter(|n| !array.iter().any(|v| v.as_str().is_some_and(|s| &name_of(s) == *n))).collect();
    if !missing.is_empty() {
        return Err(not_found(path, &missing));
    }
    let multiline = is_multiline(array);
    loop {
        let found = array.iter().position(|v| v.as_str().is_some_and(|s| names.contains(&name_of(s))));
        let Some(i) = found else { break };
        remove_keeping_comments(array, i, multiline);
    }
    Ok(doc.to_string())
}

/// The part of a prefix before its first newline: the comment ending the previous line.
fn head(p: &str) -> &str {
    p.find('\n').map_or(p, |i| &p[..i])
}

/// The part of a prefix from its first newline on: what stands above the element.
fn rest(p: &str) -> &str {
    p.find('\n').map_or("", |i| &p[i..])
}

fn prefix_of(v: &Value) -> String {
    v.decor().prefix().and_then(|p| p.as_str()).unwrap_or("").to_string()
}

/// Remove element `i`. In toml_edit a comment after an element's comma is stored in the next
/// element's prefix (or the array's trailing), so the comment of the removed line goes with it
/// and the previous line's comment stays.
fn remove_keeping_comments(array: &mut Array, i: usize, multiline: bool) {
    let removed = array.get(i).expect("index from position");
    let own = prefix_of(removed);
    // Without a trailing comma, the end of the last line is in the last element's suffix.
    let own_suffix = removed.decor().suffix().and_then(|s| s.as_str()).unwrap_or("").to_string();
    array.remove(i);
    if !multiline {
        if i == 0
            && let Some(first) = array.get_mut(0)
        {
            first.decor_mut().set_prefix("");
        }
        return;
    }
    let keep = head(&own).to_string();
    match array.get_mut(i) {
        Some(next) => {
            let p = prefix_of(next);
            next.decor_mut().set_prefix(format!("{keep}{}", rest(&p)));
        }
        None => {
            let t = array.trailing().as_str().unwrap_or("").to_string();
            let t = if own_suffix.contains('\n') { format!("{own_suffix}{t}") } else { t };
            array.set_trailing(format!("{keep}{}", rest(&t)));
        }
    }
}

fn not_found(path: &Path, missing: &[&String]) -> Error {
    Error::NoSuchRequirement { path: path.to_path_buf(), names: missing.iter().map(|s| s.to_string()).collect() }
}

fn is_multiline(array: &Array) -> bool {
    array.iter().any(|v| v.decor().prefix().and_then(|p| p.as_str()).is_some_and(|p| p.contains('\n')))
        || array.trailing().as_str().is_some_and(|t| t.contains('\n'))
}

fn replace_keeping_decor(array: &mut Array, i: usize, text: &str) {
    let old = array.get(i).expect("index from position");
    let mut value = new_string(text, single_quoted(old));
    *value.decor_mut() = old.decor().clone();
    array.replace_formatted(i, value);
}

fn single_quoted(v: &Value) -> bool {
    let mut bare = v.clone();
    bare.decor_mut().clear();
    bare.to_string().starts_with('\'')
}

fn new_string(text: &str, single_quotes: bool) -> Value {
    if single_quotes
        && !text.contains('\'')
        && !text.contains('\n')
        && let Ok(v) = format!("'{text}'").parse::<Value>()
    {
        return v;
    }
    Value::from(text)
}

/// Set the manifest's `python` (cove.toml's top-level key, pyproject.toml's `[tool.cove].python`)
/// to `value`, keeping comments, layout and the old value's quoting.
pub fn set_python(path: &Path, text: &str, kind: Kind, value: &str) -> Result<String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| toml_error(path, text, e))?;
    let wrong = |what: &str| Error::CannotEdit { path: path.to_path_buf(), what: what.to_string() };
    let table: &mut dyn toml_edit::TableLike = match kind {
        Kind::CoveToml => doc.as_table_mut(),
        Kind::Pyproject => {
            let tool = doc.entry("tool").or_insert_with(|| {
                let mut t = toml_edit::Table::new();
                t.set_implicit(true);
                Item::Table(t)
            });
            let tool = tool.as_table_like_mut().ok_or_else(|| wrong("[tool] is not a table"))?;
            let cove = tool.entry("cove").or_insert(toml_edit::table());
            cove.as_table_like_mut().ok_or_else(|| wrong("[tool.cove] is not a table"))?
        }
        _ => return Err(Error::Usage("--manifest needs a cove.toml or pyproject.toml manifest".into())),
    };
    match table.get_mut("python") {
        Some(Item::Value(old)) => {
            let mut new = new_string(value, single_quoted(old));
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        _ => {
            table.insert("python", toml_edit::value(value));
        }
    }
    Ok(doc.to_string())
}

/// Append in the array's own style: one per line (same indent, trailing comma kept) or inline.
fn push_in_style(array: &mut Array, text: &str) {
    let single = array.iter().last().is_some_and(single_quoted);
    let mut value = new_string(text, single);
    if is_multiline(array) {
        // The indent of the last element's line (its prefix may also hold comments).
        let indent = array
            .iter()
            .last()
            .map(prefix_of)
            .and_then(|p| p.rfind('\n').map(|i| p[i..].to_string()))
            .unwrap_or_else(|| "\n    ".into());
        // A comment ending the last line is in the array's trailing: it stays on that line,
        // before the new one (as `remove_keeping_comments` puts it back).
        // Without a trailing comma that comment is in the last element's suffix instead.
        let mut trailing = array.trailing().as_str().unwrap_or("").to_string();
        if let Some(last) = array.iter_mut().last() {
            let suffix = last.decor().suffix().and_then(|s| s.as_str()).unwrap_or("").to_string();
            if suffix.contains('\n') {
                last.decor_mut().set_suffix("");
                trailing = format!("{suffix}{trailing}");
            }
        }
        let (comment, after) = if trailing.contains('\n') { (head(&trailing), rest(&trailing)) } else { ("", "\n") };
        value.decor_mut().set_prefix(format!("{comment}{indent}"));
        value.decor_mut().set_suffix("");
        let was_empty = array.is_empty();
        let had_trailing_comma = array.trailing_comma();
        array.push_formatted(value);
        array.set_trailing(after);
        array.set_trailing_comma(had_trailing_comma || was_empty);
    } else {
        if !array.is_empty() {
            value.decor_mut().set_prefix(" ");
        }
        array.push_formatted(value);
    }
}

/// Add (or replace by name) requirement lines in a requirements file, keeping comments, line
/// endings and whether the file ends in a newline.
pub fn add_lines(text: &str, reqs: &[NewReq]) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    for req in reqs {
        let found = lines.iter().position(|l| line_name(l).as_deref() == Some(req.name.as_str()));
        match found {
            Some(i) => {
                let line = lines[i].clone();
                let body = line.trim_end_matches(['\n', '\r']);
                let end = &line[body.len()..];
                let (_, comment) = split_comment(body);
                lines[i] = format!("{}{comment}{end}", req.text);
            }
            None => {
                if let Some(last) = lines.last_mut().filter(|l| !l.ends_with('\n')) {
                    last.push_str(eol);
                    lines.push(req.text.clone());
                } else {
                    lines.push(format!("{}{eol}", req.text));
                }
            }
        }
    }
    lines.concat()
}

/// Remove requirement lines by name; fails naming the ones that are not there.
pub fn remove_lines(path: &Path, text: &str, names: &[String]) -> Result<String> {
    let missing: Vec<&String> =
        names.iter().filter(|n| !text.lines().any(|l| line_name(l).as_deref() == Some(n.as_str()))).collect();
    if !missing.is_empty() {
        return Err(not_found(path, &missing));
    }
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    let gone = |l: &str| line_name(l).is_some_and(|n| names.contains(&n));
    let mut out: String = all.iter().copied().filter(|l| !gone(l)).collect();
    // The file's last line removed, and it had no newline: nor has the line now last.
    if all.last().is_some_and(|l| !l.ends_with('\n') && gone(l)) {
        let cut = out.strip_suffix("\r\n").or_else(|| out.strip_suffix('\n')).map(str::len);
        if let Some(n) = cut {
            out.truncate(n);
        }
    }
    Ok(out)
}

/// The normalised name of a requirement line (None for comments, options and blank lines).
fn line_name(line: &str) -> Option<String> {
    let l = line.trim();
    if l.is_empty() || l.starts_with('#') || l.starts_with('-') {
        return None;
    }
    let n = name_of(l);
    (!n.is_empty()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> NewReq {
        NewReq { text: s.into(), name: name_of(s) }
    }

    fn add(text: &str, kind: Kind, target: Target, reqs: &[&str]) -> String {
        let reqs: Vec<NewReq> = reqs.iter().map(|r| req(r)).collect();
        add_toml(Path::new("m.toml"), text, kind, &target, &reqs).unwrap()
    }

    #[test]
    fn multiline_arrays_keep_comments_indent_and_trailing_commas() {
        let text = "# my project\ndependencies = [\n  \"alpha==1.0\",  # pinned for reasons\n  'beta',\n]\n\n[index]\nno-index = true # local\n";
        let out = add(text, Kind::CoveToml, Target::Main, &["gamma>=1"]);
        assert_eq!(
            out,
            "# my project\ndependencies = [\n  \"alpha==1.0\",  # pinned for reasons\n  'beta',\n  'gamma>=1',\n]\n\n[index]\nno-index = true # local\n"
        );
        let out = add(text, Kind::CoveToml, Target::Main, &["Alpha==2.0"]);
        assert!(out.contains("  \"Alpha==2.0\",  # pinned for reasons\n"), "{out}");
        assert_eq!(out.matches("lpha").count(), 1);
    }

    #[test]
    fn a_comment_ending_the_last_line_stays_on_it() {
        let text = "dependencies = [\n  \"idna==3.7\",  # must match prod\n]\n";
        let out = add(text, Kind::CoveToml, Target::Main, &["six"]);
        assert_eq!(out, "dependencies = [\n  \"idna==3.7\",  # must match prod\n  \"six\",\n]\n");
        let back = remove_toml(Path::new("m"), &out, Kind::CoveToml, &Target::Main, &["six".into()]).unwrap();
        assert_eq!(back, text);
        let text = "dependencies = [\n  \"idna==3.7\"  # no comma\n]\n";
        let out = add(text, Kind::CoveToml, Target::Main, &["six"]);
        assert_eq!(out, "dependencies = [\n  \"idna==3.7\",  # no comma\n  \"six\"\n]\n");
    }

    #[test]
    fn inline_arrays_stay_inline() {
        let out = add("dependencies = [\"a\", \"b\"]\n", Kind::CoveToml, Target::Main, &["c"]);
        assert_eq!(out, "dependencies = [\"a\", \"b\", \"c\"]\n");
        let out = add("dependencies = []\n", Kind::CoveToml, Target::Main, &["c"]);
        assert_eq!(out, "dependencies = [\"c\"]\n");
        let out = add("python = \"3.12\"\n", Kind::CoveToml, Target::Main, &["c"]);
        assert_eq!(out, "python = \"3.12\"\ndependencies = [\"c\"]\n");
    }

    #[test]
    fn a_project_table_made_for_a_requirement_has_a_name_and_version() {
        let text = "[tool.cove]\npython = \">=3.8\"\n";
        let path = Path::new("/src/my app!/pyproject.toml");
        let reqs = [NewReq { text: "alpha".into(), name: "alpha".into() }];
        let out = add_toml(path, text, Kind::Pyproject, &Target::Main, &reqs).unwrap();
        assert!(out.contains("[project]\nname = \"my-app\"\nversion = \"0.1.0\"\ndependencies = [\"alpha\"]"), "{out}");
        assert!(out.starts_with("[tool.cove]\npython = \">=3.8\"\n"), "{out}");
    }

    #[test]
    fn pyproject_targets() {
        let text =
            "[project]\nname = \"x\"\ndependencies = [\n    \"alpha\",\n]\n\n[dependency-groups]\ndev = [\"pytest\"]\n";
        let out = add(text, Kind::Pyproject, Target::Main, &["beta"]);
        assert!(out.contains("dependencies = [\n    \"alpha\",\n    \"beta\",\n]"), "{out}");
        let out = add(text, Kind::Pyproject, Target::Group("dev".into()), &["ruff"]);
        assert!(out.contains("dev = [\"pytest\", \"ruff\"]"), "{out}");
        let out = add(text, Kind::Pyproject, Target::Optional("full".into()), &["rich"]);
        assert!(out.contains("[project.optional-dependencies]\nfull = [\"rich\"]"), "{out}");
    }

    #[test]
    fn remove_keeps_the_rest_and_names_what_is_absent() {
        let text = "dependencies = [\n  \"alpha==1.0\", # keep me? no\n  \"beta\",  # keep\n]\n";
        let out = remove_toml(Path::new("m"), text, Kind::CoveToml, &Target::Main, &["alpha".into()]).unwrap();
        assert_eq!(out, "dependencies = [\n  \"beta\",  # keep\n]\n");
        let e = remove_toml(Path::new("m"), text, Kind::CoveToml, &Target::Main, &["zeta".into()]).unwrap_err();
        assert_eq!(e.to_string(), "m has no requirement named zeta");
        let out = remove_toml(
            Path::new("m"),
            "dependencies = [\"a\", \"b\"]\n",
            Kind::CoveToml,
            &Target::Main,
            &["a".into()],
        )
        .unwrap();
        assert_eq!(out, "dependencies = [\"b\"]\n");
    }

    #[test]
    fn set_python_keeps_comments_and_makes_tool_cove_when_missing() {
        let text = "# top\npython = '>=3.11'  # why\ndependencies = []\n";
        let out = set_python(Path::new("c"), text, Kind::CoveToml, "3.12").unwrap();
        assert_eq!(out, "# top\npython = '3.12'  # why\ndependencies = []\n");
        let out = set_python(Path::new("c"), "dependencies = []\n", Kind::CoveToml, "3.12").unwrap();
        assert_eq!(out, "dependencies = []\npython = \"3.12\"\n");
        let text = "[project]\nname = \"x\" # n\nrequires-python = \">=3.9\"\n";
        let out = set_python(Path::new("p"), text, Kind::Pyproject, "3.12").unwrap();
        assert_eq!(out, format!("{text}\n[tool.cove]\npython = \"3.12\"\n"));
        let text = "[tool.cove]\ngroups = []\npython = \"3.11\" # old\n";
        let out = set_python(Path::new("p"), text, Kind::Pyproject, "3.12").unwrap();
        assert_eq!(out, "[tool.cove]\ngroups = []\npython = \"3.12\" # old\n");
    }

    #[test]
    fn requirements_lines() {
        let text = "# tools\nalpha==1.0  # pinned\n-r base.txt\nbeta\n";
        assert_eq!(
            add_lines(text, &[req("alpha==2.0"), req("gamma")]),
            "# tools\nalpha==2.0  # pinned\n-r base.txt\nbeta\ngamma\n"
        );
        assert_eq!(
            remove_lines(Path::new("r"), text, &["beta".into()]).unwrap(),
            "# tools\nalpha==1.0  # pinned\n-r base.txt\n"
        );
    }

    /// A small xorshift generator: the round-trip test needs no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.below(of.len())]
        }
    }

    const SPECS: &[&str] = &["", "==1.0", ">=2", "[x]>=1,<3", " ; python_version >= '3.8'", "~=1.4"];

    /// A manifest's requirement array with comments, odd spacing, both quote styles, with and
    /// without a trailing comma, on one line or many.
    fn array(rng: &mut Rng) -> String {
        let n = rng.below(4);
        let multiline = rng.below(3) != 0;
        let mut out = String::from("[");
        if multiline && rng.below(2) == 0 {
            out.push_str("  # the list");
        }
        for i in 0..n {
            let quote = if rng.below(2) == 0 { '"' } else { '\'' };
            let other = if quote == '"' { '\'' } else { '"' };
            let item = format!("{quote}orig{i}{}{quote}", rng.pick(SPECS).replace('\'', &other.to_string()));
            if multiline {
                out.push('\n');
                if rng.below(4) == 0 {
                    out.push_str("    # about the next one\n");
                }
                out.push_str(rng.pick(&["  ", "    ", "\t"]));
            } else if i > 0 {
                out.push_str(rng.pick(&[" ", "", "  "]));
            }
            out.push_str(&item);
            if i + 1 < n || rng.below(2) == 0 {
                out.push_str(rng.pick(&[",", " ,"]));
            }
            if multiline && rng.below(2) == 0 {
                out.push_str(rng.pick(&["  # pinned on purpose", " # must match prod", "#x"]));
            }
        }
        if multiline {
            out.push('\n');
        }
        out.push(']');
        out
    }

    fn toml_manifest(rng: &mut Rng) -> (String, Kind, Target) {
        let arr = array(rng);
        let tail = rng.pick(&["", "  # end", "\n\n[index]\nno-index = true  # local\n"]);
        match rng.below(3) {
            0 => (format!("# demo\npython = \">=3.8\"\ndependencies = {arr}{tail}\n"), Kind::CoveToml, Target::Main),
            1 => (
                format!(
                    "[project]\nname = \"x\"\nversion = \"1\"\ndependencies = {arr}\n\n[tool.cove]\ngroups = []{tail}\n"
                ),
                Kind::Pyproject,
                Target::Main,
            ),
            _ => (
                format!("[project]\nname = \"x\"\n\n[dependency-groups]\ndev = {arr}{tail}\n"),
                Kind::Pyproject,
                Target::Group("dev".into()),
            ),
        }
    }

    fn lines_manifest(rng: &mut Rng) -> String {
        let eol = rng.pick(&["\n", "\r\n"]);
        let mut out = String::new();
        for i in 0..rng.below(5) {
            match rng.below(4) {
                0 => out.push_str("# a comment"),
                1 => out.push_str("-r base.txt"),
                _ => {
                    out.push_str(&format!("orig{i}{}", rng.pick(SPECS)));
                    out.push_str(rng.pick(&["", "  # pinned on purpose", " #x"]));
                }
            }
            out.push_str(eol);
        }
        if rng.below(3) == 0 {
            out.push_str("orig9==9");
        }
        out
    }

    /// One edit, and the edit that undoes it.
    enum Op {
        Add(String),
        Remove(String),
    }

    fn apply_op(text: &str, kind: Option<(Kind, &Target)>, op: &Op) -> String {
        let p = Path::new("m");
        match (op, kind) {
            (Op::Add(r), Some((k, t))) => add_toml(p, text, k, t, &[req(r)]).unwrap(),
            (Op::Add(r), None) => add_lines(text, &[req(r)]),
            (Op::Remove(n), Some((k, t))) => remove_toml(p, text, k, t, std::slice::from_ref(n)).unwrap(),
            (Op::Remove(n), None) => remove_lines(p, text, std::slice::from_ref(n)).unwrap(),
        }
    }

    /// Random adds, replacements and removals, then their inverses in reverse order, give back
    /// the original bytes (issue 17: editing never loses what the user wrote).
    #[test]
    fn edits_then_their_inverses_give_back_the_original_bytes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..1500 {
            let (text, kind) = if case % 4 == 3 {
                (lines_manifest(&mut rng), None)
            } else {
                let (t, k, target) = toml_manifest(&mut rng);
                (t, Some((k, target)))
            };
            let kind_ref = kind.as_ref().map(|(k, t)| (*k, t));
            if kind.is_some() && text.parse::<DocumentMut>().is_err() {
                panic!("case {case}: the generator made invalid TOML:\n{text}");
            }
            // Names present now, with their text: the original ones can be replaced, the fresh
            // ones added and removed.
            let original: Vec<(String, String)> = (0..10)
                .map(|i| format!("orig{i}"))
                .filter_map(|n| {
                    let found = match &kind_ref {
                        Some((k, t)) => find_toml(Path::new("m"), &text, *k, t, &n).unwrap(),
                        None => find_line(&text, &n),
                    };
                    found.map(|f| (n, f))
                })
                .collect();
            let mut fresh: Vec<String> = Vec::new();
            let mut current = text.clone();
            let mut undo: Vec<Op> = Vec::new();
            let mut done: Vec<String> = Vec::new();
            for _ in 0..1 + rng.below(6) {
                let op = match rng.below(3) {
                    0 if !fresh.is_empty() => {
                        let n = fresh.remove(rng.below(fresh.len()));
                        let t = match &kind_ref {
                            Some((k, tg)) => find_toml(Path::new("m"), &current, *k, tg, &n).unwrap().unwrap(),
                            None => find_line(&current, &n).unwrap(),
                        };
                        undo.push(Op::Add(t));
                        Op::Remove(n)
                    }
                    1 if !original.is_empty() => {
                        let (n, _) = &original[rng.below(original.len())];
                        let now = match &kind_ref {
                            Some((k, tg)) => find_toml(Path::new("m"), &current, *k, tg, n).unwrap().unwrap(),
                            None => find_line(&current, n).unwrap(),
                        };
                        undo.push(Op::Add(now));
                        // Without quotes: a replacement keeps the element's quote style only when
                        // the text can be written in it.
                        Op::Add(format!("{n}{}", rng.pick(&SPECS[..4])))
                    }
                    _ => {
                        let n = format!("new{}", rng.below(8));
                        if fresh.contains(&n) {
                            continue;
                        }
                        fresh.push(n.clone());
                        undo.push(Op::Remove(n.clone()));
                        Op::Add(format!("{n}{}", rng.pick(SPECS)))
                    }
                };
                done.push(match &op {
                    Op::Add(r) => format!("add {r}"),
                    Op::Remove(n) => format!("remove {n}"),
                });
                current = apply_op(&current, kind_ref, &op);
            }
            for op in undo.iter().rev() {
                current = apply_op(&current, kind_ref, op);
            }
            assert_eq!(current, text, "case {case}: {done:?} then undone changed the text");
        }
    }
}
