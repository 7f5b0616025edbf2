//! pip's seed: pip installed once per interpreter and pip wheel under `seeds/`, then linked into
//! every venv the pip backend makes (issue 9: a build on a miss in ≤ 0.6× of `python -m venv` +
//! pip).
//!
//! Installing pip itself was most of a pip-backend build: ~1,000 files unpacked from the wheel
//! and byte-compiled, every time. Now the first build on an interpreter makes a seed — a venv
//! holding only pip, installed from the interpreter's bundled wheel the way ensurepip installs
//! it — and every build hard-links the seed's site-packages into its new venv (copying when the
//! filesystem cannot link), writes `bin/pip`, `bin/pip3` and `bin/pipX.Y` for the venv's own
//! python, and then runs that pip for the requirements only.
//!
//! ```text
//! seeds/<name>/                a venv with pip; <name> = pip-<version>-<impl><X.Y>-<digest>
//! seeds/<name>/.cove-ready     written last, before the rename that publishes the seed
//! seeds/<name>/cove-seed.json  the interpreter and wheel it was made from (for `cove gc`)
//! locks/seed-<name>.lock       held while the seed is made, linked from, or removed
//! tmp/seed-<name>.<pid>.<ns>/  an attempt at making it (see `staging`)
//! ```
//!
//! Invariants:
//! - A seed is made aside and published by rename, under its lock, like an environment
//!   (`staging::ensure`): a seed build killed at any moment leaves an attempt folder, never a
//!   seed, and the next build removes it and starts over. Readiness is [`crate::cache::ready_at`] (the
//!   marker; after a reboot, also the sizes recorded at publish), so a seed a power loss cut
//!   short is made again rather than linked.
//! - `<digest>` covers the interpreter's real path, its file's [`Stamp`](crate::stamp::Stamp)
//!   and exact version, and the wheel's path and stamp: the bytecode, the site-packages layout
//!   and the `pipX.Y` script name all follow from those, and an interpreter upgraded in place
//!   gets a seed of its own, never the one made for what was there before. The wheel is the
//!   interpreter's own (see `pip_wheel`).
//! - A hard link is safe because nothing writes into an installed file in place: pip replaces a
//!   file by unlinking it first (`ZipBackedFile.save`), uninstalls by moving files away, and
//!   Python writes bytecode through a temp file and a rename. The seed's `__pycache__` files are
//!   linked along with the sources (same inode, so same mtime), so importing pip in an
//!   environment finds its bytecode current and writes nothing. A copy keeps each file's mtime
//!   for the same reason. (Someone editing one of pip's files in place inside an environment
//!   would change it in every environment linked to the seed, as with uv's linked installs.)
//! - Linking happens under the seed's lock, so `cove gc` never removes a seed mid-link; an
//!   environment keeps its links when the seed is later removed.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::installer::Output;
use crate::cache::staging::{Published, Staging, Wait};
use crate::cache::{self, Bucket, Cache, Entry, Kind, SeedInfo};
use crate::error::{Error, IoContext, Result};
use crate::plan::interpreter::Interpreter;

/// The seed's folder name for `base` and its pip `wheel`.
pub fn name(base: &Interpreter, wheel: &Path) -> String {
    let text = format!(
        "cove-seed-v2\npython: {} {} {}\nwheel: {}\n",
        base.facts.implementation_name,
        base.facts.python_full_version,
        crate::fsx::path_text(&base.path),
        crate::fsx::path_text(wheel),
    );
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    // The interpreter's file as well as its version: a binary replaced in place is another
    // interpreter, whatever it reports (issue 18, finding 8).
    crate::stamp::hash(&mut h, crate::stamp::Stamp::at(&base.path));
    crate::stamp::hash(&mut h, crate::stamp::Stamp::at(wheel));
    let digest = crate::digest::hex(&h.finalize());
    format!(
        "pip-{}-{}{}-{}",
        wheel_version(wheel).unwrap_or("unknown"),
        base.facts.implementation_name,
        base.facts.python_version,
        &digest[..12]
    )
}

