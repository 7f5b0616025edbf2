//! The artifact: one environment as a zstd-compressed tar, path-neutral and reproducible.
//!
//! Written as zstd (level 9, two compression workers: a fixed count, so the bytes do not depend
//! on the machine); read as zstd or gzip (what cove wrote before), as the layer's media type
//! says ([`Codec`]). Unpacking is a pipeline: the calling thread downloads (and digests) the
//! compressed stream; a parser decompresses it straight into batches of file bytes, makes each
//! folder as it comes and writes the large files itself; two writers create the other files, a
//! batch each in turn, and hand each batch back to be filled again (links are made last, so no
//! file is written through one). Nothing is synced per file (the attempt folder is sealed and
//! renamed into place by `staging`, as a local build is), and what was made is listed for the
//! seal.
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
/// zstd's compression workers: fixed, since the output depends on the count.
const ZSTD_WORKERS: u32 = 2;
/// Batches of entries read ahead of each thread that writes them.
const QUEUE: usize = 4;
/// Threads creating files: the kernel's work of making a file is most of an unpack, and two
/// threads share it out where the parser (decompressing) would leave a core idle.
const WRITERS: usize = 2;
/// The downloaded stream goes to the parser in chunks of this size, this many ahead.
const CHUNK: usize = 1 << 20;
const CHUNKS: usize = 8;
/// Files go to the writers in batches of about this many bytes (or [`BATCH_ENTRIES`] files):
/// one hand-over per file costs a wake-up of the other thread each. A file larger than this the
/// parser writes itself.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_ENTRIES: usize = 128;

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
    let mut zst = zstd::stream::write::Encoder::new(hashing, ZSTD_LEVEL)?;
    zst.multithread(ZSTD_WORKERS)?;
    let mut tar = tar::Builder::new(zst);
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
    let zst = tar.into_inner()?;
    let mut hashing = zst.finish()?;
    hashing.inner.flush()?;
    let digest = format!("sha256:{}", crate::digest::hex(&hashing.hash.finalize()));
    Ok(Packed { digest, size: hashing.len, content_size })
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

/// Regular files of the archive, read and checked, for a writing thread: each one's path, mode
/// and where its bytes are in `data`, back to back. A batch written goes back to the reader to
/// be filled again, so its memory is touched (faulted in, zeroed) once, not once a file.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    /// How much of `data` holds this batch's files (the rest is what an earlier fill left).
    used: usize,
    items: Vec<(PathBuf, u32, std::ops::Range<usize>)>,
}

