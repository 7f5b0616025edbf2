//! The artifact: one environment as a zstd-compressed tar, path-neutral and reproducible.
//!
//! Written as zstd (level 9), read as zstd or gzip (what cove wrote before), as the layer's
//! media type says ([`Codec`]). The tar is cut into zstd frames of about [`FRAME`] bytes, each
//! ending at an entry's edge and compressed on its own (two at a time, so a push uses both
//! cores; the bytes do not depend on the machine). Any zstd reader reads the frames as one
//! stream. Unpacking uses them: the calling thread downloads (and digests) the stream and hands
//! on each whole frame; four workers each take the next frame, decompress it whole into memory
//! they keep, and make its folders and files from there, so the decompressing and the kernel's
//! work of making files are shared by the cores (an artifact of one frame, or gzip'd, is
//! unpacked by one worker, as a stream). Links are made last, once no entry is beneath one, so
//! no file is written through a link. Nothing is synced per file (the attempt folder is sealed
//! and renamed into place by `staging`, as a local build is), and what was made is listed for
//! the seal.
//!
//! Packing walks the published environment in name order and writes each directory, file and
//! link with a fixed mtime, uid/gid 0 and no user names, so equal environments give equal bytes
//! (and so equal digests). Left out: cove's own files (`.cove-*`, `cove-env.json`, which the
//! puller writes anew) and bytecode (`__pycache__/`, `*.pyc`): Python writes it again on first
//! import, and it would name the pusher's paths.
//!
//! A venv names its own folder in text files (the `#!` lines of its scripts, `bin/activate*`,
//! `pyvenv.cfg` when the installer wrote the venv's path there, `RECORD` and `.pth` files, …).
//! Every text file holding the environment's path gets it replaced by [`PLACEHOLDER`] and is
//! listed in [`RELOCATE`]; so is a link whose target names it. Unpacking writes the files
//! under an attempt folder and puts the new environment's final path in place of the
//! placeholder in exactly those, so no file of a pulled environment names the pushing machine's
//! paths. The base interpreter's path is in the key, so it is the same on both machines.

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use sha2::Digest;

/// What stands for the environment's own path in the artifact.
pub const PLACEHOLDER: &str = "/__cove_environment_path__";
/// The artifact's list of the files (and links) that hold [`PLACEHOLDER`], one per line.
pub const RELOCATE: &str = ".cove-relocate";
/// Files rewritten are text files up to this size; larger ones are data.
const MAX_TEXT: u64 = 8 << 20;
/// Every entry's mtime (1980-01-01, the zip epoch: some tools dislike 0).
const MTIME: u64 = 315_532_800;
/// zstd's level for packing. Decompressing is as fast at any level, and a push is once per
/// team where pulls are many: level 9 sends 15% less than level 3 (a numpy + pandas environment:
/// 25.7 against 30.1 MB) for about twice a push's compressing time.
const ZSTD_LEVEL: i32 = 9;
/// The tar bytes in each zstd frame, at least (a frame ends at the first entry edge past it).
const FRAME: usize = 4 << 20;
/// Workers unpacking frames side by side, and whole frames downloaded ahead of them. More
/// workers than cores: one waiting for the disk (the kernel reading a block of the inode table
/// to make a file) leaves its core to another; on 2 cores, 4 pull 6–9% faster than 2, 6 no
/// faster than 4.
const WORKERS: usize = 4;
const QUEUE: usize = 4;
/// The download is read, and a file's bytes written, this much at a time.
const CHUNK: usize = 1 << 20;

/// How an artifact's tar is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Zstd,
    /// What cove wrote before; still read.
    Gzip,
}

/// What packing made.
#[derive(Debug, Clone)]
pub struct Packed {
    /// `sha256:<hex>` of the compressed bytes.
    pub digest: String,
    pub size: u64,
    /// The files' bytes before compression.
    pub content_size: u64,
}