/// `23.2.1` from `…/pip-23.2.1-py3-none-any.whl`.
fn wheel_version(wheel: &Path) -> Option<&str> {
    let name = wheel.file_name()?.to_str()?;
    name.strip_prefix("pip-")?.split('-').next().filter(|v| !v.is_empty())
}

/// Give the venv at `env` (made with `--without-pip` on `base`) pip from the seed for `wheel`:
/// make the seed first if there is none, link its site-packages in, write pip's scripts.
/// Installer output goes to `out`.
pub fn install(cache: &Cache, quiet: bool, base: &Interpreter, wheel: &Path, env: &Path, out: &Output) -> Result<()> {
    // A seed is code linked into every pip-backend venv: only from a folder that is the user's.
    let seeds = Bucket::SEEDS.under(&cache.root);
    cache::check_private_dir(&seeds, "COVE_CACHE_DIR")?;
    let seed = cache.entry(Kind::Seed, &name(base, wheel));
    // Linked from under its lock, so gc never removes it midway (making one takes seconds, and
    // the wait for that is said; a link takes milliseconds, and is waited for in silence).
    let what = || format!("pip's seed for {}", base.describe());
    let wait = Wait { what: &what, quiet, hold: true };
    let _held = crate::cache::staging::ensure(
        cache,
        &seed,
        &wait,
        || seed.is_ready(),
        |staging| {
            crate::fsx::create_private_dir(&seeds)?;
            cache::check_private_dir(&seeds, "COVE_CACHE_DIR")?;
            make(base, wheel, staging, seed.dir(), out)
        },
    )?;
    let dir = seed.dir();
    let linked = link_site_packages(dir, env)?;
    write_scripts(dir, env)?;
    let how = if linked.copied == 0 { "linked" } else { "copied (this filesystem cannot link)" };
    let note = format!("cove: pip {how} from the seed {} ({} files)\n", dir.display(), linked.files);
    // Best effort: the log is for people.
    if let Ok(mut log) = std::fs::OpenOptions::new().create(true).append(true).open(&out.log) {
        let _ = std::io::Write::write_all(&mut log, note.as_bytes());
    }
    Ok(())
}

/// Make the seed in `staging` (its lock held), to be published at `target`: a venv, then pip installed into it from `wheel`
/// the way ensurepip does it (no index, the wheel's folder as the only source, pip's own
/// settings and environment variables ignored), then published by rename.
fn make(base: &Interpreter, wheel: &Path, staging: Staging, target: &Path, out: &Output) -> Result<Published> {
    let seed = &staging.dir;
    let out = &out.showing(seed, target);
    let what = format!("pip (the seed for {})", base.describe());
    let mut venv = crate::isolated::python(&base.path);
    venv.args(["-m", "venv", "--without-pip"]).arg(seed);
    out.run(venv, &what)?;

    let mut pip = crate::isolated::python(&crate::cache::env_python(seed));
    pip.arg(wheel.join("pip"));
    pip.args(["install", "--isolated", "--no-cache-dir", "--disable-pip-version-check", "--no-warn-script-location"]);
    if let (Some(folder), Some(version)) = (wheel.parent(), wheel_version(wheel)) {
        pip.args(["--no-index", "--find-links"]).arg(folder).arg(format!("pip=={version}"));
    } else {
        pip.arg(wheel);
    }
    // Timestamp-checked bytecode (what the links rely on) and the usual three scripts.
    for var in ["SOURCE_DATE_EPOCH", "PYTHONDONTWRITEBYTECODE", "ENSUREPIP_OPTIONS"] {
        pip.env_remove(var);
    }
    out.run(pip, &what)?;

    site_packages(seed)?;
    staging.publish(|_| SeedInfo {
        python: crate::fsx::lossy(&base.path),
        python_version: base.facts.python_full_version.clone(),
        wheel: crate::fsx::lossy(wheel),
    })
}

/// The site-packages folder of the venv at `venv` (`lib/python3.12/site-packages`,
/// `lib/python3.13t/site-packages`, …).
pub fn site_packages(venv: &Path) -> Result<PathBuf> {
    let lib = venv.join("lib");
    std::fs::read_dir(&lib)
        .ctx("read", &lib)?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .ok_or_else(|| Error::NoSitePackages { venv: venv.to_path_buf() })
}