impl Batch {
    /// Read the next `size` bytes of `from` into the batch, for the file `rel`.
    fn add(&mut self, rel: PathBuf, mode: u32, size: usize, from: &mut impl Read) -> std::io::Result<()> {
        let range = self.used..self.used + size;
        if self.data.len() < range.end {
            self.data.resize(range.end, 0);
        }
        from.read_exact(&mut self.data[range.clone()])?;
        self.used = range.end;
        self.items.push((rel, mode, range));
        Ok(())
    }
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
    let (read, written) = std::thread::scope(|scope| {
        let mut sends = Vec::new();
        let mut writers = Vec::new();
        let (written_back, empties) = std::sync::mpsc::channel::<Batch>();
        for _ in 0..WRITERS {
            let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(QUEUE);
            sends.push(send);
            let back = written_back.clone();
            writers.push(scope.spawn(move || write_items(receive, &back, into)));
        }
        drop(written_back);
        // Downloaded (and digested) here; decompressed straight into the writers' batches and
        // parsed, the folders made, on a thread of its own.
        let (send_chunk, chunks) = std::sync::mpsc::sync_channel::<Vec<u8>>(CHUNKS);
        let (give_back, used) = std::sync::mpsc::channel::<Vec<u8>>();
        let parser = scope.spawn(move || {
            let chunks = Chunks { receive: chunks, used: give_back, current: Vec::new(), at: 0 };
            let decoder: Box<dyn Read> = match codec {
                Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(chunks)?),
                Codec::Gzip => Box::new(flate2::bufread::GzDecoder::new(chunks)),
            };
            let read = read_items(decoder, into, &sends, &empties);
            drop(sends);
            read
        });
        let downloaded = download(archive, &send_chunk, &used);
        drop(send_chunk);
        let read = parser.join().unwrap_or_else(|_| Err(std::io::Error::other("an unpacking thread failed")));
        let mut files = Vec::new();
        let mut written = Ok(());
        for writer in writers {
            match writer.join().unwrap_or_else(|_| Err(std::io::Error::other("an unpacking thread failed"))) {
                Ok(mut some) => files.append(&mut some),
                Err(e) => written = written.and(Err(e)),
            }
        }
        // A stream that breaks off may end at an entry's edge, where the tar looks whole.
        (downloaded.and(read), written.map(|()| files))
    });
    // A refused entry says why; else a writer's error (its hang-up is what ended the reading).
    let (made_links, list, dirs, files) = match (read, written) {
        (Err(e), _) if e.kind() == std::io::ErrorKind::InvalidData => return Err(e),
        (_, Err(e)) => return Err(e),
        (r, Ok(files)) => {
            let Parsed { links, list, dirs, files: mut written_here } = r?;
            let mut files = files;
            files.append(&mut written_here);
            (links, list, dirs, files)
        }
    };
    // The links last, once every file is written: a file the writers make (in their own order,
    // not the archive's) never passes through one.
    for (rel, target) in &made_links {
        let path = into.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(target, &path)?;
    }
    let links: Vec<&PathBuf> = made_links.iter().map(|(rel, _)| rel).collect();
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let list = list.ok_or_else(|| bad("the artifact has no relocation list".into()))?;
    let new = target.as_os_str().as_bytes();
    let mut sizes: std::collections::HashMap<PathBuf, u64> = files.into_iter().collect();
    for line in list.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let rel = Path::new(std::ffi::OsStr::from_bytes(line));
        let beneath_link = links.iter().any(|l| rel.starts_with(l) && rel != l.as_path());
        if beneath_link || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
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

/// Read `archive` to its end in chunks for the parser. Stops early (and says nothing) when the
/// parser hangs up: its error is the one told.
fn download(
    mut archive: impl Read,
    send: &std::sync::mpsc::SyncSender<Vec<u8>>,
    used: &std::sync::mpsc::Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    loop {
        // A chunk the parser is done with, else a new one: fresh memory costs a page fault a page.
        let mut chunk = used.try_recv().unwrap_or_default();
        chunk.resize(CHUNK, 0);
        let mut filled = 0;
        while filled < CHUNK {
            match archive.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok(());
        }
        chunk.truncate(filled);
        if send.send(chunk).is_err() {
            return Ok(());
        }
    }
}

