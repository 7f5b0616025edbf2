//! Which pip wheel an interpreter's environments get pip from (the seed's, and uv's install of
//! pip), without the network: the wheel its own `ensurepip` would install, else a foreign one
//! only when that wheel says it supports the interpreter.
//!
//! The interpreter's own folders come from its facts ([`crate::plan::interpreter::Facts`]
//! `pip_wheel_dirs`: the build's `WHEEL_PKG_DIR`, then `ensurepip/_bundled` in its standard
//! library), as `ensurepip` finds them, never from a guess at its prefix: a CPython 3.12 binary
//! copied where a 3.11 was has its standard library elsewhere, and the guess fell through to
//! Debian's `/usr/share/python-wheels` pip 23.0.1, which fails on 3.12 (issue 18, finding 8).
//! A wheel from another folder is used only when its `METADATA` allows the interpreter: its
//! `Requires-Python`, and, when it lists the Python versions it supports as classifiers, this
//! one among them (pip 23.0.1 requires only `>=3.7`, but lists 3.7 to 3.11). With none, the
//! backends fall back to the venv's own `ensurepip` (pip) or uv's `--seed`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::plan::interpreter::Interpreter;

/// pip's wheel for the venvs of `base`, or `None` when there is none it can run.
pub fn bundled_pip(base: &Interpreter) -> Option<PathBuf> {
    let own = &base.facts.pip_wheel_dirs;
    let foreign = || {
        let supported = |wheel: &Path| metadata(wheel).is_some_and(|m| supports(&m, base));
        foreign_dirs(base).iter().filter(|d| !own.contains(d)).find_map(|d| newest(d, supported))
    };
    own.iter().find_map(|d| newest(d, |_| true)).or_else(foreign)
}

/// Folders that may hold a pip wheel for `base` that is not its own.
fn foreign_dirs(base: &Interpreter) -> Vec<PathBuf> {
    let v = &base.facts.python_version;
    let mut dirs = Vec::new();
    if let Some(prefix) = base.path.parent().and_then(Path::parent) {
        dirs.push(prefix.join(format!("lib/python{v}/ensurepip/_bundled")));
    }
    dirs.push(PathBuf::from(format!("/usr/lib/python{v}/ensurepip/_bundled")));
    dirs.push(PathBuf::from("/usr/share/python-wheels"));
    dirs
}

/// The newest `pip-*.whl` in `dir` (by version: `pip-24.0` after `pip-9.0`, which a text sort
/// gets wrong) that `ok` accepts.
fn newest(dir: &Path, ok: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let mut wheels: Vec<(pep440_rs::Version, PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_prefix("pip-")?.strip_suffix(".whl")?.split('-').next()?;
            Some((pep440_rs::Version::from_str(version).ok()?, e.path()))
        })
        .collect();
    wheels.sort();
    wheels.into_iter().rev().map(|(_, p)| p).find(|p| ok(p))
}

