//! Names made from content: bytes written as lowercase hex, and SHA-256 digests for
//! file names (cache keys, memo and record names).

use sha2::{Digest, Sha256};

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The SHA-256 of `bytes`, as hex (64 characters).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sha256_hex() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert!(sha256_hex(b"").starts_with("e3b0c442") && sha256_hex(b"").len() == 64);
    }
}
