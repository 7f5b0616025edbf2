//! Where a requirement was written, for an error about it: the first line in the manifest's
//! files (the manifest first, then what it includes, in reading order) whose requirement
//! begins with the package's name, as a word and by PEP 503 (`Foo_Bar` is `foo-bar`).
//! Requirements keep no position once parsed (they are sorted and de-duplicated into the key);
//! searching the text again is done only when an install has failed.

use super::Manifest;
use crate::error::Written;
use crate::manifest::requirement::normalise_name;

impl Manifest {
    /// Where the requirement on the package `name` was written, if in one of its files.
    pub fn locate(&self, name: &str) -> Option<Written> {
        let name = normalise_name(name);
        self.files.iter().find_map(|file| {
            let text = String::from_utf8(crate::fsx::read_manifest(file).ok()?).ok()?;
            let (line, text) = find(&text, &name)?;
            Some(Written { file: file.clone(), line, text })
        })
    }
}

/// The 1-based line and the requirement's text of the first requirement on `name` (normalised)
/// in `text`: a quoted string beginning with it (TOML, PEP 723), or a line beginning with it (a
/// requirements file), its comment left out.
fn find(text: &str, name: &str) -> Option<(usize, String)> {
    let starts_with_name = |s: &str| {
        let s = s.trim_start();
        let word = s.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(s.len());
        !s.is_empty() && normalise_name(&s[..word]) == name
    };
    for (i, line) in text.lines().enumerate() {
        // Quoted strings: TOML arrays, and a PEP 723 block's (`#   "rich",`).
        for quote in ['"', '\''] {
            // Every other piece of the line split at the quote lies inside a string.
            for inside in line.split(quote).skip(1).step_by(2) {
                if starts_with_name(inside) {
                    return Some((i + 1, inside.trim().to_string()));
                }
            }
        }
        // A requirements file's line, without its comment; a comment line is none.
        let bare = line.split(" #").next().unwrap_or_default().trim();
        if !line.contains(['"', '\'']) && !bare.starts_with('#') && starts_with_name(bare) {
            return Some((i + 1, bare.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requirement_is_found_by_its_name_as_a_word() {
        let toml = "dependencies = [\n  \"alpha==1.0\",\n  \"Nosuch_Pkg>=2\",  # why\n]\n";
        assert_eq!(find(toml, "nosuch-pkg"), Some((3, "Nosuch_Pkg>=2".into())));
        assert_eq!(find(toml, "alpha"), Some((2, "alpha==1.0".into())));
        assert_eq!(find(toml, "nosuch"), None, "a word, not a prefix");
        let one_line = "dependencies = ['alpha', \"beta[x] ; python_version > '3'\"]\n";
        assert_eq!(find(one_line, "beta"), Some((1, "beta[x] ; python_version > '3'".into())));
        let txt = "# nosuch-pkg is new\n-r base.txt\nalpha==1.0\nnosuch.pkg>=2 # pinned later\n";
        assert_eq!(find(txt, "nosuch-pkg"), Some((4, "nosuch.pkg>=2".into())));
        let script = "# /// script\n# dependencies = [\n#   \"nosuch-pkg\",\n# ]\n# ///\n";
        assert_eq!(find(script, "nosuch-pkg"), Some((3, "nosuch-pkg".into())));
    }
}
