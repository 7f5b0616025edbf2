//! cove: run as `cove` it is the CLI; run as `python`, `python3`, `pip`, `pip3` or a console
//! script (a link in the shims folder) it is the shim. The name decides before anything else,
//! and this is the one place that turns an error into output and an exit status.

mod backend;
mod build;
mod cache;
mod cli;
mod commands;
mod error;
mod exec;
mod fsx;
#[cfg(test)]
mod fuzz_tests;
mod hook;
mod interpreter;
mod inventory;
mod key;
mod layer;
mod link;
mod lock;
mod manifest;
mod pip;
mod progress;
mod project;
mod requirement;
mod resolve;
mod settings;
mod shells;
mod shim;
mod shims;
mod staging;
mod tomlx;
mod trust;
mod ui;
mod units;
mod usage;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "cove".into());
    let name = std::path::Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let result = if name == "cove" || name.starts_with("cove-") || name.starts_with("cove.") {
        commands::main()
    } else {
        shim::run(&name, args.collect())
    };
    match result {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

fn report(e: &error::Error) -> ExitCode {
    ui::print_error(e);
    ExitCode::from(e.exit_code())
}