/// The downloaded stream as the parser's decompressor reads it: the chunks sent, in order;
/// their end is the stream's.
struct Chunks {
    receive: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Where a chunk read goes back to, to be filled again.
    used: std::sync::mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl std::io::BufRead for Chunks {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.at == self.current.len() {
            match self.receive.recv() {
                Ok(chunk) => {
                    let done = std::mem::replace(&mut self.current, chunk);
                    let _ = self.used.send(done);
                    self.at = 0;
                }
                Err(_) => break,
            }
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at += n;
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::io::BufRead::fill_buf(self)?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// What parsing leaves for the end of an unpack.
struct Parsed {
    /// The links to make: path, target.
    links: Vec<(PathBuf, PathBuf)>,
    /// The relocation list (kept here, never written).
    list: Option<Vec<u8>>,
    /// The count of folders made.
    dirs: u64,
    /// The files written by the parser itself (the large ones), with their sizes.
    files: Vec<(PathBuf, u64)>,
}

/// Decompress and parse the tar, check each entry, make each folder (in the archive's order,
/// before the files in it are handed on) and hand files and links to the writers, a batch to
/// each in turn. Returns the links to make (path, target), the relocation list (kept here, never
/// written) and the count of folders made.
fn read_items(
    decoder: impl Read,
    into: &Path,
    sends: &[std::sync::mpsc::SyncSender<Batch>],
    empties: &std::sync::mpsc::Receiver<Batch>,
) -> std::io::Result<Parsed> {
    use std::os::unix::fs::DirBuilderExt;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let hung_up = || std::io::Error::other("an unpacking thread stopped");
    let mut tar = tar::Archive::new(decoder);
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut list = None;
    let mut dirs = 0;
    let (mut batch, mut turn) = (Batch::default(), 0);
    let (mut big, mut files) = (Vec::new(), Vec::new());
    for entry in tar.entries()? {
        let mut entry = entry?;
        let rel = entry.path()?.into_owned();
        let own = rel.as_os_str().as_bytes().starts_with(b".cove-") && rel != Path::new(RELOCATE);
        if own || rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(format!("entry {} is not a path inside the environment", rel.display())));
        }
        if links.iter().any(|(l, _)| rel.starts_with(l)) {
            return Err(bad(format!("entry {} is beneath a link", rel.display())));
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o755;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                let path = into.join(&rel);
                match std::fs::DirBuilder::new().recursive(true).mode(0o700 | mode).create(&path) {
                    Ok(()) => dirs += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
                    Err(e) => return Err(e),
                }
                continue;
            }
            tar::EntryType::Regular if rel == Path::new(RELOCATE) => {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes)?;
                list = Some(bytes);
                continue;
            }
            tar::EntryType::Regular => {
                let size =
                    usize::try_from(entry.size()).map_err(|_| bad(format!("entry {} is too large", rel.display())))?;
                if size <= BATCH_BYTES {
                    batch.add(rel, mode, size, &mut entry)?;
                } else {
                    // Written here, through one buffer: a batch of its own would be memory
                    // touched for this file alone.
                    big.resize(CHUNK, 0);
                    let mut file = create(into, &rel, mode)?;
                    let mut left = size;
                    while left > 0 {
                        let n = left.min(CHUNK);
                        entry.read_exact(&mut big[..n])?;
                        file.write_all(&big[..n])?;
                        left -= n;
                    }
                    files.push((rel, size as u64));
                    continue;
                }
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name()?.ok_or_else(|| bad(format!("link {} has no target", rel.display())))?;
                links.push((rel, target.into_owned()));
                continue;
            }
            other => return Err(bad(format!("entry {} is of a kind cove does not unpack ({other:?})", rel.display()))),
        }
        if batch.items.len() >= BATCH_ENTRIES || batch.used >= BATCH_BYTES {
            let full = std::mem::replace(&mut batch, empties.try_recv().unwrap_or_default());
            sends[turn % sends.len()].send(full).map_err(|_| hung_up())?;
            turn += 1;
        }
    }
    if !batch.items.is_empty() {
        sends[turn % sends.len()].send(batch).map_err(|_| hung_up())?;
    }
    Ok(Parsed { links, list, dirs, files })
}

