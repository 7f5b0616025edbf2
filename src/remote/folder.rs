//! A team cache in a plain folder (`file:///mnt/team/cove`), laid out as an OCI registry keeps
//! one repository: `manifests/<tag>` and `blobs/sha256/<hex>`. Everything is written aside and
//! renamed into place, so a reader never sees half a file.

use std::path::{Path, PathBuf};

use super::store::{Fault, Store};

pub struct Folder {
    pub root: PathBuf,
    pub url: String,
}

impl Folder {
    fn blob_path(&self, digest: &str) -> Result<PathBuf, Fault> {
        let hex = digest.strip_prefix("sha256:").filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let hex = hex.ok_or_else(|| Fault(format!("{digest:?} is not a sha256 digest")))?;
        Ok(self.root.join("blobs/sha256").join(hex))
    }

    fn write(&self, path: &Path, from: &mut dyn std::io::Read) -> Result<(), Fault> {
        let io = |e: std::io::Error| Fault(format!("cannot write {}: {e}", path.display()));
        let dir = path.parent().expect("inside the folder");
        std::fs::create_dir_all(dir).map_err(io)?;
        let aside = dir.join(format!(".tmp-{}-{}", std::process::id(), crate::fsx::nanos()));
        let result = (|| {
            let mut f = std::fs::File::create(&aside)?;
            std::io::copy(from, &mut f)?;
            f.sync_all()?;
            std::fs::rename(&aside, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&aside);
        }
        result.map_err(io)
    }
}

impl Store for Folder {
    fn url(&self) -> &str {
        &self.url
    }

    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>, Fault> {
        let path = self.root.join("manifests").join(tag);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && self.root.is_dir() => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Fault(format!("{} is not a folder", self.root.display())))
            }
            Err(e) => Err(Fault(format!("cannot read {}: {e}", path.display()))),
        }
    }

    fn blob(&self, digest: &str, _size: u64) -> Result<Box<dyn std::io::Read>, Fault> {
        let path = self.blob_path(digest)?;
        let f = std::fs::File::open(&path).map_err(|e| Fault(format!("cannot read {}: {e}", path.display())))?;
        Ok(Box::new(f))
    }

    fn has_blob(&self, digest: &str) -> Result<bool, Fault> {
        Ok(self.blob_path(digest)?.is_file())
    }

    fn put_blob(&self, digest: &str, file: &Path) -> Result<(), Fault> {
        let path = self.blob_path(digest)?;
        let mut f = std::fs::File::open(file).map_err(|e| Fault(format!("cannot read {}: {e}", file.display())))?;
        self.write(&path, &mut f)
    }

    fn put_manifest(&self, tag: &str, bytes: &[u8]) -> Result<(), Fault> {
        self.write(&self.root.join("manifests").join(tag), &mut &bytes[..])
    }

    fn check(&self, push: bool) -> Result<String, Fault> {
        if !self.root.is_dir() {
            return Err(Fault(format!("{} is not a folder", self.root.display())));
        }
        std::fs::read_dir(&self.root).map_err(|e| Fault(format!("cannot read {}: {e}", self.root.display())))?;
        if push {
            let probe = self.root.join(format!(".cove-doctor-{}", std::process::id()));
            std::fs::write(&probe, b"").map_err(|e| Fault(format!("cannot write in {}: {e}", self.root.display())))?;
            let _ = std::fs::remove_file(&probe);
            return Ok("readable and writable (push allowed)".into());
        }
        Ok("readable".into())
    }
}
