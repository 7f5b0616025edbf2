//! Trust (SPEC §5): cove never installs from a manifest the user has not approved.
//!
//! A record is one file `$COVE_HOME/trust/<digest>`, where the digest is SHA-256 over the path
//! and content of every file of the checkout that decides what runs or is installed (the
//! manifest, every file it includes, the lock file and `.python-version`: see `manifest::load`):
//! editing any of them outside cove revokes trust for free. `trust/paths/<sha of path>` remembers
//! what was last trusted for a path (each file's digest and the requirements), so a refusal can
//! show which files and requirements changed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::digest::hex;
use crate::error::{Error, IoContext, Result};
use crate::manifest::Manifest;
use crate::settings::Settings;

fn store(settings: &Settings) -> PathBuf {
    settings.home_dir.join("trust")
}

fn path_record(settings: &Settings, manifest: &Path) -> PathBuf {
    let h = Sha256::digest(manifest.as_os_str().as_encoded_bytes());
    store(settings).join("paths").join(hex(&h[..16]))
}

/// Whether `manifest` may be built and used. The warm path: one stat.
pub fn is_trusted(manifest: &Manifest, settings: &Settings) -> bool {
    is_trusted_at(&manifest.path, &manifest.digest, settings)
}

/// [`is_trusted`], for the manifest at `path` whose files have the digest `digest`.
pub fn is_trusted_at(path: &Path, digest: &str, settings: &Settings) -> bool {
    record_at(path, digest, settings).is_none_or(|r| r.exists())
}

/// The file whose existence decides trust in `manifest` in its current content, or `None` when
/// the settings trust it whatever it holds (`trusted-dirs`, `COVE_TRUST_ALL`). The shell hook
/// keeps this path so that noticing `cove trust`/`cove untrust` costs one stat.
pub fn record(manifest: &Manifest, settings: &Settings) -> Option<PathBuf> {
    record_at(&manifest.path, &manifest.digest, settings)
}

fn record_at(path: &Path, digest: &str, settings: &Settings) -> Option<PathBuf> {
    if settings.trust_all || in_trusted_dir(path, settings) { None } else { Some(store(settings).join(digest)) }
}

/// Whether [`require`] passes without asking for the manifest at `path` with `digest`: the
/// settings trust it, or a trust store that is the user's records it. The warm path: the
/// store's two stats and the record's one.
pub fn allows(path: &Path, digest: &str, settings: &Settings) -> bool {
    settings.trust_all
        || in_trusted_dir(path, settings)
        || (check_store(settings).is_ok() && store(settings).join(digest).exists())
}

/// Whether `manifest` is trusted, asked while a plan is made (before an interpreter path the
/// project names may be probed): noted as an input, so a remembered plan is made again once
/// trust changes. A trust store others could write trusts nothing here (see [`require`]).
pub fn is_trusted_for_plan(manifest: &Manifest, settings: &Settings) -> bool {
    record(manifest, settings).is_none_or(|r| {
        crate::cache::check_private_dir(&store(settings), "COVE_HOME").is_ok() && crate::inputs::exists(&r)
    })
}

/// Whether `path` (a manifest or a script) lies beneath a `trusted-dirs` entry, both taken with
/// `..` and links resolved (SPEC §5): `trusted/../../elsewhere/x.py` is not beneath `trusted`.
/// Costs nothing without entries; an entry costs a realpath only when it does not match as
/// written (a canonical path can only start with an entry that has no link and no `..`).
fn in_trusted_dir(path: &Path, settings: &Settings) -> bool {
    if settings.trusted_dirs.is_empty() {
        return false;
    }
    let dotted = |p: &Path| p.components().any(|c| c == Component::ParentDir);
    let resolved = dotted(path).then(|| std::fs::canonicalize(path));
    let path = match &resolved {
        Some(Ok(p)) => p.as_path(),
        Some(Err(_)) => return false,
        None => path,
    };
    settings
        .trusted_dirs
        .iter()
        .any(|d| (!dotted(d) && path.starts_with(d)) || std::fs::canonicalize(d).is_ok_and(|c| path.starts_with(c)))
}

/// Refuse a trust store (or a `COVE_HOME` above it) that another user owns or others may
/// write: a record planted there would let a cloned repository build. Two stats.
pub fn check_store(settings: &Settings) -> Result<()> {
    crate::cache::check_home_dir(&settings.home_dir, "trust")
}

