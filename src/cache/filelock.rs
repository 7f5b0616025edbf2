//! One lock file per thing guarded (std `File::lock`), held by an RAII guard.
//!
//! A process that finds the lock taken says so on stderr ("waiting for …"), then blocks until the
//! holder finishes or `COVE_LOCK_TIMEOUT` seconds (default 600) pass. The kernel drops the lock
//! when its holder dies, so a killed build never leaves a lock behind.
//!
//! `cove gc` deletes the lock file of an environment it removes, while holding it. A waiter may
//! then get the lock on the deleted file, so every taker checks that the file it locked is still
//! the one at the path, and starts over when it is not.

use std::fs::{File, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, Result};

#[derive(Debug)]
pub struct Guard {
    _file: File,
    pub path: PathBuf,
}

impl Guard {
    /// The open lock file. A child process that inherits it holds the lock too, until the last
    /// of them closes it (`flock` locks belong to the open file, not the process).
    pub fn fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self._file)
    }

    /// Delete the lock file while still holding it (see the module notes).
    pub fn remove_file(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        crate::fsx::create_private_dir(dir)?;
    }
    std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).ctx("open lock", path)
}

/// Whether the locked `file` is still the file at `path`.
fn still_at(file: &File, path: &Path) -> bool {
    let both = file.metadata().ok().zip(std::fs::metadata(path).ok());
    both.is_some_and(|(a, b)| a.dev() == b.dev() && a.ino() == b.ino())
}

/// Take the exclusive lock at `path`; `what` names the guarded thing in the waiting message.
pub fn exclusive(path: &Path, what: &str, quiet: bool) -> Result<Guard> {
    let seconds = std::env::var("COVE_LOCK_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(600u64);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut said = quiet;
    loop {
        let file = open(path)?;
        let mut pause = Duration::from_millis(5);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    if !said {
                        crate::ui::note(false, &format!("waiting for another process building {what}…"));
                        said = true;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::LockTimeout { what: what.to_string(), path: path.to_path_buf(), seconds });
                }
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
            }
        }
        if still_at(&file, path) {
            return Ok(Guard { _file: file, path: path.to_path_buf() });
        }
    }
}

/// Whether another process holds the lock at `path` right now.
pub fn is_held(path: &Path) -> bool {
    let Ok(file) = File::open(path) else { return false };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

/// Try the lock without waiting: `None` when someone else holds it.
pub fn try_exclusive(path: &Path) -> Result<Option<Guard>> {
    loop {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) if still_at(&file, path) => return Ok(Some(Guard { _file: file, path: path.to_path_buf() })),
            Ok(()) => continue,
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
    }
}
