//! A lock's files handed to an installer (cove issue 22). uv gets a PEP 751 `pylock.toml` of
//! exactly the pins that apply, with their wheels' and source distribution's URLs and hashes, so
//! it fetches them directly instead of asking the index about each package (as `uv sync` does
//! from a `uv.lock`); pip gets a requirements file with `--hash` options, which puts it in
//! hash-checking mode. Either way a file whose hash is not the lock's is refused. Both files are
//! written inside the environment being built, never in the project.

use std::path::Path;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Table, value};

use crate::error::{IoContext, Result};
use crate::manifest::locks::{Artifact, Files};

/// The `pylock.toml` uv installs from (uv wants the name `pylock.toml` or `pylock.NAME.toml`).
pub const PYLOCK_FILE: &str = "pylock.cove.toml";
/// The hashed requirements pip installs from.
pub const HASHED_FILE: &str = "cove-locked.txt";

/// The `pylock.toml` text for `files`, and pip from the wheel `pip` (the interpreter's bundled
/// one, given with its hash) unless the lock has a pip of its own. `None` when the wheel's path
/// cannot be written in TOML (not UTF-8): the pins are installed as before.
pub fn pylock(files: &[Files], pip: Option<&Path>) -> Result<Option<String>> {
    let mut packages = ArrayOfTables::new();
    for f in files {
        let mut t = package(&f.name, &f.version);
        if !f.wheels.is_empty() {
            let wheels: Array = f.wheels.iter().map(remote).collect();
            t.insert("wheels", value(wheels));
        }
        if let Some(s) = &f.sdist {
            t.insert("sdist", value(remote(s)));
        }
        packages.push(t);
    }
    if let Some(wheel) = pip.filter(|_| !files.iter().any(|f| f.name == "pip")) {
        let (Some(path), Some(version)) = (wheel.to_str(), wheel_version(wheel)) else { return Ok(None) };
        let bytes = std::fs::read(wheel).ctx("read", wheel)?;
        let mut w = InlineTable::new();
        w.insert("path", path.into());
        w.insert("hashes", hashes(&crate::digest::sha256_hex(&bytes)).into());
        let mut t = package("pip", &version);
        t.insert("wheels", value(Array::from_iter([w])));
        packages.push(t);
    }
    let mut doc = DocumentMut::new();
    doc.insert("lock-version", value("1.0"));
    doc.insert("created-by", value("cove"));
    doc.insert("packages", toml_edit::Item::ArrayOfTables(packages));
    Ok(Some(doc.to_string()))
}

/// The requirements file for pip: `name==version --hash=sha256:…` a line.
pub fn hashed_requirements(files: &[Files]) -> String {
    let mut t = String::new();
    for f in files {
        t.push_str(&format!("{}=={}", f.name, f.version));
        t.extend(f.hashes().map(|h| format!(" --hash=sha256:{h}")));
        t.push('\n');
    }
    t
}

fn package(name: &str, version: &str) -> Table {
    let mut t = Table::new();
    t.insert("name", value(name));
    t.insert("version", value(version));
    t
}

fn remote(a: &Artifact) -> InlineTable {
    let mut t = InlineTable::new();
    t.insert("url", a.url.as_str().into());
    t.insert("hashes", hashes(&a.sha256).into());
    t
}

fn hashes(sha256: &str) -> InlineTable {
    let mut t = InlineTable::new();
    t.insert("sha256", sha256.into());
    t
}

/// `pip-25.0-py3-none-any.whl` → `25.0`.
fn wheel_version(wheel: &Path) -> Option<String> {
    let name = wheel.file_name()?.to_str()?;
    name.split('-').nth(1).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<Files> {
        let a = |url: &str, c: char| Artifact { url: url.into(), sha256: c.to_string().repeat(64) };
        vec![Files {
            name: "alpha".into(),
            version: "1.0".into(),
            wheels: vec![a("https://x/alpha-1.0-py3-none-any.whl", 'a')],
            sdist: Some(a("https://x/alpha-1.0.tar.gz", 'b')),
        }]
    }

    #[test]
    fn the_pylock_names_each_file_with_its_hash() {
        let text = pylock(&files(), None).unwrap().unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let p = &doc["packages"].as_array().unwrap()[0];
        assert_eq!(p["name"].as_str(), Some("alpha"));
        assert_eq!(p["wheels"][0]["url"].as_str(), Some("https://x/alpha-1.0-py3-none-any.whl"));
        assert_eq!(p["wheels"][0]["hashes"]["sha256"].as_str(), Some("a".repeat(64).as_str()));
        assert_eq!(p["sdist"]["hashes"]["sha256"].as_str(), Some("b".repeat(64).as_str()));
    }

    #[test]
    fn pip_gets_every_hash() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        assert_eq!(hashed_requirements(&files()), format!("alpha==1.0 --hash=sha256:{a} --hash=sha256:{b}\n"));
    }
}