/// Pack the environment at `env` into `out`.
pub fn pack(env: &Path, out: &Path) -> std::io::Result<Packed> {
    let file = std::fs::File::create(out)?;
    let hashing = super::store::Hashing::new(std::io::BufWriter::new(file));
    let mut tar = tar::Builder::new(Frames { out: hashing, current: Vec::new(), full: None });
    tar.mode(tar::HeaderMode::Deterministic);
    let needle = env.as_os_str().as_bytes().to_vec();
    let mut relocate = Vec::new();
    let mut content_size = 0;
    let mut entries = Vec::new();
    walk(env, Path::new(""), &mut entries)?;
    for rel in entries {
        let path = env.join(&rel);
        let meta = std::fs::symlink_metadata(&path)?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            let bytes = target.as_os_str().as_bytes();
            let target = match find(bytes, &needle) {
                Some(_) => {
                    relocate.push(rel.clone());
                    PathBuf::from(std::ffi::OsStr::from_bytes(&crate::fsx::replace_bytes(
                        bytes,
                        &needle,
                        PLACEHOLDER.as_bytes(),
                    )))
                }
                None => target,
            };
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, &rel, &target)?;
        } else if meta.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            tar.append_data(&mut header, &rel, std::io::empty())?;
        } else if meta.is_file() {
            let mut bytes = std::fs::read(&path)?;
            if meta.len() <= MAX_TEXT && find(&bytes, &needle).is_some() && std::str::from_utf8(&bytes).is_ok() {
                bytes = crate::fsx::replace_bytes(&bytes, &needle, PLACEHOLDER.as_bytes());
                relocate.push(rel.clone());
            }
            content_size += bytes.len() as u64;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if meta.mode() & 0o111 != 0 { 0o755 } else { 0o644 });
            header.set_size(bytes.len() as u64);
            tar.append_data(&mut header, &rel, bytes.as_slice())?;
        }
        tar.get_mut().cut()?;
    }
    let mut list = Vec::new();
    for rel in &relocate {
        list.extend_from_slice(rel.as_os_str().as_bytes());
        list.push(b'\n');
    }
    let mut header = tar::Header::new_gnu();
    header.set_mtime(MTIME);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(list.len() as u64);
    tar.append_data(&mut header, RELOCATE, list.as_slice())?;
    let mut hashing = tar.into_inner()?.finish()?;
    hashing.inner.flush()?;
    let digest = format!("sha256:{}", crate::digest::hex(&hashing.hash.finalize()));
    Ok(Packed { digest, size: hashing.len, content_size })
}

/// The packed tar as zstd frames: each frame whole entries of at least [`FRAME`] bytes (but the
/// last), compressed on its own.
struct Frames<W: Write> {
    out: W,
    /// The tar bytes of the frame being filled.
    current: Vec<u8>,
    /// A full frame waiting for the next, to be compressed beside it.
    full: Option<Vec<u8>>,
}

impl<W: Write> Frames<W> {
    /// At an entry's edge: end the frame here if it is full.
    fn cut(&mut self) -> std::io::Result<()> {
        if self.current.len() < FRAME {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.current);
        match self.full.take() {
            None => self.full = Some(frame),
            Some(first) => self.compress(&[first, frame])?,
        }
        Ok(())
    }

    /// Compress these frames, each on a thread of its own, and write them out in order.
    fn compress(&mut self, frames: &[Vec<u8>]) -> std::io::Result<()> {
        let compressed: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let threads: Vec<_> =
                frames.iter().map(|frame| scope.spawn(|| zstd::bulk::compress(frame, ZSTD_LEVEL))).collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| Err(std::io::Error::other("a packing thread failed"))))
                .collect()
        });
        for frame in compressed {
            self.out.write_all(&frame?)?;
        }
        Ok(())
    }

    /// The last frames written: the stream's end.
    fn finish(mut self) -> std::io::Result<W> {
        let last = std::mem::take(&mut self.current);
        let frames: Vec<Vec<u8>> = self.full.take().into_iter().chain(Some(last).filter(|l| !l.is_empty())).collect();
        self.compress(&frames)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Frames<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.current.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every entry under `dir` (relative to the environment), in name order, parents first.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut names: Vec<std::ffi::OsString> =
        std::fs::read_dir(root.join(rel))?.map(|e| e.map(|e| e.file_name())).collect::<std::io::Result<_>>()?;
    names.sort();
    for name in names {
        let bytes = name.as_bytes();
        let top = rel.as_os_str().is_empty();
        if (top && (bytes.starts_with(b".cove-") || bytes == crate::cache::Kind::Env.info_file().as_bytes()))
            || bytes == b"__pycache__"
            || bytes.ends_with(b".pyc")
        {
            continue;
        }
        let child = rel.join(&name);
        let meta = std::fs::symlink_metadata(root.join(&child))?;
        out.push(child.clone());
        if meta.is_dir() {
            walk(root, &child, out)?;
        }
    }
    Ok(())
}

