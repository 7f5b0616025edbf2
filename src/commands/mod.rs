//! The CLI: parse, load settings, run one subcommand. One file per subcommand.

mod hook;
mod init;
mod python;
mod run;
mod shims;
mod status;
mod sync;
mod trust;
mod which;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};
use crate::settings::{BackendChoice, Flags, Settings};

pub fn main() -> Result<ExitCode> {
    // The shell hook runs `cove hook-env SHELL` at every prompt: answer before clap and settings,
    // since the steady case reads no file at all.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let [command, shell] = args.as_slice()
        && command == "hook-env"
        && let Some(shell) = shell.to_str()
    {
        return hook::hook_env(shell).map(|()| ExitCode::SUCCESS);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    let flags = Flags {
        backend: match cli.global.backend.as_deref() {
            None => None,
            Some(b) => Some(
                BackendChoice::parse(b)
                    .ok_or_else(|| Error::Usage(format!("unknown backend {b:?}; use auto, uv or pip")))?,
            ),
        },
        python: cli.global.python.clone(),
        offline: cli.global.offline,
        quiet: cli.global.quiet,
    };
    let settings = Settings::load(&flags)?;
    match cli.command {
        Command::Init { python_spec, requirements } => init::run(&settings, python_spec, requirements),
        Command::Sync { refresh } => sync::run(&settings, refresh),
        Command::Run { command } => run::run(&settings, command),
        Command::Which { name } => which::run(&settings, &name),
        Command::Status { json } => status::run(&settings, json),
        Command::Trust { path } => trust::trust(&settings, path),
        Command::Untrust { path } => trust::untrust(&settings, path),
        Command::Shims { rebuild } => shims::run(&settings, rebuild),
        Command::Python => python::run(&settings),
        Command::Hook { shell } => hook::hook(&settings, &shell),
        Command::HookEnv { shell } => hook::hook_env(&shell),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Print to stdout; a closed pipe (`cove list | head`) is not an error.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A one-line note on stderr, unless quiet.
pub fn note(settings: &Settings, text: &str) {
    if !settings.quiet {
        eprintln!("cove: {text}");
    }
}
