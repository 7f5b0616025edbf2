//! One PEP 508 requirement, parsed by `pep508_rs` and written in a canonical form:
//! PEP 503 name, sorted extras, sorted specifiers, and the marker re-spelled token by token
//! (single spaces, single quotes, PEP 685 extra names, legacy variable names replaced).
//! Reordering, re-spacing or re-casing a requirement never changes its canonical text.
//!
//! Why the marker is not `pep508_rs`'s own rendering: it simplifies the expression and turns
//! `python_version >= '3.13'` into `python_full_version >= '3.13'`, which is false on a
//! 3.13.0rc1 interpreter, so the installer (which gets the canonical text) would skip the
//! requirement there (found by `tests/requirements_differential.rs`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, VersionSpecifier, VersionSpecifiers};
use pep508_rs::{MarkerEnvironment, MarkerTree, Requirement as Pep508, VersionOrUrl};

use crate::error::{Error, Pos, Result};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    /// Canonical text; also what the installer is given.
    pub canonical: String,
    /// PEP 503 normalised name.
    pub name: String,
}

impl Requirement {
    /// Parse `text`, reporting errors at `pos` (the string's place in its file).
    pub fn parse(text: &str, pos: &Pos, base_dir: &Path) -> Result<Requirement> {
        let parsed = parse_pep508(text, base_dir).map_err(|e| invalid(pos.clone(), text, &e.message))?;
        Ok(Requirement::from_pep508(&parsed, text))
    }

    /// A requirement PEP 508 cannot name (a bare URL or archive path, as requirements files
    /// allow): `canonical` is what the installer gets; `name` is the best guess at the
    /// distribution's name, for messages.
    pub fn unnamed(canonical: String, name: String) -> Requirement {
        Requirement { canonical, name }
    }

    /// The canonical form of `r`, parsed from `source`.
    pub fn from_pep508(r: &Pep508<pep508_rs::VerbatimUrl>, source: &str) -> Requirement {
        let name = r.name.as_ref().to_string();
        let mut out = String::with_capacity(source.len() + 16);
        out.push_str(&name);
        match r.extras.as_slice() {
            [] => {}
            [extra] => {
                out.push('[');
                out.push_str(extra.as_ref());
                out.push(']');
            }
            several => {
                let mut extras: Vec<&str> = several.iter().map(AsRef::as_ref).collect();
                extras.sort_unstable();
                extras.dedup();
                out.push('[');
                out.push_str(&extras.join(","));
                out.push(']');
            }
        }
        match &r.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) => push_specifiers(&mut out, specs),
            Some(VersionOrUrl::Url(url)) => {
                out.push_str(" @ ");
                out.push_str(url.raw().as_str());
            }
            None => {}
        }
        if let Some(tree) = r.marker.contents() {
            let url = matches!(r.version_or_url, Some(VersionOrUrl::Url(_)));
            out.push_str(" ; ");
            if !marker_source(source, url).is_some_and(|m| push_spelled_marker(&mut out, m)) {
                out.push_str(&tree.to_string());
            }
        }
        Requirement { canonical: out, name }
    }

    /// Whether the marker holds for `env` (true when there is no marker).
    pub fn applies(&self, env: &MarkerEnvironment) -> bool {
        Pep508::<pep508_rs::VerbatimUrl>::from_str(&self.canonical).map_or(true, |r| r.evaluate_markers(env, &[]))
    }

    /// Whether `version` satisfies this requirement's specifiers (true for URL requirements and
    /// unparsable versions, which a lock check cannot judge).
    pub fn allows_version(&self, version: &str) -> bool {
        let Ok(r) = Pep508::<pep508_rs::VerbatimUrl>::from_str(&self.canonical) else { return true };
        let Ok(v) = pep440_rs::Version::from_str(version) else { return true };
        let Some(VersionOrUrl::VersionSpecifier(specs)) = r.version_or_url else { return true };
        specs.contains(&v)
    }
}

