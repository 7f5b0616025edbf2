//! `cove hook SHELL` prints the shell integration (creating the shims folder if missing);
//! `cove hook-env SHELL` / `--json` prints what the shell must change for the current folder.

use crate::error::{Error, Result};
use crate::hook::shells::ShellKind;
use crate::settings::Settings;

pub fn hook(settings: &Settings, kind: ShellKind) -> Result<()> {
    let shims = crate::shim::links::ensure(settings)?;
    let exe = crate::shim::links::cove_exe()?;
    let mut text = crate::hook::render(kind.shell(), &exe, &shims);
    // Tab completion comes with the hook, so one rc line sets everything up.
    if let Some(completions) = kind.completions() {
        text.push_str(&crate::cli::completion_script(completions));
    }
    crate::ui::out(&text);
    Ok(())
}

/// The shell's code on stdout (its messages on stderr), or with `json` (or for a shell whose
/// hook reads JSON) one JSON object carrying both.
pub fn hook_env(kind: Option<ShellKind>, json: bool) -> Result<()> {
    let shell = match kind {
        Some(k) => Some(k.shell()),
        None if json => None,
        None => return Err(Error::Usage("name the shell (`cove hook-env bash`) or use --json".into())),
    };
    let changes = crate::hook::hook_env();
    match shell {
        Some(shell) if !json && !shell.reads_json() => {
            for m in &changes.messages {
                crate::ui::said(m);
            }
            let code = shell.render(&changes);
            if !code.is_empty() {
                crate::ui::out(&code);
            }
        }
        _ => crate::ui::out(&crate::hook::shells::json(&changes)),
    }
    Ok(())
}

/// `cove off` / `cove on` reach the binary only when the hook's `cove` function is not defined.
pub fn off_on(on: bool) -> Result<()> {
    Err(Error::Usage(format!(
        "`cove {}` works through the shell hook, in the shell itself; load it first (`eval \"$(cove hook bash)\"`)",
        if on { "on" } else { "off" }
    )))
}
