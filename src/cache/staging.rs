//! Build aside, then publish by rename (SPEC §3: no process ever runs a half-built environment).
//!
//! [`ensure`] is the one way an environment, a project layer or a pip seed is made: ready as it
//! is, nothing is done; else under the entry's lock (so any number of processes build it once,
//! the rest waiting) it is asked again, and only then built. Every build attempt makes its
//! folder of its own, `tmp/<name>.<pid>.<nanos>`, where `<name>` is the entry's lock name (the
//! key, `layer-<key>`, `seed-<name>`; see `cache`). Only when it is complete and sealed (info
//! file, ready marker, size listing: [`Staging::publish`]) is it renamed onto its place in
//! `envs/`, `layers/` or `seeds/`; if something is already there (a `--refresh`, or an
//! environment whose interpreter went away) the two are swapped in one
//! `renameat2(RENAME_EXCHANGE)`, so a process running the old environment never finds the path
//! missing or half-filled, and the old copy is deleted after. An attempt that fails, or is
//! killed, is never published.
//!
//! Why not build in place: `kill -9` of cove does not kill its installer. The orphaned `uv` or
//! `pip` goes on writing into the folder it was given; when that folder is the environment's
//! own, the next build removes it under the orphan's feet and the orphan writes into (or
//! re-creates) the new one — the next build failed with "A virtual environment already exists",
//! found by `tests/reliability.rs`. An attempt's own folder is never reused, so an orphan can
//! only spoil a folder nobody will publish. (Installers also get `PR_SET_PDEATHSIG`, see
//! `backend::Output::run`, so they rarely outlive cove at all.)
//!
//! A venv records its own path in its console scripts' `#!` lines and the `activate` scripts,
//! so before publishing, [`relocate`] rewrites the staging path to the final one in the text
//! files of `bin/` and in `pyvenv.cfg` (the staging path is always longer than the final one,
//! so a `#!` line the installer kept short enough for the kernel stays so). Installed modules
//! need nothing: Python fixes the source path of cached bytecode on import.
//!
//! uv remembers what it learns about an environment's interpreter (version, paths, tags) in its
//! cache, under the interpreter's path, so a folder it has never seen costs a Python start-up to
//! ask (45-100 ms, a third of a build from warm wheels). The uv backend therefore installs
//! through [`Staging::stable_path`]: `slots/slot-<i>-000…`, a symlink to the attempt's folder,
//! the same path from one build to the next. What uv learnt there last time holds for the new
//! folder (uv also keys it by the base interpreter's real path and checks that file's time;
//! the venv layout is cove's own, always the same), as when a project's `.venv` is made again
//! at the same path. A build takes the first slot whose lock (`locks/slot-<i>.lock`) is free,
//! and its installers inherit the lock: an installer orphaned by a killed cove holds its slot
//! until it exits, so it never writes through a link repointed at another attempt. The slot's
//! name is longer than any final path, for the `#!` reason above, and relocation rewrites it
//! too.
//!
//! A power loss can leave a published folder whose files never reached the disk (delayed
//! allocation leaves them short or empty). Rather than flush anything on a build (a flush waits
//! for the journal, and so for every other program's pending writes: from a fraction of a
//! millisecond to tens), each attempt records every file's size in `.cove-files` before it is
//! published, headed by their count; the first use after a reboot checks them (see
//! [`crate::cache::ready_at`]). That covers cove's own files too — the info file, the
//! rewritten scripts, the listing itself (short or empty, it no longer matches its count) — so
//! none of them is flushed either. Only the folder's names (journalled metadata, committed in
//! order) have to survive, and the ready marker is one of them.
//!
//! Leftovers — folders of attempts killed before they published — are removed by the next
//! build of the same name (it holds the lock, so no one else is using them) and by `cove gc`
//! (which takes each one's lock first, so it never removes an attempt in progress).

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::cache::{Bucket, Cache, Entry};
use crate::error::{IoContext, Result};

/// How [`ensure`] waits for an entry whose lock another process holds.
pub struct Wait<'a> {
    /// Who is waited for, said once ("environment 3fd6a4…"); worded only when the entry is
    /// not ready (the warm path formats nothing).
    pub what: &'a dyn Fn() -> String,
    pub quiet: bool,
    /// Take the lock even when the entry is ready, and hand it back held: the caller uses the
    /// entry under it (a seed is linked from under its lock, so gc never removes it midway).
    pub hold: bool,
}

