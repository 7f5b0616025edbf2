//! `requirements.txt`, pip's format (SPEC §2): requirement lines, comments, `\` line
//! continuations, `-r`/`-c` includes (relative to the including file, read through the
//! [`Reader`] so they count toward trust), the index options, `--hash` (dropped, with a note),
//! and `-e PATH[extras]` / `PATH[extras]` lines naming a local project, whose dependencies
//! join the requirements (see `project_table::local`).
//!
//! Lines are processed as pip does: continuations joined, then comments (`#` at the start or
//! after whitespace) removed; a line's first token starting with `-` begins its options. Every
//! error names the file, line and column.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pep508_rs::{TracingReporter, UnnamedRequirement, VerbatimUrl};

use crate::error::{Error, Pos, Result, nearest};
use crate::fsx::normal_path;
use crate::manifest::parts::{Parsed, Reader, resolve_link};
use crate::manifest::project_table::{self, ProjectTable};
use crate::manifest::requirement::{self, Requirement};

/// Read `path` as the project's manifest.
pub fn parse_root(path: &Path, reader: &mut Reader) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    read_into(path, None, reader, &mut parsed, None)?;
    Ok(parsed)
}

/// Read requirements file `path` (named at `at` as written there, if anywhere) into `parsed`. `own` is the
/// pyproject.toml project already read as the manifest, so `-e .` does not read it again.
pub fn read_into(
    path: &Path,
    at: Option<(&Pos, &str)>,
    reader: &mut Reader,
    parsed: &mut Parsed,
    own: Option<&ProjectTable>,
) -> Result<()> {
    let root = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut walk = Walk { reader, parsed, own, root, stack: Vec::new(), done: HashSet::new() };
    let include = at.map(|(pos, given)| Include { pos: pos.clone(), given: given.to_string() });
    walk.file(path, Mode::Requirements, include)
}

/// Whether a file's requirements are wanted or only bound versions (`-c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    Requirements,
    Constraints,
}

/// Where a file was named: the `-r`/`-c` line, or `[tool.cove].requirements`.
struct Include {
    pos: Pos,
    given: String,
}

struct Walk<'a> {
    reader: &'a mut Reader,
    parsed: &'a mut Parsed,
    own: Option<&'a ProjectTable>,
    /// The first file's folder: messages show paths relative to it.
    root: PathBuf,
    /// The files being read, outermost first, to find include cycles.
    stack: Vec<PathBuf>,
    /// The files read to the end, each in its mode: a file included again adds nothing, and is
    /// not read again (ten files each including the next twice were 2^10 readings).
    done: HashSet<(PathBuf, Mode)>,
}

/// How deep `-r`/`-c` includes may nest: each level is a call, and a chain of 20,000 files
/// overflowed the stack.
const MAX_INCLUDE_DEPTH: usize = 32;

/// One file being read: its path, folder and text, to turn offsets into positions.
struct File<'t> {
    path: &'t Path,
    dir: &'t Path,
    text: &'t str,
}

impl File<'_> {
    fn pos(&self, offset: usize) -> Pos {
        Pos::at(self.path, self.text, offset)
    }
}

