//! The command line (clap derive). No logic here.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cove",
    version,
    about = "Every Python project gets its own cached virtual environment, automatically.",
    long_about = None,
    after_help = "Get started:\n  cove init 'requests>=2.31'   write cove.toml here and trust it\n  eval \"$(cove hook bash)\"     enable the shims and hook in this shell\n  python -c 'import requests'  the environment is built on first use"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write cove.toml here (importing requirements.txt if present) and trust it
    #[command(after_help = "Example:\n  cove init --python 3.12 'requests==2.32.3' rich")]
    Init {
        /// Python constraint for the manifest, e.g. ">=3.11" or "3.12"
        #[arg(long = "python", id = "init_python", value_name = "SPEC")]
        python_spec: Option<String>,
        /// Requirements to start with (PEP 508)
        requirements: Vec<String>,
    },
    /// Build the project's environment now
    #[command(after_help = "Example:\n  cove sync --refresh   rebuild, resolving unpinned requirements again")]
    Sync {
        /// Rebuild even if the environment is ready
        #[arg(long)]
        refresh: bool,
    },
    /// Run any command inside the project's environment
    #[command(after_help = "Example:\n  cove run pytest -q")]
    Run {
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
    Untrust { path: Option<PathBuf> },
    /// Create the shims folder if missing and print its path
    Shims {
        /// Regenerate the console-script shims from the cache
        #[arg(long)]
        rebuild: bool,
    },
    /// List the Python interpreters found, with version and path
    Python,
    /// Print the shell integration: shims on PATH, the project's environment at each prompt
    #[command(
        after_help = "Example:\n  eval \"$(cove hook bash)\"   in ~/.bashrc (zsh: ~/.zshrc)\n  cove hook fish | source     in ~/.config/fish/config.fish"
    )]
    Hook {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Print the shell code that activates the current folder's environment (run by the hook)
    HookEnv {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
}