/// What [`ensure`] did, with the entry's lock when it took it (held until dropped).
pub struct Ensured {
    pub built: bool,
    pub guard: Option<crate::cache::filelock::Guard>,
}

/// Proof that an attempt was published: what the build given to [`ensure`] returns.
pub struct Published(());

/// Make sure `entry` is there, complete and ready (SPEC §3), for environments, layers and seeds
/// alike. `ready` says whether the entry as it is will do (false to rebuild it). When it will
/// not: take the entry's lock (waiting for a build under way), ask `ready` again (that build may
/// have made it), and only then `build` it in a fresh attempt folder, which nothing but
/// [`Staging::publish`] makes visible. A build that fails or is killed leaves nothing that looks
/// ready; the next one starts over.
pub fn ensure(
    cache: &Cache,
    entry: &Entry,
    wait: &Wait,
    ready: impl Fn() -> bool,
    build: impl FnOnce(Staging) -> Result<Published>,
) -> Result<Ensured> {
    let ready_before = ready();
    if ready_before && !wait.hold {
        return Ok(Ensured { built: false, guard: None });
    }
    cache.prepare()?;
    // A ready entry's lock is held only while another build links from it: no need to say so.
    let guard = crate::cache::filelock::exclusive(&entry.lock(), &(wait.what)(), wait.quiet || ready_before)?;
    let built = !ready();
    if built {
        build(Staging::new(cache, entry)?)?;
    }
    Ok(Ensured { built, guard: Some(guard) })
}

/// One build attempt's folder; removed on drop unless published.
#[derive(Debug)]
pub struct Staging {
    pub dir: PathBuf,
    /// The entry's folder, and its info file's name.
    target: PathBuf,
    info_file: &'static str,
    published: bool,
    slot: Option<Slot>,
}

/// A slot taken for the attempt: the link to its folder and the slot's lock.
#[derive(Debug)]
struct Slot {
    link: PathBuf,
    lock: crate::cache::filelock::Guard,
}

/// How many slots a build tries before it goes without (one per build running at once).
const MAX_SLOTS: usize = 64;

/// Slot names are padded to this length, longer than `envs/<key>` and `layers/<key>` are past
/// `slots/`.
const SLOT_NAME_LEN: usize = 66;

impl Staging {
    /// A fresh folder name under `tmp/` for an attempt at `entry`, whose lock the caller holds
    /// (see [`ensure`]). Leftovers of earlier attempts at it are removed first. The folder
    /// itself is left for the backend to create.
    pub fn new(cache: &Cache, entry: &Entry) -> Result<Staging> {
        let name = entry.name();
        let tmp = Bucket::TMP.under(&cache.root);
        crate::fsx::create_private_dir(&tmp)?;
        for (path, of) in leftovers(cache) {
            if of == name {
                let _ = crate::fsx::remove_tree(&path);
            }
        }
        let dir = tmp.join(format!("{name}.{}.{}", std::process::id(), crate::fsx::nanos()));
        let (target, info_file) = (entry.dir().to_path_buf(), entry.kind().info_file());
        Ok(Staging { dir, target, info_file, published: false, slot: None })
    }

    /// A path for the attempt's folder that is the same from one build to the next, for an
    /// installer that remembers interpreters by path (see the module notes). The folder itself
    /// when no slot can be had (none free, a slot's path would be shorter than the entry's, or
    /// the link cannot be made): a slot only saves time.
    pub fn stable_path(&mut self, cache: &Cache) -> PathBuf {
        if self.slot.is_none() {
            self.slot = take_slot(cache, &self.dir, &self.target).unwrap_or(None);
        }
        self.slot.as_ref().map_or_else(|| self.dir.clone(), |s| s.link.clone())
    }

    /// The lock of the slot taken, for the installers to inherit.
    pub fn slot_lock(&self) -> Option<std::os::fd::RawFd> {
        self.slot.as_ref().map(|s| s.lock.fd())
    }

    /// Seal the finished folder and move it onto its entry (swapping out what is there): rewrite
    /// its paths, list its files' sizes and measure its disk usage in one walk, write the info
    /// file (made from the disk usage), the ready marker and the listing, then rename.
    pub fn publish<I: serde::Serialize>(self, info: impl FnOnce(crate::fsx::Usage) -> I) -> Result<Published> {
        let mut from = vec![self.dir.as_path()];
        from.extend(self.slot.as_ref().map(|s| s.link.as_path()));
        relocate(&self.dir, &from, &self.target)?;
        let mut listing = Listing::default();
        let root = self.dir.as_os_str().len() + 1;
        let usage = crate::fsx::disk_usage_with(&self.dir, |path, meta| {
            if meta.is_file() {
                // The root is a prefix of every path the walk gives.
                let rel = std::ffi::OsStr::from_bytes(&path.as_os_str().as_bytes()[root..]);
                listing.add(Path::new(rel), meta.len());
            }
        });
        self.seal(listing, info(usage))
    }

