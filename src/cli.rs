//! The command line (clap derive). No logic here.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::hook::shells::ShellKind;

#[derive(Parser, Debug)]
#[command(
    name = "cove",
    disable_version_flag = true,
    about = "Every Python project gets its own cached virtual environment, automatically.",
    long_about = None,
    after_help = "Get started:\n  cove init 'requests>=2.31'   write cove.toml here and trust it\n  eval \"$(cove hook bash)\"     enable the shims and hook in this shell\n  python -c 'import requests'  the environment is built on first use"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Print the version (with -v: also the backend and interpreter it would use here)
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Default, Clone)]
pub struct Global {
    /// Installer backend: auto, uv or pip
    #[arg(long, global = true, value_name = "BACKEND")]
    pub backend: Option<String>,
    /// Python version request or interpreter path (within the manifest's constraint)
    #[arg(long, global = true, value_name = "PYTHON")]
    pub python: Option<String>,
    /// Never reach an index; local find-links still serve
    #[arg(long, global = true)]
    pub offline: bool,
    /// No progress and no installer output on success
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Stream the installer's output live
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// Where `add`/`remove` edit a pyproject.toml.
#[derive(Args, Debug, Default, Clone)]
pub struct TargetArgs {
    /// A PEP 735 dependency group in pyproject.toml
    #[arg(long, value_name = "NAME", conflicts_with = "optional")]
    pub group: Option<String>,
    /// An extra in [project.optional-dependencies]
    #[arg(long, value_name = "NAME")]
    pub optional: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write cove.toml here (importing requirements.txt if present) and trust it
    #[command(after_help = "Example:\n  cove init --python 3.12 'requests==2.32.3' rich")]
    ///
    /// Here `--python SPEC` is the constraint written to the manifest, e.g. ">=3.11" or "3.12".
    Init {
        /// Requirements to start with (PEP 508)
        requirements: Vec<String>,
        /// Write cove.toml even beside a pyproject.toml that is the manifest (cove.toml then
        /// takes precedence over it)
        #[arg(long)]
        force: bool,
    },
    /// Add requirements to the manifest (keeping its comments and layout), then sync
    #[command(after_help = "Examples:\n  cove add 'requests>=2.31' rich\n  cove add --group test pytest")]
    Add {
        #[arg(required = true)]
        requirements: Vec<String>,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Remove requirements from the manifest by name, then sync
    #[command(after_help = "Example:\n  cove remove rich")]
    Remove {
        #[arg(required = true)]
        names: Vec<String>,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Build the project's environment now
    #[command(after_help = "Example:\n  cove sync --refresh   rebuild, resolving unpinned requirements again")]
    Sync {
        /// Rebuild even if the environment is ready
        #[arg(long)]
        refresh: bool,
        /// Ignore pylock.toml / uv.lock and build from the manifest's ranges
        #[arg(long)]
        no_lock: bool,
    },
    /// Run any command inside the project's environment
    #[command(
        after_help = "Examples:\n  cove run pytest -q\n  cove run --with ipython ipython   the manifest is left alone"
    )]
    Run {
        /// Ignore pylock.toml / uv.lock and build from the manifest's ranges
        #[arg(long)]
        no_lock: bool,
        /// An extra requirement for this run only, layered over the project's environment
        #[arg(long = "with", value_name = "REQ")]
        with: Vec<String>,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
    /// Print the path that NAME (default python) would run here
    #[command(after_help = "Example:\n  cove which pytest")]
    Which {
        #[arg(default_value = "python")]
        name: String,
    },
    /// Show the project, manifest, trust, interpreter, key and environment
    #[command(after_help = "Example:\n  cove status --json | jq .key")]
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Trust a manifest (default: this project's) so cove may build from it
    #[command(
        after_help = "Example:\n  cove trust            trust this project's manifest\n  cove trust script.py  trust a script's inline metadata"
    )]
    Trust { path: Option<PathBuf> },
    /// Withdraw trust from a manifest
    #[command(
        after_help = "Example:\n  cove untrust          cove builds nothing from this project until `cove trust`"
    )]
    Untrust { path: Option<PathBuf> },
    /// Create the shims folder if missing and print its path
    #[command(
        after_help = "Example:\n  export PATH=\"$(cove shims):$PATH\"   python and pip work in scripts, without the hook"
    )]
    Shims {
        /// Regenerate the console-script shims from the cache
        #[arg(long)]
        rebuild: bool,
    },
    /// List the Python interpreters found, with version and path
    #[command(after_help = "Example:\n  cove python           then pin one with `python = \"3.12\"` in cove.toml")]
    Python,
    /// Print shell completions (`cove hook SHELL` already loads them)
    #[command(after_help = "Example:\n  cove completions zsh > ~/.zfunc/_cove")]
    Completions { shell: CompletionShell },
    /// Print how cove parses the requirement strings on stdin, as JSON lines (for tests)
    #[command(hide = true)]
    DebugRequirement,
    /// List every cached environment: key, interpreter, requirements, size, last use, projects
    #[command(after_help = "Example:\n  cove list --json | jq '.[] | select(.state != \"ready\") | .key'")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove unfinished leftovers, environments unused for a while, then the least recently
    /// used until the cache fits a size
    #[command(after_help = "Example:\n  cove gc --older-than 14d --max-size 10G --dry-run")]
    Gc {
        /// Remove environments unused for longer than this (default 30d; config gc.older-than)
        #[arg(long, value_name = "DUR")]
        older_than: Option<String>,
        /// Then remove the least recently used until the cache fits this (config gc.max-size)
        #[arg(long, value_name = "SIZE")]
        max_size: Option<String>,
        /// Say what would be removed; change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Make .venv in the project a link to its environment, kept current on rebuild
    #[command(
        after_help = "Example:\n  cove link            editors find .venv\n  cove link --remove   remove the link"
    )]
    Link {
        /// Remove the .venv link cove made
        #[arg(long)]
        remove: bool,
    },
    /// Rebuild the project's environment whenever a file that feeds its key changes
    #[command(
        after_help = "Example:\n  cove watch            edit cove.toml in your editor; on a terminal watch shows the\n                        change and asks, and one `y` trusts and builds it (elsewhere:\n                        `cove trust` in another shell, then the environment follows)"
    )]
    Watch,
    /// Upload the project's environment (or every ready one) to the team cache
    #[command(
        after_help = "Example:\n  cove push          the current project's environment\n  cove push --all    every ready environment in the cache"
    )]
    Push {
        /// Every ready environment in the cache
        #[arg(long, conflicts_with = "key")]
        all: bool,
        /// The environment of this key (what a build with `push = true` runs in the background)
        #[arg(long, hide = true, value_name = "KEY")]
        key: Option<String>,
    },
    /// Check PATH, shims, hook, interpreters, backend, cache, config, trust store and remote
    #[command(after_help = "Example:\n  cove doctor           each problem comes with a `fix:` line")]
    Doctor,
    /// Put the shims on PATH for login and non-interactive shells too (~/.profile, ~/.zshenv, fish conf.d)
    #[command(
        after_help = "Example:\n  cove setup            agents, IDE task runners, make and cron find python\n  cove setup --undo     take it out again"
    )]
    Setup {
        /// Take out what `cove setup` wrote, giving back each file as it was
        #[arg(long)]
        undo: bool,
    },
    /// Print the shell integration: shims on PATH, the project's environment at each prompt
    #[command(
        after_help = "Examples:\n  eval \"$(cove hook bash)\"        in ~/.bashrc (zsh: ~/.zshrc)\n  cove hook fish | source          in ~/.config/fish/config.fish\n  execx($(cove hook xonsh))        in ~/.xonshrc\n  eval (cove hook elvish | slurp)  in ~/.config/elvish/rc.elv\n  cove hook nu | save -f ~/.config/nushell/cove.nu   then `source` that file in config.nu"
    )]
    Hook { shell: ShellKind },
    /// Print the shell code that activates the current folder's environment (run by the hook)
    #[command(
        after_help = "Examples:\n  eval \"$(cove hook-env bash)\"   what the hook runs at each prompt\n  cove hook-env --json          the same changes as JSON: set, unset, messages"
    )]
    HookEnv {
        #[arg(required_unless_present = "json")]
        shell: Option<ShellKind>,
        /// Print the changes as one JSON object (for other shells, prompt tools and editors)
        #[arg(long)]
        json: bool,
    },
    /// In this shell only: stop activating environments, restoring PATH as on leaving a project
    #[command(after_help = "Example:\n  cove off              then `cove on` resumes (defined by the hook)")]
    Off,
    /// In this shell only: resume activating environments after `cove off`
    #[command(after_help = "Example:\n  cove on               the project's environment is active again")]
    On,
    #[command(flatten)]
    PinLock(PinLock),
}

