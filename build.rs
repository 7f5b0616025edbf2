//! Build script: mark the build (for `src/memo.rs`), and link the `cove` binary as a
//! position-dependent executable on Linux.
//!
//! The shim's warm path is a few stats and an exec, so start-up dominates what it costs. A
//! position-independent executable makes the dynamic loader relocate every page of pointers
//! (vtables, string tables) at each start, a copy-on-write page fault each: measured as the
//! largest single share of the shim's page faults. Linked with `-no-pie` those addresses are
//! fixed at link time. What is given up is the randomised load address of cove's own code (the
//! libraries stay randomised); the shim runs for a millisecond and then execs. See
//! `bench/RESULTS.md`.
//!
//! A fully static build goes further (no loader at all), but `+crt-static` cannot be set for
//! the binary alone without `--target` (proc-macro crates must stay dynamic); `bench/run`
//! measures it as `COVE_STATIC=1` and the README names the command.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // A mark of this build of the sources, so that plans remembered by another build (which
    // may plan differently) are not taken: see `src/memo.rs`.
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=Cargo.lock");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    println!("cargo::rustc-env=COVE_BUILD_MARK={}-{now}", std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE").is_ok_and(|f| f.split(',').any(|f| f == "crt-static"));
    if os == "linux" && (env == "gnu" || env == "musl") && !crt_static {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
