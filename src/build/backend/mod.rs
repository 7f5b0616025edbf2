//! Backends make a standard venv (PEP 405) with pip inside and install requirements into it:
//! uv when found (`COVE_UV`, then PATH), else the base interpreter's venv and pip (SPEC §8).
//! Installer output goes to the build log (and stderr with `--verbose`), never to stdout.

mod blame;
mod installer;
pub mod lock;
mod locked;
mod pip;
mod pip_wheel;
pub mod seed;
mod uv;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::settings::{BackendChoice, Settings};

pub use blame::blame;
pub use installer::{Backend, Install, Output, running};
pub use pip::Pip;
pub use uv::Uv;

/// The backend the settings choose.
pub fn select(settings: &Settings) -> Result<Box<dyn Backend>> {
    // Backend pip never looks for uv (a bad COVE_UV is no error then).
    let uv = if settings.backend == BackendChoice::Pip { None } else { find_uv(&settings.home_dir)? };
    match (uv, settings.backend) {
        (Some(exe), _) => Ok(Box::new(Uv { exe })),
        (None, BackendChoice::Uv) => Err(Error::NoUv { asked: true }),
        (None, _) => Ok(Box::new(Pip { cache: crate::cache::Cache::new(&settings.cache_dir), quiet: settings.quiet })),
    }
}

/// Where `install.sh` puts uv when none is found, under cove's data folder.
pub fn bundled_uv(home: &Path) -> PathBuf {
    home.join("tools").join("uv").join("bin").join("uv")
}

/// uv: `COVE_UV`, then PATH, then the one `install.sh` put in cove's data folder (`home`). A
/// `COVE_UV` that names no executable file is an error, not a reason to fall back: the user
/// asked for that uv.
pub fn find_uv(home: &Path) -> Result<Option<PathBuf>> {
    if let Some(p) = std::env::var_os("COVE_UV").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_absolute() || !crate::plan::interpreter::is_executable(&p) {
            return Err(Error::BadUv { value: p });
        }
        return Ok(Some(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path =
        std::env::split_paths(&path).map(|d| d.join("uv")).find(|p| crate::plan::interpreter::is_executable(p));
    Ok(on_path.or_else(|| Some(bundled_uv(home)).filter(|p| crate::plan::interpreter::is_executable(p))))
}