/// `cove pin` and `cove lock` (issue 21), kept apart from the rest to ease merges.
#[derive(Subcommand, Debug)]
pub enum PinLock {
    /// Pin the project's Python (.python-version, or the manifest with --manifest); alone, show it
    #[command(
        after_help = "Examples:\n  cove pin 3.12              write .python-version\n  cove pin --manifest 3.12   write cove.toml's python ([tool.cove].python in pyproject.toml)\n  cove pin                   show the pin and where it comes from"
    )]
    Pin {
        /// A version name as in .python-version: 3.12, 3.11.7, pypy3.10, system
        version: Option<String>,
        /// Write the manifest's python setting instead of .python-version
        #[arg(long)]
        manifest: bool,
    },
    /// Resolve the project's requirements for its interpreter and write pylock.toml (PEP 751)
    #[command(
        after_help = "Examples:\n  cove lock                          write pylock.toml\n  cove lock --check                  exit 1 when pylock.toml no longer matches the manifest\n  cove lock --upgrade-package rich   move one package to its newest allowed version"
    )]
    Lock {
        /// Write nothing; exit 1 when the lock is missing or stale, 0 when current
        #[arg(long, conflicts_with_all = ["upgrade", "upgrade_package"])]
        check: bool,
        /// Resolve every package afresh instead of keeping the versions locked
        #[arg(long)]
        upgrade: bool,
        /// Resolve this package afresh (repeatable)
        #[arg(long, value_name = "NAME")]
        upgrade_package: Vec<String>,
    },
}

/// The completion script for `shell`, from the CLI definition.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cove", &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        // Sourced (not autoloaded), zsh's script must register itself rather than run.
        clap_complete::Shell::Zsh => text.replace(
            "if [ \"$funcstack[1]\" = \"_cove\" ]; then\n    _cove \"$@\"\nelse\n    compdef _cove cove\nfi",
            "(( $+functions[compdef] )) && compdef _cove cove",
        ),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