/// What unpacking made: every regular file with its size (relative to the folder), and the disk
/// usage they and the folders take, so sealing the attempt needs no walk of its own.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: Vec<(PathBuf, u64)>,
    pub usage: crate::fsx::Usage,
}

/// The filesystem's block: what a file's size is rounded up to on disk.
const BLOCK: u64 = 4096;

fn blocks(size: u64) -> u64 {
    size.div_ceil(BLOCK) * BLOCK
}

/// Unpack the artifact read from `archive` (compressed as `codec` says) into the (empty) folder
/// `into`, putting `target` (the environment's final path) in place of the placeholder. Only
/// folders, regular files and links are made, at relative paths that never pass through a link
/// the artifact made.
pub fn unpack(archive: impl Read, codec: Codec, into: &Path, target: &Path) -> std::io::Result<Unpacked> {
    let (send, frames) = std::sync::mpsc::sync_channel::<Vec<u8>>(QUEUE);
    let (give_back, used) = std::sync::mpsc::channel::<Vec<u8>>();
    let queue = std::sync::Mutex::new(Some(frames));
    let (downloaded, worked) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (queue, give_back) = (&queue, give_back.clone());
                scope.spawn(move || work(queue, &give_back, codec, into))
            })
            .collect();
        drop(give_back);
        let downloaded = split(archive, codec, &send, &used);
        drop(send);
        let worked: Vec<std::io::Result<Parsed>> = workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(std::io::Error::other("an unpacking thread failed"))))
            .collect();
        (downloaded, worked)
    });
    // A refused entry says why; else a worker's error (its hang-up is what ended the download);
    // else the download's.
    let mut parsed = Parsed::default();
    let mut failed = None;
    for part in worked {
        match part {
            Ok(part) => parsed.add(part),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(e),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    downloaded?;
    let Parsed { links: made_links, list, dirs, files } = parsed;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    // Frames unpack in any order, so no entry may be beneath a link, wherever it comes.
    let link_paths: std::collections::HashSet<&Path> = made_links.iter().map(|(rel, _)| rel.as_path()).collect();
    let beneath = |rel: &Path| rel.ancestors().skip(1).any(|a| link_paths.contains(a));
    let mut every = files.iter().map(|(rel, _)| rel).chain(&dirs).chain(made_links.iter().map(|(rel, _)| rel));
    if let Some(rel) = every.find(|rel| beneath(rel)) {
        return Err(bad(format!("entry {} is beneath a link", rel.display())));
    }
    // The links last, once every file is written: no file is written through one.
    for (rel, target) in &made_links {
        let path = into.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(target, &path)?;
    }
    let dirs = dirs.len() as u64;
    let list = list.ok_or_else(|| bad("the artifact has no relocation list".into()))?;
    let new = target.as_os_str().as_bytes();
    let mut sizes: std::collections::HashMap<PathBuf, u64> = files.into_iter().collect();
    for line in list.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let rel = Path::new(std::ffi::OsStr::from_bytes(line));
        if beneath(rel) || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(format!("relocation entry {} is not inside the environment", rel.display())));
        }
        let path = into.join(rel);
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            let old = std::fs::read_link(&path)?;
            let fixed = crate::fsx::replace_bytes(old.as_os_str().as_bytes(), PLACEHOLDER.as_bytes(), new);
            std::fs::remove_file(&path)?;
            std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&fixed), &path)?;
        } else if meta.is_file() {
            let bytes = crate::fsx::replace_bytes(&std::fs::read(&path)?, PLACEHOLDER.as_bytes(), new);
            std::fs::write(&path, &bytes)?;
            if let Some(size) = sizes.get_mut(rel) {
                *size = bytes.len() as u64;
            }
        }
    }
    let mut files: Vec<(PathBuf, u64)> = sizes.into_iter().collect();
    files.sort_unstable();
    let size = (dirs + 1) * BLOCK + files.iter().map(|(_, size)| blocks(*size)).sum::<u64>();
    Ok(Unpacked { files, usage: crate::fsx::Usage { size, linked: 0 } })
}

