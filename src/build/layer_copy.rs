//! A second checkout's layer, copied from the first's instead of built (cove issue 22).
//!
//! Two checkouts of one project whose build files are equal get layers that differ only in two
//! paths: the layer's own folder (in `bin/` scripts, `activate`, `pyvenv.cfg`) and the project
//! folder (in the editable install's `.pth` files, setuptools' `__editable___*_finder.py`,
//! `direct_url.json`, `RECORD`). So when the layer for folder D2 is missing and a ready layer
//! of D1 has the same key without the folder ([`LayerInfo::relocation`]), it is copied into the
//! attempt folder (real copies: files are rewritten) and both paths are rewritten in its text
//! files; links are kept as they are (those in `bin/` point into the shared environment). The
//! copy is then sealed and published like a build, under the layer's lock.
//!
//! Anything doubtful leaves the copy unmade (with the reason, said with `-v`) and the layer is
//! built as usual: a path that is not plain (an installer may have percent-encoded or escaped
//! it) or not canonical (an installer may have written the real path), nested folders, a binary
//! file or a link naming D1 or the old layer, a path under D1's folders that is not D1's own
//! (`../common`: the copy would keep the first checkout's), a file the layer points at that is
//! in one checkout but not the other, or a compiled module (`*.so`, `*.pyd`) built in place in
//! D1 and missing in D2. Only whole paths are rewritten: `/x/proj` is not the start of
//! `/x/proj2`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cache::{Cache, Entry, Kind, LayerInfo};
use crate::manifest::LocalProject;
use crate::plan::Plan;

/// Why no copy was made; the layer is then built.
pub type Doubt = String;

/// Build files whose content is part of the relocation key: what an editable install maps
/// depends on them, beyond the `[project]` and `[build-system]` tables.
const BUILD_FILES: [&str; 4] = ["pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in"];

/// How many entries of D1 the compiled-module check looks at before it gives up.
const MAX_WALK: usize = 100_000;

/// How many candidate layers are tried.
const MAX_TRIES: usize = 3;

/// The relocation key of a layer installing `projects` over the shared environment `shared_key`
/// (see [`crate::plan::key::layer_relocation_key`]).
pub fn relocation_key(shared_key: &str, projects: &[LocalProject]) -> Option<String> {
    let [p] = projects else { return None };
    let mut files = String::new();
    for name in BUILD_FILES {
        let digest = std::fs::read(p.dir.join(name)).map_or_else(|_| "-".into(), |b| crate::digest::sha256_hex(&b));
        files.push_str(&format!("{name}={digest};"));
    }
    crate::plan::key::layer_relocation_key(shared_key, projects, &crate::digest::sha256_hex(files.as_bytes()))
}

/// Fill `into` (an attempt folder not made yet) with a copy of another checkout's ready layer,
/// re-pointed at `entry` and `projects`' one folder; returns the layer's info and the folder
/// copied from. On a doubt, `into` is removed again.
pub fn copy(
    plan: &Plan,
    projects: &[LocalProject],
    cache: &Cache,
    entry: &Entry,
    into: &Path,
) -> Result<(LayerInfo, PathBuf), Doubt> {
    let key = relocation_key(&plan.key.hex, projects).ok_or("not a single project with a pyproject.toml")?;
    let d2 = &projects[0].dir;
    let layers = cache.entries(Kind::Layer).map_err(|e| e.to_string())?;
    let mut doubt: Doubt = "no layer of another checkout".into();
    let candidates = layers.iter().filter(|l| *l != entry).filter_map(|l| {
        let info = l.info::<LayerInfo>()?;
        let [d1] = info.installs.as_slice() else { return None };
        (info.relocation.as_deref() == Some(key.as_str()) && Path::new(d1) != d2).then(|| (l, PathBuf::from(d1)))
    });
    for (from, d1) in candidates.take(MAX_TRIES) {
        // Held while copying, so gc does not remove it midway; never waited for (no deadlock).
        let Ok(Some(guard)) = crate::cache::filelock::try_exclusive(&from.lock()) else { continue };
        if !from.is_ready() {
            continue;
        }
        let result = copy_from(plan, from.dir(), &d1, d2, entry.dir(), into);
        drop(guard);
        match result {
            Ok(()) => {
                let info = LayerInfo {
                    env: plan.key.hex.clone(),
                    project: crate::fsx::lossy(&plan.project.dir),
                    installs: vec![crate::fsx::lossy(d2)],
                    relocation: Some(key),
                };
                return Ok((info, d1));
            }
            Err(d) => {
                let _ = crate::fsx::remove_tree(into);
                doubt = format!("the layer of {}: {d}", d1.display());
            }
        }
    }
    Err(doubt)
}

