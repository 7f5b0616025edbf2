//! One PEP 508 requirement, parsed by `pep508_rs` and written in a canonical form:
//! PEP 503 name, sorted extras, sorted specifiers, the marker as the parser normalises it.
//! Reordering, re-spacing or re-casing a requirement never changes its canonical text.

use std::path::Path;
use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, Requirement as Pep508, VersionOrUrl};

use crate::error::{Error, Pos, Result};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    /// Canonical text; also what the installer is given.
    pub canonical: String,
    /// PEP 503 normalised name.
    pub name: String,
}

impl Requirement {
    /// Parse `text`, reporting errors at `pos` (the string's place in its file).
    pub fn parse(text: &str, pos: &Pos, base_dir: &Path) -> Result<Requirement> {
        let parsed = parse_pep508(text, base_dir).map_err(|e| invalid(pos.clone(), text, &e.message))?;
        Ok(Requirement::from_pep508(&parsed))
    }

    /// A requirement PEP 508 cannot name (a bare URL or archive path, as requirements files
    /// allow): `canonical` is what the installer gets; `name` is the best guess at the
    /// distribution's name, for messages.
    pub fn unnamed(canonical: String, name: String) -> Requirement {
        Requirement { canonical, name }
    }

    pub fn from_pep508(r: &Pep508<pep508_rs::VerbatimUrl>) -> Requirement {
        let name = r.name.to_string();
        let mut out = name.clone();
        let mut extras: Vec<String> = r.extras.iter().map(ToString::to_string).collect();
        extras.sort();
        extras.dedup();
        if !extras.is_empty() {
            out.push('[');
            out.push_str(&extras.join(","));
            out.push(']');
        }
        match &r.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) => {
                let mut specs: Vec<String> = specs.iter().map(ToString::to_string).collect();
                specs.sort();
                specs.dedup();
                out.push_str(&specs.join(","));
            }
            Some(VersionOrUrl::Url(url)) => {
                out.push_str(" @ ");
                out.push_str(url.raw().as_str());
            }
            None => {}
        }
        if let Some(marker) = r.marker.contents() {
            out.push_str(" ; ");
            out.push_str(&marker.to_string());
        }
        Requirement { canonical: out, name }
    }

    /// Whether the marker holds for `env` (true when there is no marker).
    pub fn applies(&self, env: &MarkerEnvironment) -> bool {
        match Pep508::<pep508_rs::VerbatimUrl>::from_str(&self.canonical) {
            Ok(r) => r.evaluate_markers(env, &[]),
            Err(_) => true,
        }
    }
}

/// Why a requirement string did not parse: the byte offset in it where the parser stopped,
/// and its message.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// Parse one PEP 508 string; relative paths in `name @ ./path` are against `base_dir`.
pub fn parse_pep508(text: &str, base_dir: &Path) -> std::result::Result<Pep508<pep508_rs::VerbatimUrl>, ParseError> {
    Pep508::<pep508_rs::VerbatimUrl>::parse(text, base_dir)
        .map_err(|e| ParseError { offset: e.start, message: e.message.to_string() })
}

/// The error for requirement `text` that failed with `message`, at `pos`.
pub fn invalid(pos: Pos, text: &str, message: &str) -> Error {
    Error::invalid(pos, format!("invalid requirement {text:?}: {message}"))
        .with_hint("write it as PEP 508, e.g. \"requests>=2.31\" or \"rich[jupyter]==13.7.1\"")
}

/// Sort and de-duplicate, the form the key is made from.
pub fn normalise_set(reqs: &mut Vec<Requirement>) {
    reqs.sort();
    reqs.dedup();
}

/// PEP 503 name normalisation.
pub fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        let pos = Pos { file: "t".into(), line: 1, column: 1 };
        Requirement::parse(s, &pos, Path::new("/")).unwrap().canonical
    }

    #[test]
    fn spacing_case_and_order_do_not_matter() {
        assert_eq!(canon("Requests >= 2.0 , <3"), canon("requests<3,>=2.0"));
        assert_eq!(canon("Foo_Bar.baz[B,a]==1"), "foo-bar-baz[a,b]==1");
        assert_eq!(canon("x ; python_version >= '3.8'"), canon("x;python_version>=\"3.8\""));
    }

    #[test]
    fn bad_requirement_names_position() {
        let pos = Pos { file: "cove.toml".into(), line: 3, column: 4 };
        let err = Requirement::parse("requests >>= 2", &pos, Path::new("/")).unwrap_err();
        assert!(err.to_string().starts_with("cove.toml:3:4: invalid requirement"), "{err}");
    }

    #[test]
    fn names_normalise_per_pep503() {
        assert_eq!(normalise_name("Foo__Bar.-baz"), "foo-bar-baz");
    }
}
