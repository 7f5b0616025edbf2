//! `cove python`: the interpreters found, with version and path.

use crate::error::Result;
use crate::plan::interpreter::Finder;
use crate::settings::Settings;

pub fn run(settings: &Settings) -> Result<()> {
    let finder = Finder::new(&settings.cache_dir, settings.shims_dir());
    let first = finder.first_real("python3")?.and_then(|p| std::fs::canonicalize(p).ok());
    let mut text = String::new();
    for i in finder.all() {
        let mark = if Some(&i.path) == first.as_ref() { "  (first python3 on PATH)" } else { "" };
        text.push_str(&format!(
            "{:<10} {:<8} {}{mark}\n",
            i.facts.python_full_version,
            i.facts.implementation_name,
            i.path.display()
        ));
    }
    if text.is_empty() {
        crate::ui::warn(
            "no Python interpreters found (looked on PATH, in pyenv, uv's pythons, /usr/bin, /usr/local/bin)",
        );
    }
    crate::ui::out(&text);
    Ok(())
}