/// Copy the layer `l1` of folder `d1` into `into`, re-pointed at the layer `l2` of `d2`, and
/// check the copy.
fn copy_from(plan: &Plan, l1: &Path, d1: &Path, d2: &Path, l2: &Path, into: &Path) -> Result<(), Doubt> {
    for d in [d1, d2] {
        if !is_plain(d) {
            return Err(format!("{} has characters an installer may escape", d.display()));
        }
        if std::fs::canonicalize(d).ok().as_deref() != Some(d) {
            return Err(format!("{} is not its own real path", d.display()));
        }
    }
    if d1.starts_with(d2) || d2.starts_with(d1) {
        return Err("one checkout is inside the other".into());
    }
    let cache_root = l1.parent().and_then(Path::parent).unwrap_or(l1);
    for inside in [cache_root, plan.interpreter().path.as_path(), plan.env_dir.as_path()] {
        if inside.starts_with(d1) || inside.starts_with(d2) || d1.starts_with(inside) || d2.starts_with(inside) {
            return Err(format!("{} is inside a checkout (or holds one)", inside.display()));
        }
    }
    // D1's folders below the one it shares with D2 (`/w/a` for `/w/a/pkg` and `/w/b/pkg`): a
    // path under them that is not D1's own was made from D1 and would not be rewritten.
    let common = d1.ancestors().find(|a| d2.starts_with(a)).unwrap_or(Path::new("/"));
    let stale: Vec<String> =
        d1.ancestors().skip(1).take_while(|a| *a != common).map(|a| a.display().to_string()).collect();
    let (l1s, l2s) = (text_of(l1)?, text_of(l2)?);
    let (d1s, d2s) = (text_of(d1)?, text_of(d2)?);
    let rewrite = Rewrite { pairs: [(l1s, l2s), (d1s, d2s)], stale };
    let mut referenced = BTreeSet::new();
    copy_tree(l1, into, Path::new(""), &rewrite, &mut referenced)?;
    for rel in &referenced {
        let (p1, p2) = (format!("{}{rel}", d1.display()), format!("{}{rel}", d2.display()));
        let kind = |p: &str| std::fs::symlink_metadata(p).ok().map(|m| m.is_dir());
        if kind(&p1) != kind(&p2) {
            return Err(format!("the layer points at {p1}, and {p2} is not the same"));
        }
    }
    let mut budget = MAX_WALK;
    compiled_only_in(d1, d2, Path::new(""), &mut budget)
}