/// Whether a wheel's `METADATA` allows `base`: `Requires-Python` holds, and the Python
/// versions listed as classifiers (`Programming Language :: Python :: 3.11`), if any, include
/// the interpreter's.
fn supports(metadata: &str, base: &Interpreter) -> bool {
    let mut listed = Vec::new();
    // The headers end at the first empty line; the description follows.
    for line in metadata.lines().take_while(|l| !l.trim().is_empty()) {
        let Some((field, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match field {
            "Requires-Python" => match pep440_rs::VersionSpecifiers::from_str(value) {
                Ok(spec) if spec.contains(&base.version()) => {}
                _ => return false,
            },
            "Classifier" => {
                let version = value.strip_prefix("Programming Language :: Python :: ").unwrap_or_default();
                if version.contains('.') && version.split('.').all(|p| p.parse::<u64>().is_ok()) {
                    listed.push(version.to_string());
                }
            }
            _ => {}
        }
    }
    listed.is_empty() || listed.contains(&base.facts.python_version)
}

/// The text of the wheel's `<name>-<version>.dist-info/METADATA`.
fn metadata(wheel: &Path) -> Option<String> {
    let bytes = std::fs::read(wheel).ok()?;
    let wanted = |name: &str| name.strip_suffix(".dist-info/METADATA").is_some_and(|d| !d.contains('/'));
    String::from_utf8(zip_member(&bytes, wanted)?).ok()
}

/// The first member of the zip archive `bytes` whose name `wanted` accepts, stored or deflated
/// (what wheels use). Just enough of the format (APPNOTE 4.3) for a wheel's metadata: the end
/// record, the central directory, the member's local header.
fn zip_member(bytes: &[u8], wanted: impl Fn(&str) -> bool) -> Option<Vec<u8>> {
    let u16_at = |i: usize| Some(usize::from(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?)));
    let u32_at = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?) as usize);
    // The end of central directory record: 22 bytes, then a comment of up to 64 KiB.
    let last = bytes.len().checked_sub(22)?;
    let eocd = (last.saturating_sub(0xffff)..=last).rev().find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))?;
    let mut at = u32_at(eocd + 16)?;
    for _ in 0..u16_at(eocd + 10)? {
        if !bytes.get(at..)?.starts_with(b"PK\x01\x02") {
            return None;
        }
        let (method, size, local) = (u16_at(at + 10)?, u32_at(at + 20)?, u32_at(at + 42)?);
        let (name_len, extra_len, comment_len) = (u16_at(at + 28)?, u16_at(at + 30)?, u16_at(at + 32)?);
        let name = std::str::from_utf8(bytes.get(at + 46..at + 46 + name_len)?).ok()?;
        if wanted(name) {
            if !bytes.get(local..)?.starts_with(b"PK\x03\x04") {
                return None;
            }
            let start = local + 30 + u16_at(local + 26)? + u16_at(local + 28)?;
            let data = bytes.get(start..start + size)?;
            return match method {
                0 => Some(data.to_vec()),
                8 => {
                    let mut out = Vec::new();
                    flate2::read::DeflateDecoder::new(data).read_to_end(&mut out).ok()?;
                    Some(out)
                }
                _ => None,
            };
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interp(version: &str, dirs: Vec<PathBuf>) -> Interpreter {
        let facts = serde_json::from_value(serde_json::json!({
            "implementation_name": "cpython", "implementation_version": version, "os_name": "posix",
            "platform_machine": "x86_64", "platform_python_implementation": "CPython",
            "platform_release": "", "platform_system": "Linux", "platform_version": "",
            "python_full_version": version, "python_version": version[..4].to_string(),
            "sys_platform": "linux", "pip_wheel_dirs": [],
        }))
        .unwrap();
        let mut i = Interpreter { path: PathBuf::from("/nowhere/bin/python3"), facts };
        i.facts.pip_wheel_dirs = dirs;
        i
    }

    /// A wheel-shaped zip: deflated `METADATA` between two stored members.
    fn wheel(path: &Path, metadata: &str) {
        let mut zip = Vec::new();
        let mut central = Vec::new();
        let members: [(&str, Vec<u8>, u16); 3] = [
            ("pip/__init__.py", b"x = 1\n".to_vec(), 0),
            ("pip-1.dist-info/METADATA", deflate(metadata.as_bytes()), 8),
            ("pip-1.dist-info/RECORD", b"".to_vec(), 0),
        ];
        for (name, data, method) in members {
            let offset = zip.len() as u32;
            let local = |sig: &[u8]| {
                let mut h = sig.to_vec();
                h.extend_from_slice(&[20, 0, 0, 0]);
                h.extend_from_slice(&method.to_le_bytes());
                h.extend_from_slice(&[0; 8]); // time, date, crc (not checked here)
                h.extend_from_slice(&(data.len() as u32).to_le_bytes());
                h.extend_from_slice(&[0; 4]); // uncompressed size (not needed)
                h.extend_from_slice(&(name.len() as u16).to_le_bytes());
                h.extend_from_slice(&[0, 0]);
                h
            };
            zip.extend(local(b"PK\x03\x04"));
            zip.extend_from_slice(name.as_bytes());
            zip.extend_from_slice(&data);
            let mut c = b"PK\x01\x02\x14\x00".to_vec();
            c.extend_from_slice(&local(b"")[..26]);
            c.extend_from_slice(&[0; 10]); // comment length, disk, attributes
            c.extend_from_slice(&offset.to_le_bytes());
            c.extend_from_slice(name.as_bytes());
            central.extend(c);
        }
        let start = zip.len() as u32;
        zip.extend_from_slice(&central);
        zip.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        zip.extend_from_slice(&3u16.to_le_bytes());
        zip.extend_from_slice(&3u16.to_le_bytes());
        zip.extend_from_slice(&(central.len() as u32).to_le_bytes());
        zip.extend_from_slice(&start.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        std::fs::write(path, zip).unwrap();
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const UP_TO_311: &str = "Metadata-Version: 2.1\nName: pip\nVersion: 23.0.1\nClassifier: Programming Language :: Python :: 3\nClassifier: Programming Language :: Python :: 3.10\nClassifier: Programming Language :: Python :: 3.11\nRequires-Python: >=3.7\n\nPython :: 3.12 in the description does not count\n";

    #[test]
    fn a_wheels_metadata_is_read_from_the_zip() {
        let t = tempfile::tempdir().unwrap();
        let w = t.path().join("pip-23.0.1-py3-none-any.whl");
        wheel(&w, UP_TO_311);
        assert_eq!(metadata(&w).as_deref(), Some(UP_TO_311));
        std::fs::write(t.path().join("junk.whl"), b"not a zip").unwrap();
        assert_eq!(metadata(&t.path().join("junk.whl")), None);
    }

    #[test]
    fn a_foreign_wheel_must_list_the_interpreter_it_runs_on() {
        let none = Vec::new();
        assert!(supports(UP_TO_311, &interp("3.11.7", none.clone())));
        assert!(!supports(UP_TO_311, &interp("3.12.1", none.clone())), "pip 23.0.1 fails on 3.12");
        assert!(!supports("Requires-Python: >=3.8\n", &interp("3.7.16", none.clone())));
        assert!(supports("Requires-Python: >=3.8\n", &interp("3.13.0", none.clone())), "no classifiers: the range");
        assert!(!supports("Requires-Python: not a range\n", &interp("3.13.0", none)));
    }

    #[test]
    fn the_interpreters_own_wheel_comes_first_and_the_newest_there() {
        let t = tempfile::tempdir().unwrap();
        let own = t.path().join("_bundled");
        std::fs::create_dir(&own).unwrap();
        for v in ["9.0.1", "23.2.1"] {
            std::fs::write(own.join(format!("pip-{v}-py3-none-any.whl")), b"").unwrap();
        }
        std::fs::write(own.join("setuptools-65.5.0-py3-none-any.whl"), b"").unwrap();
        let found = bundled_pip(&interp("3.12.1", vec![t.path().join("missing"), own.clone()]));
        assert_eq!(found, Some(own.join("pip-23.2.1-py3-none-any.whl")), "its own, unchecked, newest by version");
    }
}
