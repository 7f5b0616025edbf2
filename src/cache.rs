//! The cache layout under `$COVE_CACHE_DIR`, and what state an environment is in.
//!
//! ```text
//! CACHEDIR.TAG  .gitignore
//! envs/<key>/               one venv per key; ready only once `envs/<key>/.cove-ready` exists
//! envs/<key>/cove-env.json  what it was built from (canonical text, interpreter, manifest, size)
//! envs/<key>/.cove-used     its mtime is the last use (see `usage`)
//! locks/<key>.lock          held while the key is built or removed
//! logs/<key>.log            the last build's installer output
//! interpreters/             cached interpreter facts
//! projects/<sha>            which key each project last used (see `usage`)
//! trash/                    environments being removed by `cove gc`
//! ```
//!
//! Invariant: the ready marker is written (atomically) after everything else, so no process
//! ever runs an environment that is half built. A folder without a marker whose lock is free is
//! a leftover of a killed build and is removed before the next build. `cove gc` first renames
//! an environment into `trash/` under its lock, so a removal cut short never leaves a
//! half-deleted environment that looks ready.

use std::path::{Path, PathBuf};

use crate::error::Result;

pub const READY: &str = ".cove-ready";
pub const INFO: &str = "cove-env.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    Missing,
    Building,
    Broken,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::Missing => "missing",
            State::Building => "building",
            State::Broken => "broken",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache { root: root.to_path_buf() }
    }

    pub fn envs_dir(&self) -> PathBuf {
        self.root.join("envs")
    }

    pub fn env_dir(&self, key: &str) -> PathBuf {
        self.root.join("envs").join(key)
    }

    pub fn lock_path(&self, key: &str) -> PathBuf {
        self.root.join("locks").join(format!("{key}.lock"))
    }

    pub fn log_path(&self, key: &str) -> PathBuf {
        self.root.join("logs").join(format!("{key}.log"))
    }

    pub fn projects_dir(&self) -> PathBuf {
        self.root.join("projects")
    }

    pub fn trash_dir(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// The warm-path check: one stat.
    pub fn is_ready(&self, key: &str) -> bool {
        self.env_dir(key).join(READY).exists()
    }

    /// Ready, and its `python` still resolves (the base interpreter it links to is there): two
    /// stats. An environment whose interpreter vanished is rebuilt rather than run into a
    /// loader error.
    pub fn is_usable(&self, key: &str) -> bool {
        self.is_ready(key) && crate::backend::env_python(&self.env_dir(key)).exists()
    }

    pub fn state(&self, key: &str) -> State {
        if self.is_usable(key) {
            State::Ready
        } else if crate::lock::is_held(&self.lock_path(key)) {
            State::Building
        } else if self.env_dir(key).exists() {
            State::Broken
        } else {
            State::Missing
        }
    }

    /// Create the cache root, private to the user and marked as a cache.
    pub fn prepare(&self) -> Result<()> {
        let fresh = !self.root.exists();
        crate::fsx::create_private_dir(&self.root)?;
        if fresh {
            crate::fsx::make_private(&self.root)?;
        }
        let tag = self.root.join("CACHEDIR.TAG");
        if !tag.exists() {
            crate::fsx::write_atomic(
                &tag,
                b"Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cove.\n",
            )?;
            crate::fsx::write_atomic(&self.root.join(".gitignore"), b"*\n")?;
        }
        Ok(())
    }
}