fn text_of(p: &Path) -> Result<String, Doubt> {
    p.to_str().map(str::to_string).ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

/// Letters, digits and `/._-~`: what no installer escapes in a path or a `file://` URL.
fn is_plain(p: &Path) -> bool {
    p.to_str().is_some_and(|s| s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-~".contains(&b)))
}

/// The paths to rewrite (old, new: the layer's, the project's), and folders whose paths must
/// not be left once rewritten.
struct Rewrite {
    pairs: [(String, String); 2],
    stale: Vec<String>,
}

impl Rewrite {
    /// A file's content with the paths rewritten (`None`: unchanged), noting every path under
    /// the old project folder it names (relative, with its leading `/`) in `referenced`.
    fn apply(&self, rel: &Path, bytes: &[u8], referenced: &mut BTreeSet<String>) -> Result<Option<Vec<u8>>, Doubt> {
        let olds = self.pairs.iter().map(|(old, _)| old.as_bytes());
        if std::str::from_utf8(bytes).is_err() {
            // Binary: not rewritten, so it must not name either path at all.
            return match olds.into_iter().find(|old| find(bytes, old, 0).is_some()) {
                Some(old) => Err(format!("{} is binary and names {}", rel.display(), String::from_utf8_lossy(old))),
                None => Ok(None),
            };
        }
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        for (i, (old, _)) in self.pairs.iter().enumerate() {
            hits.extend(whole(bytes, old.as_bytes()).into_iter().map(|at| (at, old.len(), i)));
        }
        if hits.is_empty() {
            return Ok(None);
        }
        hits.sort_unstable();
        let mut out = Vec::with_capacity(bytes.len());
        let mut done = 0;
        for (at, len, i) in hits {
            if at < done {
                return Err(format!("{} names the paths overlapping", rel.display()));
            }
            out.extend_from_slice(&bytes[done..at]);
            out.extend_from_slice(self.pairs[i].1.as_bytes());
            done = at + len;
            if i == 1 {
                let tail = bytes[done..].iter().take_while(|&&b| is_name_byte(b) || b == b'/').count();
                let under = String::from_utf8_lossy(&bytes[done..done + tail]);
                referenced.insert(under.trim_end_matches('/').to_string());
            }
        }
        out.extend_from_slice(&bytes[done..]);
        let left = self.pairs.iter().map(|(old, _)| old).chain(&self.stale);
        if let Some(old) = left.into_iter().find(|old| !whole(&out, old.as_bytes()).is_empty()) {
            return Err(format!("{} still names {old} once rewritten", rel.display()));
        }
        Ok(Some(out))
    }
}

/// A byte that may continue a file name: a path ends before any other (`/`, a quote, a line
/// break, `,` in a RECORD line…).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._-~+@%".contains(&b)
}

/// Where `pat` (an absolute path) occurs in `text` as a whole path: not preceded or followed by
/// a file-name byte (`/x/proj` in `file:///x/proj/src`, not in `/x/proj2` or `/y/x/proj`).
fn whole(text: &[u8], pat: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = find(text, pat, from) {
        let end = at + pat.len();
        let before = at == 0 || !is_name_byte(text[at - 1]);
        let after = end == text.len() || !is_name_byte(text[end]);
        if before && after {
            out.push(at);
            from = end;
        } else {
            from = at + 1;
        }
    }
    out
}

fn find(text: &[u8], pat: &[u8], from: usize) -> Option<usize> {
    if pat.is_empty() || text.len() < from + pat.len() {
        return None;
    }
    text[from..].windows(pat.len()).position(|w| w == pat).map(|i| from + i)
}

/// Copy the folder `rel` of `src` into `dst`, rewriting text files. cove's own files at the
/// top (marker, listing, info: publish writes them) and bytecode (it holds the old paths;
/// Python writes it again) are left out.
fn copy_tree(src: &Path, dst: &Path, rel: &Path, rw: &Rewrite, referenced: &mut BTreeSet<String>) -> Result<(), Doubt> {
    let io = |what: &str, p: &Path, e: std::io::Error| format!("{what} {}: {e}", p.display());
    let from = src.join(rel);
    let to = dst.join(rel);
    std::fs::create_dir(&to).map_err(|e| io("create", &to, e))?;
    let meta = std::fs::metadata(&from).map_err(|e| io("read", &from, e))?;
    for e in std::fs::read_dir(&from).map_err(|e| io("read", &from, e))? {
        let e = e.map_err(|e| io("read", &from, e))?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        let top = rel.as_os_str().is_empty();
        if (top && (n.starts_with(".cove-") || n == Kind::Layer.info_file()))
            || n == "__pycache__"
            || n.ends_with(".pyc")
        {
            continue;
        }
        let (path, rel_path, target) = (e.path(), rel.join(&name), to.join(&name));
        let kind = e.file_type().map_err(|e| io("read", &path, e))?;
        if kind.is_dir() {
            copy_tree(src, dst, &rel_path, rw, referenced)?;
        } else if kind.is_symlink() {
            let link = std::fs::read_link(&path).map_err(|e| io("read", &path, e))?;
            let bytes = link.as_os_str().as_encoded_bytes();
            if rw.pairs.iter().any(|(old, _)| find(bytes, old.as_bytes(), 0).is_some()) {
                return Err(format!("the link {} names a path to rewrite", rel_path.display()));
            }
            std::os::unix::fs::symlink(&link, &target).map_err(|e| io("link", &target, e))?;
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| io("read", &path, e))?;
            let out = rw.apply(&rel_path, &bytes, referenced)?;
            std::fs::write(&target, out.as_deref().unwrap_or(&bytes)).map_err(|e| io("write", &target, e))?;
            let perms = e.metadata().map_err(|e| io("read", &path, e))?.permissions();
            std::fs::set_permissions(&target, perms).map_err(|e| io("set permissions of", &target, e))?;
        } else {
            return Err(format!("{} is not a file, folder or link", rel_path.display()));
        }
    }
    std::fs::set_permissions(&to, meta.permissions()).map_err(|e| io("set permissions of", &to, e))
}