/// Record `manifest` as trusted in its current content.
pub fn trust(manifest: &Manifest, settings: &Settings) -> Result<()> {
    check_store(settings)?;
    let body = record_text(manifest);
    let old = std::fs::read_to_string(path_record(settings, &manifest.path)).ok();
    if let Some(old_digest) = old.as_deref().and_then(recorded_digest)
        && old_digest != manifest.digest
    {
        let _ = std::fs::remove_file(store(settings).join(old_digest));
    }
    crate::fsx::write_atomic(&store(settings).join(&manifest.digest), body.as_bytes())?;
    crate::fsx::write_atomic(&path_record(settings, &manifest.path), body.as_bytes())
}

/// Forget any trust in the manifest at `path`. Returns whether there was any.
pub fn untrust(path: &Path, digest: Option<&str>, settings: &Settings) -> Result<bool> {
    check_store(settings)?;
    let record = path_record(settings, path);
    let mut had = false;
    if let Ok(text) = std::fs::read_to_string(&record) {
        if let Some(d) = recorded_digest(&text) {
            let _ = std::fs::remove_file(store(settings).join(d));
        }
        std::fs::remove_file(&record).ctx("remove", &record)?;
        had = true;
    }
    if let Some(d) = digest {
        had |= std::fs::remove_file(store(settings).join(d)).is_ok();
    }
    Ok(had)
}

/// The digest a path record names (its second line), if it is one: a record written with a
/// newline in the path must not name a file to remove outside the store.
fn recorded_digest(text: &str) -> Option<&str> {
    text.lines().nth(1).filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A file line of a path record: `@file <sha256 of content> <path, escaped>`.
const FILE_LINE: &str = "@file ";

/// A path as a record line spells it: escaped, so that it is one line.
fn record_path_text(p: &Path) -> String {
    crate::ui::shown(p.display()).to_string()
}

/// The record: the path, the digest, each file it covers, the requirements.
fn record_text(manifest: &Manifest) -> String {
    let mut t = format!("{}\n{}\n", record_path_text(&manifest.path), manifest.digest);
    let line = |file: &PathBuf| Some(format!("{FILE_LINE}{} {}\n", file_digest(file)?, record_path_text(file)));
    t.extend(manifest.files.iter().filter_map(line));
    for r in &manifest.requirements {
        t.push_str(&r.canonical);
        t.push('\n');
    }
    t
}

fn file_digest(path: &Path) -> Option<String> {
    crate::fsx::read_manifest(path).ok().map(|bytes| crate::digest::sha256_hex(&bytes))
}

/// What changed since `manifest`'s path was last trusted: each file changed, added or removed
/// (`.python-version changed`), and the requirements `+added`, `-removed`, `~changed`.
pub fn changes(manifest: &Manifest, settings: &Settings) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path_record(settings, &manifest.path)) else { return Vec::new() };
    let body = text.lines().skip(2);
    let old_files: Vec<(&str, &str)> =
        body.clone().filter_map(|l| l.strip_prefix(FILE_LINE)?.split_once(' ')).map(|(h, p)| (p, h)).collect();
    let old: Vec<(String, String)> = body
        .filter(|l| !l.starts_with(FILE_LINE))
        .map(|l| (crate::manifest::edit::name_of(l), l.to_string()))
        .collect();
    let new: Vec<(String, String)> =
        manifest.requirements.iter().map(|r| (r.name.clone(), r.canonical.clone())).collect();
    let mut out = Vec::new();
    for (name, line) in &new {
        match old.iter().find(|(n, _)| n == name) {
            None => out.push(format!("+{line}")),
            Some((_, o)) if o != line => out.push(format!("~{o} → {line}")),
            _ => {}
        }
    }
    let removed = old.iter().filter(|(name, _)| !new.iter().any(|(n, _)| n == name));
    out.extend(removed.map(|(_, line)| format!("-{line}")));
    // Records written before files were listed know only the requirements.
    if !old_files.is_empty() {
        let shown = |p: &Path| p.strip_prefix(&manifest.dir).unwrap_or(p).display().to_string();
        // A changed requirement says its files changed; `.python-version` and the lock are said.
        let reqs_said = !out.is_empty();
        for file in &manifest.files {
            let was = old_files.iter().find(|(p, _)| *p == record_path_text(file)).map(|(_, h)| *h);
            let reqs_said = reqs_said && !crate::manifest::is_decisive_file(&manifest.dir, file);
            match (was, file_digest(file)) {
                (None, _) => out.push(format!("{} added", shown(file))),
                (Some(h), now) if now.as_deref() != Some(h) && !reqs_said => {
                    out.push(format!("{} changed", shown(file)))
                }
                _ => {}
            }
        }
        for (p, _) in &old_files {
            if !manifest.files.iter().any(|f| record_path_text(f) == *p) {
                out.push(format!("{} removed", shown(Path::new(p))));
            }
        }
    }
    if out.is_empty() {
        out.push("edited; requirements unchanged".into());
    }
    out
}