    /// [`Staging::publish`] for a folder whose maker listed its files (relative paths, sizes)
    /// and knows its usage, and which names no attempt path (an unpacked artifact): no walk.
    pub fn publish_listed<I: serde::Serialize>(
        self,
        files: &[(PathBuf, u64)],
        usage: crate::fsx::Usage,
        info: impl FnOnce(crate::fsx::Usage) -> I,
    ) -> Result<Published> {
        let mut listing = Listing::default();
        for (rel, size) in files {
            listing.add(rel, *size);
        }
        self.seal(listing, info(usage))
    }

    fn seal(mut self, mut listing: Listing, info: impl serde::Serialize) -> Result<Published> {
        let target = self.target.clone();
        // New files in a folder nothing reads before it is published: written directly.
        let write = |name: &str, bytes: &[u8]| {
            let path = self.dir.join(name);
            std::fs::write(&path, bytes).ctx("write", &path)
        };
        // Plain strings and numbers: nothing to fail.
        let info = serde_json::to_vec(&info).unwrap_or_default();
        write(self.info_file, &info)?;
        listing.add(Path::new(self.info_file), info.len() as u64);
        write(crate::cache::READY, b"")?;
        write(crate::cache::FILES, &listing.finish())?;
        if let Some(parent) = target.parent() {
            crate::fsx::create_private_dir(parent)?;
        }
        let displaced = swap_into_place(&self.dir, &target)?;
        self.published = true;
        if displaced {
            // The old copy now sits at the staging path; processes still running it keep the
            // files they have open.
            let _ = crate::fsx::remove_tree(&self.dir);
        }
        Ok(Published(()))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = crate::fsx::remove_tree(&self.dir);
        }
    }
}

/// Take the first free slot and point its link at `dir`; `None` when there is no free slot or
/// its path would be shorter than `target`.
fn take_slot(cache: &Cache, dir: &Path, target: &Path) -> Result<Option<Slot>> {
    let slots = Bucket::SLOTS.under(&cache.root);
    for i in 0..MAX_SLOTS {
        let name = format!("slot-{i}-");
        let link = slots.join(format!("{name:0<SLOT_NAME_LEN$}"));
        if link.as_os_str().len() < target.as_os_str().len() {
            return Ok(None);
        }
        let Some(lock) = crate::cache::filelock::try_exclusive(&cache.lock_path(&format!("slot-{i}")))? else {
            continue;
        };
        crate::fsx::create_private_dir(&slots)?;
        // Made aside and renamed over the old link, which a killed build may have left.
        let aside = slots.join(format!(".{name}{}", std::process::id()));
        let _ = std::fs::remove_file(&aside);
        std::os::unix::fs::symlink(dir, &aside).ctx("create link", &aside)?;
        std::fs::rename(&aside, &link).ctx("create link", &link)?;
        return Ok(Some(Slot { link, lock }));
    }
    Ok(None)
}

/// Every attempt folder under `tmp/`, with the lock name it belongs to.
pub fn leftovers(cache: &Cache) -> Vec<(PathBuf, String)> {
    std::fs::read_dir(Bucket::TMP.under(&cache.root))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.path(), attempt_of(&e.file_name().to_string_lossy())?.to_string())))
        .collect()
}

/// The lock name in an attempt folder's name, `<name>.<pid>.<nanos>` (or `<name>.<pid>.old`
/// while swapping): read from the right, since a seed's name has dots of its own
/// (`seed-pip-24.0-cpython3.12-…`).
fn attempt_of(folder: &str) -> Option<&str> {
    let mut parts = folder.rsplitn(3, '.');
    let (_, _, name) = (parts.next(), parts.next(), parts.next());
    name.or_else(|| folder.split('.').next()).filter(|n| !n.is_empty())
}

/// `.cove-files`, written when an attempt is sealed: one line per regular file, `size<TAB>path`
/// relative to the folder, so the first use after a reboot can tell a folder a power loss cut
/// short (cold path only, see [`crate::cache::ready_at`]); headed by `cove-files 2 <count>`, so a
/// listing cut short is told too. cove's own `.cove-*` files are left out (the use stamp changes;
/// the marker and the listing are checked by being there and whole).
#[derive(Default)]
struct Listing {
    lines: Vec<u8>,
    count: usize,
}