/// Create the files the reader sends under `into`, returning each one made with its size. The
/// folders are made by the reader (one an archive left out is made here), the links after.
fn write_items(
    receive: std::sync::mpsc::Receiver<Batch>,
    written: &std::sync::mpsc::Sender<Batch>,
    into: &Path,
) -> std::io::Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    for mut batch in receive {
        for (rel, mode, range) in batch.items.drain(..) {
            let bytes = &batch.data[range];
            create(into, &rel, mode)?.write_all(bytes)?;
            files.push((rel, bytes.len() as u64));
        }
        batch.used = 0;
        // The reader may be done: then the batch is freed here.
        let _ = written.send(batch);
    }
    Ok(files)
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

    #[test]
    fn every_file_unpacks_byte_for_byte_through_reused_batches_and_the_large_file_path() {
        let t = tempfile::tempdir().unwrap();
        let env = t.path().join("one/envs/k");
        make_env(&env);
        // Enough files for batches to be written, handed back and filled again, each file's
        // bytes its own, and sizes either side of what goes in a batch.
        let bytes_of = |n: usize, seed: u32| -> Vec<u8> {
            (0..n as u32).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8).collect()
        };
        let mut want = Vec::new();
        for i in 0..(WRITERS * (QUEUE + 2) + 4) * BATCH_ENTRIES {
            want.push((format!("lib/site/many/f{i}.py"), bytes_of(i % 300, i as u32)));
        }
        for (i, size) in [0, 1, BATCH_BYTES - 1, BATCH_BYTES, BATCH_BYTES + 1, 3 * CHUNK + 5].into_iter().enumerate() {
            want.push((format!("lib/site/sized/s{i}.bin"), bytes_of(size, 7 + i as u32)));
        }
        std::fs::create_dir_all(env.join("lib/site/many")).unwrap();
        std::fs::create_dir_all(env.join("lib/site/sized")).unwrap();
        for (rel, bytes) in &want {
            std::fs::write(env.join(rel), bytes).unwrap();
        }
        pack(&env, &t.path().join("a.tar.zst")).unwrap();
        let into = t.path().join("into");
        std::fs::create_dir(&into).unwrap();
        let file = std::fs::File::open(t.path().join("a.tar.zst")).unwrap();
        let unpacked = unpack(file, Codec::Zstd, &into, Path::new("/x")).unwrap();
        for (rel, bytes) in &want {
            assert!(std::fs::read(into.join(rel)).unwrap() == *bytes, "{rel} unpacked as packed");
            let listed = unpacked.files.iter().find(|(p, _)| p == Path::new(rel)).map(|(_, size)| *size);
            assert_eq!(listed, Some(bytes.len() as u64), "{rel} listed with its size");
        }
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
    fn a_gzip_artifact_of_an_older_cove_still_unpacks() {
        let t = tempfile::tempdir().unwrap();
        let env = t.path().join("one/envs/k");
        make_env(&env);
        pack(&env, &t.path().join("a.tar.zst")).unwrap();
        let tar = zstd::decode_all(std::fs::File::open(t.path().join("a.tar.zst")).unwrap()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let (into, target) = (t.path().join("into"), t.path().join("two/envs/k"));
        std::fs::create_dir(&into).unwrap();
        unpack(gz.as_slice(), Codec::Gzip, &into, &target).unwrap();
        let tool = std::fs::read_to_string(into.join("bin/tool")).unwrap();
        assert_eq!(tool, format!("#!{}/bin/python\nimport x\n", target.display()));
        assert_eq!(std::fs::read_to_string(into.join("lib/site/m.py")).unwrap(), "x = 1\n");
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

    /// The writers make files in their own order, not the archive's: a link that comes after
    /// files beneath its path must not be made before them (they would be written through it).
    #[test]
    fn a_link_after_files_beneath_its_path_never_lets_them_out() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |path: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, path, data).unwrap();
        };
        // The planted file in the first writer's first batch, behind a large one; the link in
        // a later batch, the other writer's.
        add("big", &vec![7u8; BATCH_BYTES - 1024]);
        add("evil/planted", b"hi");
        for i in 0..BATCH_ENTRIES {
            add(&format!("fill/{i}"), b"x");
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        tar.append_link(&mut h, "evil", &outside).unwrap();
        let bytes = zstd::encode_all(tar.into_inner().unwrap().as_slice(), 1).unwrap();
        for round in 0..20 {
            let into = t.path().join(format!("into-{round}"));
            std::fs::create_dir(&into).unwrap();
            assert!(unpack(bytes.as_slice(), Codec::Zstd, &into, Path::new("/x")).is_err());
            assert!(!outside.join("planted").exists(), "a file was written through a link");
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