impl Walk<'_> {
    fn file(&mut self, path: &Path, mode: Mode, from: Option<Include>) -> Result<()> {
        let path = normal_path(path);
        if let Some(i) = self.stack.iter().position(|p| *p == path) {
            let chain: Vec<String> = self.stack[i..].iter().chain([&path]).map(|p| self.show(p)).collect();
            let pos = from.map_or_else(|| Pos { file: path.clone(), line: 1, column: 1 }, |f| f.pos);
            return Err(Error::invalid(
                pos,
                format!("requirements files include each other in a cycle: {}", chain.join(" → ")),
            )
            .with_hint("remove one of these `-r`/`-c` lines"));
        }
        if self.done.contains(&(path.clone(), mode)) {
            return Ok(());
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            let pos = from.map_or_else(|| Pos { file: path.clone(), line: 1, column: 1 }, |f| f.pos);
            return Err(Error::invalid(
                pos,
                format!("requirements files include each other more than {MAX_INCLUDE_DEPTH} deep"),
            )
            .with_hint("include the files from fewer levels of `-r`/`-c` lines"));
        }
        let text = match (self.reader.read(&path), from) {
            (Ok(text), _) => text,
            (Err(Error::Io { path: p, source, .. }), Some(inc)) => {
                return Err(Error::invalid(inc.pos, format!("cannot read {} ({}): {source}", inc.given, p.display()))
                    .with_hint("fix the file name, or create the file"));
            }
            // `-r /dev/zero`, a FIFO: named at the line that includes it.
            (Err(e @ Error::NotAFile { .. }), Some(inc)) => {
                let hint = e.hint().unwrap_or_default();
                let why = match e {
                    Error::NotAFile { size: Some(n), .. } => format!("{n} bytes is too large for a manifest"),
                    _ => "not a regular file".to_string(),
                };
                return Err(Error::invalid(inc.pos, format!("cannot read {}: {why}", inc.given)).with_hint(hint));
            }
            (Err(e), _) => return Err(e),
        };
        self.stack.push(path.clone());
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let file = File { path: &path, dir: &dir, text: &text };
        let mut hashes = 0;
        for line in logical_lines(&text) {
            hashes += self.line(&file, &line, mode)?;
        }
        if hashes > 0 {
            self.parsed.notes.push(format!(
                "{}: {hashes} `--hash` option{} not checked: cove installs by name and version",
                self.show(&path),
                if hashes == 1 { "" } else { "s" }
            ));
        }
        self.stack.pop();
        self.done.insert((path, mode));
        Ok(())
    }

    /// One logical line; returns how many `--hash` options it had.
    fn line(&mut self, file: &File, line: &Logical, mode: Mode) -> Result<usize> {
        let (start, end) = line.content();
        if start == end {
            return Ok(0);
        }
        if is_plain(&line.text[start..end]) {
            // The usual line: a requirement alone.
            self.requirement(file, line, &line.text[start..end], start, false, mode)?;
            return Ok(0);
        }
        let tokens = tokens(&line.text, start, end).map_err(|off| {
            Error::invalid(file.pos(line.file_offset(off)), "a quote is never closed").with_hint("close the quote")
        })?;
        let split = tokens.iter().position(|t| t.text.starts_with('-')).unwrap_or(tokens.len());
        let mut hashes = 0;
        if split > 0 {
            // A requirement, then per-requirement options: only `--hash` is understood.
            let req_end = tokens.get(split).map_or(end, |t| t.offset);
            let req = line.text[start..req_end].trim_end();
            self.requirement(file, line, req, start, false, mode)?;
            for (opt, value) in options(&tokens[split..], file, line)? {
                match opt.as_str() {
                    "--hash" => hashes += usize::from(value.is_some()),
                    _ => {
                        let off = tokens.iter().find(|t| t.text.starts_with(&opt)).map_or(start, |t| t.offset);
                        return Err(Error::invalid(
                            file.pos(line.file_offset(off)),
                            format!("option `{opt}` cannot follow a requirement"),
                        )
                        .with_hint("only `--hash` may follow a requirement; put other options on their own line"));
                    }
                }
            }
            return Ok(hashes);
        }
        for (opt, value) in options(&tokens, file, line)? {
            self.option(file, line, &opt, value, mode)?;
        }
        Ok(hashes)
    }

    fn option(&mut self, file: &File, line: &Logical, opt: &str, value: Option<Token>, mode: Mode) -> Result<()> {
        let value_pos = |v: &Token| file.pos(line.file_offset(v.offset));
        match (opt, value) {
            ("--requirement" | "--constraint", Some(v)) => {
                let next = if opt == "--constraint" { Mode::Constraints } else { mode };
                if v.text.contains("://") {
                    return Err(Error::invalid(
                        value_pos(&v),
                        format!("cove reads local requirements files only, not {}", v.text),
                    )
                    .with_hint("download the file into the project and name it by path"));
                }
                let inc = Include { pos: value_pos(&v), given: v.text.to_string() };
                self.file(&crate::settings::expand_home_from(&v.text, file.dir), next, Some(inc))
            }
            ("--editable", Some(v)) => {
                let start = v.offset;
                self.requirement(file, line, &v.text, start, true, mode)
            }
            ("--index-url", Some(v)) => {
                self.parsed.index.url = Some(v.text.into_owned());
                Ok(())
            }
            ("--extra-index-url", Some(v)) => {
                self.parsed.index.extra_urls.push(v.text.into_owned());
                Ok(())
            }
            ("--find-links", Some(v)) => {
                self.parsed.index.find_links.push(resolve_link(&v.text, file.dir));
                Ok(())
            }
            ("--no-index", None) => {
                self.parsed.index.no_index = true;
                Ok(())
            }
            ("--hash", Some(v)) => Err(Error::invalid(value_pos(&v), "`--hash` must follow a requirement on its line")
                .with_hint("write `name==version --hash=sha256:…`")),
            (o, _) if IGNORED.contains(&o) => {
                self.parsed.notes.push(format!("{}: `{o}` ignored", self.show(file.path)));
                Ok(())
            }
            _ => unreachable!("options() checked {opt}"),
        }
    }

    /// A requirement (or `-e` value) `text`, at byte `start` of the logical line.
    fn requirement(
        &mut self,
        file: &File,
        line: &Logical,
        text: &str,
        start: usize,
        editable: bool,
        mode: Mode,
    ) -> Result<()> {
        let at = |off: usize| file.pos(line.file_offset(start + off));
        if !is_named(text) {
            return self.unnamed(file, text, &at, editable, mode);
        }
        let r = requirement::parse_pep508(text, file.dir)
            .map_err(|e| requirement::invalid(at(e.offset), text, &e.message))?;
        if editable {
            return Err(Error::invalid(at(0), format!("`-e {text}` names a package, not a folder or URL"))
                .with_hint("drop the `-e`, or name the project's folder (`-e ./path`)"));
        }
        if mode == Mode::Constraints && !r.extras.is_empty() {
            return Err(Error::invalid(at(0), format!("a constraint cannot have extras: {text}"))
                .with_hint("constrain the package without its extras"));
        }
        let r = Requirement::from_pep508(&r, text);
        match mode {
            Mode::Requirements => self.parsed.requirements.push(r),
            Mode::Constraints => self.parsed.constraints.push(r),
        }
        Ok(())
    }

    /// A path or URL with no name: a local project folder, an archive, or a remote URL.
    fn unnamed(
        &mut self,
        file: &File,
        text: &str,
        at: &dyn Fn(usize) -> Pos,
        editable: bool,
        mode: Mode,
    ) -> Result<()> {
        requirement::guard_extras(text, 0)
            .and_then(|()| requirement::guard_unnamed_marker(text))
            .map_err(|e| requirement::invalid(at(e.offset), text, &e.message))?;
        let r = UnnamedRequirement::<VerbatimUrl>::parse(text, file.dir, &mut TracingReporter)
            .map_err(|e| requirement::invalid(at(e.start), text, &e.message.to_string()))?;
        if mode == Mode::Constraints {
            return Err(Error::invalid(at(0), format!("a constraint must name a package: {text}"))
                .with_hint("write it as `name @ URL`, or move it to a requirements file"));
        }
        let url = r.url.to_url();
        let path = (url.scheme() == "file").then(|| url.to_file_path().ok()).flatten();
        if let Some(dir) = path.as_ref().filter(|p| crate::inputs::is_dir(p)) {
            let extras: Vec<(String, Pos)> = r.extras.iter().map(|e| (e.to_string(), at(0))).collect();
            let (project, reqs) = project_table::local(&normal_path(dir), &extras, &at(0), self.reader, self.own)?;
            if r.marker.contents().is_some() {
                self.parsed.notes.push(format!("{}: the marker on `{text}` is ignored", self.show(file.path)));
            }
            self.parsed.requirements.extend(reqs);
            self.parsed.add_project(project);
            return Ok(());
        }
        if let Some(p) = path.as_ref().filter(|p| !crate::inputs::exists(p)) {
            return Err(Error::invalid(at(0), format!("no such file or folder: {}", p.display()))
                .with_hint("paths are relative to the requirements file's folder"));
        }
        if editable {
            self.parsed.notes.push(format!("{}: `-e {text}` is installed, but not editable", self.show(file.path)));
        }
        let mut canonical = url.to_string();
        let mut extras: Vec<String> = r.extras.iter().map(ToString::to_string).collect();
        extras.sort();
        extras.dedup();
        if !extras.is_empty() {
            canonical.push_str(&format!("[{}]", extras.join(",")));
        }
        if let Some(m) = r.marker.contents() {
            canonical.push_str(&format!(" ; {m}"));
        }
        self.parsed.requirements.push(Requirement::unnamed(canonical, guess_name(&url)));
        Ok(())
    }

    /// `p` relative to the first file's folder when it is beneath it.
    fn show(&self, p: &Path) -> String {
        p.strip_prefix(&self.root).unwrap_or(p).display().to_string()
    }
}

