//! Has this file changed? A [`Stamp`] is what a file's metadata says about it, so that a later
//! stat can tell it apart from its past selves without reading it. The plan memo's inputs, the
//! interpreter facts cache, the shell hook's fingerprint and pip's seed names all ask through it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Device, inode, size, mode, and mtime and ctime in nanoseconds. Any write changes the ctime;
/// a file replaced by rename has another inode; a folder's times change when an entry is added
/// or removed. Kept on disk as these six numbers (serde).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp([u64; 6]);

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let ns = |s: i64, n: i64| (s as u64).wrapping_mul(1_000_000_000).wrapping_add(n as u64);
        Stamp([
            meta.dev(),
            meta.ino(),
            meta.size(),
            u64::from(meta.mode()),
            ns(meta.mtime(), meta.mtime_nsec()),
            ns(meta.ctime(), meta.ctime_nsec()),
        ])
    }

    /// The stamp of what is at `path` now (links followed), `None` when nothing is.
    pub fn at(path: &Path) -> Option<Stamp> {
        std::fs::metadata(path).ok().map(|m| Stamp::of(&m))
    }

    /// The later of the modification and change times, in nanoseconds since the epoch.
    pub fn changed_ns(&self) -> u64 {
        self.0[4].max(self.0[5])
    }
}

/// Feed `stamp` (`None`: nothing there) into a digest: how a stamp joins a hash, so that a
/// file that appears, disappears or changes changes the hash.
pub fn hash(h: &mut Sha256, stamp: Option<Stamp>) {
    match stamp {
        Some(Stamp(n)) => {
            h.update([1]);
            for n in n {
                h.update(n.to_le_bytes());
            }
        }
        None => h.update([0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_a_replacement_and_a_removal_are_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a");
        assert_eq!(Stamp::at(&file), None);
        std::fs::write(&file, "one").unwrap();
        let first = Stamp::at(&file).unwrap();
        assert_eq!(Stamp::at(&file), Some(first), "a stat of an unchanged file is the same stamp");
        std::fs::write(&file, "three").unwrap();
        let rewritten = Stamp::at(&file).unwrap();
        assert_ne!(rewritten, first, "written again");
        let other = dir.path().join("b");
        std::fs::write(&other, "three").unwrap();
        std::fs::rename(&other, &file).unwrap();
        assert_ne!(Stamp::at(&file), Some(rewritten), "replaced by rename: another inode");

        let digest = |s: Option<Stamp>| {
            let mut h = Sha256::new();
            hash(&mut h, s);
            h.finalize()
        };
        assert_ne!(digest(None), digest(Some(first)));
        assert_ne!(digest(Some(first)), digest(Some(rewritten)));
        let json = serde_json::to_string(&first).unwrap();
        assert_eq!(serde_json::from_str::<Stamp>(&json).unwrap(), first);
    }
}