impl Listing {
    fn add(&mut self, rel: &Path, size: u64) {
        let name = rel.as_os_str().as_encoded_bytes();
        let own = rel.file_name().is_some_and(|n| n.as_encoded_bytes().starts_with(b".cove-"));
        // A name with a line break or a tab cannot be listed; it goes unchecked.
        if own || name.iter().any(|&b| b == b'\n' || b == b'\t') {
            return;
        }
        self.lines.extend_from_slice(format!("{size}\t").as_bytes());
        self.lines.extend_from_slice(name);
        self.lines.push(b'\n');
        self.count += 1;
    }

    fn finish(self) -> Vec<u8> {
        let mut text = format!("{} {}\n", crate::cache::FILES_HEADER, self.count).into_bytes();
        text.extend_from_slice(&self.lines);
        text
    }
}

/// Move `staged` onto `target`. Returns whether something was displaced (it is then at
/// `staged`).
fn swap_into_place(staged: &Path, target: &Path) -> Result<bool> {
    if std::fs::symlink_metadata(target).is_err() {
        match std::fs::rename(staged, target) {
            Ok(()) => return Ok(false),
            // Someone put it there since the look (only a legacy builder could); swap below.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTEMPTY | libc::EEXIST)) => {}
            Err(e) => return Err(crate::error::Error::io("move into place", target, e)),
        }
    }
    if exchange(staged, target).is_ok() {
        return Ok(true);
    }
    // No atomic exchange on this filesystem: move the old one aside first. A run starting in
    // between finds no environment and waits for the lock this builder holds.
    let aside = staged.with_extension("old");
    std::fs::rename(target, &aside).ctx("move aside", target)?;
    std::fs::rename(staged, target).ctx("move into place", target)?;
    std::fs::rename(&aside, staged).ctx("move aside", &aside)?;
    Ok(true)
}

/// Swap two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; the call reads them only.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Text files in `bin/` larger than this are not scripts; they are left alone.
const MAX_SCRIPT: u64 = 1 << 20;

/// In the venv at `dir`, replace each path in `from` (the staging path, the slot's) by `to` in
/// its `bin/` scripts and `pyvenv.cfg`. A file with other names (an installer may have
/// hard-linked it from its own cache) is replaced by rename, never written in place.
pub fn relocate(dir: &Path, from: &[&Path], to: &Path) -> Result<()> {
    // A path that is not UTF-8 cannot occur in the text files rewritten here.
    let old: Vec<&str> = from.iter().filter_map(|p| p.to_str()).filter(|p| !p.is_empty()).collect();
    let new = to.as_os_str().as_encoded_bytes();
    let bin = dir.join("bin");
    let files = std::fs::read_dir(&bin).into_iter().flatten().flatten().map(|e| e.path());
    for file in files.chain([dir.join("pyvenv.cfg")]) {
        let Ok(meta) = std::fs::symlink_metadata(&file) else { continue };
        if !meta.is_file() || meta.len() > MAX_SCRIPT {
            continue;
        }
        let bytes = std::fs::read(&file).ctx("read", &file)?;
        // Only text: a binary executable is not rewritten even if it holds the path.
        let Ok(text) = std::str::from_utf8(&bytes) else { continue };
        let Some(rewritten) = replace_all(text, &old, new) else { continue };
        if std::os::unix::fs::MetadataExt::nlink(&meta) == 1 {
            // Its only name, in a folder nothing reads before it is published: rewritten in
            // place, which spares making a new file (the slow part on a busy filesystem). Not
            // truncated to nothing first: on ext4 that makes the close start writing it out.
            let mut f = std::fs::OpenOptions::new().write(true).open(&file).ctx("write", &file)?;
            std::io::Write::write_all(&mut f, &rewritten).ctx("write", &file)?;
            f.set_len(rewritten.len() as u64).ctx("write", &file)?;
        } else {
            crate::fsx::write_atomic_unsynced(&file, &rewritten)?;
            std::fs::set_permissions(&file, meta.permissions()).ctx("set permissions of", &file)?;
        }
    }
    Ok(())
}

