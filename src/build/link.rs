//! `.venv` in a project as a symlink to its environment, so editors (VS Code, PyCharm) find it.
//!
//! A link cove made points into `$COVE_CACHE_DIR/envs/`: that is how cove knows it may repoint
//! or remove it. A real `.venv` folder, or a link pointing elsewhere, is never touched. Once made,
//! the link follows the project's key: every use of the environment (the shim's warm path
//! included) costs one `readlink`, and repoints the link only when it is stale.

use std::path::{Path, PathBuf};

use crate::cache::{Cache, Kind};
use crate::error::{Error, IoContext, Result};

pub const NAME: &str = ".venv";

/// What `.venv` in a project is.
#[derive(Debug, PartialEq, Eq)]
pub enum Venv {
    Missing,
    /// A link cove made, to this target.
    Ours(PathBuf),
    /// A link to somewhere outside cove's cache.
    Foreign(PathBuf),
    /// A real folder or file.
    Real,
}

pub fn inspect(project_dir: &Path, cache: &Cache) -> Venv {
    let at = project_dir.join(NAME);
    match std::fs::read_link(&at) {
        Ok(target) if [Kind::Env, Kind::Layer].iter().any(|k| target.starts_with(k.bucket().under(&cache.root))) => {
            Venv::Ours(target)
        }
        Ok(target) => Venv::Foreign(target),
        Err(_) if std::fs::symlink_metadata(&at).is_ok() => Venv::Real,
        Err(_) => Venv::Missing,
    }
}

/// What `make` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Made {
    Created,
    Repointed,
    AlreadyCurrent,
}

/// Make `.venv` in `project_dir` a link to `env`, refusing to replace anything cove did not make.
pub fn make(project_dir: &Path, env: &Path, cache: &Cache) -> Result<Made> {
    let at = project_dir.join(NAME);
    match inspect(project_dir, cache) {
        Venv::Real => Err(Error::VenvInTheWay { path: at, target: None }),
        Venv::Foreign(target) => Err(Error::VenvInTheWay { path: at, target: Some(target) }),
        Venv::Ours(target) if target == env => Ok(Made::AlreadyCurrent),
        Venv::Ours(_) => point(&at, env).map(|()| Made::Repointed),
        Venv::Missing => point(&at, env).map(|()| Made::Created),
    }
}

/// Remove a `.venv` link cove made. `Ok(false)` when there is none.
pub fn remove(project_dir: &Path, cache: &Cache) -> Result<bool> {
    let at = project_dir.join(NAME);
    match inspect(project_dir, cache) {
        Venv::Missing => Ok(false),
        Venv::Real => Err(Error::VenvInTheWay { path: at, target: None }),
        Venv::Foreign(target) => Err(Error::VenvInTheWay { path: at, target: Some(target) }),
        Venv::Ours(_) => std::fs::remove_file(&at).ctx("remove", &at).map(|()| true),
    }
}

/// Repoint a stale `.venv` link cove made to `env`. Best effort, and cheap: one `readlink` when
/// nothing is to be done.
pub fn refresh(project_dir: &Path, env: &Path, cache: &Cache) {
    let at = project_dir.join(NAME);
    if let Ok(target) = std::fs::read_link(&at)
        && target != env
        && target.starts_with(Kind::Env.bucket().under(&cache.root))
    {
        let _ = point(&at, env);
    }
}

/// Atomically (re)place the link `at` → `env`: a new link beside it, renamed over it.
fn point(at: &Path, env: &Path) -> Result<()> {
    let tmp = at.with_file_name(format!(".venv.cove-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(env, &tmp).ctx("create link", &tmp)?;
    std::fs::rename(&tmp, at).ctx("create link", at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_made_repointed_and_never_replace_what_cove_did_not_make() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(&t.path().join("cache"));
        let (a, b) = (cache.entry(Kind::Env, "a").into_dir(), cache.entry(Kind::Env, "b").into_dir());
        let proj = t.path().join("proj");
        std::fs::create_dir_all(&proj).unwrap();
        assert_eq!(make(&proj, &a, &cache).unwrap(), Made::Created);
        assert_eq!(make(&proj, &a, &cache).unwrap(), Made::AlreadyCurrent);
        refresh(&proj, &b, &cache);
        assert_eq!(inspect(&proj, &cache), Venv::Ours(b.clone()));
        assert!(remove(&proj, &cache).unwrap());
        assert_eq!(inspect(&proj, &cache), Venv::Missing);

        std::fs::create_dir(proj.join(NAME)).unwrap();
        assert!(matches!(make(&proj, &a, &cache), Err(Error::VenvInTheWay { target: None, .. })));
        refresh(&proj, &a, &cache);
        assert_eq!(inspect(&proj, &cache), Venv::Real);
        std::fs::remove_dir(proj.join(NAME)).unwrap();
        std::os::unix::fs::symlink("/elsewhere", proj.join(NAME)).unwrap();
        assert!(matches!(remove(&proj, &cache), Err(Error::VenvInTheWay { target: Some(_), .. })));
    }
}