/// Append `specs` to `out` as `pep440_rs` spells each one, sorted and de-duplicated, joined by
/// commas.
fn push_specifiers(out: &mut String, specs: &VersionSpecifiers) {
    if let [spec] = &specs[..] {
        push_specifier(out, spec);
        return;
    }
    let start = out.len();
    // Spell each one after the text so far, then sort their ranges and write them back in order.
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(specs.len());
    for spec in specs.iter() {
        let from = out.len();
        push_specifier(out, spec);
        spans.push((from, out.len()));
    }
    let spelled = out.split_off(start);
    let text = |&(a, b): &(usize, usize)| &spelled[a - start..b - start];
    spans.sort_unstable_by(|x, y| text(x).cmp(text(y)));
    spans.dedup_by(|x, y| text(x) == text(y));
    for (i, span) in spans.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(text(span));
    }
}

/// Append `spec` as its `Display` spells it. A plain release version (`1.2.3`, the usual case) is
/// written directly: `pep440_rs`'s `Display` allocates a string per part, which was a large share
/// of reading a long requirements file (issue #9). Anything else goes through `Display`.
pub(crate) fn push_specifier(out: &mut String, spec: &VersionSpecifier) {
    use std::fmt::Write;
    let v = spec.version();
    let plain = v.epoch() == 0 && v.pre().is_none() && v.post().is_none() && v.dev().is_none() && v.local().is_empty();
    if !plain {
        let _ = write!(out, "{spec}");
        return;
    }
    #[allow(deprecated)]
    let (op, star) = match spec.operator() {
        Operator::Equal => ("==", false),
        Operator::EqualStar => ("==", true),
        Operator::ExactEqual => ("===", false),
        Operator::NotEqual => ("!=", false),
        Operator::NotEqualStar => ("!=", true),
        Operator::TildeEqual => ("~=", false),
        Operator::LessThan => ("<", false),
        Operator::LessThanEqual => ("<=", false),
        Operator::GreaterThan => (">", false),
        Operator::GreaterThanEqual => (">=", false),
    };
    out.push_str(op);
    for (i, &n) in v.release().iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_number(out, n);
    }
    if star {
        out.push_str(".*");
    }
}

/// Append `n` in decimal.
fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// Why a requirement string did not parse: the byte offset in it where the parser stopped,
/// and its message.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// Parse one PEP 508 string; relative paths in `name @ ./path` are against `base_dir`.
pub fn parse_pep508(text: &str, base_dir: &Path) -> std::result::Result<Pep508<pep508_rs::VerbatimUrl>, ParseError> {
    guard(text)?;
    let r = parse_in_two(text, base_dir).map_or_else(|| parse_whole(text, base_dir), Ok)?;
    check_url(text, &r)?;
    Ok(r)
}

/// Refuse a `name @ URL` whose URL pip would refuse but `pep508_rs` reads as a file path:
/// one with spaces in it, or starting with another `@` (`requests @@ 2`).
fn check_url(text: &str, r: &Pep508<pep508_rs::VerbatimUrl>) -> std::result::Result<(), ParseError> {
    let Some(VersionOrUrl::Url(url)) = &r.version_or_url else { return Ok(()) };
    let given = url.given().unwrap_or("");
    let bad = given.starts_with('@') || given.contains(char::is_whitespace);
    if !bad {
        return Ok(());
    }
    let at = text.find('@').map_or(0, |i| i + 1);
    let offset = at + text[at..].len() - text[at..].trim_start().len();
    Err(ParseError {
        offset,
        message: format!("invalid URL {given:?}: a URL has no spaces and does not start with `@`"),
    })
}

/// `text` parsed by `pep508_rs` in one piece (call [`guard`] first).
pub(crate) fn parse_whole(
    text: &str,
    base_dir: &Path,
) -> std::result::Result<Pep508<pep508_rs::VerbatimUrl>, ParseError> {
    let r = Pep508::<pep508_rs::VerbatimUrl>::parse(text, base_dir)
        .map_err(|e| ParseError { offset: e.start, message: e.message.to_string() })?;
    check_url(text, &r)?;
    Ok(r)
}

