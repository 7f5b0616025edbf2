//! What every team cache is behind ([`Store`]), the one-line [`Fault`] it reports, and the
//! hashing writer that packs and checks artifacts.

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Why the remote could not serve or take an environment: one line.
#[derive(Debug, Clone)]
pub struct Fault(pub String);

/// A team cache: one repository of manifests (by tag) and blobs (by digest).
pub trait Store {
    fn url(&self) -> &str;
    /// The manifest tagged `tag`, `None` when there is none.
    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>, Fault>;
    /// The blob's bytes (checked by the caller).
    fn blob(&self, digest: &str, size: u64) -> Result<Box<dyn Read>, Fault>;
    fn has_blob(&self, digest: &str) -> Result<bool, Fault>;
    fn put_blob(&self, digest: &str, file: &Path) -> Result<(), Fault>;
    fn put_manifest(&self, tag: &str, bytes: &[u8]) -> Result<(), Fault>;
    /// For `cove doctor`: what works, or what does not.
    fn check(&self, push: bool) -> Result<String, Fault>;
}

/// A writer or reader that hashes and counts what goes through it: an artifact being packed, a
/// blob being downloaded (then checked against its manifest).
pub struct Hashing<T> {
    pub inner: T,
    pub hash: Sha256,
    pub len: u64,
}

impl<T> Hashing<T> {
    pub fn new(inner: T) -> Self {
        Hashing { inner, hash: Sha256::new(), len: 0 }
    }

    pub fn check(self, digest: &str, size: u64) -> Result<(), Fault> {
        if self.len != size {
            return Err(Fault(format!("the download is {} bytes, not the {size} its manifest says", self.len)));
        }
        let got = format!("sha256:{}", crate::digest::hex(&self.hash.finalize()));
        if got != digest {
            return Err(Fault(format!("the download's digest is {got}, not {digest}")));
        }
        Ok(())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}