/// Options cove understands but that change nothing it does; noted in `cove status`.
const IGNORED: &[&str] =
    &["--trusted-host", "--prefer-binary", "--require-hashes", "--use-feature", "--only-binary", "--no-binary"];

/// Options that take a value.
const WITH_VALUE: &[&str] = &[
    "--requirement",
    "--constraint",
    "--editable",
    "--index-url",
    "--extra-index-url",
    "--find-links",
    "--hash",
    "--trusted-host",
    "--use-feature",
    "--only-binary",
    "--no-binary",
];

const FLAGS: &[&str] = &["--no-index", "--prefer-binary", "--require-hashes"];

fn long_name(short: char) -> Option<&'static str> {
    Some(match short {
        'r' => "--requirement",
        'c' => "--constraint",
        'e' => "--editable",
        'i' => "--index-url",
        'f' => "--find-links",
        _ => return None,
    })
}

/// The options in `tokens` as (long name, value), in pip's spellings: `-r F`, `-rF`,
/// `--requirement F`, `--requirement=F`.
fn options<'t>(tokens: &[Token<'t>], file: &File, line: &Logical) -> Result<Vec<(String, Option<Token<'t>>)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let pos = || file.pos(line.file_offset(t.offset));
        let (name, inline) = split_option(t).ok_or_else(|| {
            Error::invalid(pos(), format!("expected an option, found `{}`", t.text))
                .with_hint("put each requirement on its own line")
        })?;
        if !WITH_VALUE.contains(&name.as_str()) && !FLAGS.contains(&name.as_str()) {
            return Err(unknown_option(&name, pos()));
        }
        let value = match (WITH_VALUE.contains(&name.as_str()), inline) {
            (true, None) => {
                i += 1;
                Some(tokens.get(i).cloned().ok_or_else(|| {
                    Error::invalid(pos(), format!("`{}` needs a value", t.text))
                        .with_hint(format!("write `{name} VALUE`"))
                })?)
            }
            (false, Some(_)) => return Err(Error::invalid(pos(), format!("`{name}` takes no value"))),
            (_, inline) => inline,
        };
        out.push((name, value));
        i += 1;
    }
    Ok(out)
}

/// `--name=value` / `--name` / `-xVALUE` / `-x`, as a long name and an inline value.
fn split_option<'t>(t: &Token) -> Option<(String, Option<Token<'t>>)> {
    if let Some(long) = t.text.strip_prefix("--") {
        return Some(match long.split_once('=') {
            Some((n, v)) => {
                (format!("--{n}"), Some(Token { text: Cow::Owned(v.to_string()), offset: t.offset + n.len() + 3 }))
            }
            None => (t.text.to_string(), None),
        });
    }
    let mut chars = t.text.strip_prefix('-')?.chars();
    let short = chars.next()?;
    let name = long_name(short).map_or_else(|| format!("-{short}"), str::to_string);
    let rest = chars.as_str();
    Some((name, (!rest.is_empty()).then(|| Token { text: Cow::Owned(rest.to_string()), offset: t.offset + 2 })))
}

fn unknown_option(name: &str, pos: Pos) -> Error {
    let hint = match name {
        "--pre" => "cove does not allow pre-releases file-wide; name one in a requirement (`pkg>=2.0b1`) and \
                    PEP 440 allows it for that package"
            .to_string(),
        "--config-settings" | "--global-option" | "--install-option" => {
            "cove cannot pass build options; build a wheel and point `--find-links` at it".to_string()
        }
        _ => {
            let known: Vec<&str> = WITH_VALUE.iter().chain(FLAGS).copied().collect();
            match nearest(name, &known) {
                Some(n) => format!("did you mean `{n}`?"),
                None => "cove understands -r, -c, -e, -i, --extra-index-url, -f, --no-index and --hash".into(),
            }
        }
    };
    Error::invalid(pos, format!("unsupported option `{name}` in a requirements file")).with_hint(hint)
}

