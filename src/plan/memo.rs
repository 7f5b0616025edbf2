//! Plans remembered. A plan is made from the manifest and every file it includes, the
//! interpreters on the machine, a lock file and a few environment variables;
//! [`crate::inputs`] notes all of them while the plan is made. The plan is then kept under
//! `plans/`, one per manifest, current folder and build of cove, and taken again as long as every input is
//! as it was noted: a stat each, so a warm `python` parses no TOML and no PEP 508 and hashes
//! nothing, however long its manifest. Only the plan's brief is kept (`resolve::Brief`: what
//! using a ready environment needs), in a format of this module's own.
//!
//! A memo is a cache: lost, unreadable, made by another cove binary or made with other
//! settings, it is ignored and the plan is made again. It is written only from a plan that
//! succeeded, with every input's interpreter facts known, and never while an input is younger
//! than the file clock's granularity could tell apart.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::inputs::Inputs;
use crate::plan::interpreter::Finder;
use crate::plan::project::Project;
use crate::plan::{Brief, Plan};
use crate::settings::Settings;

/// Inputs changed less than this long ago are not trusted to show their next change.
const SETTLE_NS: u64 = 2_000_000_000;

#[derive(Serialize, Deserialize)]
struct Memo {
    /// The build of cove that made it: another may plan differently.
    made_by: String,
    /// The settings a plan depends on.
    settings: String,
    inputs: Inputs,
    plan: Kept,
}

/// A plan as kept: its [`Brief`] in plain fields of this file's own, so that the domain types
/// can change without changing the format.
#[derive(Serialize, Deserialize)]
struct Kept {
    manifest: PathBuf,
    dir: PathBuf,
    /// The manifest's kind, as `project::Kind::file_name` names it.
    kind: String,
    digest: String,
    key: String,
    env_dir: PathBuf,
    layer_dir: Option<PathBuf>,
    python: PathBuf,
}

/// The plan kept for `project` from the current folder, in brief, if nothing it was made from
/// changed.
pub fn recall(project: &Project, settings: &Settings) -> Option<Brief> {
    let bytes = std::fs::read(file(project, settings)?).ok()?;
    let memo: Memo = serde_json::from_slice(&bytes).ok()?;
    let kept = memo.plan;
    let fresh = memo.made_by == env!("COVE_BUILD_MARK")
        && memo.settings == fingerprint(settings)
        && kept.manifest == project.manifest
        && kept.dir == project.dir
        && kept.kind == project.kind.file_name()
        && memo.inputs.unchanged();
    fresh.then(|| Brief {
        project: project.clone(),
        digest: kept.digest,
        key: kept.key,
        env_dir: kept.env_dir,
        layer_dir: kept.layer_dir,
        python: kept.python,
        overlay: false,
    })
}

/// Keep `plan`, made from `inputs`, for [`recall`]. Best effort: a read-only cache only costs
/// making the plan again.
pub fn keep(plan: &Plan, inputs: Inputs, settings: &Settings, finder: &Finder) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    if plan.overlay.is_some() || finder.missed.get() || !inputs.settled_before(now.saturating_sub(SETTLE_NS)) {
        return;
    }
    let Some(path) = file(&plan.project, settings) else { return };
    let b = plan.brief();
    let memo = Memo {
        made_by: env!("COVE_BUILD_MARK").to_string(),
        settings: fingerprint(settings),
        inputs,
        plan: Kept {
            manifest: b.project.manifest,
            dir: b.project.dir,
            kind: b.project.kind.file_name().to_string(),
            digest: b.digest,
            key: b.key,
            env_dir: b.env_dir,
            layer_dir: b.layer_dir,
            python: b.python,
        },
    };
    if let Ok(bytes) = serde_json::to_vec(&memo) {
        let _ = crate::fsx::write_atomic_unsynced(&path, &bytes);
    }
}

/// Where the memo for `project` from the current folder is kept (by this build of cove: two
/// installed side by side keep their own).
fn file(project: &Project, settings: &Settings) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let mut h = Sha256::new();
    h.update(env!("COVE_BUILD_MARK"));
    h.update([0]);
    h.update(project.manifest.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(cwd.as_os_str().as_encoded_bytes());
    Some(crate::cache::Bucket::PLANS.under(&settings.cache_dir).join(crate::digest::hex(&h.finalize()[..16])))
}

fn fingerprint(settings: &Settings) -> String {
    // Trust decides whether an interpreter path the project names may be used (`resolve`).
    format!(
        "{:?}\n{}\n{}\n{} {:?}",
        settings.python,
        settings.use_lock,
        settings.shims_dir().display(),
        settings.trust_all,
        settings.trusted_dirs
    )
}