/// A compiled module (`*.so`, `*.pyd`) under `d1` with nothing at its place under `d2`: an
/// extension built in place in the first checkout, which the second lacks. `.git` is skipped,
/// links are not followed, and a folder too large to walk is a doubt.
fn compiled_only_in(d1: &Path, d2: &Path, rel: &Path, budget: &mut usize) -> Result<(), Doubt> {
    let dir = d1.join(rel);
    let Ok(read) = std::fs::read_dir(&dir) else { return Err(format!("{} cannot be read", dir.display())) };
    for e in read.flatten() {
        *budget = budget.checked_sub(1).ok_or_else(|| format!("{} is too large to check", d1.display()))?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() && n != ".git" {
            compiled_only_in(d1, d2, &rel.join(&name), budget)?;
        } else if !kind.is_dir() && (n.ends_with(".so") || n.ends_with(".pyd") || n.contains(".so.")) {
            let there = d2.join(rel).join(&name);
            if std::fs::symlink_metadata(&there).is_err() {
                return Err(format!("{} is compiled and {} is missing", e.path().display(), there.display()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_paths_are_found() {
        let text = b"file:///x/proj\n/x/proj2/src '/x/proj/src' /y/x/proj /x/proj.pth /x/proj,sha";
        assert_eq!(whole(text, b"/x/proj"), vec![7, 29, 64]);
        assert!(whole(b"/x/proj2", b"/x/proj").is_empty());
        assert_eq!(whole(b"/x/proj", b"/x/proj"), vec![0]);
    }

    #[test]
    fn rewrite_replaces_both_paths_and_notes_what_is_pointed_at() {
        let rw = Rewrite {
            pairs: [("/c/layers/aaa".into(), "/c/layers/bbb".into()), ("/x/proj".into(), "/x/proj2".into())],
            stale: vec![],
        };
        let mut seen = BTreeSet::new();
        let text = b"#!/c/layers/aaa/bin/python\n/x/proj/src\n{\"url\":\"file:///x/proj\"}\n/x/proj22\n";
        let out = rw.apply(Path::new("f"), text, &mut seen).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#!/c/layers/bbb/bin/python\n/x/proj2/src\n{\"url\":\"file:///x/proj2\"}\n/x/proj22\n"
        );
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["".to_string(), "/src".to_string()]);
        assert_eq!(rw.apply(Path::new("f"), b"nothing", &mut BTreeSet::new()).unwrap(), None);
        assert!(rw.apply(Path::new("f"), b"\xff\x00/x/proj\x00", &mut BTreeSet::new()).is_err(), "binary");
        assert_eq!(rw.apply(Path::new("f"), b"\xff\x00/y\x00", &mut BTreeSet::new()).unwrap(), None);
        let rw = Rewrite { stale: vec!["/w/a".into()], ..rw };
        assert!(rw.apply(Path::new("f"), b"/x/proj/src\n/w/a/common\n", &mut BTreeSet::new()).is_err(), "../common");
    }
}
