//! `cove run --with REQ… CMD` (SPEC §7): one command with extra requirements over the
//! project's environment, leaving the manifest alone.
//!
//! An overlay is an environment like any other, built from the project's install list (its
//! requirements, or its lock's pins) plus the extra requirements, resolved together so the two
//! sets agree. Its key is the project's key with the extras' canonical text added
//! (`with: REQ` lines), so every project with that key and those extras shares it; it is
//! built, published and found through `build` exactly as environments are (never seen
//! half-built), and `cove list` / `cove gc` treat it as one. A package project gets its
//! editable layer over the overlay as over its own environment.
//!
//! What sets an overlay apart: its use is not recorded as the project's (the project's key
//! stays its own environment's, for `cove list` and `cove gc`), the project's `.venv` link is
//! left alone, and its console scripts get no shims (they belong to one run, not the project).

use crate::cache::{Cache, Kind};
use crate::error::{Pos, Result};
use crate::manifest::requirement::Requirement;
use crate::plan::key::Key;
use crate::plan::{Overlay, Plan};

/// The plan of `base` with `with` layered over it.
pub fn plan(base: &Plan, with: &[String], cache_dir: &std::path::Path) -> Result<Plan> {
    let pos = Pos { file: "--with".into(), line: 1, column: 1 };
    let cwd = crate::inputs::current_dir().unwrap_or_else(|_| "/".into());
    let mut extra = with.iter().map(|r| Requirement::parse(r, &pos, &cwd)).collect::<Result<Vec<_>>>()?;
    crate::manifest::requirement::normalise_set(&mut extra);
    let mut text = base.key.canonical.clone();
    text.extend(extra.iter().map(|r| format!("with: {}\n", r.canonical)));
    let cache = Cache::new(cache_dir);
    let mut plan = base.clone();
    plan.key = Key::of(text);
    plan.install.extend(extra.iter().cloned());
    // The extras are resolved with the pins, so the lock's files alone are not the install.
    plan.lock_files = None;
    plan.env_dir = cache.entry(Kind::Env, &plan.key.hex).into_dir();
    plan.layer_dir = plan.layer_in(&cache);
    plan.overlay = Some(Overlay { with: extra, base_key: base.key.hex.clone() });
    Ok(plan)
}