/// Read `archive` to its end and hand it on a whole zstd frame at a time (gzip: all of it at
/// the end), in buffers the workers give back. Stops early (and says nothing) when the workers
/// hang up: their error is the one told.
fn split(
    mut archive: impl Read,
    codec: Codec,
    send: &std::sync::mpsc::SyncSender<Vec<u8>>,
    used: &std::sync::mpsc::Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    // What is read and not yet handed on is `buf[start..end]`; `buf` is zeroed only as it grows.
    let (mut buf, mut start, mut end) = (Vec::new(), 0, 0);
    let mut at_end = false;
    loop {
        while let Some(n) = whole_frame(codec, &buf[start..end]) {
            let mut frame = used.try_recv().unwrap_or_default();
            frame.clear();
            frame.extend_from_slice(&buf[start..start + n]);
            start += n;
            if send.send(frame).is_err() {
                return Ok(());
            }
        }
        if at_end {
            break;
        }
        if end == buf.len() {
            buf.copy_within(start..end, 0);
            (start, end) = (0, end - start);
            if end + CHUNK / 2 > buf.len() {
                buf.resize((2 * buf.len()).max(CHUNK), 0);
            }
        }
        let n = loop {
            match archive.read(&mut buf[end..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                read => break read?,
            }
        };
        end += n;
        at_end = n == 0;
    }
    match codec {
        _ if start == end => Ok(()),
        Codec::Gzip => {
            buf.copy_within(start..end, 0);
            buf.truncate(end - start);
            let _ = send.send(buf);
            Ok(())
        }
        Codec::Zstd => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the artifact ends inside a frame")),
    }
}

/// The length of the whole zstd frame `pending` starts with, if it holds one.
fn whole_frame(codec: Codec, pending: &[u8]) -> Option<usize> {
    if codec != Codec::Zstd {
        return None;
    }
    let n = zstd::zstd_safe::find_frame_compressed_size(pending).ok()?;
    (n > 0 && n <= pending.len()).then_some(n)
}

/// What unpacking frames leaves for its end.
#[derive(Default)]
struct Parsed {
    /// The links to make: path, target.
    links: Vec<(PathBuf, PathBuf)>,
    /// The relocation list (kept here, never written).
    list: Option<Vec<u8>>,
    /// The folders made.
    dirs: Vec<PathBuf>,
    /// The files made, with their sizes.
    files: Vec<(PathBuf, u64)>,
}

impl Parsed {
    fn add(&mut self, mut other: Parsed) {
        self.links.append(&mut other.links);
        self.list = self.list.take().or(other.list);
        self.dirs.append(&mut other.dirs);
        self.files.append(&mut other.files);
    }
}

/// A worker: unpack the frames it takes from `queue` until there are none, giving each buffer
/// back. On an error, the queue is closed, which stops the other workers and the download.
fn work(
    queue: &std::sync::Mutex<Option<std::sync::mpsc::Receiver<Vec<u8>>>>,
    give_back: &std::sync::mpsc::Sender<Vec<u8>>,
    codec: Codec,
    into: &Path,
) -> std::io::Result<Parsed> {
    let lock = || queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut parsed = Parsed::default();
    let mut room = Room { context: zstd::bulk::Decompressor::new()?, tar: Vec::new(), buf: Vec::new() };
    loop {
        let Some(Ok(frame)) = lock().as_ref().map(|frames| frames.recv()) else { return Ok(parsed) };
        if let Err(e) = unpack_frame(&frame, codec, into, &mut room, &mut parsed) {
            *lock() = None;
            return Err(e);
        }
        let _ = give_back.send(frame);
    }
}

/// A worker's memory, kept from frame to frame: each is touched (faulted in) once, not once a
/// frame.
struct Room {
    context: zstd::bulk::Decompressor<'static>,
    /// A frame's tar, decompressed whole.
    tar: Vec<u8>,
    /// A file's bytes on their way, when the frame is read as a stream.
    buf: Vec<u8>,
}

/// A frame of this much tar or less is decompressed whole, and its files written from it; a
/// larger one (one entry that large, or the one frame of an older cove's artifact) as a stream.
const WHOLE: u64 = 8 << 20;

/// Decompress one frame (whole tar entries), check each entry, and make its folders and files
/// under `into`; links and the relocation list are kept for the end.
fn unpack_frame(frame: &[u8], codec: Codec, into: &Path, room: &mut Room, out: &mut Parsed) -> std::io::Result<()> {
    let size = zstd::zstd_safe::get_frame_content_size(frame).ok().flatten();
    match size.filter(|&size| codec == Codec::Zstd && size <= WHOLE) {
        Some(size) => {
            room.tar.clear();
            room.tar.reserve(size as usize);
            room.context.decompress_to_buffer(frame, &mut room.tar)?;
            let mut tar = tar::Archive::new(std::io::Cursor::new(room.tar.as_slice()));
            make(tar.entries_with_seek()?, Some(&room.tar), into, &mut room.buf, out)
        }
        None => {
            let decoder: Box<dyn Read> = match codec {
                Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(frame)?),
                Codec::Gzip => Box::new(flate2::bufread::GzDecoder::new(frame)),
            };
            let mut tar = tar::Archive::new(decoder);
            make(tar.entries()?, None, into, &mut room.buf, out)
        }
    }
}

