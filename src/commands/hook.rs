//! `cove hook SHELL` prints the shell integration (creating the shims folder if missing);
//! `cove hook-env SHELL` prints what the shell must change for the current folder.

use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::shells::Shell;

fn shell_named(name: &str) -> Result<&'static dyn Shell> {
    crate::shells::by_name(name).ok_or_else(|| Error::Usage(format!("unknown shell {name:?}; use bash, zsh or fish")))
}

pub fn hook(settings: &Settings, name: &str) -> Result<()> {
    let shell = shell_named(name)?;
    let shims = crate::shims::ensure(settings)?;
    let exe = crate::shims::cove_exe()?;
    let mut text = crate::hook::render(shell, &exe, &shims);
    // Tab completion comes with the hook, so one rc line sets everything up.
    text.push_str(&super::completion_script(match name {
        "zsh" => clap_complete::Shell::Zsh,
        "fish" => clap_complete::Shell::Fish,
        _ => clap_complete::Shell::Bash,
    }));
    super::out(&text);
    Ok(())
}

pub fn hook_env(shell: &str) -> Result<()> {
    let code = crate::hook::hook_env(shell_named(shell)?);
    if !code.is_empty() {
        super::out(&code);
    }
    Ok(())
}
