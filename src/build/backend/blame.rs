//! Which requirement a failed install is about, read from the installer's output, so the error
//! names the manifest line to fix (issue 18, finding 10).
//!
//! Only the messages that name a package with no version to install are read: pip's
//! `Could not find a version that satisfies the requirement X` and `No matching distribution
//! found for X`, uv's `Because X was not found …`, `Because there is no version of X…`,
//! `Because only X<2 is available …` and `Because X==1 depends on …` (its explanation of `No
//! solution found`). Anything else leaves the error as it was.

use crate::error::Error;
use crate::manifest::Manifest;
use crate::manifest::requirement::normalise_name;

/// What comes right before a package's name in a failed installer's output.
const BEFORE_NAME: &[&str] = &[
    "Could not find a version that satisfies the requirement ",
    "No matching distribution found for ",
    "Because there is no version of ",
    "Because there are no versions of ",
    "Because all versions of ",
    "Because only ",
    "Because ",
];

/// The packages (PEP 503 names) `output` says could not be installed, first named first.
pub fn named_in(output: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in output.lines() {
        let Some((at, before)) =
            BEFORE_NAME.iter().filter_map(|b| line.find(b).map(|at| (at, b))).min_by_key(|(at, b)| (*at, !b.len()))
        else {
            continue;
        };
        let rest = &line[at + before.len()..];
        let end =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(rest.len());
        let name = normalise_name(rest[..end].trim_end_matches('.'));
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// `e`, when it is a failed install, told where `manifest` asks for the package the installer
/// named, and whether offline mode was on (it may be why nothing was found).
pub fn blame(e: Error, manifest: &Manifest, offline: bool) -> Error {
    match e {
        Error::Install { what, status, log, failed, at: _, offline: _ } => {
            let at = failed.iter().find_map(|name| manifest.locate(name)).map(Box::new);
            Error::Install { what, status, log, failed, at, offline }
        }
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_named_by_pip_or_uv_is_found() {
        let pip = "Looking in links: /w\nProcessing /w/alpha-1.0-py3-none-any.whl\nERROR: Could not find a version that satisfies the requirement nosuch-pkg>=2 (from versions: none)\nERROR: No matching distribution found for nosuch-pkg>=2\n";
        assert_eq!(named_in(pip), ["nosuch-pkg"]);
        let uv = "error: No solution found when resolving dependencies\n  cause: Because Nosuch_Pkg was not found in the provided package locations and you require nosuch-pkg>=2, we can conclude that your requirements are unsatisfiable.\n";
        assert_eq!(named_in(uv), ["nosuch-pkg"]);
        let uv = "  ╰─▶ Because there is no version of alpha==9.0 and you require alpha==9.0, we can conclude…\n";
        assert_eq!(named_in(uv), ["alpha"]);
        assert_eq!(named_in("  ╰─▶ Because only beta<=1.0 is available and you require beta>1\n"), ["beta"]);
        assert!(named_in("error: Failed to build `x @ file:///p`\nSuccessfully installed pip\n").is_empty());
    }
}