/// Check each entry and make its folder or file under `into`, its bytes taken from `whole` (the
/// decompressed tar the entries are read from) when there is one, else read through `buf`.
fn make<R: Read>(
    entries: tar::Entries<R>,
    whole: Option<&[u8]>,
    into: &Path,
    buf: &mut Vec<u8>,
    out: &mut Parsed,
) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    for entry in entries {
        let mut entry = entry?;
        let rel = entry.path()?.into_owned();
        let own = rel.as_os_str().as_bytes().starts_with(b".cove-") && rel != Path::new(RELOCATE);
        if own || rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(format!("entry {} is not a path inside the environment", rel.display())));
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o755;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                let path = into.join(&rel);
                // Made already when a file beneath it came first, in another frame.
                match std::fs::DirBuilder::new().recursive(true).mode(0o700 | mode).create(&path) {
                    Err(e) if !(e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir()) => return Err(e),
                    _ => out.dirs.push(rel),
                }
            }
            tar::EntryType::Regular if rel == Path::new(RELOCATE) => {
                let mut list = Vec::new();
                entry.read_to_end(&mut list)?;
                out.list = Some(list);
            }
            tar::EntryType::Regular => {
                let size = entry.size();
                let mut file = create(into, &rel, mode)?;
                let at = entry.raw_file_position();
                let end = at.checked_add(size);
                match whole.and_then(|tar| tar.get(usize::try_from(at).ok()?..usize::try_from(end?).ok()?)) {
                    Some(bytes) => file.write_all(bytes)?,
                    None if whole.is_some() => return Err(bad(format!("entry {} ends past its frame", rel.display()))),
                    None => {
                        buf.resize(CHUNK, 0);
                        let mut left = size;
                        while left > 0 {
                            let n = left.min(CHUNK as u64) as usize;
                            entry.read_exact(&mut buf[..n])?;
                            file.write_all(&buf[..n])?;
                            left -= n as u64;
                        }
                    }
                }
                out.files.push((rel, size));
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name()?.ok_or_else(|| bad(format!("link {} has no target", rel.display())))?;
                out.links.push((rel, target.into_owned()));
            }
            other => return Err(bad(format!("entry {} is of a kind cove does not unpack ({other:?})", rel.display()))),
        }
    }
    Ok(())
}