/// Parse a named requirement with a marker as two strings, the part before the first `;` and
/// the marker after it, each by `pep508_rs`, with the marker's tree remembered by its text.
/// Building a marker's decision diagram is most of the parser's time, and the requirements of a
/// long file share a few markers (`python_version >= '3.8'`): issue #9.
///
/// The result is the one `pep508_rs` gives for the whole string: before a marker the grammar
/// has no `;` except inside a URL (so one with `@` is left whole), the version specifiers stop
/// at the `;`, and the marker is read to the end by the same function either way. `None` on any
/// error, and the caller parses the whole string again for `pep508_rs`'s own message and offset.
fn parse_in_two(text: &str, base_dir: &Path) -> Option<Pep508<pep508_rs::VerbatimUrl>> {
    let (head, marker) = text.split_once(';')?;
    if head.contains('@') {
        return None;
    }
    // The head first: the marker is read only when the whole string's reading would reach it,
    // so no input reaches `pep508_rs`'s marker parser (and its panics) that did not before.
    let mut r = Pep508::<pep508_rs::VerbatimUrl>::parse(head, base_dir).ok()?;
    r.marker = marker_tree(marker)?;
    Some(r)
}

/// What is known of one marker text; each part worked out when first asked for.
#[derive(Default)]
struct Marker {
    /// Its tree (`None`: invalid).
    tree: Option<Option<MarkerTree>>,
    /// Its canonical spelling (`None`: it has something [`push_canonical_marker`] does not know).
    spelled: Option<Option<String>>,
}

thread_local! {
    /// Marker texts seen so far.
    static MARKERS: RefCell<HashMap<String, Marker>> = RefCell::new(HashMap::new());
}

/// `f` of what is known of marker `text`.
fn with_marker<T>(text: &str, f: impl FnOnce(&mut Marker) -> T) -> T {
    MARKERS.with_borrow_mut(|known| {
        if let Some(marker) = known.get_mut(text) {
            return f(marker);
        }
        // A bound, for long-lived processes (`cove watch`) reading ever-new markers.
        if known.len() >= 4096 {
            known.clear();
        }
        f(known.entry(text.to_string()).or_default())
    })
}

/// The tree of marker `text`, parsed once per process.
fn marker_tree(text: &str) -> Option<MarkerTree> {
    with_marker(text, |m| m.tree.get_or_insert_with(|| MarkerTree::from_str(text).ok()).clone())
}

/// Append marker `text` canonically spelled (worked out once per process); false, with `out`
/// unchanged, if it has anything unexpected.
fn push_spelled_marker(out: &mut String, text: &str) -> bool {
    with_marker(text, |m| {
        let spelled = m.spelled.get_or_insert_with(|| {
            let mut s = String::with_capacity(text.len());
            push_canonical_marker(&mut s, text).then_some(s)
        });
        spelled.as_deref().map(|s| out.push_str(s)).is_some()
    })
}

/// Refuse what `pep508_rs` would panic on (see [`guard_name`]), or crash or stall on (see
/// [`guard_marker_size`]).
pub(crate) fn guard(text: &str) -> std::result::Result<(), ParseError> {
    if text.len() > MAX_REQUIREMENT_LEN {
        return Err(ParseError {
            offset: 0,
            message: format!("a requirement longer than {} KiB is not one cove reads", MAX_REQUIREMENT_LEN >> 10),
        });
    }
    guard_marker(text)?;
    let url = text.split(';').next().is_some_and(|head| head.contains('@'));
    if let Some(marker) = marker_source(text, url) {
        guard_marker_size(marker).map_err(|e| ParseError { offset: text.len() - marker.len() + e.offset, ..e })?;
    }
    // Only a name or an extra that ends in a separator fails: with no separator followed by
    // anything but a name character (or by the end), none can, and the checks are skipped.
    let bytes = text.as_bytes();
    let is_name_byte = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
    let separator_ends_a_run = bytes
        .iter()
        .enumerate()
        .any(|(i, b)| matches!(b, b'.' | b'-' | b'_') && !bytes.get(i + 1).is_some_and(is_name_byte));
    if !separator_ends_a_run {
        return Ok(());
    }
    guard_fully(text)
}

