//! TODO(issue 5)
use crate::error::{Error, Result};
use crate::manifest::{Parsed, Reader};
use std::path::Path;
pub fn parse(path: &Path, _reader: &mut Reader) -> Result<Parsed> {
    Err(Error::other(format!("{} not supported yet", path.display())))
}
