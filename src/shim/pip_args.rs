//! `pip` inside a project (SPEC §4): reading commands run the environment's pip; `pip install`
//! and `pip uninstall` become manifest edits (as `cove add` / `cove remove`) and a sync, because
//! an environment is shared by key and its manifest is the truth. Anything the manifest cannot
//! express is refused with what to run instead.

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, Result};

/// pip subcommands that only read.
const READING: &[&str] = &[
    "list",
    "show",
    "freeze",
    "check",
    "download",
    "wheel",
    "config",
    "cache",
    "index",
    "inspect",
    "help",
    "hash",
    "debug",
    "search",
    "completion",
];

/// Options that change nothing cove must express.
const HARMLESS: &[&str] = &[
    "-U",
    "--upgrade",
    "-q",
    "--quiet",
    "-v",
    "--verbose",
    "--no-input",
    "--disable-pip-version-check",
    "--no-cache-dir",
    "-y",
    "--yes",
    "--no-color",
    "--upgrade-strategy=only-if-needed",
    "--upgrade-strategy=eager",
];

/// What a pip command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Run the environment's pip as is.
    Read,
    /// `pip install REQ…`; `upgrade` for `-U`/`--upgrade`.
    Install {
        reqs: Vec<String>,
        upgrade: bool,
    },
    Uninstall(Vec<String>),
}

/// Classify `pip ARGS…`; requirement files named by `-r` are read relative to `cwd`.
pub fn classify(args: &[OsString], cwd: &Path) -> Result<Action> {
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let Some(at) = args.iter().position(|a| !a.starts_with('-')) else { return Ok(Action::Read) };
    let cmd = args[at].as_str();
    if READING.contains(&cmd) {
        return Ok(Action::Read);
    }
    if cmd != "install" && cmd != "uninstall" {
        return Err(refuse(&format!("`pip {cmd}`"), "it would change an environment that projects share by key"));
    }
    let mut items = Vec::new();
    let mut upgrade = false;
    let mut rest = args[at + 1..].iter();
    while let Some(a) = rest.next() {
        if !a.starts_with('-') {
            items.push(a.clone());
            continue;
        }
        if HARMLESS.contains(&a.as_str()) {
            upgrade |= a == "-U" || a == "--upgrade";
            continue;
        }
        let file = match a.as_str() {
            "-r" | "--requirement" => rest.next().cloned(),
            _ => a.strip_prefix("--requirement=").or_else(|| a.strip_prefix("-r")).map(str::to_string),
        };
        if let Some(file) = file.filter(|f| !f.is_empty()) {
            items.extend(crate::manifest::requirements_txt::plain_requirements(&cwd.join(file))?);
            continue;
        }
        let why = match a.as_str() {
            "-e" | "--editable" => "an editable install is the project itself, which cove installs from the manifest",
            "--user" | "--target" | "-t" | "--prefix" | "--root" => "it installs outside the project's environment",
            _ => "the manifest cannot express it",
        };
        return Err(refuse(&format!("`pip {cmd} {a}`"), why));
    }
    if items.is_empty() {
        return Err(Error::Usage(format!("`pip {cmd}` needs at least one requirement")));
    }
    Ok(if cmd == "install" { Action::Install { reqs: items, upgrade } } else { Action::Uninstall(items) })
}

fn refuse(what: &str, why: &str) -> Error {
    Error::PipRefused {
        reason: format!("{what} refused in a cove project: {why}"),
        instead: "change the manifest with `cove add REQ` / `cove remove NAME`, or run `cove run pip …` to change the shared environment anyway".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(args: &[&str]) -> Result<Action> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        classify(&args, Path::new("/"))
    }

    #[test]
    fn reading_commands_pass() {
        assert_eq!(c(&["list"]).unwrap(), Action::Read);
        assert_eq!(c(&["--version"]).unwrap(), Action::Read);
        assert_eq!(c(&["-q", "freeze"]).unwrap(), Action::Read);
    }

    #[test]
    fn install_and_uninstall_become_edits() {
        assert_eq!(
            c(&["install", "-U", "gamma>=1", "delta"]).unwrap(),
            Action::Install { reqs: vec!["gamma>=1".into(), "delta".into()], upgrade: true }
        );
        assert_eq!(c(&["install", "delta"]).unwrap(), Action::Install { reqs: vec!["delta".into()], upgrade: false });
        assert_eq!(c(&["uninstall", "-y", "gamma"]).unwrap(), Action::Uninstall(vec!["gamma".into()]));
    }

    #[test]
    fn mutations_the_manifest_cannot_express_are_refused() {
        for args in [
            &["install", "--user", "x"][..],
            &["install", "-e", "."],
            &["install", "--target", "d", "x"],
            &["install", "--pre", "x"],
        ] {
            let e = c(args).unwrap_err();
            assert!(e.to_string().contains("refused in a cove project"), "{e}");
            assert!(e.hint().unwrap().contains("cove add"));
        }
    }
}
