//! `cove.toml`: `python`, `dependencies`, `[index]` (the last two read for PEP 723 scripts too).

use std::path::Path;

use crate::error::Result;
use crate::manifest::parts::{Index, Parsed, PythonConstraint, Reader};
use crate::manifest::requirement::Requirement;
use crate::tomlx::Doc;

const KEYS: &[&str] = &["python", "dependencies", "index", "remote"];
pub const INDEX_KEYS: &[&str] = &["url", "extra-urls", "find-links", "no-index"];

pub fn parse(path: &Path, reader: &mut Reader) -> Result<Parsed> {
    let text = reader.read(path)?;
    let doc = Doc::parse(path, &text)?;
    let root = doc.root();
    doc.check_keys(root, KEYS, "")?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut parsed = python_and_dependencies(&doc, "python", dir)?;
    if let Some(item) = root.get("index") {
        parsed.index = index_table(&doc, item, "index", dir)?;
    }
    if root.contains_key("remote") {
        parsed.notes.push(crate::manifest::parts::REMOTE_IGNORED.to_string());
    }
    Ok(parsed)
}

/// The Python constraint under `python_key` and the `dependencies` of `doc`'s top level (a
/// cove.toml's, a script block's), read against `dir`.
pub fn python_and_dependencies(doc: &Doc, python_key: &str, dir: &Path) -> Result<Parsed> {
    let root = doc.root();
    let mut parsed = Parsed::default();
    if let Some(item) = root.get(python_key) {
        let s = doc.string(item, python_key)?;
        parsed.python = Some(PythonConstraint::parse(&s, doc.item_pos(item))?);
    }
    if let Some(item) = root.get("dependencies") {
        let strings = doc.strings(item, "dependencies")?;
        parsed.requirements = strings.iter().map(|(s, pos)| Requirement::parse(s, pos, dir)).collect::<Result<_>>()?;
    }
    Ok(parsed)
}

/// An `[index]` table (also `[tool.cove.index]` and a script's `[tool.cove.index]`).
pub fn index_table(doc: &Doc, item: &toml_edit::Item, name: &str, dir: &Path) -> Result<Index> {
    let table = doc.table_like(item, name)?;
    let prefix = format!("{name}.");
    for (key, value) in table.iter() {
        if !INDEX_KEYS.contains(&key) {
            let err = doc.error(value, format!("unknown key `{prefix}{key}`"));
            return Err(match crate::error::nearest(key, INDEX_KEYS) {
                Some(n) => err.with_hint(format!("did you mean `{prefix}{n}`?")),
                None => err.with_hint(format!("valid keys here: {}", INDEX_KEYS.join(", "))),
            });
        }
    }
    let strings = |key: &str| table.get(key).map(|i| doc.strings(i, &format!("{prefix}{key}"))).transpose();
    let strings = |key: &str| strings(key).map(|s| s.unwrap_or_default().into_iter().map(|(s, _)| s));
    // Read in this order, so the first error is the same whatever else is wrong.
    Ok(Index {
        url: table.get("url").map(|i| doc.string(i, &format!("{prefix}url"))).transpose()?,
        extra_urls: strings("extra-urls")?.collect(),
        find_links: strings("find-links")?.map(|s| crate::manifest::parts::resolve_link(&s, dir)).collect(),
        no_index: table.get("no-index").map(|i| doc.bool(i, &format!("{prefix}no-index"))).transpose()? == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> crate::error::Result<Parsed> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cove.toml");
        std::fs::write(&path, text).unwrap();
        parse(&path, &mut Reader::new()).map_err(|e| {
            // Keep messages stable by naming the file only.
            let s = e.to_string().replace(&dir.path().display().to_string(), "DIR");
            crate::error::Error::Usage(s)
        })
    }

    #[test]
    fn full_schema() {
        let p = parse_text(
            "python = \">=3.11\"\ndependencies = [\"Requests==2.32.3\", \"rich>=13,<15\"]\n[index]\nurl = \"https://example.org/simple\"\nextra-urls = []\nfind-links = [\"wheels\"]\nno-index = true\n",
        )
        .unwrap();
        assert_eq!(p.python.unwrap().text, ">=3.11");
        let names: Vec<_> = p.requirements.iter().map(|r| r.canonical.as_str()).collect();
        assert_eq!(names, ["requests==2.32.3", "rich<15,>=13"]);
        assert_eq!(p.index.url.as_deref(), Some("https://example.org/simple"));
        assert!(p.index.find_links[0].ends_with("/wheels"));
        assert!(p.index.no_index);
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let e = parse_text("dependecies = []\n").unwrap_err();
        assert_eq!(e.to_string(), "DIR/cove.toml:1:1: unknown key `dependecies`");
        let e = parse_text("[index]\nurls = \"x\"\n").unwrap_err();
        assert_eq!(e.to_string(), "DIR/cove.toml:2:8: unknown key `index.urls`");
    }

    #[test]
    fn wrong_types_and_bad_toml_name_the_position() {
        let e = parse_text("python = 3.11\n").unwrap_err();
        assert_eq!(e.to_string(), "DIR/cove.toml:1:10: `python` must be a string, found a float");
        let e = parse_text("dependencies = [\"a\", 1]\n").unwrap_err();
        assert_eq!(e.to_string(), "DIR/cove.toml:1:22: `dependencies` must be an array of strings, found an integer");
        let e = parse_text("dependencies = [\n  \"ok\",\n  \"bad >>= 1\",\n]\n").unwrap_err();
        assert!(e.to_string().starts_with("DIR/cove.toml:3:3: invalid requirement \"bad >>= 1\""), "{e}");
        let e = parse_text("python = \">=3.11\n").unwrap_err();
        assert!(e.to_string().starts_with("DIR/cove.toml:1:"), "{e}");
        assert!(e.to_string().contains("invalid TOML"), "{e}");
    }

    #[test]
    fn python_shorthand_means_the_series() {
        let pos = crate::error::Pos { file: "f".into(), line: 1, column: 1 };
        let c = PythonConstraint::parse("3.12", pos).unwrap();
        assert!(c.allows(&"3.12.4".parse().unwrap()));
        assert!(!c.allows(&"3.13.0".parse().unwrap()));
    }
}
