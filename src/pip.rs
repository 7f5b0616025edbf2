//! `pip` inside a project: reading commands run the environment's pip; commands that would
//! change the shared environment behind the manifest's back are refused with what to run instead.

use std::ffi::OsString;

use crate::error::{Error, Result};
use crate::resolve::Plan;

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

/// The pip subcommand in `args` (the first argument that is not an option).
pub fn subcommand(args: &[OsString]) -> Option<String> {
    args.iter().map(|a| a.to_string_lossy()).find(|a| !a.starts_with('-')).map(|a| a.into_owned())
}

/// Allow reading commands (and bare options such as `--version`); refuse the rest.
pub fn check(args: &[OsString], _plan: &Plan) -> Result<()> {
    match subcommand(args) {
        None => Ok(()),
        Some(cmd) if READING.contains(&cmd.as_str()) => Ok(()),
        Some(cmd) => Err(Error::PipRefused {
            reason: format!(
                "`pip {cmd}` would change an environment that projects share by key; the manifest is the truth"
            ),
            instead:
                "run `cove add REQ` / `cove remove NAME` to change the manifest, or `cove run pip …` to do it anyway"
                    .into(),
        }),
    }
}