/// The command that trusts this manifest.
pub fn trust_command(manifest: &Manifest) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    if manifest.kind == crate::plan::project::Kind::Script || manifest.dir != cwd {
        format!("cove trust {}", shell_quote(&manifest.path))
    } else {
        "cove trust".into()
    }
}

fn shell_quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c)) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Whether [`require`] can ask: stderr is a terminal and there is one to read the answer from.
pub fn can_ask() -> bool {
    std::io::stderr().is_terminal() && std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
}

/// Fail unless `manifest` is trusted. On a terminal (`prompt`), ask first. A trust store that
/// others could write is refused ([`check_store`]).
pub fn require(manifest: &Manifest, settings: &Settings, prompt: bool) -> Result<()> {
    if allows(&manifest.path, &manifest.digest, settings) {
        return Ok(());
    }
    check_store(settings)?;
    let changes = changes(manifest, settings);
    let error = Error::Untrusted {
        manifest: manifest.path.clone(),
        changes: changes.clone(),
        trust_cmd: trust_command(manifest),
    };
    if !prompt || !std::io::stderr().is_terminal() {
        return Err(error);
    }
    let Ok(tty) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") else { return Err(error) };
    let asks: Vec<&str> = manifest.requirements.iter().map(|r| r.canonical.as_str()).collect();
    crate::ui::show_review(&crate::ui::trust_review(&manifest.path, &changes, &asks));
    let mut out = &tty;
    let _ = write!(out, "Trust and build? [y/N] ");
    let _ = out.flush();
    let mut answer = String::new();
    let _ = std::io::BufReader::new(&tty).read_line(&mut answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        trust(manifest, settings)
    } else {
        Err(Error::TrustDeclined { manifest: manifest.path.clone() })
    }
}

/// The trust records of one manifest path as they were, so a failed or interrupted edit can put
/// them back exactly (SPEC §5: an edit leaves trust as it found it unless it completes).
pub struct Snapshot {
    path_record: PathBuf,
    /// Each record file that may change, with its bytes then (`None`: it did not exist).
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
}

/// What the trust store holds for `manifest` (its path record, the record it names, and the
/// record of `digest`, the manifest's current content).
pub fn snapshot(manifest: &Path, digest: Option<&str>, settings: &Settings) -> Snapshot {
    let path_record = path_record(settings, manifest);
    let named = std::fs::read_to_string(&path_record).ok().and_then(|t| t.lines().nth(1).map(str::to_string));
    let mut files = vec![path_record.clone()];
    files.extend(named.iter().chain(digest.map(str::to_string).as_ref()).map(|d| store(settings).join(d)));
    files.dedup();
    let files = files.into_iter().map(|f| (f.clone(), std::fs::read(&f).ok())).collect();
    Snapshot { path_record, files }
}

impl Snapshot {
    /// Put the records back as they were: a record trusted since is removed.
    pub fn restore(&self, settings: &Settings) -> Result<()> {
        let now = std::fs::read_to_string(&self.path_record).ok().and_then(|t| t.lines().nth(1).map(str::to_string));
        if let Some(d) = now {
            let record = store(settings).join(d);
            if !self.files.iter().any(|(f, _)| *f == record) {
                let _ = std::fs::remove_file(&record);
            }
        }
        for (file, bytes) in &self.files {
            match bytes {
                Some(b) => crate::fsx::write_atomic(file, b)?,
                None => std::fs::remove_file(file).found("remove", file).map(|_| ())?,
            }
        }
        Ok(())
    }
}