/// Whether a requirement line starts with a PEP 508 name, as opposed to a path or URL (pip's
/// rule: a path has a `/` or starts with `.`; an archive is named by its file name).
fn is_named(text: &str) -> bool {
    let head = text.split(|c: char| c == '[' || c == ';' || c.is_whitespace()).next().unwrap_or("");
    let head = head.split('@').next().unwrap_or(head);
    let archive = [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"].iter().any(|s| head.ends_with(s));
    head.starts_with(|c: char| c.is_ascii_alphanumeric()) && !head.contains(['/', '\\']) && !archive
}

/// A distribution name for a URL, for messages: `#egg=NAME`, else the file name's first part.
fn guess_name(url: &url::Url) -> String {
    if let Some(egg) = url.fragment().and_then(|f| f.split('&').find_map(|kv| kv.strip_prefix("egg="))) {
        return requirement::normalise_name(egg);
    }
    let last = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
    let first = last.split('-').next().filter(|n| !n.is_empty());
    first.map_or_else(|| url.to_string(), |n| requirement::normalise_name(n.trim_end_matches(".git")))
}

/// One logical line: physical lines joined at `\`, with a map back to file offsets. Most lines
/// are a single physical line, borrowed from the file's text.
#[derive(Debug)]
struct Logical<'t> {
    text: Cow<'t, str>,
    /// The file offset where the first piece starts (offset 0 of `text`).
    start: usize,
    /// (offset in `text`, offset in the file) at the start of each further piece joined on.
    more: Vec<(usize, usize)>,
}

impl Logical<'_> {
    fn file_offset(&self, offset: usize) -> usize {
        let (start, file) = self.more.iter().rev().find(|(s, _)| *s <= offset).copied().unwrap_or((0, self.start));
        file + offset - start
    }

    /// The byte range left once a comment is removed and whitespace trimmed.
    fn content(&self) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let cut = (0..bytes.len())
            .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()))
            .unwrap_or(bytes.len());
        let kept = &self.text[..cut];
        let end = kept.trim_end().len();
        let start = end - kept[..end].trim_start().len();
        (start, end)
    }
}

/// Join continuation lines as pip does: a line ending in `\` continues on the next one, unless
/// it is a comment; a comment line also ends a continuation. Read as they are used, not
/// collected first.
fn logical_lines(text: &str) -> impl Iterator<Item = Logical<'_>> {
    let mut raws = text.split('\n');
    let mut offset = 0;
    std::iter::from_fn(move || {
        let mut pending: Option<Logical> = None;
        for raw in raws.by_ref() {
            let line_start = offset;
            offset += raw.len() + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let comment = line.trim_start().starts_with('#');
            let continues = line.ends_with('\\') && !comment;
            let piece = if continues { line.trim_end_matches('\\') } else { line };
            match &mut pending {
                None => pending = Some(Logical { text: Cow::Borrowed(piece), start: line_start, more: Vec::new() }),
                Some(logical) if !comment || logical.text.is_empty() => {
                    logical.more.push((logical.text.len(), line_start));
                    logical.text.to_mut().push_str(piece);
                }
                Some(_) => {}
            }
            if !continues {
                return pending;
            }
        }
        // The text ended inside a continued line (or was already read).
        pending
    })
}

/// A word of an option line, its quotes removed, at a byte offset of the logical line.
#[derive(Debug, Clone)]
pub(crate) struct Token<'t> {
    pub(crate) text: Cow<'t, str>,
    pub(crate) offset: usize,
}

/// Whether [`tokens`] would find no option in `text` (no word starting with `-`) and no
/// unclosed quote, so `text` is a requirement alone; one quick pass over the bytes. `false`
/// when unsure: a `\` anywhere, or a `-` after anything but a printable ASCII character other
/// than a quote (only after a space, a quote or at the start can a word's text begin with `-`).
pub(crate) fn is_plain(text: &str) -> bool {
    let mut quote = None;
    let mut prev = b' ';
    for &b in text.as_bytes() {
        match (quote, b) {
            (_, b'\\') => return false,
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
        if b == b'-' && !(prev.is_ascii_graphic() && prev != b'\'' && prev != b'"') {
            return false;
        }
        prev = b;
    }
    quote.is_none()
}

/// Split `text[start..end]` into words the way a shell would (quotes group, `\` escapes
/// outside single quotes). `Err(offset)` points at an unclosed quote. A word without quotes or
/// escapes is borrowed from `text`.
pub(crate) fn tokens(text: &str, start: usize, end: usize) -> std::result::Result<Vec<Token<'_>>, usize> {
    /// The word being read: where it starts, and its text once a quote or escape made it differ
    /// from `text` (until then it is `text[start..]`, up to where it ends).
    struct Current {
        offset: usize,
        owned: Option<String>,
    }
    /// The word's text so far, as an owned string, started at `i` if there is none yet.
    fn owned<'c>(current: &'c mut Option<Current>, text: &str, i: usize) -> &'c mut String {
        let c = current.get_or_insert(Current { offset: i, owned: None });
        c.owned.get_or_insert_with(|| text[c.offset..i].to_string())
    }
    fn finish(current: Option<Current>, text: &str, end: usize) -> Option<Token<'_>> {
        let c = current?;
        let text = c.owned.map_or(Cow::Borrowed(&text[c.offset..end]), Cow::Owned);
        Some(Token { text, offset: c.offset })
    }
    let mut out = Vec::with_capacity(8);
    let mut current: Option<Current> = None;
    let mut quote: Option<(char, usize)> = None;
    let mut chars = text[start..end].char_indices().map(|(i, c)| (i + start, c));
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some((q, _)), c) if c == q => quote = None,
            (Some(('"', _)), '\\') | (None, '\\') => match chars.next() {
                Some((_, n)) => owned(&mut current, text, i).push(n),
                // A `\` ending the text is dropped: the word's text stops before it.
                None if current.is_some() => drop(owned(&mut current, text, i)),
                None => {}
            },
            (Some(_), c) => owned(&mut current, text, i).push(c),
            (None, '"' | '\'') => {
                quote = Some((c, i));
                owned(&mut current, text, i);
            }
            (None, c) if c.is_whitespace() => out.extend(finish(current.take(), text, i)),
            (None, c) => match &mut current {
                None => current = Some(Current { offset: i, owned: None }),
                Some(Current { owned: Some(s), .. }) => s.push(c),
                Some(Current { owned: None, .. }) => {}
            },
        }
    }
    if let Some((_, at)) = quote {
        return Err(at);
    }
    out.extend(finish(current, text, end));
    Ok(out)
}

