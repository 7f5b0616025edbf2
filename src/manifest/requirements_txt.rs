//! TODO(issue 5): full requirements.txt support.
use crate::error::{Error, Result};
use crate::manifest::{Parsed, Reader};
use std::path::Path;
pub fn parse_root(path: &Path, _reader: &mut Reader) -> Result<Parsed> {
    Err(Error::other(format!("{} not supported yet", path.display())))
}
pub fn plain_requirements(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    Ok(text
        .lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('-'))
        .collect())
}