/// Create the new file `rel` under `into` (and its folder, when the archive left that out).
fn create(into: &Path, rel: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    let path = into.join(rel);
    let open = || std::fs::OpenOptions::new().write(true).create_new(true).mode_private(mode).open(&path);
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match rel.parent() {
            Some(p) if !p.as_os_str().is_empty() => {
                std::fs::create_dir_all(into.join(p))?;
                open()
            }
            _ => Err(e),
        },
        other => other,
    }
}

trait ModePrivate {
    fn mode_private(&mut self, mode: u32) -> &mut Self;
}

impl ModePrivate for std::fs::OpenOptions {
    /// Files are the user's own (`0o644`/`0o755` at most, like the installers make them).
    fn mode_private(&mut self, mode: u32) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600 | mode)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn make_env(dir: &Path) {
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("lib/site/__pycache__")).unwrap();
        std::fs::write(dir.join("bin/tool"), format!("#!{}/bin/python\nimport x\n", dir.display())).unwrap();
        std::fs::set_permissions(dir.join("bin/tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("/usr/bin/python3", dir.join("bin/python")).unwrap();
        std::os::unix::fs::symlink("lib", dir.join("lib64")).unwrap();
        std::fs::write(dir.join("lib/site/m.py"), "x = 1\n").unwrap();
        std::fs::write(dir.join("lib/site/__pycache__/m.cpython-312.pyc"), [0u8, 1, 2]).unwrap();
        std::fs::write(dir.join(".cove-ready"), "").unwrap();
        std::fs::write(dir.join("cove-env.json"), "{}").unwrap();
    }

    #[test]
    fn pack_is_reproducible_path_neutral_and_unpacks_elsewhere() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("one/envs/k"), t.path().join("two/longer/envs/k"));
        make_env(&a);
        make_env(&b);
        let p1 = pack(&a, &t.path().join("a.tar.zst")).unwrap();
        let p2 = pack(&b, &t.path().join("b.tar.zst")).unwrap();
        assert_eq!(p1.digest, p2.digest, "equal environments at other paths give equal artifacts");
        let into = t.path().join("three/tmp/k.1.2");
        std::fs::create_dir_all(into.parent().unwrap()).unwrap();
        let target = t.path().join("three/envs/k");
        std::fs::create_dir(&into).unwrap();
        let unpacked =
            unpack(std::fs::File::open(t.path().join("a.tar.zst")).unwrap(), Codec::Zstd, &into, &target).unwrap();
        let mut walked = Vec::new();
        crate::fsx::disk_usage_with(&into, |path, meta| {
            if meta.is_file() {
                walked.push((path.strip_prefix(&into).unwrap().to_path_buf(), meta.len()));
            }
        });
        walked.sort();
        assert_eq!(unpacked.files, walked, "the files listed for the seal are the files made, with their sizes");
        let tool = std::fs::read_to_string(into.join("bin/tool")).unwrap();
        assert_eq!(tool, format!("#!{}/bin/python\nimport x\n", target.display()));
        assert_eq!(std::fs::metadata(into.join("bin/tool")).unwrap().permissions().mode() & 0o111, 0o111);
        assert_eq!(std::fs::read_link(into.join("bin/python")).unwrap(), Path::new("/usr/bin/python3"));
        assert!(!into.join("lib/site/__pycache__").exists(), "no bytecode in the artifact");
        assert!(!into.join(".cove-ready").exists() && !into.join("cove-env.json").exists());
        assert!(!into.join(RELOCATE).exists());
    }

    /// The frames of a zstd stream: each one's compressed length.
    fn frames(bytes: &[u8]) -> Vec<usize> {
        let (mut at, mut out) = (0, Vec::new());
        while at < bytes.len() {
            let n = zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]).unwrap();
            out.push(n);
            at += n;
        }
        out
    }

    #[test]
    fn every_file_unpacks_byte_for_byte_from_frames_unpacked_side_by_side() {
        let t = tempfile::tempdir().unwrap();
        let env = t.path().join("one/envs/k");
        make_env(&env);
        // Many small files, each with bytes of its own, and sizes either side of a write's.
        let bytes_of = |n: usize, seed: u32| -> Vec<u8> {
            (0..n as u32).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8).collect()
        };
        let mut want = Vec::new();
        for i in 0..2000 {
            want.push((format!("lib/site/many/f{i}.py"), bytes_of(i % 300, i as u32)));
        }
        for (i, size) in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, FRAME + 3].into_iter().enumerate() {
            want.push((format!("lib/site/sized/s{i}.bin"), bytes_of(size, 7 + i as u32)));
        }
        std::fs::create_dir_all(env.join("lib/site/many")).unwrap();
        std::fs::create_dir_all(env.join("lib/site/sized")).unwrap();
        for (rel, bytes) in &want {
            std::fs::write(env.join(rel), bytes).unwrap();
        }
        pack(&env, &t.path().join("a.tar.zst")).unwrap();
        let packed = std::fs::read(t.path().join("a.tar.zst")).unwrap();
        assert!(frames(&packed).len() >= 3, "cut into frames: {:?}", frames(&packed));
        let into = t.path().join("into");
        std::fs::create_dir(&into).unwrap();
        let unpacked = unpack(packed.as_slice(), Codec::Zstd, &into, Path::new("/x")).unwrap();
        for (rel, bytes) in &want {
            assert!(std::fs::read(into.join(rel)).unwrap() == *bytes, "{rel} unpacked as packed");
            let listed = unpacked.files.iter().find(|(p, _)| p == Path::new(rel)).map(|(_, size)| *size);
            assert_eq!(listed, Some(bytes.len() as u64), "{rel} listed with its size");
        }
        assert_eq!(std::fs::read_to_string(into.join("bin/tool")).unwrap(), "#!/x/bin/python\nimport x\n");
    }

    #[test]
    fn a_stream_cut_short_does_not_unpack_as_whole() {
        let t = tempfile::tempdir().unwrap();
        let env = t.path().join("one/envs/k");
        make_env(&env);
        // Big enough for several chunks of the decompressed stream.
        let big: Vec<u8> = (0..3 * CHUNK as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        std::fs::write(env.join("lib/site/data.bin"), &big).unwrap();
        pack(&env, &t.path().join("a.tar.zst")).unwrap();
        let bytes = std::fs::read(t.path().join("a.tar.zst")).unwrap();
        for cut in [bytes.len() / 3, bytes.len() - 8] {
            let into = t.path().join(format!("into-{cut}"));
            std::fs::create_dir(&into).unwrap();
            let got = unpack(&bytes[..cut], Codec::Zstd, &into, Path::new("/x"));
            assert!(got.is_err(), "cut at {cut} of {}: {got:?}", bytes.len());
        }
    }

    #[test]
    fn a_gzip_artifact_or_one_zstd_stream_of_an_older_cove_still_unpacks() {
        let t = tempfile::tempdir().unwrap();
        let env = t.path().join("one/envs/k");
        make_env(&env);
        // Larger than a write, so a streamed frame's file goes through the buffer in pieces.
        let big: Vec<u8> = (0..2 * CHUNK as u32 + 9).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        std::fs::write(env.join("lib/site/data.bin"), &big).unwrap();
        pack(&env, &t.path().join("a.tar.zst")).unwrap();
        let tar = zstd::decode_all(std::fs::File::open(t.path().join("a.tar.zst")).unwrap()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        // One frame written as a stream: no size in its header, so it is read as a stream.
        let zst = zstd::stream::encode_all(tar.as_slice(), 3).unwrap();
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&zst).ok().flatten(), None);
        for (name, bytes, codec) in [("gzip", gz, Codec::Gzip), ("zstd", zst, Codec::Zstd)] {
            let (into, target) = (t.path().join(format!("into-{name}")), t.path().join("two/envs/k"));
            std::fs::create_dir(&into).unwrap();
            unpack(bytes.as_slice(), codec, &into, &target).unwrap();
            let tool = std::fs::read_to_string(into.join("bin/tool")).unwrap();
            assert_eq!(tool, format!("#!{}/bin/python\nimport x\n", target.display()));
            assert_eq!(std::fs::read_to_string(into.join("lib/site/m.py")).unwrap(), "x = 1\n");
            assert!(std::fs::read(into.join("lib/site/data.bin")).unwrap() == big, "{name}: the large file whole");
        }
    }

    /// What unpacking (into `dir/into`) a gzip archive of a link `evil` to `link_to`, then a
    /// file `path` holding `data`, fails with.
    fn unpack_link_then_file(dir: &Path, link_to: &Path, path: &str, data: &[u8]) -> std::io::Error {
        let out = dir.join("x.tgz");
        let gz = flate2::write::GzEncoder::new(std::fs::File::create(&out).unwrap(), Default::default());
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        tar.append_link(&mut h, "evil", link_to).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, data).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        std::fs::create_dir(dir.join("into")).unwrap();
        unpack(std::fs::File::open(&out).unwrap(), Codec::Gzip, &dir.join("into"), Path::new("/x")).unwrap_err()
    }

    #[test]
    fn a_relocation_entry_beneath_a_link_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("rc"), PLACEHOLDER).unwrap();
        let e = unpack_link_then_file(t.path(), &outside, RELOCATE, b"evil/rc\n");
        assert!(e.to_string().contains("not inside"), "{e}");
        assert_eq!(std::fs::read_to_string(outside.join("rc")).unwrap(), PLACEHOLDER, "nothing outside rewritten");
    }

    /// Frames unpack side by side, in no set order: a link in one frame and a file beneath its
    /// path in another must never let the file out, whichever frame comes first.
    #[test]
    fn a_link_and_a_file_beneath_it_in_other_frames_never_let_the_file_out() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        for link_first in [true, false] {
            let mut tar = tar::Builder::new(Vec::new());
            let mut cuts = Vec::new();
            let add_file = |tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                tar.append_data(&mut h, path, data).unwrap();
            };
            let add_link = |tar: &mut tar::Builder<Vec<u8>>| {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                tar.append_link(&mut h, "evil", &outside).unwrap();
            };
            // The planted file behind a large one in its frame, so either frame may finish first.
            if link_first {
                add_link(&mut tar);
            } else {
                add_file(&mut tar, "big", &vec![7u8; 2 * CHUNK]);
                add_file(&mut tar, "evil/planted", b"hi");
            }
            cuts.push(tar.get_ref().len());
            if link_first {
                add_file(&mut tar, "big", &vec![7u8; 2 * CHUNK]);
                add_file(&mut tar, "evil/planted", b"hi");
            } else {
                add_link(&mut tar);
            }
            add_file(&mut tar, RELOCATE, b"");
            let raw = tar.into_inner().unwrap();
            let mut bytes = zstd::bulk::compress(&raw[..cuts[0]], 1).unwrap();
            bytes.extend(zstd::bulk::compress(&raw[cuts[0]..], 1).unwrap());
            assert_eq!(frames(&bytes).len(), 2);
            for round in 0..10 {
                let into = t.path().join(format!("into-{link_first}-{round}"));
                std::fs::create_dir(&into).unwrap();
                let e = unpack(bytes.as_slice(), Codec::Zstd, &into, Path::new("/x")).unwrap_err();
                assert!(e.to_string().contains("beneath a link"), "{e}");
                assert!(!outside.join("planted").exists(), "a file was written through a link");
            }
        }
    }

    #[test]
    fn an_entry_beneath_a_link_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let e = unpack_link_then_file(t.path(), t.path(), "evil/planted", b"hi");
        assert!(e.to_string().contains("beneath a link"), "{e}");
        assert!(!t.path().join("planted").exists());
    }
}