/// What `cove init` takes from a requirements file: its requirements (`-r` includes read in
/// place), in the file's order, and its index options.
pub struct Imported {
    pub requirements: Vec<String>,
    pub index: crate::manifest::parts::Index,
    /// What was read but not kept (`--hash`, ignored options).
    pub notes: Vec<String>,
}

/// Read `path` for `cove init`: all of it, or an error naming each line that a cove.toml
/// cannot say (`-c` constraints, `-e` and other local projects, bare paths and URLs).
pub fn import(path: &Path) -> Result<Imported> {
    let mut reader = Reader::new();
    let parsed = parse_root(path, &mut reader)?;
    let (files, _) = reader.finish();
    let root = path.parent().unwrap_or(Path::new("/"));
    let mut refused = Vec::new();
    for file in files.iter().filter(|f| f.file_name().is_none_or(|n| n != "pyproject.toml")) {
        let Ok(bytes) = crate::fsx::read_manifest(file) else { continue };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for line in logical_lines(&text) {
            let (start, end) = line.content();
            let content = line.text[start..end].trim();
            let why = if content.is_empty() {
                continue;
            } else if content.starts_with("-c") || content.starts_with("--constraint") {
                "cove.toml has no constraints"
            } else if content.starts_with("-e") || content.starts_with("--editable") {
                "cove.toml cannot install a project in editable mode"
            } else if !content.starts_with('-') && !is_named(content.split(" -").next().unwrap_or(content)) {
                "cove.toml needs a name for a path or URL (`name @ URL`)"
            } else {
                continue;
            };
            let pos = Pos::at(file, &text, line.file_offset(start));
            let shown = file.strip_prefix(root).unwrap_or(file).display().to_string();
            refused.push(format!("{shown}:{}: `{content}` ({why})", pos.line));
        }
    }
    if !refused.is_empty() {
        return Err(Error::CannotImport { file: path.to_path_buf(), refused });
    }
    let mut seen = HashSet::new();
    let requirements =
        parsed.requirements.into_iter().map(|r| r.canonical).filter(|c| seen.insert(c.clone())).collect();
    Ok(Imported { requirements, index: parsed.index, notes: parsed.notes })
}

