//! The shape of `src/` (issue 19): no two files import each other, directly or through others,
//! so every module can be read knowing only what is below it. An import is a path through
//! `crate::`, `super::` or a child module (`mod x;` then `x::…`), outside comments and test
//! modules; it is resolved to the file that defines the longest module prefix of the path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`, `src/main.rs` is the crate.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "main" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, string contents and its test modules.
fn code(text: &str) -> String {
    // Test modules come last in a file (`#[cfg(test)] mod …`): what follows the first is tests.
    let inline_test_module = |at: &usize| {
        let rest = &text[at + "#[cfg(test)]\nmod ".len()..];
        let name = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        rest[name..].starts_with(" {")
    };
    let first = text.match_indices("#[cfg(test)]\nmod ").map(|(at, _)| at).find(inline_test_module);
    let text = match first {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    out.push('"');
                }
                _ => {}
            }
        } else if c == '/' && chars.peek() == Some(&'/') {
            for c in chars.by_ref() {
                if c == '\n' {
                    out.push('\n');
                    break;
                }
            }
        } else if c == '"' {
            in_string = true;
            out.push('"');
        } else {
            out.push(c);
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The path segments at the start of `s` (`a::b::c`), with a `{…}` group expanded into one
/// path per item (`a::{b, c::d}` gives `a::b` and `a::c::d`).
fn segments(s: &str) -> Vec<Vec<String>> {
    let mut parts = Vec::new();
    let mut s = s;
    loop {
        if let Some(group) = s.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
            for (i, c) in group[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&group[start..end]);
            let expanded: Vec<Vec<String>> = items
                .iter()
                .flat_map(|item| segments(item.trim()))
                .map(|tail| parts.iter().cloned().chain(tail).collect())
                .collect();
            return if expanded.is_empty() { vec![parts] } else { expanded };
        }
        let n = s.find(|c: char| !is_ident(c)).unwrap_or(s.len());
        if n == 0 {
            break;
        }
        if &s[..n] != "self" {
            parts.push(s[..n].to_string());
        }
        s = &s[n..];
        match s.strip_prefix("::") {
            Some(next) => s = next,
            None => break,
        }
    }
    vec![parts]
}

/// The paths `first::a::b…` in `code` that start at a word boundary.
fn paths_from(code: &str, first: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let needle = format!("{first}::");
    let mut from = 0;
    while let Some(i) = code[from..].find(&needle) {
        let at = from + i;
        from = at + needle.len();
        if code[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        found.extend(segments(&code[from..]));
    }
    found
}

/// Strongly connected groups of more than one file.
fn circles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    // Kosaraju: finish order on the graph, then components on the reversed graph.
    fn visit(
        n: &PathBuf,
        g: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        seen: &mut BTreeSet<PathBuf>,
        out: &mut Vec<PathBuf>,
    ) {
        if !seen.insert(n.clone()) {
            return;
        }
        for m in g.get(n).into_iter().flatten() {
            visit(m, g, seen, out);
        }
        out.push(n.clone());
    }
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for n in edges.keys() {
        visit(n, edges, &mut seen, &mut order);
    }
    let mut reversed: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (a, bs) in edges {
        for b in bs {
            reversed.entry(b.clone()).or_default().insert(a.clone());
        }
    }
    let mut seen = BTreeSet::new();
    let mut groups = Vec::new();
    for n in order.iter().rev() {
        let mut group = Vec::new();
        visit(n, &reversed, &mut seen, &mut group);
        if group.len() > 1 {
            group.sort();
            groups.push(group);
        }
    }
    groups
}

#[test]
fn no_file_in_src_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let by_module: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_of(&src, f), f.clone())).collect();
    let resolve = |path: &[String]| -> Option<PathBuf> {
        (0..=path.len()).rev().find_map(|n| by_module.get(&path[..n]).cloned())
    };
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &files {
        let text = code(&std::fs::read_to_string(file).unwrap());
        let me = module_of(&src, file);
        let mut targets = Vec::new();
        for p in paths_from(&text, "crate") {
            targets.push(p);
        }
        for p in paths_from(&text, "super") {
            let mut base = me[..me.len().saturating_sub(1)].to_vec();
            let mut p = p.as_slice();
            while let [first, rest @ ..] = p
                && first == "super"
            {
                base.pop();
                p = rest;
            }
            base.extend(p.iter().cloned());
            targets.push(base);
        }
        for line in text.lines() {
            let line = line.trim_start().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            if let Some(child) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                for p in paths_from(&text, child) {
                    let mut full = me.clone();
                    full.push(child.to_string());
                    full.extend(p);
                    targets.push(full);
                }
            }
        }
        let entry = edges.entry(file.clone()).or_default();
        for t in targets {
            if let Some(to) = resolve(&t)
                && &to != file
            {
                entry.insert(to);
            }
        }
    }
    let found = circles(&edges);
    let src = src.as_path();
    let shown: Vec<String> = found
        .iter()
        .filter(|g| !g.is_empty())
        .map(|group| {
            let members: BTreeSet<&PathBuf> = group.iter().collect();
            let arrows: Vec<String> = group
                .iter()
                .flat_map(|a| {
                    edges[a].iter().filter(|b| members.contains(b)).map(move |b| {
                        format!(
                            "  {} -> {}",
                            a.strip_prefix(src).unwrap().display(),
                            b.strip_prefix(src).unwrap().display()
                        )
                    })
                })
                .collect();
            arrows.join("\n")
        })
        .collect();
    assert!(found.is_empty(), "import circles in src/:\n{}", shown.join("\n\n"));
}
