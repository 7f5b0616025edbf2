//! `cove debug-requirement` (hidden): how cove parses PEP 508 requirement strings, for the
//! differential test against Python's `packaging`. Reads one string a line from stdin and
//! prints one JSON object a line: `ok`, and either `error` or the parts (`name`, `extras`,
//! `specifiers`, `url`, `marker` as cove spells it) and `canonical`, the form cove keys and
//! installs.

use std::io::BufRead;
use std::path::Path;

use pep508_rs::VersionOrUrl;
use serde_json::{Value, json};

use crate::error::{Error, Result};

pub fn run() -> Result<()> {
    let stdin = std::io::stdin();
    let mut out = String::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| Error::io("read", "standard input", e))?;
        out.push_str(&describe(&line).to_string());
        out.push('\n');
    }
    crate::ui::out(&out);
    Ok(())
}

fn describe(text: &str) -> Value {
    let r = match crate::manifest::requirement::parse_pep508(text, Path::new("/")) {
        Ok(r) => r,
        Err(e) => return json!({ "input": text, "ok": false, "error": e.message, "offset": e.offset }),
    };
    let canonical = crate::manifest::requirement::Requirement::from_pep508(&r, text).canonical;
    let marker = canonical.split_once(" ; ").map(|(_, m)| m.to_string());
    let mut extras: Vec<String> = r.extras.iter().map(ToString::to_string).collect();
    extras.sort();
    let (specifiers, url): (Vec<String>, Value) = match &r.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => (specs.iter().map(ToString::to_string).collect(), Value::Null),
        Some(VersionOrUrl::Url(u)) => (Vec::new(), json!(u.given().unwrap_or(u.raw().as_str()))),
        None => (Vec::new(), Value::Null),
    };
    json!({
        "input": text,
        "ok": true,
        "name": r.name.to_string(),
        "extras": extras,
        "specifiers": specifiers,
        "url": url,
        "marker": marker,
        "canonical": canonical,
    })
}
