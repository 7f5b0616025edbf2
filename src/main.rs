//! cove: run as `cove` it is the CLI; run as `python`, `python3`, `pip`, `pip3` or a console
//! script (a link in the shims folder) it is the shim. The name decides before anything else,
//! and this is the one place that turns an error into output and an exit status.
//!
//! The map of `src/`, stage by stage in the order data flows, is in CONTRIBUTING.md.

// The test harness brings its own `main`; see `main` below for why cove has its own on glibc.
#![cfg_attr(all(not(test), target_os = "linux", target_env = "gnu"), no_main)]

mod build;
mod cache;
mod change;
mod cli;
mod commands;
mod digest;
mod error;
mod fsx;
#[cfg(test)]
mod fuzz_tests;
mod hook;
mod inputs;
mod isolated;
mod manifest;
mod plan;
mod remote;
mod settings;
mod shim;
mod stamp;
mod timings;
mod tomlx;
mod ui;

/// cove's own `main`, in place of std's: the shim's warm path is a few stats and an exec, and
/// std's runtime set-up (reading `/proc/self/maps` to find the main thread's stack guard, an
/// alternate signal stack and SIGSEGV/SIGBUS handlers for a stack-overflow message) would cost
/// more than all of it. What std's set-up did that cove relies on is done here: SIGPIPE is
/// ignored for the CLI (so a closed pipe is an error, not a kill), and `std::process::exit`
/// flushes stdout. A panic prints its message and aborts (release builds set `panic = "abort"`,
/// so there is nothing to catch). `std::env::args_os` still works because on glibc std
/// reads argv from its own `.init_array` hook (elsewhere it needs std's `main`, so other targets
/// keep it). Given up: a stack overflow is a plain SIGSEGV rather than std's message, and a
/// panic names the thread `<unnamed>` rather than `main`.
#[cfg(all(not(test), target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    std::process::exit(i32::from(run()))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[cfg_attr(test, allow(dead_code))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(run())
}

#[cfg_attr(test, allow(dead_code))]
fn run() -> u8 {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "cove".into());
    let name = std::path::Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let result = if name == "cove" || name.starts_with("cove-") || name.starts_with("cove.") {
        // SAFETY: setting a signal's disposition to "ignore" before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        commands::main().map(|()| error::Exit::Success as u8)
    } else {
        shim::run(&name, args.collect())
    };
    result.unwrap_or_else(|e| report(&e))
}

#[cfg_attr(test, allow(dead_code))]
fn report(e: &error::Error) -> u8 {
    ui::error(e);
    e.exit_code() as u8
}
