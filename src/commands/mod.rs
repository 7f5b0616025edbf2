//! The CLI: parse, load settings, run one subcommand. One file per subcommand.

mod debug_requirement;
mod doctor;
mod gc;
mod hook;
mod init;
mod link;
mod list;
mod lock;
mod pin;
mod push;
mod python;
mod run;
mod setup;
mod shims;
mod status;
mod sync;
mod trust;
mod watch;
mod which;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};
use crate::settings::{BackendChoice, Flags, Settings};

pub fn main() -> Result<()> {
    // The shell hook runs `cove hook-env SHELL` at every prompt: answer before clap and settings,
    // since the steady case reads no file at all.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let [command, shell] = args.as_slice()
        && command == "hook-env"
        && let Some(shell) = shell.to_str()
    {
        if shell == "--json" {
            return hook::hook_env(None, true);
        }
        if let Some(kind) = crate::hook::shells::ShellKind::by_name(shell) {
            return hook::hook_env(Some(kind), false);
        }
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print as clap renders them; usage errors take cove's one-line
        // form (`cove: error: …` + hint), exit status 2.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return Ok(());
        }
        Err(e) => return Err(Error::Usage(usage_message(&e))),
    };
    let unknown = |b: &str| Error::Usage(format!("unknown backend {b:?}; use auto, uv or pip"));
    let backend = cli.global.backend.as_deref().map(|b| BackendChoice::parse(b).ok_or_else(|| unknown(b)));
    let flags = Flags {
        backend: backend.transpose()?,
        // `cove init --python SPEC` writes a constraint; it does not choose an interpreter.
        python: if matches!(cli.command, Some(Command::Init { .. })) { None } else { cli.global.python.clone() },
        offline: cli.global.offline,
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
    };
    if let Some(Command::Doctor) = cli.command {
        // Before the settings: a config file that does not parse is one of the things it checks.
        return doctor::run(&flags);
    }
    let mut settings = Settings::load(&flags)?;
    if let Some(Command::Sync { no_lock: true, .. } | Command::Run { no_lock: true, .. }) = &cli.command {
        settings.use_lock = false;
    }
    if cli.command.as_ref().is_some_and(uses_cache) {
        // Before anything is read or written there (see `cache`).
        crate::cache::Cache::new(&settings.cache_dir).check_private()?;
    }
    let Some(command) = cli.command else {
        if cli.version {
            version(&settings, cli.global.verbose);
        } else {
            crate::ui::out(OVERVIEW);
        }
        return Ok(());
    };
    match command {
        Command::Init { requirements, force } => init::run(&settings, cli.global.python.clone(), requirements, force),
        Command::Add { requirements, target } => {
            crate::change::run(&settings, crate::change::Change::Add(requirements), target.into())
        }
        Command::Remove { names, target } => {
            crate::change::run(&settings, crate::change::Change::Remove(names), target.into())
        }
        Command::Sync { refresh, .. } => sync::run(&settings, refresh),
        Command::Run { command, with, .. } => run::run(&settings, command, with),
        Command::Which { name } => which::run(&settings, &name),
        Command::Status { json } => status::run(&settings, json),
        Command::Trust { path } => trust::trust(&settings, path),
        Command::Untrust { path } => trust::untrust(&settings, path),
        Command::Shims { rebuild } => shims::run(&settings, rebuild),
        Command::Python => python::run(&settings),
        Command::Completions { shell } => completions(shell),
        Command::DebugRequirement => debug_requirement::run(),
        Command::List { json } => list::run(&settings, json),
        Command::Gc { older_than, max_size, dry_run } => gc::run(&settings, older_than, max_size, dry_run),
        Command::Link { remove } => link::run(&settings, remove),
        Command::Watch => watch::run(&settings),
        Command::Push { all, key } => push::run(&settings, all, key),
        Command::Doctor => doctor::run(&flags),
        Command::Setup { undo } => setup::run(&settings, undo),
        Command::Hook { shell } => hook::hook(&settings, shell),
        Command::HookEnv { shell, json } => hook::hook_env(shell, json),
        Command::Off => hook::off_on(false),
        Command::On => hook::off_on(true),
        Command::PinLock(c) => pin_lock(&settings, c),
    }
}