/// How many files a link step placed, and how many of those it had to copy.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Linked {
    pub files: usize,
    pub copied: usize,
}

/// Put everything in the seed's site-packages into the env's.
fn link_site_packages(seed: &Path, env: &Path) -> Result<Linked> {
    let (from, to) = (site_packages(seed)?, site_packages(env)?);
    let mut linked = Linked::default();
    link_tree(&from, &to, &mut true, &mut linked)?;
    Ok(linked)
}

/// Recreate the tree under `from` at `to` (which exists): folders made anew, files hard-linked
/// while `links` holds, else copied with their mtime. The first link the filesystem refuses
/// turns links off for the rest; a file with too many links is copied on its own.
pub fn link_tree(from: &Path, to: &Path, links: &mut bool, linked: &mut Linked) -> Result<()> {
    for entry in std::fs::read_dir(from).ctx("read", from)? {
        let entry = entry.ctx("read", from)?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().ctx("read", &src)?;
        if kind.is_dir() {
            std::fs::create_dir(&dst).ctx("create folder", &dst)?;
            link_tree(&src, &dst, links, linked)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src).ctx("read", &src)?;
            std::os::unix::fs::symlink(target, &dst).ctx("create link", &dst)?;
        } else {
            linked.files += 1;
            if *links {
                match std::fs::hard_link(&src, &dst) {
                    Ok(()) => continue,
                    Err(e) if e.raw_os_error() == Some(libc::EMLINK) => {}
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::EXDEV | libc::EPERM | libc::EACCES | libc::ENOTSUP | libc::ENOSYS)
                        ) =>
                    {
                        *links = false;
                    }
                    Err(e) => return Err(Error::io("link", &dst, e)),
                }
            }
            copy_keeping_mtime(&src, &dst)?;
            linked.copied += 1;
        }
    }
    Ok(())
}

/// Copy a file with its permissions and mtime (bytecode checks the source's mtime).
fn copy_keeping_mtime(src: &Path, dst: &Path) -> Result<()> {
    std::fs::copy(src, dst).ctx("copy", dst)?;
    let mtime = std::fs::metadata(src).and_then(|m| m.modified()).ctx("read", src)?;
    let file = std::fs::File::options().write(true).open(dst).ctx("write", dst)?;
    file.set_modified(mtime).ctx("write", dst)
}

/// Write the env's `bin/pip*` scripts: the seed's own (pip makes `pip`, `pip3`, `pipX.Y`), each
/// with its first line pointing at the env's python. The env is still at its attempt path;
/// `staging::relocate` rewrites that path when the env is published.
fn write_scripts(seed: &Path, env: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let python = crate::cache::env_python(env);
    let bin = seed.join("bin");
    for entry in std::fs::read_dir(&bin).ctx("read", &bin)?.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("pip") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let Some(body) = script_body(&text) else { continue };
        let target = env.join("bin").join(entry.file_name());
        let mut script = shebang(&python);
        script.extend_from_slice(body.as_bytes());
        std::fs::write(&target, script).ctx("write", &target)?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).ctx("set permissions of", &target)?;
    }
    Ok(())
}

/// A console script without its interpreter line(s): after `#!python`, or after pip's `/bin/sh`
/// trampoline for long paths.
fn script_body(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix("#!/bin/sh\n'''exec' ") {
        let end = rest.find("\n' '''\n")?;
        return Some(&rest[end + "\n' '''\n".len()..]);
    }
    let rest = text.strip_prefix("#!")?;
    Some(&rest[rest.find('\n')? + 1..])
}

/// The interpreter line(s) for `python`, by pip's rule (distlib's `_build_shebang`): `#!path`
/// when it fits the kernel's 127 bytes and has no space, else a `/bin/sh` trampoline.
fn shebang(python: &Path) -> Vec<u8> {
    let path = python.as_os_str().as_encoded_bytes();
    if path.len() + 3 <= 127 && !path.contains(&b' ') {
        return [b"#!", path, b"\n"].concat();
    }
    [b"#!/bin/sh\n'''exec' \"", path, b"\" \"$0\" \"$@\"\n' '''\n"].concat()
}