/// `pep508_rs` 0.9 also panics (a string sliced inside a character) on a character that is not
/// ASCII right after a complete marker expression (`x; os_name == 'nt' é`), which with `panic =
/// "abort"` killed every `python` in the project. Outside its quoted values a marker is ASCII,
/// so any such character is refused here first, wherever it stands.
fn guard_marker(text: &str) -> std::result::Result<(), ParseError> {
    if text.is_ascii() {
        return Ok(());
    }
    let url = text.split(';').next().is_some_and(|head| head.contains('@'));
    let Some(marker) = marker_source(text, url) else { return Ok(()) };
    let start = text.len() - marker.len();
    let mut quote = None;
    for (i, c) in marker.char_indices() {
        match quote {
            None if c == '\'' || c == '"' => quote = Some(c),
            Some(q) if c == q => quote = None,
            None if !c.is_ascii() => {
                return Err(ParseError {
                    offset: start + i,
                    message: format!("Unexpected character '{c}' in the marker: outside quotes, a marker is ASCII"),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// How long one requirement may be: the longest real ones are URLs of a few hundred bytes,
/// and every step after reading it (parsing, the key, messages) takes time by its length.
const MAX_REQUIREMENT_LEN: usize = 64 << 10;
/// How deep a marker's parentheses may nest. `pep508_rs` reads each level by recursion, so
/// 10,000 of them overflowed the stack: a segfault in every `python`, `cove status` and the
/// shell hook of the checkout. Real markers nest two or three deep.
const MAX_MARKER_DEPTH: usize = 32;
/// How many comparisons one marker may hold. Building its decision diagram grows faster than
/// the count (3,000 `or`ed values of one variable took 40 s).
const MAX_MARKER_TERMS: usize = 256;
/// How many distinct `extra`, `in` and `not in` comparisons one marker may hold: each is a
/// variable of its own in the decision diagram, whose size can double with each pair
/// (`(extra == 'a1' and extra == 'b1') or …`: 18 pairs took 6 s and 1 GB, 22 ran out of memory).
const MAX_MARKER_VARIABLES: usize = 24;

/// Refuse a marker that would crash or stall `pep508_rs` (see the limits above); the offset is
/// in `marker`. Read as loose tokens: parentheses, quoted values, words and operators.
pub fn guard_marker_size(marker: &str) -> std::result::Result<(), ParseError> {
    // Every comparison has a quoted value: with few parentheses and few quotes (the usual
    // marker) no limit can be reached, and the tokens are not read.
    let count = |byte: u8| marker.bytes().filter(|&b| b == byte).count();
    if count(b'(') <= MAX_MARKER_DEPTH && count(b'\'') + count(b'"') <= 2 * MAX_MARKER_VARIABLES {
        return Ok(());
    }
    let too = |offset: usize, message: String| Err(ParseError { offset, message });
    // (offset, token) of the last two tokens, for the comparison a quoted value is in.
    let mut tokens: Vec<(usize, &str)> = Vec::with_capacity(16);
    let (mut depth, mut terms) = (0usize, 1usize);
    let mut variables: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(c) = marker[i..].chars().next() {
        let len = match c {
            '\'' | '"' => marker[i + 1..].find(c).map_or(marker.len() - i, |e| e + 2),
            '<' | '>' | '=' | '!' | '~' => marker[i..].find(|c: char| !"<>=!~".contains(c)).unwrap_or(marker.len() - i),
            c if is_name_char(c) => marker[i..].find(|c: char| !is_name_char(c)).unwrap_or(marker.len() - i),
            c => c.len_utf8(),
        };
        let token = &marker[i..i + len];
        match token {
            "(" => {
                depth += 1;
                if depth > MAX_MARKER_DEPTH {
                    return too(i, format!("the marker nests parentheses more than {MAX_MARKER_DEPTH} deep"));
                }
            }
            ")" => depth = depth.saturating_sub(1),
            "and" | "or" => {
                terms += 1;
                if terms > MAX_MARKER_TERMS {
                    return too(i, format!("the marker holds more than {MAX_MARKER_TERMS} comparisons"));
                }
            }
            _ => {}
        }
        if !c.is_whitespace() {
            tokens.push((i, token));
        }
        i += len;
    }
    // Each quoted value compared with `extra`, or on either side of `in`, is a variable.
    let quoted = |t: &str| t.starts_with(['\'', '"']);
    for (k, &(at, t)) in tokens.iter().enumerate() {
        if !quoted(t) {
            continue;
        }
        let tok = |j: Option<usize>| j.and_then(|j| tokens.get(j)).map(|&(_, t)| t);
        let (p1, p2, n1, n2) = (tok(k.checked_sub(1)), tok(k.checked_sub(2)), tok(Some(k + 1)), tok(Some(k + 2)));
        let comparison = |op: Option<&str>| op.is_some_and(|o| ["==", "!=", "==="].contains(&o));
        let special = p1 == Some("in")
            || n1 == Some("in")
            || n1 == Some("not")
            || (comparison(p1) && p2 == Some("extra"))
            || (comparison(n1) && n2 == Some("extra"));
        if special && !variables.contains(&t) {
            variables.push(t);
            if variables.len() > MAX_MARKER_VARIABLES {
                return too(
                    at,
                    format!("the marker compares more than {MAX_MARKER_VARIABLES} distinct extras or `in` values"),
                );
            }
        }
    }
    Ok(())
}

/// [`guard_marker_size`] for a path or URL with no name: its marker follows the first `;` that
/// follows whitespace.
pub fn guard_unnamed_marker(text: &str) -> std::result::Result<(), ParseError> {
    let Some(i) =
        text.char_indices().find(|&(i, c)| c == ';' && text[..i].ends_with(char::is_whitespace)).map(|(i, _)| i)
    else {
        return Ok(());
    };
    guard_marker_size(&text[i + 1..]).map_err(|e| ParseError { offset: i + 1 + e.offset, ..e })
}

/// [`guard`], every check made.
pub(crate) fn guard_fully(text: &str) -> std::result::Result<(), ParseError> {
    guard_marker(text)?;
    let name_end = guard_name(text)?;
    if text[name_end..].trim_start().starts_with('[') {
        let bracket = name_end + text[name_end..].find('[').unwrap_or(0);
        let close = text[bracket..].find(']').map_or(text.len(), |i| bracket + i + 1);
        guard_extras(&text[..close], bracket)?;
    }
    Ok(())
}

/// `pep508_rs` 0.9 panics (`PackageName validation should match PEP 508 parsing`) on a name
/// that ends in `.`, `-` or `_` and is followed by more text (`"alpha.*"`, `"a- >1"`), and
/// likewise on such an extra (`"a[x.]"`). With `panic = "abort"` that killed every `python` in
/// the project. Found by `src/fuzz_tests.rs`. These checks reject exactly those inputs first,
/// with the message the parser gives for a name ending the string. Returns where the name ends.
fn guard_name(text: &str) -> std::result::Result<usize, ParseError> {
    let start = text.len() - text.trim_start().len();
    let end = text[start..].find(|c: char| !is_name_char(c)).map_or(text.len(), |i| start + i);
    check_identifier(text, start, end, "Package name", false)?;
    Ok(end)
}

/// See [`guard_name`]: each extra in every `[…]` of `text` from byte `from` (the caller passes
/// only the extras of a named requirement; a path or URL is checked whole).
pub fn guard_extras(text: &str, from: usize) -> std::result::Result<(), ParseError> {
    let mut at = from;
    while let Some(open) = text[at..].find('[').map(|i| at + i + 1) {
        let close = text[open..].find(']').map_or(text.len(), |i| open + i);
        let mut item = open;
        for part in text[open..close].split(',') {
            let start = item + (part.len() - part.trim_start().len());
            let end = text[start..item + part.len()]
                .find(|c: char| !is_name_char(c))
                .map_or(item + part.len(), |i| start + i);
            // Unlike a name, an extra ending the string panics too (`"a[x."`, an unclosed bracket).
            check_identifier(text, start, end, "Extra name", true)?;
            item += part.len() + 1;
        }
        at = close.min(text.len());
        if at >= text.len() {
            break;
        }
    }
    Ok(())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// `text[start..end]` is a run of name characters: refuse one that starts alphanumeric, ends in
/// a separator and has more text after it (the case `pep508_rs` panics on).
fn check_identifier(
    text: &str,
    start: usize,
    end: usize,
    what: &str,
    even_at_end: bool,
) -> std::result::Result<(), ParseError> {
    let run = &text[start..end];
    let (Some(first), Some(last)) = (run.chars().next(), run.chars().last()) else { return Ok(()) };
    if first.is_ascii_alphanumeric() && matches!(last, '.' | '-' | '_') && (even_at_end || end < text.len()) {
        return Err(ParseError {
            offset: end - 1,
            message: format!("{what} must end with an alphanumeric character, not '{last}'"),
        });
    }
    Ok(())
}

/// The error for requirement `text` that failed with `message`, at `pos`. A long text is cut
/// (the position says where it is).
pub fn invalid(pos: Pos, text: &str, message: &str) -> Error {
    const SHOWN: usize = 100;
    let text = match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    };
    Error::invalid(pos, format!("invalid requirement {text}: {message}"))
        .with_hint("write it as PEP 508, e.g. \"requests>=2.31\" or \"rich[jupyter]==13.7.1\"")
}

/// The marker part of requirement `text` (already validated): after the first `;`, or for a
/// URL requirement after the first `;` that follows whitespace (PEP 508).
fn marker_source(text: &str, url: bool) -> Option<&str> {
    let from = if url { text.find('@')? } else { 0 };
    let i = text[from..]
        .char_indices()
        .find(|&(i, c)| c == ';' && (!url || text[from..from + i].ends_with(char::is_whitespace)))?
        .0;
    Some(&text[from + i + 1..])
}

/// Append a marker expression re-spelled token by token; false (with `out` partly written) if
/// it has anything unexpected (the caller then falls back to the parser's rendering).
fn push_canonical_marker(out: &mut String, marker: &str) -> bool {
    let Some(tokens) = marker_tokens(marker) else { return false };
    let at = |j: Option<usize>| j.and_then(|j| tokens.get(j)).copied();
    for (i, &t) in tokens.iter().enumerate() {
        let prev = at(i.checked_sub(1));
        if i > 0 && prev != Some("(") && t != ")" {
            out.push(' ');
        }
        // A string compared with `extra` (on either side) is an extra name: PEP 685 normalised.
        let beside_extra = |op: Option<&str>, var: Option<&str>| {
            op.is_some_and(|o| ["==", "!=", "==="].contains(&o)) && var == Some("extra")
        };
        let extra_value = beside_extra(prev, at(i.checked_sub(2))) || beside_extra(at(Some(i + 1)), at(Some(i + 2)));
        spell(out, t, extra_value);
    }
    true
}

/// One marker token, canonically: strings in single quotes (double when they hold one), an
/// extra's name normalised, legacy variable names replaced.
fn spell(out: &mut String, t: &str, extra_value: bool) {
    if t.starts_with(['\'', '"']) {
        let value = &t[1..t.len() - 1];
        let value: std::borrow::Cow<str> = if extra_value { normalise_name(value).into() } else { value.into() };
        let quote = if value.contains('\'') { '"' } else { '\'' };
        out.push(quote);
        out.push_str(&value);
        out.push(quote);
        return;
    }
    out.push_str(match t {
        "os.name" => "os_name",
        "sys.platform" => "sys_platform",
        "platform.version" => "platform_version",
        "platform.machine" => "platform_machine",
        "platform.python_implementation" | "python_implementation" => "platform_python_implementation",
        other => other,
    });
}

/// Words, quoted strings (quotes kept), operators and parentheses of a marker.
fn marker_tokens(marker: &str) -> Option<Vec<&str>> {
    let mut tokens = Vec::with_capacity(8);
    let mut rest = marker.trim_start();
    while let Some(c) = rest.chars().next() {
        let len = match c {
            '(' | ')' => 1,
            '\'' | '"' => rest[1..].find(c)? + 2,
            '<' | '>' | '=' | '!' | '~' => rest.find(|c: char| !"<>=!~".contains(c)).unwrap_or(rest.len()),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {
                rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len())
            }
            _ => return None,
        };
        tokens.push(&rest[..len]);
        rest = rest[len..].trim_start();
    }
    Some(tokens)
}

/// Sort and de-duplicate, the form the key is made from.
pub fn normalise_set(reqs: &mut Vec<Requirement>) {
    reqs.sort();
    reqs.dedup();
}

/// PEP 503 name normalisation.
pub fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        let pos = Pos { file: "t".into(), line: 1, column: 1 };
        Requirement::parse(s, &pos, Path::new("/")).unwrap().canonical
    }

    #[test]
    fn spacing_case_and_order_do_not_matter() {
        assert_eq!(canon("Requests >= 2.0 , <3"), canon("requests<3,>=2.0"));
        assert_eq!(canon("Foo_Bar.baz[B,a]==1"), "foo-bar-baz[a,b]==1");
        assert_eq!(canon("x ; python_version >= '3.8'"), canon("x;python_version>=\"3.8\""));
    }

    #[test]
    fn markers_are_respelled_not_rewritten() {
        assert_eq!(canon("x;python_version>=\"3.13\""), "x ; python_version >= '3.13'");
        assert_eq!(
            canon("x ; ( os.name=='nt' or sys_platform == \"darwin\" )and extra==\"Te_St\""),
            "x ; (os_name == 'nt' or sys_platform == 'darwin') and extra == 'te-st'"
        );
        assert_eq!(
            canon("x; '3.9' <= python_version and 'Docs.X' != extra"),
            "x ; '3.9' <= python_version and 'docs-x' != extra"
        );
        assert_eq!(canon("x; platform_version == \"#1 'SMP'\""), "x ; platform_version == \"#1 'SMP'\"");
        assert_eq!(
            canon("x @ https://e.org/x.whl#sha256=ab;c ; python_version not in '3.6 3.7'"),
            "x @ https://e.org/x.whl#sha256=ab;c ; python_version not in '3.6 3.7'"
        );
    }

    #[test]
    fn a_marker_seen_before_reads_and_spells_alike() {
        // The first round fills the marker cache; the second reads from it.
        for _ in 0..2 {
            assert_eq!(
                canon("a>=1 ; python_version>='3.8' and extra=='X_y'"),
                "a>=1 ; python_version >= '3.8' and extra == 'x-y'"
            );
            assert_eq!(
                canon("b[c] ; python_version>='3.8' and extra=='X_y'"),
                "b[c] ; python_version >= '3.8' and extra == 'x-y'"
            );
            assert_eq!(canon("c ; python_version >= '3' or python_version < '3'"), "c");
            let pos = Pos { file: "t".into(), line: 1, column: 1 };
            let e = Requirement::parse("d ; python_version >= ", &pos, Path::new("/")).unwrap_err();
            assert!(e.to_string().contains("Expected marker value, found end of dependency specification"), "{e}");
        }
    }

    #[test]
    fn bad_requirement_names_position() {
        let pos = Pos { file: "cove.toml".into(), line: 3, column: 4 };
        let err = Requirement::parse("requests >>= 2", &pos, Path::new("/")).unwrap_err();
        assert!(err.to_string().starts_with("cove.toml:3:4: invalid requirement"), "{err}");
    }

    #[test]
    fn names_and_extras_ending_in_a_separator_are_errors_not_panics() {
        let pos = Pos { file: "f".into(), line: 1, column: 1 };
        for text in [
            "alpha.*",
            "2.*",
            "a- >1",
            "a_[x]",
            "a[x.]",
            "a[x.",
            "a[ok, y-",
            "a[ok, y- ]",
            "a [b,c_ ] ; python_version > '3'",
        ] {
            let e = Requirement::parse(text, &pos, Path::new("/")).unwrap_err();
            assert!(e.to_string().contains("must end with an alphanumeric character"), "{text}: {e}");
        }
        assert_eq!(canon("a.b[c.d]>=1"), "a-b[c-d]>=1");
    }

    #[test]
    fn characters_beyond_ascii_after_a_marker_are_errors_not_panics() {
        let pos = Pos { file: "f".into(), line: 1, column: 1 };
        for text in [
            "x; os_name == 'nt' é",
            "x; os_name == \"nt\"é",
            "x; (os_name == 'nt') é",
            "x; os_name == 'nt' or python_version >= '3' é",
            "x @ https://a.example/x.whl ; os_name == 'nt' é",
        ] {
            let e = Requirement::parse(text, &pos, Path::new("/")).unwrap_err();
            assert!(e.to_string().contains("Unexpected character 'é'"), "{text}: {e}");
        }
        // Inside quotes, any character is a marker value.
        assert_eq!(canon("x; os_name == 'né'"), "x ; os_name == 'né'");
    }

    #[test]
    fn markers_that_would_crash_or_stall_the_parser_are_errors() {
        let pos = Pos { file: "f".into(), line: 2, column: 3 };
        let err = |text: &str| Requirement::parse(text, &pos, Path::new("/")).unwrap_err().to_string();
        let deep = format!("x ; {}os_name == 'nt'{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = err(&deep);
        assert!(e.starts_with("f:2:3: invalid requirement \"x ; (((") && e.contains("more than 32 deep"), "{e}");
        assert!(e.len() < 300, "the text is cut: {e}");
        let chain: Vec<String> = (0..300).map(|i| format!("platform_release == '{i}'")).collect();
        assert!(err(&format!("x ; {}", chain.join(" or "))).contains("more than 256 comparisons"));
        let pairs: Vec<String> = (0..13).map(|i| format!("(extra == 'a{i}' and extra == 'b{i}')")).collect();
        assert!(err(&format!("x ; {}", pairs.join(" or "))).contains("more than 24 distinct extras"));
        let ins: Vec<String> = (0..25).map(|i| format!("'v{i}' in platform_version")).collect();
        assert!(err(&format!("x ; {}", ins.join(" or "))).contains("more than 24 distinct"));
        assert!(err(&format!("x ; os_name == '{}'", "y".repeat(70_000))).contains("longer than 64 KiB"));
        // Within the bounds, and quoted parentheses do not count.
        let ok = format!("x ; {}os_name == 'nt'{}", "(".repeat(32), ")".repeat(32));
        assert_eq!(canon(&ok), "x ; (".to_string() + &"(".repeat(31) + "os_name == 'nt'" + &")".repeat(32));
        canon(&format!("x ; os_name == '{}'", "(".repeat(100)));
        let extras: Vec<String> = (0..24).map(|i| format!("extra == 'e{i}'")).collect();
        canon(&format!("x ; {}", extras.join(" or ")));
    }

    #[test]
    fn names_normalise_per_pep503() {
        assert_eq!(normalise_name("Foo__Bar.-baz"), "foo-bar-baz");
    }
}
