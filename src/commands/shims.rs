//! `cove shims [--rebuild]`: create the shims folder if missing and print its path.

use crate::error::Result;
use crate::settings::Settings;

pub fn run(settings: &Settings, rebuild: bool) -> Result<()> {
    let dir = if rebuild { crate::shim::links::rebuild(settings)? } else { crate::shim::links::ensure(settings)? };
    crate::ui::out(&format!("{}\n", dir.display()));
    Ok(())
}