/// Why `cove gc` should remove the seed `seed`, or `None` to keep it. A seed is kept while a
/// build could use it: its interpreter is there and, asked today, would get this very seed (same
/// interpreter file, same version, same pip wheel). Python is started only for an interpreter whose facts are
/// not cached.
pub fn stale(cache: &Cache, seed: &Entry) -> Option<&'static str> {
    if !seed.has_marker() {
        return Some("unfinished pip seed");
    }
    let Some(info) = seed.info::<SeedInfo>() else { return Some("pip seed of an unknown interpreter") };
    let Ok(interp) = crate::plan::interpreter::inspect(&cache.root, Path::new(&info.python)) else {
        return Some("pip seed whose interpreter is gone");
    };
    match super::pip_wheel::bundled_pip(&interp) {
        Some(wheel) if name(&interp, &wheel) == seed.key() => None,
        _ => Some("pip seed its interpreter no longer uses"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn scripts_keep_their_body_under_a_new_interpreter_line() {
        let body = "# -*- coding: utf-8 -*-\nimport sys\nfrom pip._internal.cli.main import main\n";
        assert_eq!(script_body(&format!("#!/c/tmp/k.1.2/bin/python\n{body}")), Some(body));
        let trampoline = format!("#!/bin/sh\n'''exec' \"/a b/bin/python\" \"$0\" \"$@\"\n' '''\n{body}");
        assert_eq!(script_body(&trampoline), Some(body));
        assert_eq!(script_body("no interpreter line"), None);

        assert_eq!(shebang(Path::new("/c/envs/k/bin/python")), b"#!/c/envs/k/bin/python\n");
        let spaced = String::from_utf8(shebang(Path::new("/a b/bin/python"))).unwrap();
        assert_eq!(spaced, "#!/bin/sh\n'''exec' \"/a b/bin/python\" \"$0\" \"$@\"\n' '''\n");
        let long = format!("/{}/bin/python", "x".repeat(120));
        assert!(shebang(Path::new(&long)).starts_with(b"#!/bin/sh\n"), "over 127 bytes: the trampoline");
        assert_eq!(
            script_body(std::str::from_utf8(&[shebang(Path::new(&long)), body.into()].concat()).unwrap()),
            Some(body)
        );
    }

    #[test]
    fn a_tree_is_linked_or_copied_with_its_mtimes() {
        let t = tempfile::tempdir().unwrap();
        let from = t.path().join("from");
        std::fs::create_dir_all(from.join("pip/__pycache__")).unwrap();
        std::fs::write(from.join("pip/__init__.py"), "x = 1\n").unwrap();
        std::fs::write(from.join("pip/__pycache__/__init__.cpython-312.pyc"), b"\x00pyc").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::options().write(true).open(from.join("pip/__init__.py")).unwrap().set_modified(old).unwrap();
        for links in [true, false] {
            let to = t.path().join(format!("to-{links}"));
            std::fs::create_dir(&to).unwrap();
            let (mut on, mut linked) = (links, Linked::default());
            link_tree(&from, &to, &mut on, &mut linked).unwrap();
            assert_eq!(linked, Linked { files: 2, copied: if links { 0 } else { 2 } });
            let (a, b) = (from.join("pip/__init__.py"), to.join("pip/__init__.py"));
            let (ma, mb) = (std::fs::metadata(&a).unwrap(), std::fs::metadata(&b).unwrap());
            assert_eq!(ma.ino() == mb.ino(), links, "linked, or a copy of its own");
            assert_eq!(mb.modified().unwrap(), old, "the source's mtime is kept, so its bytecode stays current");
            assert_eq!(std::fs::read(to.join("pip/__pycache__/__init__.cpython-312.pyc")).unwrap(), b"\x00pyc");
        }
    }

    #[test]
    fn the_version_comes_from_the_wheel_name() {
        assert_eq!(wheel_version(Path::new("/x/pip-23.2.1-py3-none-any.whl")), Some("23.2.1"));
        assert_eq!(wheel_version(Path::new("/x/setuptools-1-py3-none-any.whl")), None);
    }
}