/// Whether `command` reads or writes the cache (and so first checks that it is private): all
/// but these, so a command added later is checked unless it is listed here.
fn uses_cache(command: &Command) -> bool {
    !matches!(
        command,
        Command::Shims { rebuild: false }
            | Command::Trust { .. }
            | Command::Untrust { .. }
            | Command::Completions { .. }
            | Command::DebugRequirement
            | Command::Doctor
            | Command::Hook { .. }
            | Command::HookEnv { .. }
            | Command::Setup { .. }
            | Command::Off
            | Command::On
    )
}

fn pin_lock(settings: &Settings, command: crate::cli::PinLock) -> Result<()> {
    use crate::cli::PinLock;
    match command {
        PinLock::Pin { version, manifest } => pin::run(settings, version, manifest),
        PinLock::Lock { check, upgrade, upgrade_package } => {
            lock::run(settings, lock::Options { check, upgrade, upgrade_packages: upgrade_package })
        }
    }
}

const OVERVIEW: &str = "cove: every Python project gets its own cached virtual environment, automatically.

Start here:
  cove init 'requests>=2.31'    write cove.toml in this folder and trust it
  eval \"$(cove hook bash)\"      enable the shims and the prompt hook (zsh, fish too)
  python                        runs the project's environment, built on first use

More: cove status, cove add, cove sync, cove --help
";

fn version(settings: &Settings, verbose: bool) {
    let mut text = format!("cove {}\n", env!("CARGO_PKG_VERSION"));
    if verbose {
        let backend = match crate::build::backend::select(settings) {
            Ok(b) => b.name().to_string(),
            Err(e) => format!("none ({e})"),
        };
        text.push_str(&format!("backend: {backend}\n"));
        let finder = crate::plan::interpreter::Finder::new(&settings.cache_dir, settings.shims_dir());
        let project = crate::plan::resolve::current_project().ok().flatten();
        let python = match project {
            Some(p) => crate::plan::resolve::plan(p, settings, &finder).map(|plan| plan.choice.interpreter),
            None => crate::plan::interpreter::choose(&finder, None, settings.python.as_deref(), None, &|| true)
                .map(|c| c.interpreter),
        };
        let python =
            python.map_or_else(|e| format!("none ({e})"), |i| format!("{} {}", i.describe(), i.path.display()));
        text.push_str(&format!("python: {python}\n"));
    }
    crate::ui::out(&text);
}

impl From<crate::cli::TargetArgs> for crate::manifest::edit::Target {
    fn from(t: crate::cli::TargetArgs) -> Self {
        match (t.group, t.optional) {
            (Some(g), _) => crate::manifest::edit::Target::Group(g),
            (None, Some(x)) => crate::manifest::edit::Target::Optional(x),
            (None, None) => crate::manifest::edit::Target::Main,
        }
    }
}

fn completions(shell: crate::cli::CompletionShell) -> Result<()> {
    use clap_complete::Shell;
    crate::ui::out(&crate::cli::completion_script(match shell {
        crate::cli::CompletionShell::Bash => Shell::Bash,
        crate::cli::CompletionShell::Zsh => Shell::Zsh,
        crate::cli::CompletionShell::Fish => Shell::Fish,
    }));
    Ok(())
}

/// clap's error as one line: "unrecognized subcommand 'x'" (and its tip, when it has one).
fn usage_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let body: Vec<&str> =
        lines.iter().take_while(|l| !l.starts_with("Usage:") && !l.starts_with("tip: ")).copied().collect();
    let message = body.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message).to_string();
    match lines.iter().find(|l| l.starts_with("tip: ")) {
        Some(tip) => format!("{message} ({})", tip.trim_start_matches("tip: ")),
        None => message,
    }
}