/// The requirement strings of a requirements file, for `cove init` to import: requirement
/// lines only, comments and options dropped.
pub fn plain_requirements(path: &Path) -> Result<Vec<String>> {
    let text = String::from_utf8_lossy(&crate::fsx::read_manifest(path)?).into_owned();
    Ok(logical_lines(&text)
        .filter_map(|l| {
            let (s, e) = l.content();
            let t = l.text[s..e].trim();
            (!t.is_empty() && !t.starts_with('-')).then(|| t.split(" -").next().unwrap_or(t).trim().to_string())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files under a temp folder; parse `requirements.txt` there. Errors and notes have the
    /// folder replaced by `DIR`.
    struct Tree(tempfile::TempDir);

    impl Tree {
        fn new(files: &[(&str, &str)]) -> Tree {
            Tree(crate::fsx::temp_tree(files))
        }

        fn dir(&self) -> &Path {
            self.0.path()
        }

        fn parse(&self) -> std::result::Result<(Parsed, Vec<PathBuf>), String> {
            let mut reader = Reader::new();
            let parsed = parse_root(&self.dir().join("requirements.txt"), &mut reader).map_err(|e| self.clean(&e))?;
            Ok((parsed, reader.finish().0))
        }

        fn clean(&self, e: &Error) -> String {
            let mut s = e.to_string();
            if let Some(h) = e.hint() {
                s = format!("{s} | {h}");
            }
            s.replace(&self.dir().display().to_string(), "DIR")
        }

        fn err(&self) -> String {
            self.parse().map(|_| ()).unwrap_err()
        }
    }

    fn canon(list: &[Requirement]) -> Vec<&str> {
        let mut v: Vec<&str> = list.iter().map(|r| r.canonical.as_str()).collect();
        v.sort();
        v
    }

    #[test]
    fn lines_comments_continuations_and_markers() {
        let t = Tree::new(&[(
            "requirements.txt",
            "# a comment\n\nAlpha==1.0  # pinned\nbeta >= 1.0, \\\n  < 3 ; python_version >= \"3.8\"\n   \ngamma\t# tab, then a comment\n  # indented comment \\\ndelta\n",
        )]);
        let (p, files) = t.parse().unwrap();
        assert_eq!(canon(&p.requirements), ["alpha==1.0", "beta<3,>=1.0 ; python_version >= '3.8'", "delta", "gamma"]);
        assert_eq!(files.len(), 1);
        // `#` right after a name is not a comment (pip's rule), so this is a bad requirement.
        let t = Tree::new(&[("requirements.txt", "gamma#x\n")]);
        assert!(t.err().starts_with("DIR/requirements.txt:1:6: invalid requirement \"gamma#x\""), "{}", t.err());
    }

    #[test]
    fn includes_constraints_index_options_and_hashes() {
        let t = Tree::new(&[
            (
                "requirements.txt",
                "--index-url https://example.org/simple\n--extra-index-url=https://extra.example.org/simple\n-f ./wheels\n--no-index\n-r req/dev.txt\n-c req/constraints.txt\nbeta==1.0 --hash=sha256:aaa \\\n    --hash sha256:bbb\n",
            ),
            ("req/dev.txt", "-rcommon.txt\ngamma\n"),
            ("req/common.txt", "delta\n--find-links ../more\n"),
            ("req/constraints.txt", "alpha==1.0\n-r common.txt\n"),
        ]);
        let (p, files) = t.parse().unwrap();
        assert_eq!(canon(&p.requirements), ["beta==1.0", "delta", "gamma"]);
        assert_eq!(canon(&p.constraints), ["alpha==1.0", "delta"]);
        assert_eq!(p.index.url.as_deref(), Some("https://example.org/simple"));
        assert_eq!(p.index.extra_urls, ["https://extra.example.org/simple"]);
        let d = t.dir().display().to_string();
        assert_eq!(p.index.find_links, [format!("{d}/wheels"), format!("{d}/more"), format!("{d}/more")]);
        assert!(p.index.no_index);
        assert_eq!(p.notes, ["requirements.txt: 2 `--hash` options not checked: cove installs by name and version"]);
        // common.txt is included twice but read (and counted for trust) once.
        let names: Vec<String> = files.iter().map(|f| f.strip_prefix(t.dir()).unwrap().display().to_string()).collect();
        assert_eq!(names, ["requirements.txt", "req/dev.txt", "req/common.txt", "req/constraints.txt"]);
    }

    #[test]
    fn local_projects_join_their_dependencies_and_are_recorded() {
        let t = Tree::new(&[
            ("requirements.txt", "-e .[Test]\n./libs/util\n-e ./legacy\n"),
            (
                "pyproject.toml",
                "[project]\nname = \"app\"\ndependencies = [\"alpha>=1\"]\n[project.optional-dependencies]\ntest = [\"gamma\", \"app[extra]\"]\nextra = [\"delta\"]\nunused = [\"not a valid requirement !!\"]\n",
            ),
            ("libs/util/pyproject.toml", "[project]\nname = \"util\"\ndependencies = [\"beta\"]\n"),
            ("legacy/setup.py", "from setuptools import setup\nsetup()\n"),
        ]);
        let (p, files) = t.parse().unwrap();
        assert_eq!(canon(&p.requirements), ["alpha>=1", "beta", "delta", "gamma"]);
        let own = p.install_project.unwrap();
        assert_eq!(own.dir, t.dir());
        assert_eq!(own.extras, ["test"]);
        assert!(!own.dynamic);
        assert_eq!(own.tables_digest.len(), 64);
        let others: Vec<(String, bool)> = p
            .other_projects
            .iter()
            .map(|o| (o.dir.strip_prefix(t.dir()).unwrap().display().to_string(), o.dynamic))
            .collect();
        assert_eq!(others, [("libs/util".to_string(), false), ("legacy".to_string(), true)]);
        assert_eq!(files.len(), 3, "requirements.txt and two pyproject.toml files: {files:?}");
    }

    #[test]
    fn a_dynamic_local_project_adds_no_requirements() {
        let t = Tree::new(&[
            ("requirements.txt", "-e .[test]\n"),
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools\"]\n[project]\nname = \"x\"\ndynamic = [\"dependencies\", \"optional-dependencies\"]\n",
            ),
        ]);
        let (p, _) = t.parse().unwrap();
        assert!(p.requirements.is_empty());
        assert!(p.install_project.unwrap().dynamic);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases: &[(&str, &str)] = &[
            ("alpha\n  beta >>= 1\n", "DIR/requirements.txt:2:8: invalid requirement \"beta >>= 1\""),
            (
                "--pre\n",
                "DIR/requirements.txt:1:1: unsupported option `--pre` in a requirements file | cove does not allow",
            ),
            (
                "--index-ur x\n",
                "DIR/requirements.txt:1:1: unsupported option `--index-ur` in a requirements file | did you mean `--index-url`?",
            ),
            ("alpha --no-index\n", "DIR/requirements.txt:1:7: option `--no-index` cannot follow a requirement"),
            ("-r\n", "DIR/requirements.txt:1:1: `-r` needs a value | write `--requirement VALUE`"),
            ("--no-index=yes\n", "DIR/requirements.txt:1:1: `--no-index` takes no value"),
            ("-e alpha==1.0\n", "DIR/requirements.txt:1:4: `-e alpha==1.0` names a package, not a folder or URL"),
            (
                "-r missing.txt\n",
                "DIR/requirements.txt:1:4: cannot read missing.txt (DIR/missing.txt): No such file or directory (os error 2) | fix the file name, or create the file",
            ),
            (
                "-r https://example.org/r.txt\n",
                "DIR/requirements.txt:1:4: cove reads local requirements files only, not https://example.org/r.txt",
            ),
            ("--hash=sha256:abc\n", "DIR/requirements.txt:1:8: `--hash` must follow a requirement on its line"),
            ("--index-url 'https://x\n", "DIR/requirements.txt:1:13: a quote is never closed"),
            ("./nothing-here\n", "DIR/requirements.txt:1:1: no such file or folder: DIR/nothing-here"),
            (
                "-e ./empty\n",
                "DIR/requirements.txt:1:4: DIR/empty is not a Python project: it has no pyproject.toml or setup.py",
            ),
            ("-e .[tets]\n", "DIR/requirements.txt:1:4: the project has no extra `tets` | did you mean `test`?"),
        ];
        for (text, want) in cases {
            let t = Tree::new(&[
                ("requirements.txt", text),
                ("empty/.keep", ""),
                ("pyproject.toml", "[project]\nname = \"p\"\n[project.optional-dependencies]\ntest = []\n"),
            ]);
            let got = t.err();
            assert!(got.starts_with(want), "{text:?}\n got: {got}\nwant: {want}");
        }
    }

    /// The canonical text (so the key) of these lines, and these errors, must not change; see
    /// `key::tests::canonical_texts_and_keys_are_pinned`.
    #[test]
    fn canonical_texts_and_marker_errors_are_pinned() {
        let t = Tree::new(&[(
            "requirements.txt",
            "pkg-1[extra]>=1.1,<3 ; python_version >= '3.8'\r\n\tBeta >= 1.0, \\\n  < 3 ; python_version >= \"3.8\" \\\n   and os_name == \"posix\"  # comment\nGamma==2.0 --hash=sha256:abc\ndelta ; platform_version == \"#1 -x\"\n  # indented \\\nepsilon[A] @ https://e.org/e.whl ; os_name == \"nt\"\nzeta;python_version<\"4\" # real comment\n",
        )]);
        let (p, _) = t.parse().unwrap();
        assert_eq!(
            canon(&p.requirements),
            [
                "beta<3,>=1.0 ; python_version >= '3.8' and os_name == 'posix'",
                "delta ; platform_version == '#1 -x'",
                "epsilon[a] @ https://e.org/e.whl ; os_name == 'nt'",
                "gamma==2.0",
                "pkg-1[extra]<3,>=1.1 ; python_version >= '3.8'",
                "zeta ; python_version < '4'",
            ]
        );
        let cases: &[(&str, &str)] = &[
            (
                "x ; platform_version == \"-1\"\n",
                "DIR/requirements.txt:1:24: invalid requirement \"x ; platform_version ==\": Expected marker value, found end of dependency specification",
            ),
            (
                "x ; \n",
                "DIR/requirements.txt:1:4: invalid requirement \"x ;\": Expected marker value, found end of dependency specification",
            ),
            (
                "x ;; os_name==\"nt\"\n",
                "DIR/requirements.txt:1:4: invalid requirement \"x ;; os_name==\\\"nt\\\"\": Expected a quoted string or a valid marker name, found `;`",
            ),
            (
                "x>=1 ; os_name==\"nt\" and\n",
                "DIR/requirements.txt:1:25: invalid requirement \"x>=1 ; os_name==\\\"nt\\\" and\": Expected marker value, found end of dependency specification",
            ),
            (
                "x>=1 ; os_name==\"nt\" extra\n",
                "DIR/requirements.txt:1:22: invalid requirement \"x>=1 ; os_name==\\\"nt\\\" extra\": Unexpected character 'e', expected 'and', 'or' or end of input",
            ),
            (
                "x (>=1 ; os_name==\"nt\")\n",
                "DIR/requirements.txt:1:4: invalid requirement \"x (>=1 ; os_name==\\\"nt\\\")\": Trailing `; os_name==\"nt\"` is not allowed",
            ),
            (
                "x>=1;(os_name==\"nt\"\n",
                "DIR/requirements.txt:1:6: invalid requirement \"x>=1;(os_name==\\\"nt\\\"\": Expected ')', found end of dependency specification",
            ),
            (
                "x ; python_version >= '3.8' ; os_name == 'nt'\n",
                "DIR/requirements.txt:1:29: invalid requirement \"x ; python_version >= '3.8' ; os_name == 'nt'\": Unexpected character ';', expected 'and', 'or' or end of input",
            ),
            (
                "zeta;python_version<\"4\"#not-a-comment\n",
                "DIR/requirements.txt:1:24: invalid requirement \"zeta;python_version<\\\"4\\\"#not-a-comment\": Unexpected character '#', expected 'and', 'or' or end of input",
            ),
        ];
        for (text, want) in cases {
            let got = Tree::new(&[("requirements.txt", text)]).err();
            assert!(got.starts_with(want), "{text:?}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn errors_in_included_files_and_continued_lines_point_into_them() {
        let t = Tree::new(&[("requirements.txt", "-r sub/more.txt\n"), ("sub/more.txt", "# x\nalpha \\\n  [bad\n")]);
        assert!(t.err().starts_with("DIR/sub/more.txt:3:3: invalid requirement \"alpha   [bad\""), "{}", t.err());
        let t = Tree::new(&[("requirements.txt", "-c c.txt\n"), ("c.txt", "alpha[x]==1\n")]);
        assert_eq!(
            t.err(),
            "DIR/c.txt:1:1: a constraint cannot have extras: alpha[x]==1 | constrain the package without its extras"
        );
        let t = Tree::new(&[("requirements.txt", "-c c.txt\n"), ("c.txt", "./wheel.whl\n"), ("wheel.whl", "")]);
        assert!(t.err().starts_with("DIR/c.txt:1:1: a constraint must name a package: ./wheel.whl"), "{}", t.err());
    }

    #[test]
    fn include_cycles_name_the_files() {
        let t = Tree::new(&[
            ("requirements.txt", "-r a/dev.txt\n"),
            ("a/dev.txt", "alpha\n-r ../b/test.txt\n"),
            ("b/test.txt", "-c ../requirements.txt\n"),
        ]);
        assert_eq!(
            t.err(),
            "DIR/b/test.txt:1:4: requirements files include each other in a cycle: requirements.txt → a/dev.txt → b/test.txt → requirements.txt | remove one of these `-r`/`-c` lines"
        );
    }

    #[test]
    fn deep_and_repeated_includes_are_bounded() {
        // Each file includes the next twice: read once each, not 2^40 times.
        let files: Vec<(String, String)> = (0..40)
            .map(|i| {
                (format!("r{i}.txt"), if i < 39 { format!("-r r{}.txt\n", i + 1).repeat(2) } else { "alpha\n".into() })
            })
            .chain([("requirements.txt".to_string(), "-r r20.txt\n".to_string())])
            .collect();
        let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (parsed, _) = Tree::new(&refs).parse().unwrap();
        assert_eq!(canon(&parsed.requirements), ["alpha"]);
        // A chain deeper than the bound is an error at the `-r` line, not a stack overflow.
        let files: Vec<(String, String)> = (0..200)
            .map(|i| (format!("r{i}.txt"), format!("-r r{}.txt\n", i + 1)))
            .chain([("r200.txt".to_string(), "alpha\n".to_string()), ("requirements.txt".into(), "-r r0.txt\n".into())])
            .collect();
        let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let e = Tree::new(&refs).err();
        assert!(e.starts_with("DIR/r30.txt:1:4: requirements files include each other more than 32 deep"), "{e}");
    }

    #[test]
    fn urls_and_archives_are_kept_as_written_and_named() {
        let t = Tree::new(&[
            (
                "requirements.txt",
                "https://example.org/w/alpha-1.0-py3-none-any.whl\n-e git+https://example.org/r/Foo_Bar.git@v1#egg=Foo_Bar\n./dist/gamma-1.0.tar.gz[x] ; os_name == 'posix'\nname @ https://example.org/n.zip\n",
            ),
            ("dist/gamma-1.0.tar.gz", ""),
        ]);
        let (p, _) = t.parse().unwrap();
        let got: Vec<(String, String)> = p
            .requirements
            .iter()
            .map(|r| (r.name.clone(), r.canonical.replace(&t.dir().display().to_string(), "DIR")))
            .collect();
        assert_eq!(
            got,
            [
                ("alpha".to_string(), "https://example.org/w/alpha-1.0-py3-none-any.whl".to_string()),
                ("foo-bar".to_string(), "git+https://example.org/r/Foo_Bar.git@v1#egg=Foo_Bar".to_string()),
                ("gamma".to_string(), "file://DIR/dist/gamma-1.0.tar.gz[x] ; os_name == 'posix'".to_string()),
                ("name".to_string(), "name @ https://example.org/n.zip".to_string()),
            ]
        );
        assert_eq!(
            p.notes,
            [
                "requirements.txt: `-e git+https://example.org/r/Foo_Bar.git@v1#egg=Foo_Bar` is installed, but not editable"
            ]
        );
    }

    #[test]
    fn named_and_unnamed_lines_are_told_apart() {
        for named in
            ["alpha", "Alpha.B_c-d>=1", "x[y]", "x@ https://e.org/x.whl", "x (>=1)", "x;os_name=='nt'", "x ~= 1.0"]
        {
            assert!(is_named(named), "{named}");
        }
        for unnamed in [
            ".",
            "./x",
            "../x[y]",
            "/abs/p",
            "~/p",
            "https://e.org/a.whl",
            "git+https://e.org/r",
            "alpha-1.0.tar.gz",
            "a-1.0-py3-none-any.whl",
            "[x]",
        ] {
            assert!(!is_named(unnamed), "{unnamed}");
        }
    }

    #[test]
    fn words_split_as_a_shell_would() {
        let words = |s: &str| -> Vec<(String, usize)> {
            tokens(s, 0, s.len()).unwrap().into_iter().map(|t| (t.text.into_owned(), t.offset)).collect()
        };
        let w = |list: &[(&str, usize)]| -> Vec<(String, usize)> {
            list.iter().map(|(t, o)| (t.to_string(), *o)).collect()
        };
        assert_eq!(words("a \"b c\"\\ d 'e\\f' g\\"), w(&[("a", 0), ("b c d", 2), ("e\\f", 11), ("g", 17)]));
        assert_eq!(words("ab\"c d\"e  x\\ y \\"), w(&[("abc de", 0), ("x y", 10)]));
        assert_eq!(words("\"a\\\"b\" ''  \t-r\tf"), w(&[("a\"b", 0), ("", 7), ("-r", 12), ("f", 15)]));
        assert_eq!(tokens("--index-url 'x", 0, 14).unwrap_err(), 12);
    }

    #[test]
    fn ignored_options_are_noted() {
        let t = Tree::new(&[("requirements.txt", "--trusted-host example.org\n--prefer-binary\nalpha\n")]);
        let (p, _) = t.parse().unwrap();
        assert_eq!(
            p.notes,
            ["requirements.txt: `--trusted-host` ignored", "requirements.txt: `--prefer-binary` ignored"]
        );
    }
}