/// `text` with every occurrence of each of `old` replaced by `new`; `None` when there is none.
fn replace_all(text: &str, old: &[&str], new: &[u8]) -> Option<Vec<u8>> {
    let mut hits: Vec<(usize, usize)> =
        old.iter().flat_map(|o| text.match_indices(o).map(|(at, m)| (at, m.len()))).collect();
    if hits.is_empty() {
        return None;
    }
    hits.sort_unstable();
    let mut out = Vec::with_capacity(text.len());
    let mut done = 0;
    for (at, len) in hits {
        if at >= done {
            out.extend_from_slice(&text.as_bytes()[done..at]);
            out.extend_from_slice(new);
            done = at + len;
        }
    }
    out.extend_from_slice(&text.as_bytes()[done..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{EnvInfo, Kind, LayerInfo};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn relocate_rewrites_scripts_and_keeps_their_mode() {
        let t = tempfile::tempdir().unwrap();
        let from = t.path().join("tmp/abc.1.2");
        let to = t.path().join("envs/abc");
        std::fs::create_dir_all(from.join("bin")).unwrap();
        let script = from.join("bin/tool");
        std::fs::write(&script, format!("#!{}/bin/python\nimport x\n", from.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(from.join("bin/blob"), [0xff, 0xfe, 0x00]).unwrap();
        std::os::unix::fs::symlink("/usr/bin/python3", from.join("bin/python")).unwrap();
        // One hard-linked from an installer's cache: that copy must keep its content.
        let cached = t.path().join("cached-tool");
        std::fs::write(&cached, format!("#!{}/bin/python\n", from.display())).unwrap();
        std::fs::set_permissions(&cached, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::hard_link(&cached, from.join("bin/linked")).unwrap();
        relocate(&from, &[&from], &to).unwrap();
        assert_eq!(std::fs::read_to_string(&script).unwrap(), format!("#!{}/bin/python\nimport x\n", to.display()));
        assert_eq!(std::fs::metadata(&script).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(std::fs::read_link(from.join("bin/python")).unwrap(), Path::new("/usr/bin/python3"));
        assert_eq!(
            std::fs::read_to_string(from.join("bin/linked")).unwrap(),
            format!("#!{}/bin/python\n", to.display())
        );
        assert_eq!(std::fs::metadata(from.join("bin/linked")).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(std::fs::read_to_string(&cached).unwrap(), format!("#!{}/bin/python\n", from.display()));
    }

    #[test]
    fn replace_all_replaces_every_path_given() {
        let text = "#!/c/tmp/k.1.2/bin/python\nexec '/c/slots/s-0/bin/python' \"$0\"\n/c/tmp/k.1.2/c/slots/s-0";
        let out = replace_all(text, &["/c/tmp/k.1.2", "/c/slots/s-0"], b"/c/envs/k").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#!/c/envs/k/bin/python\nexec '/c/envs/k/bin/python' \"$0\"\n/c/envs/k/c/envs/k"
        );
        assert_eq!(replace_all("nothing here", &["/c/tmp/k.1.2"], b"/c/envs/k"), None);
    }

    #[test]
    fn publish_swaps_out_what_is_there_and_drop_cleans_up() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let entry = cache.entry(Kind::Env, "k");
        let target = entry.dir();
        std::fs::create_dir_all(target).unwrap();
        std::fs::write(target.join("old"), "").unwrap();
        let s = Staging::new(&cache, &entry).unwrap();
        std::fs::create_dir_all(&s.dir).unwrap();
        std::fs::write(s.dir.join("new"), "").unwrap();
        s.publish(|usage| EnvInfo { size: Some(usage.size), ..Default::default() }).unwrap();
        assert!(target.join("new").exists() && !target.join("old").exists());
        assert!(entry.is_ready(), "sealed: ready marker written");
        let size = entry.info::<EnvInfo>().unwrap().size.unwrap();
        assert!(size > 0, "the info is made from the disk usage");
        let listing = std::fs::read_to_string(target.join(crate::cache::FILES)).unwrap();
        let info_len = std::fs::metadata(target.join("cove-env.json")).unwrap().len();
        assert_eq!(listing, format!("{} 2\n0\tnew\n{info_len}\tcove-env.json\n", crate::cache::FILES_HEADER));
        assert!(leftovers(&cache).is_empty());

        let s = Staging::new(&cache, &entry).unwrap();
        std::fs::create_dir_all(&s.dir).unwrap();
        let dir = s.dir.clone();
        drop(s);
        assert!(!dir.exists(), "an attempt that does not publish leaves nothing");
    }

    #[test]
    fn ensure_builds_what_is_not_ready_once_and_a_failed_build_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let entry = cache.entry(Kind::Layer, "k");
        let wait = Wait { what: &|| "the layer k".into(), quiet: true, hold: false };
        let fail = |s: Staging| {
            std::fs::create_dir_all(s.dir.join("bin")).unwrap();
            Err(crate::error::Error::io("write", &s.dir, std::io::ErrorKind::Other.into()))
        };
        assert!(ensure(&cache, &entry, &wait, || entry.is_ready(), fail).is_err());
        assert!(!entry.dir().exists() && leftovers(&cache).is_empty(), "a failed build leaves nothing");
        let build = |s: Staging| {
            std::fs::create_dir_all(&s.dir).unwrap();
            s.publish(|_| LayerInfo { env: "e".into(), project: "/p".into(), installs: vec![], relocation: None })
        };
        let done = ensure(&cache, &entry, &wait, || entry.is_ready(), build).unwrap();
        assert!(done.built && done.guard.is_some() && entry.is_ready());
        assert_eq!(entry.info::<LayerInfo>().unwrap().env, "e");
        drop(done);
        let again = ensure(&cache, &entry, &wait, || entry.is_ready(), |_| unreachable!()).unwrap();
        assert!(!again.built && again.guard.is_none(), "ready: no lock, no build");
        let held = Wait { hold: true, ..wait };
        let again = ensure(&cache, &entry, &held, || entry.is_ready(), |_| unreachable!()).unwrap();
        assert!(!again.built && again.guard.is_some(), "held for its use");
        assert!(crate::cache::filelock::is_held(&entry.lock()) && entry.lock().ends_with("locks/layer-k.lock"));
    }

    #[test]
    fn builds_at_once_take_slots_of_their_own_and_publish_rewrites_the_slot_path() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let (ea, eb) = (cache.entry(Kind::Env, &"a".repeat(64)), cache.entry(Kind::Env, &"b".repeat(64)));
        let ta = ea.dir().to_path_buf();
        let mut a = Staging::new(&cache, &ea).unwrap();
        let mut b = Staging::new(&cache, &eb).unwrap();
        let (sa, sb) = (a.stable_path(&cache), b.stable_path(&cache));
        assert_ne!(sa, sb);
        assert!(sa.as_os_str().len() >= ta.as_os_str().len(), "as long as the final path, for #! lines");
        assert_eq!(std::fs::read_link(&sa).unwrap(), a.dir);
        assert_eq!(a.stable_path(&cache), sa, "one slot per attempt");
        std::fs::create_dir_all(a.dir.join("bin")).unwrap();
        std::fs::write(a.dir.join("bin/tool"), format!("#!{}/bin/python\n", sa.display())).unwrap();
        a.publish(|_| EnvInfo::default()).unwrap();
        assert_eq!(std::fs::read_to_string(ta.join("bin/tool")).unwrap(), format!("#!{}/bin/python\n", ta.display()));
        assert!(std::fs::metadata(&sa).is_err(), "the link is left dangling, for the slot's next build to repoint");
        let mut c = Staging::new(&cache, &cache.entry(Kind::Env, "c")).unwrap();
        assert_eq!(c.stable_path(&cache), sa, "a slot is free again once its build is done");
        drop(b);
        let mut d = Staging::new(&cache, &cache.entry(Kind::Env, &"x".repeat(200))).unwrap();
        assert_eq!(d.stable_path(&cache), d.dir, "no slot when its path would be shorter");
        assert_eq!(d.slot_lock(), None);
    }

    #[test]
    fn attempt_folders_name_their_lock_even_with_dots() {
        assert_eq!(attempt_of("3fd6a4.12.1700000000"), Some("3fd6a4"));
        assert_eq!(attempt_of("seed-pip-24.0-cpython3.12-abc.12.1700000000"), Some("seed-pip-24.0-cpython3.12-abc"));
        assert_eq!(attempt_of("3fd6a4.12.old"), Some("3fd6a4"));
        assert_eq!(attempt_of("stray"), Some("stray"));
        assert_eq!(attempt_of(".hidden"), None);
    }

    #[test]
    fn a_new_attempt_removes_leftovers_of_its_own_name_only() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path());
        let tmp = Bucket::TMP.under(&cache.root);
        std::fs::create_dir_all(tmp.join("k.1.1/bin")).unwrap();
        std::fs::create_dir_all(tmp.join("other.1.1")).unwrap();
        let _s = Staging::new(&cache, &cache.entry(Kind::Env, "k")).unwrap();
        let left: Vec<String> = leftovers(&cache).into_iter().map(|(_, n)| n).collect();
        assert_eq!(left, vec!["other".to_string()]);
    }
}
